// Tables, colour and translations for the sopir program.
#include "output.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>

namespace sopir::cli {

bool stdout_is_terminal() { return isatty(STDOUT_FILENO) == 1; }
bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

int terminal_width() {
  if (!stdout_is_terminal()) return 100;
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20) return size.ws_col;
  return 100;
}

bool want_color() {
  const char* no_color = std::getenv("NO_COLOR");
  return stdout_is_terminal() && (no_color == nullptr || *no_color == '\0');
}

std::string paint(bool color, Tone tone, const std::string& text) {
  if (!color || tone == Tone::kPlain) return text;
  const char* code = "";
  switch (tone) {
    case Tone::kBold: code = "1"; break;
    case Tone::kGood: code = "32"; break;
    case Tone::kBad: code = "31"; break;
    case Tone::kDim: code = "2"; break;
    case Tone::kPlain: break;
  }
  return std::string("\x1b[") + code + "m" + text + "\x1b[0m";
}

void Table::print(std::ostream& out, int width, bool color) const {
  // To a file or a pipe no word is split: nothing there needs the width.
  const std::vector<size_t> widths = fit_columns(headers_, rows_, width, stdout_is_terminal());
  const auto bold = [color](const std::string& piece) { return paint(color, Tone::kBold, piece); };
  for (const auto& line : table_lines(headers_, widths, bold)) out << line << '\n';
  for (const auto& row : rows_)
    for (const auto& line : table_lines(row, widths)) out << line << '\n';
}

}  // namespace sopir::cli
