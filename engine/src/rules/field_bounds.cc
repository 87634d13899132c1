// Field bounds: the check (bounds_problem) and its sentence (check_bounds)
// from one reading of the field's min, max and pattern.
#include "rules/field_bounds.h"

#include <map>
#include <regex>

#include "sopir/messages/rules.h"

namespace sopir {
namespace {

bool matches_pattern(const std::string& pattern, const std::string& text) {
  // Patterns come from an immutable procedure; compile each once per thread.
  thread_local std::map<std::string, std::regex> cache;
  auto it = cache.find(pattern);
  if (it == cache.end()) it = cache.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
  return std::regex_match(text, it->second);
}

}  // namespace

BoundsProblem bounds_problem(const FieldDef& field, const Value& value) {
  if (const auto* text = std::get_if<std::string>(&value); text && field.type == Type::kString) {
    const auto* min = field.min ? std::get_if<int64_t>(&*field.min) : nullptr;
    const auto* max = field.max ? std::get_if<int64_t>(&*field.max) : nullptr;
    if (min || max) {
      const int64_t length = text_length(*text);
      if (min && length < *min) return BoundsProblem::kMinLength;
      if (max && length > *max) return BoundsProblem::kMaxLength;
    }
    if (field.pattern && !matches_pattern(*field.pattern, *text)) return BoundsProblem::kPattern;
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
