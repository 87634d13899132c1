// The text of one SOP file as the loader sees it: lines, positions, and the
// way back from a byte inside a YAML scalar's value to the source.
//
// Positions are byte-based, like yaml-cpp's Mark: line and column count
// bytes from 0 internally and are reported 1-based. A UTF-8 byte order mark
// at the start is not part of the text (yaml-cpp skips it too).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "sopir/procedure.h"

namespace sopir {

class SourceText {
 public:
  // `text` must outlive this object.
  explicit SourceText(std::string_view text);

  std::string_view text() const { return text_; }

  // 1-based line and column of a byte offset (clamped to the text).
  SourcePos position(size_t offset) const;
  // Byte offset of a 0-based line and column (clamped to the text).
  size_t offset(int line0, int column0) const;
  // The 1-based line's text without its line break; "" past the end.
  std::string_view line(int line) const;
  int line_count() const { return static_cast<int>(starts_.size()); }

  // Where the `index`-th byte of a scalar's value lies in the source, given
  // the offset at which the scalar starts (yaml-cpp's Mark::pos). Handles
  // plain, single- and double-quoted (escapes, '' and line folding) and
  // block scalars (| and >, indentation). Falls back to `scalar_start` when
  // the text cannot be followed.
  size_t scalar_byte(size_t scalar_start, std::string_view value, size_t index) const;

 private:
  std::string_view text_;
  std::vector<size_t> starts_;  // byte offset of each line's first byte
};

}  // namespace sopir
