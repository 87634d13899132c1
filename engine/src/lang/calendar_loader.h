// Reading holiday calendar files and giving a procedure its calendar
// (internal to the loader). File format: workflows/README.md, "Calendars".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/diagnostics.h"
#include "lang/loader_internal.h"
#include "sopir/calendar.h"
#include "sopir/loader.h"

namespace sopir {

// Reads one calendar file. Every problem goes to `diagnostics` (errors with
// code bad-calendar, located in `source.file`); null when there was one.
std::shared_ptr<Calendar> read_calendar(const CalendarSource& source, std::vector<Diagnostic>* diagnostics);

// Finds and reads the calendars `procedure` names (LoadOptions says where),
// merges them and sets procedure->calendar. An unknown name is reported to
// `sink` at its place in the procedure; the calendar files' own problems
// are added to `calendar_diagnostics`, and one error in `sink` says so.
// `procedure_dir` is the procedure file's folder, "" for none.
void attach_calendar(Procedure* procedure, const SourceMap& map, const LoadOptions& options,
                     const std::string& procedure_dir, DiagnosticSink& sink,
                     std::vector<Diagnostic>* calendar_diagnostics);

// The calendar a published procedure names (`names`, merged as the loader
// merges them), read from the bytes pinned when it was published; null
// when one of them is not pinned or no longer reads.
CalendarPtr pinned_calendar(const std::vector<std::string>& names,
                            const std::map<std::string, CalendarSource>& pinned);

}  // namespace sopir
