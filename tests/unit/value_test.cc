// Values: canonical text and the parsers that read it back, typed parsing
// with what would be accepted, ordering, and the name helpers (did you
// mean, join) every message uses.
#include "sopir/value.h"

#include <catch2/catch.hpp>

namespace sopir {
namespace {

TEST_CASE("format_value writes the canonical text of each type", "[value]") {
  CHECK(format_value(Value{}) == "");
  CHECK(format_value(Value{true}) == "true");
  CHECK(format_value(Value{false}) == "false");
  CHECK(format_value(Value{int64_t{-42}}) == "-42");
  CHECK(format_value(Value{std::string("Wati Contoh")}) == "Wati Contoh");
  CHECK(format_value(Value{Date{0}}) == "1970-01-01");
  CHECK(format_value(Value{Date{20786}}) == "2026-11-29");
  CHECK(format_value(Value{DateTime{1772323200 + 9 * 3600 + 30 * 60}}) == "2026-03-01T09:30:00Z");
  CHECK(format_value(Value{Duration{7 * 86400}}) == "7d");
  CHECK(format_value(Value{Duration{36 * 3600}}) == "36h");
  CHECK(format_value(Value{Duration{90 * 60}}) == "90m");
  CHECK(format_value(Value{Duration{45}}) == "45s");
  CHECK(format_value(Value{Duration{0}}) == "0s");
}

TEST_CASE("durations parse in units and sums of units, and nothing else", "[value]") {
  CHECK(parse_duration("24h")->seconds == 86400);
  CHECK(parse_duration("1d12h")->seconds == 36 * 3600);
  CHECK(parse_duration("2w")->seconds == 14 * 86400);
  CHECK(parse_duration("90m")->seconds == 5400);
  CHECK(parse_duration("45s")->seconds == 45);
  for (const char* bad : {"", "h", "12", "1x", "1d 12h", "-1d", "1.5h", "d1"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration(bad));
  }
  // What format_duration writes reads back the same.
  for (int64_t s : {0LL, 45LL, 5400LL, 86400LL, 36 * 3600LL, 7 * 86400LL, 86401LL}) {
    INFO(s);
    CHECK(parse_duration(format_duration(Duration{s}))->seconds == s);
  }
}

TEST_CASE("dates are real calendar days", "[value]") {
  CHECK(parse_date("2026-11-29")->days == 20786);
  CHECK(parse_date("2024-02-29"));  // a leap year
  for (const char* bad :
       {"2026-02-29", "2026-13-01", "2026-04-31", "2026-1-5", "26-11-29", "2026-11-29x", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_date(bad));
  }
  CHECK(format_date(*parse_date("1999-12-31")) == "1999-12-31");
}

TEST_CASE("date-times take UTC, Z and offsets, and a bare date as midnight", "[value]") {
  const int64_t midnight = 1772323200;  // 2026-03-01T00:00:00Z
  CHECK(parse_datetime("2026-03-01")->seconds == midnight);
  CHECK(parse_datetime("2026-03-01T09:30")->seconds == midnight + 9 * 3600 + 1800);
  CHECK(parse_datetime("2026-03-01 09:30:15Z")->seconds == midnight + 9 * 3600 + 1815);
  CHECK(parse_datetime("2026-03-01T16:30+07:00")->seconds == midnight + 9 * 3600 + 1800);
  CHECK(parse_datetime("2026-03-01T02:30-07:00")->seconds == midnight + 9 * 3600 + 1800);
  for (const char* bad : {"2026-03-01T25:00", "2026-03-01T09:60", "2026-03-01T09",
                          "2026-03-01T09:30+7", "2026-03-01T09:30 Z", "tomorrow"}) {
    INFO(bad);
    CHECK_FALSE(parse_datetime(bad));
  }
  CHECK(date_of(DateTime{midnight + 86399}).days == date_of(DateTime{midnight}).days);
  CHECK(start_of(date_of(DateTime{midnight + 5000})).seconds == midnight);
}

TEST_CASE("ints and bools", "[value]") {
  CHECK(*parse_int("0") == 0);
  CHECK(*parse_int("-17") == -17);
  CHECK_FALSE(parse_int("1.0"));
  CHECK_FALSE(parse_int("12a"));
  CHECK_FALSE(parse_int(""));
  CHECK_FALSE(parse_int("99999999999999999999"));  // beyond int64
  for (const char* yes : {"true", "TRUE", "yes", "ya", "1"}) CHECK(*parse_bool(yes));
  for (const char* no : {"false", "No", "tidak", "0"}) CHECK_FALSE(*parse_bool(no));
  CHECK_FALSE(parse_bool("maybe"));
}

TEST_CASE("text length counts characters, not bytes", "[value]") {
  CHECK(text_length("") == 0);
  CHECK(text_length("Wati") == 4);
  CHECK(text_length("Sulawesi \xC3\xA9") == 10);
  // Eight bytes at a time, with multi-byte characters on every side of a word's edge.
  for (size_t ascii = 0; ascii <= 17; ++ascii) {
    CHECK(text_length(std::string(ascii, 'x')) == static_cast<int64_t>(ascii));
    CHECK(text_length(std::string(ascii, 'x') + "\xC3\xA9\xE2\x82\xAC" + std::string(ascii, 'y')) ==
          static_cast<int64_t>(2 * ascii + 2));
  }            // é: two bytes, one character
  CHECK(text_length("\xE2\x82\xAC\xF0\x9F\x98\x80") == 2);  // €, an emoji
}

TEST_CASE("parse_typed reads each field type and says what it accepts", "[value]") {
  std::string accepted;
  const std::vector<std::string> categories = {"overstay", "illegal_entry", "drugs"};
  CHECK(std::get<std::string>(*parse_typed(Type::kEnum, categories, "drugs", &accepted)) ==
        "drugs");
  CHECK_FALSE(parse_typed(Type::kEnum, categories, "Drugs", &accepted));
  CHECK(accepted == "one of: overstay, illegal_entry, drugs");
  CHECK_FALSE(parse_typed(Type::kInt, {}, "two", &accepted));
  CHECK(accepted == "a whole number like 42, of at most 18 digits");
  CHECK_FALSE(parse_typed(Type::kDate, {}, "2026-02-30", &accepted));
  CHECK(accepted == "a date like 2026-11-29");
  CHECK(std::get<bool>(*parse_typed(Type::kBool, {}, "ya", nullptr)));
  CHECK(std::get<Duration>(*parse_typed(Type::kDuration, {}, "7d", nullptr)).seconds == 7 * 86400);
  CHECK(std::get<std::string>(*parse_typed(Type::kString, {}, "", nullptr)).empty());
}

TEST_CASE("type names round-trip", "[value]") {
  for (Type t : {Type::kString, Type::kInt, Type::kBool, Type::kDate, Type::kDateTime, Type::kEnum,
                 Type::kDuration}) {
    CHECK(type_from_name(type_name(t)) == t);
  }
  CHECK_FALSE(type_from_name("integer"));
}

TEST_CASE("values of one type are ordered; others are not", "[value]") {
  CHECK(compare_values(Value{int64_t{1}}, Value{int64_t{2}}) == -1);
  CHECK(compare_values(Value{Date{5}}, Value{Date{5}}) == 0);
  CHECK(compare_values(Value{std::string("b")}, Value{std::string("a")}) == 1);
  CHECK_FALSE(compare_values(Value{int64_t{1}}, Value{Date{1}}));
  CHECK_FALSE(compare_values(Value{}, Value{}));
  CHECK_FALSE(compare_values(Value{true}, Value{false}));
}

TEST_CASE("did you mean: the nearest close name, quoted, or nothing", "[value]") {
  const std::vector<std::string> events = {"approve", "review", "reject"};
  CHECK(edit_distance("aprove", "approve") == 1);
  CHECK(edit_distance("REVIEW", "review") == 0);  // case-insensitive
  CHECK(nearest("reveiw", events) == std::optional<std::string>("review"));
  CHECK_FALSE(nearest("review", events));  // an exact match needs no suggestion
  CHECK_FALSE(nearest("discharge", events));
  CHECK(did_you_mean("aprove", events) == "; did you mean 'approve'?");
  CHECK(did_you_mean("aprove", events, "`") == "; did you mean `approve`?");
  CHECK(did_you_mean("aprove", events, "") == "; did you mean approve?");
  CHECK(did_you_mean("discharge", events).empty());
  CHECK(suggest_name("discharge", events, 3) == "; expected one of: approve, review, reject");
  CHECK(suggest_name("discharge", events, 2).empty());
  CHECK(suggest_name("rejct", events, 3) == "; did you mean 'reject'?");
}

TEST_CASE("join separates items", "[value]") {
  CHECK(join({}) == "");
  CHECK(join({"a"}) == "a");
  CHECK(join({"a", "b", "c"}) == "a, b, c");
  CHECK(join({"worker", "supervisor"}, " or ") == "worker or supervisor");
}

}  // namespace
}  // namespace sopir
