// Loader tests: the broken-procedure corpus (whole-string comparison, as
// ninja's manifest_parser_test does), the compiled form of a small valid
// procedure, and robustness cases that are easier to build in code.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/loader.h"

namespace sopir {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> broken_cases() {
  std::vector<std::string> names;
  const std::string dir = std::string(SOPIR_SOURCE_DIR) + "/tests/broken";
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      std::string name = entry->d_name;
      if (name.size() > 5 && name.substr(name.size() - 5) == ".yaml") {
        names.push_back(name.substr(0, name.size() - 5));
      }
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

const char kValid[] = R"(sop: aid-distribution
version: 3
title: {en: Relief item distribution, id: Distribusi bantuan}
roles: [shelter_staff, supervisor]
fields:
  item: {type: enum, values: [hygiene_kit, food_pack], label: {en: Item, id: Barang}}
  quantity: {type: int, min: 1, max: 500, label: {en: Quantity, id: Jumlah}}
  approved_on: {type: date, label: {en: Approved on, id: Disetujui pada}}
  note: {type: string, pii: true, pattern: '[a-z ]*', label: {en: Note, id: Catatan}}
states:
  requested:
    label: {en: Requested, id: Diajukan}
    initial: true
    deadline: 2d
    on_deadline: escalate
  approved: {label: {en: Approved, id: Disetujui}}
  delivered: {label: {en: Delivered, id: Diserahkan}, terminal: true}
  cancelled: {label: {en: Cancelled, id: Dibatalkan}, terminal: true}
transitions:
  - event: approve
    from: requested
    to: approved
    when: quantity <= 100
    roles: [supervisor]
    set: {approved_on: today(), item: food_pack}
    distinct_from: [request_more]
  - event: escalate
    from: requested
    to: approved
  - event: request_more
    from: approved
    to: requested
    roles: [shelter_staff]
    accepts: [note]
  - event: deliver
    from: approved
    to: delivered
    roles: [shelter_staff]
    reason: required
    override: {roles: [supervisor]}
  - event: cancel
    from: '*'
    to: cancelled
    roles: [supervisor]
closure_reasons: [needs_met, {id: declined, label: {en: Declined, id: Menolak}}]
open:
  requires: [item, quantity]
lifecycle:
  close: [supervisor]
  reopen_to: requested
pii_visible_to: [supervisor]
)";

}  // namespace

TEST_CASE("every broken procedure gives exactly its expected diagnostics", "[loader][broken]") {
  const auto names = broken_cases();
  REQUIRE(names.size() >= 30);
  for (const auto& name : names) {
    const std::string base = std::string(SOPIR_SOURCE_DIR) + "/tests/broken/" + name;
    std::string expected = read_file(base + ".expected");
    LoadOptions options;
    const std::string strict_line = "--strict\n";
    if (expected.compare(0, strict_line.size(), strict_line) == 0) {
      options.strict = true;
      expected.erase(0, strict_line.size());
    }
    const LoadResult result =
        load_procedure_string(read_file(base + ".yaml"), "tests/broken/" + name + ".yaml", options);
    INFO("case " << name);
    CHECK(format_diagnostics(result.diagnostics) == expected);
    // A broken file either fails to load or loads with warnings to show.
    CHECK((!result.ok() || result.warning_count() > 0));
    for (const auto& d : result.diagnostics) CHECK(!d.code.empty());
  }
}

TEST_CASE("the corpus covers every diagnostic code", "[loader][broken]") {
  std::set<std::string> seen;
  for (const auto& name : broken_cases()) {
    const std::string base = std::string(SOPIR_SOURCE_DIR) + "/tests/broken/" + name;
    for (const auto& d : load_procedure_string(read_file(base + ".yaml"), name).diagnostics) {
      seen.insert(d.code);
    }
  }
  for (const char* code : {"yaml-syntax",
                           "not-a-map",
                           "scenario-file",
                           "empty-file",
                           "binary",
                           "not-utf8",
                           "bad-character",
                           "tab-indent",
                           "duplicate-key",
                           "too-deep",
                           "too-large",
                           "several-documents",
                           "unknown-key",
                           "missing-key",
                           "bad-id",
                           "duplicate-id",
                           "unknown-state",
                           "unknown-field",
                           "unknown-role",
                           "unknown-event",
                           "no-initial-state",
                           "several-initial-states",
                           "bad-guard",
                           "bad-set",
                           "bad-duration",
                           "bad-enum-value",
                           "bad-bound",
                           "bad-pattern",
                           "bad-value",
                           "unreachable-state",
                           "dead-end-state",
                           "no-terminal-path",
                           "overlapping-guards",
                           "no-roles",
                           "unset-field-read",
                           "unused-field",
                           "unused-role",
                           "terminal-with-exits",
                           "missing-language",
                           "set-count",
                           "unknown-calendar",
                           "bad-anchor",
                           "anchor-may-be-empty",
                           "unknown-track",
                           "migrate-trap",
                           "bad-retention",
                           "retention-no-pii",
                           "retention-never-closes",
                           "timer-blocked"}) {
    INFO("code " << code);
    CHECK(seen.count(code) == 1);
  }
}

TEST_CASE("a valid procedure compiles to indices", "[loader]") {
  const LoadResult result = load_procedure_string(kValid, "aid.yaml", LoadOptions{true});
  INFO(format_diagnostics(result.diagnostics));
  REQUIRE(result.ok());
  REQUIRE(result.diagnostics.empty());
  const Procedure& p = *result.procedure;
  CHECK(p.id == "aid-distribution");
  CHECK(p.version == 3);
  CHECK(p.title.get("id") == "Distribusi bantuan");
  CHECK(p.roles == std::vector<std::string>{"shelter_staff", "supervisor"});
  CHECK(p.field_ids() == std::vector<std::string>{"item", "quantity", "approved_on", "note"});
  CHECK(p.fields[0].type == Type::kEnum);
  CHECK(p.fields[0].values == std::vector<std::string>{"hygiene_kit", "food_pack"});
  CHECK(std::get<int64_t>(*p.fields[1].min) == 1);
  CHECK(std::get<int64_t>(*p.fields[1].max) == 500);
  CHECK(p.fields[3].pii);
  CHECK(*p.fields[3].pattern == "[a-z ]*");
  CHECK(p.fields[1].pos.line == 7);
  CHECK(p.state_ids() == std::vector<std::string>{"requested", "approved", "delivered", "cancelled"});
  CHECK(p.initial_state == 0);
  CHECK(p.states[0].deadline->seconds == 2 * 86400);
  CHECK(p.states[2].terminal);
  CHECK(p.events == std::vector<std::string>{"approve", "escalate", "request_more", "deliver", "cancel"});
  CHECK(p.states[0].on_deadline == p.event_index("escalate"));

  REQUIRE(p.transitions.size() == 5);
  const TransitionDef& approve = p.transitions[0];
  CHECK(approve.index == 0);
  CHECK(approve.event == 0);
  CHECK(approve.from == std::vector<int>{0});
  CHECK(approve.to == 1);
  CHECK(approve.guard != nullptr);
  CHECK(approve.guard_text == "quantity <= 100");
  CHECK(approve.roles == std::vector<int>{1});
  CHECK(approve.distinct_from == std::vector<int>{2});
  REQUIRE(approve.set.size() == 2);
  CHECK(approve.set[0].field == 2);
  CHECK(approve.set[0].text == "today()");
  CHECK(approve.set[1].field == 0);
  CHECK(approve.set[1].expr != nullptr);
  CHECK(p.transitions[1].roles.empty());  // fired by the timer
  CHECK(p.transitions[2].accepts_fields == std::vector<int>{3});
  CHECK(p.transitions[3].reason_required);
  CHECK(p.transitions[3].override_roles == std::vector<int>{1});
  CHECK_FALSE(p.transitions[2].reason_required);
  // '*' expands to every non-terminal state, in file order.
  CHECK(p.transitions[4].from == std::vector<int>{0, 1});
  CHECK(p.transitions[4].pos.line == 41);

  REQUIRE(p.transitions_from.size() == 4);
  CHECK(p.transitions_from[0] == std::vector<int>{0, 1, 4});
  CHECK(p.transitions_from[1] == std::vector<int>{2, 3, 4});
  CHECK(p.transitions_from[2].empty());
  CHECK(p.events_from(1) == std::vector<std::string>{"request_more", "deliver", "cancel"});
  CHECK(p.event_indices_from(1) == std::vector<int>{p.event_index("request_more"),
                                                    p.event_index("deliver"),
                                                    p.event_index("cancel")});
  CHECK(p.event_indices_from(2).empty());   // terminal: no events leave it
  CHECK(p.event_indices_from(-1).empty());  // no state
  CHECK(p.event_indices_from(4).empty());

  CHECK(p.closure_reasons.size() == 2);
  CHECK(p.closure_reasons[1].label.get("en") == "Declined");
  CHECK(p.open_declared);
  CHECK(p.open_requires == std::vector<int>{0, 1});
  CHECK(p.close_roles == std::vector<int>{1});
  CHECK(p.hold_roles == std::vector<int>{0, 1});  // default: every role
  CHECK(p.reopen_to == 0);
  CHECK(p.pii_roles == std::vector<int>{1});

  CHECK(p.file == "aid.yaml");
  CHECK(p.source == kValid);
  CHECK(p.sha256 == sha256_hex(kValid));
  CHECK(p.sha256.size() == 64);
}

TEST_CASE("the hash covers the exact bytes, byte order mark included", "[loader]") {
  const std::string with_bom = std::string("\xEF\xBB\xBF") + kValid;
  const LoadResult a = load_procedure_string(kValid, "a.yaml");
  const LoadResult b = load_procedure_string(with_bom, "b.yaml");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(b.procedure->source == with_bom);
  CHECK(a.procedure->sha256 != b.procedure->sha256);
  CHECK(b.procedure->sha256 == sha256_hex(with_bom));
}

TEST_CASE("without sections the defaults apply", "[loader]") {
  const LoadResult r = load_procedure_string(R"(sop: tiny
version: 1
title: Tiny
roles: [staff, lead]
states:
  open: {initial: true}
  done: {terminal: true}
transitions:
  - {event: finish, from: open, to: done, roles: [staff]}
  - {event: finish, from: open, to: done, roles: [lead], when: 'true'}
)", "tiny.yaml");
  INFO(format_diagnostics(r.diagnostics));
  REQUIRE(r.ok());
  const Procedure& p = *r.procedure;
  CHECK_FALSE(p.open_declared);
  CHECK(p.reopen_to == -1);
  CHECK(p.reopen_roles == std::vector<int>{0, 1});
  CHECK(p.pii_roles.empty());
  CHECK(p.events == std::vector<std::string>{"finish"});
  CHECK(p.transitions_from[0] == std::vector<int>{0, 1});
}

TEST_CASE("a misspelt key, an unknown state and a guard type error are all reported",
          "[loader]") {
  const LoadResult r = load_procedure_string(R"(sop: shelter-intake
version: 1
title: Intake
roles: [case_worker]
fields:
  age: {type: int}
states:
  intake: {initial: true, lable: Intake}
  done: {terminal: true}
transitions:
  - event: finish
    from: intake
    to: dnoe
    when: "age >= 'adult'"
    roles: [case_worker]
)", "x.yaml");
  CHECK_FALSE(r.ok());
  CHECK(format_diagnostics(r.diagnostics) ==
        "x.yaml:8:27: error: unknown key 'lable' in state 'intake'; did you mean 'label'?\n"
        "  intake: {initial: true, lable: Intake}\n"
        "                          ^\n"
        "x.yaml:13:9: error: unknown state 'dnoe' in to of transition 'finish'; did you mean "
        "'done'?\n"
        "    to: dnoe\n"
        "        ^\n"
        "x.yaml:14:19: error: in guard: cannot compare age (int) with 'adult' (text)\n"
        "    when: \"age >= 'adult'\"\n"
        "                  ^\n");
  CHECK(r.error_count() == 3);
  CHECK(r.diagnostics[0].code == "unknown-key");
  CHECK(r.diagnostics[1].code == "unknown-state");
  CHECK(r.diagnostics[2].code == "bad-guard");
  CHECK_THROWS_AS(expect_procedure(r), Error);
}

TEST_CASE("a missing top-level key is located, at the key mistyped for it when there is one",
          "[loader]") {
  SECTION("at the top-level map, after the comments that open the file") {
    const LoadResult r = load_procedure_string(
        "# Intake\n\nsop: intake\nversion: 1\nroles: [staff]\nstates: {a: {initial: true, "
        "terminal: true}}\n"
        "transitions: []\n",
        "x.yaml");
    CHECK(format_diagnostics(r.diagnostics) ==
          "x.yaml:3:1: error: missing key 'title' in the procedure\n"
          "sop: intake\n"
          "^\n");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == "missing-key");
    CHECK(r.diagnostics[0].line == 3);
    CHECK(r.diagnostics[0].column == 1);
  }
  SECTION("a typo: the unknown key first, then the missing key at the same place, in file order") {
    const LoadResult r = load_procedure_string(
        "sop: intake\nversion: 1\ntitle: Intake\nrolse: [staff]\nstates: {a: {initial: true, "
        "terminal: true}}\n"
        "transitions: []\n",
        "x.yaml");
    CHECK(
        format_diagnostics(r.diagnostics) ==
        "x.yaml:4:1: error: unknown key 'rolse' in the procedure; did you mean 'roles'?\n"
        "rolse: [staff]\n"
        "^\n"
        "x.yaml:4:1: error: missing key 'roles' in the procedure; is 'rolse' here meant to be it?\n"
        "rolse: [staff]\n"
        "^\n");
  }
}

TEST_CASE("guard error columns follow the scalar's style", "[loader]") {
  auto column_of = [](const std::string& when) {
    const std::string text = "sop: a\nversion: 1\ntitle: T\nroles: [r]\nfields: {n: {type: int}}\n"
                             "states: {s: {initial: true}, t: {terminal: true}}\n"
                             "transitions:\n- event: e\n  from: s\n  to: t\n  roles: [r]\n  when: " +
                             when + "\n";
    const LoadResult r = load_procedure_string(text, "g.yaml");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == "bad-guard");
    std::pair<int, int> at{r.diagnostics[0].line, r.diagnostics[0].column};
    CAPTURE(at.first, at.second);
    return at;
  };
  // 'x' is the bad name in each; line 12 is the `when:` line.
  CHECK(column_of("n > 1 and x") == std::make_pair(12, 19));
  CHECK(column_of("\"n > 1 and x\"") == std::make_pair(12, 20));
  CHECK(column_of("'n > 1 and x'") == std::make_pair(12, 20));
  CHECK(column_of("'n == 1 or ''a'' == x'") == std::make_pair(12, 29));
  CHECK(column_of("\"n == 1 or \\\"a\\\" == x\"") == std::make_pair(12, 29));
  CHECK(column_of("|\n    n > 1\n      and x") == std::make_pair(14, 11));
  CHECK(column_of(">-\n    n > 1\n    and x") == std::make_pair(14, 9));
  CHECK(column_of("n > 1\n    and x") == std::make_pair(13, 9));
}

TEST_CASE("loader robustness against size nesting and junk", "[loader]") {
  SECTION("a file over the size cap is refused before parsing") {
    std::string big = "sop: big\ndescription: \"";
    big.append(kMaxProcedureBytes, 'a');
    big += "\"\n";
    const LoadResult r = load_procedure_string(big, "big.yaml");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].code == "too-large");
    CHECK(r.diagnostics[0].format().rfind("big.yaml: error: the file is 1048601 bytes;", 0) == 0);
  }
  SECTION("very deep flow nesting is refused, not recursed into") {
    std::string deep = "sop: [";
    deep.append(100000, '[');
    const LoadResult r = load_procedure_string(deep, "deep.yaml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.diagnostics[0].code == "too-deep");
  }
  SECTION("brackets inside quotes do not count as nesting") {
    std::string text = std::string("sop: x\ntitle: '") + std::string(200, '[') + "'\n";
    const LoadResult r = load_procedure_string(text, "q.yaml");
    for (const auto& d : r.diagnostics) CHECK(d.code != "too-deep");
  }
  SECTION("a file that is only a scalar") {
    const LoadResult r = load_procedure_string("just words\n", "s.yaml");
    REQUIRE(r.diagnostics.size() == 1);
    CHECK(r.diagnostics[0].format() ==
          "s.yaml:1:1: error: the top level is a single value ('just words'); a procedure is a map "
          "of keys like sop:, version:, states:\njust words\n^\n");
  }
  SECTION("random bytes never crash") {
    uint32_t seed = 12345;
    for (int round = 0; round < 300; ++round) {
      std::string junk;
      for (int i = 0; i < 200; ++i) {
        seed = seed * 1103515245u + 12345u;
        const char alphabet[] = "ab: -[]{}'\"\n\t#&*!|>?,0123456789";
        junk += alphabet[(seed >> 16) % (sizeof alphabet - 1)];
      }
      const LoadResult r = load_procedure_string(junk, "junk.yaml");
      CHECK_FALSE(r.ok());
    }
  }
}

TEST_CASE("load_procedure_file reads from disk and reports missing files", "[loader]") {
  const std::string path = std::string(SOPIR_BINARY_DIR) + "/loader_test_valid.yaml";
  {
    std::ofstream out(path, std::ios::binary);
    out << kValid;
  }
  const LoadResult r = load_procedure_file(path);
  REQUIRE(r.ok());
  CHECK(r.procedure->file == path);
  CHECK(r.procedure->sha256 == sha256_hex(kValid));
  CHECK_THROWS_AS(load_procedure_file(path + ".missing"), Error);
  try {
    load_procedure_file(path + ".missing");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kNotFound);
  }
}

TEST_CASE("strict turns warnings into errors but still reports them all", "[loader]") {
  const std::string text = R"(sop: s
version: 1
title: S
roles: [staff, idle]
states:
  a: {initial: true}
  b: {terminal: true}
  c: {}
transitions:
  - {event: go, from: a, to: b, roles: [staff]}
)";
  const LoadResult lax = load_procedure_string(text, "s.yaml");
  CHECK(lax.ok());
  CHECK(lax.warning_count() == 3);  // unused role, unreachable c, dead end c
  const LoadResult strict = load_procedure_string(text, "s.yaml", LoadOptions{true});
  CHECK_FALSE(strict.ok());
  CHECK(strict.error_count() == 3);
  CHECK(strict.warning_count() == 0);
}

}  // namespace sopir

namespace sopir {

TEST_CASE("shipped workflows load under strict with no diagnostics", "[loader][workflows]") {
  const std::string dir = std::string(SOPIR_SOURCE_DIR) + "/workflows";
  std::vector<std::string> files;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* entry = readdir(d)) {
      const std::string name = entry->d_name;
      const bool yaml = name.size() > 5 && name.substr(name.size() - 5) == ".yaml";
      const bool scenario = name.find(".test.") != std::string::npos;
      if (yaml && !scenario) files.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  if (files.empty()) {
    WARN("no workflows/*.yaml in this tree");
    return;
  }
  for (const auto& file : files) {
    const LoadResult r = load_procedure_file(file, LoadOptions{true});
    INFO(file << "\n" << format_diagnostics(r.diagnostics));
    CHECK(r.ok());
    CHECK(r.diagnostics.empty());
  }
}

}  // namespace sopir
