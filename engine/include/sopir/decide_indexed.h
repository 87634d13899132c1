// The decision core by index: the rules of decide.h without names or text.
//
// decide() (decide.h) resolves names, parses text inputs, calls
// decide_into() and turns its Outcome into a Decision, writing a refusal's
// sentence with refusal_of(). Every rule is checked here, once, for both.
//
// decide_into() is for callers that decide many steps (batches, the timer
// pass, a program embedding the engine): the event and the inputs come by
// index and typed, the result goes into an Outcome the caller keeps and
// passes again, whose vectors keep their capacity. What a call still
// allocates: copies of text values too long for the string's own buffer
// (into the delta, or laid under a `set:`), the match of a field pattern
// outside the simple subset base/pattern.h matches itself (std::regex, which
// allocates; the subset does not, for texts of up to 252 bytes) and an
// override's guard explanation. An accepted step's changes are a delta (field index,
// new value) the caller applies to the case; a refusal is structured data
// whose sentence refusal_of() writes when someone needs to read it. Pure,
// like decide(): no database, no clock.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/decide.h"

namespace sopir {

// A step by index. Nothing is owned: the pointers and views must outlive
// the call (and refusal_of(), which reads the command again).
struct IndexedCommand {
  int event = -1;  // index into Procedure::events; out of range: unknown
  // For messages only: the event's name as asked for, when `event` is out of
  // range (the unknown-event refusal quotes it).
  std::string_view event_name;
  const Actor* actor = nullptr;  // required
  // The actor's roles by role index (role_ranks() of this procedure and
  // actor), so that roles are matched without comparing names; null, or not
  // of the procedure's size: matched by name.
  const std::vector<int>* role_ranks = nullptr;
  std::string_view reason;
  bool override = false;  // as Command::override
  bool timer = false;     // as Command::timer
  bool recorded = false;  // as Command::recorded
  DateTime at;
  // Typed inputs (field index, value), checked as Command::values are; for a
  // field given twice the last wins. Null: none.
  const std::vector<std::pair<int, Value>>* values = nullptr;
  // The language of refusal sentences and of the labels a false guard's
  // explanation shows, as Command::lang; read by refusal_of() only.
  std::string_view lang;
};

// Which rule refused, finer than RefusalKind: what refusal_of() needs to
// write the sentence.
enum class RefusalCause : unsigned char {
  kClosed,           // kClosed: the case is closed
  kOnHold,           // kOnHold
  kReasonControl,    // kBadInput: the reason holds a control character
  kUnknownEvent,     // kUnknownEvent
  kNotInState,       // kNotInState
  kTimerEvent,       // kRole: the timer fires only the state's on_deadline event
  kNoFieldNumber,    // kBadInput: an input's field index is out of range (`input`)
  kBadValue,         // kBadInput: an input's value is not one its field takes (`input`)
  kRole,             // kRole: `transition`, or -1 for every candidate
  kFourEyes,         // kFourEyes: `transition`, `other_event`
  kFieldNotTaken,    // kBadInput: `transition`, `field`
  kGuard,            // kGuard: `transition`'s guard is false
  kOverrideRefused,  // kOverride: `transition`; this actor may not override it
  kMissingField,     // kMissingField: `transition`, `fields`
  kReasonRequired,   // kReasonRequired: `transition` (or its override) needs a reason
  kSetOutOfBounds,   // kBadInput: `transition`'s `set:` gives `field` a value (`value`) outside its
                     // bounds
};

struct RefusalInfo {
  RefusalKind kind = RefusalKind::kUnknownEvent;
  RefusalCause cause = RefusalCause::kUnknownEvent;
  int transition = -1;   // the candidate that refused (index into Procedure::transitions), or -1
  int input = -1;        // position in IndexedCommand::values
  int field = -1;        // field index
  int other_event = -1;  // kFourEyes: the event the actor fired before
  bool overridden = false;    // kReasonRequired: the reason is the override's
  bool may_override = false;  // kRole, kGuard: as Refusal::may_override
  std::vector<int> fields;    // kMissingField: the fields without a value, in `requires:` order
  Value value;                // kSetOutOfBounds: the value `set:` gave
};

// The result of decide_into(). Keep one and pass it again: its vectors keep
// their capacity.
struct Outcome {
  bool accepted = false;
  // Accepted: as Transition, with `role` a view of the procedure's role name
  // (or "system" for the timer) and the changes as a delta.
  int transition = -1;
  int event = -1;
  int from = -1;
  int to = -1;
  std::string_view role;
  bool overridden = false;
  std::string guard_explanation;  // when overridden
  // The fields whose value the step changes, by field index ascending, with
  // their new value; only real changes (inputs, then `set:`).
  std::vector<std::pair<int, Value>> changes;
  std::optional<DateTime> due_at;
  bool closes_case = false;
  // Refused: which rule and where; refusal_of() writes the sentence.
  RefusalInfo refusal;

  // Working space of decide_into().
  RefusalInfo attempt_;
  std::vector<std::pair<int, Value>> overlay_;
};

// For each of the procedure's roles, its position among actor.roles (the
// first, if named twice), or -1 when the actor does not hold it. Compute it
// once per actor and procedure and pass it in IndexedCommand::role_ranks.
std::vector<int> role_ranks(const Procedure& procedure, const Actor& actor);

// Decides one step into `out` (every member of it rewritten). `command.actor`
// must not be null; anything else the caller or the procedure got wrong is
// a refusal. `trace` as for decide().
void decide_into(const Procedure& procedure, const CaseSnapshot& snapshot, const IndexedCommand& command,
                 Outcome& out, DecisionTrace* trace = nullptr);

// The refusal of an outcome that is not accepted, written in full: the same
// Refusal decide() returns for the same step (message in command.lang,
// missing field ids, sources). `snapshot` and `command` as passed to
// decide_into().
Refusal refusal_of(const Procedure& procedure, const CaseSnapshot& snapshot, const IndexedCommand& command,
                   const Outcome& outcome);

// An accepted outcome as decide() returns it: the changes with the case's
// values before them.
Transition transition_of(const CaseSnapshot& snapshot, const Outcome& outcome);

}  // namespace sopir
