// Output helpers for people: tables sized to the terminal, colour when it is
// wanted (the words come from the catalogue, sopir/messages/cli.def).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sopir/text.h"

namespace sopir::cli {

// Width of the terminal on stdout (TIOCGWINSZ), else 100.
int terminal_width();
bool stdout_is_terminal();
bool stderr_is_terminal();
// Colour only on a terminal with NO_COLOR unset.
bool want_color();

enum class Tone { kPlain, kBold, kGood, kBad, kDim };
std::string paint(bool color, Tone tone, const std::string& text);

// A plain text table: columns shrink to fit `width`, long cells wrap.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  // Cells are shown with control and bidirectional characters escaped.
  void add(std::vector<std::string> row) {
    for (auto& cell : row) cell = escape_for_display(cell);
    rows_.push_back(std::move(row));
  }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out, int width, bool color) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Splits `text` into lines of at most `width` display columns, at spaces
// when possible.
std::vector<std::string> wrap(const std::string& text, size_t width);

// Display width of UTF-8 text (code points; good enough for Latin script).
size_t display_width(const std::string& text);

}  // namespace sopir::cli
