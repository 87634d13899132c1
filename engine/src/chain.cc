// The hash chain over the transition log: log kinds as text, the canonical
// encoding of a log row, and the chained hash. docs/SCHEMA.md describes the
// encoding byte for byte so an auditor can recompute it independently.
#include <string>
#include <string_view>

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
  out += std::to_string(field.size());
  out += ':';
  out.append(field.data(), field.size());
}

void put_int(std::string& out, int64_t value) { put(out, std::to_string(value)); }
void put_flag(std::string& out, bool value) { put(out, value ? "1" : "0"); }

// A personal (`pii`) value enters with its salt and digest only, so erasing
// its text later leaves every hash verifiable.
void put_value(std::string& out, const StoredValue& value) {
  put(out, value.field);
  put_flag(out, value.missing);
  put_flag(out, value.pii);
  if (value.pii) {
    put(out, value.salt);
    put(out, value.digest);
  } else {
    put(out, value.text);
  }
}

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

std::string canonical_encoding(const LogEntry& entry) {
  std::string out;
  out.reserve(512);
  put(out, kEncodingTag);
  put(out, entry.case_id);
  put_int(out, entry.case_seq);
  put(out, entry.sha256);
  put(out, to_string(entry.kind));
  put(out, entry.event);
  put(out, entry.from_state);
  put(out, entry.to_state);
  put(out, entry.from_status);
  put(out, entry.to_status);
  put(out, entry.actor);
  put(out, entry.role);
  put_int(out, entry.occurred_at.seconds);
  put_int(out, entry.recorded_at.seconds);
  put(out, entry.note);
  put(out, entry.reason);
  put_int(out, static_cast<int64_t>(entry.inputs.size()));
  for (const auto& [name, value] : entry.inputs) {
    put(out, name);
    put(out, value);
  }
  put_int(out, static_cast<int64_t>(entry.changes.size()));
  for (const auto& change : entry.changes) {
    put_value(out, change.before);
    put_value(out, change.after);
  }
  // A due time is present ("1") with its seconds, or absent ("0").
  put_flag(out, entry.due_at.has_value());
  if (entry.due_at) put_int(out, entry.due_at->seconds);
  return out;
}

std::string chain_hash(const std::string& prev_hash, const LogEntry& entry) {
  Sha256 hash;
  hash.update(prev_hash);
  hash.update(canonical_encoding(entry));
  return hash.hex_digest();
}

}  // namespace sopir
