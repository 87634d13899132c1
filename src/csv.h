// A small RFC 4180 CSV reader for `case import` and `case advance --batch`.
#pragma once

#include <string>
#include <vector>

namespace sopir::cli {

struct CsvRecord {
  int line = 0;  // 1-based line of the file where the record starts
  std::vector<std::string> cells;
};

// Parses the whole text: comma-separated, fields optionally in double
// quotes (a doubled quote inside stands for one; quoted fields may hold
// commas and newlines), CRLF or LF line ends, a UTF-8 BOM ignored, blank
// lines skipped. Throws sopir::Error (kUsage) naming file:line for an
// unterminated quote or text after a closing quote.
std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& file);

// Reads and parses a file; kNotFound when it cannot be read.
std::vector<CsvRecord> read_csv_file(const std::string& file);

}  // namespace sopir::cli
