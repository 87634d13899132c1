// The layout every table of sopir's shares (sopir/table.h): columns fitted
// to a width, long cells wrapped, short words never split.
#include "sopir/table.h"

#include <catch2/catch.hpp>

namespace sopir {
namespace {

TEST_CASE("a table wider than the width narrows its widest column and wraps it", "[table]") {
  const std::vector<std::string> headers = {"seq", "occurred_at", "changes"};
  const std::vector<std::vector<std::string>> rows = {
      {"12", "2026-03-02T08:00:00Z",
       "service: (none) -> Legal aid; receiving_org: (none) -> Org Maya; consent_to_share: (none) "
       "-> yes"}};
  const std::vector<size_t> widths = fit_columns(headers, rows, 60);
  REQUIRE(widths.size() == 3);
  CHECK(widths[0] == 3);
  CHECK(widths[1] == 20);                              // a time is one word: never split
  CHECK(widths[0] + widths[1] + widths[2] + 4 == 60);  // two spaces between columns
  const std::vector<std::string> lines = table_lines(rows[0], widths);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "12   2026-03-02T08:00:00Z  service: (none) -> Legal aid;");
  CHECK(lines[1] == std::string(27, ' ') + "receiving_org: (none) -> Org");
  CHECK(lines[3] == std::string(27, ' ') + "yes");
  for (const std::string& line : lines) {
    CHECK(line.size() <= 60);
    CHECK(line.back() != ' ');
  }
}

TEST_CASE("a table that fits keeps its columns as wide as their widest line", "[table]") {
  const std::vector<std::vector<std::string>> rows = {{"K7F-3QX", "open"},
                                                      {"A", "advance to the next"}};
  const std::vector<size_t> widths = fit_columns({"case", "event"}, rows, 100);
  CHECK(widths == std::vector<size_t>{7, 19});
  const auto bold = [](const std::string& piece) { return "<" + piece + ">"; };
  CHECK(table_lines({"case", "event"}, widths, bold) ==
        std::vector<std::string>{"<case     ><event>"});
}

TEST_CASE("wrap cuts at spaces, at line breaks, and inside a word only when it must", "[table]") {
  CHECK(wrap("a bb ccc", 4) == std::vector<std::string>{"a bb", "ccc"});
  CHECK(wrap("one\ntwo", 10) == std::vector<std::string>{"one", "two"});
  CHECK(wrap("abcdefgh", 3) == std::vector<std::string>{"abc", "def", "gh"});
  CHECK(display_width("Jalan Kenanga \xC3\xA9") == 15);
}

TEST_CASE("a heading's words are never split, however narrow its cells", "[table]") {
  // migrate list: "Versions" and "Moving/cases" over short cells gave way
  // to the times, "Versio" over "ns".
  const std::vector<std::string> headers = {"Plan",         "Procedure", "Versions",
                                            "Moving/cases", "Proposed",  "Approved"};
  const std::vector<std::vector<std::string>> rows = {
      {"0123456789abcdef", "tppo-victim-care", "1 -> 2", "4/4", "admin 2026-03-02T08:00:00+07:00",
       "pia 2026-03-02T09:00:00+07:00"}};
  for (bool split : {true, false}) {
    const std::vector<size_t> widths = fit_columns(headers, rows, 100, split);
    CHECK(widths[2] == 8);
    CHECK(widths[3] == 12);
    const std::vector<std::string> head = table_lines(headers, widths);
    REQUIRE(head.size() == 1);
    CHECK(head[0].find("Versions  Moving/cases  Proposed") != std::string::npos);
  }
  // A heading of several words may still wrap between them.
  const std::vector<size_t> widths =
      fit_columns({"Moving cases", "x"}, {{"1", std::string(200, 'y')}}, 30);
  CHECK(widths[0] == 6);
}

TEST_CASE("not on a terminal, a long word in a cell is kept whole", "[table]") {
  const std::string hash(64, 'a');
  const std::vector<std::vector<std::string>> rows = {{"K7F-3QX", "plan " + hash}};
  // On a terminal a word wider than 25 columns (or half the room) gives way
  // to fit; to a file nothing needs it to.
  const std::vector<size_t> terminal = fit_columns({"case", "note"}, rows, 60, true);
  CHECK(terminal[1] == 60 - 2 - 7);
  CHECK(table_lines(rows[0], terminal).size() == 3);
  const std::vector<size_t> piped = fit_columns({"case", "note"}, rows, 60, false);
  CHECK(piped[1] == 64);
  const std::vector<std::string> lines = table_lines(rows[0], piped);
  REQUIRE(lines.size() == 2);
  CHECK(lines[1] == std::string(9, ' ') + hash);
}

}  // namespace
}  // namespace sopir
