// The store's JSON writer for log and case columns (see log_json.h).
#include "store/log_json.h"

#include <charconv>

namespace sopir::log_json {

namespace {

void append_string(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_int(std::string& out, int64_t value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

// ,"key":"text"
void append_member(std::string& out, const char* key, std::string_view text) {
  out += ",\"";
  out += key;
  out += "\":";
  append_string(out, text);
}

void append_member(std::string& out, const char* key, int64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  append_int(out, value);
}

}  // namespace

void append_value(std::string& out, const StoredValue& value) {
  out += "{\"field\":";
  append_string(out, value.field);
  out += value.missing ? ",\"missing\":true" : ",\"missing\":false";
  if (value.pii) {
    out += ",\"pii\":true,\"salt\":";
    append_string(out, value.salt);
    out += ",\"digest\":";
    append_string(out, value.digest);
  } else {
    out += ",\"text\":";
    append_string(out, value.text);
  }
  out += '}';
}

std::string inputs(const std::vector<std::pair<std::string, std::string>>& inputs) {
  std::string out = "[";
  for (const auto& [name, text] : inputs) {
    if (out.size() > 1) out += ',';
    out += '[';
    append_string(out, name);
    out += ',';
    append_string(out, text);
    out += ']';
  }
  out += ']';
  return out;
}

std::string changes(const std::vector<LogEntry::Change>& changes) {
  std::string out = "[";
  for (const auto& change : changes) {
    if (out.size() > 1) out += ',';
    out += "{\"before\":";
    append_value(out, change.before);
    out += ",\"after\":";
    append_value(out, change.after);
    out += '}';
  }
  out += ']';
  return out;
}

std::string values(const std::vector<StoredValue>& values) {
  std::string out = "[";
  for (const auto& value : values) {
    if (out.size() > 1) out += ',';
    append_value(out, value);
  }
  out += ']';
  return out;
}

std::string record(const LogEntry& entry) {
  std::string out;
  out.reserve(320 + entry.note.size() + entry.reason.size());
  out += "{\"case_id\":";
  append_string(out, entry.case_id);
  append_member(out, "case_seq", entry.case_seq);
  append_member(out, "sha256", entry.sha256);
  append_member(out, "kind", to_string(entry.kind));
  append_member(out, "event", entry.event);
  append_member(out, "from_state", entry.from_state);
  append_member(out, "to_state", entry.to_state);
  append_member(out, "from_status", entry.from_status);
  append_member(out, "to_status", entry.to_status);
  append_member(out, "actor", entry.actor);
  append_member(out, "role", entry.role);
  append_member(out, "occurred_at", entry.occurred_at.seconds);
  append_member(out, "recorded_at", entry.recorded_at.seconds);
  append_member(out, "note", entry.note);
  append_member(out, "reason", entry.reason);
  out += ",\"inputs\":";
  out += inputs(entry.inputs);
  out += ",\"changes\":";
  out += changes(entry.changes);
  if (entry.due_at) {
    append_member(out, "due_at", entry.due_at->seconds);
  } else {
    out += ",\"due_at\":null";
  }
  append_member(out, "linked_case", entry.linked_case);
  if (!entry.site.empty()) append_member(out, "site", entry.site);
  if (entry.checkpoint) {
    out += ",\"checkpoint\":{\"upto_seq\":";
    append_int(out, entry.checkpoint->upto_seq);
    append_member(out, "chains", entry.checkpoint->chains);
    append_member(out, "root", entry.checkpoint->root);
    out += '}';
  }
  out += '}';
  return out;
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
      // Copy the run up to the next quote or backslash in one go.
      const size_t stop = text_.find_first_of("\"\\", pos_);
      if (stop == std::string_view::npos) return false;
      // Control bytes are always escaped by the writer (and by JSON).
      for (size_t i = pos_; i < stop; ++i)
        if (static_cast<unsigned char>(text_[i]) < 0x20) return false;
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
    if (!in.integer(c.upto_seq) || !int_member("chains", c.chains) || !text_member("root", c.root) ||
        !in.literal("}"))
      return false;
    entry.checkpoint = std::move(c);
  }
  return in.literal("}") && in.at_end();
}

bool valid_utf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra = 0;
    unsigned int code = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    if ((extra == 1 && code < 0x80) || (extra == 2 && code < 0x800) || (extra == 3 && code < 0x10000) ||
        code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

}  // namespace sopir::log_json
