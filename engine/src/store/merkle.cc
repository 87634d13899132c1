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
      h.reset();
      h.update(std::string_view("\x01", 1));
      h.update(level[i]);
      h.update(level[i + 1]);
      level[out++] = h.digest();
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

Heads::Entry* Heads::lookup(std::string_view key) const {
  key_.assign(key.data(), key.size());
  const auto it = index_.find(key_);
  return it == index_.end() ? nullptr : it->second;
}

void Heads::set(std::string_view key, int64_t case_seq, std::string_view hash, int64_t seq) {
  Entry* e = lookup(key);
  if (!e) {
    auto it = heads_.emplace(std::string(key), Entry{}).first;
    e = &it->second;
    e->head.key = it->first;
    index_.emplace(it->first, e);
  }
  e->head.case_seq = case_seq;
  e->head.hash.assign(hash.data(), hash.size());
  e->head.seq = seq;
  e->leaf.clear();
}

std::string Heads::root() {
  std::vector<std::string> leaves;
  leaves.reserve(heads_.size());
  for (auto& [key, e] : heads_) {
    if (e.leaf.empty()) e.leaf = leaf(key, e.head.case_seq, e.head.hash);
    leaves.push_back(e.leaf);
  }
  return root_of_leaves(std::move(leaves));
}

const ChainHead* Heads::find(std::string_view key) const {
  const Entry* e = lookup(key);
  return e ? &e->head : nullptr;
}

}  // namespace sopir::merkle
