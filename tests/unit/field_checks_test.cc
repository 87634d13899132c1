// A field's checks worked out once (FieldDef::checks): typed_value_problem()
// and bounds_problem() by them against the checks as they were written
// before, reading min, max and pattern for every value, over every field
// type, bound and value alternative; and the checks built alike by the
// loader and the codec.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lang/procedure_codec.h"
#include "rules/decide_parts.h"
#include "rules/field_bounds.h"
#include "sopir/loader.h"
#include "sopir/text.h"

namespace sopir {
namespace {

// bounds_problem() as it was, reading min, max and pattern each time; a
// `today` / `now` bound read from `at` by hand: for a date, the date at
// `at` in UTC+14 as a max and in UTC-12 as a min.
BoundsProblem reference_bounds(const FieldDef& field, const Value& value,
                               std::optional<DateTime> at) {
  if (const auto* text = std::get_if<std::string>(&value); text && field.type == Type::kString) {
    const auto* min = field.min ? std::get_if<int64_t>(&*field.min) : nullptr;
    const auto* max = field.max ? std::get_if<int64_t>(&*field.max) : nullptr;
    if (min || max) {
      const int64_t length = text_length(*text);
      if (min && length < *min) return BoundsProblem::kMinLength;
      if (max && length > *max) return BoundsProblem::kMaxLength;
    }
    if (field.pattern && !pattern_matches(field, *text)) return BoundsProblem::kPattern;
    return BoundsProblem::kNone;
  }
  if (field.min && compare_values(value, *field.min).value_or(0) < 0) return BoundsProblem::kMinValue;
  if (field.max && compare_values(value, *field.max).value_or(0) > 0) return BoundsProblem::kMaxValue;
  if (at && field.type == Type::kDate && std::holds_alternative<Date>(value)) {
    const int64_t days = std::get<Date>(value).days;
    if (field.min_now &&
        days < (at->seconds - 12 * 3600) / 86400 - ((at->seconds - 12 * 3600) % 86400 < 0))
      return BoundsProblem::kMinValue;
    if (field.max_now &&
        days > (at->seconds + 14 * 3600) / 86400 - ((at->seconds + 14 * 3600) % 86400 < 0))
      return BoundsProblem::kMaxValue;
  }
  if (at && field.type == Type::kDateTime && std::holds_alternative<DateTime>(value)) {
    if (field.min_now && std::get<DateTime>(value).seconds < at->seconds)
      return BoundsProblem::kMinValue;
    if (field.max_now && std::get<DateTime>(value).seconds > at->seconds)
      return BoundsProblem::kMaxValue;
  }
  return BoundsProblem::kNone;
}

// typed_value_problem() as it was: the type, members, control characters
// (two scans), then reference_bounds().
ValueProblem reference_typed(const FieldDef& field, const Value& value, DateTime at) {
  const auto* text = std::get_if<std::string>(&value);
  const bool text_type = field.type == Type::kString || field.type == Type::kEnum || field.type == Type::kSet;
  const bool typed = text_type ? text != nullptr
                     : field.type == Type::kBool ? std::holds_alternative<bool>(value)
                                                 : ordered_number(field.type, value).has_value();
  if (!typed) return ValueProblem::kNotAccepted;
  if (field.type == Type::kEnum || field.type == Type::kSet) {
    const bool member = field.type == Type::kEnum
                            ? std::find(field.values.begin(), field.values.end(), *text) != field.values.end()
                            : canonical_set(field.values, set_members(*text)) == *text;
    if (member) return ValueProblem::kNone;
    return find_control(*text, false) ? ValueProblem::kControl : ValueProblem::kNotAccepted;
  }
  if (text && find_control(*text, true)) return ValueProblem::kControl;
  return reference_bounds(field, value, at) == BoundsProblem::kNone ? ValueProblem::kNone
                                                                    : ValueProblem::kBounds;
}

FieldDef field(Type type, std::optional<Value> min = {}, std::optional<Value> max = {},
               std::optional<std::string> pattern = {}) {
  FieldDef f;
  f.id = "f";
  f.type = type;
  f.min = std::move(min);
  f.max = std::move(max);
  f.pattern = std::move(pattern);
  if (type == Type::kEnum || type == Type::kSet) f.values = {"a", "b", "c"};
  return f;
}

// Every field type, without bounds, with each bound alone and both, at
// their edges, and with bounds of another type than the field's.
std::vector<FieldDef> fields() {
  const Value none = std::monostate{};
  std::vector<FieldDef> out;
  for (Type type : {Type::kString, Type::kInt, Type::kBool, Type::kDate, Type::kDateTime, Type::kEnum,
                    Type::kDuration, Type::kSet})
    out.push_back(field(type));
  const std::vector<std::pair<Value, Value>> lengths = {
      {int64_t{0}, none}, {int64_t{3}, none}, {none, int64_t{5}}, {int64_t{3}, int64_t{5}}, {int64_t{2}, int64_t{2}},
      {none, int64_t{0}}, {int64_t{-4}, int64_t{200}}, {Date{3}, none}, {none, std::string("b")},
      {int64_t{INT64_MIN}, int64_t{INT64_MAX}}};
  for (const auto& [min, max] : lengths) {
    const auto bound = [](const Value& v) { return is_missing(v) ? std::optional<Value>() : std::optional<Value>(v); };
    out.push_back(field(Type::kString, bound(min), bound(max)));
    out.push_back(field(Type::kString, bound(min), bound(max), std::string("\\+?[0-9 ]{6,20}")));
  }
  out.push_back(field(Type::kString, {}, {}, std::string("[A-Z0-9/-]{3,30}")));
  out.push_back(field(Type::kString, {}, {}, std::string("(ab|é)+")));  // by std::regex
  out.push_back(field(Type::kInt, int64_t{-5}));
  out.push_back(field(Type::kInt, {}, int64_t{10}));
  out.push_back(field(Type::kInt, int64_t{-5}, int64_t{10}));
  out.push_back(field(Type::kInt, int64_t{7}, int64_t{7}));
  out.push_back(field(Type::kInt, Date{0}, std::string("x")));  // bounds no int
  out.push_back(field(Type::kInt, int64_t{0}, {}, std::string("[0-9]+")));  // a pattern on an int: not checked
  out.push_back(field(Type::kDate, Date{10}, Date{20}));
  out.push_back(field(Type::kDate, DateTime{10}, int64_t{20}));
  out.push_back(field(Type::kDateTime, DateTime{-100}, DateTime{100}));
  out.push_back(field(Type::kDuration, Duration{0}, Duration{3600}));
  out.push_back(field(Type::kDuration, {}, Duration{60}));
  out.push_back(field(Type::kBool, false, true));
  out.push_back(field(Type::kEnum, std::string("b")));  // as text: not worked out
  out.push_back(field(Type::kEnum, {}, std::string("b")));
  out.push_back(field(Type::kSet, std::string("a,b")));
  out.push_back(field(Type::kEnum, int64_t{1}, int64_t{2}));
  out.push_back(field(Type::kString, {}, {}, std::string("[ab]{2}")));
  // `today` and `now`, alone, both, and beside a fixed bound.
  for (Type type : {Type::kDate, Type::kDateTime}) {
    for (int which = 1; which <= 3; ++which) {
      FieldDef f = field(type);
      f.min_now = which & 1;
      f.max_now = which & 2;
      out.push_back(f);
    }
    FieldDef f = type == Type::kDate ? field(type, Date{10}) : field(type, {}, DateTime{100});
    (type == Type::kDate ? f.max_now : f.min_now) = true;
    out.push_back(f);
  }
  return out;
}

// Texts at the edges: empty, lengths about the bounds, every kind of
// control character (C0, tab, line breaks alone and CR LF, DEL, C1),
// multi-byte and invalid UTF-8, ASCII past eight bytes, members and sets.
std::vector<std::string> texts() {
  std::vector<std::string> out = {"", "a", "ab", "abc", "abcd", "abcde", "abcdef", "b", "c", "d", "a,b", "a,c",
                                  "b,a", "a,a", "a,,b", ",", "+62 811 0000 0001", "0811 2222", "+12345",
                                  "12345", "AB/12-3", "ab", "abab", "é", "éé", "ééé", "ééééé", "éééééé",
                                  "abé", "\xC3", "\x80\x80\x80", "\x80\x80\x80\x80\x80\x80",
                                  "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", "\xE2\x80\xA8", "a\tb", "a\nb",
                                  "a\r\nb", "a\rb", "\r", "\n", "\x01", "abc\x1f", std::string("a\0b", 3),
                                  "\x7f", "abcdefgh\x7f", "\xC2\x80", "\xC2\x9F", "abcdefghijk\xC2\x85",
                                  "0123456789012345678901234", "abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGH"};
  for (size_t n : {7u, 8u, 9u, 15u, 16u, 17u, 20u, 21u, 199u, 200u, 201u}) {
    out.push_back(std::string(n, '7'));
    out.push_back(std::string(n - 1, '7') + "\x7f");
    out.push_back(std::string(n / 2, 'x') + "é" + std::string(n / 2, 'y'));
  }
  return out;
}

// Values of every alternative, ints and times about the bounds above.
std::vector<Value> values() {
  std::vector<Value> out = {std::monostate{}, false, true};
  for (int64_t n : {int64_t{INT64_MIN}, int64_t{-6}, int64_t{-5}, int64_t{0}, int64_t{3}, int64_t{7}, int64_t{10},
                    int64_t{11}, int64_t{INT64_MAX}})
    out.push_back(n);
  for (int64_t n : {int64_t{-101}, int64_t{-100}, int64_t{0}, int64_t{9}, int64_t{10}, int64_t{20}, int64_t{21},
                    int64_t{60}, int64_t{61}, int64_t{100}, int64_t{101}, int64_t{3601}}) {
    out.push_back(Date{n});
    out.push_back(DateTime{n});
    out.push_back(Duration{n});
  }
  for (const std::string& t : texts()) out.push_back(t);
  return out;
}

TEST_CASE("a field's checks worked out once decide every value as min, max and pattern read each time",
          "[field][decide]") {
  const std::vector<Value> all = values();
  for (FieldDef f : fields()) {
    INFO("type " << type_name(f.type) << " min " << (f.min ? format_value(*f.min) : "-") << " max "
                 << (f.max ? format_value(*f.max) : "-") << " pattern " << f.pattern.value_or("-"));
    for (bool built : {false, true}) {
      if (built) {
        Procedure p;
        p.fields = {f};
        p.build_field_checks();
        f = p.fields[0];
        // Bounds of an enum as text stay unworked: the checks read them.
        const bool text_bound = (f.min && std::holds_alternative<std::string>(*f.min)) ||
                                (f.max && std::holds_alternative<std::string>(*f.max));
        CHECK(f.checks.built == !(text_bound && (f.type == Type::kEnum || f.type == Type::kSet)));
      }
      for (const Value& v : all) {
        INFO("built " << built << " value index " << v.index() << " '" << format_value(v) << "'");
        CHECK(bounds_problem(f, v, std::nullopt) == reference_bounds(f, v, std::nullopt));
        // Steps at times about the values' days: midnight, the zones' edges.
        for (int64_t seconds :
             {int64_t{-86400}, int64_t{0}, int64_t{9}, int64_t{50}, int64_t{100}, int64_t{864000},
              int64_t{864000 - 14 * 3600}, int64_t{864000 - 14 * 3600 - 1},
              int64_t{864000 + 12 * 3600}, int64_t{864000 + 12 * 3600 - 1}}) {
          INFO("step at " << seconds);
          CHECK(bounds_problem(f, v, DateTime{seconds}) ==
                reference_bounds(f, v, DateTime{seconds}));
          CHECK(typed_value_problem(f, v, DateTime{seconds}) ==
                reference_typed(f, v, DateTime{seconds}));
        }
        if (const auto* text = std::get_if<std::string>(&v); text && f.type == Type::kString) {
          CHECK(text_bounds_problem(f, *text) == reference_bounds(f, v, std::nullopt));
          if (plain_ascii(*text))
            CHECK(text_bounds_problem(f, *text, true) == reference_bounds(f, v, std::nullopt));
        }
      }
    }
  }
}

TEST_CASE("an enum's value is told apart from every text a byte off it, of every length", "[field][decide]") {
  FieldDef f = field(Type::kEnum);
  f.values.clear();
  for (size_t n = 1; n <= 20; ++n) {
    std::string name;
    for (size_t i = 0; i < n; ++i) name += static_cast<char>('a' + (i * 7 + n) % 26);
    f.values.push_back(name);
  }
  for (const std::string& name : f.values) {
    INFO(name);
    CHECK(typed_value_problem(f, Value(name), DateTime{}) == ValueProblem::kNone);
    for (size_t at = 0; at < name.size(); ++at) {
      std::string off = name;
      off[at] = 'Z';
      CHECK(typed_value_problem(f, Value(off), DateTime{}) == ValueProblem::kNotAccepted);
    }
    CHECK(typed_value_problem(f, Value(name + "a"), DateTime{}) == ValueProblem::kNotAccepted);
  }
  CHECK(typed_value_problem(f, Value(std::string()), DateTime{}) == ValueProblem::kNotAccepted);
}

TEST_CASE("plain ASCII holds no control character and has a character a byte", "[field][text]") {
  for (const std::string& t : texts()) {
    INFO("'" << t << "'");
    const bool plain = std::all_of(t.begin(), t.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    CHECK(plain_ascii(t) == plain);
    if (!plain) continue;
    CHECK_FALSE(holds_control(t, false));
    CHECK(text_length(t) == static_cast<int64_t>(t.size()));
  }
  // Every length a word, two halves or single bytes are read for, with one
  // byte at each place that is not printable ASCII, or none.
  for (size_t n = 0; n <= 25; ++n) {
    std::string t;
    for (size_t i = 0; i < n; ++i) t += static_cast<char>(i % 2 ? 0x20 : 0x7E);
    INFO("length " << n);
    CHECK(plain_ascii(t));
    for (size_t at = 0; at < n; ++at) {
      for (char bad : {'\x00', '\x1F', '\x7F', '\x80', '\xC3', '\xFF'}) {
        std::string u = t;
        u[at] = bad;
        INFO("byte " << static_cast<int>(static_cast<unsigned char>(bad)) << " at " << at);
        CHECK_FALSE(plain_ascii(u));
      }
    }
  }
}

TEST_CASE("the loader and the codec work out the same checks for every shipped field", "[field][codec]") {
  for (const char* name : {"aid-distribution", "aid-handout", "pmi-debarkation", "pmi-departure-monitoring",
                           "tppo-victim-care", "referral", "transfer", "tvc-health", "tvc-psychosocial",
                           "tvc-legal", "tvc-tracing"}) {
    INFO(name);
    LoadResult loaded = load_procedure_file(std::string(SOPIR_SOURCE_DIR) + "/workflows/" + name + ".yaml");
    REQUIRE(loaded.ok());
    const Procedure& p = *loaded.procedure;
    std::map<std::string, CalendarSource> calendars;
    if (p.calendar)
      for (const CalendarSource& c : p.calendar->sources) calendars[c.name] = c;
    const ProcedurePtr back = decode_procedure(encode_procedure(p), p.source, p.file, calendars);
    REQUIRE(back);
    REQUIRE(back->fields.size() == p.fields.size());
    for (size_t i = 0; i < p.fields.size(); ++i) {
      const FieldChecks &a = p.fields[i].checks, &b = back->fields[i].checks, worked = field_checks(p.fields[i]);
      INFO(p.fields[i].id);
      CHECK(a.built);
      CHECK((a.built == b.built && a.bounded == b.bounded && a.low == b.low && a.high == b.high &&
             a.relative == b.relative));
      CHECK((a.built == worked.built && a.bounded == worked.bounded && a.low == worked.low &&
             a.high == worked.high && a.relative == worked.relative));
      // A field with min, max or a pattern that bounds its type has something to check.
      const bool bounds = p.fields[i].type != Type::kEnum && p.fields[i].type != Type::kSet &&
                          p.fields[i].type != Type::kBool && (p.fields[i].min || p.fields[i].max);
      if (bounds || (p.fields[i].type == Type::kString && p.fields[i].pattern)) CHECK(a.bounded);
    }
  }
}

}  // namespace
}  // namespace sopir
