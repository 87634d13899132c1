// Checkpoints over the log's chains (docs/SCHEMA.md, "Checkpoints"): a
// Merkle root in the shape of RFC 6962 over the head of every chain, so
// that one short value commits to the whole log. Both stores and verify
// compute it here.
//
//   leaf = SHA-256(0x00 || chain_key || 0x0A || decimal case_seq || 0x0A || head_hash)
//   node = SHA-256(0x01 || left || right)
//
// Leaves are sorted by chain key (bytewise; the registry chain's key "" comes
// first); a level with an odd count promotes its last node unchanged. The
// root of no chains is SHA-256 of nothing. Roots are shown as lowercase hex.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sopir/store.h"

namespace sopir::merkle {

// The head of one chain: its key (a case id, or "" for the registry chain),
// the case_seq of its newest row and that row's hash (hex).
struct ChainHead {
  std::string key;
  int64_t case_seq = 0;
  std::string hash;
  int64_t seq = 0;  // the row's global seq (not hashed; for messages)
};

// The 32-byte leaf hash of one chain head.
std::string leaf(std::string_view key, int64_t case_seq, std::string_view hash);

// The root (hex) over leaf hashes already in key order.
std::string root_of_leaves(std::vector<std::string> leaves);

// The root (hex) over heads in any order (sorted here by key).
std::string root(std::vector<ChainHead> heads);

// A proof that some chains' heads are among the leaves of a root, for a
// copy that holds only those chains (sopir/store.h ChainProof).
using Proof = ChainProof;

// The proof for the chains among `heads` whose key `keep` accepts; `heads`
// are every chain of the root, in key order.
Proof prove(const std::vector<ChainHead>& heads, const std::function<bool(std::string_view)>& keep);

// The root (hex) from the kept chains' leaf hashes (key -> 32-byte leaf)
// and the proof's nodes; nullopt when they do not fit together: a kept
// chain missing or unknown to the proof, a node missing, or one too many.
std::optional<std::string> root_with(const Proof& proof, const std::map<std::string, std::string, std::less<>>& kept);

// SHA-256 (hex) over a set of chain keys in key order, each written as its
// length in bytes (decimal), ":", the key and a newline: what a site
// "copied" row commits to (sopir/copy.h).
std::string chains_digest(const std::vector<std::string>& keys);

// Chain heads kept as rows are read in seq order (verify): set() moves a
// chain's head; root() is the root over the heads set so far. Leaf hashes
// are cached, so a root after a few changes rehashes only those leaves
// and the tree's inner nodes.
class Heads {
 public:
  Heads() = default;
  Heads(const Heads&) = delete;  // index_ and order_ point into entries_
  Heads& operator=(const Heads&) = delete;
  void set(std::string_view key, int64_t case_seq, std::string_view hash, int64_t seq = 0);
  // set(), first writing the hash `key`'s head had into `previous_hash`
  // ("" for a new chain) and returning its seq (0 for a new chain): one
  // lookup where find() then set() take two (verify, for every row).
  int64_t advance(std::string_view key, int64_t case_seq, std::string_view hash, int64_t seq,
                  std::string& previous_hash);
  std::string root();
  // Every chain's leaf hash, by key (root_with's `kept`).
  std::map<std::string, std::string, std::less<>> leaves();
  // Every chain's head, in key order (prove's `heads`).
  std::vector<ChainHead> heads() const;
  size_t size() const { return entries_.size(); }
  // The head of `key`'s chain, or null when it has no row yet.
  const ChainHead* find(std::string_view key) const;

 private:
  struct Entry {
    ChainHead head;
    mutable std::string leaf;  // "" until computed (a cache)
  };
  Entry* lookup(std::string_view key) const;
  Entry& add(std::string_view key);
  static void move(Entry& e, int64_t case_seq, std::string_view hash, int64_t seq);
  // The entries in key order: the ordered ones and the chains added since,
  // sorted and merged in here. Verify adds a chain for every case and asks
  // for the order only at checkpoints, so a new chain is appended rather
  // than placed in a search tree (a walk of cache misses by string compare).
  const std::vector<const Entry*>& ordered() const;

  std::deque<Entry> entries_;  // in the order added; a deque's elements stay put
  // The same entries by their chain key, keyed by views of head.key:
  // verify looks a chain up for every row.
  std::unordered_map<std::string_view, Entry*> index_;
  mutable std::vector<const Entry*> order_;  // entries_ in key order, up to order_.size()
};

}  // namespace sopir::merkle
