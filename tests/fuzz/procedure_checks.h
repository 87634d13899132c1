// What every procedure the engine is handed must satisfy, checked
// independently of the code that built it (the loader or the compiled-form
// decoder): decide() and the engine index by these numbers without checks.
#pragma once

#include <cstdlib>

#include "sopir/procedure.h"

namespace sopir::fuzz {

inline void check(bool condition) {
  if (!condition) std::abort();
}

inline void check_indices(const Procedure& p) {
  const int states = static_cast<int>(p.states.size());
  const int events = static_cast<int>(p.events.size());
  const int fields = static_cast<int>(p.fields.size());
  const int roles = static_cast<int>(p.roles.size());
  const int transitions = static_cast<int>(p.transitions.size());
  auto in = [](int i, int n) { return i >= 0 && i < n; };
  auto all_in = [&](const std::vector<int>& v, int n) {
    for (int i : v) check(in(i, n));
  };
  check(in(p.initial_state, states));
  check(p.reopen_to == -1 || in(p.reopen_to, states));
  check(p.transitions_from.size() == p.states.size());
  for (const auto& from : p.transitions_from) all_in(from, transitions);
  all_in(p.open_requires, fields);
  all_in(p.open_accepts, fields);
  for (const auto* list : {&p.hold_roles, &p.resume_roles, &p.close_roles, &p.reopen_roles, &p.pii_roles})
    all_in(*list, roles);
  for (size_t i = 0; i < p.transitions.size(); ++i) {
    const TransitionDef& t = p.transitions[i];
    check(t.index == static_cast<int>(i));
    check(in(t.event, events));
    check(t.stays ? t.to == -1 : in(t.to, states));  // to: '*' stays where it is
    all_in(t.from, states);
    all_in(t.roles, roles);
    all_in(t.requires_fields, fields);
    all_in(t.accepts_fields, fields);
    all_in(t.distinct_from, events);
    all_in(t.override_roles, roles);
    for (const auto& a : t.set) check(in(a.field, fields) && a.expr != nullptr);
    for (const HandOff& h : t.opens) {
      for (const auto& copied : h.copy) check(in(copied.second, fields));
      check(h.site_field == -1 || in(h.site_field, fields));
    }
    check(t.guard_text.empty() == (t.guard == nullptr));
  }
  for (const auto& s : p.states) {
    check(s.on_deadline == -1 || in(s.on_deadline, events));
    check(s.deadline_from == -1 || in(s.deadline_from, fields));
  }
  for (const ClockDef& c : p.clocks) {
    all_in(c.start, states);
    all_in(c.stop, states);
    check(c.limit_from == -1 || in(c.limit_from, fields));
  }
  for (const FieldDef& f : p.fields) check(f.value_labels.empty() || f.value_labels.size() == f.values.size());
}

}  // namespace sopir::fuzz
