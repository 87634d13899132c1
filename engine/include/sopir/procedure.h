// A compiled procedure: the immutable, integer-indexed form of one SOP file.
//
// The loader (loader.h) is the only producer. Names of states, events,
// fields and roles are resolved to indices once; guard and `set`
// expressions are parsed and type-checked once. A Procedure never changes
// after loading, so one instance may be shared by any number of threads.
// Its source text and SHA-256 stay with it: a case pins its procedure by
// that hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/calendar.h"
#include "sopir/value.h"

namespace sopir {

class Expr;  // a parsed, type-checked expression (engine/src/lang/expr/expr.h)

// Where something was written in the YAML source; 1-based, 0 when unknown.
struct SourcePos {
  int line = 0;
  int column = 0;
};

// A label or description: one text per language ("en", "id", ...). A plain
// YAML string is stored under the key "" and serves every language.
//
// Kept as one string, the languages in code order, each as its code's
// length (one byte), the code, the text's length (four bytes) and the text:
// a procedure holds hundreds of these, and reading a compiled form then
// costs one allocation a text instead of a map's nodes and their strings.
class Text {
 public:
  Text() = default;
  Text(std::initializer_list<std::pair<std::string_view, std::string_view>> texts);

  // The text for `lang`, else English, else the plain text, else any; ""
  // when there is none.
  std::string get(std::string_view lang) const;
  bool empty() const { return packed_.empty(); }
  // Whether there is a text for exactly `lang`.
  bool has(std::string_view lang) const { return find(lang).has_value(); }
  // Sets the text for `lang` (a code of at most 255 bytes), replacing one
  // there was.
  void set(std::string_view lang, std::string_view text);
  // (code, text) in code order; views into this Text.
  std::vector<std::pair<std::string_view, std::string_view>> entries() const;
  // Room for `bytes` of codes and texts (a hint, before several set()s).
  void reserve(size_t bytes) { packed_.reserve(bytes); }

  bool operator==(const Text& other) const { return packed_ == other.packed_; }
  bool operator!=(const Text& other) const { return packed_ != other.packed_; }

 private:
  std::optional<std::string_view> find(std::string_view lang) const;
  std::string packed_;
};

// Where a rule comes from (`source:`): the regulation and article, or the
// practice, that policy staff cite for it, as written ("UU 21/2007 Pasal 26",
// "Permen P2MI 32/2025 Pasal 39 ayat (2)"). Shown by `sop show`, in refusals
// and in `case why`; no effect on what decide() allows.
using Sources = std::vector<std::string>;

class CompiledPattern;  // a pattern compiled once (engine/src/base/pattern.h)

// What checking a value of a field's own type against its min, max and
// pattern comes to, worked out once (Procedure::build_field_checks()): the
// bounds as two numbers instead of two optional Values to visit, and
// whether there is anything to check at all.
struct FieldChecks {
  bool built = false;  // false: not worked out, the checks read min, max and pattern
  // Whether there is a bound or a pattern to check: a field without one
  // takes any value of its type (rules/field_bounds.cc).
  bool bounded = false;
  // A bound is the step's own day or time (FieldDef::min_now, max_now):
  // checked against the step's time, not held in low/high.
  bool relative = false;
  // Min and max as the int64 a value of the field's type holds (an int; a
  // date's days; a date-time's or a duration's seconds; a string's length
  // in characters); the lowest and highest int64 where none applies.
  int64_t low = INT64_MIN, high = INT64_MAX;
};

struct FieldDef {
  // What checking an input reads comes first, so that it shares the
  // struct's first cache line: the type, the checks, the enum's values.
  Type type = Type::kString;
  // type, min, max and pattern worked out for the checks, built with compiled_pattern and
  // like it neither encoded nor compared. Unbuilt (the default): worked out
  // for each value; a field changed by hand must be built again, or this reset.
  FieldChecks checks;
  std::vector<std::string> values;  // enum (and set) values, in declared order
  // `pattern` compiled, by Procedure::build_field_checks() (the loader and
  // the codec call it); null before, and without a pattern. It follows from
  // `pattern`: neither encoded nor compared. A field without it (a procedure
  // put together by hand) compiles its pattern for each check; one whose
  // pattern is changed by hand must be built again, or this reset.
  std::shared_ptr<const CompiledPattern> compiled_pattern;
  std::string id;
  std::vector<Text> value_labels;    // by value index, same size as values (may be empty Texts)
  bool pii = false;                  // personal data: masked, erasable, hashed salted
  std::optional<Value> min, max;     // int, date, datetime, duration; for string: length
  // `min: today` / `max: today` (a date field) or `now` (a datetime): the
  // bound is the day or moment of the step that gives the value (its `at`),
  // so that a date of birth or of arrival cannot lie in the future; min or
  // max itself is then unset.
  bool min_now = false, max_now = false;
  std::optional<std::string> pattern;  // ECMAScript regex a string must match in full
  Text label;
  Sources sources;
  SourcePos pos;
};

// A field's checks worked out from its type, min, max and pattern: what
// Procedure::build_field_checks() stores in FieldDef::checks. Unbuilt
// (`built` false) for bounds these do not hold as numbers (an enum's min or
// max as text), which the checks then read themselves.
FieldChecks field_checks(const FieldDef& field);

struct StateDef {
  // What a step reads of the state it enters comes first, so that it shares
  // the struct's first cache line.
  bool initial = false;
  bool terminal = false;
  int on_deadline = -1;              // event index fired by the timer pass, or -1
  std::optional<Duration> deadline;  // time allowed in this state
  // Other kinds of deadline (workflows/README.md, "Deadlines"):
  // `N working days` counts days the procedure's calendar marks working;
  // `... from FIELD` counts from that date field's day (00:00 UTC) instead
  // of from entering the state.
  int64_t working_days = 0;  // > 0: a working-day deadline (then `deadline` is unset)
  int deadline_from = -1;    // field index of the anchor, or -1
  bool has_deadline() const { return deadline.has_value() || working_days > 0; }
  std::string id;
  Text label;
  Text description;  // the SOP text staff read at this step
  std::string deadline_text; // as written, for messages and diagrams
  Sources sources;
  SourcePos pos;
};

struct Assignment {
  int field = -1;
  std::shared_ptr<const Expr> expr;  // evaluates to the field's type
  std::string text;                  // as written, for messages and diagrams
  bool constant = false;             // `text` is a plain value of the field's type, not an expression
};

// A hand-off: the transition also opens a case in another procedure, in the
// same transaction, with values copied from this case (`opens:`). A step
// may open several at once (`opens:` a list): each is a track, a case of its
// own procedure that runs beside this one; all open or none does.
struct HandOff {
  std::string sop;  // the procedure the new case follows
  // (field of the new case, field index in this procedure) to copy.
  std::vector<std::pair<std::string, int>> copy;
  // (field of the new case, value as text) to give it as well.
  std::vector<std::pair<std::string, std::string>> set;
  // Where the new case is opened (docs/DEPLOY.md "Sites"): the site `site`
  // names (`site: ID`), or the one the value of field `site_field` of this
  // case names after the step (`site_from: FIELD`, given at the step);
  // neither: the site this case is at.
  std::string site;
  int site_field = -1;
  SourcePos pos;
};

struct TransitionDef {
  // What decide() reads of every candidate comes first, so that it shares
  // the struct's first cache lines: the scalars, the guard, then the lists
  // in the order the checks read them.
  int index = -1;                    // position in Procedure::transitions
  int event = -1;                    // index into Procedure::events
  int to = -1;                       // -1 when `stays`
  // `to: '*'`: the case stays in the state it is in, and that state's
  // deadline runs on (a step such as sending a referral, taken from any state).
  bool stays = false;
  bool reason_required = false;
  // `roles` and `override_roles` as a bit per role index, filled by
  // Procedure::build_candidate_table() when the procedure has at most 64
  // roles (`role_bits_built`); decide() then reads no list to match roles.
  bool role_bits_built = false;
  uint64_t role_bits = 0;
  uint64_t override_role_bits = 0;
  std::shared_ptr<const Expr> guard;  // null: always allowed
  std::vector<int> requires_fields;  // must hold a value after inputs are applied
  std::vector<Assignment> set;       // applied after inputs
  std::vector<int> distinct_from;    // four-eyes: event indices
  std::vector<int> roles;            // who may fire it (role indices)
  std::vector<int> override_roles;   // may force it past a false guard, with a reason
  std::vector<int> accepts_fields;   // may be given as inputs (requires are too)
  std::vector<int> from;             // state indices ("*" already expanded)
  std::string guard_text;
  std::vector<HandOff> opens;        // cases this step opens in other procedures (tracks)
  Text label;
  Text description;
  Sources sources;
  SourcePos pos;

  // The state a case in `from_state` goes to.
  int target(int from_state) const { return stays ? from_state : to; }
};

struct ClosureReason {
  std::string id;
  Text label;
};

// A case-level clock (`clocks:`): time that spans several states, such as
// the whole shelter stay. It starts when the case enters one of `start`
// (or is opened, `start_at_open`), stops when it enters one of `stop` or
// closes, and is paused while the case is on hold. Its limit is written like
// a state's deadline. Derived from the case's log (sopir/clocks.h), never
// stored.
struct ClockDef {
  std::string id;
  Text label;
  Text description;
  std::vector<int> start;      // state indices
  bool start_at_open = false;  // starts when the case is opened
  std::vector<int> stop;       // state indices; closing the case always stops it
  std::optional<Duration> limit;  // unset for working days
  int64_t working_days = 0;
  int limit_from = -1;            // anchor field index, or -1
  std::string limit_text;         // as written
  Sources sources;
  SourcePos pos;
};

// How the procedure's data fills a case data standard (`standards:`,
// workflows/README.md "Case data standards"); today IOM's HTCDS ("htcds").
// Read by `audit export --format htcds`. Not kept in the compiled form
// (procedure_codec.h): the audit compiles procedures from their source.
struct StandardField {
  int field = -1;       // our field index
  std::string target;   // the standard's field name, e.g. "vic_TypeOfExploitation"
  // Our value -> the standard's code ("": no code, the value is left out);
  // for enum, set and bool fields mapped to a coded field.
  std::map<std::string, std::string> codes;
  SourcePos pos;
};
struct StandardMapping {
  std::string standard;  // "htcds"
  std::vector<StandardField> fields;  // file order
  // The case's status code by the state it is in (state index) and by the
  // closure reason it was closed with; the standard's default otherwise.
  std::map<int, std::string> state_status;
  std::map<std::string, std::string> closure_status;
  // Procedures whose cases this one opens (`opens:`) that are its outgoing
  // referrals; each maps its own fields.
  std::vector<std::string> referrals;
  // Fields of the standard this procedure does not hold, said on purpose.
  std::vector<std::string> not_recorded;
  SourcePos pos;
};

// How cases of older versions move to this one (`migrate:`,
// workflows/README.md "Moving running cases to a new version"). `migrate:`
// is one section (a map) or a list of them; each section names the older
// versions it moves by their `version:` (no version in two sections) and
// says how their cases move. Old states and fields are
// named by id (the older file is not known when this one is loaded) and
// checked against an older version by check_migration (sopir/migration.h).
// A state or field an older version shares by id with this one maps to
// itself unless the section says otherwise.
struct MigrationBranch {
  int to = -1;  // state index in this procedure
  // On the case's values as they are after the field mapping (so typed
  // against this procedure's fields); null: always (the last branch).
  std::shared_ptr<const Expr> when;
  std::string when_text;
  SourcePos pos;
};
struct MigrationState {
  std::string from;  // the older version's state id
  // Tried in order; the first whose `when` holds is where the case lands.
  // Empty when the state is declared not movable (`stays`).
  std::vector<MigrationBranch> branches;
  bool stays = false;
  std::string stays_reason;  // as written after `stays:`; may be ""
  SourcePos pos;
};
struct MigrationField {
  int field = -1;     // field index in this procedure
  std::string from;   // the older version's field id it takes its value from; "" none
  std::optional<Value> default_value;  // when the case has no value for it
  std::string default_text;            // as written
  SourcePos pos;
};
struct MigrationEvent {
  std::string from;  // the older version's event id
  int to = -1;       // event index in this procedure
  SourcePos pos;
};
// One section of `migrate:`: the older versions it names and their mapping.
struct MigrationDef {
  std::vector<int> from_versions;  // `version:` of the older files, file order
  std::vector<MigrationState> states;
  std::vector<MigrationField> fields;
  std::vector<std::string> drop;   // older fields left behind on purpose
  std::vector<SourcePos> drop_pos;
  std::vector<MigrationEvent> events;
  // The `migrate:` key of a single section, the list item of a section in
  // a list: where what concerns the whole section is reported.
  SourcePos pos;

  const MigrationState* state(std::string_view old_id) const;
  bool from_version(int version) const;
};

// How long a case's personal data is kept after the case closes
// (`retention: 5 years`, docs/PRIVACY.md "Retention"): a whole number of
// days, months or years. Months and years are calendar months (add_months in
// sopir/value.h): a period ending on a day its month lacks ends on that
// month's last day. sopir/retention.h counts when a case falls due.
struct Retention {
  enum class Unit { kDays, kMonths, kYears };
  int64_t count = 0;
  Unit unit = Unit::kDays;
  SourcePos pos;
  // Canonical text: "90 days", "1 month", "5 years" (what the log records).
  std::string text() const;
  // When the personal data of a case closed at `closed_at` falls due.
  DateTime due(DateTime closed_at) const;
  friend bool operator==(const Retention& a, const Retention& b) {
    return a.count == b.count && a.unit == b.unit;
  }
};

struct Procedure {
  std::string id;  // slug, e.g. "tppo-victim-care"
  int version = 0;
  Text title;
  Text description;
  Sources sources;  // `source:` at the top: what the whole procedure implements

  std::vector<std::string> roles;
  std::vector<FieldDef> fields;
  std::vector<StateDef> states;
  std::vector<std::string> events;  // every event named by a transition, first use first
  std::vector<TransitionDef> transitions;
  std::vector<ClosureReason> closure_reasons;
  int initial_state = -1;

  // Opening a case: fields that must / may be given. When `open_declared` is
  // false the procedure has no `open:` section and any field may be given.
  bool open_declared = false;
  std::vector<int> open_requires;
  std::vector<int> open_accepts;
  // `open: when:` a condition on the opening values (by hand or by a
  // hand-off), e.g. consent given; null: none.
  std::shared_ptr<const Expr> open_guard;
  std::string open_guard_text;
  Sources open_sources;  // `open: source:`

  // Case lifecycle permissions (role indices). `reopen_to` is where a case
  // that finished in a terminal state goes when reopened; -1: not allowed.
  std::vector<int> hold_roles, resume_roles, close_roles, reopen_roles;
  int reopen_to = -1;
  // Roles that may see `pii` fields unmasked.
  std::vector<int> pii_roles;

  // The holiday calendar working-day deadlines count on (`calendar:`, one
  // name or several merged); null when the procedure names none. Its files'
  // bytes are pinned with the procedure when it is published.
  std::vector<std::string> calendar_names;
  CalendarPtr calendar;

  // Case-level clocks (`clocks:`), in file order.
  std::vector<ClockDef> clocks;

  // Mappings to case data standards (`standards:`), see StandardMapping.
  std::vector<StandardMapping> standards;
  const StandardMapping* standard(std::string_view name) const;  // null when none

  // How cases of older versions move to this one (`migrate:`): its
  // sections in file order (one for the single-map form); empty: none.
  std::vector<MigrationDef> migrations;
  // The section whose from: names `version`; null when none does.
  const MigrationDef* migration_from(int version) const;
  // Every version some section's from: names, in file order, each once.
  std::vector<int> migrate_from_versions() const;
  // An event named `id` in version `from_version`, as a case that moved from
  // there carries it here: renamed by the `events:` of the section naming
  // that version, else by its own name. -1: this version has no such event.
  int carried_event(int from_version, std::string_view id) const;

  // How long personal data is kept after a case closes (`retention:`);
  // unset: until someone erases it (`case erase`).
  std::optional<Retention> retention;

  std::string file;    // as given to the loader, for messages
  // The exact bytes loaded; empty in a published version the engine read
  // from its compiled form (the store keeps its source, PublishedProcedure).
  std::string source;
  std::string sha256;  // lowercase hex of SHA-256 of the source

  // transitions_from[state] = indices of transitions leaving it, file order.
  std::vector<std::vector<int>> transitions_from;

  // Name lookups; -1 when absent.
  int state_index(std::string_view id) const;
  int event_index(std::string_view id) const;
  int field_index(std::string_view id) const;
  int role_index(std::string_view id) const;

  // Hash tables for event_index() and field_index(), which decide() calls
  // for every step and input: positions in `events` and `fields` by the
  // name's hash, not the names, so a copy of the procedure keeps right
  // tables. Filled by build_name_tables() (the loader and the codec call it
  // once the procedure is complete); empty, or a name not found in them,
  // falls back to comparing every name, so a procedure put together or
  // changed by hand still finds what it holds.
  std::vector<int> event_slots, field_slots;
  void build_name_tables();

  // The candidates of a step: the transitions of `event` leaving `state`,
  // file order, at candidate_list[candidate_starts[state * events.size() +
  // event] ...] up to the next start. Filled by build_candidate_table() (the
  // loader and the codec call it once the procedure is complete); empty, or
  // not of the procedure's size, decide() filters transitions_from instead.
  std::vector<int> candidate_starts, candidate_list;
  // The fields each transition takes as inputs (`requires:` and `accepts:`),
  // a bit per field: taken_bits[t * taken_words + field / 64]. Filled with
  // the candidates; empty, or not of the procedure's size, decide() scans
  // the two lists instead.
  std::vector<uint64_t> taken_bits;
  size_t taken_words = 0;
  // Fills the candidate table, taken_bits and each transition's role bits.
  void build_candidate_table();
  // Whether taken_bits is filled for this procedure as it is.
  bool has_taken_table() const {
    return taken_words == (fields.size() + 63) / 64 && taken_bits.size() == transitions.size() * taken_words;
  }
  // The bits of the fields transition `t` (one of `transitions`) takes, or
  // null when the table is not filled for this procedure.
  const uint64_t* taken_fields(const TransitionDef& t) const {
    const auto at = static_cast<size_t>(t.index);
    if (t.index < 0 || at >= transitions.size() || &transitions[at] != &t || !has_taken_table()) return nullptr;
    return taken_bits.data() + at * taken_words;
  }
  // Whether `t` takes `field` as an input, by its bits (`taken`, from
  // taken_fields()) or, when they are null, by its lists.
  bool takes_field(const TransitionDef& t, const uint64_t* taken, int field) const {
    if (!taken) return takes_listed_field(t, field);
    const auto f = static_cast<size_t>(field);
    return field >= 0 && f < fields.size() && ((taken[f / 64] >> (f % 64)) & 1);
  }
  bool takes_field(const TransitionDef& t, int field) const { return takes_field(t, taken_fields(t), field); }
  static bool takes_listed_field(const TransitionDef& t, int field);

  // Compiles each field's pattern into FieldDef::compiled_pattern and works
  // out its FieldDef::checks (the loader and the codec call it once the
  // procedure is complete). Throws std::regex_error for a pattern std::regex
  // refuses (the loader has refused such a procedure already; the codec
  // does not read it).
  void build_field_checks();

  // The events that can leave `state`, by index and by name (file order,
  // no repeats).
  std::vector<int> event_indices_from(int state) const;
  std::vector<std::string> events_from(int state) const;
  std::vector<std::string> state_ids() const;
  std::vector<std::string> field_ids() const;
  // What a transition's `to` says: its state's id, or "*" when it stays.
  std::string to_id(const TransitionDef& t) const;
  // Whether a transition leaves every non-terminal state (`from: '*'`).
  bool from_every_state(const TransitionDef& t) const;
};

using ProcedurePtr = std::shared_ptr<const Procedure>;

}  // namespace sopir
