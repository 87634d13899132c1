// A compiled procedure as JSON (internal), so that a process can rebuild a
// published procedure without parsing its YAML again: parsing a large
// procedure costs more than the rest of a one-shot `sopir case advance`.
// The store keeps the compiled form beside the source (procedures.compiled);
// the source stays the authority: audit compiles from the source only, and
// verify reports a compiled form that disagrees with its source.
//
// Names, indices, texts and flags are copied as they are; guard and `set`
// expressions are kept as their text and parsed again against the fields
// (that parser is fast; YAML is what is slow).
#pragma once

#include <string>
#include <string_view>

#include "sopir/procedure.h"

namespace sopir {

// The format tag written first; a compiled form with another tag is not
// read. Bump it whenever Procedure or the loader's output changes meaning.
inline constexpr const char* kCompiledFormat = "sopir-compiled-3";

// A procedure that names a calendar is not encoded (""): its calendar is
// pinned beside it in the store, and it is loaded from source with it.
std::string encode_procedure(const Procedure& procedure);

// The procedure `text` (from encode_procedure) describes, with `source`,
// its SHA-256 and `file` filled in; null when `text` is not a compiled form
// of this format, is damaged, or describes another source (the caller then
// loads the source itself). Never throws.
ProcedurePtr decode_procedure(std::string_view text, const std::string& source, const std::string& file);

}  // namespace sopir
