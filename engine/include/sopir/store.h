// Storage behind a small interface.
//
// SQLite (open_sqlite_store) is the embedded default; PostgreSQL
// (open_postgres_store) is the server database many offices share; no SQL
// detail leaves either implementation. A Store is used by one thread at a time; several processes
// may open the same database file at once.
//
// Every method throws sopir::Error on failure: kStorage when the database
// cannot be read or written, kNotFound for unknown ids, kConflict when a
// write lost a race (see append).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/calendar.h"
#include "sopir/case.h"
#include "sopir/error.h"
#include "sopir/value.h"

namespace sopir {

struct StaffMember {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  bool active = true;
  // The server login role that logs this member in (PostgreSQL, issue #13);
  // "" when none (always so on a database file).
  std::string login = {};
  // The sites (offices) the member belongs to, sorted: the cases they may
  // read and act on (docs/DEPLOY.md "Sites"). Roles `national` and
  // `auditor` read every site's cases without belonging to one.
  std::vector<std::string> sites = {};
};

// A site: an office (a shelter, a debarkation post, a regional office).
// Every case belongs to one. Every database has the site kDefaultSite from
// the schema on (SQLite schema 10, PostgreSQL 8): a one-office database
// never names a site.
struct Site {
  std::string id;    // a slug, as staff ids (valid_staff_id's alphabet)
  std::string name;  // shown to people
};
inline constexpr char kDefaultSite[] = "main";
inline constexpr char kDefaultSiteName[] = "Main office";

// Who the server logged this session in as (PostgreSQL). On a database
// file nothing is set: staff log in with a passphrase (sopir/login.h).
struct SessionIdentity {
  bool server = false;     // the store's server authenticates connections
  bool enforced = false;   // an active administrator has a login: every step's actor is the session's member
  std::string login;       // the session's role (session_user)
  std::string staff_id;    // the active staff member whose login it is; "" when none
  bool superuser = false;  // the session's role is a server superuser (never a member's login)
  // Row-level security lets the session read every site's cases (always on
  // a database file; on a server: before an administrator has a login, or
  // for an administrator's, a national or an auditor staff member's login).
  bool sees_every_site = true;
};

struct PublishedProcedure {
  std::string sop_id;
  int version = 0;
  std::string sha256;
  std::string source;
  std::string file;
  DateTime published_at;
  std::string published_by;
  bool current = false;  // the version new cases are opened under
  int64_t cases = 0;     // cases pinned to this version (procedures() only; 0 elsewhere)
  // Store::publish() (and so Engine::publish*()): the text was published
  // before this call, so no new version was written (never stored; false
  // elsewhere).
  bool already_published = false;
  // Engine::publish*() of a text whose `migrate: from:` names versions that
  // no published version of its procedure says (a typo, or an office that
  // never had them; no running case moves from them): those, in file order,
  // and the `version:` of every other published version of the procedure,
  // ascending (what from: could name). Never stored; empty elsewhere, and
  // both empty when from: names only published versions or when no other
  // version of the procedure is published (no case of it runs here).
  std::vector<int> migrate_from_unpublished;
  std::vector<int> migrate_from_published;
  // The compiled form (engine/src/lang/procedure_codec.h) saved at publishing,
  // so that a process need not parse the YAML again; "" when none.
  std::string compiled;
};

// A field value as stored: the canonical text (format_value) and, for
// `pii` fields, the salt and digest that enter the hash chain in its place.
// An erased value has `erased` set and empty `text`; its digest stays.
// A `locked` value is a pii value whose text is encrypted (docs/PRIVACY.md)
// and this process holds no key to read it (no log-in yet, or the member
// logged in has no key): empty `text`, digest kept.
struct StoredValue {
  std::string field;
  bool missing = true;
  std::string text;
  bool pii = false;
  std::string salt;    // hex, pii only
  std::string digest;  // hex SHA-256(salt || text), pii only
  bool erased = false;
  // Erased, and not as a database from before schema 7 erased text (its
  // `personal_text` row kept with `text` NULL and no case): the row or its
  // case's key is gone, or its text was cleared with its case named, as only
  // an erasure since then does; so an `erased` row of its case must account
  // for it (audit verify's `pii-gone`). Read, never stored.
  bool erased_since_keys = false;
  bool locked = false;
  // Read by a read-only store (an audit's): its sealed text, or its case's
  // key, does not open (changed behind the engine's back). Held as locked
  // too, so that nothing decides on it or writes it; audit verify reports
  // it (`pii-digest`). A store that may write refuses the read instead.
  bool damaged = false;
};

struct CaseRecord {
  std::string id;
  std::string sop_id;
  std::string sha256;    // the pinned procedure version
  std::string state;     // state id
  Status status = Status::kActive;
  std::vector<StoredValue> data;  // every field with a value
  int64_t version = 0;   // bumped by every append: optimistic concurrency
  int64_t last_seq = 0;  // case_seq of its newest log row
  std::string head_hash; // hash of its newest log row: the head of the case's chain
  // SQLite: the seq of its newest log row in this database, as read with
  // the row (0: not read). append_held() links the new log row to it
  // without looking it up, and writes only while the row still names it.
  int64_t head_row = 0;
  DateTime opened_at;
  std::optional<DateTime> due_at;
  std::optional<DateTime> hold_started;
  std::string closure_reason;
  std::string parent_case;  // the case whose step opened this one, if any
  std::string site = {};    // the site the case belongs to (Site::id)
};

// Registry rows (case_id "", the registry chain) change no case:
// kCheckpoint (see Store::checkpoint), kPublish and kStaff (written by the
// methods that publish or change staff, in the same transaction), and
// kMigrationPlan (a migration plan proposed or approved, sopir/migration_apply.h).
// kErasure rows are case rows: a data protection officer's request to erase
// a case's personal data, and a second one's confirmation, which erased it
// (Engine::erase_case; events in erasure_event).
// kMigration is a case row: the case moved to a newer version of its
// procedure by an approved plan.
enum class LogKind {
  kOpen,
  kProcedure,
  kOverride,
  kLifecycle,
  kTimer,
  kCheckpoint,
  kPublish,
  kStaff,
  kErasure,
  kMigration,
  kMigrationPlan,
  kSite,      // registry: a site added (site_event)
  kTransfer   // case row: the case moved to another site (Engine::transfer_case)
};
// "open", "procedure", "override", "lifecycle", "timer", "checkpoint", "publish", "staff", "erasure",
// "migration", "migration-plan", "site", "transfer"
const char* to_string(LogKind kind);
bool is_registry(LogKind kind);  // kCheckpoint, kPublish, kStaff, kMigrationPlan or kSite
// The number a new published version of `sop_id` takes when the highest
// published is `highest`: `requested` (a procedure's version:), or
// highest + 1 when it is 0; kConflict when `requested` is not above
// `highest`. Both stores number versions by it.
int64_t publication_number(const std::string& sop_id, int64_t highest, int requested);
// Every kind is_registry() holds, in LogKind order (for a store's SQL).
const std::vector<LogKind>& registry_kinds();
std::optional<LogKind> log_kind_from_string(std::string_view text);

// What a checkpoint row commits to: the Merkle root (hex) over the heads of
// `chains` chains as of log row `upto_seq` (docs/SCHEMA.md "Checkpoints").
struct Checkpoint {
  int64_t upto_seq = 0;
  int64_t chains = 0;
  std::string root;
  // Whether the log it covers may skip seq numbers (Store::seq_gaps_allowed
  // where it was written): committed in the row, so that the setting
  // cannot be turned on later unseen (audit verify). Unset in checkpoints
  // written by an older sopir.
  std::optional<bool> seq_gaps = std::nullopt;
};

// A case's chain head (Store::case_heads): its id, and the case_seq and
// hash of its newest log row.
struct CaseHead {
  std::string id;
  int64_t last_seq = 0;
  std::string head_hash;
};

// A proof that some chains' heads are among the leaves of a checkpoint's
// root (store/merkle.h: prove, root_with): the number of leaves, the
// position in key order of each chain kept, and the hash (32 bytes) of
// every largest subtree that holds none of them. Node (level, index)
// covers the leaves [index * 2^level, (index + 1) * 2^level), cut at the
// last one.
struct ChainProof {
  int64_t leaves = 0;
  std::map<std::string, int64_t, std::less<>> positions;  // chain key -> leaf position
  struct Node {
    int level = 0;
    int64_t index = 0;
    std::string hash;
  };
  std::vector<Node> nodes;  // by level, then index
};

// What a copy of one site's cases holds beside its rows (sopir/copy.h):
// the site, and the proof that its chains are among those the source's
// newest checkpoint covers (that checkpoint's root covers every site's).
struct SiteCopy {
  std::string site;
  int64_t checkpoint_seq = 0;  // the seq of that checkpoint row; 0: the source had none
  int64_t copied_upto = 0;     // the newest row copied: rows after it were written in the copy
  ChainProof proof;
};

// Another office's database moved into this one (its site "moved-in"
// row; sopir/copy.h move_in). Its rows keep their bytes and hashes; their
// seq here is theirs there plus `offset`. Where a moved row names the
// default site, it means `site` here.
struct MovedIn {
  std::string site;
  std::string from;                     // the moved database, as shown
  int64_t first_seq = 0, last_seq = 0;  // its rows' numbers here
  int64_t offset = 0;
  int64_t registry_rows = 0;            // its registry chain, kept beside the log
  std::string registry_head;            // that chain's newest hash ("" when empty)
  std::string head;                     // its newest row there: "SEQ:HASH"
  int64_t cases = 0;
  int64_t seq = 0;                      // the moved-in row's own number here

  bool holds(int64_t row_seq) const { return row_seq >= first_seq && row_seq <= last_seq; }
  // A site a moved row names, as it is here.
  const std::string& here(const std::string& there) const { return there == kDefaultSite ? site : there; }
};

// One row of the append-only transition log. The log is many hash chains:
// one per case and the registry chain (case_id "") for rows that change
// no case.
struct LogEntry {
  int64_t seq = 0;        // global order of writing, assigned by the store
  std::string case_id;    // the chain: a case id, or "" for the registry chain
  int64_t case_seq = 0;   // 1, 2, ... per chain, assigned by the store
  std::string sha256;     // procedure version the step ran under
  LogKind kind = LogKind::kProcedure;
  std::string event;      // procedure event id, or hold/resume/close/reopen/open
  std::string from_state, to_state;   // "" for open's from
  std::string from_status, to_status;  // lifecycle status before/after
  std::string actor, role;
  DateTime occurred_at;   // when it happened (may be earlier: a paper form)
  DateTime recorded_at;   // the system clock at write time
  std::string note, reason;
  std::vector<std::pair<std::string, std::string>> inputs;  // as given
  // Field changes: before and after as StoredValue (pii: salted digests).
  struct Change {
    StoredValue before, after;
  };
  std::vector<Change> changes;
  std::optional<DateTime> due_at;  // case due time after the step
  // The case this step opened (on the parent's row) or the case whose step
  // opened this one (on a child's open row); empty when none. A step that
  // opened several tracks names them all, in hand-off order, joined by ", "
  // (join_case_ids / split_case_ids); their open rows follow it in that order.
  std::string linked_case;
  // The site the case is at after this row: set on open rows and transfer
  // rows (written to the record as "site" after linked_case only when not
  // empty, so rows from before sites keep their bytes); "" elsewhere.
  std::string site;
  std::optional<Checkpoint> checkpoint;  // kCheckpoint rows only
  // prev_hash: the hash of the chain's previous row ("" for its first).
  std::string prev_hash, hash;     // assigned by the store
};

// The case row as an append left it: `after`, with the log row `entry`
// just written as the head of its chain. For a caller that holds the case
// across appends (Store::append_held).
inline void set_chain_head(CaseRecord& after, const LogEntry& entry) {
  after.last_seq = entry.case_seq;
  after.head_hash = entry.hash;
  after.head_row = entry.seq;
}

// LogEntry::linked_case of a step that opened `ids`, and back.
std::string join_case_ids(const std::vector<std::string>& ids);
std::vector<std::string> split_case_ids(const std::string& linked_case);

// A log row's record: the JSON object stored in transitions.record, holding
// every field above except seq, prev_hash and hash, with keys in a fixed
// order ("checkpoint" on checkpoint rows only); `pii` values carry only their salt and digest, never their text.
// The store keeps exactly these bytes and SQLite derives the row's other
// columns from them, so the hash covers everything a reader sees.
// hash = hex(SHA-256(prev_hash || log_record(entry))); docs/SCHEMA.md.
std::string log_record(const LogEntry& entry);
std::string chain_hash(const std::string& prev_hash, const LogEntry& entry);

// Who made a registry change (publishing, staff administration) and when:
// the registry row's actor and its occurred_at and recorded_at. An empty
// actor marks a change made directly through the store (a test fixture).
struct RegistryStamp {
  std::string actor;
  DateTime at;
};

// Registry row events (LogEntry::event) and what their inputs hold:
//   publish "published": [["sop_id",ID],["version",N],["file",FILE]], sha256 = the version's
//   staff "added": [["staff",ID],["name",NAME],["role",R]...]
//   staff "role-granted" / "role-removed": [["staff",ID],["role",R]]
//   staff "deactivated" / "reactivated": [["staff",ID]]
//   staff "passphrase-set": [["staff",ID]] (by the member themselves, or an
//     administrator's reset; never the passphrase or its hash)
//   migration-plan "proposed": [["plan",SHA256],["sop_id",ID],["from_versions","2,3"],
//     ["to_version",N],["made_at",TIME],["cases",N],["moving",N]], sha256 = the target version's
//   migration-plan "approved": [["plan",SHA256],["sop_id",ID],["to_version",N]]
//   staff "existing" / publish "existing": written once by the schema 3
//     upgrade for what was there before changes were logged; dated at the
//     upgrade (staff add ["active","no"] when deactivated). docs/SCHEMA.md.
namespace registry_event {
inline constexpr char kPublished[] = "published";
inline constexpr char kAdded[] = "added";
inline constexpr char kRoleGranted[] = "role-granted";
inline constexpr char kRoleRemoved[] = "role-removed";
inline constexpr char kDeactivated[] = "deactivated";
inline constexpr char kReactivated[] = "reactivated";
inline constexpr char kPassphraseSet[] = "passphrase-set";
inline constexpr char kLoginSet[] = "login-set";
inline constexpr char kExisting[] = "existing";
inline constexpr char kProposed[] = "proposed";
inline constexpr char kApproved[] = "approved";
// staff: [["staff",ID],["site",SITE]]; site (kind kSite) "added":
// [["site",ID],["name",NAME]] ("existing": the schema 10 upgrade's row for
// the default site of a database that already had a log).
// site "copied": a copy of one site's cases was taken (SiteCopy,
// sopir/copy.h), [["site",S],["to",COPY],["chains",N],["chains_sha256",HEX]]:
// the chains it takes; a checkpoint follows.
inline constexpr char kCopied[] = "copied";
// site "moved-in": another office's database was moved into this one
// (copy.h move_in): [["site",SITE],["from",FROM],["first_seq",N],
// ["last_seq",N],["offset",N],["registry_rows",N],["registry_head",HEX],
// ["head",SEQ:HEX],["cases",N]]: its log rows hold seq first_seq..last_seq
// here (its own seq plus offset), its default site is SITE here, and its
// registry chain (registry_rows rows ending at registry_head) is kept
// beside the log (Store::scan_moved_registry). It follows those rows.
inline constexpr char kMovedIn[] = "moved-in";
inline constexpr char kSiteJoined[] = "site-joined";
inline constexpr char kSiteLeft[] = "site-left";
}  // namespace registry_event

// Erasure row events (LogKind::kErasure), both with the request's reason.
namespace erasure_event {
inline constexpr char kRequested[] = "erase-requested";
inline constexpr char kErased[] = "erased";
}  // namespace erasure_event

// What a case's guards read of a case it opened (has_child, child_closed,
// track_state): its state and status, not its data.
struct ChildCase {
  std::string id, sop_id, state;
  Status status = Status::kActive;
  std::string closure_reason;
  DateTime opened_at;
};

struct CaseFilter {
  std::optional<std::string> sop_id, state;
  std::optional<std::string> sha256;  // the procedure version pinned
  std::optional<Status> status;
  std::optional<DateTime> due_before;  // overdue: due_before = now
  std::optional<std::string> linked_to;  // its child cases and its parent
  // Only cases of these sites (none: no case at all); unset: every site.
  std::optional<std::vector<std::string>> sites;
  int64_t limit = 0;  // 0: no limit
  // A whole-table pass a page at a time (with `limit`), so that nothing
  // holds every case at once: only ids after this one, in id order ("" is
  // before every id). Each page is its own query, so the caller may use the
  // store between pages.
  std::optional<std::string> after_id;
};
// cases() returns matches ordered by opened_at (by due_at when due_before
// is set), then id; by id alone when after_id is set.

// cases()' order by opening time, then id, for a list gathered some other
// way (a pass by id) that must read as cases() lists it. The stores' SQL
// writes the same rule (store/case_order.h).
inline bool listed_before(DateTime a_opened, const std::string& a_id, DateTime b_opened,
                          const std::string& b_id) {
  if (a_opened != b_opened) return a_opened < b_opened;
  return a_id < b_id;
}

struct LogFilter {
  std::optional<std::string> case_id, sop_id, actor, event, state;
  std::optional<LogKind> kind;
  std::optional<DateTime> since, until;  // on occurred_at: since <= t < until
  std::optional<int64_t> after_seq;
  // Registry rows (case_id "": checkpoints) are left out unless set.
  bool registry = false;
  // `state` matches rows whose from_state or to_state is it; every set
  // member must match.
  // When set, a row whose record is not one sopir writes (an Error with
  // damaged_row()) is passed here and skipped, and the scan reads on; else
  // it stops the scan (audit verify reports such rows and reads the rest).
  const std::function<void(const Error&)>* damaged = nullptr;
};

// One view of a case's personal data (the access log, docs/SCHEMA.md):
// who, which case, through what ("case show --reveal"), the reason they
// gave, and when.
struct AccessRecord {
  int64_t id = 0;  // order of recording
  std::string actor, case_id, what, reason;
  DateTime at;
};

// Which access records access_records() returns; every set member must
// match. case_ids: any of them.
struct AccessFilter {
  std::vector<std::string> case_ids;
  std::optional<std::string> actor;
  std::optional<DateTime> since, until;  // on at: since <= t < until
};

// A log row as stored, for checking the hash chain without decoding it.
// The views are valid during the visit call only.
struct ChainRow {
  int64_t seq = 0;
  std::string_view case_id;  // from the record; empty when it cannot be read
  int64_t case_seq = 0;      // from the record; 0 when it cannot be read
  std::string_view prev_hash, hash;
  std::string_view record;  // the stored record bytes, as hashed
  // A checkpoint row's claim, read from its record; nullopt for other rows.
  std::optional<Checkpoint> checkpoint;
  // The row's personal (`pii`) change values with their text (erased ones
  // flagged), so their digests can be checked; empty for rows without any
  // (the common case: only such rows are decoded).
  const std::vector<StoredValue>* personal = nullptr;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `body` in one write transaction (serialised against other
  // processes): everything it writes commits together or not at all. Nested
  // calls join the outer transaction; an exception leaving a nested call
  // undoes that call's writes (a savepoint) and propagates.
  virtual void transaction(const std::function<void()>& body) = 0;
  // Like transaction(), for many writes that stand or fall together (an
  // all-or-nothing import): nested transactions and writes inside `body`
  // take no savepoint of their own, which saves a savepoint per write. An
  // exception leaving one of them therefore undoes nothing by itself: it
  // marks the whole transaction failed. When `body` throws, nothing is
  // written and the exception propagates; when `body` returns after a
  // nested failure it caught, nothing is written either and kStorage is
  // thrown. Nested inside another transaction it is one savepoint.
  virtual void transaction_all_or_nothing(const std::function<void()>& body) = 0;
  // Runs `body` against one snapshot of the database: every read inside it
  // sees the database as it was at the first of them, whatever other
  // processes or connections write meanwhile (audit verify on a database
  // in use). For reading only; nested in a transaction it is that
  // transaction.
  virtual void read_snapshot(const std::function<void()>& body) { body(); }
  // Whether nothing may be written (StoreOptions::read_only, or a server
  // standby).
  virtual bool read_only() const { return false; }

  // Procedures (content-addressed by SHA-256 of the source). Publishing the
  // same source again changes nothing and returns the existing row, with
  // `already_published` set;
  // a different source for the same sop id becomes current, numbered
  // `version` (the file's `version:`, so that the number shown and the one
  // migrate: from: names are one), or max+1 when `version` is 0, and writes
  // a registry row (publish "published", by `actor` at `at`). kConflict for
  // a `version` not above every published number of the sop id
  // (publication_number()).
  virtual PublishedProcedure publish(const std::string& sop_id, const std::string& sha256,
                                     const std::string& source, const std::string& file,
                                     const std::string& actor, DateTime at, int version = 0) = 0;
  // Saves the compiled form of a published version (see PublishedProcedure).
  virtual void set_compiled(const std::string& sha256, const std::string& compiled) = 0;
  virtual std::optional<PublishedProcedure> procedure_by_hash(const std::string& sha256) = 0;
  // The same row without its source (left ""), for running the version by
  // its compiled form: the source is most of the row (68 KB for victim
  // care) and a step never reads it. A store that cannot leave it out
  // gives the whole row.
  virtual std::optional<PublishedProcedure> procedure_form_by_hash(const std::string& sha256) {
    return procedure_by_hash(sha256);
  }
  // Holiday calendars pinned with a version (sopir/calendar.h): each file's
  // bytes are kept once by SHA-256 and linked to the version in order. Call
  // it in publish()'s transaction; a version pinned before keeps its first
  // pin (replay must count the same days). pinned_calendars gives them back
  // (name, file, text, sha256), empty when none.
  virtual void pin_calendars(const std::string& procedure_sha256,
                             const std::vector<CalendarSource>& calendars) = 0;
  virtual std::vector<CalendarSource> pinned_calendars(const std::string& procedure_sha256) = 0;
  virtual std::optional<PublishedProcedure> current_procedure(const std::string& sop_id) = 0;
  virtual std::vector<PublishedProcedure> procedures() = 0;  // every version, with case counts
  // Every version of `sop_id`, oldest first, without its source, compiled
  // form or case count (left "" and 0): what publishing checks a new version
  // against, without counting every version's cases. Empty when none.
  virtual std::vector<PublishedProcedure> versions_of(const std::string& sop_id) = 0;
  // The same for every procedure, by sop_id then version: what a pass over
  // the current procedures reads (hand-off checks, overdue clocks).
  virtual std::vector<PublishedProcedure> versions() = 0;

  // Staff. Each change writes the staff row and its registry row (kind
  // kStaff, stamped with `by`) in one transaction. The store checks only
  // ids, not who may do it (Engine does); audit verify checks that `by` was
  // an administrator in force (the log's first row, the first
  // administrator adding themselves, excepted).
  virtual void add_staff(const StaffMember& member, const RegistryStamp& by) = 0;  // kConflict if the id exists
  virtual std::optional<StaffMember> staff(const std::string& id) = 0;
  virtual std::vector<StaffMember> all_staff() = 0;
  // kNotFound for an unknown id; a change to what is already so writes nothing.
  virtual void set_staff_active(const std::string& id, bool active, const RegistryStamp& by) = 0;
  // Grants (`held` true) or removes a role; kNotFound for an unknown id, a
  // change to what is already so writes nothing.
  virtual void set_staff_role(const std::string& id, const std::string& role, bool held,
                              const RegistryStamp& by) = 0;

  // Sites (docs/DEPLOY.md "Sites"). add_site writes the site and its
  // registry row (site "added") in one transaction; kConflict when the id
  // exists. set_staff_site makes `id` a member of `site` (`held`) or not,
  // with its registry row (staff "site-joined" / "site-left"); kNotFound
  // for an unknown member or site; a change to what is already so writes
  // nothing. add_staff: a member given no sites joins the database's only
  // site when it has exactly one (its "added" row lists ["site",S] pairs).
  virtual void add_site(const Site& site, const RegistryStamp& by) = 0;
  virtual std::vector<Site> sites() = 0;  // ordered by id
  virtual void set_staff_site(const std::string& id, const std::string& site, bool held,
                              const RegistryStamp& by) = 0;

  // Staff log-in (sopir/login.h). These defaults are a store whose server
  // authenticates its connections (PostgreSQL, issue #13): it keeps no
  // passphrases, so no log-in is asked for.
  //
  // The passphrase hash of staff member `id` (an Argon2id string as
  // crypto_pwhash_str makes it); nullopt when none is set.
  virtual std::optional<std::string> passphrase_hash(const std::string& id) {
    (void)id;
    return std::nullopt;
  }
  // Whether some active staff member with the role admin has a passphrase
  // (login_required()): one query that stops at the first, not every staff
  // row read.
  virtual bool admin_passphrase_set() { return false; }
  // Sets it and writes the registry row (staff "passphrase-set", stamped
  // with `by`) in one transaction. kNotFound for an unknown id; kUsage on a
  // store that keeps no passphrases.
  virtual void set_passphrase_hash(const std::string& id, const std::string& hash, const RegistryStamp& by);
  // Records a failed log-in of `id` at `at` (no log row: it changes no
  // record); nothing on a read-only store.
  virtual void record_login_failure(const std::string& id, DateTime at) {
    (void)id;
    (void)at;
  }
  // Server log-in (PostgreSQL, issue #13). Who this session is.
  virtual SessionIdentity session_identity() { return {}; }
  // Makes server role `login` the one that logs staff member `id` in, and
  // writes the registry row (staff "login-set") in one transaction. The
  // role is created with `new_password` when the server has none of that
  // name (returns true then); an existing role (certificate or peer
  // authentication the administrator set up) is used as it is. kNotFound
  // for an unknown id, kConflict for a login another member has, kUsage on
  // a store whose staff log in with a passphrase.
  virtual bool set_staff_login(const std::string& id, const std::string& login, const std::string& new_password,
                               const RegistryStamp& by);
  // How many failed log-ins of `id` were recorded at or after `since`.
  virtual int64_t login_failures_since(const std::string& id, DateTime since) {
    (void)id;
    (void)since;
    return 0;
  }

  // Personal text encrypted at rest (docs/PRIVACY.md, store/sealing.h).
  // These defaults are a store that keeps personal text as it is given
  // (PostgreSQL, see docs/PRIVACY.md): nothing to unlock, nothing wrapped.
  //
  // Whether a database key exists: personal text written from now on is
  // encrypted, and writing or reading it needs the key unlocked.
  virtual bool encrypts_personal_data() { return false; }
  // Whether this process holds the database key (a log-in unlocked it).
  virtual bool personal_data_unlocked() { return false; }
  enum class Unlock { kNoKey, kWrong, kUnlocked };
  // Unlocks the database key with staff member `id`'s passphrase: kNoKey
  // when no key is wrapped for them, kWrong when the passphrase does not
  // open their wrapping, kUnlocked when it does (the key is then held for
  // every store of this database in this process).
  virtual Unlock unlock_personal_data(const std::string& id, std::string_view passphrase) {
    (void)id;
    (void)passphrase;
    return Unlock::kNoKey;
  }
  // Wraps the database key for staff member `id` under `passphrase` (at the
  // cost read from their log-in hash `hash`), replacing any wrapping they
  // had. When no database key exists yet it is made now, and every personal
  // text kept in clear is encrypted (the upgrade of an older database).
  // Returns false, writing nothing, when a key exists but this process has
  // not unlocked it. Call it in the transaction that set the hash.
  virtual bool wrap_database_key(const std::string& id, std::string_view passphrase, const std::string& hash) {
    (void)id;
    (void)passphrase;
    (void)hash;
    return false;
  }
  // Server databases (PostgreSQL): the database key is sealed not by
  // passphrases but by the key of a key file held outside the server
  // (sopir/key_file.h). A store unlocks it by itself when this process has
  // loaded that key file (load_key_file).
  //
  // The id of the key file whose key seals the database key; "" when the
  // database has no database key yet, or seals it under passphrases.
  virtual std::string key_file_id() { return {}; }
  // Seals the database key under key file `key_file_id` (loaded in this
  // process). With no database key yet it is made now and every personal
  // text kept in clear is encrypted, in one transaction (returns true).
  // Otherwise the database key, which this process must have unlocked
  // (kDenied otherwise, nothing written), is sealed under the new key file
  // in place of the old one (a key rotation; returns false). kNotFound when
  // no key file of that id is loaded. This default throws kUsage (a store
  // whose keys are wrapped by passphrases).
  virtual bool seal_database_key(const std::string& key_file_id);

  // Whether erase_personal_data() can run here (a case row of kind
  // kErasure can be stored).
  virtual bool supports_erasure() { return false; }
  // Destroys case `case_id`'s key and the text of its personal values
  // (`digests`, and every text kept under its key), overwriting the freed
  // space; the digests stay. Call it in the transaction that writes the
  // erasure row. After the commit, erased_cleanup() checkpoints the
  // write-ahead log so that no old page keeps the text: false when another
  // process's reading kept it from emptying the log (it is emptied at a
  // later checkpoint).
  // This default throws kUsage (the store cannot erase).
  virtual void erase_personal_data(const std::string& case_id, const std::vector<std::string>& digests);
  virtual bool erased_cleanup() { return true; }

  // Cases.
  virtual bool case_exists(const std::string& id) = 0;
  virtual std::optional<CaseRecord> find_case(const std::string& id) = 0;
  virtual std::vector<CaseRecord> cases(const CaseFilter& filter) = 0;
  // How many cases match `filter` (its limit ignored). This default lists
  // them; stores override it with a count.
  virtual int64_t count_cases(const CaseFilter& filter) {
    CaseFilter all = filter;
    all.limit = 0;
    return static_cast<int64_t>(cases(all).size());
  }
  // Ids starting with `prefix`, in id order, at most `limit` (0: no limit);
  // with `sites`, only cases of those sites (CaseFilter::sites).
  virtual std::vector<std::string> case_ids(
      const std::string& prefix, int64_t limit,
      const std::optional<std::vector<std::string>>& sites) = 0;
  // Every case `filter` matches, in id order, read `page` at a time
  // (CaseFilter::after_id; the filter's own limit and after_id are not
  // used): a pass over every case (audit verify, audit report) holds one
  // page, not the table. Each page is one query, so `visit` may use the store.
  void each_case(CaseFilter filter, const std::function<void(const CaseRecord&)>& visit, int64_t page = 500);
  // The same pass a page at a time, for a caller that reads more of each
  // page's cases together (their logs, the cases they opened): `visit`
  // gets each non-empty page, and may move its cases out.
  void each_part(CaseFilter filter, const std::function<void(std::vector<CaseRecord>&)>& visit,
                 int64_t page = 500);
  // Every case's id with the newest row of its chain, in id order, and
  // nothing of its values (no personal text is read or opened): what a copy
  // compares on both ends (sopir/copy.h). This default reads cases().
  virtual std::vector<CaseHead> case_heads();
  // The cases case `parent_id` opened, ordered by opened_at, then id. On a
  // server a member's session reads these of a case of its sites even when
  // they are another site's (a hand-off to another office), and nothing else
  // of them (PostgreSQL schema 10). This default reads them through cases().
  virtual std::vector<ChildCase> child_cases(const std::string& parent_id);
  // child_cases() of each of `parent_ids`, in their order. For lists that
  // read many cases (todo): a server answers them in one round trip rather
  // than one a case. This default calls child_cases() for each.
  virtual std::vector<std::vector<ChildCase>> children_of(
      const std::vector<std::string>& parent_ids);

  // Inserts a new case row and its first log row (kind kOpen) atomically.
  // Assigns seq, case_seq (1), prev_hash and hash into `entry` (and
  // case_id, when empty). kConflict if the id is taken; kNotFound for an
  // unpublished sha256 or a missing parent_case.
  // For both create_case and append: the store writes the case row's
  // last_seq as the case_seq it assigned; pii values must carry a digest
  // (kUsage otherwise); when they throw nothing is written and the fields
  // the store assigns keep their old values.
  virtual void create_case(const CaseRecord& record, LogEntry& entry) = 0;

  // Appends one log row and replaces the case row, atomically, only if the
  // stored case still has version `expected_version`; otherwise throws
  // kConflict ("case X changed since you read it") and writes nothing.
  // `record.version` must be expected_version + 1. Reads the stored case's
  // version and chain head first; append_held() need not.
  virtual void append(const CaseRecord& record, int64_t expected_version, LogEntry& entry) = 0;

  // append() for a caller that holds the case row as stored: `held` as
  // find_case() returned it or as the caller updated it after its last
  // write (version, and set_chain_head() with the entry written). Reads
  // nothing first: the row is written only where it still has held's
  // version, last_seq and head_hash, and head_row when held names one
  // (kConflict otherwise, nothing written), and only the columns in which
  // `after` differs from `held` are written.
  // `after.version` must be held.version + 1. Assigns into `entry` as
  // append() does.
  virtual void append_held(const CaseRecord& held, const CaseRecord& after, LogEntry& entry) = 0;

  // Appends a row to the registry chain (entry.case_id must be "").
  // Assigns seq, case_seq, prev_hash and hash into `entry`. publish() and
  // the staff methods call it themselves, in the same transaction as the
  // change they record (kinds kPublish, kStaff).
  virtual void append_registry(LogEntry& entry) = 0;

  // Writes a checkpoint row (kind kCheckpoint, by `actor` at `at`) over
  // the heads of every chain as of the newest row, in one transaction, and
  // returns it; when the newest row is already a checkpoint, writes
  // nothing and returns that one; on an empty log writes nothing and
  // returns an entry with seq 0 and upto_seq 0.
  virtual LogEntry checkpoint(const std::string& actor, DateTime at) = 0;
  // The newest checkpoint row, if any.
  virtual std::optional<LogEntry> newest_checkpoint() = 0;
  // Rows with seq below this were chained in seq order, each to the row
  // before it (databases from before chains per case); from it on each row
  // is chained to the previous row of its own chain.
  virtual int64_t per_chain_from() = 0;
  // Whether seq may skip numbers (PostgreSQL: an identity column, whose
  // numbers a rolled-back transaction uses up); SQLite's never does.
  virtual bool seq_gaps_allowed() { return false; }

  // The log, oldest first. `visit` returns false to stop early.
  virtual void scan_log(const LogFilter& filter, const std::function<bool(const LogEntry&)>& visit) = 0;
  // The whole log (registry rows included), oldest first, as stored bytes:
  // no JSON decoding except for rows holding personal values and
  // checkpoint rows. `visit` returns false to stop early.
  virtual void scan_chain(const std::function<bool(const ChainRow&)>& visit) = 0;
  virtual std::vector<LogEntry> history(const std::string& case_id) = 0;  // kNotFound: no such case
  // history() of each of `case_ids` (distinct), in their order; kNotFound
  // for one that is no case. For lists that read many cases' logs (todo,
  // the overdue clocks): a server reads them in a few round trips rather
  // than one a case. This default calls history() for each.
  virtual std::vector<std::vector<LogEntry>> histories(const std::vector<std::string>& case_ids);
  // (seq, hash) of the newest row; (0, "") for an empty log.
  virtual std::pair<int64_t, std::string> chain_head() = 0;
  // How the database's own definitions (tables, columns, triggers, ...)
  // differ from the ones this store creates, one sentence each; empty when
  // they match. A changed definition can make readers see something other
  // than what the hash chain covers, or let the log be edited.
  virtual std::vector<std::string> schema_changes() = 0;

  // Access log: who looked at which case's personal data, when, and why.
  // The log is append-only: rows are never changed or deleted. `reason`
  // must not be empty (kUsage otherwise, nothing written): the engine asks
  // for it before anything is shown.
  virtual void record_access(const std::string& actor, const std::string& case_id,
                             const std::string& what, const std::string& reason, DateTime at) = 0;
  // The access records matching `filter`, in the order recorded (id).
  virtual std::vector<AccessRecord> access_records(const AccessFilter& filter) = 0;

  // Copying a whole database into this one (sopir/copy.h, `sopir db copy`):
  // each call writes what another database holds exactly as it is there,
  // with no registry row of its own (the copied log holds those), inside
  // the caller's transaction_all_or_nothing. Only into a database whose log
  // is empty (copy_database checks). Personal values carry their text (or
  // are erased: no text is kept); the texts are stored as this store keeps
  // them (sealed under its key when it has one). These defaults throw kUsage.
  //
  // A site as it is (the default site, which every database has, is kept).
  virtual void import_site(const Site& site);
  // A staff member as they are, with their log-in hash (database files);
  // a server login is kept only on a server (kUsage elsewhere: see copy.h).
  virtual void import_staff(const StaffMember& member, const std::optional<std::string>& passphrase_hash);
  // A published version as it is (version, current, who and when), with
  // the calendars pinned to it.
  virtual void import_procedure(const PublishedProcedure& procedure, const std::vector<CalendarSource>& calendars);
  // A case row as it is (version, last_seq, head_hash), with the texts of
  // its personal values. A parent case must be imported first.
  virtual void import_case(const CaseRecord& record);
  // A log row as it is: seq, record bytes, prev_hash and hash (rows in seq
  // order); `personal` holds the texts of its personal values.
  virtual void import_log_row(const ChainRow& row);
  // An access record as it is (id, who, when).
  virtual void import_access(const AccessRecord& record);
  // A copy of one site (SiteCopy), recorded in the copy's transaction;
  // only a database file holds one.
  virtual void import_site_copy(const SiteCopy& copy);
  // The SiteCopy a database file holds when it is a copy of one site;
  // nullopt for a whole database.
  virtual std::optional<SiteCopy> site_copy() { return std::nullopt; }
  // After the last row: the chain rule (Store::per_chain_from) and whether
  // seq may skip numbers (the source's seq_gaps_allowed), and the store's
  // own counters (the next seq, the registry head) set past what was copied.
  virtual void import_finish(int64_t per_chain_from, bool seq_gaps_allowed);

  // Moving another office's database into this one, which holds others
  // already (copy.h move_in). The moved log's case rows are imported as
  // they are (import_log_row, at its seq plus the move's offset); its
  // registry rows cannot join this registry chain as they are, so each is
  // issued again on it, and the rows as they were there are kept here as
  // the evidence of that database's own registry chain: `row.seq` is the
  // number the row has here (its seq there plus the offset), which no log
  // row takes. These defaults throw kUsage.
  virtual void import_moved_registry_row(const ChainRow& row);
  // The kept rows, oldest first. `visit` returns false to stop.
  virtual void scan_moved_registry(const std::function<bool(const ChainRow&)>& visit) { (void)visit; }
  // A move's first call, in its transaction: holds off every other writer
  // of the log until the transaction ends, so that the numbers the move
  // gives its rows stay its own (SQLite: the write transaction already
  // does), and lets this session write rows whose actors are the moved
  // office's staff (PostgreSQL: an administrator's session, for this
  // transaction only; the server refuses it any other session).
  virtual void begin_move_in() {}
};

struct StoreOptions {
  bool create = false;     // create the file and schema if missing
  bool read_only = false;  // audit: open read-only; no write ever reaches the file
  int busy_timeout_ms = 5000;
  bool synchronous_full = true;  // a reported transition survives a power cut
};

// Opens (or with options.create, creates) a sopir database. Throws kStorage
// for a file that is not a sopir database, one from a newer sopir
// (schema version above ours), or one that cannot be opened; kNotFound when
// the file does not exist and create is false. ":memory:" opens a throwaway
// in-memory database.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options);

// Opens (or with options.create, creates the schema in) a sopir database on
// a PostgreSQL server, given a libpq URL (postgresql://USER:PASSWORD@HOST:
// PORT/DATABASE). The database must exist; sopir creates its tables. Throws
// kUsage for a URL libpq cannot read; kNotFound for a missing or empty
// database (without create); kStorage for an unreachable server, a refused
// login, a database that is not sopir's or is from a newer sopir.
// busy_timeout_ms bounds lock waits (lock_timeout) and the connect timeout.
std::unique_ptr<Store> open_postgres_store(const std::string& url, const StoreOptions& options);
// Whether `location` names a server database (postgresql:// or postgres://).
bool is_server_url(const std::string& location);
// A postgresql:// or postgres:// URL opens the PostgreSQL store, anything
// else the SQLite file at that path.
std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options);
// The location for messages: a server URL without its password.
std::string display_location(const std::string& location);

}  // namespace sopir
