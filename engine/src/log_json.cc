// The store's JSON writer for log and case columns (see log_json.h).
#include "log_json.h"

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
