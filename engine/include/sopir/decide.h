// The decision core: procedure + case + command -> transition or refusal.
//
// decide() and decide_lifecycle() are pure. They read no database and no
// clock: the caller passes the case as it was read and the time the step
// happened. The same functions serve the CLI, batch imports, the timer pass,
// scenario tests and the auditors' replay, so every rule is enforced in
// exactly one place: decide() resolves names and parses text, then applies
// the rules of decide_into() (decide_indexed.h), the entry by index for
// callers that decide many steps.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "sopir/case.h"
#include "sopir/procedure.h"
#include "sopir/value.h"

namespace sopir {

// A procedure step someone asks for.
struct Command {
  std::string event;
  Actor actor;
  // Field values as typed (command line, CSV, scenario file): checked and
  // converted against the field's type by decide().
  std::vector<std::pair<std::string, std::string>> inputs;
  std::string reason;
  bool override = false;  // force past a false guard (needs an override role and a reason)
  // Fired by the timer pass for the current state's `on_deadline` event: the
  // procedure itself authorises it, so roles and four-eyes do not apply.
  bool timer = false;
  DateTime at;            // when the step happened: today()/now(), deadlines
  // Refusals are written in this language ("id"; anything else: English)
  // and show enum values by their labels in it; "": English with ids.
  std::string lang;
  // Field values already typed, by field index: the path for a program that
  // embeds the engine, or a batch, and holds values rather than text. They
  // are checked as `inputs` are (the field exists; the value has its type;
  // an enum's value or a set's members are among the field's values, a set
  // in canonical form; text without control characters other than line
  // breaks and tabs; bounds) but not parsed, and come after `inputs` (for
  // a field given in both, the value here wins). A caller that logs the
  // step logs each as its canonical text (format_value), which `inputs`
  // takes back to the same value, so a replay decides the same.
  std::vector<std::pair<int, Value>> values = {};
  // Deciding a step already recorded (the auditors' replay): the checks
  // added after steps were first recorded are left out, so that a row an
  // earlier sopir wrote decides as it did then. Today that is two: a value
  // `set:` gives, checked against its field's bounds (a live step whose
  // `set:` gives one outside them is refused; an older row holding one is
  // not a finding), and a `requires:` string field holding text of spaces
  // or line breaks only, which a live step counts as not given.
  bool recorded = false;
};

enum class RefusalKind {
  kUnknownEvent,    // the procedure has no such event
  kNotInState,      // the event cannot be fired from the current state
  kRole,            // the actor has none of the roles that may fire it
  kGuard,           // the `when:` guard is false
  kMissingField,    // a `requires:` field has no value
  kBadInput,        // unknown field, field not taken here, wrong type, out of bounds
  kFourEyes,        // the actor fired an event named in `distinct_from`
  kReasonRequired,  // a reason must be written
  kOnHold,          // the case is on hold
  kClosed,          // the case is closed
  kOverride,        // override asked for but not allowed to this actor/transition
  kLifecycle,       // a lifecycle move not possible now (resume an active case, ...)
};
const char* to_string(RefusalKind kind);  // "unknown-event", "not-in-state", "role", ...

struct Refusal {
  RefusalKind kind;
  std::string message;  // full sentence(s) a staff member can act on; names no program option
  // kMissingField: the fields still without a value.
  std::vector<std::string> missing = {};
  // kRole, kGuard: the actor may override the rule (with a written reason).
  bool may_override = false;
  // The `source:` citations of the rule that refused (regulation, article).
  std::vector<std::string> sources = {};
};

struct FieldChange {
  int field = -1;
  Value before;
  Value after;
};

struct Transition {
  int transition = -1;  // index into Procedure::transitions
  int event = -1;
  int from = -1;
  int to = -1;
  std::string role;     // the actor's role that allowed it
  bool overridden = false;  // fired past a false guard
  std::string guard_explanation;  // when overridden: why the guard was false
  std::vector<FieldChange> changes;  // inputs then `set:`, only real changes
  std::optional<DateTime> due_at;    // deadline of the target state, from `at`
  bool closes_case = false;          // the target state is terminal
};

using Decision = std::variant<Transition, Refusal>;

// What decide() looked at, for scenario-test coverage: filled only when the
// caller passes one (decide() allocates nothing for it otherwise). Entries
// are appended, so one trace can collect several decisions.
struct DecisionTrace {
  enum class Guard : unsigned char {
    kNone,        // the transition has no guard
    kTrue,        // the guard was evaluated and held
    kFalse,       // the guard was evaluated and did not hold (also when overridden)
    kNotReached,  // an earlier check (role, inputs, a missing required field) stopped first
  };
  struct Candidate {
    int transition = -1;  // index into Procedure::transitions
    Guard guard = Guard::kNone;
  };
  // Every candidate tried, in order. With a trace, the candidates after the
  // chosen one are tried as well (results discarded), so that the guards of
  // the branches not taken are seen too.
  std::vector<Candidate> candidates;
  std::vector<int> fired;             // transitions a decision chose
};

// Decides one procedure step. Never throws for anything the caller or the
// procedure got wrong; that is a Refusal. `trace`, when given, records each
// candidate transition tried with its guard outcome and the one chosen.
Decision decide(const Procedure& procedure, const CaseSnapshot& snapshot, const Command& command,
                DecisionTrace* trace = nullptr);

// Opening a case: checks the opening inputs (the procedure's `open:`
// section) and returns the initial state's transition (from == -1).
// `by_handoff`: another procedure's step opens it (`opens:`), which
// authorises the actor even without a role of this procedure (role
// "hand-off"). `lang`: the language of refusals, as Command::lang; a false
// `open: when:` condition is a kGuard refusal. `recorded`: an opening
// already recorded (the auditors' replay), decided without the checks added
// since, as Command::recorded.
Decision decide_open(const Procedure& procedure, const Actor& actor,
                     const std::vector<std::pair<std::string, std::string>>& inputs, DateTime at,
                     bool by_handoff = false, std::string_view lang = {}, bool recorded = false);

struct LifecycleCommand {
  LifecycleEvent event;
  Actor actor;
  std::string reason;  // close: a closure reason id; reopen, hold: free text
  DateTime at;
  std::string lang = {};  // the language of refusals ("en", "id"; "" is English)
};

struct LifecycleTransition {
  Status from;
  Status to;
  std::string role;
  int state_to = -1;  // procedure state after the move (reopen may move it)
  // Deadline after the move: a hold pauses the clock; resume shifts the due
  // time by the time spent on hold (`hold_started` from the caller).
  std::optional<DateTime> due_at;
};

using LifecycleDecision = std::variant<LifecycleTransition, Refusal>;

// `hold_started`: when the current hold began (needed for kResume).
LifecycleDecision decide_lifecycle(const Procedure& procedure, const CaseSnapshot& snapshot,
                                   const LifecycleCommand& command,
                                   std::optional<DateTime> hold_started = std::nullopt);

// For `case why` and `case show`: every event of the current state with the
// decision it would get now, with no inputs and no reason given.
struct EventCheck {
  std::string event;
  // True when this actor may fire it now, possibly after giving the fields
  // or the reason that `refusal` then names (kMissingField, kReasonRequired).
  bool possible = false;
  std::optional<Refusal> refusal;  // why not (or what is still to give)
};
// `lang` as Command::lang.
std::vector<EventCheck> check_events(const Procedure& procedure, const CaseSnapshot& snapshot,
                                     const Actor& actor, DateTime at, std::string_view lang = {});
// The checks of check_events() that are possible, in the same order and
// with the same refusals (what is still to give); the others' sentences are
// not written. For lists over many cases (`todo`).
std::vector<EventCheck> possible_events(const Procedure& procedure, const CaseSnapshot& snapshot,
                                        const Actor& actor, DateTime at,
                                        std::string_view lang = {});

}  // namespace sopir
