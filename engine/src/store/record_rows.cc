// Log rows around the SQL, shared by the stores (record_rows.h).
#include "store/record_rows.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "sopir/error.h"
#include "store/log_json.h"
#include "sopir/messages/store.h"
#include "sopir/text.h"

namespace sopir::record_rows {

using json = nlohmann::json;

void check_utf8(std::string_view text, const std::string& what) {
  if (!valid_utf8(text))
    throw usage_error(tr(msg::store_not_utf8, {what}));
}

void prepare_value(const StoredValue& value, PersonalTexts* texts) {
  if (value.pii && !value.missing && value.digest.empty())
    throw usage_error(tr(msg::store_internal, {"personal value of field '" + value.field +
                                               "' has no digest: salt and hash it before storing it"}));
  check_utf8(value.field, tr(msg::store_a_field_name));
  if (value.pii) {
    check_utf8(value.salt, "the salt of field " + value.field);
    check_utf8(value.digest, "the digest of field " + value.field);
    if (!value.missing && !value.erased && !value.locked) texts->emplace_back(value.digest, value.text);
  } else {
    check_utf8(value.text, "the value of field " + value.field);
  }
}

namespace {

// Whether prepare_value would refuse `value` for a missing digest.
bool lacks_digest(const StoredValue& value) {
  return value.pii && !value.missing && value.digest.empty();
}

// Gives a personal value read from a row its text (PersonalLookup); other
// values need none.
void look_up(StoredValue& value, const PersonalLookup& lookup) {
  if (value.pii && !value.missing) lookup(value);
}

// The personal text prepare_value keeps of a value it accepts.
void keep_text(const StoredValue& value, PersonalTexts* texts) {
  if (value.pii && !value.missing && !value.erased && !value.locked) texts->emplace_back(value.digest, value.text);
}

}  // namespace

// Every text these check is in the JSON written (log_json escapes only
// ASCII, and each string sits between ASCII quotes), so valid JSON text
// means every one of them is valid UTF-8: the JSON is checked once, and
// only a refusal goes through them one by one to name the first at fault,
// as before.
std::string prepare_values(const std::vector<StoredValue>& values, PersonalTexts* texts) {
  std::string json = log_json::values(values);
  const bool digests = std::none_of(values.begin(), values.end(), lacks_digest);
  if (!digests || !valid_utf8(json)) {
    PersonalTexts ignored;
    for (const auto& value : values) prepare_value(value, &ignored);
  }
  for (const auto& value : values) keep_text(value, texts);
  return json;
}

std::string prepare_entry(const LogEntry& entry, PersonalTexts* texts) {
  std::string record = log_json::record(entry);
  const bool digests = std::none_of(entry.changes.begin(), entry.changes.end(), [](const LogEntry::Change& c) {
    return lacks_digest(c.before) || lacks_digest(c.after);
  });
  if (!digests || !valid_utf8(record)) {
    // The checks in their order, so the first fault is the one named.
    PersonalTexts ignored;
    for (const auto& change : entry.changes) {
      prepare_value(change.before, &ignored);
      prepare_value(change.after, &ignored);
    }
    for (const auto& [name, value] : entry.inputs) {
      check_utf8(name, "an input name");
      check_utf8(value, "the input " + name);
    }
    for (const auto& [what, text] : {std::pair<const Message&, const std::string&>{msg::store_the_note, entry.note},
                                     {msg::store_the_reason, entry.reason},
                                     {msg::store_the_event, entry.event},
                                     {msg::store_the_actor, entry.actor}})
      check_utf8(text, tr(what));
    throw usage_error(tr(msg::store_step_not_utf8));
  }
  for (const auto& change : entry.changes) {
    keep_text(change.before, texts);
    keep_text(change.after, texts);
  }
  return record;
}

std::string hash(std::string_view prev_hash, std::string_view record) {
  thread_local Sha256 sha;  // one digest context per thread, not one per row
  sha.reset();
  sha.update(prev_hash);
  sha.update(record);
  return sha.hex_digest();
}

bool has_personal(std::string_view record) {
  // memmem, not string_view::find: records are full of quotes, the
  // needle's first byte.
  constexpr std::string_view kNeedle = "\"pii\":true";
  return memmem(record.data(), record.size(), kNeedle.data(), kNeedle.size()) != nullptr;
}

bool record_head(std::string_view record, std::string_view& case_id, int64_t& case_seq) {
  constexpr std::string_view kHead = "{\"case_id\":\"", kSeq = "\",\"case_seq\":";
  if (record.substr(0, kHead.size()) != kHead) return false;
  const size_t end = record.find_first_of("\"\\", kHead.size());
  if (end == std::string_view::npos || record[end] != '"') return false;
  if (record.substr(end, kSeq.size()) != kSeq) return false;
  const char* first = record.data() + end + kSeq.size();
  const char* last = record.data() + record.size();
  const auto [ptr, ec] = std::from_chars(first, last, case_seq);
  if (ec != std::errc() || ptr == last || *ptr != ',') return false;
  case_id = record.substr(kHead.size(), end - kHead.size());
  return true;
}

StoredValue value_from_json(const json& j, const PersonalLookup& lookup) {
  StoredValue value;
  value.field = j.at("field").get<std::string>();
  value.missing = j.at("missing").get<bool>();
  value.pii = j.value("pii", false);
  if (!value.pii) {
    value.text = j.value("text", std::string());
    return value;
  }
  value.salt = j.value("salt", std::string());
  value.digest = j.value("digest", std::string());
  look_up(value, lookup);
  return value;
}

std::vector<StoredValue> read_values(std::string_view text, const PersonalLookup& lookup) {
  std::vector<StoredValue> out;
  if (log_json::read_values(text, out)) {
    for (StoredValue& value : out) look_up(value, lookup);
    return out;
  }
  out.clear();
  for (const auto& value : json::parse(text)) out.push_back(value_from_json(value, lookup));
  return out;
}

namespace {

Checkpoint checkpoint_from(const json& c) {
  Checkpoint out{c.value("upto_seq", int64_t{0}), c.value("chains", int64_t{0}),
                 c.value("root", std::string())};
  if (const auto gaps = c.find("seq_gaps"); gaps != c.end() && gaps->is_boolean())
    out.seq_gaps = gaps->get<bool>();
  return out;
}

LogEntry decode_record(const json& record, int64_t seq, const PersonalLookup& lookup) {
  LogEntry entry;
  entry.seq = seq;
  entry.case_id = record.at("case_id").get<std::string>();
  entry.case_seq = record.at("case_seq").get<int64_t>();
  entry.sha256 = record.at("sha256").get<std::string>();
  const std::string kind = record.at("kind").get<std::string>();
  const auto parsed = log_kind_from_string(kind);
  if (!parsed)
    throw damaged_record(seq, tr(msg::store_unknown_log_kind, {kind, std::to_string(seq)}));
  entry.kind = *parsed;
  entry.event = record.at("event").get<std::string>();
  entry.from_state = record.at("from_state").get<std::string>();
  entry.to_state = record.at("to_state").get<std::string>();
  entry.from_status = record.at("from_status").get<std::string>();
  entry.to_status = record.at("to_status").get<std::string>();
  entry.actor = record.at("actor").get<std::string>();
  entry.role = record.at("role").get<std::string>();
  entry.occurred_at = DateTime{record.at("occurred_at").get<int64_t>()};
  entry.recorded_at = DateTime{record.at("recorded_at").get<int64_t>()};
  entry.note = record.at("note").get<std::string>();
  entry.reason = record.at("reason").get<std::string>();
  for (const auto& pair : record.at("inputs"))
    entry.inputs.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  for (const auto& change : record.at("changes"))
    entry.changes.push_back({value_from_json(change.at("before"), lookup), value_from_json(change.at("after"), lookup)});
  const json& due = record.at("due_at");
  if (!due.is_null()) entry.due_at = DateTime{due.get<int64_t>()};
  entry.linked_case = record.at("linked_case").get<std::string>();
  entry.site = record.value("site", std::string());
  if (const auto it = record.find("checkpoint"); it != record.end() && it->is_object())
    entry.checkpoint = checkpoint_from(*it);
  return entry;
}

}  // namespace

std::optional<Checkpoint> checkpoint_of(std::string_view record) {
  constexpr std::string_view kKey = "\"checkpoint\":";
  if (memmem(record.data(), record.size(), kKey.data(), kKey.size()) == nullptr) return std::nullopt;
  const json parsed = json::parse(record, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  const auto it = parsed.find("checkpoint");
  if (it == parsed.end() || !it->is_object()) return std::nullopt;
  return checkpoint_from(*it);
}

LogEntry read_record(std::string_view record, int64_t seq, const PersonalLookup& lookup) {
  LogEntry entry;
  entry.seq = seq;
  if (log_json::read_record(record, entry)) {
    for (auto& change : entry.changes) {
      look_up(change.before, lookup);
      look_up(change.after, lookup);
    }
    return entry;
  }
  try {
    return decode_record(json::parse(record), seq, lookup);
  } catch (const json::exception& e) {
    throw damaged_record(seq, tr(msg::store_damaged_record, {std::to_string(seq), e.what()}));
  }
}

void chain_row_details(std::string_view record, std::string& case_id, int64_t& case_seq,
                       std::vector<StoredValue>& personal, const PersonalLookup& lookup) {
  case_id.clear();
  case_seq = 0;
  personal.clear();
  const json parsed = json::parse(record, nullptr, false);
  if (!parsed.is_object()) return;
  if (const auto it = parsed.find("case_id"); it != parsed.end() && it->is_string()) case_id = it->get<std::string>();
  if (const auto it = parsed.find("case_seq"); it != parsed.end() && it->is_number_integer())
    case_seq = it->get<int64_t>();
  try {
    for (const auto& change : parsed.value("changes", json::array())) {
      for (const char* side : {"before", "after"}) {
        StoredValue value = value_from_json(change.at(side), lookup);
        if (value.pii) personal.push_back(std::move(value));
      }
    }
  } catch (const json::exception&) {
    // A record not in sopir's shape was written behind the engine's back:
    // its hash no longer matches, which verify reports.
    personal.clear();
  }
}

}  // namespace sopir::record_rows

namespace sopir::record_rows {

void check_registry_row(const LogEntry& entry) {
  if (!entry.case_id.empty())
    throw usage_error(tr(msg::store_internal, {"a registry row has no case; this one names case " + entry.case_id}));
  if (!is_registry(entry.kind))
    throw usage_error(tr(msg::store_internal, {std::string("a registry row must be of a registry kind "
                                                       "(publish, staff, checkpoint, migration-plan), not ") +
                                               to_string(entry.kind)}));
}

void claim_case_id(const CaseRecord& record, LogEntry& entry) {
  if (entry.case_id.empty()) entry.case_id = record.id;
  if (entry.case_id != record.id)
    throw usage_error(
        tr(msg::store_internal, {"the log row is for case " + entry.case_id + " but the case row is " + record.id}));
}

}  // namespace sopir::record_rows
