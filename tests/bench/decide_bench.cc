// Decisions per second in memory on one core:
//   1. a 12-state procedure with guards, beside its baseline in the same run:
//      evaluating the same guards alone, the least any decision has to do;
//   1b. the same procedure with a set field (multi-select) read by its
//      guards (membership, count), beside 1 in the same run;
//   2. the shipped procedures (workflows/*.yaml): every transition fired
//      from its first source state by an actor holding every role, on a
//      case whose fields all hold a value, with the inputs the transition
//      requires. Target (issue #18): at least 15,000,000 decisions/s;
//   3. a procedure with tracks (tests/data/tracks/victim-care.yaml), whose
//      joins read four linked cases in the snapshot, beside the same
//      procedure with its opens and joins removed
//      (tests/data/tracks/victim-care-no-tracks.yaml) in the same run.
//
//   2c. the same decisions by index (decide_into()), beside decide() given
//      the same typed inputs in the same run, after checking that every one
//      of them decides the same by index, with typed inputs and with its
//      inputs as text;
//
//   decide_bench [--quick] [--shipped | --walk]    (part 2 alone, or part 1
//   alone, for a profiler)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <algorithm>

#include "lang/expr/expr.h"
#include "sopir/decide.h"
#include "sopir/decide_indexed.h"
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

// The twelve states again, with a set field in the guards of s1, s2, s4.
std::string set_variant() {
  std::string yaml = kYaml;
  auto replace = [&](const std::string& from, const std::string& to) {
    yaml.replace(yaml.find(from), from.size(), to);
  };
  replace("sop: bench-twelve", "sop: bench-twelve-sets");
  replace("  arrived: {type: date}\n",
          "  arrived: {type: date}\n  means: {type: set, values: [debt_bondage, threats, "
          "confiscated_documents, isolation]}\n");
  replace("\"age >= 18 and consent == true\"", "\"age >= 18 and consent == true and debt_bondage in means\"");
  replace("\"age < 18 or consent == false\"", "\"age < 18 or consent == false or count(means) == 0\"");
  replace("\"risk in [high, medium] and days_since(arrived) < 30\"",
          "\"risk in [high, medium] and count(means) >= 2\"");
  replace("\"has(arrived)\"", "\"has(arrived) and isolation not in means\"");
  return yaml;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A value of each type, as a person would type it.
std::string sample_text(const sopir::FieldDef& field) {
  switch (field.type) {
    case sopir::Type::kInt: return "30";
    case sopir::Type::kBool: return "true";
    case sopir::Type::kDate: return "2026-03-01";
    case sopir::Type::kDateTime: return "2026-03-01T08:00:00Z";
    case sopir::Type::kEnum: return field.values.empty() ? "" : field.values.front();
    case sopir::Type::kSet: return field.values.size() < 2 ? "" : field.values[1] + "," + field.values[0];
    case sopir::Type::kDuration: return "7d";
    case sopir::Type::kString: return "Contoh";
  }
  return "";
}

struct Shipped {
  sopir::ProcedurePtr procedure;
  sopir::CaseSnapshot snapshot;
  std::vector<std::pair<int, sopir::Command>> steps;  // (state, command)
};

// Every shipped procedure with one decision per transition.
std::vector<Shipped> shipped(const sopir::DateTime at) {
  std::vector<Shipped> out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(SOPIR_SOURCE_DIR "/workflows")) {
    const auto name = entry.path().filename().string();
    if (entry.path().extension() == ".yaml" && name.find(".test.") == std::string::npos) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    auto loaded = sopir::load_procedure_file(file.string());
    if (!loaded.procedure) continue;
    Shipped s;
    s.procedure = loaded.procedure;
    const sopir::Procedure& p = *s.procedure;
    s.snapshot.id = "BEN-CH2";
    s.snapshot.data.resize(p.fields.size());
    for (size_t f = 0; f < p.fields.size(); ++f) {
      if (auto v = sopir::parse_typed(p.fields[f].type, p.fields[f].values, sample_text(p.fields[f]), nullptr))
        s.snapshot.data[f] = *v;
    }
    sopir::Actor actor{"rina", p.roles};
    for (const auto& t : p.transitions) {
      if (t.from.empty()) continue;
      sopir::Command c;
      c.event = p.events[static_cast<size_t>(t.event)];
      c.actor = actor;
      c.at = at;
      for (int f : t.requires_fields) c.inputs.emplace_back(p.fields[static_cast<size_t>(f)].id, sample_text(p.fields[static_cast<size_t>(f)]));
      s.steps.emplace_back(t.from.front(), std::move(c));
    }
    out.push_back(std::move(s));
  }
  return out;
}

// The tracks example with its four tracks closed (the medical one fit), so
// every join holds and every transition is accepted.
// `with_tracks` false: the same procedure without opens and joins, and no
// linked cases in the snapshot (the baseline).
Shipped tracks_example(const sopir::DateTime at, bool with_tracks = true) {
  Shipped s;
  auto loaded = sopir::load_procedure_file(with_tracks ? SOPIR_SOURCE_DIR "/tests/data/tracks/victim-care.yaml"
                                                       : SOPIR_SOURCE_DIR "/tests/data/tracks/victim-care-no-tracks.yaml");
  if (!loaded.procedure) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    std::exit(1);
  }
  s.procedure = loaded.procedure;
  const sopir::Procedure& p = *s.procedure;
  s.snapshot.id = "BEN-CH3";
  s.snapshot.data.resize(p.fields.size());
  s.snapshot.data[p.field_index("full_name")] = std::string("Contoh");
  s.snapshot.data[p.field_index("age")] = int64_t{24};
  const char* tracks[][3] = {{"TRK-001", "medical-track", "fit"},
                             {"TRK-002", "psychosocial-track", "done"},
                             {"TRK-003", "legal-track", "done"},
                             {"TRK-004", "tracing-track", "done"}};
  for (const auto& t : tracks)
    if (with_tracks) s.snapshot.children.push_back(sopir::linked_case(t[0], t[1], sopir::Status::kClosed, t[2], ""));
  sopir::Actor actor{"rina", p.roles};
  for (const auto& t : p.transitions) {
    sopir::Command c;
    c.event = p.events[static_cast<size_t>(t.event)];
    c.actor = actor;
    c.at = at;
    s.steps.emplace_back(t.from.front(), std::move(c));
  }
  return s;
}

// The machine's load average, printed with the figures it colours.
void print_load(const char* when) {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) == 3)
    std::printf("decide_bench: load average %s: %.2f %.2f %.2f\n", when, load[0], load[1], load[2]);
}

// One shipped step by index: its inputs typed, for decide_into() and for
// decide() (Command::values) alike.
struct Indexed {
  Shipped* shipped = nullptr;
  int state = -1;
  const sopir::Command* text = nullptr;  // the step with its inputs as text
  sopir::Command typed;                  // the same with them typed
  std::vector<int> ranks;                // the actor's roles by index
  sopir::IndexedCommand command;         // points into `typed` and `ranks`
  bool accepted = false;
};

std::vector<Indexed> indexed_steps(const std::vector<std::pair<Shipped*, size_t>>& work) {
  std::vector<Indexed> out(work.size());
  for (size_t i = 0; i < work.size(); ++i) {
    auto& [s, step] = work[i];
    const sopir::Procedure& p = *s->procedure;
    Indexed& x = out[i];
    x.shipped = s;
    x.state = s->steps[step].first;
    x.text = &s->steps[step].second;
    x.typed = *x.text;
    x.typed.inputs.clear();
    for (const auto& [name, text] : x.text->inputs) {
      const int f = p.field_index(name);
      const auto& field = p.fields[static_cast<size_t>(f)];
      auto value = sopir::parse_typed(field.type, field.values, text, nullptr);
      if (!value) {
        std::fprintf(stderr, "decide_bench: %s: '%s' is not a %s\n", p.id.c_str(), text.c_str(), name.c_str());
        std::exit(1);
      }
      x.typed.values.emplace_back(f, std::move(*value));
    }
    x.command.event = p.event_index(x.typed.event);
    x.command.event_name = x.typed.event;
    x.command.actor = &x.typed.actor;
    x.ranks = sopir::role_ranks(p, x.typed.actor);
    x.command.role_ranks = &x.ranks;
    x.command.reason = x.typed.reason;
    x.command.at = x.typed.at;
    x.command.values = &x.typed.values;
    x.command.lang = x.typed.lang;
  }
  return out;
}

bool same_transition(const sopir::Transition& a, const sopir::Transition& b) {
  if (a.changes.size() != b.changes.size()) return false;
  for (size_t i = 0; i < a.changes.size(); ++i) {
    if (a.changes[i].field != b.changes[i].field || a.changes[i].before != b.changes[i].before ||
        a.changes[i].after != b.changes[i].after)
      return false;
  }
  return a.transition == b.transition && a.event == b.event && a.from == b.from && a.to == b.to &&
         a.role == b.role && a.overridden == b.overridden && a.guard_explanation == b.guard_explanation &&
         a.due_at == b.due_at && a.closes_case == b.closes_case;
}

bool same_refusal(const sopir::Refusal& a, const sopir::Refusal& b) {
  return a.kind == b.kind && a.message == b.message && a.missing == b.missing && a.may_override == b.may_override &&
         a.sources == b.sources;
}

// How many steps decide by index otherwise than decide() decides them with
// the same typed inputs, or with them as text, in full; each is named on
// stderr. decide() with typed inputs runs decide_into() itself; with text
// inputs it runs the rules in their two parts (decide_precheck(), then
// decide_checked() after the parse), so the check compares two paths of
// the rules. One Outcome serves every step, as in the timed loop. Sets
// each step's `accepted`.
long check_indexed(std::vector<Indexed>& steps) {
  long differ = 0;
  sopir::Outcome outcome;
  for (Indexed& x : steps) {
    const sopir::Procedure& p = *x.shipped->procedure;
    sopir::CaseSnapshot& snapshot = x.shipped->snapshot;
    snapshot.state = x.state;
    sopir::decide_into(p, snapshot, x.command, outcome);
    x.accepted = outcome.accepted;
    const sopir::Decision typed = sopir::decide(p, snapshot, x.typed);
    const sopir::Decision text = sopir::decide(p, snapshot, *x.text);
    bool same = outcome.accepted == std::holds_alternative<sopir::Transition>(typed) && typed.index() == text.index();
    if (same && outcome.accepted) {
      same = same_transition(sopir::transition_of(snapshot, outcome), std::get<sopir::Transition>(typed)) &&
             same_transition(std::get<sopir::Transition>(typed), std::get<sopir::Transition>(text));
    } else if (same) {
      same = same_refusal(sopir::refusal_of(p, snapshot, x.command, outcome), std::get<sopir::Refusal>(typed)) &&
             same_refusal(std::get<sopir::Refusal>(typed), std::get<sopir::Refusal>(text));
    }
    if (!same) {
      ++differ;
      std::fprintf(stderr, "decide_bench: %s %s decides otherwise by index\n", p.id.c_str(), x.typed.event.c_str());
    }
  }
  return differ;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, shipped_only = false, walk_only = false;
  for (int i = 1; i < argc; ++i) {
    quick = quick || std::strcmp(argv[i], "--quick") == 0;
    shipped_only = shipped_only || std::strcmp(argv[i], "--shipped") == 0;
    walk_only = walk_only || std::strcmp(argv[i], "--walk") == 0;
  }
  const long iterations = quick ? 200000 : 5000000;
  print_load("before");
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
  for (long i = 0; i < (shipped_only ? 0 : iterations); ++i) {
    snapshot.state = states[i % 3];
    accepted += std::holds_alternative<sopir::Transition>(sopir::decide(p, snapshot, command));
  }
  const double decide_rate = iterations / seconds_since(start);

  const sopir::EvalContext context{&snapshot.data, command.at, nullptr, {}};
  long true_guards = 0;
  start = std::chrono::steady_clock::now();
  for (long i = 0; i < (shipped_only ? 0 : iterations); ++i) {
    const auto& t = p.transitions[p.transitions_from[states[i % 3]][0]];
    true_guards += sopir::evaluate_guard(*t.guard, p.fields, context).value;
  }
  const double guard_rate = iterations / seconds_since(start);

  // 1b. The same walk on the variant whose guards read a set field.
  auto with_sets = sopir::load_procedure_string(set_variant(), "bench-sets.yaml");
  if (!with_sets.ok()) {
    for (const auto& d : with_sets.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
    return 1;
  }
  const sopir::Procedure& ps = *with_sets.procedure;
  sopir::CaseSnapshot set_snapshot = snapshot;
  set_snapshot.data.resize(ps.fields.size());
  set_snapshot.data[ps.field_index("means")] =
      *sopir::parse_typed(sopir::Type::kSet, ps.fields[ps.field_index("means")].values,
                          "threats,debt_bondage,confiscated_documents", nullptr);
  long set_accepted = 0;
  start = std::chrono::steady_clock::now();
  for (long i = 0; i < (shipped_only ? 0 : iterations); ++i) {
    set_snapshot.state = states[i % 3];
    set_accepted += std::holds_alternative<sopir::Transition>(sopir::decide(ps, set_snapshot, command));
  }
  const double set_rate = iterations / seconds_since(start);

  if (!shipped_only) {
    std::printf("decide_bench: %ld decisions (%ld accepted), 12-state procedure with guards\n",
                iterations, accepted);
    std::printf("  %-34s %12.0f /s\n", "decide()", decide_rate);
    std::printf("  %-34s %12.0f /s  (baseline)\n", "the same guards evaluated alone", guard_rate);
    std::printf("  %-34s %12.2f\n", "decide / baseline", decide_rate / guard_rate);
    std::printf("  %-34s %12s  (%s)\n", "target 5,000,000 /s", decide_rate >= 5e6 ? "met" : "NOT MET",
                quick ? "quick run" : "full run");
    std::printf("decide_bench: the same procedure with a set field in its guards (%ld accepted)\n",
                set_accepted);
    std::printf("  %-34s %12.0f /s\n", "decide() with set guards", set_rate);
    std::printf("  %-34s %12.2f\n", "with sets / without", set_rate / decide_rate);
  }

  if (walk_only) return 0;

  // 2. The shipped procedures, round robin over their transitions.
  std::vector<Shipped> procedures = shipped(command.at);
  std::vector<std::pair<Shipped*, size_t>> work;
  for (auto& s : procedures)
    for (size_t i = 0; i < s.steps.size(); ++i) work.emplace_back(&s, i);
  long shipped_accepted = 0;
  const long shipped_iterations = quick ? 200000 : 10000000;
  start = std::chrono::steady_clock::now();
  for (long i = 0; i < (shipped_only ? 0 : shipped_iterations); ++i) {
    auto& [s, step] = work[static_cast<size_t>(i) % work.size()];
    s->snapshot.state = s->steps[step].first;
    shipped_accepted +=
        std::holds_alternative<sopir::Transition>(sopir::decide(*s->procedure, s->snapshot, s->steps[step].second));
  }
  const double shipped_rate = (shipped_only ? 0 : shipped_iterations) / seconds_since(start);
  // 2b. The same decisions apart: those accepted, those refused (a refusal
  // writes its sentence, which no accepted step does), and the accepted
  // ones with their inputs given typed (Command::values) instead of as text.
  std::vector<std::pair<Shipped*, size_t>> accepted_work, refused_work;
  std::vector<sopir::Command> typed_commands;
  std::map<std::string, int> refusal_kinds;
  for (auto& [s, step] : work) {
    s->snapshot.state = s->steps[step].first;
    const sopir::Command& c = s->steps[step].second;
    auto d = sopir::decide(*s->procedure, s->snapshot, c);
    if (auto* r = std::get_if<sopir::Refusal>(&d)) {
      refused_work.emplace_back(s, step);
      ++refusal_kinds[sopir::to_string(r->kind)];
      if (std::getenv("DECIDE_BENCH_REFUSALS"))
        std::printf("  refused %s %s: %s\n", s->procedure->id.c_str(), c.event.c_str(), r->message.c_str());
      continue;
    }
    accepted_work.emplace_back(s, step);
    sopir::Command typed = c;
    typed.inputs.clear();
    for (const auto& [name, text] : c.inputs) {
      const int f = s->procedure->field_index(name);
      const auto& field = s->procedure->fields[static_cast<size_t>(f)];
      typed.values.emplace_back(f, *sopir::parse_typed(field.type, field.values, text, nullptr));
    }
    typed_commands.push_back(std::move(typed));
  }
  auto time_work = [&](const std::vector<std::pair<Shipped*, size_t>>& list, bool typed, long* accepted_count) {
    const auto begin = std::chrono::steady_clock::now();
    for (long i = 0; i < shipped_iterations; ++i) {
      const size_t n = static_cast<size_t>(i) % list.size();
      auto& [s, step] = list[n];
      s->snapshot.state = s->steps[step].first;
      *accepted_count += std::holds_alternative<sopir::Transition>(
          sopir::decide(*s->procedure, s->snapshot, typed ? typed_commands[n] : s->steps[step].second));
    }
    return shipped_iterations / seconds_since(begin);
  };
  long accepted_text = 0, accepted_typed = 0, refused_accepted = 0;
  double accepted_rate = 0, typed_rate = 0, refused_rate = 0;
  // Alternated, so that a change in the machine's load hits each alike.
  for (int round = 0; round < 2; ++round) {
    accepted_rate += time_work(accepted_work, false, &accepted_text) / 2;
    typed_rate += time_work(accepted_work, true, &accepted_typed) / 2;
    if (!refused_work.empty()) refused_rate += time_work(refused_work, false, &refused_accepted) / 2;
  }
  // With --shipped the mixed round robin above is not run: no rate of it.
  if (shipped_only) {
    std::printf(
        "decide_bench: the %zu shipped procedures, %zu transitions (the mixed round robin skipped "
        "with --shipped)\n",
        procedures.size(), work.size());
  } else {
    std::printf(
        "decide_bench: the %zu shipped procedures, %zu transitions round robin, %ld decisions "
        "(%ld accepted)\n",
        procedures.size(), work.size(), shipped_iterations, shipped_accepted);
    std::printf("  %-34s %12.0f /s\n", "decide()", shipped_rate);
    std::printf("  %-34s %12s  (%s)\n", "target 15,000,000 /s",
                shipped_rate >= 15e6 ? "met" : "NOT MET", quick ? "quick run" : "full run");
  }
  std::printf("  of the %zu transitions: %zu accepted, %zu refused (", work.size(), accepted_work.size(),
              refused_work.size());
  for (const auto& [kind, count] : refusal_kinds)
    std::printf("%s%s %d", &kind == &refusal_kinds.begin()->first ? "" : ", ", kind.c_str(), count);
  std::printf(")\n");
  std::printf("  %-34s %12.0f /s\n", "decide(), accepted ones only", accepted_rate);
  std::printf("  %-34s %12.0f /s\n", "the same, inputs typed", typed_rate);
  std::printf("  %-34s %12.0f /s\n", "decide(), refused ones only", refused_rate);
  std::printf("  %-34s %12s\n", "target 15,000,000 /s, accepted", typed_rate >= 15e6 ? "met, typed" : accepted_rate >= 15e6 ? "met" : "NOT MET");

  // 2c. The same 162 decisions by index (decide_into(), sopir/decide_indexed.h):
  // the event by index, the inputs typed, the actor's roles by index
  // (role_ranks()), one Outcome reused, a refusal's sentence not written. Checked first against decide() given the same
  // typed inputs, in full (a refusal's sentence rendered by refusal_of()),
  // and against decide() given them as text in kind and target, so that it
  // cannot measure a wrong answer.
  std::vector<Indexed> indexed = indexed_steps(work);
  const long mismatches = check_indexed(indexed);
  sopir::Outcome outcome;
  auto time_indexed = [&](const std::vector<const Indexed*>& list, long* accepted_count) {
    const auto begin = std::chrono::steady_clock::now();
    for (long i = 0; i < shipped_iterations; ++i) {
      const Indexed& x = *list[static_cast<size_t>(i) % list.size()];
      x.shipped->snapshot.state = x.state;
      sopir::decide_into(*x.shipped->procedure, x.shipped->snapshot, x.command, outcome);
      *accepted_count += outcome.accepted;
    }
    return shipped_iterations / seconds_since(begin);
  };
  auto time_typed_all = [&](long* accepted_count) {
    const auto begin = std::chrono::steady_clock::now();
    for (long i = 0; i < shipped_iterations; ++i) {
      const Indexed& x = indexed[static_cast<size_t>(i) % indexed.size()];
      x.shipped->snapshot.state = x.state;
      *accepted_count += std::holds_alternative<sopir::Transition>(
          sopir::decide(*x.shipped->procedure, x.shipped->snapshot, x.typed));
    }
    return shipped_iterations / seconds_since(begin);
  };
  std::vector<const Indexed*> all_indexed, accepted_indexed, refused_indexed;
  for (const Indexed& x : indexed) {
    all_indexed.push_back(&x);
    (x.accepted ? accepted_indexed : refused_indexed).push_back(&x);
  }
  long fast_accepted = 0, slow_typed_accepted = 0, fast_accepted_only = 0, fast_refused_accepted = 0;
  double fast_rate = 0, slow_typed_rate = 0, fast_accepted_rate = 0, fast_refused_rate = 0;
  for (int round = 0; round < 2; ++round) {
    slow_typed_rate += time_typed_all(&slow_typed_accepted) / 2;
    fast_rate += time_indexed(all_indexed, &fast_accepted) / 2;
    fast_accepted_rate += time_indexed(accepted_indexed, &fast_accepted_only) / 2;
    if (!refused_indexed.empty()) fast_refused_rate += time_indexed(refused_indexed, &fast_refused_accepted) / 2;
  }
  std::printf("decide_bench: the same %zu transitions by index, inputs typed (%zu accepted), checked against "
              "decide(): %ld differ\n",
              indexed.size(), accepted_indexed.size(), mismatches);
  std::printf("  %-34s %12.0f /s\n", "decide(), inputs typed", slow_typed_rate);
  std::printf("  %-34s %12.0f /s\n", "decide_into()", fast_rate);
  std::printf("  %-34s %12.2f\n", "decide_into / decide(), typed", fast_rate / slow_typed_rate);
  std::printf("  %-34s %12.0f /s\n", "decide_into(), accepted ones only", fast_accepted_rate);
  std::printf("  %-34s %12.0f /s\n", "decide_into(), refused ones only", fast_refused_rate);
  std::printf("  %-34s %12s  (%s)\n", "target 15,000,000 /s, by index", fast_rate >= 15e6 ? "met" : "NOT MET",
              quick ? "quick run" : "full run");
  // Both ways over the same list, the same number of times: the same count accepted.
  const bool fast_ok = mismatches == 0 && fast_accepted_only == 2 * shipped_iterations && fast_refused_accepted == 0 &&
                       fast_accepted == slow_typed_accepted && fast_accepted > 0;
  print_load("after");

  // 3. A procedure with tracks (tests/data/tracks/victim-care.yaml): its
  // joins read four linked cases the caller put in the snapshot, as the
  // engine does. Round robin over its transitions, beside the same
  // procedure without its opens and joins (the baseline), alternating
  // runs of each so that a change in the machine's load hits both alike.
  Shipped tracks = tracks_example(command.at);
  Shipped plain = tracks_example(command.at, false);
  long tracks_accepted = 0, plain_accepted = 0;
  double tracks_seconds = 0, plain_seconds = 0;
  const long rounds = shipped_only ? 0 : 10, per_round = shipped_iterations / 10;
  auto run = [&](Shipped& s, long* accepted) {
    const auto begin = std::chrono::steady_clock::now();
    for (long i = 0; i < per_round; ++i) {
      const auto& [state, step_command] = s.steps[static_cast<size_t>(i) % s.steps.size()];
      s.snapshot.state = state;
      *accepted += std::holds_alternative<sopir::Transition>(sopir::decide(*s.procedure, s.snapshot, step_command));
    }
    return seconds_since(begin);
  };
  for (long r = 0; r < rounds; ++r) {
    plain_seconds += run(plain, &plain_accepted);
    tracks_seconds += run(tracks, &tracks_accepted);
  }
  if (shipped_only)
    return accepted_text == 2 * shipped_iterations && accepted_typed == 2 * shipped_iterations && fast_ok ? 0 : 1;
  const double tracks_rate = per_round * rounds / tracks_seconds;
  const double plain_rate = per_round * rounds / plain_seconds;
  std::printf("decide_bench: a procedure with four tracks and joins, %zu transitions round robin, %ld decisions "
              "(%ld accepted)\n",
              tracks.steps.size(), per_round * rounds, tracks_accepted);
  std::printf("  %-34s %12.0f /s\n", "decide()", tracks_rate);
  std::printf("  %-34s %12.0f /s\n", "without opens and joins", plain_rate);
  std::printf("  %-34s %12.2f\n", "with tracks / without", tracks_rate / plain_rate);
  std::printf("  %-34s %12.2f\n", "tracks / shipped", tracks_rate / shipped_rate);
  std::printf("  %-34s %12s  (%s)\n", "target 15,000,000 /s", tracks_rate >= 15e6 ? "met" : "NOT MET",
              quick ? "quick run" : "full run");
  return accepted == iterations && set_accepted == iterations && true_guards == iterations && !work.empty() &&
                 accepted_text == 2 * shipped_iterations && accepted_typed == 2 * shipped_iterations &&
                 refused_accepted == 0 && fast_ok &&
                 tracks_accepted == per_round * rounds && plain_accepted == per_round * rounds
             ? 0
             : 1;
}
