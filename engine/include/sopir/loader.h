// Loading and checking SOP files.
//
// The loader reads one YAML file (one procedure), reports every problem it
// finds in one pass, and, when there are no errors, compiles the procedure
// (procedure.h). It never throws for problems in the file: they come back as
// diagnostics. It throws sopir::Error (kNotFound) only when a file cannot be
// read.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/procedure.h"

namespace sopir {

enum class Severity { kError, kWarning };

// Diagnostic codes (stable; tests and tools may match on them).
//   Reading: too-large, binary, bad-character, not-utf8, tab-indent, too-deep,
//     several-documents, yaml-syntax, empty-file, not-a-map, duplicate-key.
//   Structure (errors): unknown-key, missing-key, bad-key, bad-value, bad-id,
//     duplicate-id, unknown-state, unknown-field, unknown-role, unknown-event,
//     no-initial-state, several-initial-states, bad-guard, bad-set,
//     bad-duration, bad-enum-value, bad-bound, bad-pattern.
//   Deadlines and calendars (errors): unknown-calendar, bad-calendar (in a
//     calendar file: bad date, duplicate date, date outside its range, ...),
//     bad-anchor (a deadline counted from a field that is no date).
//   Lint (warnings; errors under strict): unreachable-state, dead-end-state,
//     no-terminal-path, overlapping-guards, no-roles, unset-field-read,
//     unused-field, unused-role, terminal-with-exits, missing-language,
//     anchor-may-be-empty, calendar-range, calendar-partial (the last two
//     are measured from `today` and stay warnings under strict).
//   Clocks and sources (errors): unknown-clock (clock_overdue('x') names no
//     clock of the procedure).
//   Migration (migrate:, sopir/migration.h): migrate-trap (a landing state
//     from which no end can be reached); against an older version
//     (check_migration): migrate-unmapped, migrate-type, migrate-value,
//     migrate-version, migrate-other-sop, and the warning migrate-field-left.
//   Also: too-many-problems (the rest were dropped), internal.
// Lint runs only when there are no errors: its findings on a half-read
// procedure would mislead.
struct Diagnostic {
  Severity severity = Severity::kError;
  std::string code;     // stable id, e.g. "unknown-key", "unreachable-state"
  std::string file;
  int line = 0;         // 1-based; 0 when the problem has no single place
  int column = 0;       // 1-based
  std::string message;  // one sentence, may end with "did you mean 'x'?"
  std::string source_line;  // the line of the file the position points into

  // "file:line:col: error: message" then, when there is a position, the
  // source line and a caret under the column; every line ends with '\n'.
  // Without a position: "file: error: message\n".
  std::string format() const;
};

// The diagnostics formatted one after another (what a user sees).
std::string format_diagnostics(const std::vector<Diagnostic>& diagnostics);

struct LoadOptions {
  bool strict = false;  // lint warnings become errors
  // Where a calendar named by the procedure (`calendar: NAME`) is found:
  // first `calendars` (by name; a store passes the pinned bytes here), then
  // NAME.yaml in each of `calendar_dirs`, then, for load_procedure_file, in
  // the folder `calendars` beside the procedure file.
  std::map<std::string, CalendarSource> calendars = {};
  std::vector<std::string> calendar_dirs = {};
  // The day lint measures calendar coverage from (`calendar-range`); unset:
  // no coverage warning. Never read from a clock by the loader itself.
  std::optional<Date> today = {};
};

// Files larger than this are refused before parsing.
inline constexpr size_t kMaxProcedureBytes = 1 << 20;
// Deeper YAML nesting (block or flow) is refused before parsing.
inline constexpr int kMaxYamlDepth = 64;

struct LoadResult {
  ProcedurePtr procedure;  // null when there are errors
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in file order

  bool ok() const { return procedure != nullptr; }
  size_t error_count() const;
  size_t warning_count() const;
};

// Loads from a file on disk; `file` is used in messages as given.
LoadResult load_procedure_file(const std::string& file, const LoadOptions& options = {});

// Loads from text already in memory; `name` stands for the file in messages.
LoadResult load_procedure_string(std::string_view text, const std::string& name,
                                 const LoadOptions& options = {});

// Throws sopir::Error (kRefused) with every error formatted when the load
// failed; returns the procedure otherwise.
ProcedurePtr expect_procedure(const LoadResult& result);

}  // namespace sopir
