// The keys and sealing of personal text (store/sealing.h), on libsodium.
#include "store/sealing.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "sopir/error.h"
#include "sopir/messages/store.h"

namespace sopir::sealing {
namespace {

constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

void start() {
  if (sodium_init() < 0) throw storage_error(tr(msg::store_crypto_unavailable));
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// The ring, wiped at exit: its keys are SecretKeys in guarded memory.
// Stores in several threads may look keys up: one lock for the map.
std::mutex ring_lock;
std::map<std::string, std::unique_ptr<SecretKey>>& ring() {
  static auto* keys = [] {
    auto* made = new std::map<std::string, std::unique_ptr<SecretKey>>();
    std::atexit([] { forget_database_keys(); });
    return made;
  }();
  return *keys;
}

// Guarded, locked memory for keys, taken a slab at a time. sodium_malloc
// costs several system calls (guard pages around it, mlock, and as many to
// free it): paid per key, they were half the time of a copy or a verify
// that opens a key per case. A slab is one sodium_malloc (guard pages at
// both ends, locked in memory, never swapped); a slot is zeroed when its
// key is dropped and used again. Slabs live as long as the process.
class KeySlots {
 public:
  unsigned char* take() {
    std::lock_guard<std::mutex> hold(lock_);
    if (free_.empty()) {
      auto* slab = static_cast<unsigned char*>(sodium_malloc(kSlotsPerSlab * kKeyBytes));
      if (!slab) throw std::bad_alloc();
      sodium_memzero(slab, kSlotsPerSlab * kKeyBytes);
      for (size_t i = kSlotsPerSlab; i-- > 0;) free_.push_back(slab + i * kKeyBytes);
    }
    unsigned char* slot = free_.back();
    free_.pop_back();
    return slot;
  }
  void give(unsigned char* slot) {
    sodium_memzero(slot, kKeyBytes);
    std::lock_guard<std::mutex> hold(lock_);
    free_.push_back(slot);
  }

 private:
  static constexpr size_t kSlotsPerSlab = 128;  // 4 KiB: one page
  std::mutex lock_;
  std::vector<unsigned char*> free_;
};

KeySlots& slots() {
  static auto* made = new KeySlots();  // never destroyed: keys outlive static destructors
  return *made;
}

}  // namespace

SecretKey::SecretKey() : SecretKey(Empty{}) { randombytes_buf(bytes_, kKeyBytes); }

SecretKey::SecretKey(Empty) {
  start();
  bytes_ = slots().take();
}

SecretKey::~SecretKey() { slots().give(bytes_); }  // zeroed before it is used again

std::string seal(const SecretKey& key, std::string_view plain, std::string_view ad) {
  start();
  std::string out(kNonce + plain.size() + kTag, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(&out[0]);
  randombytes_buf(nonce, kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonce, &written, bytes(plain), plain.size(), bytes(ad),
                                             ad.size(), nullptr, nonce, key.data());
  out.resize(kNonce + written);
  return out;
}

std::optional<std::string> open(const SecretKey& key, std::string_view sealed, std::string_view ad) {
  if (sealed.size() < kNonce + kTag) return std::nullopt;
  start();
  std::string plain(sealed.size() - kNonce - kTag, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(&plain[0]), &written, nullptr,
                                                 bytes(sealed) + kNonce, sealed.size() - kNonce, bytes(ad),
                                                 ad.size(), bytes(sealed), key.data()) != 0)
    return std::nullopt;
  plain.resize(written);
  return plain;
}

std::string seal_key(const SecretKey& wrapping, const SecretKey& key, std::string_view ad) {
  return seal(wrapping, std::string_view(reinterpret_cast<const char*>(key.data()), kKeyBytes), ad);
}

std::unique_ptr<SecretKey> open_key(const SecretKey& wrapping, std::string_view sealed, std::string_view ad) {
  if (sealed.size() != kNonce + kKeyBytes + kTag) return nullptr;
  auto key = std::make_unique<SecretKey>(SecretKey::Empty{});
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(key->data(), &written, nullptr, bytes(sealed) + kNonce,
                                                 sealed.size() - kNonce, bytes(ad), ad.size(), bytes(sealed),
                                                 wrapping.data()) != 0)
    return nullptr;
  return key;
}

std::optional<KdfCost> cost_of_hash(const std::string& hash) {
  // "$argon2id$v=19$m=<KiB>,t=<passes>,p=1$salt$hash"
  const size_t m = hash.find("$m=");
  const size_t t = hash.find(",t=", m == std::string::npos ? 0 : m);
  if (hash.rfind("$argon2id$", 0) != 0 || m == std::string::npos || t == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const unsigned long long kib = std::strtoull(hash.c_str() + m + 3, &end, 10);
  const unsigned long long passes = std::strtoull(hash.c_str() + t + 3, &end, 10);
  if (kib == 0 || passes == 0) return std::nullopt;
  return KdfCost{passes, static_cast<size_t>(kib) * 1024};
}

std::string new_salt() {
  start();
  std::string salt(crypto_pwhash_SALTBYTES, '\0');
  randombytes_buf(&salt[0], salt.size());
  return salt;
}

std::unique_ptr<SecretKey> derive_key(std::string_view passphrase, std::string_view salt, KdfCost cost) {
  start();
  if (salt.size() != crypto_pwhash_SALTBYTES) return nullptr;
  auto key = std::make_unique<SecretKey>(SecretKey::Empty{});
  if (crypto_pwhash(key->data(), kKeyBytes, passphrase.data(), passphrase.size(), bytes(salt), cost.ops, cost.mem,
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw storage_error(tr(msg::store_key_derivation_failed));
  return key;
}

std::string new_key_id() {
  start();
  unsigned char id[16];
  randombytes_buf(id, sizeof id);
  char hex[sizeof id * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, id, sizeof id);
  return hex;
}

void remember_database_key(const std::string& key_id, std::unique_ptr<SecretKey> key) {
  std::lock_guard<std::mutex> hold(ring_lock);
  // A key already held stays (the same key: other stores may be using it).
  ring().emplace(key_id, std::move(key));
}

const SecretKey* database_key(const std::string& key_id) {
  std::lock_guard<std::mutex> hold(ring_lock);
  const auto& keys = ring();
  const auto it = keys.find(key_id);
  return it == keys.end() ? nullptr : it->second.get();
}

void forget_database_keys() {
  std::lock_guard<std::mutex> hold(ring_lock);
  ring().clear();
}

std::string to_hex(std::string_view data) {
  std::string hex(data.size() * 2 + 1, '\0');
  sodium_bin2hex(&hex[0], hex.size(), bytes(data), data.size());
  hex.pop_back();
  return hex;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(&out[0]), out.size(), hex.data(), hex.size(), nullptr,
                     &written, &end) != 0 ||
      written != out.size() || end != hex.data() + hex.size())
    return std::nullopt;
  return out;
}

std::string key_file_id(const SecretKey& key) {
  start();
  static constexpr char kLabel[] = "sopir key file id";
  unsigned char id[16];
  crypto_generichash(id, sizeof id, reinterpret_cast<const unsigned char*>(kLabel), sizeof kLabel - 1, key.data(),
                     kKeyBytes);
  return to_hex(std::string_view(reinterpret_cast<const char*>(id), sizeof id));
}

std::unique_ptr<SecretKey> key_from_bytes(std::string_view data) {
  if (data.size() != kKeyBytes) return nullptr;
  auto key = std::make_unique<SecretKey>(SecretKey::Empty{});
  std::copy(data.begin(), data.end(), key->data());
  return key;
}

namespace {
// Key files loaded by this process, by id, in the order loaded.
std::map<std::string, std::unique_ptr<SecretKey>>& key_files() {
  static auto* files = [] {
    auto* made = new std::map<std::string, std::unique_ptr<SecretKey>>();
    std::atexit([] { forget_key_files(); });
    return made;
  }();
  return *files;
}
std::string first_file;
}  // namespace

void remember_key_file(const std::string& id, std::unique_ptr<SecretKey> key) {
  std::lock_guard<std::mutex> hold(ring_lock);
  if (key_files().emplace(id, std::move(key)).second && first_file.empty()) first_file = id;
}

const SecretKey* key_file_key(const std::string& id) {
  std::lock_guard<std::mutex> hold(ring_lock);
  const auto it = key_files().find(id);
  return it == key_files().end() ? nullptr : it->second.get();
}

std::string first_key_file_id() {
  std::lock_guard<std::mutex> hold(ring_lock);
  return first_file;
}

void forget_key_files() {
  std::lock_guard<std::mutex> hold(ring_lock);
  key_files().clear();
  first_file.clear();
}

const SecretKey* CaseKeys::find(const std::string& case_id) const {
  const auto it = keys_.find(case_id);
  return it == keys_.end() ? nullptr : it->second.get();
}

const SecretKey& CaseKeys::keep(const std::string& case_id, std::unique_ptr<SecretKey> key) {
  if (keys_.size() >= 256) keys_.clear();
  return *(keys_[case_id] = std::move(key));
}

std::string open_personal_text(const SecretKey& case_key, std::string_view sealed, const std::string& digest,
                               const std::string& case_id) {
  auto plain = open(case_key, sealed, digest);
  if (!plain) throw storage_error(tr(msg::store_personal_text_bad, {case_id}));
  return std::move(*plain);
}

std::unique_ptr<SecretKey> open_case_key(const SecretKey& db, std::string_view sealed, const std::string& case_id) {
  auto key = open_key(db, sealed, case_id);
  if (!key) throw storage_error(tr(msg::store_case_key_bad, {case_id}));
  return key;
}

void wipe(std::string& text) {
  if (!text.empty()) sodium_memzero(&text[0], text.size());
  text.clear();
}

}  // namespace sopir::sealing
