// Output helpers for people: tables sized to the terminal, colour when it is
// wanted (the words come from the catalogue, sopir/messages/cli.def).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sopir/table.h"
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

// A plain text table: columns shrink to fit `width`, long cells wrap
// (sopir/table.h lays it out).
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

// The layout every table of sopir's shares (sopir/table.h).
using sopir::display_width;
using sopir::wrap;

}  // namespace sopir::cli
