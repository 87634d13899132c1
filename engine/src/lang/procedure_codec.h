// A compiled procedure as text (internal), so that a process can rebuild a
// published procedure without parsing its YAML again: parsing a large
// procedure costs more than the rest of a one-shot `sopir case advance`.
// The form is read by position, not by name (procedure_codec.cc has its
// layout): every one-shot command decodes one.
// The store keeps the compiled form beside the source (procedures.compiled);
// the source stays the authority: audit compiles from the source only, and
// verify reports a compiled form that disagrees with its source.
//
// Names, indices, texts and flags are copied as they are; guard and `set`
// expressions are kept as their text and parsed again against the fields
// (that parser is fast; YAML is what is slow).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "sopir/procedure.h"

namespace sopir {

// The format tag written first; a compiled form with another tag is not
// read. Bump it whenever Procedure or the loader's output changes meaning.
inline constexpr std::string_view kCompiledFormat = "sopir-compiled-6";

// A procedure that names a calendar keeps only the calendar's names here:
// the calendar's bytes are pinned beside it in the store, and
// decode_procedure reads them from there.
std::string encode_procedure(const Procedure& procedure);

// The procedure `text` (from encode_procedure) describes, with `source`,
// its SHA-256 and `file` filled in; null when `text` is not a compiled form
// of this format, is damaged, or describes another source (the caller then
// loads the source itself). `pinned_calendars` holds, by name, the
// calendar files pinned with the procedure (Store::pinned_calendars); a
// form naming a calendar not among them is not read. Never throws.
ProcedurePtr decode_procedure(std::string_view text, const std::string& source, const std::string& file,
                              const std::map<std::string, CalendarSource>& pinned_calendars = {});

// The calendars pinned with a procedure, by name (Store::pinned_calendars).
using PinnedCalendars = std::function<std::map<std::string, CalendarSource>()>;
// A published version read for running its cases (Engine::procedure): the
// form is read only when it names `sha256`, the hash the case is pinned to
// and the store found the version's row by; its source is neither hashed
// nor kept (Procedure::source is left empty). What proves the form is the
// published one is what proves any other row: `sopir audit verify` checks
// that the stored source still hashes to `sha256` and that the form is
// exactly the source compiled again (procedure-changed, compiled-differs).
// `pinned_calendars` is called only when the form names a calendar, so a
// procedure without one costs no query for them. Null as decode_procedure.
ProcedurePtr decode_pinned_procedure(std::string_view text, const std::string& sha256, const std::string& file,
                                     const PinnedCalendars& pinned_calendars);

}  // namespace sopir
