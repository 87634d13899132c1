// Field patterns compiled once (base/pattern.h): the matcher against
// std::regex_match, its fallback to std::regex, and decide() refusing and
// accepting through a loaded and a decoded procedure.
#include "base/pattern.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "lang/procedure_codec.h"
#include "sopir/decide.h"
#include "test_procedures.h"

namespace sopir {
namespace {

// Texts over a small alphabet (digits, letters, space, '-', '/', '+', '_',
// a newline, a tab, a lone 0xC3 byte), of length 0 to 40, the same every run.
std::vector<std::string> texts() {
  const char alphabet[] = {'0', '1', '7', '9', '9', 'a', 'A', 'Z', 'z', ' ', '-', '/', '+', '_', '\n', '\t', '\xC3'};
  std::vector<std::string> out = {"", "0", "00", "1234567890123456", "12345678901234567", "+62 811 0000 0001",
                                  "HK/2026-001", "AB12", "ABC", "a", "aa", "x", "xx", "xxx", "-", "a-", "\xC3\xA9"};
  uint32_t state = 12345;
  auto next = [&state] { return state = state * 1103515245u + 12345u, (state >> 16) & 0x7fff; };
  for (int i = 0; i < 600; ++i) {
    std::string text;
    const size_t length = next() % 41;
    // Mostly digits, so that the digit patterns match now and then.
    const bool digits = next() % 2 == 0;
    for (size_t k = 0; k < length; ++k)
      text += digits && next() % 8 != 0 ? static_cast<char>('0' + next() % 10) : alphabet[next() % sizeof alphabet];
    out.push_back(text);
  }
  return out;
}

void check_against_regex(const std::string& pattern, bool subset) {
  const CompiledPattern compiled(pattern);
  CHECK(compiled.uses_regex() == !subset);
  const std::regex re(pattern, std::regex::ECMAScript);
  for (const std::string& text : texts()) {
    INFO("pattern " << pattern << ", text '" << text << "'");
    CHECK(compiled.matches(text) == std::regex_match(text, re));
  }
}

TEST_CASE("a pattern in the subset matches what std::regex_match matches", "[pattern]") {
  const char* patterns[] = {
      // The shipped ones.
      "\\+?[0-9 ]{6,20}", "[A-Z0-9/-]{4,30}", "[A-Z0-9]{5,20}", "[0-9]{16}", "[A-Z0-9/-]{3,30}",
      // Edge cases.
      "", "a*", "a+", "a?", "x{0}", "x{2,}", "x{1,3}", "[^0-9]+", "[-a]+", "[a-]+", "[-]", "[^-]*", "[a-z-9]+",
      "[--/]+", "[!--]*", "\\d{1,3}\\d", "[0-9]{1,3}[0-9]{2}", "\\d*\\d{3}", "\\d+0", "\\D+", "\\w+", "\\W*",
      "\\s", "\\S+", "[\\d\\s]+", "[^\\w]*", "[\\D]", "[\\-+]+", "\\+\\-\\/\\.", "a\\.b", "[a\\]]+", "[\\\\]",
      "[a^]+", "A-Z", "-+", "[0-9]{0,2}x?[0-9]{0,2}", "[0-9 ]*[0-9]{5}", "1?2?3?123", "\\w{2}-\\w{2,}",
      // Matched by runs (no byte in two atoms' classes), and some that are not.
      "[A-Z]{2}-?[0-9]{1,4}", "a?b*c+", "[0-9]+/[A-Z]{1,3}", "x?y?z?", "[a-c]{0,2}[d-f][g]*", "\\+?[0-9]{2} [0-9]{3,4}",
      "\\+?[0-9 ]{6,20}x{0}", "[0-9]{2,3}[ -]{0,1}[0-9]{2}", "\\d{3}\\D{2,4}", "[^a]*a",
      "[\xC3\\-]*"};  // the last one: not in the subset (a byte >= 0x80), checked the same
  for (const char* pattern : patterns) {
    const bool subset = std::string(pattern).find('\xC3') == std::string::npos;
    check_against_regex(pattern, subset);
  }
}

TEST_CASE("a pattern whose atoms' classes share no byte is matched by runs", "[pattern]") {
  CHECK(CompiledPattern("\\+?[0-9 ]{6,20}").by_runs());
  CHECK(CompiledPattern("[A-Z]{2}-?[0-9]{1,4}").by_runs());
  CHECK(CompiledPattern("[^a]*a").by_runs());
  CHECK_FALSE(CompiledPattern("[0-9]{16}").by_runs());  // one atom: its own way
  CHECK_FALSE(CompiledPattern("\\+?[0-9]{2} [0-9]{3,4}").by_runs());  // digits twice
  CHECK_FALSE(CompiledPattern("x?y?x").by_runs());
  CHECK_FALSE(CompiledPattern("[0-9 ]*[0-9]{5}").by_runs());
}

TEST_CASE("a pattern outside the subset goes to std::regex and matches the same", "[pattern]") {
  for (const char* pattern : {"(ab)+", "a|b", ".*", "^a$", "a+?", "a{2}?", "a**", "\\bx", "[[:alpha:]]+",
                              "\xC3\xA9+", "[]a", "[^]", "\\x41", "\\n", "[\\b]", "(?:1)2", "\\1?"}) {
    INFO(pattern);
    bool valid = true;
    try {
      std::regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      valid = false;
    }
    if (valid) {
      check_against_regex(pattern, false);
    } else {
      CHECK_THROWS_AS(CompiledPattern(pattern), std::regex_error);
    }
  }
}

TEST_CASE("a pattern std::regex refuses is refused", "[pattern]") {
  for (const char* pattern : {"a{2,1}", "[z-a]", "(", "[a", "\\", "*a", "[\\d-z]", "x{100001}"}) {
    INFO(pattern);
    CHECK_THROWS_AS(std::regex(pattern, std::regex::ECMAScript), std::regex_error);
    CHECK_THROWS_AS(CompiledPattern(pattern), std::regex_error);
  }
}

TEST_CASE("a long text is matched past the stack buffer", "[pattern]") {
  const CompiledPattern pattern("[0-9]*5[0-9]*");
  CHECK(pattern.matches(std::string(5000, '1') + "5" + std::string(5000, '1')));
  CHECK_FALSE(pattern.matches(std::string(10001, '1')));
  CHECK_FALSE(pattern.matches(std::string(5000, '1') + "x5"));
}

constexpr const char* kPatternYaml = R"(sop: test-pattern
version: 1
title: Pattern
roles: [worker]
fields:
  card: {type: string, pattern: '[0-9]{16}', label: Card}
  phone: {type: string, pattern: '\+?[0-9 ]{6,20}', label: Phone}
  code: {type: string, pattern: '(AB|CD)-[0-9]+', label: Code}
states:
  start: {label: Start, initial: true}
  done: {label: Done, terminal: true}
transitions:
  - {event: finish, from: start, to: done, roles: [worker], requires: [card, phone, code]}
)";

Decision finish(const Procedure& p, const std::string& card, const std::string& phone, const std::string& code) {
  CaseSnapshot s = testing::snapshot_at(p, "start");
  Command c;
  c.event = "finish";
  c.actor = Actor{"rina", {"worker"}};
  c.inputs = {{"card", card}, {"phone", phone}, {"code", code}};
  c.at = *parse_datetime("2026-03-02T08:00:00Z");
  return decide(p, s, c);
}

std::string refused_field(const Procedure& p, const Decision& d) {
  const auto* refusal = std::get_if<Refusal>(&d);
  if (!refusal) return "";
  for (const auto& f : p.fields)
    if (refusal->message.rfind(f.id + ":", 0) == 0) return f.id;
  return "?" + refusal->message;
}

void check_decides_by_pattern(const Procedure& p) {
  for (const auto& f : p.fields) REQUIRE(f.compiled_pattern);
  CHECK_FALSE(p.fields[0].compiled_pattern->uses_regex());
  CHECK_FALSE(p.fields[1].compiled_pattern->uses_regex());
  CHECK(p.fields[2].compiled_pattern->uses_regex());
  CHECK(std::holds_alternative<Transition>(finish(p, "1234567890123456", "+62 811 0000", "AB-12")));
  CHECK(refused_field(p, finish(p, "123456789012345", "+62 811 0000", "AB-12")) == "card");
  CHECK(refused_field(p, finish(p, "1234567890123456", "62+811", "AB-12")) == "phone");
  CHECK(refused_field(p, finish(p, "1234567890123456", "0811 0000", "AC-12")) == "code");
}

TEST_CASE("a loaded and a decoded procedure decide by their compiled patterns", "[pattern]") {
  const ProcedurePtr loaded = testing::load_or_fail(kPatternYaml);
  check_decides_by_pattern(*loaded);
  const ProcedurePtr decoded = decode_procedure(encode_procedure(*loaded), loaded->source, loaded->file);
  REQUIRE(decoded);
  check_decides_by_pattern(*decoded);

  // A procedure put together by hand, without the build step, matches too.
  Procedure by_hand = *loaded;
  for (auto& f : by_hand.fields) f.compiled_pattern.reset();
  CHECK(refused_field(by_hand, finish(by_hand, "12345678901234x6", "+62 811 0000", "AB-12")) == "card");
  CHECK(std::holds_alternative<Transition>(finish(by_hand, "1234567890123456", "+62 811 0000", "CD-1")));
}

}  // namespace
}  // namespace sopir
