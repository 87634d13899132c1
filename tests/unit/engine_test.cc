// The runtime over a real (in-memory or temporary) SQLite store, with an
// injected clock: opening, advancing, pinning, deadlines, lifecycle.
#include "sopir/engine.h"

#include <catch2/catch.hpp>
#include <functional>

#include "base/sha256.h"
#include "test_errors.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

class EngineFixture {
 protected:
  EngineFixture()
      : clock_(std::make_shared<testing::TestClock>(*parse_datetime("2026-03-02T08:00:00Z"))),
        engine_(open_sqlite_store(":memory:", StoreOptions{true}), clock_) {
    engine_.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"dewi", "Dewi Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"budi", "Budi Contoh", {"supervisor"}, true}, ::sopir::testing::kByAdmin);
    engine_.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
  }

  std::string open(std::vector<std::pair<std::string, std::string>> inputs = {}) {
    return engine_.open_case({"test-care", "rina", std::move(inputs), "", std::nullopt}).after.id;
  }

  StepResult step(const std::string& id, const std::string& event, const std::string& actor,
                  std::vector<std::pair<std::string, std::string>> inputs = {},
                  std::string reason = "") {
    StepRequest r;
    r.case_id = id;
    r.event = event;
    r.actor = actor;
    r.inputs = std::move(inputs);
    r.reason = std::move(reason);
    return engine_.advance(r);
  }

  std::shared_ptr<testing::TestClock> clock_;
  Engine engine_;
};

TEST_CASE_METHOD(EngineFixture, "a case walks to its end and every step is logged", "[engine]") {
  const std::string id = open({{"full_name", "Siti Contoh"}});
  CHECK(normalize_case_id(id) == id);
  step(id, "screen", "rina", {{"age", "31"}});
  step(id, "assess", "rina", {{"risk", "high"}});
  step(id, "stabilise", "dewi");
  step(id, "write_plan", "budi", {{"plan", "return to family"}});
  CHECK_THROWS_AS(step(id, "approve_plan", "budi"), RefusedError);
  engine_.store().add_staff({"sari", "Sari Contoh", {"supervisor"}, true}, ::sopir::testing::kByAdmin);
  auto last = step(id, "approve_plan", "sari");
  CHECK(last.after.state == "done");
  CHECK(last.after.status == Status::kClosed);

  auto history = engine_.store().history(id);
  REQUIRE(history.size() == 6);
  CHECK(history[0].kind == LogKind::kOpen);
  CHECK(history[5].event == "approve_plan");
  CHECK(history[5].role == "supervisor");
  // One chain through the whole log: sari's staff row lies between steps 5 and 6.
  for (size_t i = 1; i < history.size(); ++i) {
    CHECK(history[i].hash == chain_hash(history[i].prev_hash, history[i]));
    if (i < 5) CHECK(history[i].prev_hash == history[i - 1].hash);
  }
  // Personal data enters the log as a salted digest beside the value.
  REQUIRE(history[0].changes.size() == 1);
  CHECK(history[0].changes[0].after.pii);
  CHECK(history[0].changes[0].after.digest.size() == 64);
}

TEST_CASE_METHOD(EngineFixture, "a refused step writes nothing", "[engine]") {
  const std::string id = open();
  const auto before = engine_.store().chain_head();
  try {
    step(id, "screen", "budi", {{"age", "31"}});
    FAIL("expected a refusal");
  } catch (const RefusedError& e) {
    CHECK(e.refusal_kind() == RefusalKind::kRole);
    CHECK(e.message() == "case " + id +
                             ": event 'screen' may be done by worker; budi has roles supervisor");
  }
  CHECK(engine_.store().chain_head() == before);
  CHECK(engine_.store().find_case(id)->version == 1);
}

TEST_CASE_METHOD(EngineFixture,
                 "text that is not UTF-8 is refused, personal or not, and writes nothing",
                 "[engine]") {
  const std::string id = open({{"full_name", "Ani Contoh"}});
  const auto before = engine_.store().chain_head();
  const std::string bad = "Ani\xff";
  // full_name is personal: its text is kept apart from the log row.
  for (const char* field : {"full_name", "plan"}) {
    INFO(field);
    try {
      engine_.open_case({"test-care", "rina", {{field, bad}}, "", std::nullopt});
      FAIL("expected a refusal");
    } catch (const RefusedError& e) {
      CHECK(e.refusal_kind() == RefusalKind::kBadInput);
      CHECK(e.message().find("the value given for field '" + std::string(field) +
                             "' is not valid UTF-8 text; give the text in UTF-8") !=
            std::string::npos);
    }
  }
  try {
    step(id, "screen", "rina", {{"age", "31"}, {"full_name", bad}});
    FAIL("expected a refusal");
  } catch (const RefusedError& e) {
    CHECK(e.refusal_kind() == RefusalKind::kBadInput);
  }
  CHECK(engine_.store().chain_head() == before);
  CHECK(engine_.store().find_case(id)->version == 1);
}

TEST_CASE_METHOD(EngineFixture,
                 "a time it happened must be no later than now and not before the case's last step",
                 "[engine]") {
  const auto refusal = [](const std::function<void()>& act) -> std::string {
    try {
      act();
    } catch (const RefusedError& e) {
      CHECK(e.refusal_kind() == RefusalKind::kBadInput);
      return e.message();
    }
    return "accepted";
  };
  const auto head = engine_.store().chain_head();
  // Now is 2026-03-02T08:00:00Z.
  CHECK(refusal([&] {
          engine_.open_case({"test-care", "rina", {}, "", parse_datetime("2026-03-02T08:00:01Z")});
        }) ==
        "the time it happened (2026-03-02T08:00:01Z) is later than now (2026-03-02T08:00:00Z); "
        "give a time at or before now");
  CHECK(engine_.store().chain_head() == head);

  // Opened from a paper form a day ago; screened an hour ago.
  const std::string id =
      engine_.open_case({"test-care", "rina", {}, "", parse_datetime("2026-03-01T08:00:00Z")})
          .after.id;
  StepRequest screen;
  screen.case_id = id;
  screen.event = "screen";
  screen.actor = "rina";
  screen.inputs = {{"age", "30"}};
  screen.at = parse_datetime("2026-03-02T07:00:00Z");
  const auto opened = engine_.store().chain_head();
  StepRequest early = screen;
  early.at = parse_datetime("2026-03-01T07:59:59Z");
  CHECK(refusal([&] { engine_.advance(early); }) ==
        "case " + id +
            ": the time it happened (2026-03-01T07:59:59Z) is before the case's last step "
            "(2026-03-01T08:00:00Z); give a time at or after 2026-03-01T08:00:00Z");
  StepRequest late = screen;
  late.at = parse_datetime("2026-03-02T09:00:00Z");
  CHECK(refusal([&] { engine_.advance(late); }).find("is later than now") != std::string::npos);
  CHECK(engine_.store().chain_head() == opened);
  CHECK(refusal([&] { engine_.advance(screen); }) == "accepted");
  // A hold dated before the screening is refused; one at the same second is not.
  CHECK(refusal([&] {
          engine_.lifecycle({id, LifecycleEvent::kHold, "rina", "in hospital", "",
                             parse_datetime("2026-03-02T06:59:59Z")});
        }).find("is before the case's last step (2026-03-02T07:00:00Z)") != std::string::npos);
  CHECK(refusal([&] {
          engine_.lifecycle({id, LifecycleEvent::kHold, "rina", "in hospital", "",
                             parse_datetime("2026-03-02T07:00:00Z")});
        }) == "accepted");
}

TEST_CASE_METHOD(EngineFixture, "a step that lost a race writes nothing, alone or inside a caller's transaction",
                 "[engine]") {
  const std::string id = open();
  const std::string other = open();
  const CaseRecord held = *engine_.store().find_case(id);
  step(id, "screen", "rina", {{"age", "31"}});  // someone else wins
  const CaseRecord now = *engine_.store().find_case(id);
  const auto head = engine_.store().chain_head();
  StepRequest late;
  late.case_id = id;
  late.event = "screen";
  late.actor = "dewi";
  late.inputs = {{"age", "32"}};
  CHECK_THROWS_AS(engine_.advance_held(held, late), Error);
  CHECK(engine_.store().chain_head() == head);
  CHECK(engine_.store().find_case(id)->version == now.version);

  // Inside a caller's transaction the failed step undoes only itself: the
  // caller's other writes commit.
  engine_.store().transaction([&] {
    CHECK_THROWS_AS(engine_.advance_held(held, late), Error);
    step(other, "screen", "rina", {{"age", "40"}});
  });
  CHECK(engine_.store().find_case(id)->version == now.version);
  CHECK(engine_.store().find_case(id)->head_hash == now.head_hash);
  CHECK(engine_.store().find_case(other)->state == "screening");
  CHECK(engine_.store().history(id).size() == 2);
  CHECK(engine_.store().history(other).size() == 2);
}

TEST_CASE_METHOD(EngineFixture, "unknown cases, staff and procedures are not found", "[engine]") {
  CHECK_THROWS_WITH(engine_.actor("rinna"), "unknown staff member 'rinna'; did you mean 'rina'?");
  CHECK_THROWS_AS(engine_.current_procedure("test-cure"), Error);
  CHECK_THROWS_WITH(engine_.current_procedure("test-cure"),
                    "no procedure 'test-cure' is published; did you mean 'test-care'?");
  // Nothing near: the published ids.
  CHECK_THROWS_WITH(engine_.current_procedure("shelter-intake"),
                    "no procedure 'shelter-intake' is published; expected one of: test-care");
  // Each id once however many versions it has, in order.
  CHECK(no_procedure_message("shelter-intake", {"test-care", "aid-handout", "test-care"}, "en") ==
        "no procedure 'shelter-intake' is published; expected one of: aid-handout, test-care");
  try {
    step("ZZZ-ZZZ", "screen", "rina");
    FAIL("expected not found");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kNotFound);
  }
  engine_.store().set_staff_active("dewi", false, ::sopir::testing::kByAdmin);
  CHECK_THROWS_WITH(engine_.actor("dewi"), "staff member 'dewi' is deactivated");
}

TEST_CASE_METHOD(EngineFixture, "case ids are typeable", "[engine]") {
  const std::string id = open();
  std::string typed = id;
  typed.erase(3, 1);
  for (auto& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(engine_.resolve_case_id(typed) == id);
  CHECK(normalize_case_id("k7f 3qx") == "K7F-3QX");
  CHECK(normalize_case_id("K7F-3QXX") == std::nullopt);
}

TEST_CASE_METHOD(EngineFixture, "a case keeps the procedure version it was opened under",
                 "[engine]") {
  const std::string old_case = open();
  // Version 2 renames the first event; old cases keep the old rules.
  std::string v2 = testing::kCareYaml;
  v2.replace(v2.find("version: 1"), 10, "version: 2");
  v2.replace(v2.find("event: screen"), 13, "event: triage");
  engine_.publish_source(v2, "care-v2.yaml", "admin", false);
  const std::string new_case = open();
  CHECK(engine_.store().find_case(old_case)->sha256 != engine_.store().find_case(new_case)->sha256);
  CHECK_NOTHROW(step(old_case, "screen", "rina", {{"age", "40"}}));
  CHECK_THROWS_AS(step(new_case, "screen", "rina", {{"age", "40"}}), RefusedError);
  CHECK_NOTHROW(step(new_case, "triage", "rina", {{"age", "40"}}));
}

TEST_CASE_METHOD(EngineFixture, "the timer pass fires due on_deadline events", "[engine]") {
  const std::string id = open();
  const std::string other = open();
  step(other, "screen", "rina", {{"age", "22"}});
  CHECK(engine_.tick().fired.empty());
  clock_->advance(parse_duration("25h")->seconds);
  TickReport report = engine_.tick();
  REQUIRE(report.fired.size() == 1);
  const FiredDeadline& fired = report.fired[0];
  CHECK(fired.case_id == id);
  CHECK(fired.to_state == "escalated");
  CHECK(engine_.store().find_case(id)->state == "escalated");
  // The row it names is the timer's, the case's newest.
  const std::vector<LogEntry> log = engine_.store().history(id);
  CHECK(log.back().seq == fired.seq);
  CHECK(log.back().kind == LogKind::kTimer);
  CHECK(log.back().actor == "system");
  CHECK(log.back().event == fired.event);
  CHECK(log.back().from_state == fired.from_state);
  CHECK(report.overdue.empty());
  // The screened case is due after 7 days and has no timer event: overdue.
  clock_->advance(parse_duration("7d")->seconds);
  report = engine_.tick();
  CHECK(report.fired.empty());
  REQUIRE(report.overdue.size() == 1);
  CHECK(report.overdue[0].id == other);
}

TEST_CASE_METHOD(EngineFixture, "a hold pauses the deadline clock", "[engine]") {
  const std::string id = open();
  const DateTime due = *engine_.store().find_case(id)->due_at;
  engine_.lifecycle({id, LifecycleEvent::kHold, "rina", "in hospital", "", std::nullopt});
  clock_->advance(parse_duration("3d")->seconds);
  CHECK(engine_.tick().fired.empty());  // on hold: no timer
  CHECK_THROWS_AS(step(id, "screen", "rina", {{"age", "30"}}), RefusedError);
  auto resumed = engine_.lifecycle({id, LifecycleEvent::kResume, "rina", "", "", std::nullopt});
  CHECK(resumed.after.due_at->seconds == due.seconds + 3 * 86400);
  CHECK(resumed.entry.kind == LogKind::kLifecycle);
  CHECK(resumed.entry.event == "resume");
}

TEST_CASE_METHOD(EngineFixture, "close needs a listed reason and an allowed role; reopen", "[engine]") {
  const std::string id = open();
  CHECK_THROWS_AS(engine_.lifecycle({id, LifecycleEvent::kClose, "rina", "needs_met", "", {}}),
                  RefusedError);
  auto closed = engine_.lifecycle({id, LifecycleEvent::kClose, "budi", "declined", "", {}});
  CHECK(closed.after.status == Status::kClosed);
  CHECK(closed.after.closure_reason == "declined");
  CHECK_THROWS_AS(step(id, "screen", "rina", {{"age", "30"}}), RefusedError);
  auto reopened =
      engine_.lifecycle({id, LifecycleEvent::kReopen, "budi", "came back to the shelter", "", {}});
  CHECK(reopened.after.status == Status::kActive);
  CHECK(reopened.after.state == "intake");
  CHECK_NOTHROW(step(id, "screen", "rina", {{"age", "30"}}));
}

TEST_CASE_METHOD(EngineFixture, "publishing needs admin or policy; a broken file is refused",
                 "[engine]") {
  CHECK_THROWS_AS(engine_.publish_source(testing::kCareYaml, "care.yaml", "rina"), Error);
  try {
    engine_.publish_source("sop: x\nversion: one\n", "broken.yaml", "admin");
    FAIL("expected refusal");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kRefused);
    CHECK_THAT(e.message(), Catch::Contains("broken.yaml:2:"));
  }
}

TEST_CASE_METHOD(EngineFixture,
                 "a changed procedure is published only under a higher version: number",
                 "[engine]") {
  auto with = [](const std::string& version, const std::string& title) {
    std::string yaml = testing::kCareYaml;
    yaml.replace(yaml.find("\nversion: 1\n"), 12, "\nversion: " + version + "\n");
    yaml.replace(yaml.find("{en: Test care,"), 15, "{en: Test care " + title + ",");
    return yaml;
  };
  auto versions = [&] { return engine_.store().procedures().size(); };
  REQUIRE(versions() == 1);
  // The same number (or a lower one) for a changed file is refused, with
  // the number that would be taken; nothing is published.
  CHECK(testing::message_of([&] {
          engine_.publish_source(with("1", "Changed"), "care-v1b.yaml", "admin", false);
        }) ==
        "care-v1b.yaml: procedure 'test-care' says version: 1, but version 1 of it is published "
        "already: a changed "
        "procedure takes a higher number (version: 2), so that each number, in migrate: from: and "
        "wherever "
        "versions are shown, names one version");
  CHECK(versions() == 1);
  // The publication takes the file's number, a skipped one too: the number
  // sop list and migrate plan show is the one migrate: from: names.
  const PublishedProcedure three =
      engine_.publish_source(with("3", "Three"), "care-v3.yaml", "admin", false);
  CHECK(three.version == 3);
  CHECK_FALSE(three.already_published);
  CHECK(engine_.store().current_procedure("test-care")->version == 3);
  CHECK(testing::message_of(
            [&] { engine_.publish_source(with("2", "Two"), "care-v2.yaml", "admin", false); }) ==
        "care-v2.yaml: procedure 'test-care' says version: 2, but version 3 of it is published "
        "already: a changed procedure takes a higher number (version: 4), so that each number, "
        "in migrate: from: and wherever versions are shown, names one version");
  CHECK(versions() == 2);
  // The very file published again writes nothing new and is not refused;
  // it says it was published already, and whether it is current.
  const PublishedProcedure again =
      engine_.publish_source(with("3", "Three"), "care-v3.yaml", "admin", false);
  CHECK(again.version == 3);
  CHECK(again.already_published);
  CHECK(again.current);
  const PublishedProcedure first =
      engine_.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
  CHECK(first.version == 1);
  CHECK(first.already_published);
  CHECK_FALSE(first.current);
  CHECK(versions() == 2);
}

TEST_CASE_METHOD(
    EngineFixture,
    "a database numbered before publications took version: numbers a new one above both",
    "[engine]") {
  // An older sopir numbered each publication one above the last, whatever
  // the file said: here a changed file still saying version: 1 became
  // publication 2.
  std::string older = testing::kCareYaml;
  older.replace(older.find("{en: Test care,"), 15, "{en: Test care Older,");
  engine_.store().publish("test-care", sha256_hex(older), older, "care-older.yaml", "admin",
                          DateTime{1789990000});
  REQUIRE(engine_.store().current_procedure("test-care")->version == 2);
  // A file saying version: 2 is above every file's number but not above
  // publication 2: refused, naming the number that is free.
  std::string two = testing::kCareYaml;
  two.replace(two.find("\nversion: 1\n"), 12, "\nversion: 2\n");
  CHECK_THAT(
      testing::message_of([&] { engine_.publish_source(two, "care-v2.yaml", "admin", false); }),
      Catch::Contains("says version: 2, but version 2 of it is published already") &&
          Catch::Contains("(version: 3)"));
  CHECK(engine_.store().procedures().size() == 2);
  // The store itself refuses a number taken, whoever calls it.
  CHECK(testing::kind_of([&] {
          engine_.store().publish("test-care", sha256_hex(two), two, "care-v2.yaml", "admin",
                                  DateTime{1789990001}, 2);
        }) == ErrorKind::kConflict);
  std::string three = testing::kCareYaml;
  three.replace(three.find("\nversion: 1\n"), 12, "\nversion: 3\n");
  CHECK(engine_.publish_source(three, "care-v3.yaml", "admin", false).version == 3);
}

}  // namespace
}  // namespace sopir
