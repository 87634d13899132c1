// decide() by name and text over decide_into() (decide_core.cc, where the
// rules of a step are), decide_open(), decide_lifecycle(),
// check_events() and possible_events(). Pure.
#include "sopir/decide.h"

#include <algorithm>

#include "lang/expr/expr.h"
#include "rules/deadline.h"
#include "rules/decide_parts.h"
#include "rules/field_bounds.h"
#include "rules/lifecycle.h"
#include "sopir/decide_indexed.h"
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

// Parses one input against its field; a refusal message on failure.
std::optional<std::string> parse_input(const FieldDef& field, const std::string& text, Value* out,
                                       std::string_view lang, DateTime at) {
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
  if (std::string problem = check_bounds(field, *value, lang, at); !problem.empty())
    return tr(msg::rules_value_out_of_bounds, lang, {field.id, shown_text(), problem});
  *out = std::move(*value);
  return std::nullopt;
}

// Resolves and parses inputs given as text, appending them to `out`; a
// refusal when any is unknown or invalid.
std::optional<Refusal> read_text_inputs(const Procedure& p,
                                        const std::vector<std::pair<std::string, std::string>>& raw,
                                        std::vector<std::pair<int, Value>>& out,
                                        std::string_view lang, DateTime at) {
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
    if (auto problem = parse_input(p.fields[index], text, &value, lang, at))
      return Refusal{RefusalKind::kBadInput, *problem};
    out.emplace_back(index, std::move(value));
  }
  return std::nullopt;
}

// A reason with control characters in it (tabs and line breaks pass).
std::optional<Refusal> reason_refusal(const std::string& reason, std::string_view lang) {
  std::string problem = control_problem(reason, true, lang);
  if (problem.empty()) return std::nullopt;
  return Refusal{RefusalKind::kBadInput, tr(msg::rules_reason_control, lang, {problem})};
}

bool contains(const std::vector<int>& items, int item) {
  return std::find(items.begin(), items.end(), item) != items.end();
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

}  // namespace

// The names resolved, then the rules by index: decide_into() itself when no
// input comes as text; else its two parts with the text inputs parsed
// between them (after the checks that come before inputs, so that a
// refusal is the one it always was). The refusal's sentence is written
// from what they recorded. Every path returns `result`, so that it is
// built where the caller receives it.
Decision decide(const Procedure& p, const CaseSnapshot& snapshot, const Command& command,
                DecisionTrace* trace) {
  Decision result;
  IndexedCommand c;
  c.event = p.event_index(command.event);
  c.event_name = command.event;
  c.actor = &command.actor;
  c.reason = command.reason;
  c.override = command.override;
  c.timer = command.timer;
  c.recorded = command.recorded;
  c.at = command.at;
  c.lang = command.lang;
  Outcome out;
  std::vector<std::pair<int, Value>> inputs;
  if (command.inputs.empty()) {
    c.values = &command.values;
    decide_into(p, snapshot, c, out, trace);
  } else {
    if (!decide_precheck(p, snapshot, c, out)) {
      result = refusal_of(p, snapshot, c, out);
      return result;
    }
    // Typed values come after the text ones, so that the last of a field wins.
    inputs.reserve(command.inputs.size() + command.values.size());
    if (auto refusal =
            read_text_inputs(p, command.inputs, inputs, message_lang(command.lang), command.at)) {
      result = std::move(*refusal);
      return result;
    }
    inputs.insert(inputs.end(), command.values.begin(), command.values.end());
    c.values = &inputs;
    // The text inputs, parsed and checked, come first: not checked again.
    decide_checked(p, snapshot, c, out, trace, command.inputs.size());
  }
  if (out.accepted)
    transition_into(snapshot, out, std::get<Transition>(result));
  else
    result = refusal_of(p, snapshot, c, out);
  return result;
}

Decision decide_open(const Procedure& p, const Actor& actor,
                     const std::vector<std::pair<std::string, std::string>>& raw, DateTime at,
                     bool by_handoff, std::string_view command_lang, bool recorded) {
  const std::string_view lang = message_lang(command_lang);
  std::vector<int> all_roles(p.roles.size());
  for (size_t i = 0; i < all_roles.size(); ++i) all_roles[i] = static_cast<int>(i);
  std::string role(matching_role(p, actor, all_roles));
  if (role.empty() && by_handoff) role = "hand-off";
  if (role.empty()) {
    return Refusal{RefusalKind::kRole, tr(msg::rules_open_roles, lang, {p.id, join(p.roles), actor_roles(actor, lang)})};
  }
  // A field the opening does not take is refused before any value is
  // checked: fixing the value of a field that cannot be given helps nobody.
  if (p.open_declared)
    for (const auto& [name, text] : raw) {
      const int field = p.field_index(name);
      if (field < 0 || contains(p.open_requires, field) || contains(p.open_accepts, field))
        continue;
      std::vector<int> taken = p.open_requires;
      taken.insert(taken.end(), p.open_accepts.begin(), p.open_accepts.end());
      return Refusal{RefusalKind::kBadInput,
                     tr(msg::rules_open_field_not_taken, lang, {p.fields[field].id, join(field_names(p, taken))})};
    }
  std::vector<std::pair<int, Value>> inputs;
  if (auto refusal = read_text_inputs(p, raw, inputs, lang, at)) return *refusal;
  std::vector<Value> before(p.fields.size());
  std::vector<Value> working = before;
  for (const auto& [field, value] : inputs) working[field] = value;
  std::vector<std::string> missing;
  bool blank = false;
  for (int f : p.open_requires) {
    const bool blank_here = !recorded && blank_text(p.fields[f], working[f]);
    blank = blank || blank_here;
    if (is_missing(working[f]) || blank_here) missing.push_back(p.fields[f].id);
  }
  if (!missing.empty()) {
    return Refusal{RefusalKind::kMissingField,
                   tr(msg::rules_open_needs, lang, {p.id, join(missing)}) +
                       (blank ? tr(msg::rules_blank_is_no_value, lang) : std::string()),
                   missing};
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

namespace {

// The events of the current state by index, each decided with no inputs and
// no reason through one Outcome, the actor's roles matched by rank; a
// refusal's sentence is written only for the events kept.
std::vector<EventCheck> event_checks(const Procedure& p, const CaseSnapshot& snapshot,
                                     const Actor& actor, DateTime at, std::string_view lang,
                                     bool possible_only) {
  std::vector<EventCheck> out;
  const std::vector<int> events = p.event_indices_from(snapshot.state);
  if (events.empty()) return out;
  const std::vector<int> ranks = role_ranks(p, actor);
  IndexedCommand command;
  command.actor = &actor;
  command.role_ranks = &ranks;
  command.at = at;
  command.lang = lang;
  Outcome outcome;
  for (const int event : events) {
    command.event = event;
    command.event_name = p.events[event];
    decide_into(p, snapshot, command, outcome);
    // Possible once the fields or the reason the refusal names are given.
    const bool possible = outcome.accepted || outcome.refusal.kind == RefusalKind::kMissingField ||
                          outcome.refusal.kind == RefusalKind::kReasonRequired;
    if (possible_only && !possible) continue;
    EventCheck& check = out.emplace_back();
    check.event = p.events[event];
    check.possible = possible;
    if (!outcome.accepted) check.refusal = refusal_of(p, snapshot, command, outcome);
  }
  return out;
}

}  // namespace

std::vector<EventCheck> check_events(const Procedure& p, const CaseSnapshot& snapshot,
                                     const Actor& actor, DateTime at, std::string_view lang) {
  return event_checks(p, snapshot, actor, at, lang, false);
}

std::vector<EventCheck> possible_events(const Procedure& p, const CaseSnapshot& snapshot,
                                        const Actor& actor, DateTime at, std::string_view lang) {
  return event_checks(p, snapshot, actor, at, lang, true);
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

// A status as a person reads it, in `lang`.
std::string status_text(Status status, std::string_view lang) {
  switch (status) {
    case Status::kActive:
      return tr(msg::rules_status_active, lang);
    case Status::kOnHold:
      return tr(msg::rules_status_on_hold, lang);
    case Status::kClosed:
      return tr(msg::rules_status_closed, lang);
  }
  return to_string(status);
}

// The statuses from which the case lifecycle takes `event`, as the machine
// says (lifecycle_next), joined for a sentence: "active or on hold".
std::string statuses_taking(LifecycleEvent event, std::string_view lang) {
  std::string out;
  for (Status s : {Status::kActive, Status::kOnHold, Status::kClosed}) {
    if (!lifecycle_next(s, event)) continue;
    if (!out.empty()) out += tr(msg::rules_or, lang);
    out += status_text(s, lang);
  }
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
                                               {snapshot.id, status_text(snapshot.status, lang),
                                                statuses_taking(command.event, lang)})};
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
