// Tables, colour and translations for the sopir program.
#include "output.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
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

size_t display_width(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Splits `text` into lines of at most `width` display columns, at spaces
// when possible, at a UTF-8 boundary otherwise.
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::string rest = text;
  for (size_t nl; (nl = rest.find('\n')) != std::string::npos;) {
    auto head = wrap(rest.substr(0, nl), width);
    lines.insert(lines.end(), head.begin(), head.end());
    rest = rest.substr(nl + 1);
  }
  while (display_width(rest) > width) {
    // Byte offset of the width-th code point.
    size_t cut = 0, cols = 0;
    while (cut < rest.size() && cols < width) {
      ++cut;
      while (cut < rest.size() && (static_cast<unsigned char>(rest[cut]) & 0xC0) == 0x80) ++cut;
      ++cols;
    }
    size_t space = rest.rfind(' ', cut);
    if (space != std::string::npos && space > 0) cut = space;
    lines.push_back(rest.substr(0, cut));
    rest = rest.substr(cut);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
  }
  lines.push_back(rest);
  return lines;
}

namespace {

// Words up to this wide (times, case ids, state ids), or up to half the
// table's width when that is more (the field and event names staff copy
// into a command), are never split when a table shrinks to fit; longer ones
// may be.
constexpr size_t kWholeWord = 25;

// The widest word (space-free run) of `text`, in display columns.
size_t widest_word(const std::string& text) {
  size_t widest = 0, start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of(" \n", start);
    if (end == std::string::npos) end = text.size();
    widest = std::max(widest, display_width(text.substr(start, end - start)));
    start = end + 1;
  }
  return widest;
}

}  // namespace

void Table::print(std::ostream& out, int width, bool color) const {
  const size_t n = headers_.size();
  // The columns' room: the width less 2 spaces between columns.
  const size_t budget = width > static_cast<int>(2 * n) ? width - 2 * (n - 1) : n * 4;
  const size_t whole_word = std::max(kWholeWord, budget / 2);
  std::vector<size_t> w(n, 0), least(n, 6);
  for (size_t c = 0; c < n; ++c) w[c] = display_width(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < n && c < row.size(); ++c) {
      for (const auto& line : wrap(row[c], 100000)) w[c] = std::max(w[c], display_width(line));
      least[c] = std::max(least[c], std::min(widest_word(row[c]), whole_word));
    }
  }
  // Shrink the widest columns until the table fits.
  auto total = [&] {
    size_t t = 0;
    for (size_t x : w) t += x;
    return t;
  };
  // Shrink the widest column that can still give way without splitting a
  // word (a timestamp split over two lines reads as two values).
  while (total() > budget) {
    size_t widest = n;
    for (size_t c = 0; c < n; ++c) {
      if (w[c] > least[c] && (widest == n || w[c] > w[widest])) widest = c;
    }
    if (widest == n) break;
    --w[widest];
  }
  auto emit = [&](const std::vector<std::string>& row, bool header) {
    std::vector<std::vector<std::string>> cells(n);
    size_t height = 1;
    for (size_t c = 0; c < n; ++c) {
      cells[c] = wrap(c < row.size() ? row[c] : "", w[c]);
      height = std::max(height, cells[c].size());
    }
    for (size_t line = 0; line < height; ++line) {
      std::string text;
      for (size_t c = 0; c < n; ++c) {
        std::string cell = line < cells[c].size() ? cells[c][line] : "";
        const bool last = c + 1 == n;
        std::string padded = cell;
        if (!last) padded += std::string(w[c] - std::min(w[c], display_width(cell)) + 2, ' ');
        text += header ? paint(color, Tone::kBold, padded) : padded;
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out << text << '\n';
    }
  };
  emit(headers_, true);
  for (const auto& row : rows_) emit(row, false);
}

}  // namespace sopir::cli
