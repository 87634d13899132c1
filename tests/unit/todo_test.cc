// Engine::todo: which active cases a staff member can move now, in which
// order, and what is still to give.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "sopir/engine.h"
#include "test_backends.h"
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

std::string data_file(const std::string& name) {
  std::ifstream in(std::string(SOPIR_SOURCE_DIR) + "/tests/data/" + name);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<int64_t> seqs(const std::vector<LogEntry>& log) {
  std::vector<int64_t> out;
  for (const LogEntry& e : log) out.push_back(e.seq);
  return out;
}

// todo reads its cases a part at a time (Engine::kCasesPerRead), their logs
// and the cases they opened by one store call each (Store::histories,
// Store::children_of): what it lists must be what each case alone gives.
TEST_CASE("todo reads many cases' children a part at a time, as each case alone gives them",
          "[todo][store]") {
  const auto backend = GENERATE(from_range(::sopir::testing::store_backends()));
  ::sopir::testing::TestDatabase db(backend);
  auto clock = std::make_shared<testing::TestClock>(*parse_datetime("2026-03-02T08:00:00Z"));
  Engine engine(open_store(db.location(), ::sopir::testing::creating()), clock);
  engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"sari", "Sari Contoh", {"carer"}, true}, ::sopir::testing::kByAdmin);
  engine.publish_source(data_file("pmi-care.yaml"), "pmi-care.yaml", "admin", false);
  engine.publish_source(data_file("pmi-intake.yaml"), "pmi-intake.yaml", "admin", false);
  // More intakes than one part. Every second one is referred (its guards
  // read its care case: child_closed), and every fourth one's care case
  // is discharged. Each opens a minute after the one before (todo's order).
  const size_t n = Engine::kCasesPerRead + 3;
  std::vector<std::string> intakes, expected;
  std::map<std::string, std::string> event_of;  // what rina can do in each
  for (size_t i = 0; i < n; ++i) {
    clock->advance(60);
    const std::string id =
        engine.open_case({"pmi-intake", "rina", {{"full_name", "Nama Contoh"}}, "", {}}).after.id;
    intakes.push_back(id);
    event_of[id] = "refer";
    if (i % 2 == 1) {
      const StepResult referred =
          engine.advance(testing::step_request(id, "refer", "rina", {{"age", "30"}}));
      REQUIRE(referred.opened.size() == 1);
      event_of[id] = "remind";
      if (i % 4 == 1) {
        engine.advance(testing::step_request(referred.opened[0].record.id, "discharge", "sari"));
        event_of[id] = "finish";
      }
    }
  }
  const TodoList list = engine.todo("rina");
  REQUIRE(list.items.size() == n);
  for (size_t i = 0; i < n; ++i) {
    const TodoItem& item = list.items[i];
    CHECK(item.record.id == intakes[i]);
    REQUIRE(item.events.size() == 1);
    CHECK(item.events[0].event == event_of[item.record.id]);
  }
  // With a limit: the first items of the whole list, the others counted.
  // The cases come a part at a time in id order, not in the list's.
  for (const size_t limit : {size_t{1}, size_t{7}, n - 1, n, n + 5}) {
    INFO("limit " << limit);
    const TodoList limited = engine.todo("rina", static_cast<int64_t>(limit));
    const size_t kept = std::min(limit, n);
    REQUIRE(limited.items.size() == kept);
    CHECK(limited.more == static_cast<int64_t>(n - kept));
    for (size_t i = 0; i < kept; ++i) CHECK(limited.items[i].record.id == intakes[i]);
  }

  // The store's calls for many cases give what its calls for one give, in
  // the order asked.
  Store& store = engine.store();
  const std::vector<std::string> some = {intakes[5], intakes[0], intakes[1], intakes[n - 1]};
  const std::vector<std::vector<LogEntry>> logs = store.histories(some);
  const std::vector<std::vector<ChildCase>> children = store.children_of(some);
  REQUIRE(logs.size() == some.size());
  REQUIRE(children.size() == some.size());
  for (size_t i = 0; i < some.size(); ++i) {
    CHECK(seqs(logs[i]) == seqs(store.history(some[i])));
    CHECK(logs[i].front().changes[0].after.text == "Nama Contoh");
    const std::vector<ChildCase> alone = store.child_cases(some[i]);
    REQUIRE(children[i].size() == alone.size());
    for (size_t k = 0; k < alone.size(); ++k) {
      CHECK(children[i][k].id == alone[k].id);
      CHECK(children[i][k].status == alone[k].status);
    }
  }
  CHECK(children[0].size() == 1);  // intakes[5]: referred
  CHECK(children[0][0].status == Status::kClosed);
  CHECK(children[1].empty());  // intakes[0]: still in screening
  CHECK(store.histories({}).empty());
  CHECK(store.children_of({}).empty());
  try {
    store.histories({intakes[0], "NO-SUCH"});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kNotFound);
    CHECK_THAT(e.message(), Catch::Contains("NO-SUCH"));
  }
}

}  // namespace
}  // namespace sopir
