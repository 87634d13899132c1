#include "sopir/procedure.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "base/pattern.h"

namespace sopir {

namespace {

// One entry of a packed Text (procedure.h), read at `at`.
struct TextEntry {
  std::string_view lang, text;
  size_t end;  // where the next entry starts
};

TextEntry text_entry(const std::string& packed, size_t at) {
  const auto lang_size = static_cast<unsigned char>(packed[at]);
  const std::string_view lang(packed.data() + at + 1, lang_size);
  uint32_t text_size;
  std::memcpy(&text_size, packed.data() + at + 1 + lang_size, sizeof text_size);
  const size_t text_at = at + 1 + lang_size + sizeof text_size;
  return {lang, std::string_view(packed.data() + text_at, text_size), text_at + text_size};
}

}  // namespace

Text::Text(std::initializer_list<std::pair<std::string_view, std::string_view>> texts) {
  for (const auto& [lang, text] : texts) set(lang, text);
}

std::optional<std::string_view> Text::find(std::string_view lang) const {
  for (size_t at = 0; at < packed_.size();) {
    const TextEntry e = text_entry(packed_, at);
    if (e.lang == lang) return e.text;
    at = e.end;
  }
  return std::nullopt;
}

void Text::set(std::string_view lang, std::string_view text) {
  if (lang.size() > 255 || text.size() > UINT32_MAX) throw std::length_error("text too long");
  // The entry's place: replacing one of the same code, or before the first
  // code that sorts after it.
  size_t at = 0, end = packed_.size();
  while (at < packed_.size()) {
    const TextEntry e = text_entry(packed_, at);
    if (e.lang >= lang) {
      end = e.lang == lang ? e.end : at;
      break;
    }
    at = e.end;
  }
  char header[1 + 255 + sizeof(uint32_t)];
  header[0] = static_cast<char>(lang.size());
  std::memcpy(header + 1, lang.data(), lang.size());
  const auto size = static_cast<uint32_t>(text.size());
  std::memcpy(header + 1 + lang.size(), &size, sizeof size);
  const size_t header_size = 1 + lang.size() + sizeof size;
  if (at == packed_.size()) {  // the usual case: codes come in order
    packed_.append(header, header_size).append(text);
    return;
  }
  packed_.replace(at, end - at, header, header_size);
  packed_.insert(at + header_size, text.data(), text.size());
}

std::vector<std::pair<std::string_view, std::string_view>> Text::entries() const {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (size_t at = 0; at < packed_.size();) {
    const TextEntry e = text_entry(packed_, at);
    out.emplace_back(e.lang, e.text);
    at = e.end;
  }
  return out;
}

std::string Text::get(std::string_view lang) const {
  if (auto t = find(lang)) return std::string(*t);
  if (auto t = find("en")) return std::string(*t);
  if (auto t = find("")) return std::string(*t);
  return packed_.empty() ? std::string() : std::string(text_entry(packed_, 0).text);
}

namespace {
template <typename T, typename Key>
int index_of(const std::vector<T>& items, std::string_view id, Key key) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (key(items[i]) == id) return static_cast<int>(i);
  }
  return -1;
}

// A name's hash from its length and its first and last (up to) eight
// bytes, at the same cost for any name (std::hash, over every byte, cost
// decide_bench about as much as the scan it replaced). Names alike in
// those bytes only probe further; the lookup compares the names.
size_t name_hash(std::string_view id) {
  uint64_t head = 0, tail = 0;
  const size_t n = id.size() < 8 ? id.size() : 8;
  if (n > 0) {
    std::memcpy(&head, id.data(), n);
    std::memcpy(&tail, id.data() + id.size() - n, n);
  }
  // Multiplying carries every bit upward; the top half depends on them all.
  const uint64_t mixed = (head ^ tail * 0xC2B2AE3D27D4EB4Full ^ id.size()) * 0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(mixed >> 32);
}

// An open-addressing table (linear probing, at most half full) of the
// positions of `items` by their key's hash; -1 marks an empty slot. Of two
// equal names the first is kept, as index_of finds it.
template <typename T, typename Key>
std::vector<int> name_table(const std::vector<T>& items, Key key) {
  size_t size = 8;
  while (size < 2 * items.size()) size *= 2;
  std::vector<int> slots(size, -1);
  for (size_t i = 0; i < items.size(); ++i) {
    size_t s = name_hash(key(items[i])) & (size - 1);
    while (slots[s] >= 0 && key(items[static_cast<size_t>(slots[s])]) != key(items[i])) s = (s + 1) & (size - 1);
    if (slots[s] < 0) slots[s] = static_cast<int>(i);
  }
  return slots;
}

// index_of through `slots`: a position found there is checked against the
// name itself; a name not found there is looked for name by name, as
// before the tables (for a procedure changed after they were built).
template <typename T, typename Key>
int indexed(const std::vector<int>& slots, const std::vector<T>& items, std::string_view id, Key key) {
  if (!slots.empty()) {
    const size_t mask = slots.size() - 1;
    for (size_t s = name_hash(id) & mask; slots[s] >= 0; s = (s + 1) & mask) {
      const auto i = static_cast<size_t>(slots[s]);
      if (i < items.size() && key(items[i]) == id) return slots[s];
    }
  }
  return index_of(items, id, key);
}

const std::string& event_name(const std::string& e) { return e; }
const std::string& field_name(const FieldDef& f) { return f.id; }
}  // namespace

// A handful of names is scanned faster than hashed: tables only for more.
constexpr size_t kScannedNames = 8;

void Procedure::build_name_tables() {
  event_slots = events.size() > kScannedNames ? name_table(events, event_name) : std::vector<int>();
  field_slots = fields.size() > kScannedNames ? name_table(fields, field_name) : std::vector<int>();
}

FieldChecks field_checks(const FieldDef& field) {
  FieldChecks checks;
  // A bound as the number a value of the field's type is compared with (a
  // string's length: an int), or nullopt when it bounds no such value.
  auto number = [&](const std::optional<Value>& bound) -> std::optional<int64_t> {
    if (!bound) return std::nullopt;
    if (field.type == Type::kString) {
      const auto* length = std::get_if<int64_t>(&*bound);
      return length ? std::optional<int64_t>(*length) : std::nullopt;
    }
    return ordered_number(field.type, *bound);
  };
  const bool text_bound = (field.min && std::holds_alternative<std::string>(*field.min)) ||
                          (field.max && std::holds_alternative<std::string>(*field.max));
  if ((field.type == Type::kEnum || field.type == Type::kSet) && text_bound) return checks;  // compared as text
  checks.built = true;
  if (const auto low = number(field.min)) checks.low = *low;
  if (const auto high = number(field.max)) checks.high = *high;
  // A pattern is checked on strings alone.
  const bool pattern = field.type == Type::kString && field.pattern;
  // Only a date or a date-time has a day or a moment to be bounded by.
  checks.relative = (field.min_now || field.max_now) &&
                    (field.type == Type::kDate || field.type == Type::kDateTime);
  checks.bounded =
      checks.low != INT64_MIN || checks.high != INT64_MAX || pattern || checks.relative;
  return checks;
}

void Procedure::build_field_checks() {
  for (FieldDef& f : fields) {
    f.compiled_pattern = f.pattern ? std::make_shared<const CompiledPattern>(*f.pattern) : nullptr;
    f.checks = field_checks(f);
  }
}

void Procedure::build_candidate_table() {
  candidate_starts.assign(states.size() * events.size() + 1, 0);
  candidate_list.clear();
  for (size_t state = 0; state < states.size(); ++state) {
    for (size_t event = 0; event < events.size(); ++event) {
      candidate_starts[state * events.size() + event] = static_cast<int>(candidate_list.size());
      if (state >= transitions_from.size()) continue;
      for (int t : transitions_from[state])
        if (transitions[static_cast<size_t>(t)].event == static_cast<int>(event)) candidate_list.push_back(t);
    }
  }
  candidate_starts.back() = static_cast<int>(candidate_list.size());
  const bool role_bits = roles.size() <= 64;
  for (TransitionDef& t : transitions) {
    t.role_bits = t.override_role_bits = 0;
    t.role_bits_built = role_bits;
    if (!role_bits) continue;
    for (auto [list, bits] : {std::pair{&t.roles, &t.role_bits}, std::pair{&t.override_roles, &t.override_role_bits}})
      for (int r : *list)
        if (r >= 0 && static_cast<size_t>(r) < roles.size()) *bits |= uint64_t{1} << r;
  }
  taken_words = (fields.size() + 63) / 64;
  taken_bits.assign(transitions.size() * taken_words, 0);
  for (size_t t = 0; t < transitions.size(); ++t) {
    for (const auto* list : {&transitions[t].requires_fields, &transitions[t].accepts_fields})
      for (int f : *list)
        if (f >= 0 && static_cast<size_t>(f) < fields.size())
          taken_bits[t * taken_words + static_cast<size_t>(f) / 64] |= uint64_t{1} << (f % 64);
  }
}

bool Procedure::takes_listed_field(const TransitionDef& t, int field) {
  return std::find(t.requires_fields.begin(), t.requires_fields.end(), field) != t.requires_fields.end() ||
         std::find(t.accepts_fields.begin(), t.accepts_fields.end(), field) != t.accepts_fields.end();
}

int Procedure::state_index(std::string_view id) const {
  return index_of(states, id, [](const StateDef& s) -> const std::string& { return s.id; });
}
int Procedure::event_index(std::string_view id) const { return indexed(event_slots, events, id, event_name); }
int Procedure::field_index(std::string_view id) const { return indexed(field_slots, fields, id, field_name); }
int Procedure::role_index(std::string_view id) const {
  return index_of(roles, id, [](const std::string& r) -> const std::string& { return r; });
}

std::vector<int> Procedure::event_indices_from(int state) const {
  std::vector<int> out;
  if (state < 0 || state >= static_cast<int>(transitions_from.size())) return out;
  for (int t : transitions_from[state]) {
    const int event = transitions[t].event;
    if (std::find(out.begin(), out.end(), event) == out.end()) out.push_back(event);
  }
  return out;
}

std::vector<std::string> Procedure::events_from(int state) const {
  std::vector<std::string> out;
  for (int event : event_indices_from(state)) out.push_back(events[event]);
  return out;
}

std::vector<std::string> Procedure::state_ids() const {
  std::vector<std::string> out;
  for (const auto& s : states) out.push_back(s.id);
  return out;
}

std::vector<std::string> Procedure::field_ids() const {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f.id);
  return out;
}

bool Procedure::from_every_state(const TransitionDef& t) const {
  size_t open = 0;
  for (const StateDef& s : states) open += s.terminal ? 0 : 1;
  return open > 0 && t.from.size() == open;
}

std::string Procedure::to_id(const TransitionDef& t) const {
  return t.stays ? "*" : states[static_cast<size_t>(t.to)].id;
}

}  // namespace sopir
