// Decisions per second in memory on one core, for a 12-state procedure with
// guards. Baseline in the same run: evaluating the same guards alone, which
// is the least any decision has to do. Target: 5,000,000 decisions/s.
//
//   decide_bench [--quick]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "lang/expr/expr.h"
#include "sopir/decide.h"
#include "sopir/loader.h"

namespace {

const char* kYaml = R"yaml(sop: bench-twelve
version: 1
title: Twelve states
roles: [worker, supervisor]
fields:
  age: {type: int}
  risk: {type: enum, values: [low, medium, high]}
  consent: {type: bool}
  arrived: {type: date}
states:
  s1: {initial: true}
  s2: {}
  s3: {}
  s4: {}
  s5: {}
  s6: {}
  s7: {}
  s8: {}
  s9: {}
  s10: {}
  s11: {}
  s12: {terminal: true}
transitions:
  - {event: next, from: s1, to: s2, roles: [worker], when: "age >= 18 and consent == true"}
  - {event: next, from: s1, to: s3, roles: [worker], when: "age < 18 or consent == false"}
  - {event: next, from: s2, to: s4, roles: [worker], when: "risk in [high, medium] and days_since(arrived) < 30"}
  - {event: next, from: s2, to: s5, roles: [worker], when: "risk == low"}
  - {event: next, from: s3, to: s6, roles: [worker]}
  - {event: next, from: s4, to: s7, roles: [supervisor, worker], when: "has(arrived)"}
  - {event: next, from: s5, to: s8, roles: [worker]}
  - {event: next, from: s6, to: s9, roles: [worker]}
  - {event: next, from: s7, to: s10, roles: [worker]}
  - {event: next, from: s8, to: s11, roles: [worker]}
  - {event: next, from: s9, to: s12, roles: [worker]}
  - {event: next, from: s10, to: s12, roles: [worker]}
  - {event: next, from: s11, to: s12, roles: [worker]}
)yaml";

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const long iterations = quick ? 200000 : 5000000;
  auto loaded = sopir::load_procedure_string(kYaml, "bench.yaml");
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    return 1;
  }
  const sopir::Procedure& p = *loaded.procedure;

  sopir::CaseSnapshot snapshot;
  snapshot.id = "BEN-CH1";
  snapshot.data.resize(p.fields.size());
  snapshot.data[p.field_index("age")] = int64_t{29};
  snapshot.data[p.field_index("risk")] = std::string("high");
  snapshot.data[p.field_index("consent")] = true;
  snapshot.data[p.field_index("arrived")] = *sopir::parse_date("2026-03-01");
  sopir::Command command;
  command.event = "next";
  command.actor = {"rina", {"worker"}};
  command.at = *sopir::parse_datetime("2026-03-10T08:00:00Z");

  // Walk the states that have guards, round robin.
  const int states[] = {p.state_index("s1"), p.state_index("s2"), p.state_index("s4")};
  long accepted = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    snapshot.state = states[i % 3];
    accepted += std::holds_alternative<sopir::Transition>(sopir::decide(p, snapshot, command));
  }
  const double decide_rate = iterations / seconds_since(start);

  const sopir::EvalContext context{&snapshot.data, command.at};
  long true_guards = 0;
  start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    const auto& t = p.transitions[p.transitions_from[states[i % 3]][0]];
    true_guards += sopir::evaluate_guard(*t.guard, p.fields, context).value;
  }
  const double guard_rate = iterations / seconds_since(start);

  std::printf("decide_bench: %ld decisions (%ld accepted), 12-state procedure with guards\n",
              iterations, accepted);
  std::printf("  %-34s %12.0f /s\n", "decide()", decide_rate);
  std::printf("  %-34s %12.0f /s  (baseline)\n", "the same guards evaluated alone", guard_rate);
  std::printf("  %-34s %12.2f\n", "decide / baseline", decide_rate / guard_rate);
  std::printf("  %-34s %12s  (%s)\n", "target 5,000,000 /s", decide_rate >= 5e6 ? "met" : "NOT MET",
              quick ? "quick run" : "full run");
  return accepted == iterations && true_guards == iterations ? 0 : 1;
}
