// What decide.cc (names, text, the Decision), decide_core.cc (the rules by
// index) and refusal_text.cc (a refusal's sentence) share (internal to
// rules/).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/decide_indexed.h"
#include "sopir/text.h"

namespace sopir {

// The language of a command's messages: "id" or "en" (never "", which base
// helpers read as the process's language: decide() reads no process state).
inline std::string_view message_lang(std::string_view lang) { return lang == "id" ? "id" : "en"; }

// The actor's first role that is in `allowed` (role indices), or "": a view
// of the actor's own string.
std::string_view matching_role(const Procedure& p, const Actor& actor, const std::vector<int>& allowed);

// Whether a typed input is a value its field takes, and if not why.
enum class ValueProblem { kNone, kControl, kNotAccepted, kBounds };
// `at`: the step's time, for a `today` / `now` bound (field_bounds.h).
ValueProblem typed_value_problem(const FieldDef& field, const Value& value, DateTime at);

// Whether a string field's value has no visible character (empty, or
// spaces, tabs and line breaks only): a `requires:` field (of a step or of
// the opening) holding such text is still to give in a live step. A step
// recorded before this rule decides as it did (Command::recorded).
inline bool blank_text(const FieldDef& field, const Value& value) {
  const auto* text = std::get_if<std::string>(&value);
  return field.type == Type::kString && text && !has_visible_text(*text);
}

// decide_into() in two parts, so that decide() can parse text inputs between
// them and refuse a bad one where decide() always has: after the checks of
// the case, the reason and the event, before the typed inputs and the
// candidates. decide_precheck() returns false when it refused (`out` says
// why); decide_checked() decides the rest. `parsed`: how many of the
// command's first values decide() parsed from text, which checked them as
// typed values are checked (a parsed value always passes), so they are not
// checked again.
bool decide_precheck(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& command,
                     Outcome& out);
void decide_checked(const Procedure& p, const CaseSnapshot& snapshot, const IndexedCommand& command,
                    Outcome& out, DecisionTrace* trace, size_t parsed = 0);

// transition_of() into a Transition the caller holds (decide() fills the
// one inside the Decision it returns, which is then not moved).
void transition_into(const CaseSnapshot& snapshot, const Outcome& outcome, Transition& out);

// Pieces of refusal sentences (refusal_text.cc).
std::vector<std::string> role_names(const Procedure& p, const std::vector<int>& roles);
std::vector<std::string> field_names(const Procedure& p, const std::vector<int>& fields);
std::string state_name(const Procedure& p, int state, std::string_view lang);  // "'intake' (Intake)"
std::string actor_roles(const Actor& actor, std::string_view lang);  // "budi has roles a, b"
std::string join_or(const std::vector<std::string>& items, std::string_view lang);  // "a or b"
// A refusal by a rule that cites where it comes from (`source:`) says so.
Refusal with_sources(Refusal refusal, const Sources& sources, std::string_view lang);
// Why a typed input is not a value its field takes; nullopt when it is.
std::optional<std::string> typed_input_message(const FieldDef& field, const Value& value,
                                               std::string_view lang, DateTime at);

// The candidates of `event` in `state`: a range of the procedure's
// candidate table, or, when it has none (`table` false), the transitions
// of transitions_from[state] whose event it is.
struct Candidates {
  bool table = false;
  const int* begin = nullptr;
  const int* end = nullptr;
};

inline Candidates candidates_of(const Procedure& p, int state, int event) {
  const size_t events = p.events.size();
  if (p.candidate_starts.size() != p.states.size() * events + 1) return {};
  const size_t at = static_cast<size_t>(state) * events + static_cast<size_t>(event);
  const int* list = p.candidate_list.data();
  return {true, list + p.candidate_starts[at], list + p.candidate_starts[at + 1]};
}

// Calls f(transition) for each of `candidates` (of `event` in `state`), in
// file order, until f returns true.
template <typename F>
void for_each_candidate(const Procedure& p, int state, int event, const Candidates& candidates, F&& f) {
  if (candidates.table) {
    for (const int* t = candidates.begin; t != candidates.end; ++t)
      if (f(p.transitions[static_cast<size_t>(*t)])) return;
    return;
  }
  for (int t : p.transitions_from[static_cast<size_t>(state)])
    if (p.transitions[static_cast<size_t>(t)].event == event && f(p.transitions[static_cast<size_t>(t)])) return;
}

// Calls f(transition) for each candidate of `event` in `state`, in file
// order, until f returns true.
template <typename F>
void for_each_candidate(const Procedure& p, int state, int event, F&& f) {
  for_each_candidate(p, state, event, candidates_of(p, state, event), f);
}

}  // namespace sopir
