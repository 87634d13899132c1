#include "rules/handoff.h"

#include <algorithm>
#include <set>

#include "lang/expr/expr.h"
#include "sopir/messages/rules.h"

namespace sopir {
namespace {

bool contains(const std::vector<int>& items, int item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// Whether `values` of a source enum all exist in the target enum.
bool enum_fits(const FieldDef& from, const FieldDef& to) {
  return std::all_of(from.values.begin(), from.values.end(), [&](const std::string& v) {
    return std::find(to.values.begin(), to.values.end(), v) != to.values.end();
  });
}

void check_one(const Procedure& p, const HandOff& h, const Procedure& target,
               std::vector<std::string>& problems) {
  const std::string at = where(p, h.pos);
  std::vector<int> given;
  for (const auto& [to_field, from_index] : h.copy) {
    const int index = target.field_index(to_field);
    if (index < 0) {
      problems.push_back(at + tr(msg::rules_handoff_no_copy_field, {target.id, to_field}));
      continue;
    }
    given.push_back(index);
    const FieldDef& from = p.fields[from_index];
    const FieldDef& to = target.fields[index];
    if (from.type != to.type) {
      problems.push_back(at + tr(msg::rules_handoff_copy_type,
                                 {from.id, type_name(from.type), target.id, to.id, type_name(to.type)}));
    } else if ((from.type == Type::kEnum || from.type == Type::kSet) && !enum_fits(from, to)) {
      problems.push_back(at + tr(msg::rules_handoff_copy_values, {from.id, target.id, to.id}));
    }
    if (from.pii && !to.pii) {
      problems.push_back(at + tr(msg::rules_handoff_copy_pii, {from.id, target.id, to.id}));
    }
  }
  for (const auto& [to_field, text] : h.set) {
    const int index = target.field_index(to_field);
    if (index < 0) {
      problems.push_back(at + tr(msg::rules_handoff_no_set_field, {target.id, to_field}));
      continue;
    }
    given.push_back(index);
    const FieldDef& to = target.fields[index];
    std::string accepted;
    if (!parse_typed(to.type, to.values, text, &accepted)) {
      problems.push_back(at + tr(msg::rules_handoff_set_value, {target.id, to_field, text, accepted}));
    }
  }
  if (target.open_declared) {
    for (int f : given) {
      if (!contains(target.open_requires, f) && !contains(target.open_accepts, f))
        problems.push_back(at + tr(msg::rules_handoff_not_opening_field, {target.id, target.fields[f].id}));
    }
  }
  for (int f : target.open_requires) {
    if (!contains(given, f))
      problems.push_back(at + tr(msg::rules_handoff_needs_field, {target.id, target.fields[f].id}));
  }
}

// Depth-first search for a chain of hand-offs from `from` back to `start`.
bool leads_to(const std::string& start, const Procedure& from, const ProcedureLookup& lookup,
              std::set<std::string>& seen, std::vector<std::string>& path) {
  for (const auto& t : from.transitions) {
    for (const HandOff& h : t.opens) {
      const std::string& next = h.sop;
      path.push_back(next);
      if (next == start) return true;
      if (seen.insert(next).second) {
        if (ProcedurePtr target = lookup(next); target && leads_to(start, *target, lookup, seen, path))
          return true;
      }
      path.pop_back();
    }
  }
  return false;
}

// Where `value` is written in the guard of `t` (its quoted literal), found
// in the source from the transition on; the transition's place otherwise.
SourcePos literal_pos(const Procedure& p, const TransitionDef& t, const std::string& value) {
  const std::string& src = p.source;
  size_t at = 0;
  for (int line = 1; line < t.pos.line && at != std::string::npos; ++line) {
    at = src.find('\n', at);
    if (at != std::string::npos) ++at;
  }
  if (at == std::string::npos) return t.pos;
  const size_t guard = src.find(t.guard_text, at);
  size_t found = std::string::npos;
  if (guard != std::string::npos) {
    const size_t end = guard + t.guard_text.size();
    for (const char* q : {"'", "\""}) {
      const size_t f = src.find(q + value + q, guard);
      if (f != std::string::npos && f < end && f < found) found = f;
    }
  }
  if (found == std::string::npos) return t.pos;
  SourcePos pos{1, 1};
  for (size_t i = 0; i < found; ++i) {
    if (src[i] == '\n') {
      ++pos.line;
      pos.column = 1;
    } else {
      ++pos.column;
    }
  }
  return pos;
}

// Text compared with track_state('x') / track_outcome('x') that procedure x
// (when published) can never give.
void check_track_literals(const Procedure& p, const ProcedureLookup& lookup, std::vector<std::string>& problems) {
  for (const auto& t : p.transitions) {
    if (!t.guard) continue;
    for (const TrackLiteral& lit : track_literals(*t.guard)) {
      ProcedurePtr track = lookup(lit.sop);
      if (!track) continue;  // unpublished: the hand-off check or lint says so
      std::vector<std::string> known;
      if (lit.outcome) {
        for (const ClosureReason& r : track->closure_reasons) known.push_back(r.id);
        for (const StateDef& s : track->states) {
          if (s.terminal) known.push_back(s.id);
        }
      } else {
        known = track->state_ids();
      }
      if (std::find(known.begin(), known.end(), lit.value) != known.end()) continue;
      const std::string hint = did_you_mean(lit.value, known);
      problems.push_back(where(p, literal_pos(p, t, lit.value)) +
                         tr(lit.outcome ? msg::track_outcome_unknown : msg::track_state_unknown,
                            {lit.value, lit.sop, hint.empty() ? tr(msg::track_values_known, {join(known)}) : hint}));
    }
  }
}

}  // namespace

std::string where(const Procedure& p, const SourcePos& pos) {
  return p.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": ";
}


std::vector<std::string> check_handoffs(const Procedure& p, const ProcedureLookup& lookup) {
  std::vector<std::string> problems;
  // The procedure being published stands for its own id in the lookup.
  const ProcedureLookup with_self = [&](const std::string& id) -> ProcedurePtr {
    if (id == p.id) return ProcedurePtr(&p, [](const Procedure*) {});
    return lookup(id);
  };
  for (const auto& t : p.transitions) {
    for (const HandOff& h : t.opens) {
      ProcedurePtr target = with_self(h.sop);
      if (!target) {
        problems.push_back(where(p, h.pos) + tr(msg::rules_handoff_unpublished, {h.sop}));
        continue;
      }
      check_one(p, h, *target, problems);
    }
  }
  check_track_literals(p, with_self, problems);
  std::set<std::string> seen;
  std::vector<std::string> path{p.id};
  if (leads_to(p.id, p, with_self, seen, path)) {
    std::string chain;
    for (size_t i = 0; i < path.size(); ++i) chain += (i ? " -> " : "") + path[i];
    problems.push_back(tr(msg::rules_handoff_loop, {p.file, chain}));
  }
  return problems;
}

}  // namespace sopir
