// How field values read to a person: enum and set values by their labels,
// booleans as words, in the language asked for ("en" or "id"). Tables, the
// shell, reports and diagrams use these; JSON and CSV exports keep the ids
// and canonical text (value.h).
#pragma once

#include <string>
#include <string_view>

#include "sopir/procedure.h"

namespace sopir {

// The label of enum (or set) value `id` of `field` in `lang` (Text::get);
// the id itself when it has none or is not a value of the field.
std::string value_label(const FieldDef& field, std::string_view id, std::string_view lang);

// "yes"/"no" in English, "ya"/"tidak" in Indonesian.
std::string bool_word(bool value, std::string_view lang);

// A stored value (canonical text, value.h) as a person reads it: an enum
// value's label; a set's member labels joined by ", " ("none" / "tidak
// ada" for the empty set); a bool as bool_word(); any other type, and text
// that is not a value of the field (a mask such as "***"), unchanged.
std::string display_value(const FieldDef& field, std::string_view stored, std::string_view lang);

}  // namespace sopir
