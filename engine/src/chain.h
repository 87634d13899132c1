// The canonical encoding over a transitions row's columns as stored
// (internal). canonical_encoding(LogEntry) serializes inputs and changes with
// log_json and calls encode_columns; the store's scan_chain calls it straight
// on the stored columns, so both give the same bytes for the same row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sopir/store.h"

namespace sopir {

// One transitions row's hashed columns, as stored.
struct LogColumns {
  std::string_view case_id;
  int64_t case_seq = 0;
  std::string_view sha256, kind, event, from_state, to_state, from_status, to_status, actor, role;
  int64_t occurred_at = 0, recorded_at = 0;
  std::string_view note, reason;
  std::string_view inputs, changes;  // the JSON text exactly as stored
  std::optional<int64_t> due_at;
  std::string_view linked_case;
};

// The columns of a log entry, with `inputs` and `changes` already written as
// their stored JSON (log_json.h). The views point into `entry` and the two
// strings, which must outlive the result.
LogColumns columns_of(const LogEntry& entry, const std::string& inputs, const std::string& changes);

// Appends the canonical bytes of `row` to `out` (docs/SCHEMA.md).
void encode_columns(const LogColumns& row, std::string& out);

}  // namespace sopir
