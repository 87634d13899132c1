// The timer pass (Engine::tick) on both stores: it fires every due
// on_deadline event, more cases than it reads at once, by due time then id;
// it reads each case again before firing it, so that a case a staff member
// moved meanwhile is left alone rather than reported as a failure; and it
// lists what is still overdue afterwards. All names are invented.
#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "sopir/engine.h"
#include "test_backends.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

DateTime at(const char* text) { return parse_datetime(text).value(); }

struct Due {
  int64_t due;
  std::string id;
};

TEST_CASE("the timer pass fires every due case, more than a part, by due time then id",
          "[engine][store]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  auto clock = std::make_shared<testing::TestClock>(at("2026-01-01T00:00:00Z"));
  Engine engine(open_store(db.location(), testing::creating()), clock);
  Engine::add_first_administrator(engine.store(), "rina", "Rina Contoh");
  engine.add_staff("rina", {"dewi", "Dewi Contoh", {"worker"}, true});
  engine.publish_source(testing::kCareYaml, "care.yaml", "rina", false);
  auto open = [&](DateTime when) {
    clock->set(when);
    return engine.open_case({"test-care", "dewi", {{"age", "30"}}, "", std::nullopt}).after.id;
  };

  // Screened long ago: its state has a deadline (7d) but no timer event.
  const std::string screened = open(at("2025-12-01T09:00:00Z"));
  StepRequest screen;
  screen.case_id = screened;
  screen.event = "screen";
  screen.actor = "dewi";
  engine.advance(screen);
  // Each later case opened earlier, two to an hour (so that cases opened
  // apart share a due time); intake's deadline is 24h, its event escalate.
  // Half of them fall due: more than the pass reads at once.
  const int n = 2 * static_cast<int>(Engine::kCasesPerRead) + 14;
  const DateTime first = at("2026-01-01T10:00:00Z");
  std::vector<Due> opened;
  for (int i = 0; i < n; ++i) {
    const DateTime when{first.seconds + (n - i) / 2 * 3600};
    opened.push_back({when.seconds + 24 * 3600, open(when)});
  }
  // Half of them due.
  clock->set(DateTime{first.seconds + 24 * 3600 + n / 4 * 3600});
  std::vector<Due> due;
  for (const Due& d : opened)
    if (d.due <= clock->now().seconds) due.push_back(d);
  std::sort(due.begin(), due.end(), [](const Due& a, const Due& b) {
    return std::tie(a.due, a.id) < std::tie(b.due, b.id);
  });
  REQUIRE(due.size() > Engine::kCasesPerRead);

  // While the pass runs, a staff member screens the last due case before
  // the timer reaches it: it is no longer due, and not a failure.
  const std::string moved = due.back().id;
  StepRequest screen_moved = screen;
  screen_moved.case_id = moved;
  bool first_fired = true;
  const TickReport report = engine.tick([&](const CaseRecord& record) -> DecisionTrace* {
    CHECK(record.id != moved);
    if (first_fired) engine.advance(screen_moved);
    first_fired = false;
    return nullptr;
  });
  due.pop_back();

  CHECK(report.failures.empty());
  REQUIRE(report.fired.size() == due.size());
  for (size_t i = 0; i < due.size(); ++i) {
    INFO("fired " << i);
    CHECK(report.fired[i].case_id == due[i].id);
    CHECK(report.fired[i].event == "escalate");
    CHECK(report.fired[i].to_state == "escalated");
  }
  CHECK(engine.store().find_case(due.front().id)->state == "escalated");
  CHECK(engine.store().find_case(due.back().id)->state == "escalated");
  CHECK(engine.store().find_case(moved)->state == "screening");
  // Still overdue: the case screened long ago, as the CLI lists it.
  REQUIRE(report.overdue.size() == 1);
  CHECK(report.overdue[0].id == screened);
  CHECK(report.overdue[0].sop_id == "test-care");
  CHECK(report.overdue[0].state == "screening");
  CHECK(report.overdue[0].due_at == *engine.store().find_case(screened)->due_at);

  // Nothing left to fire until the next ones fall due.
  CHECK(engine.tick().fired.empty());
  clock->set(DateTime{first.seconds + 24 * 3600 + n * 3600});
  CHECK(engine.tick().fired.size() == opened.size() - due.size() - 1);
}

}  // namespace
}  // namespace sopir
