// Text tables for people (sopir/table.h).
#include "sopir/table.h"

#include <algorithm>
#include <cstdint>

namespace sopir {

size_t display_width(std::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

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
    widest = std::max(widest, display_width(std::string_view(text).substr(start, end - start)));
    start = end + 1;
  }
  return widest;
}

}  // namespace

std::vector<size_t> fit_columns(const std::vector<std::string>& headers,
                                const std::vector<std::vector<std::string>>& rows, int width,
                                bool split_long_words) {
  const size_t n = headers.size();
  // The columns' room: the width less 2 spaces between columns.
  const size_t budget = width > static_cast<int>(2 * n) ? width - 2 * (n - 1) : n * 4;
  const size_t whole_word = split_long_words ? std::max(kWholeWord, budget / 2) : SIZE_MAX;
  std::vector<size_t> w(n, 0), least(n, 6);
  for (size_t c = 0; c < n; ++c) {
    w[c] = display_width(headers[c]);
    // A heading's words are never split ("Versi" over "ons" reads as two).
    least[c] = std::max(least[c], widest_word(headers[c]));
  }
  for (const auto& row : rows) {
    for (size_t c = 0; c < n && c < row.size(); ++c) {
      for (const auto& line : wrap(row[c], 100000)) w[c] = std::max(w[c], display_width(line));
      least[c] = std::max(least[c], std::min(widest_word(row[c]), whole_word));
    }
  }
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
  return w;
}

std::vector<std::string> table_lines(const std::vector<std::string>& row,
                                     const std::vector<size_t>& widths,
                                     const std::function<std::string(const std::string&)>& style) {
  const size_t n = widths.size();
  std::vector<std::vector<std::string>> cells(n);
  size_t height = 1;
  for (size_t c = 0; c < n; ++c) {
    cells[c] = wrap(c < row.size() ? row[c] : "", widths[c]);
    height = std::max(height, cells[c].size());
  }
  std::vector<std::string> lines;
  for (size_t line = 0; line < height; ++line) {
    std::string text;
    for (size_t c = 0; c < n; ++c) {
      std::string padded = line < cells[c].size() ? cells[c][line] : "";
      if (c + 1 < n)
        padded += std::string(widths[c] - std::min(widths[c], display_width(padded)) + 2, ' ');
      text += style ? style(padded) : padded;
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    lines.push_back(std::move(text));
  }
  return lines;
}

}  // namespace sopir
