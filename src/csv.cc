// RFC 4180 CSV parsing with line numbers, for batch commands.
#include "csv.h"

#include <fstream>
#include <sstream>

#include "sopir/error.h"
#include "sopir/messages/cli.h"
#include "sopir/text.h"

namespace sopir::cli {

std::vector<CsvRecord> parse_csv(const std::string& input, const std::string& file) {
  std::vector<CsvRecord> records;
  std::string text = input;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  // A NUL would cut a value short; other control characters hide text.
  if (auto c = find_control(text, true)) {
    throw usage_error(file + ":" + std::to_string(c->line) + ":" + std::to_string(c->column) +
                      ": " + tr(msg::cli_csv_control_character, {c->name}));
  }
  size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    CsvRecord record;
    record.line = line;
    std::string cell;
    bool end_of_record = false;
    while (!end_of_record) {
      cell.clear();
      if (i < text.size() && text[i] == '"') {
        const int opened = line;
        ++i;
        for (;;) {
          if (i >= text.size()) {
            throw usage_error(file + ":" + std::to_string(opened) +
                              ": " + tr(msg::cli_csv_unclosed_quote));
          }
          char c = text[i++];
          if (c == '"') {
            if (i < text.size() && text[i] == '"') {
              cell += '"';
              ++i;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line;
            cell += c;
          }
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          throw usage_error(file + ":" + std::to_string(line) +
                            ": " + tr(msg::cli_csv_text_after_quote));
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          cell += text[i++];
        }
      }
      record.cells.push_back(cell);
      if (i >= text.size()) {
        end_of_record = true;
      } else if (text[i] == ',') {
        ++i;
      } else {
        if (text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        end_of_record = true;
      }
    }
    const bool blank = record.cells.size() == 1 && record.cells[0].empty();
    if (!blank) records.push_back(std::move(record));
  }
  return records;
}

std::vector<CsvRecord> read_csv_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw not_found(tr(msg::cli_cannot_read, {file}));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_csv(buffer.str(), file);
}

}  // namespace sopir::cli
