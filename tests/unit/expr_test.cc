// Guard and `set` expressions: parsing, type errors (exact message and
// offset), evaluation incl. missing values, explanations, printing.
#include "lang/expr/expr.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lang/expr/syntax.h"
#include "lang/expr/tree.h"

using namespace sopir;

namespace {

FieldDef field(std::string id, Type type, std::vector<std::string> values = {}, bool pii = false) {
  FieldDef f;
  f.id = std::move(id);
  f.type = type;
  f.values = std::move(values);
  f.pii = pii;
  return f;
}

// Invented fields of a shelter intake procedure.
const std::vector<FieldDef>& fields() {
  static const std::vector<FieldDef> kFields = {
      field("age", Type::kInt),                                                // 0
      field("category", Type::kEnum, {"overstay", "illegal_entry", "drugs"}),  // 1
      field("prior_category", Type::kEnum, {"overstay", "drugs", "other"}),    // 2
      field("risk", Type::kEnum, {"low", "medium", "high"}),                   // 3
      field("consent_date", Type::kDate),                                      // 4
      field("arrived_at", Type::kDateTime),                                    // 5
      field("stay_limit", Type::kDuration),                                    // 6
      field("full_name", Type::kString, {}, true),                             // 7
      field("note", Type::kString),                                            // 8
      field("consented", Type::kBool),                                         // 9
      field("nik", Type::kString, {}, true),                                   // 10
  };
  return kFields;
}
enum {
  kAge,
  kCategory,
  kPrior,
  kRisk,
  kConsentDate,
  kArrivedAt,
  kStayLimit,
  kFullName,
  kNote,
  kConsented,
  kNik
};

ParsedExpr parse(std::string_view text, Type target = Type::kBool,
                 const std::vector<std::string>& values = {}) {
  return parse_expr(text, fields(), target, values);
}

std::string errors_of(const ParsedExpr& p) {
  std::string out;
  for (const auto& e : p.errors) out += std::to_string(e.offset) + ": " + e.message + "\n";
  return out;
}

std::shared_ptr<const Expr> ok(std::string_view text, Type target = Type::kBool,
                               const std::vector<std::string>& values = {}) {
  ParsedExpr p = parse(text, target, values);
  INFO("expression: " << text << "\n" << errors_of(p));
  REQUIRE(p.errors.empty());
  REQUIRE(p.expr);
  return p.expr;
}

// "offset: message" of the first error.
std::string first_error(std::string_view text, Type target = Type::kBool,
                        const std::vector<std::string>& values = {}) {
  ParsedExpr p = parse(text, target, values);
  INFO("expression: " << text);
  REQUIRE_FALSE(p.expr);
  REQUIRE_FALSE(p.errors.empty());
  return std::to_string(p.errors[0].offset) + ": " + p.errors[0].message;
}

// 2026-03-10T08:00:00Z
DateTime fixed_now() { return *parse_datetime("2026-03-10T08:00:00Z"); }

struct Case {
  std::vector<Value> values = std::vector<Value>(fields().size());
  Case& set(int index, Value v) {
    values[index] = std::move(v);
    return *this;
  }
  EvalContext context() const { return EvalContext{&values, fixed_now(), nullptr, {}}; }
};

bool holds(std::string_view text, const Case& c) {
  auto e = ok(text);
  const bool fast = guard_holds(*e, c.context());
  const GuardResult slow = evaluate_guard(*e, fields(), c.context());
  REQUIRE(fast == slow.value);
  REQUIRE(slow.explanation.empty() == slow.value);
  return fast;
}

std::string why(std::string_view text, const Case& c) {
  auto e = ok(text);
  GuardResult r = evaluate_guard(*e, fields(), c.context());
  REQUIRE_FALSE(r.value);
  return r.explanation;
}

Date date(const char* text) { return *parse_date(text); }
DateTime datetime(const char* text) { return *parse_datetime(text); }

}  // namespace

TEST_CASE("expr: canonical text shows precedence and normalised spelling") {
  struct Row {
    const char* text;
    const char* canonical;
  };
  const Row rows[] = {
      {"age >= 18", "age >= 18"},
      {"age>=18&&consented||!has(note)", "age >= 18 and consented or not has(note)"},
      {"not age == 3", "not age == 3"},
      {"not (age == 3 and consented)", "not (age == 3 and consented)"},
      {"(age == 1 or age == 2) and consented", "(age == 1 or age == 2) and consented"},
      {"age == 1 or (age == 2 and consented)", "age == 1 or age == 2 and consented"},
      {"((age == 1))", "age == 1"},
      {"not not consented", "not not consented"},
      {"(consented == true) == false", "(consented == true) == false"},
      {"category == overstay", "category == overstay"},
      {"overstay == category", "overstay == category"},
      {"category == \"drugs\"", "category == drugs"},
      {"category in [overstay, 'drugs']", "category in [overstay, drugs]"},
      {"category not in [drugs]", "category not in [drugs]"},
      {"note == \"it's\"", "note == 'it\\'s'"},
      {"note == 'a\\\\b'", "note == 'a\\\\b'"},
      {"consent_date < 2020-08-15", "consent_date < 2020-08-15"},
      {"stay_limit <= 1d12h", "stay_limit <= 36h"},
      {"stay_limit >= 24h", "stay_limit >= 1d"},
      {"age > -5", "age > -5"},
      {"age != null", "age != null"},
      {"null == note", "null == note"},
      {"days_since(consent_date) >= 14 and len(note) < 200",
       "days_since(consent_date) >= 14 and len(note) < 200"},
      {"arrived_at <= now() and consent_date <= today()",
       "arrived_at <= now() and consent_date <= today()"},
      {"age == 1 or age == 2 or age == 3", "age == 1 or age == 2 or age == 3"},
      {"age == 1 and (age == 2 and age == 3)", "age == 1 and (age == 2 and age == 3)"},
      {"true", "true"},
      {"arrived_at < 2026-03-01T08:30", "arrived_at < 2026-03-01T08:30:00Z"},
      {"arrived_at < 2026-03-01T15:30+07:00", "arrived_at < 2026-03-01T08:30:00Z"},
  };
  for (const Row& row : rows) {
    auto e = ok(row.text);
    CHECK(to_string(*e, fields()) == row.canonical);
    // Round trip: the canonical text parses to the same canonical text.
    auto again = ok(to_string(*e, fields()));
    CHECK(to_string(*again, fields()) == row.canonical);
  }
}

TEST_CASE("expr: precedence decides evaluation") {
  Case c;
  c.set(kAge, int64_t{20}).set(kConsented, false);
  CHECK(holds("age >= 18 or consented and age < 0", c));  // or binds looser than and
  CHECK_FALSE(holds("(age >= 18 or consented) and age < 0", c));
  CHECK(holds("not consented and age == 20", c));  // not binds tighter than and
  CHECK(holds("not age == 21", c));                // not is looser than comparison
  CHECK(holds("! consented || false", c));
  CHECK(holds("age == 20 && !(age == 21)", c));
}

TEST_CASE("expr: literals") {
  Case c;
  c.set(kAge, int64_t{9223372036854775807LL});
  CHECK(holds("age == 9223372036854775807", c));
  c.set(kAge, std::numeric_limits<int64_t>::min());
  CHECK(holds("age == -9223372036854775808", c));
  CHECK(holds("age < -9223372036854775807", c));
  c.set(kNote, std::string("say \"hi\" \\ it's"));
  CHECK(holds("note == 'say \"hi\" \\\\ it\\'s'", c));
  CHECK(holds("note == \"say \\\"hi\\\" \\\\ it's\"", c));
  c.set(kConsentDate, date("2024-02-29"));
  CHECK(holds("consent_date == 2024-02-29", c));
  c.set(kStayLimit, Duration{36 * 3600});
  CHECK(holds("stay_limit == 1d12h and stay_limit == 36h and stay_limit > 2159m", c));
  CHECK(holds("true and not false", c));
}

TEST_CASE("expr: errors carry the offset of the offending token") {
  struct Row {
    const char* text;
    const char* error;
  };
  const Row rows[] = {
      // lexical
      {"", "0: the expression is empty; write a condition like age >= 18"},
      {"   ", "0: the expression is empty; write a condition like age >= 18"},
      {"age = 18", "4: '=' alone is not an operator; use '==' to compare"},
      {"age > 1 & consented", "8: '&' alone is not an operator; use 'and' (or '&&')"},
      {"age > 1 | consented", "8: '|' alone is not an operator; use 'or' (or '||')"},
      {"age # 1",
       "4: unexpected '#'; expected a field, a value like 42, 'text', 2026-11-29 or 14d, an "
       "operator, or '('"},
      {"note == \xff",
       "8: unexpected byte 0xFF; expected a field, a value like 42, 'text', 2026-11-29 or 14d, an "
       "operator, or '('"},
      {"age > 9223372036854775808",
       "6: the number 9223372036854775808 is too large (whole numbers go from -9223372036854775808 "
       "to "
       "9223372036854775807)"},
      {"age > -9223372036854775809",
       "6: the number -9223372036854775809 is too small (whole numbers go from "
       "-9223372036854775808 to "
       "9223372036854775807)"},
      {"consent_date < 2021-02-29",
       "15: '2021-02-29' is not a calendar date; dates are written like 2026-11-29"},
      {"stay_limit > 3x",
       "13: '3x' is not a number, a date (like 2026-11-29) or a duration (like 24h, 14d or "
       "1d12h; units w d h m s)"},
      {"arrived_at < 2026-03-01T25:00",
       "13: '2026-03-01T25:00' is not a date and time; write it like "
       "2026-11-29T08:30, 2026-11-29T08:30:00Z or 2026-11-29T15:30+07:00"},
      {"note == 'open", "8: this text is never closed; add the closing '"},
      {"note == 'a\\nb'",
       "10: unknown escape in text; write \\' for ', \\\" for \" and \\\\ for \\"},
      // syntax
      {"age >= ", "7: the expression ends too early; expected a value"},
      {"(age >= 1", "0: this '(' is never closed; add ')'"},
      {"age >= 1)", "8: this ')' has no matching '('"},
      {"age >= 1 consented",
       "9: unexpected 'consented' after a complete expression; join conditions with "
       "'and' or 'or'"},
      {"1 < age < 5", "8: comparisons cannot be chained; write a < b and b < c"},
      {"age == not consented", "7: expected a value, found the keyword 'not'"},
      {"category in drugs",
       "12: expected '[' after 'in', as in category in [overstay, drugs], or a set field; found "
       "'drugs'"},
      {"category in []", "13: the list after 'in' is empty; give at least one value"},
      {"category in [drugs", "12: this '[' is never closed; add ']'"},
      {"category in [drugs overstay]", "19: expected ',' or ']' in the list, found 'overstay'"},
      {"has(note", "3: this '(' is never closed; add ')'"},
      {"and", "0: expected a value, found the keyword 'and'"},
      {"age >= )",
       "7: expected a value (a field, 42, 'text', 2026-11-29, 14d, true, null, [a, b] or '('), "
       "found ')'"},
      // names
      {"agee >= 18", "0: unknown field 'agee'; did you mean 'age'?"},
      {"zzzzzzzz >= 18",
       "0: unknown field 'zzzzzzzz' (the fields are: age, category, prior_category, risk, "
       "consent_date, "
       "arrived_at, stay_limit, full_name, note, consented, nik)"},
      {"category == ovrstay",
       "12: 'ovrstay' is not a value of category (one of: overstay, illegal_entry, drugs); did you "
       "mean "
       "'overstay'?"},
      {"category == 'ovrstay'",
       "12: 'ovrstay' is not a value of category (one of: overstay, illegal_entry, drugs); did you "
       "mean "
       "'overstay'?"},
      {"category in [overstay, smuggling]",
       "23: 'smuggling' is not a value of category (one of: overstay, illegal_entry, drugs)"},
      {"age == overstay",
       "7: unknown field 'overstay' (the fields are: age, category, prior_category, risk, "
       "consent_date, arrived_at, stay_limit, full_name, note, consented, nik)"},
      // types
      {"age >= '18'", "7: cannot compare age (int) with '18' (text)"},
      {"note == 18", "8: cannot compare note (string) with 18 (int)"},
      {"consent_date < arrived_at",
       "15: cannot compare consent_date (date) with arrived_at (datetime)"},
      {"stay_limit > 14", "13: cannot compare stay_limit (duration) with 14 (int)"},
      {"category == risk",
       "12: cannot compare category with risk: they have no value in common (overstay, "
       "illegal_entry, drugs / low, medium, high)"},
      {"category == note", "12: cannot compare category (enum) with note (string)"},
      {"category < drugs",
       "9: '<' cannot order category (enum); only ints, dates, datetimes and durations have "
       "an order (use == or !=, or 'in')"},
      {"note >= 'a'",
       "5: '>=' cannot order note (string); only ints, dates, datetimes and durations have an "
       "order (use == or !=, or 'in')"},
      {"consented > false",
       "10: '>' cannot order consented (bool); only ints, dates, datetimes and durations "
       "have an order (use == or !=, or 'in')"},
      {"age < null",
       "4: '<' cannot be used with null; to test for a missing value write x == null or x != "
       "null, or has(x)"},
      {"null == null",
       "5: comparing null with null says nothing; compare a field with null, like consent_date "
       "== null"},
      {"age in [1, '2']", "11: cannot compare age (int) with '2' (text)"},
      {"age in [1, null]",
       "11: null cannot be in the list after 'in'; test for a missing value with x == null"},
      {"null in [1]",
       "0: null cannot be looked up in a list; write x == null to test for a missing value"},
      {"age and consented", "0: 'and' needs conditions (true or false), but age is an int"},
      {"consented or note", "13: 'or' needs conditions (true or false), but note is text"},
      {"not category", "4: 'not' needs conditions (true or false), but category is an enum value"},
      {"age",
       "0: a guard must be a condition that is true or false, like age >= 18; age is an int"},
      {"null",
       "0: a guard must be a condition that is true or false, like age >= 18; null is null"},
      // functions
      {"has(agee)", "4: unknown field 'agee'; did you mean 'age'?"},
      {"has('note')", "4: has() takes a field name, like has(consent_date)"},
      {"has(note, age)", "0: has() takes exactly one field name, like has(consent_date)"},
      {"has()", "0: has() takes exactly one field name, like has(consent_date)"},
      {"today(1) == consent_date", "6: today() takes no arguments"},
      {"days_since(age) > 3", "11: days_since() needs a date or datetime, but age is an int"},
      {"days_since() > 3",
       "0: days_since() takes one date or datetime, like days_since(arrival_date)"},
      {"len(age) > 3", "4: len() needs text, but age is an int"},
      {"len(category) > 3", "4: len() needs text, but category is an enum value"},
      {"day_since(consent_date) > 3",
       "0: unknown function 'day_since'; did you mean 'days_since'?"},
      {"frobnicate() > 3",
       "0: unknown function 'frobnicate'; the functions are has(field), today(), now(), "
       "days_since(date), len(text), count(set), has_child('sop'), child_closed('sop'), all_tracks_closed(), "
       "any_track_open(), track_state('sop'), track_outcome('sop'), count_tracks('sop'), count_tracks('sop', 'state')"},
      {"days_since(consent_date) > 1d",
       "27: cannot compare days_since(consent_date) (int) with 1d (duration)"},
  };
  for (const Row& row : rows) {
    CHECK(first_error(row.text) == row.error);
  }
}

TEST_CASE("expr: several type errors are reported in one pass") {
  ParsedExpr p = parse("age == 'x' and agee > 1 or category == ovrstay");
  REQUIRE(p.errors.size() == 3);
  CHECK(p.errors[0].offset == 7);
  CHECK(p.errors[1].offset == 15);
  CHECK(p.errors[2].offset == 39);
  CHECK_FALSE(p.expr);
}

TEST_CASE("expr: NUL inside an expression is an error, not the end") {
  const std::string text("age == 1\0 or true", 17);
  ParsedExpr p = parse(text);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].offset == 8);
  CHECK(p.errors[0].message ==
        "unexpected byte 0x00; expected a field, a value like 42, 'text', 2026-11-29 or 14d, an "
        "operator, or '('");
}

TEST_CASE("expr: set targets") {
  const std::vector<std::string> statuses = {"ok", "needs_review"};
  SECTION("literals and expressions of the target type") {
    Case c;
    c.set(kConsentDate, date("2026-01-05"));
    CHECK(std::get<Date>(evaluate(*ok("today()", Type::kDate), c.context())) == date("2026-03-10"));
    CHECK(std::get<Date>(evaluate(*ok("consent_date", Type::kDate), c.context())) ==
          date("2026-01-05"));
    CHECK(std::get<DateTime>(evaluate(*ok("now()", Type::kDateTime), c.context())) == fixed_now());
    CHECK(std::get<DateTime>(evaluate(*ok("2026-03-10T08:00:00Z", Type::kDateTime), c.context())) ==
          fixed_now());
    CHECK(std::get<int64_t>(evaluate(*ok("days_since(consent_date)", Type::kInt), c.context())) ==
          64);
    CHECK(std::get<std::string>(evaluate(*ok("'checked'", Type::kString), c.context())) ==
          "checked");
    CHECK(std::get<Duration>(evaluate(*ok("14d", Type::kDuration), c.context())).seconds ==
          14 * 86400);
    CHECK(std::get<bool>(evaluate(*ok("age > 3 or true", Type::kBool), c.context())));
  }
  SECTION("enum targets take a value of the target enum, bare or quoted") {
    auto e = ok("needs_review", Type::kEnum, statuses);
    CHECK(std::get<std::string>(evaluate(*e, Case().context())) == "needs_review");
    CHECK(to_string(*e, fields()) == "needs_review");
    CHECK(std::get<std::string>(evaluate(*ok("'ok'", Type::kEnum, statuses), Case().context())) ==
          "ok");
    CHECK(first_error("nedds_review", Type::kEnum, statuses) ==
          "0: 'nedds_review' is not a value of this field (one of: ok, needs_review); did you mean "
          "'needs_review'?");
  }
  SECTION("an enum field may be copied when its values all fit") {
    const std::vector<std::string> wide = {"overstay", "illegal_entry", "drugs", "other"};
    Case c;
    c.set(kCategory, std::string("drugs"));
    CHECK(std::get<std::string>(evaluate(*ok("category", Type::kEnum, wide), c.context())) ==
          "drugs");
    CHECK(first_error("prior_category", Type::kEnum, {"overstay", "drugs"}) ==
          "0: prior_category may hold values this field does not allow: other (allowed: overstay, "
          "drugs)");
  }
  SECTION("type mismatches") {
    CHECK(first_error("age", Type::kDate) == "0: expected a date, but age is an int");
    CHECK(first_error("'2026-01-01'", Type::kDate) ==
          "0: expected a date, but '2026-01-01' is text");
    CHECK(first_error("now()", Type::kDate) == "0: expected a date, but now() is a datetime");
    CHECK(first_error("null", Type::kInt) == "0: expected an int, but null is null");
    CHECK(first_error("zzz_status", Type::kString) ==
          "0: unknown field 'zzz_status' (the fields are: age, category, prior_category, risk, "
          "consent_date, "
          "arrived_at, stay_limit, full_name, note, consented, nik)");
  }
}

TEST_CASE("expr: missing values") {
  Case empty;
  // == and != treat missing as a value of its own.
  CHECK(holds("age == null", empty));
  CHECK(holds("null == age", empty));
  CHECK_FALSE(holds("age != null", empty));
  CHECK_FALSE(holds("age == 3", empty));
  CHECK(holds("age != 3", empty));
  CHECK(holds("category != drugs", empty));
  // Ordering and `in` with a missing operand are false, whichever way.
  CHECK_FALSE(holds("age < 3", empty));
  CHECK_FALSE(holds("age >= 3", empty));
  CHECK_FALSE(holds("3 > age", empty));
  CHECK_FALSE(holds("category in [drugs, overstay]", empty));
  // `not` inverts the result as computed.
  CHECK(holds("not age < 3", empty));
  CHECK(holds("category not in [drugs]", empty));
  // days_since(missing) is missing; len(missing) is 0.
  CHECK_FALSE(holds("days_since(consent_date) >= 0", empty));
  CHECK_FALSE(holds("days_since(consent_date) < 0", empty));
  CHECK(holds("days_since(consent_date) == null", empty));
  CHECK(holds("len(note) == 0", empty));
  // A bool field without a value is not true.
  CHECK_FALSE(holds("consented", empty));
  CHECK(holds("not consented", empty));
  CHECK(holds("consented == null", empty));
  CHECK_FALSE(holds("has(note)", empty));
  // evaluate() hands back the field's own missing value.
  CHECK(is_missing(evaluate(*ok("consented"), empty.context())));
  CHECK(is_missing(evaluate(*ok("days_since(consent_date)", Type::kInt), empty.context())));
  // No field vector at all reads as every field missing.
  EvalContext none;
  CHECK(std::get<bool>(evaluate(*ok("age == null and not has(note)"), none)));
}

TEST_CASE("expr: present values") {
  Case c;
  c.set(kAge, int64_t{16})
      .set(kCategory, std::string("illegal_entry"))
      .set(kPrior, std::string("overstay"))
      .set(kConsentDate, date("2026-02-24"))
      .set(kArrivedAt, datetime("2026-03-09T08:00:01Z"))
      .set(kStayLimit, Duration{7 * 86400})
      .set(kNote, std::string("ümlaut ok"))
      .set(kConsented, true);
  CHECK(holds("age < 18 and age > 15 and age <= 16 and age >= 16 and age != 17", c));
  CHECK(holds("category == illegal_entry and category != 'drugs'", c));
  CHECK(holds("category in [drugs, illegal_entry]", c));
  CHECK_FALSE(holds("category in [drugs, overstay]", c));
  CHECK(holds("prior_category == category or prior_category == overstay", c));
  CHECK_FALSE(holds("prior_category == category", c));
  CHECK(holds("consent_date < today() and consent_date >= 2026-02-24", c));
  CHECK(holds("days_since(consent_date) == 14", c));
  // 23h59m59s since arrival: not yet a whole day.
  CHECK(holds("days_since(arrived_at) == 0 and arrived_at < now()", c));
  CHECK(holds("stay_limit == 7d and stay_limit > 6d23h", c));
  CHECK(holds("len(note) == 9", c));  // characters, not bytes
  CHECK(holds("consented and consented == true and has(consented)", c));
  CHECK(holds("age in [15, 16, 17]", c));
  CHECK(holds("age not in [1, 2]", c));
  CHECK(holds("1 == 1 and 'a' != 'b'", c));
}

TEST_CASE("expr: days_since before and after now, and at the extremes") {
  Case c;
  c.set(kConsentDate, date("2026-03-20"));
  CHECK(holds("days_since(consent_date) == -10", c));
  c.set(kArrivedAt, datetime("2026-03-10T08:00:01Z"));
  CHECK(holds("days_since(arrived_at) == -1", c));  // rounded down
  c.set(kArrivedAt, DateTime{std::numeric_limits<int64_t>::min()});
  CHECK(holds("days_since(arrived_at) == null", c));  // overflow: no answer rather than a wrong one
  c.set(kConsentDate, Date{std::numeric_limits<int64_t>::min()});
  CHECK(holds("days_since(consent_date) == null", c));
}

TEST_CASE("expr: values of the wrong type in a case compare as unequal, never crash") {
  Case c;
  c.set(kAge, std::string("sixteen")).set(kConsented, int64_t{1}).set(kNote, int64_t{5});
  CHECK_FALSE(holds("age == 16", c));
  CHECK_FALSE(holds("age < 16", c));
  CHECK_FALSE(holds("consented", c));
  CHECK(holds("len(note) == 0", c));
}

TEST_CASE("expr: explanations name the smallest failing part") {
  Case c;
  c.set(kAge, int64_t{16})
      .set(kCategory, std::string("drugs"))
      .set(kFullName, std::string("Sari Contoh"))
      .set(kNik, std::string("3201000000000001"))
      .set(kNote, std::string("it's late"))
      .set(kConsented, false)
      .set(kArrivedAt, datetime("2026-03-08T10:00:00Z"));
  struct Row {
    const char* guard;
    const char* explanation;
  };
  const Row rows[] = {
      {"age >= 18", "age >= 18 is false (age = 16)"},
      {"has(consent_date)", "has(consent_date) is false (consent_date has no value)"},
      {"has(consent_date) and age >= 18", "has(consent_date) is false (consent_date has no value)"},
      {"age < 18 and (category == overstay and age > 0)",
       "category == overstay is false (category = drugs)"},
      {"age >= 18 or has(consent_date)",
       "age >= 18 is false (age = 16) and has(consent_date) is false (consent_date has no value)"},
      {"consented", "consented is false"},
      {"has(note) and not has(note)", "not has(note) is false (note = 'it\\'s late')"},
      {"consent_date <= today()",
       "consent_date <= today() is false (consent_date has no value, today() = 2026-03-10)"},
      {"days_since(arrived_at) >= 3",
       "days_since(arrived_at) >= 3 is false (arrived_at = 2026-03-08T10:00:00Z, "
       "days_since(arrived_at) = 1)"},
      {"category in [overstay, illegal_entry]",
       "category in [overstay, illegal_entry] is false (category = drugs)"},
      {"false", "the condition is always false"},
      // pii: never the value, not even computed from it
      {"full_name == 'Budi Contoh'", "full_name == 'Budi Contoh' is false (full_name = ***)"},
      {"len(nik) == 15", "len(nik) == 15 is false (nik = ***, len(nik) = ***)"},
      {"not has(full_name)", "not has(full_name) is false (full_name = ***)"},
      {"age >= 18 and full_name == 'x' or note == 'y'",
       "age >= 18 is false (age = 16) and note == 'y' is false (note = 'it\\'s late')"},
  };
  for (const Row& row : rows) {
    INFO(row.guard);
    CHECK(why(row.guard, c) == row.explanation);
  }
  Case empty;
  CHECK(why("consented", empty) == "consented has no value");
  CHECK(why("age > 1 and age == 17", c) == "age == 17 is false (age = 16)");
}

TEST_CASE("expr: a true guard has no explanation") {
  Case c;
  c.set(kAge, int64_t{30});
  GuardResult r = evaluate_guard(*ok("age >= 18"), fields(), c.context());
  CHECK(r.value);
  CHECK(r.explanation.empty());
}

TEST_CASE("expr: fields_read lists each field once, first use first") {
  auto e = ok("has(note) and age > 1 or note == 'x' or days_since(consent_date) > age");
  CHECK(fields_read(*e) == std::vector<int>{kNote, kAge, kConsentDate});
  CHECK(fields_read(*ok("today() > 2020-01-01")).empty());
}

TEST_CASE("expr: nesting is limited and junk never crashes") {
  SECTION("64 levels are fine, 65 are not") {
    const std::string ok64 = std::string(63, '(') + "age == 1" + std::string(63, ')');
    CHECK(parse(ok64).errors.empty());
    const std::string deep = std::string(65, '(') + "age == 1" + std::string(65, ')');
    CHECK(first_error(deep) ==
          "64: the expression is nested too deeply (more than 64 levels of parentheses, "
          "lists, function calls or 'not'); split it into simpler conditions");
    std::string nots;
    for (int i = 0; i < 100; ++i) nots += "not ";
    CHECK(first_error(nots + "consented").find("nested too deeply") != std::string::npos);
    CHECK(first_error(std::string(100000, '(')).find("nested too deeply") != std::string::npos);
  }
  SECTION("long flat chains stay flat") {
    std::string chain = "consented";
    for (int i = 0; i < 20000; ++i) chain += " and age > " + std::to_string(i);
    auto e = ok(chain);
    Case c;
    c.set(kAge, int64_t{50000}).set(kConsented, true);
    CHECK(guard_holds(*e, c.context()));
  }
  SECTION("junk") {
    const char* junk[] = {"\xc3\x28",
                          "'\xff\xfe'",
                          "((((",
                          "))))",
                          "[[",
                          "]",
                          ",",
                          "!!!",
                          "&&",
                          "||",
                          "age ==",
                          "== age",
                          "in",
                          "not",
                          "has(",
                          "has)",
                          "'",
                          "\"",
                          "\\",
                          "--1",
                          "1-",
                          "2020-13-01",
                          "99999999999999999999999999999",
                          "1d1",
                          "-1d",
                          "age in [,]",
                          "age in [1,]",
                          "today(",
                          "x(y(z("};
    for (const char* j : junk) {
      INFO(j);
      ParsedExpr p = parse(j);
      CHECK_FALSE(p.expr);
      REQUIRE_FALSE(p.errors.empty());
      CHECK(p.errors[0].offset <= std::string(j).size());
      CHECK_FALSE(p.errors[0].message.empty());
    }
    // Text literals may hold any bytes.
    CHECK(parse(std::string("note == '\0\xff'", 12)).errors.empty());
  }
}

TEST_CASE("expr: constant expressions for plain `set:` literals") {
  auto text = constant_expr(std::string("Checked by supervisor, it's fine"), Type::kString);
  CHECK(std::get<std::string>(evaluate(*text, Case().context())) ==
        "Checked by supervisor, it's fine");
  CHECK(to_string(*text, fields()) == "'Checked by supervisor, it\\'s fine'");
  auto status = constant_expr(std::string("needs_review"), Type::kEnum);
  CHECK(to_string(*status, fields()) == "needs_review");
  auto when = constant_expr(date("2026-01-01"), Type::kDate);
  CHECK(std::get<Date>(evaluate(*when, Case().context())) == date("2026-01-01"));
  CHECK(to_string(*when, fields()) == "2026-01-01");
  CHECK(fields_read(*when).empty());
  auto yes = constant_expr(true, Type::kBool);
  CHECK(guard_holds(*yes, Case().context()));
}

TEST_CASE("expr: messages stay printable whatever the bytes") {
  CHECK(first_error("age == 1 'a\x01\xff'") ==
        "9: unexpected ''a?\xEF\xBF\xBD'' after a complete expression; join conditions with 'and' "
        "or 'or'");
  CHECK(first_error("category == 'dr\nugs'") ==
        "12: 'dr?ugs' is not a value of category (one of: overstay, illegal_entry, drugs); did you "
        "mean 'drugs'?");
  Case c;
  c.set(kNote, std::string("line one\nline two \xc3\xbc \xc3"));
  CHECK(why("note == 'x'", c) ==
        "note == 'x' is false (note = 'line one?line two \xc3\xbc \xEF\xBF\xBD')");
  CHECK(printable("ok \xe2\x82\xac \xed\xa0\x80 \xf4\x90\x80\x80") ==
        "ok \xe2\x82\xac \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

// The evaluator's shortcuts (ExprNode::fast, set by mark_fast_paths) must
// give what the general path gives: every shortcut shape (and a few near
// misses) over every value, including missing and values of the wrong type.
TEST_CASE("expr: shortcuts agree with the general path over every value") {
  const char* guards[] = {
      "age == 18", "age != 18", "age < 18", "age <= 18", "age > 18", "age >= 18", "age == -1",
      "category == overstay", "category != overstay", "category == 'drugs'", "risk != high",
      "note == ''", "note != 'a'", "note == 'ab'", "consented == true", "consented != false",
      "consented == false", "consented", "not consented", "category in [overstay, drugs]",
      "category not in [overstay]", "note in ['', 'a', 'ab']", "note not in ['b']",
      // Near misses, general path: constant first, two fields, null, int lists.
      "18 <= age", "'drugs' == category", "category == prior_category", "age == null",
      "age in [17, 18]", "consent_date < 2026-01-01", "stay_limit >= 1d",
      // Shortcuts inside and/or/not.
      "risk == high and age >= 18", "not (category == drugs) or consented",
      "category in [drugs] or note == 'x' and age < 3",
      // Tracks (over the children below): track against text, and near misses.
      "track_state('medical') == 'fit'", "track_state('medical') != 'fit'",
      "track_outcome('medical') == 'fit'", "track_outcome('medical') != ''",
      "'fit' == track_state('medical')", "track_state('medical') == null",
      "track_state('medical') in ['fit', 'unfit']"};
  // Values of every type, a few of each, so that equal and unequal meet.
  const std::vector<Value> values = {Value{},
                                     true,
                                     false,
                                     int64_t{-1},
                                     int64_t{0},
                                     int64_t{17},
                                     int64_t{18},
                                     int64_t{19},
                                     std::string(),
                                     std::string("a"),
                                     std::string("ab"),
                                     std::string("b"),
                                     std::string("overstay"),
                                     std::string("drugs"),
                                     std::string("high"),
                                     std::string("hig"),
                                     date("2025-12-31"),
                                     date("2026-01-01"),
                                     datetime("2026-01-01T00:00:00Z"),
                                     Duration{86400}};
  int marked = 0;
  for (const char* text : guards) {
    auto fast = ok(text);
    Expr general = *fast;
    for (ExprNode& node : general.nodes) {
      marked += node.fast != FastPath::kNone;
      node.fast = FastPath::kNone;
    }
    const std::vector<int> read = fields_read(*fast);
    REQUIRE(read.size() <= 3);
    // Every combination of values for the fields the guard reads and, for
    // a track function, for the state and outcome of the newest track.
    const bool tracks = reads_tracks(*fast);
    std::vector<size_t> pick(read.size() + (tracks ? 2 : 0), 0);
    for (;;) {
      Case c;
      for (size_t i = 0; i < read.size(); ++i) c.set(read[i], values[pick[i]]);
      std::vector<LinkedCase> children;
      if (tracks) {
        const Value fit = std::string("fit");
        children.push_back(LinkedCase{"A-1", "medical", Status::kClosed, fit, Value{}});
        children.push_back(LinkedCase{"A-2", "other", Status::kActive, fit, Value{}});
        // The last pick of the state (values.size()): no medical track at all.
        const size_t state = pick[read.size()], outcome = pick[read.size() + 1];
        if (state < values.size()) {
          children.push_back(
              LinkedCase{"A-3", "medical", Status::kActive, values[state], values[outcome]});
        } else {
          children.erase(children.begin());
        }
      }
      EvalContext context = c.context();
      context.children = &children;
      INFO(text << " with " << [&] {
        std::string seen;
        for (size_t i = 0; i < read.size(); ++i)
          seen += fields()[read[i]].id + "=" + format_value(values[pick[i]]) + " ";
        for (const LinkedCase& child : children) {
          seen += child.sop_id + ":" + format_value(child.state) + "/" +
                  format_value(child.outcome) + " ";
        }
        return seen;
      }());
      REQUIRE(guard_holds(*fast, context) == guard_holds(general, context));
      // Next combination; a track's state has one pick more (no track).
      size_t i = 0;
      auto picks = [&](size_t k) { return values.size() + (k == read.size() ? 1 : 0); };
      while (i < pick.size() && ++pick[i] == picks(i)) pick[i++] = 0;
      if (i == pick.size()) break;
    }
  }
  // Not vacuous: the shapes meant to be shortcut are marked.
  CHECK(marked == 31);
}
