// Personal text at rest (docs/PRIVACY.md): the keys and the sealing of
// values with libsodium, for the stores that encrypt (the SQLite store).
//
// Three layers: a random case key seals a case's personal values
// (XChaCha20-Poly1305, the value's digest as associated data); case keys are
// sealed by the database key (the case id as associated data); the database
// key is sealed once per staff member by a key derived from their passphrase
// (Argon2id, its own salt; the staff id as associated data).
//
// The database key, once unlocked by a log-in, is kept in this process's key
// ring (remember_database_key), named by the database's key id: every store
// this process opens on that database (an auditor's read-only reader beside
// the engine's writer) decrypts with it. Keys live in libsodium's guarded
// memory and are wiped when dropped; the ring is wiped at exit.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sopir::sealing {

inline constexpr size_t kKeyBytes = 32;

// A 32-byte secret key in guarded, locked memory (sodium_malloc, a slab of
// keys at a time), wiped when dropped.
class SecretKey {
 public:
  SecretKey();  // a fresh random key
  struct Empty {};
  explicit SecretKey(Empty);  // zeroes, for bytes about to be written (an opened key)
  ~SecretKey();
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  unsigned char* data() { return bytes_; }
  const unsigned char* data() const { return bytes_; }

 private:
  unsigned char* bytes_;
};

// Seals `plain` under `key` with `ad` as associated data: a fresh random
// nonce followed by the ciphertext and its tag.
std::string seal(const SecretKey& key, std::string_view plain, std::string_view ad);
// The plain text of `sealed` (as seal() made it), or nullopt when it was
// not sealed under `key` with `ad`, or was changed.
std::optional<std::string> open(const SecretKey& key, std::string_view sealed, std::string_view ad);
// seal()/open() for a key: the key's bytes are the plain text.
std::string seal_key(const SecretKey& wrapping, const SecretKey& key, std::string_view ad);
std::unique_ptr<SecretKey> open_key(const SecretKey& wrapping, std::string_view sealed, std::string_view ad);

// The Argon2id cost of a passphrase key.
struct KdfCost {
  unsigned long long ops = 0;
  size_t mem = 0;  // bytes
};
// The cost inside a crypto_pwhash_str hash string ("$argon2id$v=19$m=98304,t=3,p=1$..."),
// so that a member's key costs what their log-in hash costs; nullopt when
// it cannot be read.
std::optional<KdfCost> cost_of_hash(const std::string& hash);
// A fresh random salt for derive_key.
std::string new_salt();
// The key derived from `passphrase` with `salt` at `cost` (crypto_pwhash,
// Argon2id). kStorage when libsodium cannot (out of memory).
std::unique_ptr<SecretKey> derive_key(std::string_view passphrase, std::string_view salt, KdfCost cost);

// A fresh random key id (hex), naming a database key in the ring.
std::string new_key_id();

// The process's key ring: unlocked database keys by key id (thread-safe;
// remembering a key id already held keeps the one held).
void remember_database_key(const std::string& key_id, std::unique_ptr<SecretKey> key);
// The unlocked key of `key_id`, or null. Valid until forget_database_keys().
const SecretKey* database_key(const std::string& key_id);
// Wipes and drops every remembered key.
void forget_database_keys();

// Overwrites `text` with zeros (sodium_memzero) and empties it.
void wipe(std::string& text);

// Bytes as lower-case hex, and back (nullopt for text that is not hex).
std::string to_hex(std::string_view bytes);
std::optional<std::string> from_hex(std::string_view hex);

// Key files (sopir/key_file.h): a key-encryption key held outside a server
// database, sealing its database key. A key file's id is a keyed hash of
// its key (BLAKE2b, 16 bytes, hex): the database stores it beside the
// sealed database key, so a wrong key file is recognised without trying it.
std::string key_file_id(const SecretKey& key);
// A key with the given 32 bytes (a key file's).
std::unique_ptr<SecretKey> key_from_bytes(std::string_view bytes);
// The process's key files by id (thread-safe; the first one remembered
// under an id stays). key_file_key: null when none has that id.
void remember_key_file(const std::string& id, std::unique_ptr<SecretKey> key);
const SecretKey* key_file_key(const std::string& id);
// The id of the key file loaded first (the one commands use), "" when none.
std::string first_key_file_id();
// Forgets every key file (tests).
void forget_key_files();

// The case keys a store has opened (shared by both stores): at most 256,
// since each takes a few pages of guarded memory; a long import keeps the
// last few hundred.
class CaseKeys {
 public:
  const SecretKey* find(const std::string& case_id) const;
  const SecretKey& keep(const std::string& case_id, std::unique_ptr<SecretKey> key);
  void drop(const std::string& case_id) { keys_.erase(case_id); }
  void clear() { keys_.clear(); }

 private:
  std::map<std::string, std::unique_ptr<SecretKey>> keys_;
};

// The plain text of a personal value sealed under `case_key` with its
// digest as associated data; kStorage naming `case_id` when it does not
// open (the stored bytes were changed).
std::string open_personal_text(const SecretKey& case_key, std::string_view sealed, const std::string& digest,
                               const std::string& case_id);
// Case `case_id`'s key from its sealed form under the database key `db`;
// kStorage naming the case when it does not open.
std::unique_ptr<SecretKey> open_case_key(const SecretKey& db, std::string_view sealed, const std::string& case_id);

}  // namespace sopir::sealing
