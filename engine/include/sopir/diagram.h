// Diagrams of a compiled procedure, as text for other tools to draw.
//
// States are labelled in the chosen language (falling back as Text::get
// does, then to the state id); each edge carries its event, its guard in
// canonical form, and the roles that may fire it (or "system" for a timer
// event without roles). The initial state is marked by an arrow from a start
// point; terminal states by an arrow to an end point (Mermaid) or a double
// border (dot). The procedures a step opens (hand-offs, tracks) are drawn
// once each beside their parent ("opens ID" in Mermaid, a dashed box in
// dot), with an edge from the state the step leads to, named by its event.
// Pure functions: no I/O.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sopir/procedure.h"

namespace sopir {

// Mermaid `stateDiagram-v2` text.
std::string to_mermaid(const Procedure& procedure, std::string_view lang = "en");

// Graphviz dot text (a digraph), ready for `dot -Tsvg`.
std::string to_dot(const Procedure& procedure, std::string_view lang = "en");

// Per-state additions to the dot text, by state id: a fill colour
// ("#rrggbb") and a second line under the state's label.
struct DotShading {
  std::map<std::string, std::string> fill;
  std::map<std::string, std::string> note;
};
std::string to_dot(const Procedure& procedure, std::string_view lang, const DotShading& shading);

}  // namespace sopir
