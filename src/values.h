// Field values in what the CLI prints: labels and words for people (by
// --lang), ids for JSON (sets as arrays).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir::cli {

// The field `id` of `p`, or null (a field of another version, say).
const FieldDef* find_field(const Procedure& p, const std::string& id);

// `v` as a person reads it in `lang` (display_value in sopir/display.h);
// the stored text when the field is unknown.
std::string shown_value(const Procedure& p, const StoredValue& v, const std::string& lang);

// `v` in JSON output: null when missing, a set as an array of its
// ids, anything else as its stored text.
nlohmann::json value_json(const Procedure& p, const StoredValue& v);

// One step of a case's log in JSON output (`case history --json`, the
// steps of `case export-personal`): its values through value_json().
nlohmann::json history_entry_json(const Procedure& p, const LogEntry& e);

}  // namespace sopir::cli
