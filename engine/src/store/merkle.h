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
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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

// Chain heads kept as rows are read in seq order (verify): set() moves a
// chain's head; root() is the root over the heads set so far. Leaf hashes
// are cached, so a root after a few changes rehashes only those leaves
// and the tree's inner nodes.
class Heads {
 public:
  Heads() = default;
  Heads(const Heads&) = delete;  // index_ points into heads_
  Heads& operator=(const Heads&) = delete;
  void set(std::string_view key, int64_t case_seq, std::string_view hash, int64_t seq = 0);
  std::string root();
  size_t size() const { return heads_.size(); }
  // The head of `key`'s chain, or null when it has no row yet.
  const ChainHead* find(std::string_view key) const;

 private:
  struct Entry {
    ChainHead head;
    std::string leaf;  // "" until computed
  };
  Entry* lookup(std::string_view key) const;
  std::map<std::string, Entry, std::less<>> heads_;  // in key order, for root()
  // The same entries by hash: verify looks a chain up for every row.
  std::unordered_map<std::string, Entry*> index_;
  mutable std::string key_;  // lookup() builds its key here
};

}  // namespace sopir::merkle
