// decide(): the procedure's rules, applied to one step. Pure.
//
// Candidate transitions (same event, same source state) are tried in file
// order; the first that passes every check wins. When none passes, the
// refusal of the candidate that got furthest through the checks is returned,
// because that is the one that tells staff what to do next.
#include "sopir/decide.h"

#include "rules/deadline.h"
#include "rules/field_bounds.h"

#include <algorithm>
#include <map>
#include <regex>

#include "lang/expr/expr.h"
#include "rules/lifecycle.h"
#include "sopir/messages/base.h"
#include "sopir/messages/rules.h"
#include "sopir/text.h"

namespace sopir {

LinkedCase linked_case(std::string id, std::string sop_id, Status status, const std::string& state,
                       const std::string& closure_reason) {
  LinkedCase out{std::move(id), std::move(sop_id), status, {}, {}};
  out.state = state;
  if (status == Status::kClosed) out.outcome = closure_reason.empty() ? state : closure_reason;
  return out;
}

const char* to_string(Status status) {
  switch (status) {
    case Status::kActive: return "active";
    case Status::kOnHold: return "on_hold";
    case Status::kClosed: return "closed";
  }
  return "?";
}

std::optional<Status> status_from_string(std::string_view text) {
  if (text == "active") return Status::kActive;
  if (text == "on_hold" || text == "on-hold") return Status::kOnHold;
  if (text == "closed") return Status::kClosed;
  return std::nullopt;
}

const char* to_string(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::kUnknownEvent: return "unknown-event";
    case RefusalKind::kNotInState: return "not-in-state";
    case RefusalKind::kRole: return "role";
    case RefusalKind::kGuard: return "guard";
    case RefusalKind::kMissingField: return "missing-field";
    case RefusalKind::kBadInput: return "bad-input";
    case RefusalKind::kFourEyes: return "four-eyes";
    case RefusalKind::kReasonRequired: return "reason";
    case RefusalKind::kOnHold: return "on-hold";
    case RefusalKind::kClosed: return "closed";
    case RefusalKind::kOverride: return "override";
    case RefusalKind::kLifecycle: return "lifecycle";
  }
  return "?";
}

const char* to_string(LifecycleEvent event) {
  switch (event) {
    case LifecycleEvent::kHold: return "hold";
    case LifecycleEvent::kResume: return "resume";
    case LifecycleEvent::kClose: return "close";
    case LifecycleEvent::kReopen: return "reopen";
  }
  return "?";
}

namespace {

// The language of a command's messages: "id" or "en" (never "", which base
// helpers read as the process's language: decide() reads no process state).
std::string_view message_lang(std::string_view lang) { return lang == "id" ? "id" : "en"; }

std::vector<std::string> role_names(const Procedure& p, const std::vector<int>& roles) {
  std::vector<std::string> out;
  for (int r : roles) out.push_back(p.roles[r]);
  return out;
}

std::vector<std::string> field_names(const Procedure& p, const std::vector<int>& fields) {
  std::vector<std::string> out;
  for (int f : fields) out.push_back(p.fields[f].id);
  return out;
}

std::string state_name(const Procedure& p, int state, std::string_view lang) {
  const StateDef& s = p.states[state];
  const std::string label = s.label.get(lang);
  return "'" + s.id + "'" + (label.empty() || label == s.id ? "" : " (" + label + ")");
}

// a == b, deciding most unequal pairs of names (which share lengths and
// prefixes: "case_worker", "case_leader") by their last byte without
// calling memcmp.
bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a.back() == b.back() && a == b));
}

// The actor's first role that is in `allowed`, or "". A procedure's roles
// are unique (the loader refuses one named twice), so comparing with the
// allowed ones alone gives what looking each role up would. A view of the
// actor's own string: candidates that are refused copy no role.
std::string_view matching_role(const Procedure& p, const Actor& actor, const std::vector<int>& allowed) {
  for (const auto& role : actor.roles) {
    for (int index : allowed)
      if (same_name(p.roles[static_cast<size_t>(index)], role)) return role;
  }
  return "";
}

// "budi has roles a, b" / "budi has no roles".
std::string actor_roles(const Actor& actor, std::string_view lang) {
  return actor.roles.empty() ? tr(msg::rules_actor_has_no_roles, lang, {actor.id})
                             : tr(msg::rules_actor_has_roles, lang, {actor.id, join(actor.roles)});
}

std::string join_or(const std::vector<std::string>& items, std::string_view lang) {
  return join(items, tr(msg::base_list_or, lang));
}

bool matches_pattern(const std::string& pattern, const std::string& text) {
  // Patterns come from an immutable procedure; compile each once per thread.
  thread_local std::map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
  return std::regex_match(text, it->second);
}

}  // namespace

std::string check_bounds(const FieldDef& field, const Value& value, std::string_view lang) {
  if (const auto* text = std::get_if<std::string>(&value); text && field.type == Type::kString) {
    const int64_t length = text_length(*text);
    const auto* min = field.min ? std::get_if<int64_t>(&*field.min) : nullptr;
    const auto* max = field.max ? std::get_if<int64_t>(&*field.max) : nullptr;
    if (min && length < *min) return tr(msg::rules_min_length, lang, {std::to_string(*min)});
    if (max && length > *max) return tr(msg::rules_max_length, lang, {std::to_string(*max)});
    if (field.pattern && !matches_pattern(*field.pattern, *text))
      return tr(msg::rules_pattern, lang, {*field.pattern});
    return "";
  }
  if (field.min && compare_values(value, *field.min).value_or(0) < 0)
    return tr(msg::rules_min_value, lang, {format_value(*field.min)});
  if (field.max && compare_values(value, *field.max).value_or(0) > 0)
    return tr(msg::rules_max_value, lang, {format_value(*field.max)});
  return "";
}

namespace {

// Parses one input against its field; a refusal message on failure.
std::optional<std::string> parse_input(const FieldDef& field, const std::string& text, Value* out,
                                       std::string_view lang) {
  std::string accepted;
  auto value = parse_typed(field.type, field.values, text, &accepted, lang);
  // How the refusal shows the value (built only for a refusal).
  auto shown_text = [&] { return field.pii ? tr(msg::rules_value_given, lang) : "'" + text + "'"; };
  if (!value && field.type == Type::kSet && !field.pii) {
    const std::string shown = shown_text();
    // Name the member that is wrong: in "threats,debts" it is 'debts'.
    std::string unknown;
    canonical_set(field.values, set_members(text.size() > 1 && text.front() == '[' && text.back() == ']'
                                                 ? text.substr(1, text.size() - 2)
                                                 : text),
                  &unknown);
    return tr(msg::rules_set_member_unknown, lang,
              {field.id, unknown, shown, accepted, did_you_mean(unknown, field.values, "'", lang)});
  }
  if (!value) {
    const std::string guess = field.type == Type::kEnum ? did_you_mean(text, field.values, "'", lang) : "";
    return tr(msg::rules_value_not_accepted, lang, {field.id, shown_text(), accepted, guess});
  }
  if (std::string problem = check_bounds(field, *value, lang); !problem.empty())
    return tr(msg::rules_value_out_of_bounds, lang, {field.id, shown_text(), problem});
  *out = std::move(*value);
  return std::nullopt;
}

struct Inputs {
  std::vector<std::pair<int, Value>> values;  // field index, parsed value
};

// Resolves and parses every input. A refusal when any is unknown or invalid.
// A reason with control characters in it (tabs and line breaks pass).
std::optional<Refusal> reason_refusal(const std::string& reason, std::string_view lang) {
  std::string problem = control_problem(reason, true, lang);
  if (problem.empty()) return std::nullopt;
  return Refusal{RefusalKind::kBadInput, tr(msg::rules_reason_control, lang, {problem})};
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

// Checks one typed input (Command::values) as parse_input checks text; a
// refusal message when it is not a value the field takes.
std::optional<std::string> check_typed_input(const FieldDef& field, const Value& value, std::string_view lang) {
  auto shown = [&] { return field.pii ? tr(msg::rules_value_given, lang) : "'" + format_value(value) + "'"; };
  const auto* text = std::get_if<std::string>(&value);
  bool accepted = has_type(field, value);
  if (accepted && text) {
    if (std::string problem = control_problem(*text, field.type == Type::kString, lang); !problem.empty())
      return tr(msg::rules_value_control, lang, {field.id, problem});
    if (field.type == Type::kEnum)
      accepted = std::find(field.values.begin(), field.values.end(), *text) != field.values.end();
    else if (field.type == Type::kSet)
      accepted = canonical_set(field.values, set_members(*text)) == *text;
  }
  if (!accepted)
    return tr(msg::rules_value_not_accepted, lang, {field.id, shown(), accepted_forms(field.type, field.values, lang), ""});
  if (std::string problem = check_bounds(field, value, lang); !problem.empty())
    return tr(msg::rules_value_out_of_bounds, lang, {field.id, shown(), problem});
  return std::nullopt;
}

std::optional<Refusal> read_inputs(const Procedure& p,
                                   const std::vector<std::pair<std::string, std::string>>& raw,
                                   const std::vector<std::pair<int, Value>>& typed, Inputs* out,
                                   std::string_view lang) {
  out->values.reserve(raw.size() + typed.size());
  for (const auto& [name, text] : raw) {
    const int index = p.field_index(name);
    if (index < 0) {
      return Refusal{RefusalKind::kBadInput,
                     tr(msg::rules_no_such_field, lang, {p.id, name, did_you_mean(name, p.field_ids(), "'", lang)})};
    }
    // Text fields may run over lines; no value may hold other control
    // characters (a NUL would cut it short where it is shown or stored).
    if (std::string problem = control_problem(text, p.fields[index].type == Type::kString, lang);
        !problem.empty())
      return Refusal{RefusalKind::kBadInput, tr(msg::rules_value_control, lang, {name, problem})};
    Value value;
    if (auto problem = parse_input(p.fields[index], text, &value, lang))
      return Refusal{RefusalKind::kBadInput, *problem};
    out->values.emplace_back(index, std::move(value));
  }
  for (const auto& [index, value] : typed) {
    if (index < 0 || static_cast<size_t>(index) >= p.fields.size())
      return Refusal{RefusalKind::kBadInput, tr(msg::rules_no_field_number, lang,
                                                {p.id, std::to_string(index), std::to_string(p.fields.size())})};
    if (auto problem = check_typed_input(p.fields[index], value, lang)) return Refusal{RefusalKind::kBadInput, *problem};
  }
  out->values.insert(out->values.end(), typed.begin(), typed.end());
  return std::nullopt;
}

// How far a candidate got; higher is further. Used to pick the refusal.
// Four-eyes is about who acts, like the role, so it is checked before what
// is given.
enum Stage { kStageRole, kStageFourEyes, kStageInputs, kStageGuard, kStageMissing, kStageReason };

struct Attempt {
  Stage stage;
  Refusal refusal;
  bool unexplained = false;  // the refusal's message is still to be written (try_transition)
};

// A refusal by a rule that cites where it comes from (`source:`) says so.
Refusal with_sources(Refusal refusal, const Sources& sources, std::string_view lang) {
  if (sources.empty()) return refusal;
  refusal.message += tr(msg::rules_source, lang, {join(sources, "; ")});
  refusal.sources = sources;
  return refusal;
}

bool contains(const std::vector<int>& items, int item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::optional<Attempt> check_input_fields(const Procedure& p, const TransitionDef& t,
                                          const Inputs& inputs, std::string_view lang) {
  for (const auto& [field, value] : inputs.values) {
    if (contains(t.requires_fields, field) || contains(t.accepts_fields, field)) continue;
    std::vector<int> taken = t.requires_fields;
    taken.insert(taken.end(), t.accepts_fields.begin(), t.accepts_fields.end());
    const std::string event = p.events[t.event];
    return Attempt{kStageInputs,
                   {RefusalKind::kBadInput,
                    tr(msg::rules_field_not_taken, lang,
                       {p.fields[field].id, event,
                        taken.empty() ? tr(msg::rules_takes_no_fields, lang)
                                      : tr(msg::rules_takes_fields, lang, {join(field_names(p, taken))})})}};
  }
  return std::nullopt;
}

std::optional<Attempt> check_required(const Procedure& p, const TransitionDef& t,
                                      const EvalContext& data, std::string_view lang) {
  std::vector<std::string> missing;
  for (int f : t.requires_fields) {
    if (is_missing(field_value(data, f))) missing.push_back(p.fields[f].id);
  }
  if (missing.empty()) return std::nullopt;
  return Attempt{kStageMissing,
                 {RefusalKind::kMissingField,
                  tr(missing.size() == 1 ? msg::rules_needs_value : msg::rules_needs_values, lang,
                     {p.events[t.event], join(missing)}),
                  missing}};
}

std::optional<Attempt> check_four_eyes(const Procedure& p, const TransitionDef& t,
                                       const CaseSnapshot& snapshot, const Actor& actor,
                                       std::string_view lang) {
  for (const auto& [event, who] : snapshot.fired) {
    if (who == actor.id && contains(t.distinct_from, event)) {
      return Attempt{kStageFourEyes,
                     {RefusalKind::kFourEyes,
                      tr(msg::rules_four_eyes, lang, {p.events[t.event], p.events[event], actor.id})}};
    }
  }
  return std::nullopt;
}

// The field changes of an opening: every field `working` holds that
// `before` (all missing) does not.
std::vector<FieldChange> opening_changes(const Procedure& p, const std::vector<Value>& before,
                                         const std::vector<Value>& working) {
  std::vector<FieldChange> changes;
  for (size_t f = 0; f < p.fields.size(); ++f) {
    if (working[f] != before[f]) changes.push_back({static_cast<int>(f), before[f], working[f]});
  }
  return changes;
}

// The changes a step makes: the overlay's fields (the inputs, then `set:`)
// whose last value differs from the case's, in field order.
std::vector<FieldChange> overlay_changes(const std::vector<Value>& before,
                                         const std::vector<std::pair<int, Value>>& overlay) {
  std::vector<FieldChange> changes;
  changes.reserve(overlay.size());
  for (size_t i = 0; i < overlay.size(); ++i) {
    const int field = overlay[i].first;
    bool later = false;  // a later entry sets the same field
    for (size_t j = i + 1; j < overlay.size() && !later; ++j) later = overlay[j].first == field;
    if (later || overlay[i].second == before[field]) continue;
    changes.push_back({field, before[field], overlay[i].second});
  }
  std::sort(changes.begin(), changes.end(),
            [](const FieldChange& a, const FieldChange& b) { return a.field < b.field; });
  return changes;
}

// The due time of the state a step enters, the anchor field (if any) read
// from the step's changes or else the case: nothing is copied.
std::optional<DateTime> due_after_step(const Procedure& p, int state, DateTime at,
                                       const std::vector<Value>& before,
                                       const std::vector<FieldChange>& changes) {
  const int anchor = p.states[state].deadline_from;
  const Value* value = anchor >= 0 && static_cast<size_t>(anchor) < before.size() ? &before[anchor] : nullptr;
  for (const auto& c : changes)
    if (c.field == anchor) value = &c.after;
  return due_for_anchor(p, state, at, value);
}

// The actor may fire none of the candidates: say who may, over all of them.
Refusal role_refusal(const Procedure& p, const std::vector<const TransitionDef*>& candidates,
                     const Command& command) {
  std::vector<int> roles, override_roles;
  for (const TransitionDef* t : candidates) {
    for (int r : t->roles)
      if (!contains(roles, r)) roles.push_back(r);
    for (int r : t->override_roles)
      if (!contains(override_roles, r)) override_roles.push_back(r);
  }
  const std::string_view override_role = matching_role(p, command.actor, override_roles);
  const std::string_view lang = message_lang(command.lang);
  std::string message = tr(msg::rules_event_roles, lang,
                           {p.events[candidates[0]->event], join_or(role_names(p, roles), lang),
                            actor_roles(command.actor, lang)});
  if (!override_role.empty()) message += tr(msg::rules_may_override, lang, {override_role});
  return Refusal{RefusalKind::kRole, message, {}, !override_role.empty()};
}

// One candidate transition against the command: a transition or how far it got.
// `guard_seen`, when not null, receives the guard's outcome. `explain`
// false: a refusal by role or by a false guard comes without its sentence
// (the costly part: the guard's explanation), for a candidate that a later
// one may still beat; decide() asks again, explained, for the refusal it
// returns. The stage and kind are the same either way.
std::variant<Transition, Attempt> try_transition(const Procedure& p, const TransitionDef& t,
                                                 const CaseSnapshot& snapshot,
                                                 const Command& command, const Inputs& inputs,
                                                 DecisionTrace::Guard* guard_seen, bool explain) {
  const std::string_view lang = message_lang(command.lang);
  std::string_view role = command.timer ? std::string_view("system") : matching_role(p, command.actor, t.roles);
  // Whoever may override a transition may also fire it when overriding.
  if (role.empty() && command.override) role = matching_role(p, command.actor, t.override_roles);
  if (role.empty())
    return Attempt{kStageRole, explain ? role_refusal(p, {&t}, command) : Refusal{RefusalKind::kRole, ""}, !explain};
  if (!command.timer) {
    if (auto a = check_four_eyes(p, t, snapshot, command.actor, lang)) return *a;
  }
  if (auto a = check_input_fields(p, t, inputs, lang)) return *a;
  // The case's values with the inputs standing in for theirs: a view, not
  // a copy of the case.
  const EvalContext context{&snapshot.data, command.at, &snapshot.children, {}, &snapshot.clocks,
                            inputs.values.empty() ? nullptr : &inputs.values};
  // The guard picks the branch, so it is checked before this branch's
  // required fields; but a guard that is false only because it reads a
  // required field nobody gave yet is reported as that missing field.
  auto missing = check_required(p, t, context, lang);
  if (missing && t.guard) {
    const auto read = fields_read(*t.guard);
    const bool guard_reads_missing = std::any_of(read.begin(), read.end(), [&](int f) {
      return contains(t.requires_fields, f) && is_missing(field_value(context, f));
    });
    if (guard_reads_missing) return *missing;
  }

  bool overridden = false;
  std::string guard_explanation;
  if (t.guard) {
    // The explanation is only built when the guard is false.
    const bool holds = guard_holds(*t.guard, context);
    if (guard_seen) *guard_seen = holds ? DecisionTrace::Guard::kTrue : DecisionTrace::Guard::kFalse;
    if (!holds && !explain && !command.override) {
      const bool may_override = !matching_role(p, command.actor, t.override_roles).empty();
      return Attempt{kStageGuard, {RefusalKind::kGuard, "", {}, may_override}, true};
    }
    if (!holds) {
      // A refusal names values by their labels in the command's language;
      // an override's explanation goes to the log, which keeps ids and English.
      EvalContext shown = context;
      shown.lang = command.lang;
      const GuardResult verdict = evaluate_guard(*t.guard, p.fields, command.override ? context : shown);
      const std::string_view override_role = matching_role(p, command.actor, t.override_roles);
      if (!command.override) {
        std::string message = tr(msg::rules_guard_false, lang, {p.events[t.event], verdict.explanation});
        if (!override_role.empty()) message += tr(msg::rules_may_override, lang, {override_role});
        return Attempt{kStageGuard, {RefusalKind::kGuard, message, {}, !override_role.empty()}};
      }
      if (override_role.empty()) {
        const std::string why = evaluate_guard(*t.guard, p.fields, shown).explanation;
        return Attempt{kStageGuard,
                       {RefusalKind::kOverride,
                        t.override_roles.empty()
                            ? tr(msg::rules_no_override, lang, {p.events[t.event], command.actor.id, why})
                            : tr(msg::rules_override_roles, lang,
                                 {p.events[t.event], command.actor.id,
                                  join_or(role_names(p, t.override_roles), lang), why})}};
      }
      overridden = true;
      role = override_role;
      guard_explanation = verdict.explanation;
    }
  }
  if (missing) return *missing;
  if ((t.reason_required || overridden) && !has_visible_text(command.reason)) {
    return Attempt{kStageReason,
                   {RefusalKind::kReasonRequired,
                    overridden ? tr(msg::rules_override_needs_reason, lang)
                               : tr(msg::rules_event_needs_reason, lang, {p.events[t.event]})}};
  }

  Transition out;
  out.transition = t.index;
  out.event = t.event;
  out.from = snapshot.state;
  out.to = t.target(snapshot.state);
  out.role = std::string(role);
  out.overridden = overridden;
  out.guard_explanation = std::move(guard_explanation);
  // Without inputs or `set:` nothing changes. `set:` expressions see the
  // inputs and the assignments before them.
  if (t.set.empty()) {
    if (!inputs.values.empty()) out.changes = overlay_changes(snapshot.data, inputs.values);
  } else {
    std::vector<std::pair<int, Value>> overlay = inputs.values;
    overlay.reserve(overlay.size() + t.set.size());
    EvalContext with_set = context;
    with_set.overlay = &overlay;
    with_set.clocks = nullptr;  // as before: `set:` reads no clocks
    for (const auto& assignment : t.set) {
      Value value = evaluate(*assignment.expr, with_set);
      overlay.emplace_back(assignment.field, std::move(value));
    }
    out.changes = overlay_changes(snapshot.data, overlay);
  }
  // A step that stays keeps the state's running deadline.
  out.due_at = t.stays ? snapshot.due_at : due_after_step(p, t.to, command.at, snapshot.data, out.changes);
  out.closes_case = p.states[out.to].terminal;
  return out;
}

// For a trace only: the candidates after the chosen one are tried too (their
// results discarded) so that coverage sees what their guards said in this
// situation; without it the second of two complementary branches could
// never be seen false.
void trace_remaining(const Procedure& p, const std::vector<const TransitionDef*>& candidates,
                     const TransitionDef* chosen, const CaseSnapshot& snapshot,
                     const Command& command, const Inputs& inputs, DecisionTrace* trace) {
  auto it = std::find(candidates.begin(), candidates.end(), chosen);
  for (++it; it != candidates.end(); ++it) {
    const TransitionDef* t = *it;
    DecisionTrace::Guard guard =
        t->guard ? DecisionTrace::Guard::kNotReached : DecisionTrace::Guard::kNone;
    try_transition(p, *t, snapshot, command, inputs, &guard, false);
    trace->candidates.push_back({t->index, guard});
  }
}

Refusal status_refusal(const CaseSnapshot& snapshot, std::string_view lang) {
  if (snapshot.status == Status::kClosed) return {RefusalKind::kClosed, tr(msg::rules_case_closed, lang)};
  return {RefusalKind::kOnHold, tr(msg::rules_case_on_hold, lang)};
}

}  // namespace

Decision decide(const Procedure& p, const CaseSnapshot& snapshot, const Command& command,
                DecisionTrace* trace) {
  const std::string_view lang = message_lang(command.lang);
  if (snapshot.status != Status::kActive) return status_refusal(snapshot, lang);
  if (auto refusal = reason_refusal(command.reason, lang)) return *refusal;
  const int event = p.event_index(command.event);
  // For refusal messages only: not built on the way to a transition.
  auto possible_text = [&] {
    const std::vector<std::string> possible = p.events_from(snapshot.state);
    return possible.empty() ? tr(msg::rules_nothing_possible, lang)
                            : tr(msg::rules_possible_now, lang, {join(possible)});
  };
  if (event < 0) {
    return Refusal{RefusalKind::kUnknownEvent,
                   tr(msg::rules_no_such_event, lang,
                      {p.id, command.event, did_you_mean(command.event, p.events, "'", lang), possible_text()})};
  }
  // The candidates: this event's transitions from this state, in file
  // order. Collected into a vector only where a refusal or a trace needs
  // them all at once.
  const std::vector<int>& from_here = p.transitions_from[snapshot.state];
  auto candidates = [&] {
    std::vector<const TransitionDef*> out;
    for (int t : from_here)
      if (p.transitions[t].event == event) out.push_back(&p.transitions[t]);
    return out;
  };
  const size_t candidate_count = static_cast<size_t>(std::count_if(
      from_here.begin(), from_here.end(), [&](int t) { return p.transitions[t].event == event; }));
  if (candidate_count == 0) {
    std::string message = tr(msg::rules_not_in_state, lang,
                             {command.event, state_name(p, snapshot.state, lang), possible_text()});
    if (auto guess = nearest(command.event, p.events_from(snapshot.state)))
      message += tr(msg::rules_did_you_mean_event, lang, {*guess});
    return Refusal{RefusalKind::kNotInState, message};
  }
  if (command.timer && p.states[snapshot.state].on_deadline != event) {
    return Refusal{RefusalKind::kRole, tr(msg::rules_timer_event, lang)};
  }
  Inputs inputs;
  if (auto refusal = read_inputs(p, command.inputs, command.values, &inputs, lang)) return *refusal;

  std::optional<Attempt> best;
  const TransitionDef* refused_by = nullptr;
  for (int index : from_here) {
    const TransitionDef* t = &p.transitions[index];
    if (t->event != event) continue;
    DecisionTrace::Guard guard =
        t->guard ? DecisionTrace::Guard::kNotReached : DecisionTrace::Guard::kNone;
    // A lone candidate's refusal is the one returned, so it is written at
    // once rather than found unexplained and then tried again to write it.
    auto result = try_transition(p, *t, snapshot, command, inputs, trace ? &guard : nullptr, candidate_count == 1);
    if (trace) trace->candidates.push_back({t->index, guard});
    if (auto* transition = std::get_if<Transition>(&result)) {
      if (trace) {
        trace->fired.push_back(t->index);
        trace_remaining(p, candidates(), t, snapshot, command, inputs, trace);
      }
      return std::move(*transition);
    }
    auto& attempt = std::get<Attempt>(result);
    if (!best || attempt.stage > best->stage) {
      best = std::move(attempt);
      refused_by = t;
    }
  }
  if (best->stage == kStageRole && candidate_count > 1) return role_refusal(p, candidates(), command);
  if (best->unexplained) {
    // The same candidate again, writing its refusal (the same stage and kind).
    best = std::get<Attempt>(try_transition(p, *refused_by, snapshot, command, inputs, nullptr, true));
  }
  return with_sources(std::move(best->refusal), refused_by->sources, lang);
}

Decision decide_open(const Procedure& p, const Actor& actor,
                     const std::vector<std::pair<std::string, std::string>>& raw, DateTime at,
                     bool by_handoff, std::string_view command_lang) {
  const std::string_view lang = message_lang(command_lang);
  std::vector<int> all_roles(p.roles.size());
  for (size_t i = 0; i < all_roles.size(); ++i) all_roles[i] = static_cast<int>(i);
  std::string role(matching_role(p, actor, all_roles));
  if (role.empty() && by_handoff) role = "hand-off";
  if (role.empty()) {
    return Refusal{RefusalKind::kRole, tr(msg::rules_open_roles, lang, {p.id, join(p.roles), actor_roles(actor, lang)})};
  }
  Inputs inputs;
  if (auto refusal = read_inputs(p, raw, {}, &inputs, lang)) return *refusal;
  std::vector<Value> before(p.fields.size());
  std::vector<Value> working = before;
  for (const auto& [field, value] : inputs.values) {
    if (p.open_declared && !contains(p.open_requires, field) && !contains(p.open_accepts, field)) {
      std::vector<int> taken = p.open_requires;
      taken.insert(taken.end(), p.open_accepts.begin(), p.open_accepts.end());
      return Refusal{RefusalKind::kBadInput,
                     tr(msg::rules_open_field_not_taken, lang, {p.fields[field].id, join(field_names(p, taken))})};
    }
    working[field] = value;
  }
  std::vector<std::string> missing;
  for (int f : p.open_requires) {
    if (is_missing(working[f])) missing.push_back(p.fields[f].id);
  }
  if (!missing.empty()) {
    return Refusal{RefusalKind::kMissingField,
                   tr(msg::rules_open_needs, lang, {p.id, join(missing)}), missing};
  }
  if (p.open_guard) {
    const EvalContext context{&working, at, nullptr, {}};
    if (!guard_holds(*p.open_guard, context)) {
      EvalContext shown = context;
      shown.lang = lang;
      const GuardResult verdict = evaluate_guard(*p.open_guard, p.fields, shown);
      return with_sources({RefusalKind::kGuard, tr(msg::open_guard_false, lang, {p.id, verdict.explanation})},
                          p.open_sources, lang);
    }
  }
  Transition out;
  out.to = p.initial_state;
  out.role = role;
  out.changes = opening_changes(p, before, working);
  out.due_at = due_for(p, p.initial_state, at, working);  // the values after the opening
  out.closes_case = p.states[p.initial_state].terminal;
  return out;
}

std::vector<EventCheck> check_events(const Procedure& p, const CaseSnapshot& snapshot,
                                     const Actor& actor, DateTime at, std::string_view lang) {
  std::vector<EventCheck> out;
  if (snapshot.state < 0) return out;
  for (const auto& event : p.events_from(snapshot.state)) {
    Command command;
    command.event = event;
    command.actor = actor;
    command.at = at;
    command.lang = std::string(lang);
    EventCheck check;
    check.event = event;
    Decision decision = decide(p, snapshot, command);
    if (auto* refusal = std::get_if<Refusal>(&decision)) {
      check.possible = refusal->kind == RefusalKind::kMissingField ||
                       refusal->kind == RefusalKind::kReasonRequired;
      check.refusal = *refusal;
    } else {
      check.possible = true;
    }
    out.push_back(std::move(check));
  }
  return out;
}

namespace {

const std::vector<int>& lifecycle_roles(const Procedure& p, LifecycleEvent event) {
  switch (event) {
    case LifecycleEvent::kHold: return p.hold_roles;
    case LifecycleEvent::kResume: return p.resume_roles;
    case LifecycleEvent::kClose: return p.close_roles;
    case LifecycleEvent::kReopen: return p.reopen_roles;
  }
  return p.hold_roles;
}

// "cannot hold case {0}: it is {1}" or, with `roles`, "to hold a case of ... needs the role".
const Message& lifecycle_message(LifecycleEvent event, bool roles) {
  switch (event) {
    case LifecycleEvent::kHold: return roles ? msg::rules_hold_roles : msg::rules_cannot_hold;
    case LifecycleEvent::kResume: return roles ? msg::rules_resume_roles : msg::rules_cannot_resume;
    case LifecycleEvent::kClose: return roles ? msg::rules_close_roles : msg::rules_cannot_close;
    case LifecycleEvent::kReopen: return roles ? msg::rules_reopen_roles : msg::rules_cannot_reopen;
  }
  return msg::rules_cannot_hold;
}

std::vector<std::string> closure_ids(const Procedure& p) {
  std::vector<std::string> out;
  for (const auto& reason : p.closure_reasons) out.push_back(reason.id);
  return out;
}

}  // namespace

LifecycleDecision decide_lifecycle(const Procedure& p, const CaseSnapshot& snapshot,
                                   const LifecycleCommand& command,
                                   std::optional<DateTime> hold_started) {
  const std::string_view lang = message_lang(command.lang);
  if (auto refusal = reason_refusal(command.reason, lang)) return *refusal;
  const auto next = lifecycle_next(snapshot.status, command.event);
  if (!next) {
    return Refusal{RefusalKind::kLifecycle, tr(lifecycle_message(command.event, false), lang,
                                               {snapshot.id, to_string(snapshot.status)})};
  }
  // Unset permissions in the procedure mean every declared role.
  std::vector<int> allowed = lifecycle_roles(p, command.event);
  if (allowed.empty()) {
    for (size_t i = 0; i < p.roles.size(); ++i) allowed.push_back(static_cast<int>(i));
  }
  const std::string role(matching_role(p, command.actor, allowed));
  if (role.empty()) {
    return Refusal{RefusalKind::kRole,
                   tr(lifecycle_message(command.event, true), lang,
                      {p.id, join_or(role_names(p, allowed), lang), actor_roles(command.actor, lang)})};
  }
  LifecycleTransition out;
  out.from = snapshot.status;
  out.to = *next;
  out.role = role;
  out.state_to = snapshot.state;
  out.due_at = snapshot.due_at;
  switch (command.event) {
    case LifecycleEvent::kHold:
      if (!has_visible_text(command.reason))
        return Refusal{RefusalKind::kReasonRequired, tr(msg::rules_hold_needs_reason, lang)};
      break;
    case LifecycleEvent::kResume:
      // The deadline clock paused while the case was on hold.
      if (snapshot.due_at && hold_started && command.at.seconds > hold_started->seconds)
        out.due_at = due_after_hold(p, snapshot.state, *snapshot.due_at, *hold_started, command.at);
      break;
    case LifecycleEvent::kClose: {
      const auto ids = closure_ids(p);
      if (command.reason.empty() || std::find(ids.begin(), ids.end(), command.reason) == ids.end()) {
        std::string message = command.reason.empty()
                                  ? tr(msg::rules_close_needs_reason, lang)
                                  : tr(msg::rules_not_closure_reason, lang, {command.reason, p.id});
        if (auto guess = nearest(command.reason, ids); guess && !command.reason.empty())
          message += tr(msg::rules_did_you_mean_reason, lang, {*guess});
        message += ids.empty() ? tr(msg::rules_no_closure_reasons, lang) : tr(msg::rules_one_of, lang, {join(ids)});
        return Refusal{command.reason.empty() ? RefusalKind::kReasonRequired : RefusalKind::kBadInput,
                       message};
      }
      out.due_at.reset();
      break;
    }
    case LifecycleEvent::kReopen:
      if (!has_visible_text(command.reason))
        return Refusal{RefusalKind::kReasonRequired, tr(msg::rules_reopen_needs_reason, lang)};
      if (snapshot.state >= 0 && p.states[snapshot.state].terminal) {
        if (p.reopen_to < 0)
          return Refusal{RefusalKind::kLifecycle, tr(msg::rules_reopen_finished, lang,
                                                     {snapshot.id, state_name(p, snapshot.state, lang), p.id})};
        out.state_to = p.reopen_to;
      }
      out.due_at = due_for(p, out.state_to, command.at, snapshot.data);
      break;
  }
  return out;
}

}  // namespace sopir
