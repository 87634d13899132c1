// Control characters in input, visible text, display escaping and staff ids (text.h).
#include "sopir/text.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "sopir/messages/base.h"

namespace sopir {

namespace {

constexpr const char* kC0Names[] = {"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
                                    "BS",  "TAB", "LF",  "VT",  "FF",  "CR",  "SO",  "SI",
                                    "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
                                    "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US"};

// Decodes one UTF-8 character at `i`: its code point and length; an
// invalid byte decodes as itself with length 1 and `valid` false.
struct Decoded {
  uint32_t code = 0;
  size_t length = 1;
  bool valid = true;
};

Decoded decode(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const size_t length = utf8_length(s, i);
  if (length == 0) return {b, 1, false};
  if (length == 1) return {b, 1, true};
  uint32_t code = b & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < length; ++k) code = (code << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return {code, length, true};
}

bool is_control(uint32_t code) { return code < 0x20 || code == 0x7F || (code >= 0x80 && code <= 0x9F); }

bool is_bidi_control(uint32_t code) {
  return (code >= 0x202A && code <= 0x202E) || (code >= 0x2066 && code <= 0x2069) || code == 0x200E ||
         code == 0x200F || code == 0x061C;
}

// Blank or invisible: Unicode spaces, zero-width characters, the BOM.
bool is_blank(uint32_t code) {
  return code == ' ' || is_control(code) || is_bidi_control(code) || code == 0xA0 || code == 0x1680 ||
         (code >= 0x2000 && code <= 0x200D) || code == 0x2028 || code == 0x2029 || code == 0x202F ||
         code == 0x205F || code == 0x2060 || code == 0x3000 || code == 0xFEFF || code == 0x115F ||
         code == 0x1160 || code == 0x3164;
}

std::string hex(uint32_t code, int digits) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, code >>= 4) out[static_cast<size_t>(i)] = kHex[code & 15];
  return out;
}

std::string code_name(uint32_t code) {
  std::string upper = hex(code, 4);
  for (char& c : upper) c = static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c);
  std::string out = "U+" + upper;
  if (code < 0x20) out += std::string(" (") + kC0Names[code] + ")";
  if (code == 0x7F) out += " (DEL)";
  return out;
}

// Whether the eight bytes of `w` are all printable ASCII: a word holds a
// byte below 0x20 when subtracting 0x20 from every byte borrows into a byte
// whose top bit was clear, and one of 0x7F or more when adding 0x01 sets (or
// its own byte has) the top bit.
bool plain_word(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kTops = 0x8080808080808080ULL;
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kTops;
  const uint64_t del_or_high = ((w + kOnes * 0x01) | w) & kTops;
  return (below_space | del_or_high) == 0;
}

// The sizeof(Word) bytes at `p`, aligned or not.
template <typename Word>
uint64_t load(const char* p) {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

}  // namespace

// Most input is plain ASCII, which shows it holds no control character
// with one pass over its bytes and no decoding. Eight bytes at a time, the
// last eight (some of them again) for what is left; a shorter text as two
// four-byte halves that may overlap, or its bytes after spaces.
bool plain_ascii(std::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  if (n >= 8) {
    for (; n > 8; p += 8, n -= 8)
      if (!plain_word(load<uint64_t>(p))) return false;
    return plain_word(load<uint64_t>(p + n - 8));
  }
  if (n >= 4) return plain_word(load<uint32_t>(p) | load<uint32_t>(p + n - 4) << 32);
  uint64_t w = 0x2020202020202020ULL;
  for (; n > 0; ++p, --n) w = w << 8 | static_cast<unsigned char>(*p);
  return plain_word(w);
}

size_t utf8_length(std::string_view text, size_t at) {
  const auto byte = [&](size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  const unsigned c = byte(at);
  if (c < 0x80) return 1;
  // The second byte's range rules out overlong forms (after E0 and F0),
  // surrogates (after ED) and code points past U+10FFFF (after F4).
  size_t length;
  unsigned low = 0x80, high = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  for (size_t k = 1; k < length; ++k) {
    const unsigned next = byte(at + k);
    if (next < (k == 1 ? low : 0x80) || next > (k == 1 ? high : 0xBF)) return 0;
  }
  return length;
}

bool valid_utf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    // ASCII eight bytes at a time: most text sopir reads back is.
    while (i + 8 <= n && (load<uint64_t>(text.data() + i) & 0x8080808080808080ULL) == 0) i += 8;
    if (i == n) break;
    const size_t length = utf8_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::optional<ControlCharacter> find_control(std::string_view text, bool lines_allowed) {
  if (plain_ascii(text)) return std::nullopt;
  int line = 1, column = 1;
  for (size_t i = 0; i < text.size();) {
    const Decoded d = decode(text, i);
    if (d.valid && is_control(d.code)) {
      const bool line_break = d.code == '\n' || (d.code == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
      const bool allowed = lines_allowed && (d.code == '\t' || line_break);
      if (!allowed) return ControlCharacter{i, line, column, code_name(d.code)};
      if (d.code == '\n') {
        ++line;
        column = 0;
      }
    }
    i += d.length;
    ++column;
  }
  return std::nullopt;
}

bool holds_control(std::string_view text, bool lines_allowed) {
  return !plain_ascii(text) && find_control(text, lines_allowed).has_value();
}

std::string control_problem(std::string_view text, bool lines_allowed, std::string_view lang) {
  const auto found = find_control(text, lines_allowed);
  if (!found) return "";
  if (lang.empty()) lang = message_language();
  const std::string line = std::to_string(found->line), column = std::to_string(found->column);
  const std::string where = found->line > 1 ? tr(msg::base_control_at_line, lang, {line, column})
                                            : tr(msg::base_control_at_character, lang, {column});
  return tr(lines_allowed ? msg::base_control_lines_allowed : msg::base_control_one_line, lang,
            {found->name, where});
}

bool has_visible_text(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const Decoded d = decode(text, i);
    if (!d.valid || !is_blank(d.code)) return true;
    i += d.length;
  }
  return false;
}

std::string escape_for_display(std::string_view text, bool keep_newlines) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const Decoded d = decode(text, i);
    if (!d.valid) {
      out += "\\x" + hex(d.code, 2);
    } else if ((is_control(d.code) && !(keep_newlines && d.code == '\n')) || is_bidi_control(d.code)) {
      out += d.code < 0x100 ? "\\x" + hex(d.code, 2) : "\\u" + hex(d.code, 4);
    } else if (d.code == '\\' && i + 1 < text.size() && (text[i + 1] == 'u' || text[i + 1] == 'x')) {
      out += "\\\\";
    } else {
      out.append(text.substr(i, d.length));
    }
    i += d.length;
  }
  return out;
}

bool valid_staff_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || id == "system") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace sopir
