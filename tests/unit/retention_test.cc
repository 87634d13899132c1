// The retention rule (sopir/retention.h, Engine::retention_due,
// Engine::apply_retention; docs/PRIVACY.md "Retention"): periods as written,
// calendar months and the leap day, when a closed case falls due (a second
// before, exactly at, after), that applying it erases exactly the due cases,
// and that audit verify refuses a retention erasure row written too early
// (and an erasure on request without a second officer).
// All names are invented.
#include "sopir/retention.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "lang/procedure_codec.h"
#include "sopir/audit.h"
#include "sopir/engine.h"
#include "sopir/loader.h"
#include "test_backends.h"
#include "test_errors.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

DateTime at(const char* text) { return parse_datetime(text).value(); }
std::string shown(DateTime t) { return format_datetime(t); }

// test-care (test_procedures.h) under another id, with a retention.
std::string care_with(const std::string& sop, const std::string& retention) {
  std::string yaml = testing::kCareYaml;
  yaml.replace(yaml.find("sop: test-care"), 14, "sop: " + sop);
  return yaml + "retention: " + retention + "\n";
}

using testing::kind_of;

// An office whose data protection officer is dewi, on either store
// (erasure needs SQLite's).
struct Office {
  testing::TestDatabase db;
  std::shared_ptr<testing::TestClock> clock = std::make_shared<testing::TestClock>(DateTime{0});
  std::unique_ptr<Engine> engine;

  explicit Office(testing::Backend backend = testing::Backend::kSqlite) : db(backend) {
    clock->set(at("2020-01-01T09:00:00Z"));
    engine = std::make_unique<Engine>(open_store(db.location(), testing::creating()), clock);
    Engine::add_first_administrator(engine->store(), "rina", "Rina Contoh");
    engine->add_staff("rina", {"dewi", "Dewi Contoh", {"worker", "data_protection"}, true});
    engine->add_staff("rina", {"sari", "Sari Contoh", {"supervisor"}, true});
    engine->publish_source(care_with("keep-month", "1 month"), "keep-month.yaml", "rina", false);
    engine->publish_source(care_with("keep-year", "1 year"), "keep-year.yaml", "rina", false);
    engine->publish_source(testing::kCareYaml, "care.yaml", "rina", false);
  }

  // A case of `sop` opened now and closed at `closed`.
  std::string closed_case(const std::string& sop, const char* closed) {
    OpenRequest open;
    open.sop_id = sop;
    open.actor = "dewi";
    open.inputs = {{"full_name", "Lastri Gunung"}, {"age", "30"}};
    const std::string id = engine->open_case(open).after.id;
    const DateTime keep = clock->now();
    clock->set(at(closed));
    engine->lifecycle({id, LifecycleEvent::kClose, "sari", "needs_met", "", std::nullopt});
    clock->set(keep);
    return id;
  }
};

}  // namespace

TEST_CASE("retention periods as a procedure writes them", "[retention]") {
  const auto five = parse_retention("5 years");
  REQUIRE(five);
  CHECK(five->count == 5);
  CHECK(five->unit == Retention::Unit::kYears);
  CHECK(five->text() == "5 years");
  CHECK(parse_retention("1 year")->text() == "1 year");
  CHECK(parse_retention("1 years")->text() == "1 year");
  CHECK(parse_retention("18 month")->text() == "18 months");
  CHECK(parse_retention("  90 days ")->text() == "90 days");
  CHECK(parse_retention("1 day")->unit == Retention::Unit::kDays);
  CHECK(parse_retention("100 years"));
  CHECK(parse_retention("1200 months"));
  CHECK(parse_retention("36525 days"));
  for (const char* bad : {"5", "years", "0 years", "0 days", "-1 year", "1.5 years", "5 yrs", "5 Years", "5years",
                          "101 years", "1201 months", "36526 days", "5 years 2 months", "7d", "", "five years"}) {
    INFO(bad);
    CHECK_FALSE(parse_retention(bad));
  }
}

TEST_CASE("calendar months: month ends and the leap day", "[retention]") {
  CHECK(shown(add_months(at("2026-01-31T10:00:00Z"), 1)) == "2026-02-28T10:00:00Z");
  CHECK(shown(add_months(at("2028-01-31T10:00:00Z"), 1)) == "2028-02-29T10:00:00Z");
  CHECK(shown(add_months(at("2026-03-31T23:59:59Z"), 1)) == "2026-04-30T23:59:59Z");
  CHECK(shown(add_months(at("2026-12-15T00:00:00Z"), 1)) == "2027-01-15T00:00:00Z");
  CHECK(shown(add_months(at("2026-03-31T00:00:00Z"), -1)) == "2026-02-28T00:00:00Z");
  CHECK(shown(add_months(at("2026-01-15T06:00:00Z"), -13)) == "2024-12-15T06:00:00Z");
  // Feb 29 + 1 year is Feb 28; + 4 years is Feb 29 again.
  const Retention year = *parse_retention("1 year");
  CHECK(shown(year.due(at("2024-02-29T08:00:00Z"))) == "2025-02-28T08:00:00Z");
  CHECK(shown(parse_retention("4 years")->due(at("2024-02-29T08:00:00Z"))) == "2028-02-29T08:00:00Z");
  CHECK(shown(parse_retention("12 months")->due(at("2024-02-29T08:00:00Z"))) == "2025-02-28T08:00:00Z");
  CHECK(shown(parse_retention("100 years")->due(at("2000-02-29T00:00:00Z"))) == "2100-02-28T00:00:00Z");
  CHECK(shown(parse_retention("30 days")->due(at("2026-01-31T10:00:00Z"))) == "2026-03-02T10:00:00Z");
}

TEST_CASE("when a case was closed, from its log", "[retention]") {
  auto row = [](const char* from, const char* to, const char* when) {
    LogEntry e;
    e.from_status = from;
    e.to_status = to;
    e.occurred_at = at(when);
    return e;
  };
  std::vector<LogEntry> history = {row("", "active", "2020-01-01T00:00:00Z")};
  CHECK_FALSE(closed_at(history));
  history.push_back(row("active", "closed", "2020-02-01T00:00:00Z"));
  CHECK(shown(*closed_at(history)) == "2020-02-01T00:00:00Z");
  history.push_back(row("closed", "closed", "2020-03-01T00:00:00Z"));  // an erasure leaves it closed
  CHECK(shown(*closed_at(history)) == "2020-02-01T00:00:00Z");
  history.push_back(row("closed", "active", "2021-01-01T00:00:00Z"));  // reopened
  CHECK_FALSE(closed_at(history));
  history.push_back(row("active", "closed", "2021-06-30T00:00:00Z"));
  CHECK(shown(*closed_at(history)) == "2021-06-30T00:00:00Z");
}

TEST_CASE("a closed case falls due exactly at its close plus the period", "[retention]") {
  Office office;
  Engine& engine = *office.engine;
  const std::string month_end = office.closed_case("keep-month", "2026-01-31T10:00:00Z");
  const std::string leap_day = office.closed_case("keep-year", "2024-02-29T08:00:00Z");
  office.closed_case("test-care", "2020-01-02T00:00:00Z");  // no retention: never listed
  OpenRequest open;
  open.sop_id = "keep-month";
  open.actor = "dewi";
  engine.open_case(open);  // open: never listed
  auto due_ids = [&] {
    std::vector<std::string> ids;
    for (const RetentionItem& item : engine.retention_due().due) ids.push_back(item.record.id);
    return ids;
  };
  // The leap day's case: due on Feb 28 of the next year, at the same time.
  office.clock->set(at("2025-02-27T08:00:00Z"));
  CHECK(due_ids().empty());
  CHECK(engine.retention_due().not_yet == 2);
  office.clock->set(at("2025-02-28T07:59:59Z"));
  CHECK(due_ids().empty());
  office.clock->set(at("2025-02-28T08:00:00Z"));
  CHECK(due_ids() == std::vector<std::string>{leap_day});
  // Jan 31 + 1 month: Feb 28; a day before, a second before, at, after.
  for (const char* before : {"2026-02-27T10:00:00Z", "2026-02-28T09:59:59Z"}) {
    office.clock->set(at(before));
    CHECK(due_ids() == std::vector<std::string>{leap_day});
  }
  office.clock->set(at("2026-02-28T10:00:00Z"));
  const RetentionReport report = engine.retention_due();
  REQUIRE(report.due.size() == 2);
  CHECK(report.due[0].record.id == leap_day);  // by due time
  CHECK(report.due[1].record.id == month_end);
  CHECK(shown(report.due[1].closed_at) == "2026-01-31T10:00:00Z");
  CHECK(shown(report.due[1].due_at) == "2026-02-28T10:00:00Z");
  CHECK(report.not_yet == 0);
  office.clock->set(at("2026-03-01T00:00:00Z"));
  CHECK(due_ids().size() == 2);
}

TEST_CASE("the due list reads every closed case, more than a part, by due time then id",
          "[retention][store]") {
  Office office(GENERATE(from_range(testing::store_backends())));
  Engine& engine = *office.engine;
  // Each later id closed earlier, two to an hour (so that cases closed
  // apart share a due time); none of test-care's (no retention) counts.
  const int n = static_cast<int>(Engine::kCasesPerRead) + 7;
  const DateTime first = at("2026-01-01T10:00:00Z");
  struct Expected {
    int64_t due;
    std::string id;
  };
  std::vector<Expected> closed;
  for (int i = 0; i < n; ++i) {
    const DateTime when{first.seconds + (n - i) / 2 * 3600};
    const std::string id = office.closed_case("keep-month", shown(when).c_str());
    closed.push_back({add_months(when, 1).seconds, id});
  }
  office.closed_case("test-care", "2020-01-02T00:00:00Z");
  // Half of them due: those closed in the first n/4 hours.
  office.clock->set(DateTime{add_months(first, 1).seconds + n / 4 * 3600});
  std::vector<Expected> due;
  for (const Expected& e : closed)
    if (e.due <= office.clock->now().seconds) due.push_back(e);
  std::sort(due.begin(), due.end(), [](const Expected& a, const Expected& b) {
    return std::tie(a.due, a.id) < std::tie(b.due, b.id);
  });
  const RetentionReport report = engine.retention_due();
  REQUIRE(report.due.size() == due.size());
  CHECK(report.not_yet == static_cast<int64_t>(closed.size() - due.size()));
  CHECK(report.already_erased.empty());
  for (size_t i = 0; i < due.size(); ++i) {
    INFO("item " << i);
    CHECK(report.due[i].record.id == due[i].id);
    CHECK(report.due[i].due_at.seconds == due[i].due);
  }
  CHECK(engine.tick().retention_due == static_cast<int64_t>(due.size()));
}

TEST_CASE("applying retention erases exactly the due cases, once, and verify agrees", "[retention]") {
  Office office;
  Engine& engine = *office.engine;
  const std::string due = office.closed_case("keep-month", "2026-01-31T10:00:00Z");
  const std::string recent = office.closed_case("keep-month", "2026-02-20T10:00:00Z");
  const std::string reopened = office.closed_case("keep-month", "2026-01-01T10:00:00Z");
  office.clock->set(at("2026-01-15T10:00:00Z"));
  engine.lifecycle({reopened, LifecycleEvent::kReopen, "sari", "came back", "", std::nullopt});
  office.clock->set(at("2026-03-01T00:00:00Z"));
  CHECK(engine.tick().retention_due == 1);  // (it fires the reopened case's deadline)
  const int64_t head = engine.store().chain_head().first;
  // Who may apply it; a dry run writes nothing.
  CHECK(kind_of([&] { engine.apply_retention("sari", false); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { engine.apply_retention("sari", true); }) == ErrorKind::kRefused);
  const RetentionReport dry = engine.apply_retention("dewi", true);
  REQUIRE(dry.due.size() == 1);
  CHECK(dry.due[0].record.id == due);
  CHECK(dry.erased.empty());
  CHECK(engine.store().chain_head().first == head);

  const RetentionReport done = engine.apply_retention("dewi", false);
  REQUIRE(done.erased.size() == 1);
  CHECK(done.failures.empty());
  const LogEntry& row = done.erased[0].entry;
  CHECK(row.case_id == due);
  CHECK(row.kind == LogKind::kErasure);
  CHECK(row.event == "erased");
  CHECK(row.actor == "dewi");
  CHECK(row.reason == "retention: 1 month");
  CHECK(row.inputs == std::vector<std::pair<std::string, std::string>>{
                          {"basis", "retention"}, {"retention", "1 month"}, {"closed_at", "2026-01-31T10:00:00Z"}});
  CHECK(is_retention_erasure(row));
  const CaseRecord erased = engine.store().find_case(due).value();  // kept: its values are read below
  for (const StoredValue& v : erased.data)
    if (v.field == "full_name") CHECK(v.erased);
  for (const std::string& id : {recent, reopened}) {
    const CaseRecord kept = engine.store().find_case(id).value();
    for (const StoredValue& v : kept.data)
      if (v.field == "full_name") CHECK(v.text == "Lastri Gunung");
  }
  // Once: a second run finds it erased and writes nothing.
  const int64_t after = engine.store().chain_head().first;
  const RetentionReport again = engine.apply_retention("dewi", false);
  CHECK(again.due.empty());
  REQUIRE(again.already_erased.size() == 1);
  CHECK(again.already_erased[0].erased->seq == row.seq);
  CHECK(engine.store().chain_head().first == after);
  // The timer pass counts only what still holds its personal data.
  CHECK(engine.tick().retention_due == 0);
  // A manual erasure cannot follow either.
  CHECK(kind_of([&] { engine.request_erasure(due, "dewi", "request"); }) == ErrorKind::kConflict);

  const audit::VerifyReport report = audit::verify(engine.store(), audit::VerifyOptions{});
  for (const auto& f : report.findings) INFO(f.message);
  CHECK(report.findings.empty());
}

TEST_CASE("verify refuses a retention erasure row written before the case was due", "[retention]") {
  Office office;
  Engine& engine = *office.engine;
  const std::string id = office.closed_case("keep-month", "2026-01-31T10:00:00Z");
  const std::string open_id = [&] {
    OpenRequest open;
    open.sop_id = "keep-year";
    open.actor = "dewi";
    open.inputs = {{"full_name", "Sumi Ladang"}};
    return engine.open_case(open).after.id;
  }();
  // Rows as a forger with write access would append them: chained, dated
  // too early, or on an open case, or naming another period.
  auto forge = [&](const std::string& case_id, const char* when, const char* period, const char* closed) {
    const CaseRecord held = engine.store().find_case(case_id).value();
    CaseRecord after = held;
    after.version = held.version + 1;
    LogEntry e;
    e.case_id = case_id;
    e.sha256 = held.sha256;
    e.kind = LogKind::kErasure;
    e.event = "erased";
    e.from_state = e.to_state = held.state;
    e.from_status = e.to_status = to_string(held.status);
    e.actor = "dewi";
    e.role = "data_protection";
    e.occurred_at = e.recorded_at = at(when);
    e.reason = std::string("retention: ") + period;
    e.inputs = {{"basis", "retention"}, {"retention", period}, {"closed_at", closed}};
    e.due_at = held.due_at;
    engine.store().append_held(held, after, e);
    return e.seq;
  };
  const int64_t early = forge(id, "2026-02-28T09:59:59Z", "1 month", "2026-01-31T10:00:00Z");
  const int64_t on_open = forge(open_id, "2026-03-01T00:00:00Z", "1 year", "2020-01-01T09:00:00Z");
  const audit::VerifyReport report = audit::verify(engine.store(), audit::VerifyOptions{});
  std::map<int64_t, std::string> found;
  for (const auto& f : report.findings) found[f.seq] += f.message;
  REQUIRE(found.count(early));
  CHECK_THAT(found[early], Catch::Contains("erased at 2026-02-28T09:59:59Z, before a retention of 1 month from "
                                           "closing at 2026-01-31T10:00:00Z ran out at 2026-02-28T10:00:00Z"));
  REQUIRE(found.count(on_open));
  CHECK_THAT(found[on_open], Catch::Contains("erased under the retention rule, but the case was not closed"));
  CHECK(found.size() == 2);
}

TEST_CASE("verify refuses a retention row naming another period or a version without one", "[retention]") {
  Office office;
  Engine& engine = *office.engine;
  const std::string kept = office.closed_case("keep-month", "2020-01-31T10:00:00Z");
  const std::string plain = office.closed_case("test-care", "2020-01-31T10:00:00Z");
  office.clock->set(at("2026-01-01T00:00:00Z"));
  auto forge = [&](const std::string& case_id, const char* period) {
    const CaseRecord held = engine.store().find_case(case_id).value();
    CaseRecord after = held;
    after.version = held.version + 1;
    LogEntry e;
    e.case_id = case_id;
    e.sha256 = held.sha256;
    e.kind = LogKind::kErasure;
    e.event = "erased";
    e.from_state = e.to_state = held.state;
    e.from_status = e.to_status = to_string(held.status);
    e.actor = "dewi";
    e.role = "data_protection";
    e.occurred_at = e.recorded_at = office.clock->now();
    e.reason = std::string("retention: ") + period;
    e.inputs = {{"basis", "retention"}, {"retention", period}, {"closed_at", "2020-01-31T10:00:00Z"}};
    e.due_at = held.due_at;
    engine.store().append_held(held, after, e);
    return e.seq;
  };
  const int64_t other_period = forge(kept, "1 day");
  const int64_t no_retention = forge(plain, "1 day");
  std::map<int64_t, std::string> found;
  for (const auto& f : audit::verify(engine.store(), audit::VerifyOptions{}).findings) found[f.seq] += f.message;
  CHECK_THAT(found[other_period], Catch::Contains("erased under a retention of '1 day', but the procedure says 1 month"));
  CHECK_THAT(found[no_retention], Catch::Contains("procedure test-care version 1 sets no retention"));
}

TEST_CASE("verify refuses an erasure on request without its request or by the officer who asked", "[retention]") {
  Office office;
  Engine& engine = *office.engine;
  engine.add_staff("rina", {"tari", "Tari Contoh", {"data_protection"}, true});
  const std::string lone = office.closed_case("keep-month", "2020-01-31T10:00:00Z");
  const std::string self = office.closed_case("keep-month", "2020-01-31T10:00:00Z");
  const std::string fine = office.closed_case("keep-month", "2020-01-31T10:00:00Z");
  engine.request_erasure(self, "dewi", "request of the person");
  engine.request_erasure(fine, "dewi", "request of the person");
  engine.confirm_erasure(fine, "tari");
  // What confirm_erasure refuses to write, written behind its back.
  auto forge = [&](const std::string& case_id, const char* actor) {
    const CaseRecord held = engine.store().find_case(case_id).value();
    CaseRecord after = held;
    after.version = held.version + 1;
    LogEntry e;
    e.case_id = case_id;
    e.sha256 = held.sha256;
    e.kind = LogKind::kErasure;
    e.event = "erased";
    e.from_state = e.to_state = held.state;
    e.from_status = e.to_status = to_string(held.status);
    e.actor = actor;
    e.role = "data_protection";
    e.occurred_at = e.recorded_at = office.clock->now();
    e.reason = "request of the person";
    e.due_at = held.due_at;
    engine.store().append_held(held, after, e);
    return e.seq;
  };
  const int64_t unrequested = forge(lone, "tari");
  const int64_t same = forge(self, "dewi");
  std::map<int64_t, std::string> found;
  for (const auto& f : audit::verify(engine.store(), audit::VerifyOptions{}).findings) found[f.seq] += f.message;
  CHECK_THAT(found[unrequested], Catch::Contains("erased with no request waiting"));
  CHECK_THAT(found[same], Catch::Contains("erased by dewi, who also requested it"));
  CHECK(found.size() == 2);  // the confirmed erasure of `fine` is clean
}

TEST_CASE("the retention comes back from the compiled form and changes the pin", "[retention][codec]") {
  const ProcedurePtr kept = testing::load_or_fail(care_with("keep-year", "1 year").c_str());
  const ProcedurePtr back = decode_procedure(encode_procedure(*kept), kept->source, kept->file);
  REQUIRE(back);
  REQUIRE(back->retention);
  CHECK(*back->retention == *kept->retention);
  CHECK(back->retention->text() == "1 year");
  CHECK(back->retention->pos.line == kept->retention->pos.line);
  const ProcedurePtr plain = testing::load_or_fail(testing::kCareYaml);
  const ProcedurePtr plain_back = decode_procedure(encode_procedure(*plain), plain->source, plain->file);
  REQUIRE(plain_back);
  CHECK_FALSE(plain_back->retention);
  // Another period is another source, so another SHA-256 pin.
  CHECK(testing::load_or_fail(care_with("keep-year", "2 years").c_str())->sha256 != kept->sha256);
}

TEST_CASE("a retention: the loader refuses is located, with what it accepts", "[retention][loader]") {
  const std::string yaml = care_with("keep-bad", "5 yrs");
  const LoadResult result = load_procedure_string(yaml, "keep-bad.yaml");
  CHECK_FALSE(result.ok());
  const std::string text = format_diagnostics(result.diagnostics);
  CHECK_THAT(text, Catch::Contains("keep-bad.yaml:34:12: error: retention '5 yrs' is not a period; expected a whole "
                                   "number of days, months or years, like 90 days, 18 months or 5 years (at most "
                                   "100 years)"));
  const LoadResult good = load_procedure_string(care_with("keep-good", "5 years"), "keep-good.yaml");
  REQUIRE(good.ok());
  REQUIRE(good.procedure->retention);
  CHECK(good.procedure->retention->text() == "5 years");
  CHECK(good.procedure->retention->pos.line == 34);
}

}  // namespace sopir
