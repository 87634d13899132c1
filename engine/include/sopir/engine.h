// The case runtime: the one way a program changes cases.
//
// Engine ties the pieces together: it loads the pinned procedure of a case
// from the store, asks decide() (pure) what the step does, and writes the
// result through the Store in one transaction. Time and case ids come in
// through small interfaces so tests can fix them.
//
// Errors: sopir::Error. A step the procedure's rules refuse throws kRefused
// with the refusal's message (refusal_kind() tells which rule); unknown
// cases, staff or procedures kNotFound; a lost race kConflict; storage
// failures kStorage. Nothing is written when anything throws.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sopir/clocks.h"
#include "sopir/decide.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "sopir/login.h"
#include "sopir/procedure.h"
#include "sopir/store.h"
#include "sopir/text.h"

namespace sopir {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual DateTime now() = 0;
};
std::shared_ptr<Clock> system_clock();

// Short, typeable case ids: 6 characters of Crockford base32 (no I, L, O,
// U), shown as "K7F-3QX". Input is case-insensitive and may omit the dash.
class IdSource {
 public:
  virtual ~IdSource() = default;
  virtual std::string next() = 0;
};
std::shared_ptr<IdSource> random_ids();
// "k7f3qx" / "K7F-3QX" / "k7f 3qx" -> "K7F-3QX"; nullopt when not an id.
// Look-alikes decode as Crockford's base32 does: O as 0, I and L as 1.
std::optional<std::string> normalize_case_id(std::string_view text);
// The same for the start of an id, as typed so far: "k7f" -> "K7F",
// "k7f3" -> "K7F-3", "" -> ""; nullopt when it cannot start an id.
std::optional<std::string> normalize_case_id_prefix(std::string_view text);

// A refusal carried as an Error (kind kRefused).
class RefusedError : public Error {
 public:
  explicit RefusedError(Refusal refusal, std::string case_id = {})
      : Error(ErrorKind::kRefused, refusal.message),
        refusal_(std::move(refusal)),
        case_id_(std::move(case_id)) {}
  RefusalKind refusal_kind() const { return refusal_.kind; }
  const Refusal& refusal() const { return refusal_; }
  // The case refused, "" when none (opening a case).
  const std::string& case_id() const { return case_id_; }

 private:
  Refusal refusal_;
  std::string case_id_;
};

struct OpenRequest {
  std::string sop_id;
  std::string actor;
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string note;
  std::optional<DateTime> at;  // occurred-at; default: the clock
  // The site the case belongs to; "": the actor's only site (kUsage when
  // they belong to several, kRefused when to none).
  std::string site = {};
};

struct StepRequest {
  std::string case_id;
  std::string event;
  std::string actor;  // a staff id; ignored when `timer` is set
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string reason, note;
  std::optional<DateTime> at;
  bool override = false;
  // The timer pass firing the state's on_deadline event as the actor
  // "system". Only tick() (and programs embedding the engine that run their
  // own timer) set it; no staff member can act as "system".
  bool timer = false;
  // Optional: receives what decide() looked at (scenario-test coverage),
  // also when the step is refused.
  DecisionTrace* trace = nullptr;
};

struct LifecycleRequest {
  std::string case_id;
  LifecycleEvent event;
  std::string actor;
  std::string reason, note;
  std::optional<DateTime> at;
};

struct StepResult {
  CaseRecord after;
  LogEntry entry;
  // The cases a hand-off opened in the same transaction (`opens:`, one per
  // track, in the order written), if any.
  struct Opened {
    CaseRecord record;
    LogEntry entry;
  };
  std::vector<Opened> opened;
};

// A case with everything needed to show it.
struct CaseView {
  // Personal values as the actor sees them (privacy.h): shown only by
  // Engine::show() to an actor who may see them, masked otherwise.
  CaseRecord record;
  ProcedurePtr procedure;
  CaseSnapshot snapshot;           // the real values, for decisions only
  std::vector<CaseRecord> linked;  // its parent and the cases it opened
  Actor actor;                     // the actor asked about (empty id: none)
  std::vector<EventCheck> checks;  // for that actor
  bool personal_data_shown = false;
  // Its procedure's case-level clocks (sopir/clocks.h), from its log;
  // empty when the procedure has none.
  std::vector<ClockStatus> clocks;
};

// A request to see personal data: through what it is seen ("case show
// --reveal", recorded as the access's `what`) and the reason the person
// gave for needing to see it (must not be empty: every view of personal
// data carries a reason, docs/PRIVACY.md).
struct RevealRequest {
  std::string what;
  std::string reason;
};

// A case's log as one staff member may read it.
struct CaseHistory {
  CaseRecord record;  // personal values as in CaseView
  ProcedurePtr procedure;
  // Oldest first; personal values in changes as the reader sees them
  // (privacy.h: shown_value); personal inputs always kMaskedValue.
  std::vector<LogEntry> entries;
  bool personal_data_shown = false;
};

// Everything held on one person (an access request, UU 27/2022): their
// case with personal values shown, its steps, the cases linked to it by
// hand-offs, and every recorded view of their personal data (this export's
// own included).
struct PersonalExport {
  CaseView view;          // the case, personal values shown
  CaseHistory history;    // its steps, personal values shown
  // The cases linked by hand-offs (parents up to the first, the cases it
  // opened, recursively), each as the actor may see it: personal values
  // shown when a role of the actor may see them (then recorded), masked
  // otherwise (CaseHistory::personal_data_shown false).
  std::vector<CaseHistory> linked;
  // Linked cases at sites the actor does not read (readable_sites), left
  // out of `linked`: only their count is given.
  int linked_not_shown = 0;
  std::vector<AccessRecord> accesses;  // of the case and the linked cases
  DateTime at;                         // when the export was made
};

// One row of a batch (Engine::run_batch): its error when it failed.
struct BatchOutcome {
  std::vector<std::optional<Error>> errors;  // by row; nullopt: the row was done
  bool committed = false;                    // whether anything was written
  size_t refused() const;
  size_t written() const;  // rows done and committed
};

// An active case past the limit of one of its case-level clocks.
struct ClockOverdue {
  CaseRecord record;
  ProcedurePtr procedure;
  ClockStatus clock;  // procedure->clocks[clock.clock] is its definition
};

// An on_deadline event the timer pass fired: its case, its log row, the
// states it moved between, and the cases its hand-off opened (if any). Not
// the whole StepResult: a pass after an outage may fire thousands.
struct FiredDeadline {
  std::string case_id;
  int64_t seq = 0;  // the row written (LogEntry::seq), by "system"
  std::string event, from_state, to_state;
  std::vector<StepResult::Opened> opened;
};

// An active case past its deadline (CaseRecord::due_at), as the timer pass
// lists it: what a list of them shows, not the case's values.
struct DueCase {
  std::string id, sop_id, state;
  DateTime due_at;
};

// A deadline event the timer pass could not fire: the error it raised (a
// refusal by the rules, a case changed meanwhile, personal data it holds no
// key for), which names the case.
struct TickFailure {
  ErrorKind kind;
  std::string message;
};

struct TickReport {
  std::vector<FiredDeadline> fired;      // on_deadline events fired, in the order written
  std::vector<DueCase> overdue;          // still overdue afterwards, by due time, then id
  std::vector<TickFailure> failures;     // in the order tried; the others fired all the same
  std::vector<ClockOverdue> clocks_overdue;  // case-level clocks past their limit afterwards
  // Closed cases whose personal data is due for erasure under their
  // procedure's retention (Engine::retention_due); the timer pass only
  // counts them: a data protection officer erases (retention apply).
  int64_t retention_due = 0;
  // The sites the pass was held to (Engine::tick's `asked_by`); unset: every site.
  std::optional<std::vector<std::string>> sites;
};

// A closed case whose personal data falls under the retention rule of the
// procedure version it ran (`retention:`, sopir/retention.h).
struct RetentionItem {
  CaseRecord record;
  ProcedurePtr procedure;  // the case's pinned version, whose retention counts
  DateTime closed_at;      // when it was last closed (closed_at())
  DateTime due_at;         // closed_at + the retention period
  // The row that already erased its personal data (on request, or by an
  // earlier run of the rule); unset when it still holds it.
  std::optional<LogEntry> erased;
};

// What the retention rule found (Engine::retention_due) and did
// (Engine::apply_retention), as of `now`.
struct RetentionReport {
  DateTime now;
  std::vector<RetentionItem> due;             // due and still held, by due time then id
  std::vector<RetentionItem> already_erased;  // due, but erased before (skipped)
  // apply: due cases at sites the officer does not act on, left for those
  // sites' own data protection officers (not erased, not failures).
  std::vector<RetentionItem> other_sites;
  int64_t not_yet = 0;                        // closed under a retention, not yet due
  std::vector<StepResult> erased;             // apply: the rows written, in `due` order
  // apply: cases that could not be erased (they changed meanwhile), and why.
  std::vector<std::string> failures;
  bool cleaned = true;  // apply: the write-ahead log was emptied afterwards
  // The sites whose cases were read (the reader's, sites_held_to); unset: every site.
  std::optional<std::vector<std::string>> sites;
};

// The staff member `staff_id` as an Actor: kUsage when empty, kNotFound
// (with a "did you mean") when unknown, kRefused when deactivated or
// "system". Every command naming an actor checks it so, reads included.
Actor acting_staff(Store& store, const std::string& staff_id);

// "no procedure 'X' is published" in `lang` ("": the process's), with the
// nearest of `published` (sop ids, repeats allowed), else all of them when
// there are at most 30: the one refusal for a procedure id nothing is
// published under (`case open`, `sop show`, `migrate plan`, `std export`).
std::string no_procedure_message(const std::string& sop_id, const std::vector<std::string>& published,
                                 std::string_view lang = {});
// kNotFound with that message when nothing is published under `sop_id`: for
// a filter (`case list --sop`, `audit log --sop`) that would otherwise list
// nothing without a word.
void require_procedure(Store& store, const std::string& sop_id);
// The states of every published version of `sop_id` (of every published
// procedure when it is empty), sorted, each once: what a list filtered by
// state (`case list --state`, `audit log --state`) may name.
std::vector<std::string> published_states(Store& store, const std::string& sop_id);

// Sites (docs/DEPLOY.md "Sites"). A staff member reads and acts on the
// cases of the sites they belong to; `national` and `auditor` staff read
// every site's cases (personal data masked: it is shown only to members of
// the case's site), and `auditor` staff act on none. Administrators are
// held to their sites for cases like everyone (they administer staff and
// sites). The timer ("system") is not held.
//
// Whether `who` belongs to `site`.
bool belongs_to_site(const Actor& who, const std::string& site);
// Whether `who` may act on the cases of `site`: a member who is not an
// auditor (the timer and an empty actor always may).
bool may_act_at_site(const Actor& who, const std::string& site);
// What keeps `who` from seeing the personal data of a case at `site` run
// by `procedure`, checked before any reveal (`case show --reveal`, `audit
// case --reveal`, `audit log --reveal`, the HTCDS export): kSite, a case
// of a site they do not belong to (national and auditor staff see other
// sites' personal data masked); kRole, none of the procedure's
// pii_visible_to roles; kNone when they may.
enum class RevealBar { kNone, kSite, kRole };
RevealBar reveal_bar(const Actor& who, const std::string& site, const Procedure& procedure);
// The sites whose cases `who` may read: nullopt for every site
// (administrators, national and auditor staff, as row-level security lets
// them on a server: docs/DEPLOY.md "Sites"), else the sites they belong to.
// Reading a case is not seeing its personal data (reveal_bar).
std::optional<std::vector<std::string>> readable_sites(const Actor& who);
// readable_sites(), and nullopt too for a member of every site `store`
// has: the sites a list or a pass over the log is held to for `who`.
std::optional<std::vector<std::string>> sites_held_to(Store& store, const Actor& who);
// kRefused, saying who may, unless `who` may read (`acting` false) or act
// on (`acting` true) `record`. No check for an empty actor (a read
// without --as on a database without log-in) or the timer.
void check_site_access(const Actor& who, const CaseRecord& record, bool acting);
// The same for reading the case `case_id` as stored in `store`: nothing
// when it has no row (whether it must have one is the caller's to say).
void check_site_access(Store& store, const Actor& who, const std::string& case_id);

// A case moved to another site (Engine::transfer_case).
struct TransferRequest {
  std::string case_id;  // as typed
  std::string actor;
  std::string to_site;
  std::string reason;
  std::string note = {};
};

// One case the acting staff member can move now (Engine::todo).
struct TodoItem {
  CaseRecord record;
  ProcedurePtr procedure;  // the case's pinned version (state labels)
  bool overdue = false;    // active and past its due time, or past a clock's limit
  std::vector<std::string> clocks_overdue;  // ids of its clocks past their limit
  // The events of the current state this actor may fire now, in the
  // procedure's order. A check's refusal, when set, says what is still to
  // give first: kMissingField (its `missing` fields) or kReasonRequired.
  std::vector<EventCheck> events;
};

struct TodoList {
  std::vector<TodoItem> items;  // at most the limit asked for
  int64_t more = 0;             // cases left out by the limit
};

class Engine {
 public:
  Engine(std::unique_ptr<Store> store, std::shared_ptr<Clock> clock = system_clock(),
         std::shared_ptr<IdSource> ids = random_ids());

  // The store underneath, for programs that embed the engine and for
  // tests. The sopir program itself goes through the calls below.
  Store& store() { return *store_; }
  Clock& clock() { return *clock_; }
  // The language ("en", "id") refusals and event checks name enum values
  // in (by their labels); "" (the default): by their ids.
  void set_language(std::string lang) { lang_ = std::move(lang); }

  // A new database's first administrator, with the roles admin (staff) and
  // policy (procedures). kUsage for an unusable id; kConflict when the id
  // is taken.
  static StaffMember add_first_administrator(Store& store, const std::string& id,
                                             const std::string& name);
  // The same with their passphrase (sopir/login.h), in one transaction: a
  // database made so needs a log-in from then on. kUsage for an unusable
  // passphrase (nothing written).
  static StaffMember add_first_administrator(Store& store, const std::string& id, const std::string& name,
                                             std::string_view passphrase, KdfCost cost);
  // On a server database: the first administrator, whose server login is
  // the session's own role (so the server names every step's actor from
  // then on), in one transaction; a superuser's session gives them none
  // (the returned member's login is "" then).
  static StaffMember add_first_administrator_on_server(Store& store, const std::string& id,
                                                       const std::string& name);

  // Validates (strictly unless `strict` is false) and publishes a procedure
  // file. Throws kRefused listing the errors when it does not validate.
  // A calendar the procedure names is read from the folder `calendars`
  // beside the file (publish_source: from `calendars` only) and pinned with
  // the version; strict publishing also refuses a working-day deadline that,
  // counted from today, runs past the calendar's range (calendar-range).
  // A text published already adds no version: its row comes back with
  // `already_published` set (its compiled form is saved again). A text
  // whose `migrate: from:` names a version of which nothing is published
  // is published all the same (a national file may name versions an office
  // never had): its row says which (`migrate_from_unpublished`) when other
  // versions of the procedure are published (a first publication: nothing).
  PublishedProcedure publish(const std::string& file, const std::string& actor, bool strict = true);
  PublishedProcedure publish_source(const std::string& source, const std::string& name,
                                    const std::string& actor, bool strict = true,
                                    const std::vector<CalendarSource>& calendars = {});
  // Publishes several files in one transaction: all of them or none.
  // Every error names the file it is about once. A procedure that hands
  // cases on to another of the files (`opens:`) is published after it,
  // whatever order the files are given in.
  std::vector<PublishedProcedure> publish_all(const std::vector<std::string>& files,
                                              const std::string& actor, bool strict = true);
  // Every published version, with case counts (Store::procedures).
  std::vector<PublishedProcedure> procedures();

  // The compiled procedure of a version (cached; kNotFound if unknown).
  ProcedurePtr procedure(const std::string& sha256);
  ProcedurePtr current_procedure(const std::string& sop_id);
  // The procedures cached so far (for a process about to exit that keeps
  // them instead of freeing each: src/main.cc).
  std::vector<ProcedurePtr> cached_procedures() const;

  // The acting staff member; kNotFound when unknown, kRefused when inactive.
  Actor actor(const std::string& staff_id);

  // Log-in (sopir/login.h) at the engine's clock: whether this database
  // needs one, the wait before the next attempt of `staff_id`, the log-in
  // itself (kDenied when refused, the failure recorded), and setting a
  // passphrase (one's own, or anyone's by an administrator).
  bool login_required();
  int64_t login_delay(const std::string& staff_id);
  Actor log_in(const std::string& staff_id, std::string_view passphrase);
  void set_passphrase(const std::string& by, const std::string& staff_id, std::string_view passphrase,
                      KdfCost cost);

  // Staff administration, by an active staff member with the role admin.
  // Ids are slugs ([a-z0-9_.-]); "system" is reserved for the timer.
  void add_staff(const std::string& admin, const StaffMember& member);
  // The same with the new member's first passphrase (sopir/login.h), in one
  // transaction; kUsage for an unusable passphrase, nothing written.
  void add_staff(const std::string& admin, const StaffMember& member, std::string_view passphrase, KdfCost cost);
  void deactivate_staff(const std::string& admin, const std::string& staff_id);
  // Server log-in (PostgreSQL, issue #13): who the server logged this
  // session in as (Store::session_identity).
  SessionIdentity session_identity();
  // Gives `staff_id` the server login role `login` (by an administrator),
  // creating the role when the server has none of that name. Returns the
  // role's generated first password when it was created (shown once, never
  // stored by sopir), "" when an existing role was used. kUsage on a
  // database file (its staff log in with a passphrase).
  std::string set_staff_login(const std::string& admin, const std::string& staff_id, const std::string& login);
  // Seals a server database's database key under key file `key_file_id`
  // (loaded: sopir/key_file.h), by active administrator `admin`
  // (Store::seal_database_key): the first key makes the database key and
  // encrypts every clear text; a later one replaces the old key
  // file. `rotate` says which is meant: kConflict for a first key on a
  // database that has one, kUsage for a rotation on one that has none.
  // kRefused for anyone but an administrator.
  void seal_database_key(const std::string& admin, const std::string& key_file_id, bool rotate);
  // add_staff and set_staff_login in one transaction.
  std::string add_staff(const std::string& admin, const StaffMember& member, const std::string& login);
  // Grants (`held`) or removes a role. kConflict when it is already so;
  // kRefused for removing a member's only role or one's own admin role.
  void set_staff_role(const std::string& admin, const std::string& staff_id, const std::string& role,
                      bool held);
  std::vector<StaffMember> staff();
  // Sites, by an administrator: add_site (kUsage for an unusable id or an
  // empty name, kConflict for an id taken); set_staff_site makes a member
  // join (`held`) or leave a site (kNotFound for an unknown member or
  // site, kConflict when it is already so).
  void add_site(const std::string& admin, const Site& site);
  std::vector<Site> sites();
  void set_staff_site(const std::string& admin, const std::string& staff_id, const std::string& site, bool held);
  // Moves a case to another site as a logged step of its chain (kind
  // transfer, the reason required): by an administrator, or by staff (not
  // auditors) who belong to both the case's site and the one it moves to
  // (on a server the moved row must stay readable to the session). kUsage for no reason or the case's own site, kNotFound
  // for an unknown site or case, kRefused for an actor who may not.
  StepResult transfer_case(const TransferRequest& request);
  // kNotFound (with "did you mean") for an unknown id.
  StaffMember staff_member(const std::string& staff_id);

  // Cases matching the filter (Store::cases).
  std::vector<CaseRecord> cases(const CaseFilter& filter);
  // How many cases match the filter, its limit ignored (Store::count_cases).
  int64_t count_cases(const CaseFilter& filter);
  // Ids of cases starting with what was typed so far, read as
  // normalize_case_id_prefix() does ("k7f" finds K7F-3QX), in order; with
  // `sites`, only those sites' cases (CaseFilter::sites).
  std::vector<std::string> case_ids(
      const std::string& typed_prefix, int64_t limit,
      const std::optional<std::vector<std::string>>& sites = std::nullopt);

  StepResult open_case(const OpenRequest& request);

  // Many openings in one Store::transaction (case import): each open() is
  // open_case() -- same decide_open() rules, same errors -- except that the
  // acting staff member and the procedure's current version are looked up
  // once per (actor, sop id), at the first open() that names them, not once
  // per case. A look-up that fails (unknown or inactive staff, unpublished
  // procedure) fails every later open() with the same actor or sop id with
  // the same error; storage errors are not remembered.
  // Use an opener only inside one write transaction (no other writer can
  // change the staff or publish meanwhile); the Engine must outlive it.
  class Opener {
   public:
    explicit Opener(Engine& engine) : engine_(engine) {}
    StepResult open(const OpenRequest& request);

   private:
    template <typename T>
    struct Looked {
      std::string key;
      bool done = false;
      T value;
      std::exception_ptr error;
    };
    Engine& engine_;
    Looked<Actor> actor_;
    Looked<ProcedurePtr> procedure_;
  };

  StepResult advance(const StepRequest& request);
  // advance() on a case the caller already holds (for embedding and
  // batches): `held` as find_case() returned it or as a StepResult's
  // `after` left it. request.case_id is ignored. Reads neither the case nor
  // its procedure again (the procedure is cached by version); the write is
  // still checked against the stored row: kConflict, nothing written, when
  // the case changed since `held` was read.
  StepResult advance_held(const CaseRecord& held, const StepRequest& request);
  StepResult lifecycle(const LifecycleRequest& request);

  // Erasure of a case's personal data (docs/PRIVACY.md), by two different
  // active staff members with the role data_protection. request_erasure
  // writes a case row of kind kErasure ("erase-requested", with the reason);
  // confirm_erasure, by another such member, writes the "erased" row and,
  // in the same transaction, destroys the case's key and the text of every
  // personal value it held (Store::erase_personal_data); the digests stay,
  // so the chain verifies as before. `cleaned` says whether the write-ahead
  // log was emptied too (Store::erased_cleanup). Nothing is written when
  // they throw: kNotFound for an unknown case; kRefused for an actor
  // without the role, or confirming their own request, or a confirmation
  // with no request; kUsage for a request without a reason, or a store that
  // cannot erase (a server database); kConflict when the case's personal
  // data is already erased, or a request is already waiting.
  StepResult request_erasure(const std::string& typed_case, const std::string& actor, const std::string& reason);
  StepResult confirm_erasure(const std::string& typed_case, const std::string& actor, bool* cleaned = nullptr);

  // The retention rule (docs/PRIVACY.md "Retention"). retention_due lists,
  // as of clock().now(), every closed case of a procedure version with a
  // `retention:` whose period since closing has run out (writes nothing;
  // reads the closed cases kCasesPerRead at a time, in one read snapshot).
  // apply_retention, by an active staff member with the role
  // data_protection, erases each due case still holding its personal data
  // as confirm_erasure does (same row kind and event, the same destruction
  // of key and texts), one transaction per case, without a second officer:
  // the approved, pinned procedure is the authority. Each row's inputs name
  // the basis, the period and the close time (retention_input), and its
  // reason is "retention: PERIOD"; audit verify checks that it was due. A
  // case that changed meanwhile (reopened, erased by someone else) is left
  // and reported in `failures`. With `dry_run` nothing is written (the
  // checks run all the same). Throws before writing anything: kRefused for
  // an actor without the role, kUsage when the store cannot erase.
  // `reader`, when named, is held to the sites they read (sites_held_to;
  // RetentionReport::sites says which); "": every site.
  RetentionReport retention_due(const std::string& reader = {});
  RetentionReport apply_retention(const std::string& actor, bool dry_run);

  // Writes a checkpoint (Store::checkpoint) by `actor`: an active staff
  // member, or "system" for the timer pass.
  LogEntry checkpoint(const std::string& actor);

  // The timer pass: fires each due `on_deadline` event as the actor
  // "system" and lists overdue cases, as of clock().now(); counts the cases
  // due under a retention (erases nothing). The due cases are listed first
  // (kCasesPerRead at a time, their ids and due times kept) and fired by due
  // time, then id, each read again just before it fires: one a staff member
  // moved meanwhile is fired only if it is still due in a state with an
  // on_deadline event, and a case a hand-off opened during the pass waits
  // for the next.
  // `trace_for` may pick, per case, a DecisionTrace to fill (scenario-test
  // coverage traces only the procedure under test); null: no trace.
  // `asked_by`: the staff member who runs the pass ("" or "system": the
  // timer). An auditor is refused before anything is read (kRefused:
  // auditors write nothing); a member held to some sites (sites_held_to)
  // fires, lists and counts only those sites' cases, as their login does on
  // a server (TickReport::sites says which).
  using TraceFor = std::function<DecisionTrace*(const CaseRecord& record)>;
  TickReport tick(const TraceFor& trace_for = {}, const std::string& asked_by = {});

  // The active cases in which `actor_id` may fire an event now (as
  // check_events() sees it at clock().now()): overdue first, then by due
  // time, cases without one last; ties by opening time, then id. At most
  // `limit` items (0: all); `more` counts the others. kNotFound for an
  // unknown staff member, kRefused for an inactive one.
  TodoList todo(const std::string& actor_id, int64_t limit = 0);
  // How many cases todo, overdue_clocks() and retention_due() read at once,
  // their logs (and todo's, the cases they opened) by one store call each:
  // those logs are held in memory together.
  static constexpr size_t kCasesPerRead = 500;

  // Case-level clocks (`clocks:`): where each clock of a case stands, from
  // its log (empty when its procedure has none); and every active case
  // with a running clock past its limit at clock().now(), by due time (ties
  // by procedure, then as Store::cases() orders the cases). Only cases of
  // procedure versions that declare clocks are read, kCasesPerRead at a
  // time; with `sites`, only those sites' cases.
  std::vector<ClockStatus> clocks(const CaseRecord& record);
  std::vector<ClockOverdue> overdue_clocks(
      const std::optional<std::vector<std::string>>& sites = std::nullopt);

  // A case for deciding what to do with it: personal values masked,
  // nothing recorded. `actor` may be "" (no checks).
  CaseView view(const std::string& case_id, const std::string& actor);
  // A case for showing to `actor`. Without `reveal` personal values are
  // masked and nothing is recorded. With it: kRefused when its reason is
  // empty or no role of the actor may see the procedure's personal data
  // (nothing written); otherwise personal values are shown and, when the
  // case holds any, the access is recorded (Store::record_access, with the
  // request's what and reason) before anything is returned.
  CaseView show(const std::string& case_id, const std::string& actor, const RevealRequest* reveal = nullptr);
  // A case's log for `actor`, personal values as show() treats them.
  CaseHistory history(const std::string& case_id, const std::string& actor,
                      const RevealRequest* reveal = nullptr);
  // Everything held on the person of case `case_id` (PersonalExport), for
  // `actor`, under show()'s rules for `reveal` (reason given, a role that
  // may see the case's personal data; kRefused otherwise, nothing
  // written). Every case whose personal data it shows gets one access row
  // (reveal.what, reveal.reason), all in one transaction, written before
  // the access records are read, so the export lists itself.
  PersonalExport export_personal(const std::string& case_id, const std::string& actor,
                                 const RevealRequest& reveal);
  // What `view.actor` could do with `event` now: the view's check for it,
  // or RefusedError with decide()'s refusal when the procedure has no such
  // event or it cannot be fired from the case's state.
  EventCheck check_event(const CaseView& view, const std::string& event);
  // The case id as stored, from what a person typed; kNotFound (with a
  // "did you mean" when close: among the cases `reader`, when named, may
  // read) otherwise. Every call taking a case id resolves it this way, once.
  std::string resolve_case_id(const std::string& typed, const std::string& reader = "");

  // Many rows that stand or fall together, in one transaction. `row(i)`
  // does row i through this engine's calls; a row that throws sopir::Error
  // is refused and its error kept. Unless `partial`, one refused row undoes
  // every row (committed false) and rows take no savepoint each
  // (Store::transaction_all_or_nothing); with `partial` each row is its own
  // savepoint, so a refused row leaves nothing behind and the good rows
  // commit. Storage errors and conflicts end the whole batch: they are
  // thrown, and nothing is written. `done(i)` is called after each row.
  BatchOutcome run_batch(size_t rows, bool partial, const std::function<void(size_t)>& row,
                         const std::function<void(size_t)>& done = {});

  // Typed values of a case (by field index) under its procedure. A locked
  // personal value (encrypted, no key held) stands in as present unless a
  // rule may read it: kDenied then. With `event` (an index), only the rules
  // of that event's steps from the case's state count (guards, `set:`,
  // hand-off copies); without, every rule of the procedure. `state`: the
  // state the event is decided in, when not the record's (a hand-off reads
  // the case after its step).
  static std::vector<Value> decode_data(const Procedure& procedure, const CaseRecord& record,
                                        int event = -1, int state = -1);

 private:
  PublishedProcedure publish_loaded(const LoadResult& loaded, const std::string& file,
                                    const std::string& actor_id);
  // The three below take `versions`: every published version of
  // `procedure`'s sop id (Store::versions_of), read once per file before it
  // is published.
  // Refuses (kRefused, every problem located) a procedure whose migrate:
  // section does not fit a published version it names.
  void check_migration_published(const Procedure& procedure, const std::string& file,
                                 const std::vector<PublishedProcedure>& versions);
  // kRefused when `procedure` (not yet published) says a `version:` no
  // higher than a published version of its sop says: `migrate: from:` and
  // the versions shown name what the file says, so two versions may not
  // say the same number, nor an older one a higher.
  void check_version_order(const Procedure& procedure, const std::string& file,
                           const std::vector<PublishedProcedure>& versions);
  // Fills `published.migrate_from_unpublished` and `migrate_from_published` for
  // `procedure`, published as `published` (`versions` as read before it was).
  void note_unpublished_migration_sources(const Procedure& procedure, PublishedProcedure& published,
                                          const std::vector<PublishedProcedure>& versions);
  PublishedProcedure publish_checked(const LoadResult& loaded, const std::string& file,
                                     const Actor& who);
  // A new case and its open log row, decided and built but not yet written.
  struct Opening {
    CaseRecord record;
    LogEntry entry;
  };
  Opening plan_open(const Procedure& procedure, const Actor& actor,
                    const std::vector<std::pair<std::string, std::string>>& inputs,
                    const std::string& note, DateTime at, DateTime now, bool by_handoff);
  std::string handoff_site(const Procedure& procedure, const TransitionDef& transition, const HandOff& handoff,
                           const CaseRecord& parent, const std::vector<Value>& data);
  void check_handoff_sites(const Procedure& procedure, std::vector<std::string>& problems);
  // `parent`: the case after the step, which left `from_state`.
  Opening plan_handoff(const Procedure& procedure, const TransitionDef& transition, int from_state,
                       const HandOff& handoff, const CaseRecord& parent, const Actor& actor,
                       DateTime at, DateTime now);
  StepResult open_resolved(const Procedure& procedure, const Actor& actor,
                           const OpenRequest& request);
  // The site a case `who` opens belongs to, `asked` or their only site.
  std::string opening_site(const Actor& who, const std::string& asked);
  std::string new_case_id();
  StepResult advance_in_transaction(const CaseRecord& record, const StepRequest& request);
  // `history`: the case's log when the caller has read it already (null:
  // read here when the state's guards need it).
  // `children`: the cases it opened, when read already (Store::children_of).
  // `event`: the event about to be decided, as decode_data() takes it.
  CaseSnapshot snapshot(const Procedure& procedure, const CaseRecord& record,
                        const std::vector<LogEntry>* history = nullptr,
                        const std::vector<ChildCase>* children = nullptr, int event = -1);
  // The events a case's log fired (four-eyes reads them), as indices in
  // `procedure` with their actors, appended to `fired`.
  void fired_events(const Procedure& procedure, const std::vector<LogEntry>& history,
                    std::vector<std::pair<int, std::string>>& fired);
  // What Engine::snapshots() reads of a part of the cases, by the part's
  // positions: each case's snapshot, and its log when its procedure has
  // clocks (empty otherwise).
  struct PartRead {
    std::vector<CaseSnapshot> snapshots;
    std::vector<std::vector<LogEntry>> logs;
  };
  // snapshot() of each of `records` (under procedures[i]), their logs and
  // the cases they opened read by one store call each (Store::histories,
  // Store::children_of), so a server answers in a few round trips, not a
  // few a case.
  PartRead snapshots(const std::vector<CaseRecord>& records,
                     const std::vector<ProcedurePtr>& procedures);

  // The case a person typed, read once; kNotFound as resolve_case_id().
  CaseRecord find_typed_case(const std::string& typed, const std::string& reader);
  [[noreturn]] void throw_no_case(const std::string& typed, const std::optional<std::string>& id,
                                  const std::string& reader);
  // The erasure rows of a case, for erase requests and confirmations.
  StepResult write_erasure_row(const CaseRecord& record, const Actor& who, const std::string& event,
                               const std::string& reason, const std::vector<std::string>& digests,
                               const std::vector<std::pair<std::string, std::string>>& inputs = {});
  // The retention rule's one erasure (apply_retention): re-reads the case
  // in the transaction; throws kConflict when it is no longer due or held.
  StepResult erase_by_retention(const RetentionItem& item, const Actor& who);
  // retention_due()'s pass, in one read snapshot: `due(item)` for each
  // closed case whose retention has run out as of `now` (its personal data
  // erased or still held), in no order; `not_yet` counts the others. The
  // timer pass counts the due ones without holding the list.
  void each_retention_due(DateTime now, const std::function<void(RetentionItem&)>& due,
                          int64_t& not_yet, const std::optional<std::vector<std::string>>& sites);
  // When a step or an opening happened: `given` (--at), or `now` when it is
  // unset. kRefused (bad input) when it is later than `now`, or, for a step
  // of `record`, earlier than the case's newest row (read only then).
  DateTime occurred_at(const std::optional<DateTime>& given, DateTime now,
                       const CaseRecord* record);
  // tick()'s lists: the active cases whose deadline has passed as of `now`,
  // read kCasesPerRead at a time in one read snapshot, by due time, then id
  // (as Store::cases() lists the overdue); with `firing`, only those whose
  // state has an on_deadline event (due_event()).
  std::vector<DueCase> due_cases(DateTime now, bool firing,
                                 const std::optional<std::vector<std::string>>& sites);
  // The on_deadline event tick fires in `record` as of `now`: its state's,
  // when it is active and due at or before `now`; -1 otherwise.
  static int due_event(const Procedure& p, const CaseRecord& record, DateTime now);
  CaseView make_view(const std::string& case_id, const std::string& actor, const RevealRequest* reveal);
  // kRefused unless `reveal` has a reason and `who` may see personal data
  // of `record`'s procedure.
  void check_reveal(const CaseRecord& record, const Procedure& procedure, const Actor& who,
                    const RevealRequest& reveal);
  // A case's log as `who` reads it; personal values shown when `shown`.
  CaseHistory history_as(const CaseRecord& record, bool shown);
  // Runs `body` in one read snapshot of the store (Store::read_snapshot):
  // a list that reads every active case sees one moment, and takes the
  // store's read lock once rather than once per query. Nothing is written
  // meanwhile: procedure() leaves an older form as it is.
  void reading(const std::function<void()>& body);
  // Every case matching `filter` (its limit and after_id are set here),
  // kCasesPerRead at a time in id order, with its log: `fn(record, p, log)`
  // for each case whose procedure version `p` `wanted` keeps, the logs of a
  // part read by one Store::histories call. Run inside reading().
  void each_case_with_log(CaseFilter filter, const std::function<bool(const Procedure&)>& wanted,
                          const std::function<void(CaseRecord&, const ProcedurePtr&,
                                                   const std::vector<LogEntry>&)>& fn);
  // todo()'s items, unsorted: with a `limit`, the first `limit` of them in
  // todo()'s order (kept as a heap, the last first) and `more` the others.
  TodoList todo_read(const std::string& actor_id, int64_t limit);

  std::unique_ptr<Store> store_;
  std::shared_ptr<Clock> clock_;
  std::string lang_;
  std::shared_ptr<IdSource> ids_;
  std::map<std::string, ProcedurePtr> compiled_;
  bool reading_ = false;  // inside reading()
};

}  // namespace sopir
