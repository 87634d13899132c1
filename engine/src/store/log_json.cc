// The store's JSON writer for log and case columns (see log_json.h).
#include "store/log_json.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace sopir::log_json {

namespace {

// The text being written: a buffer sized once from an estimate, appended to
// without a call per piece (on a step's path every string of the record
// and of the case's values passes here).
class Out {
 public:
  explicit Out(size_t estimate) { buf_.resize(estimate); }

  void put(char c) {
    room(1);
    buf_[n_++] = c;
  }
  void put(std::string_view text) {
    room(text.size());
    std::memcpy(&buf_[n_], text.data(), text.size());
    n_ += text.size();
  }
  std::string take() {
    buf_.resize(n_);
    return std::move(buf_);
  }

 private:
  void room(size_t more) {
    if (buf_.size() - n_ < more) buf_.resize(std::max(2 * buf_.size(), n_ + more));
  }

  std::string buf_;
  size_t n_ = 0;
};

// Whether `c` is written escaped.
bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

// Whether any of the eight bytes of `word` is written escaped (a control
// byte, '"' or '\\'), tested together: the texts of a record rarely hold one.
bool any_needs_escape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const auto zero_byte = [&](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  // A byte below 0x20 (and not 0x80 or above): x - 0x20 borrows into its top bit.
  const uint64_t control = (word - 0x20 * kOnes) & ~word & kHigh;
  return (control | zero_byte(word ^ ('"' * kOnes)) | zero_byte(word ^ ('\\' * kOnes))) != 0;
}

// The length of the run at the start of `text` that needs no escape.
size_t plain_run(std::string_view text) {
  size_t i = 0;
  for (uint64_t word; i + 8 <= text.size(); i += 8) {
    std::memcpy(&word, text.data() + i, 8);
    if (any_needs_escape(word)) break;
  }
  while (i < text.size() && !needs_escape(static_cast<unsigned char>(text[i]))) ++i;
  return i;
}

void write_string(Out& out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out.put('"');
  size_t i = 0;
  while (i < text.size()) {
    // The run up to the next byte to escape, copied whole.
    const size_t run = i + plain_run(text.substr(i));
    out.put(text.substr(i, run - i));
    if (run == text.size()) break;
    const char c = text[run];
    switch (c) {
      case '"': out.put("\\\""); break;
      case '\\': out.put("\\\\"); break;
      case '\b': out.put("\\b"); break;
      case '\f': out.put("\\f"); break;
      case '\n': out.put("\\n"); break;
      case '\r': out.put("\\r"); break;
      case '\t': out.put("\\t"); break;
      default: {
        const auto byte = static_cast<unsigned char>(c);
        out.put("\\u00");
        out.put(kHex[byte >> 4]);
        out.put(kHex[byte & 15]);
      }
    }
    i = run + 1;
  }
  out.put('"');
}

void write_int(Out& out, int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.put(std::string_view(digits, static_cast<size_t>(end - digits)));
}

// ,"key":"text"
void write_member(Out& out, std::string_view key, std::string_view text) {
  out.put(",\"");
  out.put(key);
  out.put("\":");
  write_string(out, text);
}

void write_member(Out& out, std::string_view key, int64_t value) {
  out.put(",\"");
  out.put(key);
  out.put("\":");
  write_int(out, value);
}

void write_value(Out& out, const StoredValue& value) {
  out.put("{\"field\":");
  write_string(out, value.field);
  out.put(value.missing ? ",\"missing\":true" : ",\"missing\":false");
  if (value.pii) {
    out.put(",\"pii\":true,\"salt\":");
    write_string(out, value.salt);
    out.put(",\"digest\":");
    write_string(out, value.digest);
  } else {
    out.put(",\"text\":");
    write_string(out, value.text);
  }
  out.put('}');
}

void write_inputs(Out& out, const std::vector<std::pair<std::string, std::string>>& inputs) {
  out.put('[');
  for (size_t i = 0; i < inputs.size(); ++i) {
    out.put(i ? ",[" : "[");
    write_string(out, inputs[i].first);
    out.put(',');
    write_string(out, inputs[i].second);
    out.put(']');
  }
  out.put(']');
}

void write_changes(Out& out, const std::vector<LogEntry::Change>& changes) {
  out.put('[');
  for (size_t i = 0; i < changes.size(); ++i) {
    out.put(i ? ",{\"before\":" : "{\"before\":");
    write_value(out, changes[i].before);
    out.put(",\"after\":");
    write_value(out, changes[i].after);
    out.put('}');
  }
  out.put(']');
}

// The bytes a value takes unescaped, keys and all (an estimate).
size_t value_size(const StoredValue& value) {
  return 64 + value.field.size() + (value.pii ? value.salt.size() + value.digest.size() : value.text.size());
}

}  // namespace

void append_value(std::string& out, const StoredValue& value) {
  Out text(value_size(value));
  write_value(text, value);
  out += text.take();
}

std::string inputs(const std::vector<std::pair<std::string, std::string>>& inputs) {
  size_t size = 2;
  for (const auto& [name, text] : inputs) size += 8 + name.size() + text.size();
  Out out(size);
  write_inputs(out, inputs);
  return out.take();
}

std::string changes(const std::vector<LogEntry::Change>& changes) {
  size_t size = 2;
  for (const auto& change : changes) size += 24 + value_size(change.before) + value_size(change.after);
  Out out(size);
  write_changes(out, changes);
  return out.take();
}

std::string values(const std::vector<StoredValue>& values) {
  size_t size = 2;
  for (const auto& value : values) size += value_size(value);
  Out out(size);
  out.put('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.put(',');
    write_value(out, values[i]);
  }
  out.put(']');
  return out.take();
}

std::string record(const LogEntry& entry) {
  // Sized once: the keys take about 300 bytes, the texts their size.
  size_t size = 384 + entry.case_id.size() + entry.sha256.size() + entry.event.size() + entry.from_state.size() +
                entry.to_state.size() + entry.actor.size() + entry.role.size() + entry.note.size() +
                entry.reason.size() + entry.linked_case.size() + entry.site.size();
  for (const auto& [name, text] : entry.inputs) size += 8 + name.size() + text.size();
  for (const auto& change : entry.changes) size += 24 + value_size(change.before) + value_size(change.after);
  if (entry.checkpoint) size += 64 + entry.checkpoint->root.size();
  Out out(size);
  out.put("{\"case_id\":");
  write_string(out, entry.case_id);
  write_member(out, "case_seq", entry.case_seq);
  write_member(out, "sha256", entry.sha256);
  write_member(out, "kind", to_string(entry.kind));
  write_member(out, "event", entry.event);
  write_member(out, "from_state", entry.from_state);
  write_member(out, "to_state", entry.to_state);
  write_member(out, "from_status", entry.from_status);
  write_member(out, "to_status", entry.to_status);
  write_member(out, "actor", entry.actor);
  write_member(out, "role", entry.role);
  write_member(out, "occurred_at", entry.occurred_at.seconds);
  write_member(out, "recorded_at", entry.recorded_at.seconds);
  write_member(out, "note", entry.note);
  write_member(out, "reason", entry.reason);
  out.put(",\"inputs\":");
  write_inputs(out, entry.inputs);
  out.put(",\"changes\":");
  write_changes(out, entry.changes);
  if (entry.due_at) {
    write_member(out, "due_at", entry.due_at->seconds);
  } else {
    out.put(",\"due_at\":null");
  }
  write_member(out, "linked_case", entry.linked_case);
  if (!entry.site.empty()) write_member(out, "site", entry.site);
  if (entry.checkpoint) {
    out.put(",\"checkpoint\":{\"upto_seq\":");
    write_int(out, entry.checkpoint->upto_seq);
    write_member(out, "chains", entry.checkpoint->chains);
    write_member(out, "root", entry.checkpoint->root);
    if (entry.checkpoint->seq_gaps)
      out.put(*entry.checkpoint->seq_gaps ? ",\"seq_gaps\":true" : ",\"seq_gaps\":false");
    out.put('}');
  }
  out.put('}');
  return out.take();
}

namespace {

// A reader for exactly what the writer above produces: fixed keys in a fixed
// order, no spaces, the writer's escapes and number forms only, so whatever
// it accepts the writer writes back byte for byte. Every method returns
// false on anything else; the caller then decodes the text as general JSON.
class LayoutReader {
 public:
  explicit LayoutReader(std::string_view text) : text_(text) {}

  bool at_end() const { return pos_ == text_.size(); }

  bool literal(std::string_view expected) {
    if (text_.substr(pos_, expected.size()) != expected) return false;
    pos_ += expected.size();
    return true;
  }

  bool string(std::string& out) {
    if (!literal("\"")) return false;
    out.clear();
    while (pos_ < text_.size()) {
      // Copy the run up to the next quote or backslash in one go. Control
      // bytes are always escaped by the writer (and by JSON).
      size_t stop = pos_;
      for (; stop < text_.size(); ++stop) {
        const unsigned char c = static_cast<unsigned char>(text_[stop]);
        if (c == '"' || c == '\\') break;
        if (c < 0x20) return false;
      }
      if (stop == text_.size()) return false;
      out.append(text_.data() + pos_, stop - pos_);
      pos_ = stop + 1;
      if (text_[stop] == '"') return true;
      if (pos_ >= text_.size()) return false;
      switch (text_[pos_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          // The writer escapes only control bytes: \u00XX.
          if (!literal("00") || pos_ + 2 > text_.size()) return false;
          const int high = hex_digit(text_[pos_]), low = hex_digit(text_[pos_ + 1]);
          if (high < 0 || low < 0 || high > 1) return false;
          const char c = static_cast<char>(high * 16 + low);
          if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') return false;  // written short
          out += c;
          pos_ += 2;
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  bool integer(int64_t& out) {
    const char* first = text_.data() + pos_;
    const char* last = text_.data() + text_.size();
    const auto [ptr, ec] = std::from_chars(first, last, out);
    if (ec != std::errc() || ptr == first) return false;
    // Only the writer's form: no leading zeros, no "-0".
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, out).ptr;
    if (std::string_view(first, static_cast<size_t>(ptr - first)) !=
        std::string_view(digits, static_cast<size_t>(end - digits)))
      return false;
    pos_ += static_cast<size_t>(ptr - first);
    return true;
  }

  bool boolean(bool& out) {
    if (literal("true")) {
      out = true;
    } else if (literal("false")) {
      out = false;
    } else {
      return false;
    }
    return true;
  }

  bool value(StoredValue& out) {
    out = StoredValue{};
    if (!literal("{\"field\":") || !string(out.field) || !literal(",\"missing\":") || !boolean(out.missing))
      return false;
    if (literal(",\"text\":")) return string(out.text) && literal("}");
    out.pii = true;
    return literal(",\"pii\":true,\"salt\":") && string(out.salt) && literal(",\"digest\":") &&
           string(out.digest) && literal("}");
  }

  // [ITEM,ITEM,...] where `item` reads one.
  template <typename Item>
  bool array(Item item) {
    if (!literal("[")) return false;
    if (literal("]")) return true;
    do {
      if (!item()) return false;
    } while (literal(","));
    return literal("]");
  }

 private:
  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool read_record(std::string_view text, LogEntry& entry) {
  LayoutReader in(text);
  std::string kind;
  int64_t occurred = 0, recorded = 0;
  auto text_member = [&](const char* key, std::string& out) {
    return in.literal(",\"") && in.literal(key) && in.literal("\":") && in.string(out);
  };
  auto int_member = [&](const char* key, int64_t& out) {
    return in.literal(",\"") && in.literal(key) && in.literal("\":") && in.integer(out);
  };
  if (!in.literal("{\"case_id\":") || !in.string(entry.case_id) || !int_member("case_seq", entry.case_seq) ||
      !text_member("sha256", entry.sha256) || !text_member("kind", kind) || !text_member("event", entry.event) ||
      !text_member("from_state", entry.from_state) || !text_member("to_state", entry.to_state) ||
      !text_member("from_status", entry.from_status) || !text_member("to_status", entry.to_status) ||
      !text_member("actor", entry.actor) || !text_member("role", entry.role) ||
      !int_member("occurred_at", occurred) || !int_member("recorded_at", recorded) ||
      !text_member("note", entry.note) || !text_member("reason", entry.reason))
    return false;
  const auto parsed_kind = log_kind_from_string(kind);
  if (!parsed_kind) return false;
  entry.kind = *parsed_kind;
  entry.occurred_at = DateTime{occurred};
  entry.recorded_at = DateTime{recorded};
  entry.inputs.clear();
  entry.changes.clear();
  const bool lists =
      in.literal(",\"inputs\":") && in.array([&] {
        auto& pair = entry.inputs.emplace_back();
        return in.literal("[") && in.string(pair.first) && in.literal(",") && in.string(pair.second) &&
               in.literal("]");
      }) &&
      in.literal(",\"changes\":") && in.array([&] {
        auto& change = entry.changes.emplace_back();
        return in.literal("{\"before\":") && in.value(change.before) && in.literal(",\"after\":") &&
               in.value(change.after) && in.literal("}");
      });
  if (!lists || !in.literal(",\"due_at\":")) return false;
  if (in.literal("null")) {
    entry.due_at.reset();
  } else {
    int64_t due = 0;
    if (!in.integer(due)) return false;
    entry.due_at = DateTime{due};
  }
  if (!text_member("linked_case", entry.linked_case)) return false;
  entry.site.clear();
  if (in.literal(",\"site\":") && (!in.string(entry.site) || entry.site.empty())) return false;
  entry.checkpoint.reset();
  if (in.literal(",\"checkpoint\":{\"upto_seq\":")) {
    Checkpoint c;
    if (!in.integer(c.upto_seq) || !int_member("chains", c.chains) || !text_member("root", c.root))
      return false;
    if (in.literal(",\"seq_gaps\":true")) {
      c.seq_gaps = true;
    } else if (in.literal(",\"seq_gaps\":false")) {
      c.seq_gaps = false;
    }
    if (!in.literal("}")) return false;
    entry.checkpoint = std::move(c);
  }
  return in.literal("}") && in.at_end();
}

bool read_values(std::string_view text, std::vector<StoredValue>& out) {
  LayoutReader in(text);
  out.clear();
  return in.array([&] { return in.value(out.emplace_back()); }) && in.at_end();
}

}  // namespace sopir::log_json
