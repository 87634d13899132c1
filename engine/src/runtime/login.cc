// Staff log-in (sopir/login.h): Argon2id passphrase hashes through
// libsodium, checked against the store's copy.
#include "sopir/login.h"

#include <sodium.h>

#include <algorithm>
#include <string>

#include "sopir/engine.h"
#include "sopir/error.h"
#include "sopir/messages/runtime.h"

namespace sopir {
namespace {

// The default cost: Argon2id with 3 passes over 96 MiB, about 0.33 s on
// the 2-core build machine (0.22 s over 64 MiB, 0.46 s over 128 MiB;
// docs/CLI.md "Logging in").
// A hash keeps the cost it was made with, so changing these changes only
// passphrases set afterwards.
constexpr unsigned long long kDefaultOps = 3;
constexpr size_t kDefaultMem = size_t{96} << 20;

void start_sodium() {
  if (sodium_init() < 0) throw storage_error(tr(msg::runtime_crypto_unavailable));
}

bool has_role(const StaffMember& m, const char* role) {
  return std::find(m.roles.begin(), m.roles.end(), role) != m.roles.end();
}

}  // namespace

void check_new_passphrase(std::string_view passphrase) {
  if (passphrase.empty()) throw usage_error(tr(msg::runtime_passphrase_empty, {std::to_string(kMinPassphrase)}));
  if (passphrase.size() < kMinPassphrase)
    throw usage_error(tr(msg::runtime_passphrase_short,
                         {std::to_string(passphrase.size()), std::to_string(kMinPassphrase)}));
  if (passphrase.size() > kMaxPassphrase)
    throw usage_error(tr(msg::runtime_passphrase_long,
                         {std::to_string(passphrase.size()), std::to_string(kMaxPassphrase)}));
}

std::string hash_passphrase(std::string_view passphrase, KdfCost cost) {
  check_new_passphrase(passphrase);
  start_sodium();
  const bool test = cost == KdfCost::kTest;
  const unsigned long long ops = test ? crypto_pwhash_OPSLIMIT_MIN : kDefaultOps;
  const size_t mem = test ? crypto_pwhash_MEMLIMIT_MIN : kDefaultMem;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, passphrase.data(), passphrase.size(), ops, mem) != 0)
    throw storage_error(tr(msg::runtime_passphrase_hash_failed));
  return std::string(out);
}

bool passphrase_matches(const std::string& hash, std::string_view passphrase) {
  if (passphrase.empty() || passphrase.size() > kMaxPassphrase || hash.empty() ||
      hash.size() >= crypto_pwhash_STRBYTES)
    return false;
  start_sodium();
  return crypto_pwhash_str_verify(hash.c_str(), passphrase.data(), passphrase.size()) == 0;
}

bool login_required(Store& store) { return store.admin_passphrase_set(); }

int64_t login_delay(Store& store, const std::string& staff_id, DateTime now) {
  const int64_t failures = store.login_failures_since(staff_id, DateTime{now.seconds - kFailureWindow});
  if (failures < kFreeAttempts) return 0;
  return std::min<int64_t>(failures - kFreeAttempts + 1, kMaxDelay);
}

Actor log_in(Store& store, const std::string& staff_id, std::string_view passphrase, DateTime now) {
  Actor who = acting_staff(store, staff_id);
  const std::optional<std::string> hash = store.passphrase_hash(staff_id);
  if (!hash) {
    if (!login_required(store)) return who;
    throw denied(tr(msg::runtime_no_passphrase_set, {staff_id}));
  }
  // The member's wrapping of the database key checks the passphrase as the
  // hash does, at the same cost: one key derivation per log-in, not two.
  if (!passphrase.empty() && passphrase.size() <= kMaxPassphrase) {
    switch (store.unlock_personal_data(staff_id, passphrase)) {
      case Store::Unlock::kUnlocked:
        return who;
      case Store::Unlock::kWrong:
        store.record_login_failure(staff_id, now);
        throw denied(tr(msg::runtime_wrong_passphrase, {staff_id}));
      case Store::Unlock::kNoKey:
        break;
    }
  }
  if (!passphrase_matches(*hash, passphrase)) {
    store.record_login_failure(staff_id, now);
    throw denied(tr(msg::runtime_wrong_passphrase, {staff_id}));
  }
  // A database from before encryption: an administrator's log-in makes
  // the database key and encrypts what was kept in clear (docs/PRIVACY.md).
  if (!store.encrypts_personal_data() &&
      std::find(who.roles.begin(), who.roles.end(), "admin") != who.roles.end() &&
      store.wrap_database_key(staff_id, passphrase, *hash))
    store.erased_cleanup();
  return who;
}

void keep_passphrase(Store& store, const std::string& staff_id, const std::string& hash,
                     std::string_view passphrase, const RegistryStamp& by) {
  store.transaction([&] {
    store.set_passphrase_hash(staff_id, hash, by);
    const std::optional<StaffMember> member = store.staff(staff_id);
    const bool admin = member && member->active && has_role(*member, "admin");
    if (store.encrypts_personal_data() || admin) store.wrap_database_key(staff_id, passphrase, hash);
  });
}

void set_passphrase(Store& store, const std::string& by, const std::string& staff_id,
                    std::string_view passphrase, KdfCost cost, DateTime at) {
  const Actor who = acting_staff(store, by);
  if (by != staff_id) {
    if (std::find(who.roles.begin(), who.roles.end(), "admin") == who.roles.end()) {
      const std::string roles = who.roles.empty() ? tr(msg::runtime_has_no_roles, {who.id})
                                                  : tr(msg::runtime_has_roles, {who.id, join(who.roles)});
      throw refused(tr(msg::runtime_passphrase_others, {roles}));
    }
    if (!store.staff(staff_id)) acting_staff(store, staff_id);  // kNotFound with "did you mean"
  }
  check_new_passphrase(passphrase);
  const std::string hash = hash_passphrase(passphrase, cost);
  keep_passphrase(store, staff_id, hash, passphrase, RegistryStamp{by, at});
}

}  // namespace sopir
