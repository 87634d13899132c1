#include "base/source_text.h"

#include <algorithm>

namespace sopir {

SourceText::SourceText(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') starts_.push_back(i + 1);
  }
}

SourcePos SourceText::position(size_t offset) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  const size_t line = static_cast<size_t>(it - starts_.begin()) - 1;
  return SourcePos{static_cast<int>(line) + 1, static_cast<int>(offset - starts_[line]) + 1};
}

size_t SourceText::offset(int line0, int column0) const {
  if (line0 < 0) return 0;
  if (static_cast<size_t>(line0) >= starts_.size()) return text_.size();
  return std::min(text_.size(), starts_[line0] + static_cast<size_t>(std::max(column0, 0)));
}

std::string_view SourceText::line(int line) const {
  if (line < 1 || static_cast<size_t>(line) > starts_.size()) return {};
  const size_t begin = starts_[line - 1];
  size_t end = static_cast<size_t>(line) < starts_.size() ? starts_[line] - 1 : text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return text_.substr(begin, end - begin);
}

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Length of a double-quoted escape starting at the backslash.
size_t escape_length(std::string_view raw, size_t at) {
  if (at + 1 >= raw.size()) return 1;
  switch (raw[at + 1]) {
    case 'x': return 4;
    case 'u': return 6;
    case 'U': return 10;
    default: return 2;
  }
}

}  // namespace

// The decoded value is walked alongside the raw source: bytes that match
// advance both; indentation, line breaks that were folded, the quotes and
// the block header are skipped on the raw side. Escapes in double quotes
// consume one decoded character for the whole sequence. Multi-byte escapes
// (\u00e9 decodes to two bytes) may shift later positions by a byte or two;
// that is the price of not re-implementing the scanner.
size_t SourceText::scalar_byte(size_t scalar_start, std::string_view value, size_t index) const {
  if (scalar_start >= text_.size()) return std::min(scalar_start, text_.size());
  const char style = text_[scalar_start];
  size_t p = scalar_start;
  if (style == '"' || style == '\'') {
    ++p;
  } else if (style == '|' || style == '>') {
    while (p < text_.size() && text_[p] != '\n') ++p;
    ++p;  // the first content line
  }
  index = std::min(index, value.size());
  for (size_t i = 0; i < index; ++i) {
    const char c = value[i];
    bool matched = false;
    while (p < text_.size() && !matched) {
      const char r = text_[p];
      if (style == '"' && r == '\\') {
        if (p + 1 < text_.size() && (text_[p + 1] == '\n' || text_[p + 1] == '\r')) {
          p += 2;  // an escaped line break: joins lines, produces nothing
          continue;
        }
        p += escape_length(text_, p);
        matched = true;
      } else if (style == '\'' && r == '\'' && c == '\'') {
        p += 2;
        matched = true;
      } else if (r == c) {
        ++p;
        matched = true;
      } else if ((c == ' ' || c == '\n') && (r == '\n' || r == '\r')) {
        // A folded line break: the break stands for the decoded space.
        ++p;
        while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
        matched = true;
      } else if (is_blank(r) || r == '"' || r == '\'') {
        ++p;  // indentation, a skipped break, a quote
      } else {
        return scalar_start;  // lost: point at the scalar
      }
    }
    if (!matched) return scalar_start;
  }
  // Land on the character itself, not on indentation before it.
  while (p < text_.size() && index < value.size() && value[index] != ' ' &&
         value[index] != '\n' && (text_[p] == ' ' || text_[p] == '\n' || text_[p] == '\r')) {
    ++p;
  }
  return p;
}

}  // namespace sopir
