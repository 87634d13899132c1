// Fuzzes the expression language: any bytes are parsed against a fixed set
// of fields (one of each type) for every target type; whatever parses is
// evaluated over several cases (empty, typical, extreme and wrongly typed
// values), explained, and printed. Invariants checked beyond "no crash":
// the canonical text parses back to the same canonical text, guard_holds
// agrees with evaluate_guard, a false guard has an explanation, pii
// values never appear in one, and messages are printable UTF-8.
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "lang/expr/expr.h"
#include "lang/expr/syntax.h"
#include "sopir/value.h"

namespace {

using namespace sopir;

constexpr const char* kSecret = "Secret Person Name";

FieldDef make_field(const char* id, Type type, std::vector<std::string> values = {},
                    bool pii = false) {
  FieldDef f;
  f.id = id;
  f.type = type;
  f.values = std::move(values);
  f.pii = pii;
  return f;
}

const std::vector<FieldDef>& fields() {
  static const std::vector<FieldDef> kFields = {
      make_field("age", Type::kInt),
      make_field("category", Type::kEnum, {"overstay", "illegal_entry", "drugs"}),
      make_field("risk", Type::kEnum, {"low", "medium", "high", "drugs"}),
      make_field("consent_date", Type::kDate),
      make_field("arrived_at", Type::kDateTime),
      make_field("stay_limit", Type::kDuration),
      make_field("full_name", Type::kString, {}, true),
      make_field("note", Type::kString),
      make_field("consented", Type::kBool),
  };
  return kFields;
}

std::vector<std::vector<Value>> cases() {
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  // Dates at +-2^62 days: far beyond any real case, but within what
  // format_date can print (it overflows near +-2^63).
  const int64_t date_lo = lo / 2, date_hi = hi / 2;
  return {
      std::vector<Value>(fields().size()),
      {int64_t{16}, std::string("drugs"), std::string("low"), Date{20500}, DateTime{1772000000},
       Duration{86400}, std::string(kSecret), std::string("it's"), true},
      {lo, std::string("overstay"), std::string("high"), Date{date_lo}, DateTime{lo}, Duration{hi},
       std::string(kSecret), std::string("\xff\xfe\0", 3), false},
      {hi, std::string(""), std::string("bogus"), Date{date_hi}, DateTime{hi}, Duration{lo},
       std::string(kSecret), std::string(), false},
      // wrong alternatives in every slot
      {std::string("x"), int64_t{1}, true, DateTime{5}, Date{5}, int64_t{3}, int64_t{7}, Date{1},
       std::string("yes")},
  };
}

void check(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void exercise(const Expr& expr, Type target, const std::vector<std::string>& target_enum) {
  const std::string canonical = to_string(expr, fields());
  ParsedExpr again = parse_expr(canonical, fields(), target, target_enum);
  if (!again.expr) fprintf(stderr, "canonical text does not parse: %s\n", canonical.c_str());
  check(again.expr != nullptr, "canonical text parses");
  check(to_string(*again.expr, fields()) == canonical, "canonical text is a fixed point");
  for (int index : fields_read(expr)) {
    check(index >= 0 && static_cast<size_t>(index) < fields().size(), "fields_read in range");
  }
  static const std::vector<std::vector<Value>> kCases = cases();
  static const DateTime kNows[] = {DateTime{1773129600}, DateTime{0},
                                   DateTime{std::numeric_limits<int64_t>::min()},
                                   DateTime{std::numeric_limits<int64_t>::max()}};
  for (const auto& values : kCases) {
    for (DateTime now : kNows) {
      EvalContext context{&values, now, nullptr, {}};
      Value v = evaluate(expr, context);
      (void)format_value(v);
      if (target != Type::kBool) continue;
      const bool fast = guard_holds(expr, context);
      GuardResult slow = evaluate_guard(expr, fields(), context);
      check(fast == slow.value, "guard_holds agrees with evaluate_guard");
      check(slow.value == slow.explanation.empty(), "a false guard is explained");
      check(slow.explanation.find(kSecret) == std::string::npos, "pii stays out of explanations");
      check(printable(slow.explanation) == slow.explanation, "explanations are printable UTF-8");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::string> kStatuses = {"ok", "needs_review", "drugs"};
  static const Type kTargets[] = {Type::kBool,     Type::kInt,  Type::kString,  Type::kDate,
                                  Type::kDateTime, Type::kEnum, Type::kDuration};
  for (Type target : kTargets) {
    const std::vector<std::string>& target_enum =
        target == Type::kEnum ? kStatuses : std::vector<std::string>{};
    ParsedExpr parsed = parse_expr(text, fields(), target, target_enum);
    check((parsed.expr != nullptr) == parsed.errors.empty(), "an expression or errors, not both");
    for (const ExprError& e : parsed.errors) {
      check(e.offset <= size, "error offsets inside the text");
      check(!e.message.empty(), "errors have messages");
      check(printable(e.message) == e.message, "error messages are printable UTF-8");
    }
    if (parsed.expr) exercise(*parsed.expr, target, target_enum);
  }
  return 0;
}
