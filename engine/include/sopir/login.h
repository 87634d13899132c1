// Staff log-in on the embedded (SQLite) database: passphrases kept as
// Argon2id hashes (libsodium's crypto_pwhash_str), checked before a staff
// member acts.
//
// Who must log in: on a database where at least one active administrator
// has a passphrase, every staff member acting needs their own (a database
// made by `sopir init` always has one); a database from before log-in
// existed keeps working without until an administrator sets theirs. The
// PostgreSQL store keeps its passphrases out of sopir: the server
// authenticates its connections (issue #13), so login_required() is false
// there and the acting staff member is the one named.
//
// A passphrase never enters the log, the log file beside the database or a
// message: the registry row of a change says whose passphrase was set and
// by whom, nothing more.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sopir/case.h"
#include "sopir/store.h"

namespace sopir {

// How costly the key derivation of a passphrase set now is. The cost is
// stored inside the hash string, so checking a passphrase always uses the
// cost it was set with; only setting one chooses.
enum class KdfCost {
  kDefault,  // tuned to about 0.2-0.5 s on a shelter's laptop (docs/CLI.md, "Logging in")
  kTest,     // libsodium's minimum: for tests only, never for real staff
};

// Passphrases: at least kMinPassphrase and at most kMaxPassphrase bytes.
inline constexpr size_t kMinPassphrase = 8;
inline constexpr size_t kMaxPassphrase = 1024;

// kUsage when `passphrase` cannot be set: empty, shorter than
// kMinPassphrase, longer than kMaxPassphrase (the message never repeats it).
void check_new_passphrase(std::string_view passphrase);
// The Argon2id hash string of `passphrase` (a fresh salt each call), after
// check_new_passphrase. kStorage when libsodium cannot run (out of memory).
std::string hash_passphrase(std::string_view passphrase, KdfCost cost);
// Whether `passphrase` matches `hash` (as hash_passphrase made it). False
// for an empty or over-long passphrase and for a hash it cannot read.
bool passphrase_matches(const std::string& hash, std::string_view passphrase);

// Whether acting on this database needs a log-in: some active staff member
// with the role admin has a passphrase.
bool login_required(Store& store);

// How long to wait before checking a passphrase of `staff_id`, in seconds:
// 0 after fewer than kFreeAttempts failures within kFailureWindow seconds
// before `now`, then one second more for each further failure, at most
// kMaxDelay. The caller waits (the engine has no clock of its own).
inline constexpr int64_t kFreeAttempts = 3;
inline constexpr int64_t kFailureWindow = 15 * 60;
inline constexpr int64_t kMaxDelay = 30;
int64_t login_delay(Store& store, const std::string& staff_id, DateTime now);

// Logs `staff_id` in with `passphrase`: the Actor on success. Where the
// database key is wrapped for them it is unlocked for this process (and
// the wrapping, not the hash, checks the passphrase); an administrator's
// log-in on a database without a key makes it, encrypting the personal
// text kept in clear (docs/PRIVACY.md). kUsage for an
// empty id; kNotFound for an unknown staff member, kRefused for a
// deactivated one (as acting_staff); kDenied for a member without a
// passphrase on a database that needs one, and for a wrong, empty or
// over-long passphrase; a wrong one is recorded (Store::record_login_failure)
// unless the store is read-only, and counts towards login_delay.
Actor log_in(Store& store, const std::string& staff_id, std::string_view passphrase, DateTime now);

// Keeps a passphrase set (hash as hash_passphrase made it) in one
// transaction: the hash, its registry row, and the database key wrapped
// under the passphrase (docs/PRIVACY.md) when this process holds the key,
// or, on a database without a key yet, when the member is an active
// administrator (the key is made then). A member left without a wrapping
// logs in but cannot read or write personal data until their passphrase is
// set again by someone holding the key.
void keep_passphrase(Store& store, const std::string& staff_id, const std::string& hash,
                     std::string_view passphrase, const RegistryStamp& by);

// Sets the passphrase of `staff_id` to `passphrase`, by `by`: one's own, or
// anyone's by an active administrator (a reset). Writes the hash and a
// registry row (staff "passphrase-set", naming the member, never the
// passphrase) in one transaction. kUsage for an unusable passphrase,
// kRefused when `by` may not, kNotFound for an unknown member. The caller
// has logged `by` in when the database needs it.
void set_passphrase(Store& store, const std::string& by, const std::string& staff_id,
                    std::string_view passphrase, KdfCost cost, DateTime at);

}  // namespace sopir
