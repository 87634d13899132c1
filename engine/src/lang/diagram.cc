// Mermaid and Graphviz renderings of a procedure (sopir/diagram.h).
//
// State ids are not used as diagram node ids: ids may hold '-', which both
// tools read as an operator; nodes are named s0, s1, ... by state index and
// show their label instead.
#include "sopir/diagram.h"

#include <algorithm>

#include "lang/expr/expr.h"

namespace sopir {

namespace {

std::string node(int state) { return "s" + std::to_string(state); }

std::string state_label(const Procedure& p, int s, std::string_view lang) {
  const StateDef& state = p.states[s];
  std::string label = state.label.get(lang);
  if (label.empty()) label = state.id;
  if (state.working_days > 0 || state.deadline_from >= 0) {
    label += " (deadline " + state.deadline_text + ")";
  } else if (state.deadline) {
    label += " (deadline " + format_duration(*state.deadline) + ")";
  }
  return label;
}

// The parts of an edge label: event, [guard], (roles).
std::vector<std::string> edge_parts(const Procedure& p, const TransitionDef& t, std::string_view lang) {
  std::vector<std::string> parts{p.events[t.event]};
  if (t.guard) {
    parts.push_back("[" + to_string(*t.guard, p.fields, lang) + "]");
  } else if (!t.guard_text.empty()) {
    parts.push_back("[" + t.guard_text + "]");
  }
  std::string roles;
  for (int r : t.roles) roles += (roles.empty() ? "" : ", ") + p.roles[r];
  if (roles.empty()) {
    for (const auto& s : p.states) {
      if (s.on_deadline == t.event) roles = "system";
    }
  }
  if (!roles.empty()) parts.push_back("(" + roles + ")");
  return parts;
}

// Mermaid text: line breaks flattened, and the characters that end or
// confuse a label written as entity codes.
std::string mermaid_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "#quot;"; break;
      case ':': out += "#58;"; break;
      case ';': out += "#59;"; break;
      case '#': out += "#35;"; break;
      case '\n':
      case '\r': out += ' '; break;
      default: out += c;
    }
  }
  return out;
}

// A dot double-quoted string's content.
std::string dot_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': break;
      default: out += c;
    }
  }
  return out;
}

// The procedures the transitions open (tracks and hand-offs), first use
// first; each is drawn once beside its parent, node "t<index>".
std::vector<std::string> opened_sops(const Procedure& p) {
  std::vector<std::string> out;
  for (const auto& t : p.transitions) {
    for (const HandOff& h : t.opens) {
      if (std::find(out.begin(), out.end(), h.sop) == out.end()) out.push_back(h.sop);
    }
  }
  return out;
}

// A step that stays in its state, taken from several states (`to: '*'`), is
// drawn once as its own node, "k<transition index>", not as a loop on each
// state; from one state it is a loop on that state.
bool drawn_apart(const TransitionDef& t) { return t.stays && t.from.size() > 1; }

std::string stay_node(const TransitionDef& t) { return "k" + std::to_string(t.index); }

std::string stay_label(const Procedure& p, const TransitionDef& t) {
  return p.events[t.event] + " (from " + std::to_string(t.from.size()) + " states; the case stays)";
}

// Where an arrow to the cases a step opens starts.
std::string opener_node(const TransitionDef& t) {
  return drawn_apart(t) ? stay_node(t) : node(t.stays ? t.from.front() : t.to);
}

std::string track_node(const std::vector<std::string>& sops, const std::string& sop) {
  return "t" + std::to_string(std::find(sops.begin(), sops.end(), sop) - sops.begin());
}

}  // namespace

std::string to_mermaid(const Procedure& p, std::string_view lang) {
  std::string out = "stateDiagram-v2\n";
  for (size_t s = 0; s < p.states.size(); ++s) {
    out += "  state \"" + mermaid_text(state_label(p, static_cast<int>(s), lang)) + "\" as " +
           node(static_cast<int>(s)) + "\n";
  }
  if (p.initial_state >= 0) out += "  [*] --> " + node(p.initial_state) + "\n";
  for (const auto& t : p.transitions) {
    std::string label;
    for (const auto& part : edge_parts(p, t, lang)) label += (label.empty() ? "" : " ") + part;
    if (drawn_apart(t)) {
      out += "  state \"" + mermaid_text(stay_label(p, t) + " " + label) + "\" as " + stay_node(t) + "\n";
      continue;
    }
    for (int from : t.from) {
      out += "  " + node(from) + " --> " + node(t.target(from)) + " : " + mermaid_text(label) + "\n";
    }
  }
  for (size_t s = 0; s < p.states.size(); ++s) {
    if (p.states[s].terminal) out += "  " + node(static_cast<int>(s)) + " --> [*]\n";
  }
  const std::vector<std::string> sops = opened_sops(p);
  for (const auto& sop : sops) out += "  state \"" + mermaid_text("opens " + sop) + "\" as " + track_node(sops, sop) + "\n";
  for (const auto& t : p.transitions) {
    for (const HandOff& h : t.opens)
      out += "  " + opener_node(t) + " --> " + track_node(sops, h.sop) + " : " + mermaid_text(p.events[t.event]) + "\n";
  }
  return out;
}

std::string to_dot(const Procedure& p, std::string_view lang) {
  return to_dot(p, lang, DotShading{});
}

std::string to_dot(const Procedure& p, std::string_view lang, const DotShading& shading) {
  std::string title = p.title.get(lang);
  if (title.empty()) title = p.id;
  std::string out = "digraph \"" + dot_text(p.id) + "\" {\n";
  out += "  label=\"" + dot_text(title) + "\";\n";
  out += "  labelloc=t;\n  rankdir=LR;\n";
  out += "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  out += "  start [shape=point, width=0.2, label=\"\"];\n";
  for (size_t s = 0; s < p.states.size(); ++s) {
    const std::string& id = p.states[s].id;
    std::string label = state_label(p, static_cast<int>(s), lang);
    if (auto note = shading.note.find(id); note != shading.note.end()) label += "\n" + note->second;
    std::string attributes = "label=\"" + dot_text(label) + "\"";
    if (p.states[s].terminal) attributes += ", peripheries=2";
    if (auto fill = shading.fill.find(id); fill != shading.fill.end())
      attributes += ", style=\"rounded,filled\", fillcolor=\"" + dot_text(fill->second) + "\"";
    out += "  " + node(static_cast<int>(s)) + " [" + attributes + "];\n";
  }
  if (p.initial_state >= 0) out += "  start -> " + node(p.initial_state) + ";\n";
  for (const auto& t : p.transitions) {
    std::string label;
    for (const auto& part : edge_parts(p, t, lang)) label += (label.empty() ? "" : "\n") + part;
    if (drawn_apart(t)) {
      out += "  " + stay_node(t) + " [label=\"" + dot_text(stay_label(p, t) + "\n" + label) +
             "\", shape=note];\n";
      continue;
    }
    for (int from : t.from) {
      out += "  " + node(from) + " -> " + node(t.target(from)) + " [label=\"" + dot_text(label) + "\"];\n";
    }
  }
  // Tracks and hand-offs: the cases a step opens, dashed, beside the state it leads to.
  const std::vector<std::string> sops = opened_sops(p);
  for (const auto& sop : sops)
    out += "  " + track_node(sops, sop) + " [label=\"" + dot_text(sop) + "\", shape=component, style=dashed];\n";
  for (const auto& t : p.transitions) {
    for (const HandOff& h : t.opens)
      out += "  " + opener_node(t) + " -> " + track_node(sops, h.sop) + " [label=\"" +
             dot_text("opens (" + p.events[t.event] + ")") + "\", style=dashed];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace sopir
