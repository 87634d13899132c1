// The hash chain over the transition log: log kinds as text, the canonical
// encoding of a log row (over its columns as stored), and the chained hash. docs/SCHEMA.md describes the
// encoding byte for byte so an auditor can recompute it independently.
#include <charconv>
#include <string>
#include <string_view>

#include "chain.h"
#include "log_json.h"
#include "sha256.h"
#include "sopir/store.h"

namespace sopir {

namespace {

constexpr const char* kLogKindNames[] = {"open", "procedure", "override", "lifecycle", "timer"};

// The encoding's version tag: the first field of every encoded row.
constexpr std::string_view kEncodingTag = "sopir-log-v1";

// Appends one field as "<decimal byte length>:<bytes>". Length prefixes make
// the encoding unambiguous whatever bytes the fields hold.
void put(std::string& out, std::string_view field) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, field.size()).ptr;
  out.append(digits, end);
  out += ':';
  out.append(field.data(), field.size());
}

void put_int(std::string& out, int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  put(out, std::string_view(digits, static_cast<size_t>(end - digits)));
}

void put_flag(std::string& out, bool value) { put(out, value ? "1" : "0"); }

}  // namespace

const char* to_string(LogKind kind) {
  const auto index = static_cast<size_t>(kind);
  return index < std::size(kLogKindNames) ? kLogKindNames[index] : "unknown";
}

std::optional<LogKind> log_kind_from_string(std::string_view text) {
  for (size_t i = 0; i < std::size(kLogKindNames); ++i) {
    if (text == kLogKindNames[i]) return static_cast<LogKind>(i);
  }
  return std::nullopt;
}

void encode_columns(const LogColumns& row, std::string& out) {
  put(out, kEncodingTag);
  put(out, row.case_id);
  put_int(out, row.case_seq);
  put(out, row.sha256);
  put(out, row.kind);
  put(out, row.event);
  put(out, row.from_state);
  put(out, row.to_state);
  put(out, row.from_status);
  put(out, row.to_status);
  put(out, row.actor);
  put(out, row.role);
  put_int(out, row.occurred_at);
  put_int(out, row.recorded_at);
  put(out, row.note);
  put(out, row.reason);
  put(out, row.inputs);
  put(out, row.changes);
  // A due time is present ("1") with its seconds, or absent ("0").
  put_flag(out, row.due_at.has_value());
  if (row.due_at) put_int(out, *row.due_at);
  put(out, row.linked_case);
}

LogColumns columns_of(const LogEntry& entry, const std::string& inputs, const std::string& changes) {
  LogColumns row;
  row.case_id = entry.case_id;
  row.case_seq = entry.case_seq;
  row.sha256 = entry.sha256;
  row.kind = to_string(entry.kind);
  row.event = entry.event;
  row.from_state = entry.from_state;
  row.to_state = entry.to_state;
  row.from_status = entry.from_status;
  row.to_status = entry.to_status;
  row.actor = entry.actor;
  row.role = entry.role;
  row.occurred_at = entry.occurred_at.seconds;
  row.recorded_at = entry.recorded_at.seconds;
  row.note = entry.note;
  row.reason = entry.reason;
  row.inputs = inputs;
  row.changes = changes;
  if (entry.due_at) row.due_at = entry.due_at->seconds;
  row.linked_case = entry.linked_case;
  return row;
}

std::string canonical_encoding(const LogEntry& entry) {
  const std::string inputs = log_json::inputs(entry.inputs);
  const std::string changes = log_json::changes(entry.changes);
  const LogColumns row = columns_of(entry, inputs, changes);
  std::string out;
  out.reserve(256 + inputs.size() + changes.size() + entry.note.size() + entry.reason.size());
  encode_columns(row, out);
  return out;
}

std::string chain_hash(const std::string& prev_hash, const LogEntry& entry) {
  Sha256 hash;
  hash.update(prev_hash);
  hash.update(canonical_encoding(entry));
  return hash.hex_digest();
}

}  // namespace sopir
