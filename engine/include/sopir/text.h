// Text as people type it and as terminals show it.
//
// Input: sopir refuses control characters in what people give it (field
// values, notes, reasons, CSV cells): they are invisible, can cut a value
// short (NUL) or change what a terminal shows. Tab and line breaks are
// allowed where a text may run over several lines.
// Output: one escaping for every place that shows stored text to a person
// (tables, the shell, the HTML report), so a note cannot rewrite what an
// auditor's terminal shows. JSON and CSV exports keep the exact text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sopir {

struct ControlCharacter {
  size_t offset = 0;  // byte offset in the text
  int line = 1;       // 1-based
  int column = 1;     // 1-based, in characters (UTF-8), on its line
  std::string name;   // "U+0000 (NUL)", "U+001B (ESC)", "U+0085"
};

// The first control character in `text` (C0 U+0000-U+001F, DEL U+007F, C1
// U+0080-U+009F), or nullopt. With `lines_allowed`, tab, line feed and a
// carriage return directly before a line feed pass.
std::optional<ControlCharacter> find_control(std::string_view text, bool lines_allowed);

// Whether `text` is printable ASCII alone (no byte below a space, no DEL,
// nothing past 0x7F): then it holds no control character and has one
// character a byte. Eight bytes at a time.
bool plain_ascii(std::string_view text);

// The length (1 to 4) of the UTF-8 character at byte `at` of `text`, or 0
// when the bytes there are not one as RFC 3629 has it: an overlong form, a
// surrogate, a code point past U+10FFFF, a stray or cut-off byte.
size_t utf8_length(std::string_view text, size_t at);

// Whether `text` is UTF-8 as RFC 3629 has it: no overlong forms, no
// surrogates, nothing past U+10FFFF. ASCII eight bytes at a time.
bool valid_utf8(std::string_view text);

// a == b, cheap on the usual miss between ids (which share lengths and
// prefixes, "case_worker" and "case_leader", or differ only at the end,
// "m3" and "m6"): the sizes, then the last bytes, then the rest, up to
// sixteen bytes by two word loads a side (that may overlap) without
// calling memcmp.
inline bool same_text(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n == 0) return true;
  if (a[n - 1] != b[n - 1]) return false;
  const auto same = [&](auto word, size_t at) {
    decltype(word) x, y;
    std::memcpy(&x, a.data() + at, sizeof x);
    std::memcpy(&y, b.data() + at, sizeof y);
    return x == y;
  };
  if (n > 16) return std::memcmp(a.data(), b.data(), n - 1) == 0;
  if (n >= 8) return same(uint64_t{}, 0) && same(uint64_t{}, n - 8);
  if (n >= 4) return same(uint32_t{}, 0) && same(uint32_t{}, n - 4);
  for (size_t i = 0; i + 1 < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// Whether `text` holds a control character find_control() would report:
// the same answer, with no ControlCharacter built and printable ASCII told
// apart eight bytes at a time.
bool holds_control(std::string_view text, bool lines_allowed);

// "contains a control character, U+0000 (NUL), at character 3; ..." for a
// message about `text`, in `lang` ("" is the process's message language);
// "" when it has none.
std::string control_problem(std::string_view text, bool lines_allowed, std::string_view lang = {});

// Whether `text` has a character other than spaces, tabs, line breaks and
// other invisible or blank characters (a written reason needs one).
bool has_visible_text(std::string_view text);

// Staff ids, and site ids written the same way: lowercase letters, digits,
// '_', '.', '-', at most 64, not "system" (the timer pass).
bool valid_staff_id(std::string_view id);

// `text` with control characters (but line feeds when `keep_newlines`),
// bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
// U+061C) and invalid UTF-8 bytes shown as \u202e / \x1b style escapes
// (lowercase hex); a backslash followed by 'u' or 'x' is doubled so
// escapes cannot be forged. Everything else passes unchanged.
std::string escape_for_display(std::string_view text, bool keep_newlines = false);

}  // namespace sopir
