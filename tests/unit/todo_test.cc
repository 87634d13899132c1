// Engine::todo: which active cases a staff member can move now, in which
// order, and what is still to give.
#include <catch2/catch.hpp>

#include "sopir/engine.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

constexpr int64_t kHour = 3600;

// Three care cases: `first` (intake, due 24h after it opened), `second`
// (intake, opened an hour later) and `screened` (screening, due in 7 days);
// then the clock moves on until `first` alone is overdue.
class TodoFixture {
 protected:
  TodoFixture()
      : clock_(std::make_shared<testing::TestClock>(*parse_datetime("2026-03-02T08:00:00Z"))),
        engine_(open_sqlite_store(":memory:", StoreOptions{true}), clock_) {
    engine_.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"budi", "Budi Contoh", {"supervisor"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"anto", "Anto Contoh", {"worker"}, false}, ::sopir::testing::kByAdmin);
    engine_.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
    screened_ = open();  // opened first, but due last once screened
    clock_->advance(kHour);
    first_ = open();
    clock_->advance(kHour);
    second_ = open();
    step(screened_, "screen", "rina", {{"age", "30"}});
    clock_->advance(24 * kHour);  // first: due 1h ago; second: due now
  }

  std::string open() {
    return engine_.open_case({"test-care", "rina", {}, "", std::nullopt}).after.id;
  }
  void step(const std::string& id, const std::string& event, const std::string& actor,
            std::vector<std::pair<std::string, std::string>> inputs = {}) {
    engine_.advance(testing::step_request(id, event, actor, std::move(inputs)));
  }
  static std::vector<std::string> ids(const TodoList& list) {
    std::vector<std::string> out;
    for (const auto& item : list.items) out.push_back(item.record.id);
    return out;
  }

  std::shared_ptr<testing::TestClock> clock_;
  Engine engine_;
  std::string screened_, first_, second_;
};

TEST_CASE_METHOD(TodoFixture, "todo lists overdue cases first, then by due time", "[todo]") {
  const TodoList list = engine_.todo("rina");
  CHECK(ids(list) == std::vector<std::string>{first_, second_, screened_});
  CHECK(list.more == 0);
  CHECK(list.items[0].overdue);
  CHECK_FALSE(list.items[1].overdue);  // due exactly now: not yet past
  CHECK_FALSE(list.items[2].overdue);
  CHECK(list.items[0].procedure->id == "test-care");
}

TEST_CASE_METHOD(TodoFixture, "todo gives each event with what is still to give", "[todo]") {
  const TodoList list = engine_.todo("rina");
  REQUIRE(list.items.size() == 3);
  REQUIRE(list.items[0].events.size() == 1);
  const EventCheck& screen = list.items[0].events[0];
  CHECK(screen.event == "screen");
  REQUIRE(screen.refusal);
  CHECK(screen.refusal->kind == RefusalKind::kMissingField);
  CHECK(screen.refusal->missing == std::vector<std::string>{"age"});
  REQUIRE(list.items[2].events.size() == 1);
  CHECK(list.items[2].events[0].event == "assess");
  CHECK(list.items[2].events[0].refusal->missing == std::vector<std::string>{"risk"});
}

TEST_CASE_METHOD(TodoFixture, "todo holds only the cases this actor may move", "[todo]") {
  // budi (supervisor) may escalate cases in intake, nothing in screening.
  TodoList list = engine_.todo("budi");
  CHECK(ids(list) == std::vector<std::string>{first_, second_});
  REQUIRE(list.items[0].events.size() == 1);
  CHECK(list.items[0].events[0].event == "escalate");
  CHECK_FALSE(list.items[0].events[0].refusal);  // nothing to give

  // Escalated, the way back needs a reason.
  step(first_, "escalate", "budi");
  list = engine_.todo("budi");
  REQUIRE(list.items.size() == 2);
  CHECK(list.items[1].record.id == first_);  // no deadline in escalated: last
  REQUIRE(list.items[1].events.size() == 1);
  CHECK(list.items[1].events[0].event == "back");
  CHECK(list.items[1].events[0].refusal->kind == RefusalKind::kReasonRequired);
  CHECK(ids(engine_.todo("rina")) == std::vector<std::string>{second_, screened_});
}

TEST_CASE_METHOD(TodoFixture, "todo leaves out cases on hold and closed", "[todo]") {
  engine_.lifecycle({second_, LifecycleEvent::kHold, "rina", "in hospital", "", std::nullopt});
  engine_.lifecycle({screened_, LifecycleEvent::kClose, "budi", "declined", "", std::nullopt});
  CHECK(ids(engine_.todo("rina")) == std::vector<std::string>{first_});
}

TEST_CASE_METHOD(TodoFixture, "todo's limit keeps the first items and counts the rest", "[todo]") {
  TodoList list = engine_.todo("rina", 2);
  CHECK(ids(list) == std::vector<std::string>{first_, second_});
  CHECK(list.more == 1);
  list = engine_.todo("rina", 3);
  CHECK(list.items.size() == 3);
  CHECK(list.more == 0);
}

TEST_CASE_METHOD(TodoFixture, "todo needs a known, active staff member", "[todo]") {
  try {
    engine_.todo("nobody");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kNotFound);
  }
  try {
    engine_.todo("anto");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kRefused);
  }
}

TEST_CASE("count_cases counts what cases() lists, without the limit", "[todo][store]") {
  auto clock = std::make_shared<testing::TestClock>(*parse_datetime("2026-03-02T08:00:00Z"));
  Engine engine(open_sqlite_store(":memory:", StoreOptions{true}), clock);
  engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
  engine.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
  for (int i = 0; i < 5; ++i) engine.open_case({"test-care", "rina", {}, "", std::nullopt});
  CaseFilter filter;
  filter.limit = 2;
  CHECK(engine.store().cases(filter).size() == 2);
  CHECK(engine.store().count_cases(filter) == 5);
  filter.state = "screening";
  CHECK(engine.store().count_cases(filter) == 0);
  filter.state = "intake";
  filter.due_before = DateTime{clock->now().seconds + 25 * kHour};
  CHECK(engine.store().count_cases(filter) == 5);
  filter.due_before = clock->now();
  CHECK(engine.store().count_cases(filter) == 0);
}

}  // namespace
}  // namespace sopir
