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

// A record read as general JSON, each key checked before it is taken: a
// record not in sopir's shape is named with the first key at fault
// (store_damaged_record), in sopir's words rather than the JSON library's.
class RecordReader {
 public:
  explicit RecordReader(int64_t seq) : seq_(seq) {}

  [[noreturn]] void damaged(const std::string& problem) const {
    throw damaged_record(seq_, tr(msg::store_damaged_record, {std::to_string(seq_), problem}));
  }
  [[noreturn]] void not_a(const std::string& path, const Message& what) const {
    damaged(tr(msg::store_record_key_not, {path, tr(what)}));
  }

  // The value of `key` in `object` (found at `path`, "" for the record).
  const json& at(const json& object, const std::string& path, const char* key) const {
    const std::string here = path.empty() ? key : path + "." + key;
    const auto it = object.find(key);
    if (it == object.end()) damaged(tr(msg::store_record_no_key, {here}));
    return *it;
  }
  const json& list(const json& object, const std::string& path, const char* key) const {
    const json& j = at(object, path, key);
    if (!j.is_array()) not_a(join(path, key), msg::store_record_a_list);
    return j;
  }
  std::string text(const json& object, const std::string& path, const char* key) const {
    const json& j = at(object, path, key);
    if (!j.is_string()) not_a(join(path, key), msg::store_record_a_text);
    return j.get<std::string>();
  }
  int64_t number(const json& object, const std::string& path, const char* key) const {
    const json& j = at(object, path, key);
    if (!j.is_number_integer()) not_a(join(path, key), msg::store_record_a_whole_number);
    return j.get<int64_t>();
  }
  bool flag(const json& object, const std::string& path, const char* key) const {
    const json& j = at(object, path, key);
    if (!j.is_boolean()) not_a(join(path, key), msg::store_record_true_false);
    return j.get<bool>();
  }
  // `key` when present, else `fallback` (the keys log_json writes only
  // for some values).
  template <class T>
  T optional(const json& object, const std::string& path, const char* key, T fallback,
             bool (json::*is)() const, const Message& what) const {
    const auto it = object.find(key);
    if (it == object.end()) return fallback;
    if (!((*it).*is)()) not_a(join(path, key), what);
    return it->get<T>();
  }

  static std::string join(const std::string& path, const char* key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string item(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

 private:
  int64_t seq_;
};

// A change's value (before or after) as log_json::record writes it.
StoredValue checked_value(const RecordReader& r, const json& j, const std::string& path,
                          const PersonalLookup& lookup) {
  if (!j.is_object()) r.not_a(path, msg::store_record_an_object);
  StoredValue value;
  value.field = r.text(j, path, "field");
  value.missing = r.flag(j, path, "missing");
  value.pii = r.optional(j, path, "pii", false, &json::is_boolean, msg::store_record_true_false);
  if (!value.pii) {
    value.text =
        r.optional(j, path, "text", std::string(), &json::is_string, msg::store_record_a_text);
    return value;
  }
  value.salt =
      r.optional(j, path, "salt", std::string(), &json::is_string, msg::store_record_a_text);
  value.digest =
      r.optional(j, path, "digest", std::string(), &json::is_string, msg::store_record_a_text);
  look_up(value, lookup);
  return value;
}

LogEntry decode_record(const json& record, int64_t seq, const PersonalLookup& lookup) {
  const RecordReader r(seq);
  if (record.is_discarded()) r.damaged(tr(msg::store_record_not_json));
  if (!record.is_object()) r.damaged(tr(msg::store_record_not_object));
  const std::string top;
  LogEntry entry;
  entry.seq = seq;
  entry.case_id = r.text(record, top, "case_id");
  entry.case_seq = r.number(record, top, "case_seq");
  entry.sha256 = r.text(record, top, "sha256");
  const std::string kind = r.text(record, top, "kind");
  const auto parsed = log_kind_from_string(kind);
  if (!parsed)
    throw damaged_record(seq, tr(msg::store_unknown_log_kind, {kind, std::to_string(seq)}));
  entry.kind = *parsed;
  entry.event = r.text(record, top, "event");
  entry.from_state = r.text(record, top, "from_state");
  entry.to_state = r.text(record, top, "to_state");
  entry.from_status = r.text(record, top, "from_status");
  entry.to_status = r.text(record, top, "to_status");
  entry.actor = r.text(record, top, "actor");
  entry.role = r.text(record, top, "role");
  entry.occurred_at = DateTime{r.number(record, top, "occurred_at")};
  entry.recorded_at = DateTime{r.number(record, top, "recorded_at")};
  entry.note = r.text(record, top, "note");
  entry.reason = r.text(record, top, "reason");
  const json& inputs = r.list(record, top, "inputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    const json& pair = inputs[i];
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string())
      r.not_a(RecordReader::item("inputs", i), msg::store_record_a_pair);
    entry.inputs.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  const json& changes = r.list(record, top, "changes");
  for (size_t i = 0; i < changes.size(); ++i) {
    const std::string path = RecordReader::item("changes", i);
    if (!changes[i].is_object()) r.not_a(path, msg::store_record_an_object);
    entry.changes.push_back(
        {checked_value(r, r.at(changes[i], path, "before"), path + ".before", lookup),
         checked_value(r, r.at(changes[i], path, "after"), path + ".after", lookup)});
  }
  const json& due = r.at(record, top, "due_at");
  if (!due.is_null() && !due.is_number_integer()) r.not_a("due_at", msg::store_record_a_time);
  if (!due.is_null()) entry.due_at = DateTime{due.get<int64_t>()};
  entry.linked_case = r.text(record, top, "linked_case");
  entry.site =
      r.optional(record, top, "site", std::string(), &json::is_string, msg::store_record_a_text);
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
  return decode_record(json::parse(record, nullptr, false), seq, lookup);
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
