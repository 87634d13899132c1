// Holiday calendars and the deadlines that count on them: working-day
// arithmetic, calendar files and deadline text the loader refuses (whole
// messages), due times through the Engine (holds included), and the
// calendar pinned with the procedure in both stores.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sopir/calendar.h"
#include "sopir/engine.h"
#include "sopir/loader.h"
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

CalendarSource test_calendar() {
  return CalendarSource{"testcal", "calendars/testcal.yaml", read_file(data("calendars/testcal.yaml")), ""};
}

DateTime at(const char* text) { return *parse_datetime(text); }
std::string text(DateTime t) { return format_datetime(t); }

// The test procedure, loaded with the test calendar given in memory.
ProcedurePtr working_days_procedure() {
  LoadOptions options;
  options.calendars["testcal"] = test_calendar();
  return expect_procedure(load_procedure_string(read_file(data("working-days.yaml")), "working-days.yaml", options));
}

const Calendar& calendar() {
  static ProcedurePtr p = working_days_procedure();
  return *p->calendar;
}

// A procedure text with one state's deadline and the calendar line given.
std::string procedure_with(const std::string& calendar_line, const std::string& deadline) {
  return "sop: t\nversion: 1\ntitle: T\nroles: [worker]\n" + calendar_line +
         "fields:\n  returned_on: {type: date}\n  count: {type: int}\n"
         "states:\n  a: {initial: true, deadline: " + deadline + "}\n  b: {terminal: true}\n"
         "transitions:\n  - {event: go, from: a, to: b, roles: [worker]}\n";
}

std::string errors_of(const std::string& yaml, const LoadOptions& options) {
  return format_diagnostics(load_procedure_string(yaml, "t.yaml", options).diagnostics);
}

std::string calendar_errors(const std::string& body) {
  LoadOptions options;
  options.calendars["cal"] = CalendarSource{"cal", "cal.yaml", body, ""};
  return errors_of(procedure_with("calendar: cal\n", "2 working days"), options);
}

const char kCalendarHead[] = "covers: {from: 2026-01-01, to: 2026-12-31}\ndays:\n";

// A procedure on the shipped Indonesian calendar (workflows/calendars/).
ProcedurePtr with_shipped_calendar() {
  const std::string file = std::string(SOPIR_SOURCE_DIR) + "/workflows/calendars/indonesia.yaml";
  LoadOptions options;
  options.calendars["indonesia"] = CalendarSource{"indonesia", file, read_file(file), ""};
  auto result = load_procedure_string(procedure_with("calendar: indonesia\n", "5 working days"), "t.yaml", options);
  REQUIRE(result.ok());
  return result.procedure;
}

}  // namespace

TEST_CASE("working days skip weekends, holidays and collective leave", "[calendar]") {
  const Calendar& c = calendar();
  CHECK(day_of_week(*parse_date("2026-08-17")) == 0);  // a Monday
  // Friday + 1: the weekend and Independence Day (Monday) do not count.
  CHECK(text(c.add_working_days(at("2026-08-14T10:00"), 1)) == "2026-08-18T10:00:00Z");
  // Thursday holiday, Friday cuti bersama, then the weekend.
  CHECK(text(c.add_working_days(at("2026-05-13T09:00"), 1)) == "2026-05-18T09:00:00Z");
  // Nyepi and Eid al-Fitr with their collective leave: a week off.
  CHECK(text(c.add_working_days(at("2026-03-17T08:00"), 1)) == "2026-03-25T08:00:00Z");
  // Counting starts after the start day, a Saturday included.
  CHECK(text(c.add_working_days(at("2026-08-01T10:00"), 1)) == "2026-08-03T10:00:00Z");
  // Across the year boundary: Christmas leave, then New Year's Day 2027.
  CHECK(text(c.add_working_days(at("2026-12-23T08:00"), 3)) == "2026-12-30T08:00:00Z");
  CHECK(text(c.add_working_days(at("2026-12-23T08:00"), 5)) == "2027-01-04T08:00:00Z");
  CHECK(c.working_days_between(*parse_date("2026-12-23"), *parse_date("2027-01-04")) == 5);
  CHECK(c.is_working_day(*parse_date("2026-12-28")));
  CHECK_FALSE(c.is_working_day(*parse_date("2026-12-24")));
  REQUIRE(c.day(*parse_date("2026-12-24")) != nullptr);
  CHECK(c.day(*parse_date("2026-12-24"))->kind == DayKind::kCollectiveLeave);
  CHECK(c.day(*parse_date("2026-12-24"))->name_en == "Collective leave for Christmas");
  CHECK(c.covers(*parse_date("2027-12-31")));
  CHECK_FALSE(c.covers(*parse_date("2028-01-01")));
}

TEST_CASE("the shipped Indonesian calendar: 2026 in full, 2027 known in part", "[calendar]") {
  const ProcedurePtr procedure = with_shipped_calendar();
  const Calendar& c = *procedure->calendar;
  size_t in_2026 = 0, leave_2026 = 0, in_2027 = 0;
  for (const auto& [day, entry] : c.days) {
    const bool first_year = entry.date < *parse_date("2027-01-01");
    in_2026 += first_year;
    in_2027 += !first_year;
    leave_2026 += first_year && entry.kind == DayKind::kCollectiveLeave;
  }
  CHECK(in_2026 == 25);  // 17 national holidays, 8 days of cuti bersama
  CHECK(leave_2026 == 8);
  CHECK(in_2027 == 5);   // the fixed-date holidays only
  CHECK(format_date(c.first) == "2026-01-01");
  CHECK(format_date(c.last) == "2027-12-31");
  REQUIRE(c.partial_from);
  CHECK(format_date(*c.partial_from) == "2027-01-01");
  // Lebaran 2026: from Tuesday 17 March, the next working day is the 25th.
  CHECK(text(c.add_working_days(at("2026-03-17T08:00"), 1)) == "2026-03-25T08:00:00Z");
  // Hari Lahir Pancasila 2027 is a Tuesday: Monday 31 May + 1 is Wednesday.
  CHECK(text(c.add_working_days(at("2027-05-31T08:00"), 1)) == "2027-06-02T08:00:00Z");
}

TEST_CASE("working days counted over a year agree with asking each day whether it is one", "[calendar]") {
  const ProcedurePtr procedure = with_shipped_calendar();
  const Calendar& c = *procedure->calendar;
  const int64_t first = parse_date("2025-12-20")->days;
  for (int64_t start = first; start < first + 380; ++start) {
    const DateTime from{start * 86400 + 9 * 3600};
    int64_t day = start, counted = 0;
    for (int64_t n = 1; n <= 12; ++n) {
      do ++day;
      while (!c.is_working_day(Date{day}));
      INFO("from " << format_date(Date{start}) << ", " << n << " working days");
      CHECK(c.add_working_days(from, n).seconds == day * 86400 + 9 * 3600);
    }
    for (int64_t until = start; until <= start + 20; ++until) {
      counted += until > start && c.is_working_day(Date{until});
      CHECK(c.working_days_between(Date{start}, Date{until}) == counted);
    }
  }
}

TEST_CASE("a calendar known in part: partial_from is checked, and lint says a due time may come early",
          "[calendar][lint]") {
  CHECK_THAT(calendar_errors("covers: {from: 2026-01-01, to: 2026-12-31}\npartial_from: 2027-01-01\ndays: []\n"),
             Catch::Contains("\ncal.yaml:2:15: error: partial_from 2027-01-01 is outside the days the calendar "
                             "covers (2026-01-01 to 2026-12-31)\n"));
  CHECK_THAT(calendar_errors("covers: {from: 2026-01-01, to: 2026-12-31}\npartial_from: soon\ndays: []\n"),
             Catch::Contains("cal.yaml:2:15: error: partial_from 'soon' is not a real day; expected YYYY-MM-DD"));
  LoadOptions options;
  options.calendars["cal"] = CalendarSource{
      "cal", "cal.yaml",
      "covers: {from: 2026-01-01, to: 2027-12-31}\npartial_from: 2027-01-01\n"
      "days:\n  - {date: 2027-01-01, kind: holiday, name: {id: Tahun Baru, en: New Year}}\n",
      ""};
  options.today = *parse_date("2026-12-28");
  options.strict = true;
  const std::string yaml = procedure_with("calendar: cal\n", "5 working days");
  auto loaded = load_procedure_string(yaml, "t.yaml", options);
  // Measured from today, so a warning even under strict: the same file
  // must not pass one day and fail the next.
  REQUIRE(loaded.ok());
  REQUIRE(loaded.diagnostics.size() == 1);
  CHECK(loaded.diagnostics[0].severity == Severity::kWarning);
  CHECK(loaded.diagnostics[0].code == "calendar-partial");
  CHECK(loaded.diagnostics[0].message ==
        "deadline of state 'a' (5 working days) counted from 2026-12-28 ends on 2027-01-05, in the part of "
        "calendar 'cal' known only in part (from 2027-01-01: only the days listed); it may come due before the "
        "real day until the rest of that year's holidays are added");
  options.today = *parse_date("2026-12-01");
  CHECK(load_procedure_string(yaml, "t.yaml", options).diagnostics.empty());
}

TEST_CASE("calendar files with bad days are refused where the problem is", "[calendar][loader]") {
  CHECK(calendar_errors(std::string(kCalendarHead) +
                        "  - {date: 2026-02-30, kind: holiday, name: {id: A, en: A}}\n") ==
        "t.yaml:5:11: error: calendar 'cal' (cal.yaml) has errors\n"
        "calendar: cal\n"
        "          ^\n"
        "cal.yaml:3:12: error: date '2026-02-30' is not a real day; expected YYYY-MM-DD like 2026-08-17\n"
        "  - {date: 2026-02-30, kind: holiday, name: {id: A, en: A}}\n"
        "           ^\n");
  CHECK_THAT(calendar_errors(std::string(kCalendarHead) +
                        "  - {date: 2026-08-17, kind: holiday, name: {id: A, en: A}}\n"
                        "  - {date: 2026-08-17, kind: holiday, name: {id: B, en: B}}\n"),
             Catch::Contains("\ncal.yaml:4:12: error: date 2026-08-17 is listed twice; first on line 3\n"));
  CHECK_THAT(calendar_errors(std::string(kCalendarHead) +
                        "  - {date: 2027-01-01, kind: holiday, name: {id: A, en: A}}\n"),
             Catch::Contains("\ncal.yaml:3:12: error: date 2027-01-01 is outside the days the calendar covers "
                  "(2026-01-01 to 2026-12-31)\n"));
  CHECK_THAT(calendar_errors(std::string(kCalendarHead) +
                        "  - {date: 2026-08-17, kind: holday, name: {id: A, en: A}}\n"),
             Catch::Contains("\ncal.yaml:3:30: error: unknown kind 'holday' of a day; did you mean 'holiday'?\n"));
  CHECK_THAT(
      calendar_errors("# no days yet\n"),
      Catch::Contains(
          "\ncal.yaml: error: the file holds no calendar (it is empty or only comments); expected "
          "a map starting with 'calendar:'\n"));
  CHECK_THAT(calendar_errors("- 2026-08-17\n"),
             Catch::Contains(
                 "\ncal.yaml:1:1: error: the top level is a list; a calendar is a map of keys like "
                 "calendar:, covers:, days:\n"));
  CHECK_THAT(calendar_errors("days: []\n"),
             Catch::Contains("\ncal.yaml: error: the calendar must say which days it covers: covers: {from: 2026-01-01, to: "
                  "2026-12-31}\n"));
}

TEST_CASE("deadlines the loader refuses, with exact messages", "[calendar][loader]") {
  LoadOptions options;
  options.calendars["testcal"] = test_calendar();
  CHECK(errors_of(procedure_with("calendar: testcall\n", "2 working days"), options) ==
        "t.yaml:5:11: error: unknown calendar 'testcall'; no file testcall.yaml in the calendar folders; "
        "did you mean 'testcal'?\n"
        "calendar: testcall\n"
        "          ^\n");
  CHECK(errors_of(procedure_with("", "2 working days"), options) ==
        "t.yaml:9:32: error: deadline of state 'a' counts working days, but the procedure names no calendar; "
        "add calendar: indonesia\n"
        "  a: {initial: true, deadline: 2 working days}\n"
        "                               ^\n");
  CHECK(errors_of(procedure_with("", "90 days from count"), options) ==
        "t.yaml:9:45: error: deadline of state 'a' counts from field 'count', which is a int; a deadline can "
        "count from a date or datetime field\n"
        "  a: {initial: true, deadline: 90 days from count}\n"
        "                                            ^\n");
  CHECK(errors_of(procedure_with("", "90 days from returnd_on"), options) ==
        "t.yaml:9:45: error: unknown field 'returnd_on' in deadline of state 'a'; did you mean 'returned_on'?\n"
        "  a: {initial: true, deadline: 90 days from returnd_on}\n"
        "                                            ^\n");
  CHECK(errors_of(procedure_with("", "soon"), options) ==
        "t.yaml:9:32: error: deadline of state 'a' is 'soon'; expected a duration like 24h, 7d or 1d12h "
        "(units w d h m s), N working days, either one followed by from and a date field\n"
        "  a: {initial: true, deadline: soon}\n"
        "                               ^\n");
}

TEST_CASE("lint: an anchor that may be empty, a calendar that ends too soon", "[calendar][lint]") {
  LoadOptions options;
  options.calendars["testcal"] = test_calendar();
  const std::string anchored = procedure_with("", "90 days from returned_on");
  auto loaded = load_procedure_string(anchored, "t.yaml", options);
  REQUIRE(loaded.ok());
  REQUIRE(loaded.diagnostics.size() == 1);
  CHECK(loaded.diagnostics[0].code == "anchor-may-be-empty");
  CHECK(loaded.diagnostics[0].message ==
        "deadline of state 'a' counts from field 'returned_on', which may have no value on entering it (not "
        "opened with, required or set on every path there); without it the state has no deadline");
  options.today = *parse_date("2027-12-30");
  auto late = load_procedure_string(procedure_with("calendar: testcal\n", "2 working days"), "t.yaml", options);
  REQUIRE(late.diagnostics.size() == 1);
  CHECK(late.diagnostics[0].code == "calendar-range");
  CHECK(late.diagnostics[0].message ==
        "deadline of state 'a' (2 working days) counted from 2027-12-30 ends on 2028-01-03, but calendar "
        "'testcal' covers only 2026-01-01 to 2027-12-31; add the holidays past it to the calendar");
  options.today = *parse_date("2027-12-01");
  CHECK(load_procedure_string(procedure_with("calendar: testcal\n", "2 working days"), "t.yaml", options)
            .diagnostics.empty());
}

namespace {

Engine make_engine(const std::string& location, std::shared_ptr<testing::TestClock> clock) {
  StoreOptions options;
  options.create = true;
  return Engine(open_store(location, options), clock);
}

// Publishes the test procedure from a copy of tests/data in a temporary
// folder, so the test can edit the calendar file afterwards.
struct Published {
  std::string dir;
  std::string file;
};

Published copy_procedure() {
  char pattern[] = "/tmp/sopir-calendar-XXXXXX";
  const std::string dir = mkdtemp(pattern);
  const std::string cal_dir = dir + "/calendars";
  REQUIRE(mkdir(cal_dir.c_str(), 0700) == 0);
  std::ofstream(dir + "/working-days.yaml") << read_file(data("working-days.yaml"));
  std::ofstream(cal_dir + "/testcal.yaml") << read_file(data("calendars/testcal.yaml"));
  return Published{dir, dir + "/working-days.yaml"};
}

}  // namespace

TEST_CASE("working-day and date-anchored due times, a hold, and the pinned calendar", "[calendar][store]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  auto clock = std::make_shared<testing::TestClock>(*parse_datetime("2026-08-10T09:00:00Z"));
  const Published files = copy_procedure();
  std::string id;
  {
    Engine engine = make_engine(db.location(), clock);
    engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"rina", "Rina", {"worker"}, true}, ::sopir::testing::kByAdmin);
    const PublishedProcedure published = engine.publish(files.file, "admin");
    const auto pinned = engine.store().pinned_calendars(published.sha256);
    REQUIRE(pinned.size() == 1);
    CHECK(pinned[0].name == "testcal");
    CHECK(pinned[0].text == read_file(data("calendars/testcal.yaml")));
    CHECK(pinned[0].sha256.size() == 64);
    // Opened Monday 10 August 09:00: 3 working days end Thursday the 13th.
    id = engine.open_case({"working-days", "rina", {}, "", std::nullopt}).after.id;
    CHECK(text(*engine.store().find_case(id)->due_at) == "2026-08-13T09:00:00Z");
    // On hold from Tuesday with 2 working days left; resumed Friday, they
    // are counted again past Independence Day (Monday the 17th).
    clock->set(at("2026-08-11T09:00"));
    engine.lifecycle({id, LifecycleEvent::kHold, "rina", "waiting for papers", "", std::nullopt});
    clock->set(at("2026-08-14T09:00"));
    const auto resumed = engine.lifecycle({id, LifecycleEvent::kResume, "rina", "", "", std::nullopt});
    CHECK(text(*resumed.after.due_at) == "2026-08-19T09:00:00Z");
  }
  // The calendar file is edited (Wednesday the 19th made a holiday): the
  // published version keeps counting on the pinned bytes.
  {
    std::ofstream(files.dir + "/calendars/testcal.yaml", std::ios::app)
        << "  - {date: 2026-08-19, kind: holiday, name: {id: Libur, en: Holiday}}\n";
    Engine engine = make_engine(db.location(), clock);
    clock->set(at("2026-08-15T09:00"));
    const StepRequest start{id, "start", "rina", {{"returned_on", "2026-08-01"}}, "", "", std::nullopt};
    const auto moved = engine.advance(start);
    // 90 days from 1 August (00:00 UTC).
    CHECK(text(*moved.after.due_at) == "2026-10-30T00:00:00Z");
    const auto other = engine.open_case({"working-days", "rina", {}, "", std::nullopt}).after;
    // Saturday the 15th + 3 working days: Mon 17 is a holiday; 18, 19, 20.
    CHECK(text(*other.due_at) == "2026-08-20T09:00:00Z");
  }
}
