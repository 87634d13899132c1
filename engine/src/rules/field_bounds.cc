// Field bounds: the check (bounds_problem) and its sentence (check_bounds)
// from one reading of the field's min, max and pattern.
#include "rules/field_bounds.h"

#include "base/pattern.h"
#include "sopir/messages/rules.h"

namespace sopir {

bool pattern_matches(const FieldDef& field, std::string_view text) {
  if (field.compiled_pattern) return field.compiled_pattern->matches(text);
  return CompiledPattern(*field.pattern).matches(text);  // a procedure not built: compiled for this check
}

namespace {

// Whether `value` holds the alternative of the field's type.
bool of_field_type(const FieldDef& field, const Value& value) {
  switch (field.type) {
    case Type::kString:
    case Type::kEnum:
    case Type::kSet: return std::holds_alternative<std::string>(value);
    case Type::kBool: return std::holds_alternative<bool>(value);
    default: return ordered_number(field.type, value).has_value();
  }
}

// text_bounds_problem() by the field's checks (a string field's are always
// worked out).
BoundsProblem text_problem(const FieldDef& field, const FieldChecks& checks, std::string_view text, bool plain) {
  // A text has at most as many characters as bytes: when the bytes alone
  // settle both bounds, the characters are not counted.
  const auto size = static_cast<int64_t>(text.size());
  if (checks.low > 0 || checks.high < size) {
    const int64_t length = plain ? size : text_length(text);
    if (length < checks.low) return BoundsProblem::kMinLength;
    if (length > checks.high) return BoundsProblem::kMaxLength;
  }
  if (field.pattern && !pattern_matches(field, text)) return BoundsProblem::kPattern;
  return BoundsProblem::kNone;
}

// The number a `today` (date) or `now` (date-time) bound stands for at `at`.
int64_t now_bound(const FieldDef& field, DateTime at, bool max) {
  return *ordered_number(field.type, relative_bound(field, at, max));
}

// bounds_problem() by the field's checks.
BoundsProblem value_problem(const FieldDef& field, const FieldChecks& checks, const Value& value,
                            std::optional<DateTime> at) {
  if (checks.built && of_field_type(field, value)) {
    if (!checks.bounded) return BoundsProblem::kNone;
    if (field.type == Type::kString) return text_problem(field, checks, std::get<std::string>(value), false);
    const int64_t number = *ordered_number(field.type, value);
    if (number < checks.low) return BoundsProblem::kMinValue;
    if (number > checks.high) return BoundsProblem::kMaxValue;
    if (checks.relative && at) {
      if (field.min_now && number < now_bound(field, *at, false)) return BoundsProblem::kMinValue;
      if (field.max_now && number > now_bound(field, *at, true)) return BoundsProblem::kMaxValue;
    }
    return BoundsProblem::kNone;
  }
  // A value of another type than its field's, or an enum's bounds as text:
  // compared as compare_values() orders them.
  if (field.min && compare_values(value, *field.min).value_or(0) < 0) return BoundsProblem::kMinValue;
  if (field.max && compare_values(value, *field.max).value_or(0) > 0) return BoundsProblem::kMaxValue;
  return BoundsProblem::kNone;
}

// A field not built: its checks worked out for this check. Out of line, so
// that the two below keep no registers for it.
[[gnu::noinline]] BoundsProblem unbuilt_problem(const FieldDef& field, const Value* value,
                                                std::string_view text, bool plain,
                                                std::optional<DateTime> at) {
  const FieldChecks checks = field_checks(field);
  return value ? value_problem(field, checks, *value, at)
               : text_problem(field, checks, text, plain);
}

// A bound as a sentence shows it: the value, or "today (2026-03-10)".
std::string bound_text(const FieldDef& field, const std::optional<Value>& bound, bool now,
                       std::string_view lang, DateTime at, bool max) {
  if (!now || bound) return format_value(*bound);
  const auto id = field.type != Type::kDate ? msg::rules_bound_now
                  : max                     ? msg::rules_bound_today_max
                                            : msg::rules_bound_today_min;
  return tr(id, lang, {format_value(relative_bound(field, at, max))});
}

}  // namespace

Value relative_bound(const FieldDef& field, DateTime at, bool max) {
  if (field.type != Type::kDate) return at;
  // The step's date wherever it is taken: UTC+14 is the first zone to reach
  // a date, UTC-12 the last to leave it.
  constexpr int64_t kEarliestZone = 14 * 3600, kLatestZone = -12 * 3600;
  int64_t seconds;
  if (__builtin_add_overflow(at.seconds, max ? kEarliestZone : kLatestZone, &seconds))
    seconds = max ? INT64_MAX : INT64_MIN;
  return date_of(DateTime{seconds});
}

BoundsProblem text_bounds_problem(const FieldDef& field, std::string_view text, bool plain) {
  if (!field.checks.built) return unbuilt_problem(field, nullptr, text, plain, std::nullopt);
  return text_problem(field, field.checks, text, plain);
}

BoundsProblem bounds_problem(const FieldDef& field, const Value& value,
                             std::optional<DateTime> at) {
  if (!field.checks.built) return unbuilt_problem(field, &value, {}, false, at);
  return value_problem(field, field.checks, value, at);
}

std::string check_bounds(const FieldDef& field, const Value& value, std::string_view lang,
                         std::optional<DateTime> at) {
  switch (bounds_problem(field, value, at)) {
    case BoundsProblem::kNone: return "";
    case BoundsProblem::kMinLength:
      return tr(msg::rules_min_length, lang, {std::to_string(std::get<int64_t>(*field.min))});
    case BoundsProblem::kMaxLength:
      return tr(msg::rules_max_length, lang, {std::to_string(std::get<int64_t>(*field.max))});
    case BoundsProblem::kPattern: return tr(msg::rules_pattern, lang, {*field.pattern});
    case BoundsProblem::kMinValue:
      return tr(
          msg::rules_min_value, lang,
          {bound_text(field, field.min, field.min_now, lang, at.value_or(DateTime{}), false)});
    case BoundsProblem::kMaxValue:
      return tr(msg::rules_max_value, lang,
                {bound_text(field, field.max, field.max_now, lang, at.value_or(DateTime{}), true)});
  }
  return "";
}

}  // namespace sopir
