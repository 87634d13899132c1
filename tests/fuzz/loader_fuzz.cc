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

namespace {

using namespace sopir;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_indices(const Procedure& p) {
  const int states = static_cast<int>(p.states.size());
  const int events = static_cast<int>(p.events.size());
  const int fields = static_cast<int>(p.fields.size());
  const int roles = static_cast<int>(p.roles.size());
  check(p.initial_state >= 0 && p.initial_state < states);
  check(p.transitions_from.size() == p.states.size());
  for (size_t i = 0; i < p.transitions.size(); ++i) {
    const TransitionDef& t = p.transitions[i];
    check(t.index == static_cast<int>(i));
    check(t.event >= 0 && t.event < events);
    check(t.stays ? t.to == -1 : t.to >= 0 && t.to < states);  // to: '*' stays where it is
    for (int s : t.from) check(s >= 0 && s < states);
    for (int r : t.roles) check(r >= 0 && r < roles);
    for (int f : t.requires_fields) check(f >= 0 && f < fields);
    for (const auto& a : t.set) check(a.field >= 0 && a.field < fields && a.expr != nullptr);
    for (int e : t.distinct_from) check(e >= 0 && e < events);
    check(t.guard_text.empty() == (t.guard == nullptr));
  }
  for (const auto& s : p.states) check(s.on_deadline >= -1 && s.on_deadline < events);
}

}  // namespace

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
      check_indices(*r.procedure);
      check(!to_mermaid(*r.procedure).empty());
      check(!to_dot(*r.procedure, "id").empty());
    }
  }
  return 0;
}
