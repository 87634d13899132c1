// The text of a state's `deadline:` (internal to the loader).
//
//   7d | 1d12h | 90 days | 2 weeks    a duration from entering the state
//   10 working days                   working days on the procedure's calendar
//   <either> from FIELD               counted from a date field's day instead
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/source_text.h"
#include "sopir/procedure.h"

namespace sopir {

struct DeadlineSpec {
  std::optional<Duration> duration;  // unset for working days
  int64_t working_days = 0;
  std::string from;                  // the anchor field as written, or ""
  size_t from_offset = 0;            // where it starts in the text
};

// Null when the text is none of the forms above (the field is not looked up).
std::optional<DeadlineSpec> parse_deadline_spec(std::string_view text);

// Where the anchor's name sits in the file, given where the scalar starts.
SourcePos deadline_anchor_pos(const SourceText& source, SourcePos scalar, std::string_view text,
                              size_t offset);

}  // namespace sopir
