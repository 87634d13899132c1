// Diagnostic formatting, the sink that collects them, and LoadResult helpers.
#include <algorithm>

#include "base/diagnostics.h"
#include "sopir/error.h"
#include "sopir/messages/base.h"

namespace sopir {

namespace {

// The caret line: the source line's tabs are kept so the caret lines up
// whatever the terminal's tab width; every other character (a whole UTF-8
// sequence) becomes one space.
std::string caret_line(std::string_view line, int column) {
  std::string out;
  const size_t end = std::min(line.size(), static_cast<size_t>(std::max(column - 1, 0)));
  for (size_t i = 0; i < end; ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == '\t') {
      out += '\t';
    } else if ((c & 0xC0) != 0x80) {
      out += ' ';
    }
  }
  if (column - 1 > static_cast<int>(line.size())) {
    out.append(static_cast<size_t>(column - 1) - line.size(), ' ');
  }
  out += '^';
  return out;
}

// The source line as it is safe to print: bytes that are not valid UTF-8 and
// control characters other than tab become '?', one for one, so the caret
// still lines up.
std::string printable(std::string_view line) {
  std::string out;
  for (size_t i = 0; i < line.size();) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    size_t length = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    bool valid = length > 0 && i + length <= line.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(line[i + k]) & 0xC0) == 0x80;
    }
    if (!valid) {
      out += '?';
      ++i;
    } else if (length == 1 && ((c < 0x20 && c != '\t') || c == 0x7F)) {
      out += '?';
      ++i;
    } else {
      out.append(line.substr(i, length));
      i += length;
    }
  }
  return out;
}

// A line longer than a wide terminal's is shown as a window of about
// kWindow bytes either side of the caret, cut at UTF-8 boundaries and marked
// "..." where cut; `column` becomes the caret's column in the window.
constexpr size_t kWindow = 100;

std::string line_window(const std::string& line, int* column) {
  if (line.size() <= 2 * kWindow + 40) return line;
  auto continuation = [&](size_t i) {
    return (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80;
  };
  const size_t at = std::min(line.size(), static_cast<size_t>(std::max(*column - 1, 0)));
  size_t begin = at > kWindow ? at - kWindow : 0;
  size_t end = std::min(line.size(), at + kWindow);
  while (begin > 0 && continuation(begin)) --begin;
  while (end < line.size() && continuation(end)) ++end;
  const std::string before = begin > 0 ? "..." : "";
  *column = static_cast<int>(before.size() + (at - begin)) + 1 +
            std::max(*column - 1 - static_cast<int>(at), 0);
  return before + line.substr(begin, end - begin) + (end < line.size() ? "..." : "");
}

}  // namespace

std::string Diagnostic::format() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += tr(severity == Severity::kError ? msg::base_diag_error : msg::base_diag_warning);
  out += message;
  out += '\n';
  if (line > 0) {
    int caret = column;
    const std::string shown = line_window(source_line, &caret);
    out += shown;
    out += '\n';
    out += caret_line(shown, caret);
    out += '\n';
  }
  return out;
}

std::string format_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) out += d.format();
  return out;
}

size_t LoadResult::error_count() const {
  return static_cast<size_t>(std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
    return d.severity == Severity::kError;
  }));
}

size_t LoadResult::warning_count() const {
  return diagnostics.size() - error_count();
}

ProcedurePtr expect_procedure(const LoadResult& result) {
  if (result.ok()) return result.procedure;
  std::string message = tr(msg::base_errors_in_procedure, {std::to_string(result.error_count())}) + "\n";
  for (const auto& d : result.diagnostics) {
    if (d.severity == Severity::kError) message += d.format();
  }
  if (!message.empty() && message.back() == '\n') message.pop_back();
  throw refused(message);
}

DiagnosticSink::DiagnosticSink(std::string file, const SourceText* source)
    : file_(std::move(file)), source_(source) {}

void DiagnosticSink::report(Severity severity, std::string code, SourcePos pos,
                            std::string message) {
  if (severity == Severity::kError) ++errors_;
  if (diagnostics_.size() >= kMaxDiagnostics) {
    ++dropped_;
    return;
  }
  Diagnostic d;
  d.severity = severity;
  d.code = std::move(code);
  d.file = file_;
  d.line = pos.line;
  d.column = pos.line > 0 ? std::max(pos.column, 1) : 0;
  d.message = std::move(message);
  if (source_ && d.line > 0) d.source_line = printable(source_->line(d.line));
  diagnostics_.push_back(std::move(d));
}

std::vector<Diagnostic> DiagnosticSink::take(bool strict) {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     if (a.line != b.line) return a.line < b.line;
                     return a.column < b.column;
                   });
  if (strict) {
    // Calendar coverage is measured from the day the check runs, not from
    // the file: it advises, and never makes a strict check fail, so the
    // same files pass or fail the same way on any day.
    for (auto& d : diagnostics_) {
      if (d.code != "calendar-range" && d.code != "calendar-partial") d.severity = Severity::kError;
    }
  }
  if (dropped_ > 0) {
    Diagnostic d;
    d.severity = errors_ > 0 || strict ? Severity::kError : Severity::kWarning;
    d.code = "too-many-problems";
    d.file = file_;
    d.message = tr(msg::base_too_many_problems, {std::to_string(dropped_)});
    diagnostics_.push_back(std::move(d));
  }
  return std::move(diagnostics_);
}

}  // namespace sopir
