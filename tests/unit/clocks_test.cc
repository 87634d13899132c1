// Case-level clocks (`clocks:`): what the loader refuses and lint warns
// about (whole messages, both languages for one), the shipped scenario file,
// and the clocks through the Engine on both store backends: case show,
// tick, todo, a hold, and verify replaying a database with clocks.
#include "sopir/clocks.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <tuple>

#include "sopir/audit.h"
#include "sopir/engine.h"
#include "sopir/loader.h"
#include "sopir/messages.h"
#include "sopir/migration_apply.h"
#include "sopir/migration_plan.h"
#include "sopir/scenario.h"
#include "test_backends.h"
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

// A small procedure with the given `clocks:` section (and a calendar line).
std::string with_clocks(const std::string& clocks, const std::string& calendar = "") {
  return "sop: t\nversion: 1\ntitle: T\nroles: [worker]\n" + calendar +
         "fields:\n  arrived_on: {type: date}\n  count: {type: int}\n"
         "states:\n  intake: {initial: true}\n  in_shelter: {}\n  lost: {}\n  done: {terminal: true}\n"
         "transitions:\n  - {event: admit, from: intake, to: in_shelter, roles: [worker], accepts: [arrived_on, count]}\n"
         "  - {event: finish, from: in_shelter, to: done, roles: [worker]}\n"
         "  - {event: lose, from: lost, to: done, roles: [worker]}\n"
         "clocks:\n" + clocks;
}

std::string diagnostics_of(const std::string& yaml, bool strict = false) {
  LoadOptions options;
  options.strict = strict;
  return format_diagnostics(load_procedure_string(yaml, "t.yaml", options).diagnostics);
}

}  // namespace

TEST_CASE("clocks: the loader refuses unknown states, bad limits and missing keys, with the place", "[clocks]") {
  // The clock is on line 18 of with_clocks(); the caret under column `column`.
  auto located = [](const std::string& clock, int column, const std::string& message) {
    return "t.yaml:18:" + std::to_string(column) + ": error: " + message + "\n" + clock +
           std::string(static_cast<size_t>(column - 1), ' ') + "^\n";
  };
  auto check = [&](const std::string& clock, int column, const std::string& message) {
    CHECK(diagnostics_of(with_clocks(clock)) == located(clock, column, message));
  };
  check("  stay: {start: in_shelterr, stop: done, limit: 30 days}\n", 17,
        "unknown state 'in_shelterr' in start of clock 'stay'; did you mean 'in_shelter'?");
  check("  stay: {start: in_shelter, stop: closed, limit: 30 days}\n", 35,
        "unknown state 'closed' in stop of clock 'stay'; did you mean 'close'?");
  check("  stay: {start: in_shelter, limit: a month}\n", 36,
        "limit of clock 'stay' is 'a month'; expected a duration like 30 days, 7d or 1d12h (units w d h m s), "
        "N working days, either one followed by from and a date field");
  check("  stay: {start: in_shelter}\n", 3, "clock 'stay' has no limit; add limit: 30 days");
  check("  stay: {start: [in_shelter], stop: [in_shelter], limit: 3d}\n", 37,
        "state 'in_shelter' both starts and stops clock 'stay'; list it in start or in stop, not both");
  check("  stay: {start: in_shelter, limit: 30 days from arived_on}\n", 49,
        "unknown field 'arived_on' in the limit of clock 'stay'; did you mean 'arrived_on'?");
  check("  stay: {start: in_shelter, limit: 30 days from count}\n", 49,
        "the limit of clock 'stay' counts from field 'count', which is a int; a limit can count from a date or "
        "datetime field");
  check("  stay: {start: in_shelter, limit: 5 working days}\n", 36,
        "limit of clock 'stay' counts working days, but the procedure names no calendar; add calendar: indonesia");
  check("  Stay: {start: in_shelter, limit: 3d}\n", 3,
        "'Stay' is not a valid clock id; use a lowercase letter, then lowercase letters, digits or _, like "
        "shelter_stay");
  CHECK(diagnostics_of(with_clocks("  stay: {start: in_shelter, limit: 30 days, stopp: done}\n")).find(
            "unknown key 'stopp' in clock 'stay'; did you mean 'stop'?") != std::string::npos);
  // A good one loads, with its parts resolved.
  LoadOptions options;
  auto loaded = load_procedure_string(with_clocks("  stay: {start: [open, in_shelter], stop: done, limit: 2 weeks}\n"),
                                      "t.yaml", options);
  REQUIRE(loaded.procedure);
  const ClockDef& c = loaded.procedure->clocks.at(0);
  CHECK(c.id == "stay");
  CHECK(c.start_at_open);
  CHECK(c.start == std::vector<int>{1});
  CHECK(c.stop == std::vector<int>{3});
  CHECK(c.limit->seconds == 14 * 86400);
}

TEST_CASE("clocks: the refusal of an unknown state in Indonesian", "[clocks]") {
  set_message_language("id");
  const std::string out = diagnostics_of(with_clocks("  stay: {start: in_shelterr, limit: 30 days}\n"));
  set_message_language("en");
  CHECK(out.find("tahap 'in_shelterr' tidak dikenal di start jam 'stay'") != std::string::npos);
}

TEST_CASE("clocks: lint warns about a clock that never starts or is never stopped by a state", "[clocks]") {
  INFO(diagnostics_of(with_clocks("  stay: {start: lost, stop: done, limit: 3d}\n"), true));
  INFO(diagnostics_of(with_clocks("  stay: {start: in_shelter, stop: intake, limit: 3d}\n"), true));
  CHECK(diagnostics_of(with_clocks("  stay: {start: lost, stop: done, limit: 3d}\n"), true)
            .find("error: clock 'stay' never starts: no case can reach any of its start states (lost)") != std::string::npos);
  CHECK(diagnostics_of(with_clocks("  stay: {start: in_shelter, stop: intake, limit: 3d}\n"), true)
            .find("error: clock 'stay' is never stopped by a state: none of its stop states (intake) can be "
                  "reached once it has started; it stops only when the case closes") !=
        std::string::npos);
  const std::string fine = diagnostics_of(with_clocks("  stay: {start: in_shelter, stop: done, limit: 3d}\n"), true);
  CHECK(fine.find("never starts") == std::string::npos);
  CHECK(fine.find("never stopped") == std::string::npos);
}

TEST_CASE("clocks: the scenario tests of tests/data/clocks pass", "[clocks][scenario]") {
  ScenarioLoad load = load_scenario_file(data("clocks/shelter-stay.test.yaml"));
  INFO(format_diagnostics(load.diagnostics));
  REQUIRE(load.ok());
  ScenarioReport report = run_scenarios(*load.file);
  for (const auto& r : report.results) {
    INFO(r.name << " step " << r.step);
    for (const auto& d : r.differences) INFO(d);
    CHECK(r.passed);
  }
  CHECK(report.results.size() == 4);
}

TEST_CASE("clocks: a wrong clock expectation fails with what was seen", "[clocks][scenario]") {
  const std::string text =
      "procedure: shelter-stay.yaml\ncalendars: {testcal: ../calendars/testcal.yaml}\n"
      "clock: 2026-08-14T10:00:00Z\nstaff:\n  - {id: rina, name: Rina, roles: [worker]}\n"
      "scenarios:\n  - name: x\n    open: {as: rina}\n    steps:\n"
      "      - {event: admit, as: rina, expect: {clocks: {stay: overdue}}}\n";
  ScenarioLoad load = load_scenario_string(text, data("clocks/wrong.test.yaml"));
  REQUIRE(load.ok());
  ScenarioReport report = run_scenarios(*load.file);
  REQUIRE(report.results.size() == 1);
  CHECK_FALSE(report.results[0].passed);
  CHECK(report.results[0].differences == std::vector<std::string>{"clock stay: expected overdue, got running"});
  const std::string bad =
      "procedure: shelter-stay.yaml\ncalendars: {testcal: ../calendars/testcal.yaml}\n"
      "clock: 2026-08-14T10:00:00Z\nstaff:\n  - {id: rina, name: Rina, roles: [worker]}\n"
      "scenarios:\n  - name: x\n    open: {as: rina, expect: {clocks: {stya: late}}}\n";
  const std::string out = format_diagnostics(load_scenario_string(bad, data("clocks/bad.test.yaml")).diagnostics);
  CHECK(out.find("procedure 'shelter-stay' has no clock 'stya'; did you mean 'stay'?") != std::string::npos);
}

namespace {

// A database of one backend with staff admin and rina (worker) and
// shelter-stay published, its clock at 2026-08-14T10:00:00Z.
struct ShelterStay {
  explicit ShelterStay(testing::Backend backend)
      : db(backend),
        clock(std::make_shared<testing::TestClock>(*parse_datetime("2026-08-14T10:00:00Z"))),
        engine(open_store(db.location(), StoreOptions{true}), clock) {
    engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"rina", "Rina", {"worker"}, true}, ::sopir::testing::kByAdmin);
    const CalendarSource cal{"testcal", "calendars/testcal.yaml",
                             read_file(data("calendars/testcal.yaml")), ""};
    engine.publish_source(read_file(data("clocks/shelter-stay.yaml")), "shelter-stay.yaml", "admin",
                          true, {cal});
  }
  testing::TestDatabase db;
  std::shared_ptr<testing::TestClock> clock;
  Engine engine;
};

}  // namespace

TEST_CASE("clocks through the Engine: show, tick, todo, a hold, and verify", "[clocks][store]") {
  ShelterStay stay(GENERATE(from_range(testing::store_backends())));
  Engine& engine = stay.engine;
  auto& clock = stay.clock;
  const std::string id = engine.open_case({"shelter-stay", "rina", {}, "", std::nullopt}).after.id;
  engine.advance({id, "admit", "rina", {{"arrived_on", "2026-08-14"}}, "", "", std::nullopt});

  CaseView view = engine.view(id, "rina");
  REQUIRE(view.clocks.size() == 3);
  CHECK(view.clocks[0].phase == ClockPhase::kRunning);
  CHECK(format_datetime(*view.clocks[0].due_at) == "2026-09-13T10:00:00Z");
  CHECK(view.clocks[1].phase == ClockPhase::kStopped);
  CHECK(format_datetime(*view.clocks[2].due_at) == "2026-09-28T00:00:00Z");

  // A hold of ten days moves the stay's end by ten days.
  clock->set(at("2026-08-20T10:00:00Z"));
  engine.lifecycle({id, LifecycleEvent::kHold, "rina", "waiting for papers", "", std::nullopt});
  CHECK(engine.clocks(*engine.store().find_case(id))[0].phase == ClockPhase::kPaused);
  clock->set(at("2026-08-30T10:00:00Z"));
  engine.lifecycle({id, LifecycleEvent::kResume, "rina", "", "", std::nullopt});
  CHECK(format_datetime(*engine.clocks(*engine.store().find_case(id))[0].due_at) == "2026-09-23T10:00:00Z");

  clock->set(at("2026-09-23T09:59:59Z"));
  CHECK(engine.tick().clocks_overdue.empty());
  CHECK_FALSE(engine.todo("rina").items.at(0).overdue);
  clock->set(at("2026-09-23T10:00:00Z"));
  const TickReport report = engine.tick();
  REQUIRE(report.clocks_overdue.size() == 1);
  CHECK(report.clocks_overdue[0].record.id == id);
  CHECK(report.clocks_overdue[0].procedure->clocks.at(static_cast<size_t>(report.clocks_overdue[0].clock.clock)).id == "stay");
  const TodoList todo = engine.todo("rina");
  REQUIRE(todo.items.size() == 1);
  CHECK(todo.items[0].overdue);
  CHECK(todo.items[0].clocks_overdue == std::vector<std::string>{"stay"});

  // Closing stops every clock; nothing is overdue any more.
  clock->set(at("2026-09-24T10:00:00Z"));
  engine.advance({id, "plan", "rina", {}, "", "", std::nullopt});
  engine.advance({id, "return_home", "rina", {}, "", "", std::nullopt});
  CHECK(engine.overdue_clocks().empty());
  const auto after = engine.clocks(*engine.store().find_case(id));
  CHECK(after[0].stopped_late());
  CHECK(after[2].phase == ClockPhase::kStopped);

  // The report counts each clock over the cases.
  audit::ReportOptions report_options;
  report_options.now = clock->now();
  std::ostringstream text;
  audit::report_text(engine.store(), report_options, text);
  INFO(text.str());
  CHECK(text.str().find("  Case-level clocks (cases now; stopped: in time / after the limit):\n"
                        "    stay: running 0, past the limit now 0, stopped in time 0, stopped late 1 (limit 30 days)\n"
                        "    assessment: running 0, past the limit now 0, stopped in time 1, stopped late 0 "
                        "(limit 3 working days)\n") != std::string::npos);

  // Clocks are read from the log: verify has nothing to say.
  const audit::VerifyReport verified = audit::verify(engine.store(), {});
  for (const auto& f : verified.findings) INFO(f.message);
  CHECK(verified.findings.empty());
}

TEST_CASE("overdue clocks over more cases than a part: soonest due first, then by opening and id",
          "[clocks][store]") {
  ShelterStay stay(GENERATE(from_range(testing::store_backends())));
  Engine& engine = stay.engine;
  auto& clock = stay.clock;
  // Each later id opened earlier, two to a second, over a weekend (so that
  // cases opened apart share a due time); every third one admitted, which
  // stops its assessment clock and starts the stay's.
  const int n = static_cast<int>(Engine::kCasesPerRead) + 7;
  const DateTime friday = at("2026-08-14T16:00:00Z");
  clock->set(at("2026-08-17T00:00:00Z"));  // each opening and step entered afterwards, from paper
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    const DateTime opened{friday.seconds + (n - i) / 2 * 600};
    ids.push_back(engine.open_case({"shelter-stay", "rina", {}, "", opened}).after.id);
    if (i % 3 == 0)
      engine.advance({ids.back(),
                      "admit",
                      "rina",
                      {{"arrived_on", "2026-08-14"}},
                      "",
                      "",
                      DateTime{opened.seconds + 60}});
  }
  clock->set(at("2026-12-01T00:00:00Z"));
  // What each case's own clocks say, in the order promised.
  struct Expected {
    int64_t due, opened;
    std::string id;
    int clock;
  };
  std::vector<Expected> expected;
  for (const std::string& id : ids) {
    const CaseRecord record = *engine.store().find_case(id);
    for (const ClockStatus& c : engine.clocks(record))
      if (c.overdue(clock->now()))
        expected.push_back({c.due_at->seconds, record.opened_at.seconds, id, c.clock});
  }
  std::stable_sort(expected.begin(), expected.end(), [](const Expected& a, const Expected& b) {
    return std::tie(a.due, a.opened, a.id) < std::tie(b.due, b.opened, b.id);
  });
  const std::vector<ClockOverdue> overdue = engine.overdue_clocks();
  REQUIRE(overdue.size() == expected.size());
  CHECK(expected.size() > static_cast<size_t>(n));  // the admitted ones have two clocks running
  for (size_t i = 0; i < overdue.size(); ++i) {
    INFO("item " << i);
    CHECK(overdue[i].record.id == expected[i].id);
    CHECK(overdue[i].clock.clock == expected[i].clock);
    CHECK(overdue[i].clock.due_at->seconds == expected[i].due);
  }
  const TickReport report = engine.tick();
  REQUIRE(report.clocks_overdue.size() == overdue.size());
  for (size_t i = 0; i < overdue.size(); ++i)
    CHECK(report.clocks_overdue[i].record.id == overdue[i].record.id);
}

TEST_CASE("the report reads a migrated case's clocks over the rows of both versions", "[clocks][migration]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  auto clock = std::make_shared<testing::TestClock>(*parse_datetime("2026-08-14T10:00:00Z"));
  StoreOptions options;
  options.create = true;
  Engine engine(open_store(db.location(), options), clock);
  engine.store().add_staff({"admin", "Admin", {"admin", "policy"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"pia", "Pia", {"policy"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"rina", "Rina", {"worker"}, true}, ::sopir::testing::kByAdmin);
  const CalendarSource cal{"testcal", "calendars/testcal.yaml", read_file(data("calendars/testcal.yaml")), ""};
  const std::string v1 = read_file(data("clocks/shelter-stay.yaml"));
  engine.publish_source(v1, "shelter-stay.yaml", "admin", true, {cal});
  const std::string id = engine.open_case({"shelter-stay", "rina", {}, "", std::nullopt}).after.id;
  // The stay's clock starts under version 1.
  engine.advance({id, "admit", "rina", {{"arrived_on", "2026-08-14"}}, "", "", std::nullopt});

  // Version 2 (the same states and clocks) and the case moved to it.
  clock->set(at("2026-08-20T10:00:00Z"));
  std::string v2 = v1;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  v2 += "migrate:\n  from: 1\n";
  const PublishedProcedure published = engine.publish_source(v2, "shelter-stay.yaml", "admin", true, {cal});
  const std::string document = plan_json(plan_migration(engine, "shelter-stay", published.version));
  const SavedPlan plan = read_plan(document);
  propose_migration(engine, "admin", document);
  approve_migration(engine, "pia", plan.sha256);
  const ApplyReport applied = apply_migration(engine, "admin", document);
  INFO(document);
  std::string skipped;
  for (const auto& skip : applied.skipped) skipped += skip.reason + "\n";
  INFO("stale " << applied.stale << ", cannot " << applied.cannot << ", stays " << applied.stays << "\n" << skipped);
  REQUIRE(applied.migrated == 1);
  REQUIRE(engine.store().find_case(id)->sha256 == published.sha256);

  // Closed under version 2, after the stay's 30 days: stopped late, which
  // only the rows of both versions together show.
  clock->set(at("2026-09-24T10:00:00Z"));
  engine.advance({id, "plan", "rina", {}, "", "", std::nullopt});
  engine.advance({id, "return_home", "rina", {}, "", "", std::nullopt});
  CHECK(engine.clocks(*engine.store().find_case(id))[0].stopped_late());
  audit::ReportOptions report_options;
  report_options.now = clock->now();
  std::ostringstream text;
  audit::report_text(engine.store(), report_options, text);
  INFO(text.str());
  CHECK(text.str().find("    stay: running 0, past the limit now 0, stopped in time 0, stopped late 1 (limit 30 days)\n") !=
        std::string::npos);
}
