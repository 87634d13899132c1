// Collecting the loader's diagnostics for one file.
//
// Everything the loader finds goes through a DiagnosticSink: it attaches the
// file name and the source line, caps the number kept (a file of junk could
// otherwise yield a million), and hands them back sorted in file order.
#pragma once

#include <string>
#include <vector>

#include "sopir/loader.h"
#include "base/source_text.h"

namespace sopir {

class DiagnosticSink {
 public:
  // At most this many are kept; one more says the rest were dropped.
  static constexpr size_t kMaxDiagnostics = 100;

  // `source` may be null (no text to quote) and must outlive the sink.
  DiagnosticSink(std::string file, const SourceText* source);

  void report(Severity severity, std::string code, SourcePos pos, std::string message);
  void error(std::string code, SourcePos pos, std::string message) {
    report(Severity::kError, std::move(code), pos, std::move(message));
  }
  void warning(std::string code, SourcePos pos, std::string message) {
    report(Severity::kWarning, std::move(code), pos, std::move(message));
  }

  bool has_errors() const { return errors_ > 0; }

  // Everything reported, stably sorted by position (file-level ones, at line
  // 0, first); under `strict` warnings come back as errors.
  std::vector<Diagnostic> take(bool strict);

 private:
  std::string file_;
  const SourceText* source_;
  std::vector<Diagnostic> diagnostics_;
  size_t errors_ = 0;
  size_t dropped_ = 0;
};

}  // namespace sopir
