// Copying a whole database into a new one (`sopir db copy FROM TO`): a
// shelter's database file onto a new national server, or a server into a
// database file for an offline audit. Every row is written as it is in
// FROM: the log rows with their seq, record bytes and hashes (so every
// chain, checkpoint and anchor verifies the same on both ends), the cases
// with their versions and chain heads, staff, sites, procedures with their
// pinned calendars, and the access log. All or nothing: one transaction on
// TO, which must hold nothing yet.
//
// Personal text is read from FROM (which must be unlocked when it keeps it
// encrypted) and kept in TO as TO keeps it: sealed under a key file on a
// server, under a passphrase on a database file (CopySealing). What a
// store cannot hold is not copied: server logins into a file (its staff
// log in with passphrases), log-in failures (not part of the record).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/case.h"
#include "sopir/store.h"

namespace sopir {

// What a database holds, to compare both ends of a copy.
struct DatabaseCounts {
  int64_t log_rows = 0, registry_rows = 0, cases = 0, staff = 0, sites = 0, procedures = 0, access_records = 0;
  int64_t head_seq = 0;        // the newest log row
  std::string head_hash;       // its hash
  std::string registry_head;   // the hash of the newest registry row ("" when none)
  // SHA-256 over every case's "id last_seq head_hash" line, in id order:
  // equal on both ends when every case chain ends at the same row.
  std::string case_heads;
};
// `keep` (given a chain key: a case id, or "" for the registry chain)
// narrows the count to the chains a site copy takes.
DatabaseCounts count_database(Store& store, const std::function<bool(std::string_view)>& keep = {});
bool operator==(const DatabaseCounts& a, const DatabaseCounts& b);

// How TO keeps the personal text it is given.
struct CopySealing {
  enum class Mode {
    kAsIs,        // as TO keeps text by itself (clear until it has a key)
    kKeyFile,     // a server: sealed under the key file `key_file_id` (loaded in this process)
    kPassphrase,  // a database file: sealed under a key wrapped for `staff_id`'s new passphrase
  };
  Mode mode = Mode::kAsIs;
  std::string key_file_id;
  std::string staff_id;
  std::string passphrase;  // kPassphrase: the new passphrase (the caller wipes it)
  std::string hash;        // kPassphrase: hash_passphrase(passphrase)
  DateTime at;             // kPassphrase: when it was set (its registry row)
};

// A copy of one site (`sopir db copy --site`): the cases at `site` now or
// moved to or from it, and every case linked to them by hand-offs (parents
// and children at any depth, wherever they are now), so that verify checks
// the hand-offs and the guards that read them as it does on the source;
// every registry row,
// staff member, site and procedure; the access records of those cases.
// Into a new database file only. The source's checkpoints cover every
// site's chains, so the copy first writes on the source a site "copied"
// row committing to the chains it takes (their count and a digest of their
// keys: merkle::chains_digest; `to` is the copy as shown) and a checkpoint
// after it, both by `actor` at `at`. The copy keeps a proof that its chains
// are among that checkpoint's (Store::import_site_copy), which verify
// checks with the committed set, and closes with a checkpoint of its own.
// Those two source rows stay when the copy then fails: the source's log
// records every copy taken of a site.
struct SiteScope {
  std::string site;
  std::string to;
  std::string actor;
  DateTime at;
};

struct CopyResult {
  DatabaseCounts from, to;
  // kPassphrase: TO's log has one row more than FROM's, the registry row
  // of the passphrase set for the copy ("passphrase-set", last).
  bool passphrase_row = false;
  // A site copy: the cases kept that are at other sites now (linked to
  // the site's by hand-offs, or moved away from it), the source's
  // checkpoint its proof is for (the row's seq, and what it holds), and the
  // copy's closing checkpoint.
  int64_t linked_cases = 0;
  int64_t proven_checkpoint_row = 0;
  std::optional<Checkpoint> proven, closing;
};

// Copies FROM into TO as described above. `check` runs on TO after every
// row is written and before the commit (verify, for the CLI); it throws to
// undo the copy. Throws kConflict when TO holds anything, kDenied when FROM
// hides cases or personal text from this session (row-level security, a
// key not unlocked), kUsage when FROM keeps personal text encrypted and
// `sealing` would keep it in clear, or when TO cannot hold a row as it is
// (store.h import_*); kStorage when the copy read back differs. Nothing is
// written to TO when it throws.
CopyResult copy_database(Store& from, Store& to, const CopySealing& sealing,
                         const std::function<void(Store&)>& check = {},
                         const std::optional<SiteScope>& site = std::nullopt);

// Moving another office's database into one that holds other offices
// already (`sopir db copy FROM SERVER --into-site SITE`): FROM's default
// site becomes `site` of TO (made beforehand with `site add`, holding no
// case yet), its other sites join TO under their own ids (TO must not
// have them). Its cases' log rows keep their bytes and hashes and take
// TO's next numbers, in FROM's order (its seq plus an offset). Its registry
// rows cannot join TO's registry chain as they are: each is issued again
// on it at its number (registry::moved_row: the same facts, the default
// site as `site`) and kept as it was in TO's moved_registry, beside a
// site "moved-in" row on TO recording the move (MovedIn) and a checkpoint
// after it; its checkpoints are kept there only, and a publish row of a
// version TO holds already is not issued again. Staff join with their
// sites as they are here; FROM's procedures must be new to TO or the very
// versions TO has (same id, version and SHA-256). Refused, with nothing
// written: a case or staff id both hold (kConflict), `site` missing from
// TO (kNotFound) or holding cases (kConflict), a site of FROM's TO has
// (kConflict), a procedure version that differs (kConflict), FROM a copy
// of one site or chained row after row (kUsage). One transaction on TO,
// which no other writer of its log can enter meanwhile (Store::
// begin_move_in); `check` runs on TO before the commit (verify, for the
// CLI). FROM's administrators lose the role on TO (a staff row each,
// after the moved-in row): an office's administrator is not the server's.
// `actor` is TO's administrator (on a server that logs staff in, the
// session's member), or on one that does not yet, FROM's who moves it.
struct MoveIn {
  std::string site;
  std::string from;  // FROM as shown, kept in the moved-in row
  std::string actor;  // TO's administrator making the move
  DateTime at;
};

struct MoveResult {
  MovedIn move;
  int64_t staff = 0, sites = 0;
  int64_t procedures_added = 0, procedures_shared = 0;
  int64_t reissued = 0;          // FROM's registry rows issued again on TO
  std::vector<std::string> admins_removed;  // FROM's administrators, not TO's (their admin role removed, logged)
  Checkpoint closing;            // TO's checkpoint after the move
};

MoveResult move_in(Store& from, Store& to, const CopySealing& sealing, const std::function<void(Store&)>& check,
                   const MoveIn& move);

}  // namespace sopir
