// decide_into(): the procedure's rules, applied to one step by index. Pure.
//
// Candidate transitions (same event, same source state) are tried in file
// order; the first that passes every check wins. When none passes, the
// refusal of the candidate that got furthest through the checks is returned,
// because that is the one that tells staff what to do next. A refusal is
// recorded as which rule refused and where (RefusalInfo); its sentence is
// written by refusal_of() (refusal_text.cc), only for the refusal someone
// reads, so trying a candidate writes no text.
#include <algorithm>

#include "lang/expr/expr.h"
#include "rules/deadline.h"
#include "rules/decide_parts.h"
#include "rules/field_bounds.h"
#include "sopir/text.h"

namespace sopir {

namespace {

bool contains(const std::vector<int>& items, int item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Whether a typed value has the alternative its field's type holds.
bool has_type(const FieldDef& field, const Value& value) {
  switch (field.type) {
    case Type::kString:
    case Type::kEnum:
    case Type::kSet: return std::holds_alternative<std::string>(value);
    case Type::kInt: return std::holds_alternative<int64_t>(value);
    case Type::kBool: return std::holds_alternative<bool>(value);
    case Type::kDate: return std::holds_alternative<Date>(value);
    case Type::kDateTime: return std::holds_alternative<DateTime>(value);
    case Type::kDuration: return std::holds_alternative<Duration>(value);
  }
  return false;
}

// Whether `text` is a set of `values` in canonical form (members in the
// declared order, no repeats, joined by ','; "" the empty set), without
// building the canonical text: each member must come later in the declared
// order than the one before it.
bool canonical_set_text(const std::vector<std::string>& values, std::string_view text) {
  if (text.empty()) return true;
  size_t next = 0;  // the first declared value the next member may be
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view member = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    size_t i = next;
    while (i < values.size() && values[i] != member) ++i;
    if (i == values.size()) return false;
    next = i + 1;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

// Whether `text` is one of an enum's values.
bool is_enum_value(const std::vector<std::string>& values, std::string_view text) {
  for (const auto& v : values)
    if (same_text(v, text)) return true;
  return false;
}

// Every member of `r` set for a refusal by `cause`; nothing else left over
// from an earlier one.
void refuse(RefusalInfo& r, RefusalKind kind, RefusalCause cause, int transition = -1) {
  r.kind = kind;
  r.cause = cause;
  r.transition = transition;
  r.input = -1;
  r.field = -1;
  r.other_event = -1;
  r.overridden = false;
  r.may_override = false;
  r.fields.clear();
}

void refuse_out(Outcome& out, RefusalKind kind, RefusalCause cause) {
  out.accepted = false;
  refuse(out.refusal, kind, cause);
}

// How far a candidate got; higher is further. Used to pick the refusal.
// Four-eyes is about who acts, like the role, so it is checked before what
// is given.
enum Stage {
  kAccepted = -1,
  kStageRole,
  kStageFourEyes,
  kStageInputs,
  kStageGuard,
  kStageMissing,
  kStageReason,
  kStageSet,  // every check passed, but `set:` gave a value its field does not allow
};

// The changes a step makes: the overlay's fields (the inputs, then `set:`)
// whose last value differs from the case's, in field order. Written over
// `changes` element by element, so that its values keep their capacity.
void overlay_changes(const std::vector<Value>& before, const std::vector<std::pair<int, Value>>& overlay,
                     std::vector<std::pair<int, Value>>& changes) {
  size_t count = 0;
  for (size_t i = 0; i < overlay.size(); ++i) {
    const int field = overlay[i].first;
    bool later = false;  // a later entry sets the same field
    for (size_t j = i + 1; j < overlay.size() && !later; ++j) later = overlay[j].first == field;
    if (later || overlay[i].second == before[static_cast<size_t>(field)]) continue;
    if (count < changes.size()) {
      changes[count].first = field;
      changes[count].second = overlay[i].second;
    } else {
      changes.emplace_back(field, overlay[i].second);
    }
    ++count;
  }
  changes.resize(count);
  // Few entries, mostly in order already: insertion sort.
  for (size_t i = 1; i < changes.size(); ++i)
    for (size_t j = i; j > 0 && changes[j - 1].first > changes[j].first; --j) std::swap(changes[j - 1], changes[j]);
}

// The due time of the state a step enters, the anchor field (if any) read
// from the step's changes or else the case: nothing is copied.
std::optional<DateTime> due_after_step(const Procedure& p, int state, DateTime at, const std::vector<Value>& before,
                                       const std::vector<std::pair<int, Value>>& changes) {
  const StateDef& entered = p.states[static_cast<size_t>(state)];
  if (!entered.has_deadline()) return std::nullopt;  // most states: what due_for_anchor() would say
  const int anchor = entered.deadline_from;
  const Value* value =
      anchor >= 0 && static_cast<size_t>(anchor) < before.size() ? &before[static_cast<size_t>(anchor)] : nullptr;
  for (const auto& [field, after] : changes)
    if (field == anchor) value = &after;
  return due_for_anchor(p, state, at, value);
}

bool has_values(const IndexedCommand& c) { return c.values && !c.values->empty(); }

// What the candidates of one step read alike, worked out once a step, so
// that each candidate reads no vector's size again.
struct Shared {
  bool values = false;  // the command gives inputs
  const std::pair<int, Value>* inputs = nullptr;
  size_t input_count = 0;
  const Value* data = nullptr;  // the case's values
  size_t data_size = 0;
  // The procedure's bits of taken fields (Procedure::taken_bits) when they
  // are filled for it as it is; else null.
  const uint64_t* taken = nullptr;
  size_t taken_words = 0;
  // The fields the inputs give, a bit each, when `given_known` (a procedure
  // of at most 256 fields whose table of taken fields is filled).
  uint64_t given[4];
  bool given_known = false;
  // The command's role ranks when they are of the procedure's size; else
  // null (roles matched by name).
  const std::vector<int>* rank = nullptr;
};

// Every input's field is in range: decide_checked() refused any other
// before this is called.
Shared shared_of(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& c) {
  Shared s;
  s.values = has_values(c);
  if (s.values) {
    s.inputs = c.values->data();
    s.input_count = c.values->size();
  }
  s.data = snapshot.data.data();
  s.data_size = snapshot.data.size();
  if (c.role_ranks && c.role_ranks->size() == p.roles.size()) s.rank = c.role_ranks;
  if (!p.has_taken_table()) return s;
  s.taken = p.taken_bits.data();
  s.taken_words = p.taken_words;
  if (s.taken_words > 4) return s;
  s.given_known = true;
  s.given[0] = s.given[1] = s.given[2] = s.given[3] = 0;
  for (size_t i = 0; i < s.input_count; ++i) {
    const auto f = static_cast<size_t>(s.inputs[i].first);
    s.given[f / 64] |= uint64_t{1} << (f % 64);
  }
  return s;
}

// Whether field `f` holds a value once the step's inputs are applied. An
// input always holds one: a typed input without a value is refused before
// any candidate is tried, and a parsed one never lacks it.
bool holds_value(const Shared& s, const EvalContext& context, int f) {
  const auto i = static_cast<size_t>(f);
  if (!s.given_known || f < 0 || i >= 256) return !is_missing(field_value(context, f));
  if ((s.given[i / 64] >> (i % 64)) & 1) return true;
  return i < s.data_size && !is_missing(s.data[i]);
}

// The position of the first input whose field `t` does not take, or -1
// when it takes them all: by the fields' bits when they are known.
int input_not_taken(const Procedure& p, const TransitionDef& t, const Shared& s) {
  // `t` is one of the procedure's transitions, at t.index (the candidate
  // table lists them so).
  const uint64_t* taken = s.taken ? s.taken + static_cast<size_t>(t.index) * s.taken_words : nullptr;
  if (taken && s.given_known) {
    uint64_t extra = 0;
    for (size_t w = 0; w < s.taken_words; ++w) extra |= s.given[w] & ~taken[w];
    if (!extra) return -1;
  }
  for (size_t i = 0; i < s.input_count; ++i)
    if (!p.takes_field(t, taken, s.inputs[i].first)) return static_cast<int>(i);
  return -1;
}

// The accepted step into `out`: target, changes (inputs, then `set:`
// evaluated over the inputs and the assignments before them), deadline.
// Returns the field a `set:` assignment gave a value outside its bounds
// (that value last in out.overlay_), or -1: a value the field does not
// allow is never recorded, whether staff typed it or the procedure made it.
int accept(const Procedure& p, const TransitionDef& t, const CaseSnapshot& snapshot,
           const IndexedCommand& c, bool values, const EvalContext& context, std::string_view role,
           bool overridden, Outcome& out) {
  out.accepted = true;
  out.transition = t.index;
  out.event = t.event;
  out.from = snapshot.state;
  out.to = t.target(snapshot.state);
  out.role = role;
  out.overridden = overridden;
  if (t.set.empty()) {
    if (values) {
      overlay_changes(snapshot.data, *c.values, out.changes);
    } else {
      out.changes.clear();
    }
  } else {
    out.overlay_.clear();
    if (values) out.overlay_.insert(out.overlay_.end(), c.values->begin(), c.values->end());
    EvalContext with_set = context;
    with_set.overlay = &out.overlay_;
    with_set.clocks = nullptr;  // `set:` reads no clocks
    for (const auto& assignment : t.set) {
      Value value = evaluate(*assignment.expr, with_set);
      const FieldDef& field = p.fields[static_cast<size_t>(assignment.field)];
      const bool out_of_bounds = !c.recorded && !unbounded(field) && !is_missing(value) &&
                                 bounds_problem(field, value, c.at) != BoundsProblem::kNone;
      out.overlay_.emplace_back(assignment.field, std::move(value));
      if (out_of_bounds) return assignment.field;
    }
    overlay_changes(snapshot.data, out.overlay_, out.changes);
  }
  // A step that stays keeps the state's running deadline.
  out.due_at = t.stays ? snapshot.due_at : due_after_step(p, t.to, c.at, snapshot.data, out.changes);
  out.closes_case = p.states[static_cast<size_t>(out.to)].terminal;
  return -1;
}

// The actor's first role (in the actor's order) that is in `allowed`, or "":
// by the command's role ranks when it has them, else by name. With ranks,
// `bits` (the transition's role bits for `allowed`, when built) stand for
// the list, which is then not read: the same role indices, trusted as the
// list's are. The view is of the procedure's name or the actor's, which are
// the same text.
std::string_view command_role(const Procedure& p, const IndexedCommand& c, const Shared& s, bool built,
                              uint64_t bits, const std::vector<int>& allowed) {
  if (!s.rank) return matching_role(p, *c.actor, allowed);
  const int* rank = s.rank->data();
  int best = -1;
  int best_rank = 0;
  auto consider = [&](int index) {
    const int r = rank[index];
    if (r >= 0 && (best < 0 || r < best_rank)) {
      best = index;
      best_rank = r;
    }
  };
  if (built) {
    for (; bits; bits &= bits - 1) consider(__builtin_ctzll(bits));
  } else {
    for (int index : allowed) consider(index);
  }
  return best < 0 ? std::string_view() : std::string_view(p.roles[static_cast<size_t>(best)]);
}

std::string_view firing_role(const Procedure& p, const IndexedCommand& c, const Shared& s, const TransitionDef& t) {
  return command_role(p, c, s, t.role_bits_built, t.role_bits, t.roles);
}

std::string_view overriding_role(const Procedure& p, const IndexedCommand& c, const Shared& s,
                                 const TransitionDef& t) {
  return command_role(p, c, s, t.role_bits_built, t.override_role_bits, t.override_roles);
}

// One candidate against the command: kAccepted (and `out` filled, when
// given) or the stage it got to, with `r` saying which rule refused.
// `guard_seen`, when not null, receives the guard's outcome. Without `out`
// (a trace trying the candidates after the chosen one) nothing is written
// for an accepted step.
int try_candidate(const Procedure& p, const TransitionDef& t, const CaseSnapshot& snapshot, const IndexedCommand& c,
                  const Shared& shared, DecisionTrace::Guard* guard_seen, RefusalInfo& r, Outcome* out) {
  const Actor& actor = *c.actor;
  const bool values = shared.values;
  std::string_view role = c.timer ? std::string_view("system") : firing_role(p, c, shared, t);
  // Whoever may override a transition may also fire it when overriding
  // (with a written reason, below; logged as a plain step when its
  // condition holds, as audit replay expects).
  if (role.empty() && c.override) role = overriding_role(p, c, shared, t);
  if (role.empty()) {
    refuse(r, RefusalKind::kRole, RefusalCause::kRole, t.index);
    r.may_override = !overriding_role(p, c, shared, t).empty();
    return kStageRole;
  }
  if (!c.timer && !t.distinct_from.empty()) {
    for (const auto& [event, who] : snapshot.fired) {
      if (contains(t.distinct_from, event) && who == actor.id) {
        refuse(r, RefusalKind::kFourEyes, RefusalCause::kFourEyes, t.index);
        r.other_event = event;
        return kStageFourEyes;
      }
    }
  }
  if (values) {
    if (const int input = input_not_taken(p, t, shared); input >= 0) {
      refuse(r, RefusalKind::kBadInput, RefusalCause::kFieldNotTaken, t.index);
      r.field = shared.inputs[input].first;
      return kStageInputs;
    }
  }
  // The case's values with the inputs standing in for theirs: a view, not
  // a copy of the case.
  const EvalContext context{&snapshot.data, c.at, &snapshot.children, {}, &snapshot.clocks,
                            values ? c.values : nullptr};
  // The guard picks the branch, so it is checked before this branch's
  // required fields; but a guard that is false only because it reads a
  // required field nobody gave yet is reported as that missing field.
  r.fields.clear();
  for (int f : t.requires_fields)
    if (!holds_value(shared, context, f) ||
        (!c.recorded && blank_text(p.fields[static_cast<size_t>(f)], field_value(context, f))))
      r.fields.push_back(f);
  const bool missing = !r.fields.empty();
  auto refuse_missing = [&] {
    r.kind = RefusalKind::kMissingField;
    r.cause = RefusalCause::kMissingField;
    r.transition = t.index;
    r.input = r.field = r.other_event = -1;
    r.overridden = r.may_override = false;
    return kStageMissing;
  };
  if (missing && t.guard &&
      std::any_of(r.fields.begin(), r.fields.end(), [&](int f) { return reads_field(*t.guard, f); }))
    return refuse_missing();

  bool overridden = false;
  if (t.guard && !guard_holds(*t.guard, context)) {
    if (guard_seen) *guard_seen = DecisionTrace::Guard::kFalse;
    const std::string_view override_role = overriding_role(p, c, shared, t);
    if (!c.override) {
      refuse(r, RefusalKind::kGuard, RefusalCause::kGuard, t.index);
      r.may_override = !override_role.empty();
      return kStageGuard;
    }
    if (override_role.empty()) {
      refuse(r, RefusalKind::kOverride, RefusalCause::kOverrideRefused, t.index);
      return kStageGuard;
    }
    overridden = true;
    role = override_role;
  } else if (t.guard && guard_seen) {
    *guard_seen = DecisionTrace::Guard::kTrue;
  }
  if (missing) return refuse_missing();
  // An override asked for takes a written reason, also when nothing needed
  // overriding (the step then goes as an ordinary one, with that reason).
  // A recorded step is replayed by the rules of its procedure: those asked
  // no reason of an override whose condition held, before this rule.
  const bool asked = c.override && !c.recorded;
  if ((t.reason_required || overridden || asked) && !has_visible_text(c.reason)) {
    refuse(r, RefusalKind::kReasonRequired, RefusalCause::kReasonRequired, t.index);
    r.overridden = overridden || asked;
    return kStageReason;
  }
  if (!out) return kAccepted;
  if (const int field = accept(p, t, snapshot, c, values, context, role, overridden, *out);
      field >= 0) {
    out->accepted = false;
    refuse(r, RefusalKind::kBadInput, RefusalCause::kSetOutOfBounds, t.index);
    r.field = field;
    r.value = out->overlay_.back().second;
    return kStageSet;
  }
  // An override's explanation goes to the log, which keeps ids and English.
  if (overridden) {
    out->guard_explanation = evaluate_guard(*t.guard, p.fields, context).explanation;
  } else {
    out->guard_explanation.clear();
  }
  return kAccepted;
}

// For a trace only: the candidates after the chosen one are tried too (their
// results discarded) so that coverage sees what their guards said in this
// situation; without it the second of two complementary branches could
// never be seen false. Not inlined into the flattened decide_into(): a
// second copy of every check there, for traces only.
[[gnu::noinline]] void trace_remaining(const Procedure& p, const TransitionDef& chosen, const CaseSnapshot& snapshot,
                                       const IndexedCommand& c, const Shared& shared, RefusalInfo& scratch,
                                       DecisionTrace* trace) {
  bool after = false;
  for_each_candidate(p, snapshot.state, chosen.event, [&](const TransitionDef& t) {
    if (after) {
      DecisionTrace::Guard guard = t.guard ? DecisionTrace::Guard::kNotReached : DecisionTrace::Guard::kNone;
      try_candidate(p, t, snapshot, c, shared, &guard, scratch, nullptr);
      trace->candidates.push_back({t.index, guard});
    }
    after = after || &t == &chosen;
    return false;
  });
}

}  // namespace

std::string_view matching_role(const Procedure& p, const Actor& actor, const std::vector<int>& allowed) {
  // A procedure's roles are unique (the loader refuses one named twice), so
  // comparing with the allowed ones alone gives what looking each role up
  // would.
  for (const auto& role : actor.roles) {
    for (int index : allowed)
      if (same_text(p.roles[static_cast<size_t>(index)], role)) return role;
  }
  return "";
}

std::vector<int> role_ranks(const Procedure& p, const Actor& actor) {
  std::vector<int> rank(p.roles.size(), -1);
  for (size_t r = 0; r < p.roles.size(); ++r) {
    for (size_t i = 0; i < actor.roles.size() && rank[r] < 0; ++i)
      if (actor.roles[i] == p.roles[r]) rank[r] = static_cast<int>(i);
  }
  return rank;
}

namespace {

// An enum's or a set's text. Their members are names the loader checked,
// with no control character in them: a text that is one needs no other
// look, and one that is not is refused for its control character if it has
// one, as a string would be. Each not inlined, so that
// typed_value_problem() keeps no registers for it (below), nor an enum's
// check for a set's.
ValueProblem not_member_problem(const std::string& text) {
  return holds_control(text, false) ? ValueProblem::kControl : ValueProblem::kNotAccepted;
}

[[gnu::noinline]] ValueProblem enum_problem(const FieldDef& field, const std::string& text) {
  return is_enum_value(field.values, text) ? ValueProblem::kNone : not_member_problem(text);
}

[[gnu::noinline]] ValueProblem set_problem(const FieldDef& field, const std::string& text) {
  return canonical_set_text(field.values, text) ? ValueProblem::kNone : not_member_problem(text);
}

// A string's text, in one pass over most texts: plain ASCII has no control
// character, and as many characters as bytes for its length bounds.
[[gnu::noinline]] ValueProblem string_problem(const FieldDef& field, const std::string& text) {
  const bool plain = plain_ascii(text);
  if (!plain && holds_control(text, true)) return ValueProblem::kControl;
  if (unbounded(field)) return ValueProblem::kNone;
  return text_bounds_problem(field, text, plain) == BoundsProblem::kNone ? ValueProblem::kNone
                                                                         : ValueProblem::kBounds;
}

}  // namespace

// By the field's type, each text check a function of its own, so that a
// value with little to check (a bool, a number without bounds) is not
// slowed by what a text needs.
ValueProblem typed_value_problem(const FieldDef& field, const Value& value, DateTime at) {
  if (!has_type(field, value)) return ValueProblem::kNotAccepted;
  switch (field.type) {
    case Type::kEnum: return enum_problem(field, *std::get_if<std::string>(&value));
    case Type::kSet: return set_problem(field, *std::get_if<std::string>(&value));
    case Type::kString: return string_problem(field, *std::get_if<std::string>(&value));
    default:
      if (unbounded(field)) return ValueProblem::kNone;
      return bounds_problem(field, value, at) == BoundsProblem::kNone ? ValueProblem::kNone
                                                                      : ValueProblem::kBounds;
  }
}

namespace {

bool precheck(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& c, const Candidates& candidates,
              Outcome& out) {
  if (snapshot.status != Status::kActive) {
    const bool closed = snapshot.status == Status::kClosed;
    refuse_out(out, closed ? RefusalKind::kClosed : RefusalKind::kOnHold,
               closed ? RefusalCause::kClosed : RefusalCause::kOnHold);
    return false;
  }
  if (!c.reason.empty() && holds_control(c.reason, true)) {
    refuse_out(out, RefusalKind::kBadInput, RefusalCause::kReasonControl);
    return false;
  }
  if (c.event < 0 || static_cast<size_t>(c.event) >= p.events.size()) {
    refuse_out(out, RefusalKind::kUnknownEvent, RefusalCause::kUnknownEvent);
    return false;
  }
  bool any = candidates.table && candidates.begin != candidates.end;
  if (!candidates.table)
    for_each_candidate(p, snapshot.state, c.event, candidates, [&](const TransitionDef&) { return any = true; });
  if (!any) {
    refuse_out(out, RefusalKind::kNotInState, RefusalCause::kNotInState);
    return false;
  }
  if (c.timer && p.states[static_cast<size_t>(snapshot.state)].on_deadline != c.event) {
    refuse_out(out, RefusalKind::kRole, RefusalCause::kTimerEvent);
    return false;
  }
  return true;
}

void checked(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& c, const Candidates& candidates,
             Outcome& out, DecisionTrace* trace, size_t parsed) {
  if (has_values(c)) {
    const std::pair<int, Value>* inputs = c.values->data();
    const size_t count = c.values->size();
    const FieldDef* fields = p.fields.data();
    const size_t field_count = p.fields.size();
    for (size_t i = parsed; i < count; ++i) {
      const int field = inputs[i].first;
      if (field < 0 || static_cast<size_t>(field) >= field_count) {
        refuse_out(out, RefusalKind::kBadInput, RefusalCause::kNoFieldNumber);
        out.refusal.input = static_cast<int>(i);
        return;
      }
      if (typed_value_problem(fields[field], inputs[i].second, c.at) != ValueProblem::kNone) {
        refuse_out(out, RefusalKind::kBadInput, RefusalCause::kBadValue);
        out.refusal.input = static_cast<int>(i);
        out.refusal.field = field;
        return;
      }
    }
  }
  const Shared shared = shared_of(p, snapshot, c);
  out.accepted = false;
  int best = kAccepted;  // no candidate refused yet
  int tried = 0;
  for_each_candidate(p, snapshot.state, c.event, candidates, [&](const TransitionDef& t) {
    ++tried;
    DecisionTrace::Guard guard = t.guard ? DecisionTrace::Guard::kNotReached : DecisionTrace::Guard::kNone;
    // The first refusal goes where it is returned from; a later one, only
    // once it has got further.
    RefusalInfo& r = best == kAccepted ? out.refusal : out.attempt_;
    const int stage = try_candidate(p, t, snapshot, c, shared, trace ? &guard : nullptr, r, &out);
    if (trace) trace->candidates.push_back({t.index, guard});
    if (stage == kAccepted) {
      if (trace) {
        trace->fired.push_back(t.index);
        trace_remaining(p, t, snapshot, c, shared, out.attempt_, trace);
      }
      return true;
    }
    if (stage == kStageSet) {
      // This branch is the one the step takes (every check passed): its
      // `set:` refuses the step, and no later branch stands in for it.
      if (&r != &out.refusal) std::swap(out.refusal, out.attempt_);
      best = kStageSet;
      return true;
    }
    if (best == kAccepted) {
      best = stage;
    } else if (stage > best) {  // the first candidate to get furthest keeps its refusal
      best = stage;
      std::swap(out.refusal, out.attempt_);
    }
    return false;
  });
  if (out.accepted) return;
  if (best == kStageRole && tried > 1) {
    // The actor may fire none of them: the refusal speaks of them all.
    bool may_override = false;
    for_each_candidate(p, snapshot.state, c.event, candidates, [&](const TransitionDef& t) {
      may_override = may_override || !overriding_role(p, c, shared, t).empty();
      return may_override;
    });
    refuse(out.refusal, RefusalKind::kRole, RefusalCause::kRole);
    out.refusal.may_override = may_override;
  }
}

}  // namespace

bool decide_precheck(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& c, Outcome& out) {
  // An unknown event has no candidates to look up; precheck() refuses it
  // before it reads them.
  const bool known = c.event >= 0 && static_cast<size_t>(c.event) < p.events.size();
  return precheck(p, snapshot, c, known ? candidates_of(p, snapshot.state, c.event) : Candidates{}, out);
}

void decide_checked(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& c, Outcome& out,
                    DecisionTrace* trace, size_t parsed) {
  checked(p, snapshot, c, candidates_of(p, snapshot.state, c.event), out, trace, parsed);
}

// Flattened: every rule of this file is inlined into the one call (the
// prechecks, the typed inputs, each candidate, the accepted step), which
// saves about a seventh of a decision's instructions in function entries
// and in what the compiler can then keep in registers across the rules. The
// cost is code: about 50 KB for this function.
[[gnu::flatten]] void decide_into(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& command,
                                  Outcome& out, DecisionTrace* trace) {
  // The candidates are looked up once, for the prechecks and the rest.
  const bool known = command.event >= 0 && static_cast<size_t>(command.event) < p.events.size();
  const Candidates candidates = known ? candidates_of(p, snapshot.state, command.event) : Candidates{};
  if (precheck(p, snapshot, command, candidates, out)) checked(p, snapshot, command, candidates, out, trace, 0);
}

}  // namespace sopir
