// The JSON text the store writes into transitions.inputs,
// transitions.changes and cases.data (internal).
//
// One deterministic serializer, used both by the store when it writes a row
// and by canonical_encoding(LogEntry): the hash chain covers these exact
// bytes, so a row can be verified from its stored columns without decoding
// them. Keys come in a fixed order; strings escape only '"', '\\' and control
// characters (\b \f \n \r \t, others \u00XX); other bytes pass through as
// they are. Personal (`pii`) values carry salt and digest only, never text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/store.h"

namespace sopir::log_json {

// [["name","text"],...]
std::string inputs(const std::vector<std::pair<std::string, std::string>>& inputs);
// [{"before":VALUE,"after":VALUE},...]
std::string changes(const std::vector<LogEntry::Change>& changes);
// [VALUE,...] (cases.data)
std::string values(const std::vector<StoredValue>& values);
// VALUE: {"field":F,"missing":B,"text":T} or, for pii,
// {"field":F,"missing":B,"pii":true,"salt":S,"digest":D}.
void append_value(std::string& out, const StoredValue& value);

// Whether `text` is valid UTF-8 (the JSON the store reads back must be).
bool valid_utf8(std::string_view text);

}  // namespace sopir::log_json
