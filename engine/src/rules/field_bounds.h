// A value against its field's bounds and pattern (internal to the engine):
// decide() checks inputs with it, the migration planner the values a case
// carries into a new version, the scenario writer its example values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sopir/procedure.h"

namespace sopir {

// Whether `text` matches the field's pattern (which it must have), by the
// pattern compiled with the procedure, else compiled for this call; throws
// std::regex_error for a pattern std::regex refuses.
bool pattern_matches(const FieldDef& field, std::string_view text);

// Which bound a value breaks, if any; found without writing a message.
enum class BoundsProblem { kNone, kMinLength, kMaxLength, kPattern, kMinValue, kMaxValue };
// `at`: the time of the step giving the value, which a `today` or `now`
// bound (FieldDef::min_now, max_now) stands for; nullopt where there is no
// step (a lint of `set:` constants, a migration plan): only the fixed
// bounds are checked then.
BoundsProblem bounds_problem(const FieldDef& field, const Value& value, std::optional<DateTime> at);

// bounds_problem() for a text of a string field. `plain`: the caller found
// the text plain ASCII (plain_ascii()), so its length is its size and is not
// counted again.
BoundsProblem text_bounds_problem(const FieldDef& field, std::string_view text, bool plain = false);

// Whether a value of the field's own type has no bound nor pattern to be
// checked against, by its checks worked out with the procedure: then
// bounds_problem() says kNone, and need not be asked.
inline bool unbounded(const FieldDef& field) { return field.checks.built && !field.checks.bounded; }

// What a `today` (date field) or `now` (date-time field) min or max stands
// for in a step at `at`. `now` is `at`. `today` is lenient by the date line,
// since sopir keeps times in UTC and staff give the date where they are: as
// a max, the date at `at` in UTC+14 (no place's today is later); as a min,
// in UTC-12 (none is earlier). So a step's local date always passes, and a
// date a day off may pass for some hours.
Value relative_bound(const FieldDef& field, DateTime at, bool max);

// "" when `value` (of the field's type) is within the field's min/max (for a
// string: its length) and matches its pattern; else why not, in `lang`.
std::string check_bounds(const FieldDef& field, const Value& value, std::string_view lang,
                         std::optional<DateTime> at);

}  // namespace sopir
