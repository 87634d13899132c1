// Text tables for people: the one layout of every table sopir shows, the
// program's listings (`case list`, `staff list`, ...) and the audit log
// alike (docs/CLI.md: "Human tables fit the terminal width").
//
// The columns are as wide as their widest line, and while the table is
// wider than the width asked for, the widest column that can still give way
// narrows; a column gives way down to its heading's widest word (a heading
// word is never split) and its cells' widest word, up to 25 columns (or
// half the room when that is more), so times, case ids and state ids are
// never split over two lines; for output that is not a terminal
// (split_long_words false) no word is split at all: nothing needs it to fit.
// Long cells wrap at spaces. Cells are taken as given: escape stored text
// (escape_for_display) before it goes in.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sopir {

// Display width of UTF-8 text (code points; good enough for Latin script).
size_t display_width(std::string_view text);

// Splits `text` into lines of at most `width` display columns, at spaces
// when possible, at a UTF-8 boundary otherwise; a line break in `text`
// always ends a line.
std::vector<std::string> wrap(const std::string& text, size_t width);

// The columns' widths for a table of `headers` and `rows` fitted to
// `width` display columns, two spaces between columns (see above). A table
// whose words cannot all stay whole in `width` comes out wider.
// `split_long_words`: whether a cell's word wider than 25 columns (or half
// the room) may be split to fit (on a terminal); false keeps every word
// whole (output to a file or a pipe).
std::vector<size_t> fit_columns(const std::vector<std::string>& headers,
                                const std::vector<std::vector<std::string>>& rows, int width,
                                bool split_long_words = true);

// One row laid out in `widths` (fit_columns): its lines, each cell wrapped
// in its column, two spaces between columns, no trailing spaces. `style`,
// when set, is applied to each column's piece of a line, padding included
// (the program's bold headings).
std::vector<std::string> table_lines(
    const std::vector<std::string>& row, const std::vector<size_t>& widths,
    const std::function<std::string(const std::string&)>& style = nullptr);

}  // namespace sopir
