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

BoundsProblem bounds_problem(const FieldDef& field, const Value& value) {
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
  return BoundsProblem::kNone;
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
