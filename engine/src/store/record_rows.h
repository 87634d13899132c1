// What every store does to a log row around the SQL: the checks before a
// row is written (personal values carry digests, text is UTF-8), the record
// and its chained hash, and reading a record back (the fast reader for the
// layout log_json writes, general JSON for anything else). Shared by the
// SQLite and PostgreSQL stores so both write and read the same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/store.h"

namespace sopir::record_rows {

// Personal text to store beside a row: (digest, text).
using PersonalTexts = std::vector<std::pair<std::string, std::string>>;

// kUsage unless `text` is valid UTF-8 (what: "the note", ...).
void check_utf8(std::string_view text, const std::string& what);
// Checks a value before it is written (kUsage: a personal value without a
// digest, text that is not UTF-8). A personal value's text goes to `texts`
// (the personal_text table), so it can be erased.
void prepare_value(const StoredValue& value, PersonalTexts* texts);
// Checks each of `values` as prepare_value does (the same refusal for the
// first at fault) and returns their JSON (log_json::values, cases.data).
std::string prepare_values(const std::vector<StoredValue>& values, PersonalTexts* texts);
// Checks a log row before it is written and returns its record
// (log_json::record); personal texts of its changes go to `texts`.
std::string prepare_entry(const LogEntry& entry, PersonalTexts* texts);
// hex(SHA-256(prev_hash || record)).
std::string hash(std::string_view prev_hash, std::string_view record);

// Whether a record holds personal values ("pii":true).
bool has_personal(std::string_view record);
// The case id and step number at the head of a record as log_json::record
// writes it; false for anything else (the caller then decodes the JSON).
bool record_head(std::string_view record, std::string_view& case_id, int64_t& case_seq);

// Looks up a personal value's text by digest into value.text, or sets
// value.erased when it is gone. Called for pii values that are not missing.
using PersonalLookup = std::function<void(StoredValue& value)>;

// A stored value from its JSON (cases.data, a change's before/after);
// personal values get their text through `lookup`.
StoredValue value_from_json(const nlohmann::json& j, const PersonalLookup& lookup);
// A case row's values (cases.data): the fast reader for the layout
// log_json::values writes, general JSON for anything else; personal values
// get their text through `lookup`. Throws nlohmann::json exceptions for
// damaged JSON.
std::vector<StoredValue> read_values(std::string_view text, const PersonalLookup& lookup);
// A checkpoint row's claim, when `record` holds one (docs/SCHEMA.md).
std::optional<Checkpoint> checkpoint_of(std::string_view record);
// A log row from its stored record: the fast reader, or general JSON.
// Sets every field but seq, prev_hash and hash. A record not in sopir's
// shape (not JSON, a key missing or of another kind, an unknown kind)
// throws damaged_record (kStorage, Error::damaged_row()), its message
// naming the first key at fault in sopir's words.
LogEntry read_record(std::string_view record, int64_t seq, const PersonalLookup& lookup);
// The personal values (with text through `lookup`) of a record's changes,
// for scan_chain's slow path; sets case_id/case_seq from the JSON (empty and
// 0 when unreadable). Never throws for a record not in sopir's shape.
void chain_row_details(std::string_view record, std::string& case_id, int64_t& case_seq,
                       std::vector<StoredValue>& personal, const PersonalLookup& lookup);

}  // namespace sopir::record_rows

namespace sopir::record_rows {

// The values a store assigns into a LogEntry, put back when a write fails.
struct Assigned {
  explicit Assigned(const LogEntry& e) : seq(e.seq), case_seq(e.case_seq), prev(e.prev_hash), hash(e.hash) {}
  void restore(LogEntry& e) const {
    e.seq = seq;
    e.case_seq = case_seq;
    e.prev_hash = prev;
    e.hash = hash;
  }
  int64_t seq, case_seq;
  std::string prev, hash;
};

// kUsage unless `entry` is a registry row: no case, a registry kind.
void check_registry_row(const LogEntry& entry);

// Sets entry.case_id to record.id when empty; kUsage when they differ.
void claim_case_id(const CaseRecord& record, LogEntry& entry);

// One row of a log scan: `read` decodes it, `visit` takes it. With
// filter.damaged set, a row that is not a record sopir writes goes there and
// the scan reads on (true); else its error stops the scan. Both stores'
// scan_log take each row through this.
template <class Read, class Visit>
bool visit_log_row(const LogFilter& filter, Read&& read, Visit&& visit) {
  if (!filter.damaged) return visit(read());
  std::optional<LogEntry> entry;
  try {
    entry = read();
  } catch (const Error& e) {
    if (!e.damaged_row()) throw;
    (*filter.damaged)(e);
    return true;
  }
  return visit(*entry);
}

}  // namespace sopir::record_rows
