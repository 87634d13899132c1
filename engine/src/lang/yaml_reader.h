// Reading one SOP file's YAML safely: the adapter around yaml-cpp.
//
// Before yaml-cpp sees the text it is checked for what yaml-cpp handles
// badly or not at all: invalid UTF-8, binary bytes (yaml-cpp stops silently
// at a NUL), tabs in indentation, and nesting deep enough to exhaust the
// stack. yaml-cpp's exceptions are caught here and become located
// diagnostics. After parsing, duplicate map keys (which yaml-cpp 0.7 keeps
// silently) are reported, and a document that aliases expand past a node
// budget is refused, so later walks stay linear in the file's size.
#pragma once

#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "base/diagnostics.h"
#include "base/source_text.h"

namespace sopir {

// Nodes a document may expand to (aliases counted each time they are used).
inline constexpr size_t kMaxYamlNodes = 1000000;

// 1-based position of a yaml-cpp mark; 1:1 for a null mark.
SourcePos position_of(const YAML::Mark& mark);

// What a file read by read_yaml holds, for the errors about an empty file
// and a top level that is no map (each says how its kind of file starts).
enum class YamlDocument { kProcedure, kScenarios, kCalendar };

// Parses `source` into its root node. Returns std::nullopt (with at least
// one error reported) when the file is not usable YAML, is empty, or holds
// more than one document, or its top level is not a map.
std::optional<YAML::Node> read_yaml(const SourceText& source, DiagnosticSink& sink,
                                    YamlDocument kind = YamlDocument::kProcedure);

}  // namespace sopir
