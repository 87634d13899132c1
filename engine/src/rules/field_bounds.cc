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

// bounds_problem() by the field's checks.
BoundsProblem value_problem(const FieldDef& field, const FieldChecks& checks, const Value& value) {
  if (checks.built && of_field_type(field, value)) {
    if (!checks.bounded) return BoundsProblem::kNone;
    if (field.type == Type::kString) return text_problem(field, checks, std::get<std::string>(value), false);
    const int64_t number = *ordered_number(field.type, value);
    if (number < checks.low) return BoundsProblem::kMinValue;
    if (number > checks.high) return BoundsProblem::kMaxValue;
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
[[gnu::noinline]] BoundsProblem unbuilt_problem(const FieldDef& field, const Value* value, std::string_view text,
                                                bool plain) {
  const FieldChecks checks = field_checks(field);
  return value ? value_problem(field, checks, *value) : text_problem(field, checks, text, plain);
}

}  // namespace

BoundsProblem text_bounds_problem(const FieldDef& field, std::string_view text, bool plain) {
  if (!field.checks.built) return unbuilt_problem(field, nullptr, text, plain);
  return text_problem(field, field.checks, text, plain);
}

BoundsProblem bounds_problem(const FieldDef& field, const Value& value) {
  if (!field.checks.built) return unbuilt_problem(field, &value, {}, false);
  return value_problem(field, field.checks, value);
}

std::string check_bounds(const FieldDef& field, const Value& value, std::string_view lang) {
  switch (bounds_problem(field, value)) {
    case BoundsProblem::kNone: return "";
    case BoundsProblem::kMinLength:
      return tr(msg::rules_min_length, lang, {std::to_string(std::get<int64_t>(*field.min))});
    case BoundsProblem::kMaxLength:
      return tr(msg::rules_max_length, lang, {std::to_string(std::get<int64_t>(*field.max))});
    case BoundsProblem::kPattern: return tr(msg::rules_pattern, lang, {*field.pattern});
    case BoundsProblem::kMinValue: return tr(msg::rules_min_value, lang, {format_value(*field.min)});
    case BoundsProblem::kMaxValue: return tr(msg::rules_max_value, lang, {format_value(*field.max)});
  }
  return "";
}

}  // namespace sopir
