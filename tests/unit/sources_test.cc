// Where a rule comes from (`source:`) and guards that read a case-level clock
// (clock_overdue): what the loader keeps and refuses, what a refusal says,
// the compiled form, the scenario file, and the Engine on both store
// backends with verify replaying the clock guard.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "lang/procedure_codec.h"
#include "sopir/audit.h"
#include "sopir/decide.h"
#include "sopir/engine.h"
#include "sopir/loader.h"
#include "sopir/messages.h"
#include "sopir/scenario.h"
#include "test_backends.h"
#include "test_procedures.h"
#include "test_values.h"

using namespace sopir;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string data(const std::string& name) { return std::string(SOPIR_SOURCE_DIR) + "/tests/data/" + name; }

DateTime at(const char* text) { return *parse_datetime(text); }

// A small procedure; `extra` goes into the transition of `go`.
std::string small(const std::string& go_extra, const std::string& tail = "") {
  return "sop: t\nversion: 1\ntitle: T\nroles: [worker]\n"
         "fields:\n  ok: {type: bool}\n"
         "states:\n  a: {initial: true}\n  b: {terminal: true}\n"
         "transitions:\n  - {event: go, from: a, to: b, roles: [worker]" + go_extra + "}\n" + tail;
}

std::string diagnostics_of(const std::string& yaml) {
  return format_diagnostics(load_procedure_string(yaml, "t.yaml", {}).diagnostics);
}

}  // namespace

TEST_CASE("source: the loader keeps citations on every level that takes one", "[sources][loader]") {
  LoadResult loaded = load_procedure_string(read_file(data("clocks/stay-review.yaml")), "stay-review.yaml", {});
  INFO(format_diagnostics(loaded.diagnostics));
  REQUIRE(loaded.ok());
  const Procedure& p = *loaded.procedure;
  CHECK(p.sources == Sources{"Test Regulation 1/2026"});
  CHECK(p.open_sources == Sources{"Test Regulation 1/2026 Article 3"});
  CHECK(p.fields[0].sources == Sources{"Test Regulation 1/2026 Article 3"});
  CHECK(p.fields[1].sources.empty());
  CHECK(p.states[1].sources == Sources{"Test Regulation 1/2026 Article 5"});
  CHECK(p.transitions[1].sources ==
        Sources{"Test Regulation 1/2026 Article 7", "Test Guideline 2/2026 Part 4"});
  CHECK(p.clocks[0].sources == Sources{"Test Regulation 1/2026 Article 7"});
}

TEST_CASE("source: a map, an empty citation or one cited twice is refused where it is written",
          "[sources][loader]") {
  CHECK(diagnostics_of(small(", source: {law: UU 21/2007}")) ==
        "t.yaml:11:58: error: source of transition 'go' must be a citation such as 'UU 21/2007 Pasal "
        "26', or a list of them\n"
        "  - {event: go, from: a, to: b, roles: [worker], source: {law: UU 21/2007}}\n"
        "                                                         ^\n");
  CHECK_THAT(diagnostics_of(small(", source: ['  ']")),
             Catch::Contains("t.yaml:11:59: error: source of transition 'go' must be a citation"));
  CHECK(diagnostics_of(small(", source: [UU 21/2007, UU 21/2007]")) ==
        "t.yaml:11:71: error: 'UU 21/2007' is cited twice in source of transition 'go'\n"
        "  - {event: go, from: a, to: b, roles: [worker], source: [UU 21/2007, UU 21/2007]}\n"
        "                                                                      ^\n");
  set_message_language("id");
  CHECK_THAT(diagnostics_of(small(", source: {law: UU 21/2007}")),
             Catch::Contains("harus berupa rujukan seperti 'UU 21/2007 Pasal 26', atau daftar rujukan"));
  set_message_language("en");
}

TEST_CASE("source: a refusal by a rule with a source names it, in both languages", "[sources][decide]") {
  LoadResult loaded = load_procedure_string(read_file(data("clocks/stay-review.yaml")), "stay-review.yaml", {});
  REQUIRE(loaded.ok());
  const Procedure& p = *loaded.procedure;
  CaseSnapshot snapshot = testing::snapshot_at(p, "in_shelter");
  snapshot.clocks = {{"stay", true, at("2026-08-21T10:00:00Z")}};
  Command command;
  command.event = "review_stay";
  command.actor = {"sari", {"supervisor"}};
  command.at = at("2026-08-21T09:59:59Z");
  Decision d = decide(p, snapshot, command);
  REQUIRE(std::holds_alternative<Refusal>(d));
  const Refusal& refusal = std::get<Refusal>(d);
  CHECK(refusal.kind == RefusalKind::kGuard);
  CHECK(refusal.message ==
        "the rule for 'review_stay' does not hold: clock_overdue('stay') is false (clock 'stay' runs, due "
        "2026-08-21T10:00:00Z) (source: Test Regulation 1/2026 Article 7; Test Guideline 2/2026 Part 4)");
  CHECK(refusal.sources == Sources{"Test Regulation 1/2026 Article 7", "Test Guideline 2/2026 Part 4"});
  command.lang = "id";
  CHECK(std::get<Refusal>(decide(p, snapshot, command)).message ==
        "aturan untuk 'review_stay' tidak terpenuhi: clock_overdue('stay') bernilai salah (jam 'stay' berjalan, "
        "jatuh tempo 2026-08-21T10:00:00Z) (dasar: Test Regulation 1/2026 Article 7; Test Guideline 2/2026 Part 4)");
  // At the due time the guard holds; a paused or stopped clock never does.
  command.lang = "";
  command.at = at("2026-08-21T10:00:00Z");
  CHECK(std::holds_alternative<Transition>(decide(p, snapshot, command)));
  snapshot.clocks[0].running = false;
  CHECK(std::get<Refusal>(decide(p, snapshot, command)).message.find("clock 'stay' is not running") !=
        std::string::npos);
  // A rule without a source adds nothing.
  command.event = "continue_stay";
  snapshot.state = p.state_index("review");
  CHECK(std::get<Refusal>(decide(p, snapshot, command)).message == "event 'continue_stay' needs a written reason");
  // The opening rule cites its own source.
  const Decision open = decide_open(p, {"rina", {"worker"}}, {{"consent", "false"}}, command.at, false, "");
  REQUIRE(std::holds_alternative<Refusal>(open));
  CHECK(std::get<Refusal>(open).message ==
        "a case of 'stay-review' can be opened only when its rule holds: consent == true is false (consent = "
        "no) (source: Test Regulation 1/2026 Article 3)");
}

TEST_CASE("source: the compiled form keeps the citations", "[sources][codec]") {
  const std::string yaml = small(", source: [UU 21/2007 Pasal 26]",
                                 "open: {source: Permen P2MI 32/2025 Pasal 39}\nsource: PP 9/2008\n");
  LoadResult loaded = load_procedure_string(yaml, "t.yaml", {});
  REQUIRE(loaded.ok());
  const std::string compiled = encode_procedure(*loaded.procedure);
  REQUIRE_FALSE(compiled.empty());
  ProcedurePtr back = decode_procedure(compiled, yaml, "t.yaml");
  REQUIRE(back);
  CHECK(back->sources == Sources{"PP 9/2008"});
  CHECK(back->open_sources == Sources{"Permen P2MI 32/2025 Pasal 39"});
  CHECK(back->transitions[0].sources == Sources{"UU 21/2007 Pasal 26"});
  // Without citations the compiled form has no key for them.
  const std::string plain = small("");
  LoadResult plain_loaded = load_procedure_string(plain, "t.yaml", {});
  REQUIRE(plain_loaded.ok());
  CHECK(encode_procedure(*plain_loaded.procedure).find("sources") == std::string::npos);
}

TEST_CASE("clock_overdue: an unknown clock, a bad call and the opening rule are refused with the place",
          "[sources][clocks][loader]") {
  const std::string clocks = "clocks:\n  stay: {start: a, limit: 7 days}\n";
  CHECK(diagnostics_of(small(", when: \"clock_overdue('sty')\"", clocks)) ==
        "t.yaml:11:72: error: guard (when) reads clock 'sty', which the procedure does not declare; did you mean "
        "'stay'?\n"
        "  - {event: go, from: a, to: b, roles: [worker], when: \"clock_overdue('sty')\"}\n"
        "                                                                       ^\n");
  CHECK_THAT(diagnostics_of(small(", when: \"clock_overdue('stay')\"")),
             Catch::Contains("reads clock 'stay', which the procedure does not declare; the procedure declares no "
                             "clocks; add a clocks: section"));
  CHECK_THAT(diagnostics_of(small(", when: clock_overdue(stay)", clocks)),
             Catch::Contains("clock_overdue() takes the id of one of the procedure's clocks in quotes, like "
                             "clock_overdue('shelter_stay')"));
  CHECK_THAT(diagnostics_of(small("", "open: {when: \"clock_overdue('stay')\"}\n" + clocks)),
             Catch::Contains("error: the opening rule (open: when:) cannot read a clock"));
}

TEST_CASE("clock_overdue: the scenario tests of tests/data/clocks/stay-review pass", "[sources][clocks][scenario]") {
  ScenarioLoad load = load_scenario_file(data("clocks/stay-review.test.yaml"));
  INFO(format_diagnostics(load.diagnostics));
  REQUIRE(load.ok());
  ScenarioReport report = run_scenarios(*load.file);
  for (const auto& r : report.results) {
    INFO(r.name << " step " << r.step);
    for (const auto& d : r.differences) INFO(d);
    CHECK(r.passed);
  }
  CHECK(report.results.size() == 3);
}

TEST_CASE("clock_overdue through the Engine: refused, then allowed, and verify replays it", "[sources][clocks][store]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  auto clock = std::make_shared<testing::TestClock>(*parse_datetime("2026-08-14T10:00:00Z"));
  StoreOptions options;
  options.create = true;
  Engine engine(open_store(db.location(), options), clock);
  engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"rina", "Rina", {"worker"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"sari", "Sari", {"supervisor"}, true}, ::sopir::testing::kByAdmin);
  engine.publish_source(read_file(data("clocks/stay-review.yaml")), "stay-review.yaml", "admin", true, {});
  const std::string id =
      engine.open_case({"stay-review", "rina", {{"consent", "true"}}, "", std::nullopt}).after.id;
  engine.advance({id, "admit", "rina", {}, "", "", std::nullopt});

  clock->set(at("2026-08-20T10:00:00Z"));
  const auto before = engine.store().history(id).size();
  try {
    engine.advance({id, "review_stay", "sari", {}, "", "", std::nullopt});
    FAIL("the review was allowed before the stay's limit");
  } catch (const RefusedError& e) {
    CHECK(e.refusal_kind() == RefusalKind::kGuard);
    CHECK(e.refusal().sources.size() == 2);
  }
  CHECK(engine.store().history(id).size() == before);  // nothing written
  CHECK_FALSE(engine.check_event(engine.view(id, "sari"), "review_stay").possible);

  clock->set(at("2026-08-21T10:00:00Z"));
  CHECK(engine.check_event(engine.view(id, "sari"), "review_stay").possible);
  engine.advance({id, "review_stay", "sari", {{"review_note", "Tracing continues"}}, "", "", std::nullopt});
  CHECK(engine.store().find_case(id)->state == "review");

  // Replay decides the step again with the clock as the log left it.
  const audit::VerifyReport verified = audit::verify(engine.store(), {});
  for (const auto& f : verified.findings) INFO(f.message);
  CHECK(verified.findings.empty());
}
