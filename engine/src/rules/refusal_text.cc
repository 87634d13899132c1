// refusal_of(): the sentence of a refusal decide_into() recorded, written
// when someone reads it; transition_of(): an accepted outcome as decide()
// returns it. Every rule is decided in decide_core.cc; this file only says
// what was decided, from the same procedure, case and command.
#include <algorithm>

#include "lang/expr/expr.h"
#include "rules/decide_parts.h"
#include "rules/field_bounds.h"
#include "sopir/messages/base.h"
#include "sopir/error.h"
#include "sopir/messages/rules.h"
#include "sopir/text.h"

namespace sopir {

std::vector<std::string> role_names(const Procedure& p, const std::vector<int>& roles) {
  std::vector<std::string> out;
  for (int r : roles) out.push_back(p.roles[static_cast<size_t>(r)]);
  return out;
}

std::vector<std::string> field_names(const Procedure& p, const std::vector<int>& fields) {
  std::vector<std::string> out;
  for (int f : fields) out.push_back(p.fields[static_cast<size_t>(f)].id);
  return out;
}

std::string state_name(const Procedure& p, int state, std::string_view lang) {
  const StateDef& s = p.states[static_cast<size_t>(state)];
  const std::string label = s.label.get(lang);
  return "'" + s.id + "'" + (label.empty() || label == s.id ? "" : " (" + label + ")");
}

std::string actor_roles(const Actor& actor, std::string_view lang) {
  return actor.roles.empty() ? tr(msg::rules_actor_has_no_roles, lang, {actor.id})
                             : tr(msg::rules_actor_has_roles, lang, {actor.id, join(actor.roles)});
}

std::string join_or(const std::vector<std::string>& items, std::string_view lang) {
  return join(items, tr(msg::base_list_or, lang));
}

Refusal with_sources(Refusal refusal, const Sources& sources, std::string_view lang) {
  if (sources.empty()) return refusal;
  refusal.message += tr(msg::rules_source, lang, {join(sources, "; ")});
  refusal.sources = sources;
  return refusal;
}

std::optional<std::string> typed_input_message(const FieldDef& field, const Value& value,
                                               std::string_view lang, DateTime at) {
  auto shown = [&] { return field.pii ? tr(msg::rules_value_given, lang) : "'" + format_value(value) + "'"; };
  switch (typed_value_problem(field, value, at)) {
    case ValueProblem::kNone: return std::nullopt;
    case ValueProblem::kControl:
      return tr(msg::rules_value_control, lang,
                {field.id, control_problem(std::get<std::string>(value), field.type == Type::kString, lang)});
    case ValueProblem::kNotAccepted:
      return tr(msg::rules_value_not_accepted, lang,
                {field.id, shown(), accepted_forms(field.type, field.values, lang), ""});
    case ValueProblem::kBounds:
      return tr(msg::rules_value_out_of_bounds, lang,
                {field.id, shown(), check_bounds(field, value, lang, at)});
  }
  return std::nullopt;
}

namespace {

// The actor may fire none of `candidates`: say who may, over all of them.
Refusal role_refusal(const Procedure& p, const std::vector<const TransitionDef*>& candidates, const Actor& actor,
                     std::string_view lang) {
  std::vector<int> roles, override_roles;
  auto add = [](std::vector<int>& to, int r) {
    if (std::find(to.begin(), to.end(), r) == to.end()) to.push_back(r);
  };
  for (const TransitionDef* t : candidates) {
    for (int r : t->roles) add(roles, r);
    for (int r : t->override_roles) add(override_roles, r);
  }
  const std::string_view override_role = matching_role(p, actor, override_roles);
  std::string message = tr(msg::rules_event_roles, lang,
                           {p.events[static_cast<size_t>(candidates[0]->event)], join_or(role_names(p, roles), lang),
                            actor_roles(actor, lang)});
  if (!override_role.empty()) message += tr(msg::rules_may_override, lang, {override_role});
  return Refusal{RefusalKind::kRole, message, {}, !override_role.empty()};
}

// "possible now: a, b" or "nothing is possible now".
std::string possible_text(const Procedure& p, int state, std::string_view lang) {
  const std::vector<std::string> possible = p.events_from(state);
  return possible.empty() ? tr(msg::rules_nothing_possible, lang) : tr(msg::rules_possible_now, lang, {join(possible)});
}

// What a guard saw, as the command's reader reads it (labels in its
// language): the case's values with the step's inputs over them.
EvalContext shown_context(const CaseSnapshot& snapshot, const IndexedCommand& c) {
  EvalContext context{&snapshot.data, c.at, &snapshot.children, c.lang, &snapshot.clocks,
                      c.values && !c.values->empty() ? c.values : nullptr};
  return context;
}

// The refusal of one candidate transition (before its sources are added).
Refusal candidate_refusal(const Procedure& p, const TransitionDef& t, const CaseSnapshot& snapshot,
                          const IndexedCommand& c, const RefusalInfo& r, std::string_view lang) {
  const std::string& event = p.events[static_cast<size_t>(t.event)];
  const Actor& actor = *c.actor;
  switch (r.cause) {
    case RefusalCause::kRole: return role_refusal(p, {&t}, actor, lang);
    case RefusalCause::kFourEyes:
      return {RefusalKind::kFourEyes,
              tr(msg::rules_four_eyes, lang, {event, p.events[static_cast<size_t>(r.other_event)], actor.id})};
    case RefusalCause::kFieldNotTaken: {
      std::vector<int> taken = t.requires_fields;
      taken.insert(taken.end(), t.accepts_fields.begin(), t.accepts_fields.end());
      return {RefusalKind::kBadInput,
              tr(msg::rules_field_not_taken, lang,
                 {p.fields[static_cast<size_t>(r.field)].id, event,
                  taken.empty() ? tr(msg::rules_takes_no_fields, lang)
                                : tr(msg::rules_takes_fields, lang, {join(field_names(p, taken))})})};
    }
    case RefusalCause::kGuard: {
      const std::string why = evaluate_guard(*t.guard, p.fields, shown_context(snapshot, c)).explanation;
      const std::string_view override_role = matching_role(p, actor, t.override_roles);
      std::string message = tr(msg::rules_guard_false, lang, {event, why});
      if (!override_role.empty()) message += tr(msg::rules_may_override, lang, {override_role});
      return {RefusalKind::kGuard, message, {}, !override_role.empty()};
    }
    case RefusalCause::kOverrideRefused: {
      const std::string why = evaluate_guard(*t.guard, p.fields, shown_context(snapshot, c)).explanation;
      return {RefusalKind::kOverride,
              t.override_roles.empty()
                  ? tr(msg::rules_no_override, lang, {event, actor.id, why})
                  : tr(msg::rules_override_roles, lang,
                       {event, actor.id, join_or(role_names(p, t.override_roles), lang), why})};
    }
    case RefusalCause::kMissingField: {
      std::vector<std::string> missing = field_names(p, r.fields);
      std::string message =
          tr(missing.size() == 1 ? msg::rules_needs_value : msg::rules_needs_values, lang, {event, join(missing)});
      const EvalContext context = shown_context(snapshot, c);
      if (std::any_of(r.fields.begin(), r.fields.end(), [&](int f) {
            return blank_text(p.fields[static_cast<size_t>(f)], field_value(context, f));
          }))
        message += tr(msg::rules_blank_is_no_value, lang);
      return {RefusalKind::kMissingField, std::move(message), std::move(missing)};
    }
    case RefusalCause::kReasonRequired:
      return {RefusalKind::kReasonRequired, r.overridden ? tr(msg::rules_override_needs_reason, lang)
                                                         : tr(msg::rules_event_needs_reason, lang, {event})};
    case RefusalCause::kSetOutOfBounds: {
      const FieldDef& field = p.fields[static_cast<size_t>(r.field)];
      const std::string shown =
          field.pii ? tr(msg::rules_value_given, lang) : "'" + format_value(r.value) + "'";
      return {RefusalKind::kBadInput,
              tr(msg::rules_set_out_of_bounds, lang,
                 {event, field.id, shown, check_bounds(field, r.value, lang, c.at)})};
    }
    default: break;
  }
  throw usage_error(tr(msg::rules_refusal_of_no_transition));
}

}  // namespace

Refusal refusal_of(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& c, const Outcome& outcome) {
  if (outcome.accepted) throw usage_error(tr(msg::rules_refusal_of_accepted));
  const std::string_view lang = message_lang(c.lang);
  const RefusalInfo& r = outcome.refusal;
  switch (r.cause) {
    case RefusalCause::kClosed: return {RefusalKind::kClosed, tr(msg::rules_case_closed, lang)};
    case RefusalCause::kOnHold: return {RefusalKind::kOnHold, tr(msg::rules_case_on_hold, lang)};
    case RefusalCause::kReasonControl:
      return {RefusalKind::kBadInput, tr(msg::rules_reason_control, lang, {control_problem(c.reason, true, lang)})};
    case RefusalCause::kUnknownEvent:
      return {RefusalKind::kUnknownEvent,
              tr(msg::rules_no_such_event, lang,
                 {p.id, c.event_name, did_you_mean(c.event_name, p.events, "'", lang),
                  possible_text(p, snapshot.state, lang)})};
    case RefusalCause::kNotInState: {
      const std::string& event = p.events[static_cast<size_t>(c.event)];
      std::string message = tr(msg::rules_not_in_state, lang,
                               {event, state_name(p, snapshot.state, lang), possible_text(p, snapshot.state, lang)});
      if (auto guess = nearest(event, p.events_from(snapshot.state)))
        message += tr(msg::rules_did_you_mean_event, lang, {*guess});
      return {RefusalKind::kNotInState, message};
    }
    case RefusalCause::kTimerEvent: return {RefusalKind::kRole, tr(msg::rules_timer_event, lang)};
    case RefusalCause::kNoFieldNumber:
      return {RefusalKind::kBadInput,
              tr(msg::rules_no_field_number, lang,
                 {p.id, std::to_string((*c.values)[static_cast<size_t>(r.input)].first),
                  std::to_string(p.fields.size())})};
    case RefusalCause::kBadValue: {
      const auto& [field, value] = (*c.values)[static_cast<size_t>(r.input)];
      return {RefusalKind::kBadInput,
              typed_input_message(p.fields[static_cast<size_t>(field)], value, lang, c.at)
                  .value_or("")};
    }
    case RefusalCause::kRole:
      if (r.transition < 0) {
        std::vector<const TransitionDef*> candidates;
        for_each_candidate(p, snapshot.state, c.event, [&](const TransitionDef& t) {
          candidates.push_back(&t);
          return false;
        });
        return role_refusal(p, candidates, *c.actor, lang);
      }
      break;
    default: break;
  }
  if (r.transition < 0 || static_cast<size_t>(r.transition) >= p.transitions.size())
    throw usage_error(tr(msg::rules_refusal_of_no_transition));
  const TransitionDef& t = p.transitions[static_cast<size_t>(r.transition)];
  return with_sources(candidate_refusal(p, t, snapshot, c, r, lang), t.sources, lang);
}

void transition_into(const CaseSnapshot& snapshot, const Outcome& outcome, Transition& out) {
  out.transition = outcome.transition;
  out.event = outcome.event;
  out.from = outcome.from;
  out.to = outcome.to;
  // clear() + append(), not assign(): assign() goes through libstdc++'s
  // general _M_replace, about 50 instructions more a decision.
  out.role.clear();
  out.role.append(outcome.role.data(), outcome.role.size());
  out.overridden = outcome.overridden;
  if (!outcome.guard_explanation.empty() || !out.guard_explanation.empty())
    out.guard_explanation = outcome.guard_explanation;
  out.changes.clear();
  out.changes.reserve(outcome.changes.size());
  for (const auto& [field, after] : outcome.changes)
    out.changes.push_back({field, snapshot.data[static_cast<size_t>(field)], after});
  out.due_at = outcome.due_at;
  out.closes_case = outcome.closes_case;
}

Transition transition_of(const CaseSnapshot& snapshot, const Outcome& outcome) {
  Transition out;
  transition_into(snapshot, outcome, out);
  return out;
}

}  // namespace sopir
