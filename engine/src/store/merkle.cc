// Merkle roots over chain heads (see merkle.h).
#include "store/merkle.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "base/sha256.h"

namespace sopir::merkle {

namespace {

std::string to_hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

// An inner node: SHA-256(0x01 || left || right), with `h` reused.
std::string node(Sha256& h, std::string_view left, std::string_view right) {
  h.reset();
  h.update(std::string_view("\x01", 1));
  h.update(left);
  h.update(right);
  return h.digest();
}

}  // namespace

std::string leaf(std::string_view key, int64_t case_seq, std::string_view hash) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, case_seq).ptr;
  Sha256 h;
  h.update(std::string_view("\x00", 1));
  h.update(key);
  h.update("\n");
  h.update(std::string_view(digits, static_cast<size_t>(end - digits)));
  h.update("\n");
  h.update(hash);
  return h.digest();
}

std::string root_of_leaves(std::vector<std::string> level) {
  Sha256 h;
  if (level.empty()) return to_hex(h.digest());
  while (level.size() > 1) {
    size_t out = 0;
    for (size_t i = 0; i + 1 < level.size(); i += 2) {
      level[out++] = node(h, level[i], level[i + 1]);
    }
    if (level.size() % 2 == 1) level[out++] = std::move(level.back());  // promoted
    level.resize(out);
  }
  return to_hex(level.front());
}

std::string root(std::vector<ChainHead> heads) {
  std::sort(heads.begin(), heads.end(), [](const ChainHead& a, const ChainHead& b) { return a.key < b.key; });
  std::vector<std::string> leaves;
  leaves.reserve(heads.size());
  for (const auto& head : heads) leaves.push_back(leaf(head.key, head.case_seq, head.hash));
  return root_of_leaves(std::move(leaves));
}

Proof prove(const std::vector<ChainHead>& heads, const std::function<bool(std::string_view)>& keep) {
  Proof proof;
  proof.leaves = static_cast<int64_t>(heads.size());
  if (heads.empty()) return proof;
  // Every level's hashes and whether each node covers a kept leaf.
  std::vector<std::vector<std::string>> hashes(1);
  std::vector<std::vector<bool>> kept(1);
  for (size_t i = 0; i < heads.size(); ++i) {
    hashes[0].push_back(leaf(heads[i].key, heads[i].case_seq, heads[i].hash));
    const bool k = keep(heads[i].key);
    kept[0].push_back(k);
    if (k) proof.positions.emplace(heads[i].key, static_cast<int64_t>(i));
  }
  Sha256 h;
  while (hashes.back().size() > 1) {
    const std::vector<std::string>& below = hashes.back();
    const std::vector<bool>& below_kept = kept.back();
    std::vector<std::string> level;
    std::vector<bool> level_kept;
    for (size_t i = 0; i < below.size(); i += 2) {
      if (i + 1 == below.size()) {  // promoted
        level.push_back(below[i]);
        level_kept.push_back(below_kept[i]);
        continue;
      }
      level.push_back(node(h, below[i], below[i + 1]));
      level_kept.push_back(below_kept[i] || below_kept[i + 1]);
    }
    hashes.push_back(std::move(level));
    kept.push_back(std::move(level_kept));
  }
  // A node without kept leaves whose parent has some (or the root itself).
  for (size_t l = 0; l < hashes.size(); ++l) {
    for (size_t i = 0; i < hashes[l].size(); ++i) {
      if (kept[l][i]) continue;
      if (l + 1 < hashes.size() && !kept[l + 1][i / 2]) continue;
      proof.nodes.push_back(Proof::Node{static_cast<int>(l), static_cast<int64_t>(i), hashes[l][i]});
    }
  }
  return proof;
}

std::optional<std::string> root_with(const Proof& proof, const std::map<std::string, std::string, std::less<>>& kept) {
  if (kept.size() != proof.positions.size()) return std::nullopt;
  Sha256 h;
  if (proof.leaves == 0) {
    if (!proof.nodes.empty()) return std::nullopt;
    return to_hex(h.digest());
  }
  std::map<int64_t, std::string> level;
  for (const auto& [key, leaf_hash] : kept) {
    const auto it = proof.positions.find(key);
    if (it == proof.positions.end() || it->second < 0 || it->second >= proof.leaves) return std::nullopt;
    if (!level.emplace(it->second, leaf_hash).second) return std::nullopt;
  }
  size_t used = 0;
  int64_t count = proof.leaves;
  for (int l = 0;; ++l) {
    for (const Proof::Node& n : proof.nodes) {
      if (n.level != l) continue;
      if (n.index < 0 || n.index >= count || n.hash.size() != 32) return std::nullopt;
      if (!level.emplace(n.index, n.hash).second) return std::nullopt;
      ++used;
    }
    if (count == 1) break;
    std::map<int64_t, std::string> above;
    for (auto it = level.begin(); it != level.end(); ++it) {
      const int64_t i = it->first;
      if (i % 2 == 1) return std::nullopt;  // its left sibling is missing
      if (i + 1 == count) {
        above.emplace(i / 2, it->second);  // promoted
        continue;
      }
      const auto right = std::next(it);
      if (right == level.end() || right->first != i + 1) return std::nullopt;
      above.emplace(i / 2, node(h, it->second, right->second));
      it = right;
    }
    level = std::move(above);
    count = (count + 1) / 2;
  }
  if (used != proof.nodes.size() || level.size() != 1 || level.begin()->first != 0) return std::nullopt;
  return to_hex(level.begin()->second);
}

std::string chains_digest(const std::vector<std::string>& keys) {
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  Sha256 h;
  for (const std::string& key : sorted) {
    h.update(std::to_string(key.size()) + ":");
    h.update(key);
    h.update("\n");
  }
  return h.hex_digest();
}

Heads::Entry* Heads::lookup(std::string_view key) const {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : it->second;
}

Heads::Entry& Heads::add(std::string_view key) {
  Entry& e = entries_.emplace_back();
  e.head.key.assign(key.data(), key.size());
  index_.emplace(e.head.key, &e);
  return e;
}

void Heads::move(Entry& e, int64_t case_seq, std::string_view hash, int64_t seq) {
  e.head.case_seq = case_seq;
  e.head.hash.assign(hash.data(), hash.size());
  e.head.seq = seq;
  e.leaf.clear();
}

void Heads::set(std::string_view key, int64_t case_seq, std::string_view hash, int64_t seq) {
  Entry* e = lookup(key);
  move(e ? *e : add(key), case_seq, hash, seq);
}

int64_t Heads::advance(std::string_view key, int64_t case_seq, std::string_view hash, int64_t seq,
                       std::string& previous_hash) {
  Entry* e = lookup(key);
  if (!e) {
    previous_hash.clear();
    move(add(key), case_seq, hash, seq);
    return 0;
  }
  const int64_t previous_seq = e->head.seq;
  previous_hash.swap(e->head.hash);  // the caller's buffer becomes the head's
  move(*e, case_seq, hash, seq);
  return previous_seq;
}

const std::vector<const Heads::Entry*>& Heads::ordered() const {
  const size_t sorted = order_.size();
  if (sorted == entries_.size()) return order_;
  for (size_t i = sorted; i < entries_.size(); ++i) order_.push_back(&entries_[i]);
  const auto by_key = [](const Entry* a, const Entry* b) { return a->head.key < b->head.key; };
  const auto middle = order_.begin() + static_cast<std::ptrdiff_t>(sorted);
  std::sort(middle, order_.end(), by_key);
  std::inplace_merge(order_.begin(), middle, order_.end(), by_key);
  return order_;
}

std::string Heads::root() {
  std::vector<std::string> leaves;
  leaves.reserve(entries_.size());
  for (const Entry* e : ordered()) {
    if (e->leaf.empty()) e->leaf = leaf(e->head.key, e->head.case_seq, e->head.hash);
    leaves.push_back(e->leaf);
  }
  return root_of_leaves(std::move(leaves));
}

std::map<std::string, std::string, std::less<>> Heads::leaves() {
  std::map<std::string, std::string, std::less<>> out;
  for (const Entry* e : ordered()) {
    if (e->leaf.empty()) e->leaf = leaf(e->head.key, e->head.case_seq, e->head.hash);
    out.emplace_hint(out.end(), e->head.key, e->leaf);
  }
  return out;
}

std::vector<ChainHead> Heads::heads() const {
  std::vector<ChainHead> out;
  out.reserve(entries_.size());
  for (const Entry* e : ordered()) out.push_back(e->head);
  return out;
}

const ChainHead* Heads::find(std::string_view key) const {
  const Entry* e = lookup(key);
  return e ? &e->head : nullptr;
}

}  // namespace sopir::merkle
