// A value against its field's bounds and pattern (internal to rules/):
// decide() checks inputs with it, the migration planner the values a case
// carries into a new version.
#pragma once

#include <string>
#include <string_view>

#include "sopir/procedure.h"

namespace sopir {

// Which bound a value breaks, if any; found without writing a message.
enum class BoundsProblem { kNone, kMinLength, kMaxLength, kPattern, kMinValue, kMaxValue };
BoundsProblem bounds_problem(const FieldDef& field, const Value& value);

// "" when `value` (of the field's type) is within the field's min/max (for a
// string: its length) and matches its pattern; else why not, in `lang`.
std::string check_bounds(const FieldDef& field, const Value& value, std::string_view lang);

}  // namespace sopir
