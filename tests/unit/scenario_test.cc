// Scenario tests: loading (with located errors), running through the real
// Engine (each kind of difference), coverage, paths and --as-tests.
#include "sopir/scenario.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace sopir {
namespace {

// A small procedure with a guard, four-eyes, a required reason, a deadline
// whose timer event loops back, and a cycle (send_back).
const char* kReviewYaml = R"yaml(sop: tiny-review
version: 1
title: Tiny review
roles: [worker, lead]
fields:
  note: {type: string, min: 3}
  score: {type: int, min: 0, max: 10}
  checked_on: {type: date}
states:
  start: {initial: true}
  review: {deadline: 2d, on_deadline: remind}
  done: {terminal: true}
transitions:
  - {event: submit, from: start, to: review, roles: [worker], requires: [score]}
  - {event: accept, from: review, to: done, roles: [lead], when: score > 0,
     distinct_from: [submit], set: {checked_on: today()}}
  - {event: send_back, from: review, to: start, roles: [lead], reason: required}
  - {event: remind, from: review, to: review, roles: [lead]}
open:
  requires: [note]
)yaml";

// A directory holding the procedure, where test files are "written".
class ScenarioFixture {
 protected:
  ScenarioFixture() {
    dir_ = std::filesystem::temp_directory_path() /
           ("sopir-scenario-test-" + std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "review.yaml") << kReviewYaml;
  }
  ~ScenarioFixture() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string name() const { return (dir_ / "review.test.yaml").string(); }

  // The file header plus the scenarios given.
  static std::string file(const std::string& scenarios) {
    return "procedure: review.yaml\n"
           "clock: 2026-03-02T08:00:00Z\n"
           "staff:\n"
           "  - {id: wati, name: Wati Contoh, roles: [worker]}\n"
           "  - {id: lina, name: Lina Contoh, roles: [lead]}\n"
           "  - {id: mira, name: Mira Contoh, roles: [worker, lead]}\n"
           "scenarios:\n" +
           scenarios;
  }

  ScenarioFile load(const std::string& text) {
    ScenarioLoad loaded = load_scenario_string(text, name());
    INFO(format_diagnostics(loaded.diagnostics));
    REQUIRE(loaded.ok());
    return *loaded.file;
  }

  // Runs one scenario that must fail; its result.
  ScenarioResult failing(const std::string& scenario) {
    ScenarioReport report = run_scenarios(load(file(scenario)));
    REQUIRE(report.results.size() == 1);
    REQUIRE_FALSE(report.results[0].passed);
    return report.results[0];
  }

  std::filesystem::path dir_;
};

const char* kHappy = R"(  - name: submitted, reminded by the timer, accepted
    open: {as: wati, set: {note: first try}, expect: {state: start, status: active, due: null}}
    steps:
      - {event: submit, as: wati, set: {score: 4}, expect: {state: review, due: 2026-03-04T08:00:00Z}}
      - {event: accept, as: wati, expect: {refused: role}}
      - {tick: 2026-03-03T08:00:00Z, expect: {fired: null}}
      - {tick: 2026-03-04T08:00:00Z, expect: {fired: remind, state: review, due: 2026-03-06T08:00:00Z}}
      - {event: accept, as: lina, at: 2026-03-05T10:00:00Z, expect: {state: done, status: closed}}
    expect: {state: done, fields: {score: 4, checked_on: 2026-03-05, note: first try}}
)";

TEST_CASE_METHOD(ScenarioFixture, "a passing scenario file passes", "[scenario]") {
  ScenarioReport report = run_scenarios(load(file(kHappy)));
  REQUIRE(report.results.size() == 1);
  INFO((report.results[0].differences.empty() ? "" : report.results[0].differences[0]));
  CHECK(report.results[0].passed);
  CHECK(report.all_passed());
  CHECK(report.results[0].name == "submitted, reminded by the timer, accepted");
}

TEST_CASE_METHOD(ScenarioFixture, "coverage counts fired transitions and guard outcomes",
                 "[scenario]") {
  // 4 transitions, one guarded: 4 + 2 items.
  ScenarioReport report = run_scenarios(load(file(kHappy)));
  const Coverage& c = report.coverage;
  CHECK(c.total == 6);
  // submit, accept, remind fired; accept's guard seen true only. The role
  // refusal of wati stopped before the guard: not counted.
  CHECK(c.covered == 4);
  CHECK(c.transitions[1].guard_true);
  CHECK_FALSE(c.transitions[1].guard_false);
  CHECK_FALSE(c.transitions[2].fired);
  CHECK(describe_transition(*report.procedure, 2) == "send_back: review -> start (line 17)");

  report = run_scenarios(load(file(std::string(kHappy) + R"(  - name: a zero score is sent back
    open: {as: mira, set: {note: second}}
    steps:
      - {event: submit, as: wati, set: {score: 0}}
      - {event: accept, as: lina, expect: {refused: guard}}
      - {event: send_back, as: mira, reason: Score missing its evidence, expect: {state: start, due: null}}
)")));
  CHECK(report.all_passed());
  CHECK(report.coverage.covered == 6);
  CHECK(report.coverage.percent() == Approx(100.0));
}

TEST_CASE_METHOD(ScenarioFixture, "each kind of difference has its message", "[scenario]") {
  const std::string open = "    open: {as: wati, set: {note: abc}}\n    steps:\n";
  SECTION("expected a refusal, the step succeeded") {
    auto r = failing("  - name: x\n" + open + "      - {event: submit, as: wati, set: {score: 3}, expect: {refused: role}}\n");
    CHECK(r.step == 1);
    CHECK(r.step_line == 11);
    CHECK(r.step_text == "{event: submit, as: wati, set: {score: 3}, expect: {refused: role}}");
    CHECK(r.differences == std::vector<std::string>{
                               "expected refused: role, but the step succeeded (now in state "
                               "'review', active)"});
  }
  SECTION("another refusal than expected") {
    auto r = failing("  - name: x\n" + open + "      - {event: submit, as: lina, set: {score: 3}, expect: {refused: guard}}\n");
    CHECK(r.differences == std::vector<std::string>{
                               "expected refused: guard, got refused: role: event 'submit' may be "
                               "done by worker; lina has roles lead"});
  }
  SECTION("a refusal where success was expected") {
    auto r = failing("  - name: x\n" + open + "      - {event: submit, as: wati}\n");
    CHECK(r.differences == std::vector<std::string>{
                               "expected the step to succeed, got refused: missing-field: event "
                               "'submit' needs a value for score"});
  }
  SECTION("state, status, due and fields") {
    auto r = failing("  - name: x\n" + open +
                     "      - {event: submit, as: wati, set: {score: 3}, expect: {state: done, "
                     "status: closed, due: 2026-03-03T08:00:00Z, fields: {score: 4, checked_on: "
                     "2026-03-02, note: abc}}}\n");
    CHECK(r.differences == std::vector<std::string>{
                               "state: expected 'done', got 'review'",
                               "status: expected closed, got active",
                               "due: expected 2026-03-03T08:00:00Z, got 2026-03-04T08:00:00Z",
                               "field score: expected 4, got 3",
                               "field checked_on: expected 2026-03-02, got no value"});
  }
  SECTION("what the timer fired") {
    auto r = failing("  - name: x\n" + open +
                     "      - {event: submit, as: wati, set: {score: 3}}\n"
                     "      - {tick: 2026-03-04T07:59:59Z, expect: {fired: remind}}\n");
    CHECK(r.step == 2);
    CHECK(r.differences == std::vector<std::string>{"fired: expected remind, got nothing"});
  }
  SECTION("the scenario's final expect") {
    auto r = failing("  - name: x\n" + open +
                     "      - {event: submit, as: wati, set: {score: 3}}\n"
                     "    expect: {state: start}\n");
    CHECK(r.at_end);
    CHECK(r.step == 2);
    CHECK(r.step_text == "expect: {state: start}");
    CHECK(r.differences == std::vector<std::string>{"state: expected 'start', got 'review'"});
  }
  SECTION("opening") {
    auto r = failing("  - name: x\n    open: {as: wati, set: {note: ab}, expect: {state: start}}\n");
    CHECK(r.step == 0);
    CHECK(r.differences == std::vector<std::string>{
                               "expected the step to succeed, got refused: bad-input: note: 'ab' "
                               "must be at least 3 characters long"});
  }
  SECTION("a refused step may still expect the state it stays in") {
    auto r = failing("  - name: x\n" + open +
                     "      - {event: accept, as: lina, expect: {refused: not-in-state, state: review}}\n");
    CHECK(r.differences == std::vector<std::string>{"state: expected 'review', got 'start'"});
  }
}

TEST_CASE_METHOD(ScenarioFixture, "expected refusals pass and leave the case unchanged",
                 "[scenario]") {
  ScenarioReport report = run_scenarios(load(file(R"(  - name: every refusal kind it can produce
    open: {as: wati, set: {note: abc}}
    steps:
      - {event: submit, as: wati, set: {score: 11}, expect: {refused: bad-input, state: start}}
      - {event: sbumit, as: wati, expect: {refused: unknown-event}}
      - {event: submit, as: wati, set: {score: 0}}
      - {event: accept, as: mira, override: true, expect: {refused: override}}
      - {event: accept, as: lina, expect: {refused: guard}}
      - {event: send_back, as: lina, expect: {refused: reason}}
      - {resume: {as: lina}, expect: {refused: lifecycle}}
      - {hold: {as: lina, reason: waiting}, expect: {status: on_hold}}
      - {event: send_back, as: lina, reason: r, expect: {refused: on-hold}}
      - {resume: {as: lina}, expect: {status: active}}
      - {close: {as: lina, reason: whatever}, expect: {refused: bad-input}}
  - name: four-eyes
    open: {as: mira, set: {note: abc}}
    steps:
      - {event: submit, as: mira, set: {score: 5}}
      - {event: accept, as: mira, expect: {refused: four-eyes, state: review, fields: {checked_on: null}}}
      - {event: accept, as: lina, expect: {state: done}}
      - {event: submit, as: wati, expect: {refused: closed}}
)")));
  for (const auto& r : report.results) {
    INFO(r.name << ": " << (r.differences.empty() ? "" : r.differences[0]));
    CHECK(r.passed);
  }
}

TEST_CASE("refusal kind names match the README's list", "[scenario]") {
  std::ifstream in(std::string(SOPIR_SOURCE_DIR) + "/workflows/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const auto row = readme.find("| `refused` |");
  REQUIRE(row != std::string::npos);
  const std::string line = readme.substr(row, readme.find('\n', row) - row);
  std::set<std::string> listed;
  const std::regex code("`([a-z-]+)`");
  for (auto it = std::sregex_iterator(line.begin(), line.end(), code); it != std::sregex_iterator(); ++it)
    listed.insert((*it)[1]);
  listed.erase("refused");
  const auto names = refusal_kind_names();
  CHECK(listed == std::set<std::string>(names.begin(), names.end()));
  CHECK(refusal_kind_from_string("reason") == RefusalKind::kReasonRequired);
  CHECK_FALSE(refusal_kind_from_string("reason-required"));
}

TEST_CASE_METHOD(ScenarioFixture, "problems in the test file are located", "[scenario]") {
  auto errors = [&](const std::string& text) {
    ScenarioLoad loaded = load_scenario_string(text, name());
    CHECK_FALSE(loaded.ok());
    return format_diagnostics(loaded.diagnostics);
  };
  CHECK(errors(file("  - name: x\n    open: {as: wati, set: {note: abc}}\n    steps:\n"
                    "      - {evnt: submit, as: wati}\n")) ==
        name() + ":11:9: error: a step needs one of: event, hold, resume, close, reopen, tick, migrate\n"
                 "      - {evnt: submit, as: wati}\n"
                 "        ^\n" +
            name() + ":11:10: error: unknown key 'evnt' in a step; did you mean 'event'?\n"
                     "      - {evnt: submit, as: wati}\n"
                     "         ^\n");
  CHECK(errors(file("  - name: x\n    open: {as: wato, set: {note: abc}}\n")) ==
        name() + ":9:16: error: unknown staff member 'wato' in `as`; did you mean 'wati'? "
                 "(declare them under `staff:`)\n"
                 "    open: {as: wato, set: {note: abc}}\n"
                 "               ^\n");
  CHECK(errors(file("  - name: x\n    open: {as: wati, set: {note: abc}}\n    steps:\n"
                    "      - {tick: 2026-03-01T00:00:00Z}\n")) ==
        name() + ":11:16: error: 2026-03-01T00:00:00Z is earlier than the clock "
                 "(2026-03-02T08:00:00Z); the clock never goes back\n"
                 "      - {tick: 2026-03-01T00:00:00Z}\n"
                 "               ^\n");
  const std::string more = errors(file(
      "  - name: x\n    open: {as: wati, set: {note: abc}}\n    steps:\n"
      "      - {event: submit, as: wati, expect: {refused: roles, state: reveiw, fields: {score: ten}}}\n"));
  CHECK_THAT(more, Catch::Contains("unknown refusal 'roles'; did you mean 'role'?"));
  CHECK_THAT(more, Catch::Contains("procedure 'tiny-review' has no state 'reveiw'; did you mean 'review'?"));
  CHECK_THAT(more, Catch::Contains("score: 'ten' is not a whole number"));
  CHECK_THAT(errors("procedure: missing.yaml\nclock: 2026-03-02T08:00:00Z\nstaff: []\nscenarios: []\n"),
             Catch::Contains(":1:12: error: cannot read the procedure"));
}

TEST_CASE("paths of a procedure with a cycle", "[scenario]") {
  ProcedurePtr p = expect_procedure(load_procedure_string(kReviewYaml, "review.yaml"));
  PathList list = procedure_paths(*p);
  CHECK_FALSE(list.truncated);
  std::vector<std::string> shown;
  for (const auto& path : list.paths) {
    std::string line = p->states[p->initial_state].id;
    for (const auto& s : path.steps)
      line += " " + p->events[s.event] + " " + p->states[s.state].id + (s.again ? "*" : "");
    shown.push_back(line + (path.has_loop ? " [loop]" : ""));
  }
  CHECK(shown == std::vector<std::string>{
                     "start submit review accept done",
                     "start submit review send_back start* submit review* accept done [loop]",
                     "start submit review remind review* accept done [loop]"});
  PathOptions small;
  small.max_paths = 2;
  list = procedure_paths(*p, small);
  CHECK(list.truncated);
  CHECK(list.paths.size() == 2);
  small.max_visits = 1;
  small.max_paths = 100;
  CHECK(procedure_paths(*p, small).paths.size() == 1);
}

TEST_CASE_METHOD(ScenarioFixture, "paths written as tests load and pass", "[scenario]") {
  ProcedurePtr p = expect_procedure(load_procedure_string(kReviewYaml, "review.yaml"));
  const std::string text = paths_as_tests(*p, procedure_paths(*p), "review.yaml");
  CHECK_THAT(text, Catch::Contains("# when: score > 0"));
  ScenarioLoad loaded = load_scenario_string(text, name());
  INFO(text << format_diagnostics(loaded.diagnostics));
  REQUIRE(loaded.ok());
  CHECK(loaded.file->scenarios.size() == 3);
  ScenarioReport report = run_scenarios(*loaded.file);
  for (const auto& r : report.results) {
    INFO(r.name << ": " << r.step_text << ": " << (r.differences.empty() ? "" : r.differences[0]));
    CHECK(r.passed);
  }
  CHECK(report.coverage.transitions[0].fired);
  CHECK(report.coverage.transitions[2].fired);
}

// Hand-offs: a parent procedure that opens a case of a child procedure and
// waits for it. The child has more transitions than the parent, so a child
// decision that leaked into the coverage trace would show (or overflow).
// tests/data/scenarios/parent.yaml and child-care.yaml (tests/data/README.md).
std::string scenario_data(const std::string& name) {
  std::ifstream in(std::string(SOPIR_SOURCE_DIR) + "/tests/data/scenarios/" + name);
  if (!in) throw std::runtime_error("cannot read tests/data/scenarios/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kParentYaml = scenario_data("parent.yaml");
const std::string kChildYaml = scenario_data("child-care.yaml");

class HandoffScenarioFixture : public ScenarioFixture {
 protected:
  HandoffScenarioFixture() {
    std::ofstream(dir_ / "parent.yaml") << kParentYaml;
    std::ofstream(dir_ / "child-care.yaml") << kChildYaml;
  }

  std::string parent_name() const { return (dir_ / "parent.test.yaml").string(); }

  static std::string parent_file(const std::string& scenarios, const std::string& extra = "") {
    return "procedure: parent.yaml\n" + extra +
           "clock: 2026-03-02T08:00:00Z\n"
           "staff:\n"
           "  - {id: rina, name: Rina Contoh, roles: [worker]}\n"
           "  - {id: sari, name: Sari Contoh, roles: [carer]}\n"
           "scenarios:\n" +
           scenarios;
  }

  ScenarioLoad load_parent(const std::string& text) { return load_scenario_string(text, parent_name()); }

  ScenarioReport run_parent(const std::string& text) {
    ScenarioLoad loaded = load_parent(text);
    INFO(format_diagnostics(loaded.diagnostics));
    REQUIRE(loaded.ok());
    return run_scenarios(*loaded.file);
  }

  std::string errors(const std::string& text) {
    ScenarioLoad loaded = load_parent(text);
    CHECK_FALSE(loaded.ok());
    return format_diagnostics(loaded.diagnostics);
  }
};

const char* kReferred = R"(  - name: referred, cared for, finished
    open: {as: rina, set: {full_name: Wati Contoh}}
    steps:
      - {event: refer, as: rina, set: {age: 27}, expect: {state: referred, opened: child-care}}
      - {event: finish, as: rina, expect: {refused: guard}}
      - {event: note, as: sari, case: child-care,
         expect: {state: reviewed, status: active, fields: {full_name: Wati Contoh, age: 27, source: intake}}}
      - {event: discharge, as: sari, case: child-care, expect: {state: closed, status: closed, opened: null}}
      - {event: finish, as: rina, expect: {state: done, status: closed}}
    expect: {state: done, fields: {age: 27}}
)";

TEST_CASE_METHOD(HandoffScenarioFixture, "hand-off targets beside the procedure are published first",
                 "[scenario][handoff]") {
  ScenarioLoad loaded = load_parent(parent_file(kReferred));
  INFO(format_diagnostics(loaded.diagnostics));
  REQUIRE(loaded.ok());
  REQUIRE(loaded.file->linked.size() == 1);
  CHECK(loaded.file->linked[0]->id == "child-care");
  CHECK(loaded.file->scenarios[0].steps[2].case_sop == "child-care");
  CHECK(loaded.file->scenarios[0].steps[0].case_sop.empty());
  ScenarioReport report = run_scenarios(*loaded.file);
  REQUIRE(report.results.size() == 1);
  INFO((report.results[0].differences.empty() ? "" : report.results[0].differences[0]));
  CHECK(report.results[0].passed);
  // Only the parent counts: 3 transitions, finish guarded (+2). refer and
  // finish fired, finish's guard seen both ways; release not fired.
  CHECK(report.coverage.transitions.size() == 3);
  CHECK(report.coverage.total == 5);
  CHECK(report.coverage.covered == 4);
  CHECK_FALSE(report.coverage.transitions[2].fired);
}

TEST_CASE_METHOD(HandoffScenarioFixture, "a tick fires the deadline of a case a hand-off opened",
                 "[scenario][handoff]") {
  ScenarioReport report = run_parent(parent_file(R"(  - name: the child's timer
    open: {as: rina, set: {full_name: Wati Contoh}}
    steps:
      - {event: refer, as: rina, set: {age: 27}}
      - {tick: 2026-03-03T07:00:00Z, case: child-care, expect: {fired: null, state: admitted, due: 2026-03-03T08:00:00Z}}
      - {tick: 2026-03-03T08:00:00Z, case: child-care, expect: {fired: review, state: reviewed, due: null}}
      - {tick: 2026-03-04T08:00:00Z, expect: {fired: null, state: referred}}
      - {event: move, as: sari, case: child-care, expect: {state: admitted}}
      - {event: discharge, as: sari, case: child-care}
      - {event: finish, as: rina, expect: {state: done}}
)"));
  REQUIRE(report.results.size() == 1);
  INFO(report.results[0].step_text << ": "
                                   << (report.results[0].differences.empty() ? "" : report.results[0].differences[0]));
  CHECK(report.results[0].passed);
  // The child's timer event and moves are not in the parent's coverage.
  CHECK(report.coverage.covered == 3);  // refer, finish, finish's guard true
}

TEST_CASE_METHOD(HandoffScenarioFixture, "differences about hand-offs", "[scenario][handoff]") {
  ScenarioReport report = run_parent(parent_file(R"(  - name: a step on the child before there is one
    open: {as: rina, set: {full_name: Wati Contoh}}
    steps:
      - {event: note, as: sari, case: child-care}
  - name: expected a hand-off that did not happen
    open: {as: rina, set: {full_name: Wati Contoh}}
    steps:
      - {event: release, as: rina, expect: {opened: child-care}}
  - name: a hand-off where none was expected
    open: {as: rina, set: {full_name: Wati Contoh}}
    steps:
      - {event: refer, as: rina, set: {age: 27}, expect: {opened: null}}
  - name: the child's state is checked on the child
    open: {as: rina, set: {full_name: Wati Contoh}}
    steps:
      - {event: refer, as: rina, set: {age: 27}}
      - {event: discharge, as: rina, case: child-care, expect: {state: closed}}
)"));
  REQUIRE(report.results.size() == 4);
  for (const auto& r : report.results) CHECK_FALSE(r.passed);
  REQUIRE(report.results[0].differences.size() == 1);
  CHECK_THAT(report.results[0].differences[0],
             Catch::Contains("no case of 'child-care' has been opened in this scenario yet"));
  REQUIRE(report.results[1].differences.size() == 1);
  CHECK(report.results[1].differences[0] == "opened: expected a case of 'child-care', got none");
  REQUIRE(report.results[2].differences.size() == 1);
  CHECK(report.results[2].differences[0] == "opened: expected none, got a case of 'child-care' (TST-002)");
  REQUIRE(report.results[3].differences.size() == 1);
  CHECK_THAT(report.results[3].differences[0],
             Catch::Contains("expected the step to succeed, got refused: role"));
  CHECK_THAT(report.results[3].differences[0], Catch::Contains("carer"));
  CHECK_THAT(report.results[3].differences[0], !Catch::Contains("case TST-002:"));
}

TEST_CASE_METHOD(HandoffScenarioFixture, "hand-off mistakes in the test file are located",
                 "[scenario][handoff]") {
  const std::string one_step = "  - name: x\n    open: {as: rina, set: {full_name: Wati Contoh}}\n"
                               "    steps:\n      - ";
  CHECK_THAT(errors(parent_file(one_step + "{event: note, as: sari, case: child-car}\n")),
             Catch::Contains(":10:39: error: `case` names 'child-car', which is neither the procedure "
                             "under test nor one its hand-offs open; did you mean 'child-care'?"));
  CHECK_THAT(errors(parent_file(one_step + "{event: refer, as: rina, set: {age: 3}, expect: {opened: child}}\n")),
             Catch::Contains("no hand-off of this scenario opens a case of 'child'; expected one of: child-care"));
  CHECK_THAT(errors(parent_file(one_step + "{event: refer, as: rina, expect: {refused: missing-field, opened: child-care}}\n")),
             Catch::Contains("a refused step opens no case; leave out `opened`"));
  // Expectations are read against the procedure of the case named.
  CHECK_THAT(errors(parent_file(one_step + "{event: note, as: sari, case: child-care, expect: {state: referred}}\n")),
             Catch::Contains("procedure 'child-care' has no state 'referred'"));
  CHECK_THAT(errors(parent_file(one_step + "{event: refer, as: rina, expect: {state: admitted}}\n")),
             Catch::Contains("procedure 'parent-intake' has no state 'admitted'"));
  CHECK_THAT(errors(parent_file(one_step + "{event: refer, as: sari, expect: {fields: {source: intake}}}\n")),
             Catch::Contains("procedure 'parent-intake' has no field 'source'"));
  // Staff roles may come from any procedure of the scenario, and no other.
  CHECK_THAT(errors("procedure: parent.yaml\nclock: 2026-03-02T08:00:00Z\nstaff:\n"
                    "  - {id: rina, name: Rina Contoh, roles: [carr]}\nscenarios: []\n"),
             Catch::Contains(":4:43: error: no procedure of this scenario (child-care, parent-intake) has a "
                             "role 'carr'; did you mean 'carer'?"));
  // `opened` is for steps only.
  CHECK_THAT(errors(parent_file("  - name: x\n    open: {as: rina, set: {full_name: Wati Contoh}}\n"
                                "    expect: {opened: child-care}\n")),
             Catch::Contains("unknown key 'opened' in a scenario's expect"));

  // The target file is not beside the procedure: say where it was looked for.
  std::filesystem::create_directories(dir_ / "other");
  std::filesystem::rename(dir_ / "child-care.yaml", dir_ / "other" / "care.yaml");
  const std::string missing = errors(parent_file(kReferred));
  CHECK_THAT(missing, Catch::Contains(":1:12: error: 'parent-intake' hands cases on to 'child-care' ("));
  CHECK_THAT(missing, Catch::Contains("parent.yaml:14), but there is no "));
  CHECK_THAT(missing, Catch::Contains("child-care.yaml; name the file of procedure 'child-care' under "
                                      "`procedures:`"));
  // Nothing else follows from that one problem (no publishing check, no
  // complaint about the child's roles or the steps on the child).
  CHECK(std::count(missing.begin(), missing.end(), '^') == 1);
  // ... and `procedures:` names it.
  ScenarioReport report = run_parent(parent_file(kReferred, "procedures: [other/care.yaml]\n"));
  CHECK(report.all_passed());
  // A listed procedure no hand-off opens, a missing one, the one under test.
  std::ofstream(dir_ / "other" / "spare.yaml") << kReviewYaml;
  const std::string listed =
      errors(parent_file(kReferred, "procedures: [other/care.yaml, other/spare.yaml, nope.yaml, parent.yaml]\n"));
  CHECK_THAT(listed, Catch::Contains(":2:31: error: procedure 'tiny-review' is not opened by any hand-off "
                                     "of 'parent-intake'; remove it from `procedures:`"));
  CHECK_THAT(listed, Catch::Contains(":2:49: error: cannot read the procedure"));
  CHECK_THAT(listed, Catch::Contains(":2:60: error: parent.yaml is procedure 'parent-intake', the "
                                    "procedure under test"));
}

TEST_CASE_METHOD(HandoffScenarioFixture, "hand-offs that would not publish fail the test file",
                 "[scenario][handoff]") {
  std::string child = kChildYaml;
  child.replace(child.find("age: {type: int}"), 16, "age: {type: string}");
  std::ofstream(dir_ / "child-care.yaml", std::ios::trunc) << child;
  CHECK_THAT(errors(parent_file(kReferred)),
             Catch::Contains(":1:12: error: procedure 'parent-intake' cannot be published: " +
                             (dir_ / "parent.yaml").string() +
                             ":14:6: cannot copy age (int) into child-care.age (string)"));
  // A target with problems of its own.
  std::ofstream(dir_ / "child-care.yaml", std::ios::trunc) << "sop: child-care\nversion: 0\n";
  CHECK_THAT(errors(parent_file(kReferred)), Catch::Contains("child-care.yaml has "));
}

TEST_CASE_METHOD(HandoffScenarioFixture, "a hand-off to another site runs in a scenario, its site made there",
                 "[scenario][handoff][sites]") {
  // The scenario's database has the site the hand-off names, and its staff
  // belong to it: sari moves the child on at nunukan.
  std::string parent = kParentYaml;
  const std::string opens = "opens: {sop: child-care,";
  parent.replace(parent.find(opens), opens.size(), "opens: {sop: child-care, site: nunukan,");
  std::ofstream(dir_ / "parent.yaml", std::ios::trunc) << parent;
  ScenarioReport report = run_parent(parent_file(kReferred));
  REQUIRE(report.results.size() == 1);
  INFO((report.results[0].differences.empty() ? report.results[0].step_text : report.results[0].differences[0]));
  CHECK(report.results[0].passed);
}

TEST_CASE("the shipped scenario files pass with full coverage", "[scenario][workflows]") {
  for (const char* name :
       {"aid-distribution", "aid-handout", "pmi-debarkation", "tppo-victim-care", "pmi-departure-monitoring",
        "referral", "transfer", "tvc-health", "tvc-psychosocial", "tvc-legal", "tvc-tracing"}) {
    const std::string path = std::string(SOPIR_SOURCE_DIR) + "/workflows/" + name + ".test.yaml";
    ScenarioLoad loaded = load_scenario_file(path);
    INFO(format_diagnostics(loaded.diagnostics));
    REQUIRE(loaded.ok());
    ScenarioReport report = run_scenarios(*loaded.file);
    for (const auto& r : report.results) {
      INFO(path << ": " << r.name << ": step " << r.step << " " << r.step_text << ": "
                << (r.differences.empty() ? "" : r.differences[0]));
      CHECK(r.passed);
    }
    CHECK(report.coverage.percent() == Approx(100.0));
  }
}

}  // namespace
}  // namespace sopir
