// Diagram output for a small procedure: exact Mermaid text, key dot lines,
// and dot accepted by the real Graphviz when it is installed.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "sopir/diagram.h"
#include "sopir/loader.h"

namespace sopir {
namespace {

const char kSmall[] = R"(sop: check-in
version: 1
title: {en: "Check-in", id: "Pendaftaran"}
roles: [staff, lead]
fields:
  age: {type: int}
states:
  arrived: {label: {en: Arrived, id: Tiba}, initial: true, deadline: 1d, on_deadline: remind}
  "screened": {label: {en: "Screened: \"ok\"", id: Disaring}}
  housed: {label: {en: Housed, id: Ditempatkan}, terminal: true}
transitions:
  - {event: screen, from: arrived, to: screened, roles: [staff, lead], when: "age >= 18", requires: [age]}
  - {event: remind, from: arrived, to: arrived}
  - {event: house, from: screened, to: housed, roles: [lead]}
)";

ProcedurePtr small() {
  const LoadResult r = load_procedure_string(kSmall, "small.yaml");
  INFO(format_diagnostics(r.diagnostics));
  return expect_procedure(r);
}

}  // namespace

TEST_CASE("mermaid diagram of a small procedure", "[diagram]") {
  const auto p = small();
  CHECK(to_mermaid(*p, "en") ==
        "stateDiagram-v2\n"
        "  state \"Arrived (deadline 1d)\" as s0\n"
        "  state \"Screened#58; #quot;ok#quot;\" as s1\n"
        "  state \"Housed\" as s2\n"
        "  [*] --> s0\n"
        "  s0 --> s1 : screen [age >= 18] (staff, lead)\n"
        "  s0 --> s0 : remind (system)\n"
        "  s1 --> s2 : house (lead)\n"
        "  s2 --> [*]\n");
  const std::string id = to_mermaid(*p, "id");
  CHECK(id.find("state \"Tiba (tenggat 1d)\" as s0") != std::string::npos);
  CHECK(id.find("state \"Ditempatkan\" as s2") != std::string::npos);
}

TEST_CASE("dot diagram of a small procedure", "[diagram]") {
  const auto p = small();
  const std::string dot = to_dot(*p, "id");
  CHECK(dot.rfind("digraph \"check-in\" {\n", 0) == 0);
  CHECK(dot.find("  label=\"Pendaftaran\";\n") != std::string::npos);
  CHECK(dot.find("  start -> s0;\n") != std::string::npos);
  CHECK(dot.find("  s2 [label=\"Ditempatkan\", peripheries=2];\n") != std::string::npos);
  CHECK(dot.find("  s1 [label=\"Disaring\"];\n") != std::string::npos);
  CHECK(dot.find("  s0 -> s1 [label=\"screen\\n[age >= 18]\\n(staff, lead)\"];\n") !=
        std::string::npos);
  CHECK(dot.find("  s0 -> s0 [label=\"remind\\n(system)\"];\n") != std::string::npos);
  CHECK(dot.back() == '\n');
  const std::string en = to_dot(*p, "en");
  CHECK(en.find("s1 [label=\"Screened: \\\"ok\\\"\"];") != std::string::npos);

  if (access("/usr/bin/dot", X_OK) != 0) {
    WARN("Graphviz not installed: dot output not checked by dot itself");
    return;
  }
  const std::string path = std::string(SOPIR_BINARY_DIR) + "/diagram_test.dot";
  std::ofstream(path) << en;
  const std::string command = "/usr/bin/dot -Tsvg " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string svg;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) svg.append(buffer, n);
  const int status = pclose(pipe);
  INFO(svg);
  CHECK(status == 0);
  CHECK(svg.find("<svg") != std::string::npos);
  CHECK(svg.find("Screened") != std::string::npos);
}

}  // namespace sopir
