// Lint warnings: which ones fire, where, and which do not (the corpus in
// tests/broken checks whole messages; these check the rules' edges).
#include <catch2/catch.hpp>

#include <algorithm>

#include "lang/loader_internal.h"
#include "sopir/loader.h"

namespace sopir {
namespace {

const char kHead[] = R"(sop: lint-case
version: 1
title: T
roles: [staff]
fields:
  age: {type: int}
  consent: {type: bool}
  note: {type: string}
)";

std::vector<std::string> codes(const std::string& rest) {
  const LoadResult r = load_procedure_string(std::string(kHead) + rest, "l.yaml");
  INFO(format_diagnostics(r.diagnostics));
  REQUIRE(r.error_count() == 0);
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(d.code + "@" + std::to_string(d.line));
  return out;
}

}  // namespace

TEST_CASE("guard_reads skips has() arguments, functions, strings and numbers", "[lint]") {
  std::vector<FieldDef> fields(3);
  fields[0].id = "age";
  fields[1].id = "consent";
  fields[2].id = "note";
  const auto reads = guard_reads("has(age) and has ( note ) or note == 'age' and days_since(x) < 14d "
                                 "and consent and age > 2026-01-01",
                                 fields);
  REQUIRE(reads.size() == 3);
  CHECK(reads[0] == std::make_pair(2, size_t{29}));   // note == ...
  CHECK(reads[1] == std::make_pair(1, size_t{71}));   // consent
  CHECK(reads[2] == std::make_pair(0, size_t{83}));   // age > ...
}

TEST_CASE("a field read in a guard must be set on every path", "[lint]") {
  const std::string states = R"(states:
  a: {initial: true}
  b: {}
  c: {}
  d: {terminal: true}
transitions:
  - {event: via_set, from: a, to: b, roles: [staff], set: {age: 20}}
  - {event: via_require, from: a, to: c, roles: [staff], requires: [age]}
  - {event: go, from: b, to: c, roles: [staff]}
  - {event: done, from: c, to: d, roles: [staff], when: age > 3}
)";
  // Every path into c sets or requires age: no warning.
  CHECK(codes(states).empty());

  // A path that skips both: the guard's read is flagged, at the name.
  const std::string leaky = std::string(states) +
                            "  - {event: skip, from: a, to: c, roles: [staff]}\n";
  CHECK(codes(leaky) == std::vector<std::string>{"unset-field-read@18"});
  const LoadResult r = load_procedure_string(std::string(kHead) + leaky, "l.yaml");
  CHECK(r.diagnostics[0].column == 57);

  // Requiring it on the guarded transition itself also settles it.
  std::string own = std::string(states) + "  - {event: skip, from: a, to: c, roles: [staff]}\n";
  own.replace(own.find("when: age > 3}"), 14, "when: age > 3, requires: [age]}");
  CHECK(codes(own).empty());
}

TEST_CASE("open.requires counts as set; has() is a deliberate test", "[lint]") {
  CHECK(codes(R"(states:
  a: {initial: true}
  d: {terminal: true}
transitions:
  - {event: done, from: a, to: d, roles: [staff], when: age > 3 and (has(note) or consent)}
open: {requires: [age, consent], accepts: [note]}
)").empty());
}

TEST_CASE("a read the guard protects itself is not flagged; one it does not is", "[lint]") {
  // No path sets age or note: only the guard can make a read safe.
  const auto flagged = [](const std::string& guard) {
    return codes(
        "states:\n  a: {initial: true}\n  d: {terminal: true}\ntransitions:\n"
        "  - {event: done, from: a, to: d, roles: [staff], when: \"" +
        guard +
        "\"}\n"
        "open: {accepts: [age, consent, note]}\n");
  };
  const std::vector<std::string> none;
  const std::vector<std::string> one{"unset-field-read@13"};
  // Protected: has() beside the read in an `and`, its negation in an `or`
  // (in either order), a test against null, count and len.
  CHECK(flagged("has(note) and note != 'x'") == none);
  CHECK(flagged("note != 'x' and has(note)") == none);
  CHECK(flagged("not has(age) or age >= 18") == none);
  CHECK(flagged("age == null or age >= 18") == none);
  CHECK(flagged("age != null and age < 18 and consent == true and has(consent)") == none);
  CHECK(flagged("(has(age) and has(note)) and age > 3 and note == 'x'") == none);
  CHECK(flagged("note == null") == none);
  CHECK(flagged("len(note) > 3") == none);
  // Not protected: has() on another field, inside an `or` of an `and`, or
  // negated in an `and`.
  CHECK(flagged("has(note) and age > 3") == one);
  CHECK(flagged("(has(age) or has(note)) and age > 3") == one);
  CHECK(flagged("not has(age) and age > 3") == one);
  CHECK(flagged("has(age) or age > 3") == one);
  CHECK(flagged("note != 'x'") == one);
}

TEST_CASE("timer transitions need no roles; others do", "[lint]") {
  CHECK(codes(R"(states:
  a: {initial: true, deadline: 1d, on_deadline: expire}
  d: {terminal: true}
transitions:
  - {event: expire, from: a, to: d}
  - {event: finish, from: a, to: d}
)") == std::vector<std::string>{"unused-role@4", "no-roles@14"});
}

TEST_CASE("unused fields are only reported when open: is declared", "[lint]") {
  const std::string body = R"(states:
  a: {initial: true}
  d: {terminal: true}
transitions:
  - {event: finish, from: a, to: d, roles: [staff], requires: [age]}
)";
  CHECK(codes(body).empty());
  CHECK(codes(body + "open: {accepts: [note]}\n") == std::vector<std::string>{"unused-field@7"});
}

TEST_CASE("guards that differ, or one guarded and one not, do not overlap", "[lint]") {
  CHECK(codes(R"(states:
  a: {initial: true}
  d: {terminal: true}
  e: {terminal: true}
transitions:
  - {event: finish, from: a, to: d, roles: [staff], requires: [age], when: age > 3}
  - {event: finish, from: a, to: e, roles: [staff], requires: [age], when: age <= 3}
  - {event: close, from: a, to: d, roles: [staff]}
  - {event: close, from: a, to: e, roles: [staff], when: consent == true, requires: [consent]}
)").empty());
}

TEST_CASE("plain-text labels are language-neutral", "[lint]") {
  CHECK(codes(R"(states:
  a: {initial: true, label: {en: Start, id: Mulai}}
  d: {terminal: true, label: SELESAI-01}
transitions:
  - {event: finish, from: a, to: d, roles: [staff], label: {en: Finish}}
)") == std::vector<std::string>{"missing-language@13"});
}

TEST_CASE("a reopened case re-enters at reopen_to, so that state is reachable", "[lint]") {
  CHECK(codes(R"(states:
  a: {initial: true}
  d: {terminal: true}
  again: {}
transitions:
  - {event: finish, from: a, to: d, roles: [staff]}
  - {event: finish, from: again, to: d, roles: [staff]}
lifecycle: {reopen_to: again}
)").empty());
}

}  // namespace sopir
