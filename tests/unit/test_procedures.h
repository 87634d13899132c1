// Small procedures written for the unit tests, loaded from strings.
#pragma once

#include <catch2/catch.hpp>

#include "sopir/case.h"
#include "sopir/loader.h"

namespace sopir::testing {

// A compact care procedure that exercises every rule decide() applies:
// guards, roles, requires/accepts, set, four-eyes, override, reasons,
// deadlines with a timer event, lifecycle permissions and reopen_to.
inline constexpr const char* kCareYaml = R"(sop: test-care
version: 1
title: {en: Test care, id: Uji perawatan}
roles: [worker, supervisor]
fields:
  age: {type: int, min: 0, max: 120, label: Age}
  full_name: {type: string, pii: true, label: Name}
  risk: {type: enum, values: [low, high], label: Risk}
  consent: {type: bool, label: Consent}
  screened_on: {type: date, label: Screened on}
  plan: {type: string, label: Plan}
states:
  intake: {label: Intake, initial: true, deadline: 24h, on_deadline: escalate}
  screening: {label: Screening, deadline: 7d}
  emergency: {label: Emergency}
  care: {label: Care}
  plan_review: {label: Plan review}
  escalated: {label: Escalated}
  done: {label: Done, terminal: true}
transitions:
  - {event: screen, from: intake, to: screening, roles: [worker], requires: [age], accepts: [full_name], set: {screened_on: today()}}
  - {event: escalate, from: intake, to: escalated, roles: [supervisor]}
  - {event: back, from: escalated, to: intake, roles: [supervisor], reason: required}
  - {event: assess, from: screening, to: emergency, when: risk == high, roles: [worker], requires: [risk]}
  - {event: assess, from: screening, to: care, when: risk == low and consent == true, roles: [worker], requires: [risk], accepts: [consent], override: {roles: [supervisor]}}
  - {event: stabilise, from: emergency, to: care, roles: [worker]}
  - {event: write_plan, from: care, to: plan_review, roles: [worker, supervisor], requires: [plan]}
  - {event: approve_plan, from: plan_review, to: done, roles: [supervisor], distinct_from: [write_plan]}
closure_reasons: [needs_met, declined]
open:
  accepts: [full_name, age]
lifecycle: {close: [supervisor], reopen: [supervisor], reopen_to: care}
pii_visible_to: [supervisor]
)";

inline ProcedurePtr load_or_fail(const char* yaml, const char* name = "test.yaml") {
  LoadResult result = load_procedure_string(yaml, name);
  for (const auto& d : result.diagnostics) {
    if (d.severity == Severity::kError) FAIL(d.format());
  }
  REQUIRE(result.ok());
  return result.procedure;
}

// A case of `procedure` in `state` (which it must have), active, with no
// field given yet: what decide() is asked about in most tests.
inline CaseSnapshot snapshot_at(const Procedure& procedure, const std::string& state) {
  CaseSnapshot s;
  s.id = "K7F-3QX";
  s.state = procedure.state_index(state);
  REQUIRE(s.state >= 0);
  s.data.resize(procedure.fields.size());
  return s;
}

}  // namespace sopir::testing
