// Personal data: who may see it, and what everyone else sees instead.
//
// A procedure marks fields `pii` and names the roles that may see them
// (pii_visible_to). The engine (Engine::show, Engine::history) and the audit
// exports show personal values through these functions only, and record
// each access before anything is shown.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sopir/case.h"
#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir {

// What stands in for a personal value the reader may not see.
inline constexpr char kMaskedValue[] = "***";
// What stands in for a personal value erased on request, to a reader who
// may see personal data.
inline constexpr char kErasedValue[] = "(erased)";
// What stands in for an encrypted personal value this process holds no key
// for (a member whose passphrase was set before the data was encrypted).
inline constexpr char kLockedValue[] = "(encrypted)";
// What stands in for a personal value whose sealed text does not open
// (StoredValue::damaged; audit verify names it).
inline constexpr char kDamagedValue[] = "(damaged)";

// Whether `actor` has one of the roles in the procedure's pii_visible_to.
bool may_see_personal_data(const Procedure& procedure, const Actor& actor);

// A stored value as its reader sees it: "" when missing; the text of a value
// that is not personal, or of a personal one when `reveal`; kErasedValue for
// an erased personal value (whoever reads it); kLockedValue for a locked one
// (kDamagedValue for a damaged one) when `reveal`; kMaskedValue otherwise.
std::string shown_value(const StoredValue& value, bool reveal);

// `value` with its text replaced by shown_value(value, reveal) and, unless
// revealed, its salt and digest cleared.
StoredValue as_shown(StoredValue value, bool reveal);

// What the log keeps for a personal input (LogEntry::inputs): its value
// enters the log only as the salted change of the field.
inline constexpr char kPersonalInput[] = "<pii>";

// The row's inputs as its reader sees them: a kPersonalInput is the
// field's new value when `reveal` (shown_value), kMaskedValue otherwise.
std::vector<std::pair<std::string, std::string>> shown_inputs(const LogEntry& entry, bool reveal);

// Whether the record or the log row holds a personal value that is present
// and not erased: what a reveal would show.
bool holds_personal_data(const CaseRecord& record);
bool holds_personal_data(const LogEntry& entry);

}  // namespace sopir
