// The JSON text the store writes: a log row's `record` (transitions.record,
// the bytes the hash chain covers) and cases.data (internal).
//
// One deterministic serializer. Keys come in a fixed order; strings escape
// only '"', '\\' and control characters (\b \f \n \r \t, others \u00XX);
// other bytes pass through as they are, so callers pass valid UTF-8.
// Personal (`pii`) values carry salt and digest only, never text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/store.h"

namespace sopir::log_json {

// {"case_id":..,"case_seq":..,"sha256":..,"kind":..,"event":..,
//  "from_state":..,"to_state":..,"from_status":..,"to_status":..,"actor":..,
//  "role":..,"occurred_at":SECONDS,"recorded_at":SECONDS,"note":..,
//  "reason":..,"inputs":INPUTS,"changes":CHANGES,"due_at":SECONDS|null,
//  "linked_case":..[,"site":..][,"checkpoint":{"upto_seq":N,"chains":N,"root":..}]}:
// every LogEntry field but seq, prev_hash and hash; "site" only when set
// (open and transfer rows), "checkpoint" only on checkpoint rows.
std::string record(const LogEntry& entry);
// Reads a record in exactly the layout record() writes into `entry` (all
// fields but seq, prev_hash, hash; personal values with salt and digest,
// their text left empty). False for any other text, valid JSON or not: the
// caller then decodes it as general JSON. A fast path for reading the log:
// when it returns true, record(entry) gives back `text` byte for byte.
bool read_record(std::string_view text, LogEntry& entry);
// [["name","text"],...]
std::string inputs(const std::vector<std::pair<std::string, std::string>>& inputs);
// [{"before":VALUE,"after":VALUE},...]
std::string changes(const std::vector<LogEntry::Change>& changes);
// [VALUE,...] (cases.data)
std::string values(const std::vector<StoredValue>& values);
// Reads [VALUE,...] in exactly the layout values() writes into `out`
// (personal values with salt and digest, their text left empty). False for
// any other text: the caller then decodes it as general JSON. When it
// returns true, values(out) gives back `text` byte for byte.
bool read_values(std::string_view text, std::vector<StoredValue>& out);
// VALUE: {"field":F,"missing":B,"text":T} or, for pii,
// {"field":F,"missing":B,"pii":true,"salt":S,"digest":D}.
void append_value(std::string& out, const StoredValue& value);

}  // namespace sopir::log_json
