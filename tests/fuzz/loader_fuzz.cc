// Fuzzes the loader: any bytes go through load_procedure_string, plainly and
// under strict. Beyond "no crash, hang or runaway memory", checks that
// every diagnostic is well formed (a code, a message, a position inside the
// file when it has one), that a load without errors yields a procedure
// whose indices are all in range and whose hash is of the exact bytes, and
// that diagrams of it can be drawn.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/sha256.h"
#include "sopir/diagram.h"
#include "sopir/loader.h"
#include "procedure_checks.h"

using namespace sopir;
using fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool strict : {false, true}) {
    const LoadResult r = load_procedure_string(text, "fuzz.yaml", LoadOptions{strict});
    for (const auto& d : r.diagnostics) {
      check(!d.code.empty() && !d.message.empty());
      check(d.line >= 0 && d.column >= 0);
      check(d.line == 0 || d.column >= 1);
      check(!d.format().empty());
    }
    check(r.ok() == (r.error_count() == 0));
    if (strict) check(r.warning_count() == 0);
    if (r.ok()) {
      check(r.procedure->source == text);
      check(r.procedure->sha256 == sha256_hex(text));
      fuzz::check_indices(*r.procedure);
      check(!to_mermaid(*r.procedure).empty());
      check(!to_dot(*r.procedure, "id").empty());
    }
  }
  return 0;
}
