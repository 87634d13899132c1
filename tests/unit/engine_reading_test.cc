// What the engine shows of a case and to whom: personal data masked or
// revealed (the access recorded), case ids typed loosely, events checked as
// decide() refuses them, batches that stand or fall together, and the
// messages of publishing and setting up a database.
#include <catch2/catch.hpp>

#include <functional>
#include <optional>

#include "sopir/engine.h"
#include "sopir/privacy.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

// Staff: admin (the first administrator), rina (worker), budi (supervisor,
// who may see personal data); test-care published.
class EngineReadingFixture {
 protected:
  EngineReadingFixture()
      : engine_(open_sqlite_store(":memory:", StoreOptions{true}), std::make_shared<testing::TestClock>(*parse_datetime("2026-03-02T08:00:00Z"))) {
    Engine::add_first_administrator(engine_.store(), "admin", "Admin Contoh");
    engine_.add_staff("admin", {"rina", "Rina Contoh", {"worker"}, true});
    engine_.add_staff("admin", {"budi", "Budi Contoh", {"supervisor"}, true});
    engine_.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
  }

  std::string open(std::vector<std::pair<std::string, std::string>> inputs) {
    return engine_.open_case({"test-care", "rina", std::move(inputs), "", std::nullopt}).after.id;
  }

  static StoredValue value(const CaseRecord& record, const std::string& field) {
    for (const auto& v : record.data)
      if (v.field == field) return v;
    return StoredValue{};
  }

  Engine engine_;
};

// The message of the error `f` throws, "" when none.
std::string refusal_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind() == ErrorKind::kRefused ? e.message() : "not a refusal: " + e.message();
  }
  return "";
}

// The kind of the error `f` throws; nullopt when none.
std::optional<ErrorKind> kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  return std::nullopt;
}

TEST_CASE_METHOD(EngineReadingFixture, "the first administrator may manage staff and publish",
                 "[engine]") {
  const StaffMember admin = engine_.staff_member("admin");
  CHECK(admin.roles == std::vector<std::string>{"admin", "policy"});
  CHECK(admin.name == "Admin Contoh");
  CHECK_THROWS_WITH(
      Engine::add_first_administrator(engine_.store(), "Admin!", ""),
      "'Admin!' is not a usable staff id: use lowercase letters, digits, '_', '.' or '-' "
      "(like admin or ayu.lestari), and not 'system'");
  CHECK_THROWS_WITH(engine_.staff_member("rinna"),
                    "unknown staff member 'rinna'; did you mean 'rina'?");
  CHECK(engine_.staff().size() == 3);
}

TEST_CASE_METHOD(EngineReadingFixture,
                 "view masks personal data; show reveals it to allowed roles only",
                 "[engine][privacy]") {
  const std::string id = open({{"full_name", "Wati Contoh"}, {"age", "31"}});
  const CaseView plain = engine_.view(id, "budi");
  CHECK(value(plain.record, "full_name").text == kMaskedValue);
  CHECK(value(plain.record, "full_name").digest.empty());
  CHECK(value(plain.record, "age").text == "31");
  CHECK_FALSE(plain.personal_data_shown);
  // The rules still see the real value.
  CHECK(std::get<std::string>(plain.snapshot.data[1]) == "Wati Contoh");

  // Without a reveal request: masked for everyone, nothing recorded.
  const CaseView unasked = engine_.show(id, "budi");
  CHECK(value(unasked.record, "full_name").text == kMaskedValue);
  CHECK_FALSE(unasked.personal_data_shown);
  CHECK(engine_.store().access_records({}).empty());

  const RevealRequest why{"case show --reveal", "checking the spelling"};
  CHECK(refusal_of([&] { engine_.show(id, "rina", &why); }) ==
        "rina may not see the personal data of case " + id +
            ": procedure 'test-care' shows it only to the roles supervisor (pii_visible_to); rina has roles worker");
  const RevealRequest no_reason{"case show --reveal", " \t"};
  CHECK(refusal_of([&] { engine_.show(id, "budi", &no_reason); }) ==
        "seeing the personal data of case " + id + " needs a reason: say why you need to see it");
  CHECK(engine_.store().access_records({}).empty());

  const CaseView supervisor = engine_.show(id, "budi", &why);
  CHECK(value(supervisor.record, "full_name").text == "Wati Contoh");
  CHECK(supervisor.personal_data_shown);
  const std::vector<AccessRecord> seen = engine_.store().access_records({});
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].actor == "budi");
  CHECK(seen[0].case_id == id);
  CHECK(seen[0].what == "case show --reveal");
  CHECK(seen[0].reason == "checking the spelling");
}

TEST_CASE_METHOD(EngineReadingFixture, "history shows personal changes only when revealed to allowed roles",
                 "[engine][privacy]") {
  const std::string id = open({{"full_name", "Wati Contoh"}});
  const CaseHistory worker = engine_.history(id, "rina");
  REQUIRE(worker.entries.size() == 1);
  const LogEntry& opened = worker.entries[0];
  CHECK(opened.inputs ==
        std::vector<std::pair<std::string, std::string>>{{"full_name", kMaskedValue}});
  REQUIRE(opened.changes.size() == 1);
  CHECK(opened.changes[0].after.text == kMaskedValue);
  CHECK_FALSE(worker.personal_data_shown);
  CHECK(engine_.history(id, "budi").entries[0].changes[0].after.text == kMaskedValue);

  const RevealRequest why{"case history --reveal", "review"};
  CHECK_THROWS_AS(engine_.history(id, "rina", &why), Error);
  const CaseHistory supervisor = engine_.history(id, "budi", &why);
  CHECK(supervisor.entries[0].inputs[0].second == kMaskedValue);  // inputs: as typed, never kept
  CHECK(supervisor.entries[0].changes[0].after.text == "Wati Contoh");
  CHECK(supervisor.personal_data_shown);
  REQUIRE(engine_.store().access_records({}).size() == 1);
  CHECK(engine_.store().access_records({})[0].what == "case history --reveal");
}

TEST_CASE_METHOD(EngineReadingFixture, "an access request exports everything held, recorded first",
                 "[engine][privacy]") {
  const std::string id = open({{"full_name", "Wati Contoh"}, {"age", "31"}});
  const std::string other = open({{"full_name", "Sari Contoh"}});
  const RevealRequest earlier{"case show --reveal", "call back"};
  engine_.show(id, "budi", &earlier);
  engine_.show(other, "budi", &earlier);
  const RevealRequest request{"case export-personal", "access request of the person"};
  // Refused: no reason, a role that may not see, an unknown case; nothing recorded.
  const RevealRequest no_reason{"case export-personal", ""};
  CHECK(kind_of([&] { engine_.export_personal(id, "budi", no_reason); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { engine_.export_personal(id, "rina", request); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { engine_.export_personal("ZZZ-ZZZ", "budi", request); }) == ErrorKind::kNotFound);
  CHECK(engine_.store().access_records({}).size() == 2);

  const PersonalExport x = engine_.export_personal(id, "budi", request);
  CHECK(value(x.view.record, "full_name").text == "Wati Contoh");
  CHECK(value(x.history.record, "age").text == "31");
  REQUIRE(x.history.entries.size() == 1);
  std::string name_shown;
  for (const LogEntry::Change& change : x.history.entries[0].changes)
    if (change.after.field == "full_name") name_shown = change.after.text;
  CHECK(name_shown == "Wati Contoh");
  CHECK(x.history.personal_data_shown);
  CHECK(x.linked.empty());
  // Its own access is among those listed; the other case's are not.
  REQUIRE(x.accesses.size() == 2);
  CHECK(x.accesses[0].reason == "call back");
  CHECK(x.accesses[1].what == "case export-personal");
  CHECK(x.accesses[1].reason == "access request of the person");
  CHECK(x.accesses[1].case_id == id);
  CHECK(engine_.store().access_records({}).size() == 3);
}

TEST_CASE("shown values: masked, revealed, erased, missing", "[privacy]") {
  StoredValue v;
  v.field = "full_name";
  v.missing = false;
  v.text = "Wati Contoh";
  v.pii = true;
  CHECK(shown_value(v, false) == "***");
  CHECK(shown_value(v, true) == "Wati Contoh");
  v.erased = true;
  v.text.clear();
  // That a value was erased tells nothing about it: everyone sees so.
  CHECK(shown_value(v, false) == "(erased)");
  CHECK(shown_value(v, true) == "(erased)");
  v.erased = false;
  v.locked = true;  // encrypted, no key held
  CHECK(shown_value(v, false) == "***");
  CHECK(shown_value(v, true) == "(encrypted)");
  StoredValue age;
  age.missing = false;
  age.text = "31";
  CHECK(shown_value(age, false) == "31");
  CHECK(shown_value(StoredValue{}, true) == "");
}

TEST_CASE_METHOD(EngineReadingFixture, "case id prefixes read look-alikes as the full ids do",
                 "[engine]") {
  CHECK(normalize_case_id("kO1-lIo") == "K01-110");
  CHECK(normalize_case_id_prefix("k7f") == "K7F");
  CHECK(normalize_case_id_prefix("k7f3") == "K7F-3");
  CHECK(normalize_case_id_prefix("K7F-") == "K7F");
  CHECK(normalize_case_id_prefix("") == "");
  CHECK(normalize_case_id_prefix("k7u") == std::nullopt);  // U is not in the alphabet
  CHECK(normalize_case_id_prefix("k7f3qxz") == std::nullopt);
  const std::string id = open({});
  std::string typed = id.substr(0, 2);
  for (auto& c : typed) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '0') c = 'o';
    if (c == '1') c = 'l';
  }
  CHECK(engine_.case_ids(typed, 10) == std::vector<std::string>{id});
  CHECK(engine_.case_ids("u", 10).empty());
}

TEST_CASE_METHOD(EngineReadingFixture, "check_event refuses an unknown event as advance does",
                 "[engine]") {
  const std::string id = open({});
  const CaseView view = engine_.view(id, "rina");
  CHECK(engine_.check_event(view, "screen").possible);
  std::string advanced;
  try {
    engine_.advance({id, "scren", "rina", {}, {}, {}, {}});
  } catch (const RefusedError& e) {
    advanced = e.message();
  }
  CHECK(advanced == "case " + id +
                        ": procedure 'test-care' has no event 'scren'; did you mean 'screen'? "
                        "(possible now: screen, escalate)");
  CHECK_THROWS_WITH(engine_.check_event(view, "scren"), advanced);
  CHECK_THROWS_WITH(engine_.check_event(view, "assess"),
                    "case " + id +
                        ": event 'assess' is not possible in state 'intake' (Intake); possible "
                        "now: screen, escalate");
}

TEST_CASE_METHOD(EngineReadingFixture, "a possible event says what is still to give", "[engine]") {
  const std::string id = open({});
  const EventCheck check = engine_.check_event(engine_.view(id, "rina"), "screen");
  CHECK(check.possible);
  REQUIRE(check.refusal);
  CHECK(check.refusal->kind == RefusalKind::kMissingField);
  CHECK(check.refusal->missing == std::vector<std::string>{"age"});
  CHECK(check.refusal->message == "event 'screen' needs a value for age");
}

TEST_CASE_METHOD(EngineReadingFixture, "a batch stands or falls together unless partial",
                 "[engine]") {
  auto opened = [&] { return engine_.cases({}).size(); };
  auto rows = [&](size_t i) {
    if (i == 1)
      engine_.open_case({"test-care", "rina", {{"age", "many"}}, "", std::nullopt});
    else
      engine_.open_case({"test-care", "rina", {}, "", std::nullopt});
  };
  BatchOutcome all = engine_.run_batch(3, false, rows);
  CHECK_FALSE(all.committed);
  CHECK(all.refused() == 1);
  CHECK(all.written() == 0);
  CHECK(all.errors[1]->kind() == ErrorKind::kRefused);
  CHECK(opened() == 0);

  std::vector<size_t> done;
  BatchOutcome partial = engine_.run_batch(3, true, rows, [&](size_t i) { done.push_back(i); });
  CHECK(partial.committed);
  CHECK(partial.written() == 2);
  CHECK(done == std::vector<size_t>{0, 1, 2});
  CHECK(opened() == 2);

  BatchOutcome good = engine_.run_batch(2, false, [&](size_t) { rows(0); });
  CHECK(good.committed);
  CHECK(good.written() == 2);
  CHECK(opened() == 4);

  // A storage error ends the batch, partial or not, and nothing is written.
  CHECK_THROWS_WITH(engine_.run_batch(2, true,
                                      [&](size_t i) {
                                        rows(0);
                                        if (i == 1) throw storage_error("disk full");
                                      }),
                    "disk full");
  CHECK(opened() == 4);
}

TEST_CASE_METHOD(EngineReadingFixture, "publishing names the file once", "[engine]") {
  try {
    engine_.publish_source("sop: x\nversion: one\n", "broken.yaml", "admin");
    FAIL("expected a refusal");
  } catch (const Error& e) {
    CHECK(e.message().rfind("broken.yaml: ", 0) == 0);
    CHECK(e.message().find("broken.yaml: broken.yaml") == std::string::npos);
  }
  const std::string parent = R"(sop: parent
version: 1
title: Parent
roles: [worker]
states:
  a: {initial: true}
  b: {terminal: true}
transitions:
  - {event: go, from: a, to: b, roles: [worker], opens: {sop: nowhere}}
)";
  try {
    engine_.publish_source(parent, "parent.yaml", "admin");
    FAIL("expected a refusal");
  } catch (const Error& e) {
    CHECK(e.message().rfind("parent.yaml: cannot publish", 0) == 0);
  }
}

TEST_CASE_METHOD(EngineReadingFixture, "the engine's messages name no program option", "[engine]") {
  const std::string id = open({});
  try {
    engine_.advance({id, "screen", "rina", {}, {}, {}, {}});
    FAIL("expected a refusal");
  } catch (const RefusedError& e) {
    CHECK(e.message() == "case " + id + ": event 'screen' needs a value for age");
    CHECK(e.case_id() == id);
    CHECK(e.refusal().missing == std::vector<std::string>{"age"});
  }
  CHECK_THROWS_WITH(engine_.actor(""), "no staff member given: say who is acting");
  CHECK_THROWS_WITH(engine_.add_staff("admin", {"ayu", "", {"worker"}, true}),
                    "a staff member needs a name");
}

}  // namespace
}  // namespace sopir
