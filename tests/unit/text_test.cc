// Control characters in input, visible text in reasons, display escaping
// (sopir/text.h), and the rules that use them in decide().
#include "sopir/text.h"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sopir/decide.h"
#include "test_procedures.h"

namespace sopir {
namespace {

TEST_CASE("control characters are found with their line and column", "[text]") {
  CHECK_FALSE(find_control("plain text, é and 日本", false));
  CHECK_FALSE(find_control("two\nlines\twith a tab\r\n", true));
  auto nul = find_control(std::string("a\0b", 3), false);
  REQUIRE(nul);
  CHECK(nul->offset == 1);
  CHECK(nul->column == 2);
  CHECK(nul->name == "U+0000 (NUL)");
  auto esc = find_control("first\nsé\x1b[2J", true);
  REQUIRE(esc);
  CHECK(esc->line == 2);
  CHECK(esc->column == 3);
  CHECK(esc->name == "U+001B (ESC)");
  CHECK(find_control("a\nb", false)->name == "U+000A (LF)");
  CHECK(find_control("a\rb", true)->name == "U+000D (CR)");
  CHECK(find_control("c1 \xC2\x85", false)->name == "U+0085");
  CHECK(control_problem(std::string("a\0b", 3), true) ==
        "contains a control character, U+0000 (NUL), at character 2; only tabs and line breaks may appear "
        "besides printable text");
}

TEST_CASE("control characters are found at every offset of texts of every length around a word's", "[text]") {
  // The plain-ASCII look reads eight bytes at a time: each byte that is or
  // begins a control character, at each position of texts of 0 to 20 bytes,
  // is found where it is; printable neighbours (space, '~') never are.
  const std::vector<std::pair<std::string, bool>> marks = {
      {std::string(1, '\0'), true}, {"\x1f", true}, {"\x7f", true}, {"\xC2\x85", true}, {"\xC2\x9F", true},
      {" ", false},                 {"~", false},    {"\xC2\xA0", false}, {"\xC3\xA9", false}, {"\xE2\x82\xAC", false}};
  for (size_t length = 0; length <= 20; ++length) {
    CHECK_FALSE(find_control(std::string(length, 'a'), false));
    for (size_t at = 0; at < length; ++at) {
      for (const auto& [mark, control] : marks) {
        std::string text(length, 'a');
        text.replace(at, 1, mark);
        const auto found = find_control(text, false);
        INFO("length " << length << ", at " << at << ", mark " << static_cast<int>(static_cast<unsigned char>(mark[0])));
        CHECK(found.has_value() == control);
        if (found) CHECK(found->offset == at);
      }
    }
  }
}

TEST_CASE("UTF-8: each character's length, and what RFC 3629 refuses", "[text]") {
  CHECK(utf8_length("a", 0) == 1);
  CHECK(utf8_length("\xC3\xA9", 0) == 2);          // é
  CHECK(utf8_length("\xE6\x97\xA5", 0) == 3);      // 日
  CHECK(utf8_length("\xF0\x9F\x98\x80", 0) == 4);  // U+1F600
  CHECK(utf8_length("\xF4\x8F\xBF\xBF", 0) == 4);  // U+10FFFF, the last
  CHECK(utf8_length("x\xC3\xA9", 1) == 2);
  const std::vector<std::string> refused = {
      "\x80",              // a continuation byte alone
      "\xC0\xAF",          // overlong "/"
      "\xC1\xBF",          // overlong
      "\xE0\x80\xAF",      // overlong three bytes
      "\xF0\x80\x80\xAF",  // overlong four bytes
      "\xED\xA0\x80",      // U+D800, a surrogate
      "\xF4\x90\x80\x80",  // past U+10FFFF
      "\xF5\x80\x80\x80",  // no such lead byte
      "\xFF",
      "\xE6\x97",          // cut off
      "\xC3" "A",          // not followed by a continuation byte
  };
  for (const auto& bytes : refused) {
    INFO(escape_for_display(bytes, false));
    CHECK(utf8_length(bytes, 0) == 0);
    CHECK_FALSE(valid_utf8(bytes));
    CHECK_FALSE(valid_utf8("sixteen bytes of ascii, then " + bytes));
    CHECK_FALSE(valid_utf8(bytes + " and ascii after it, sixteen"));
  }
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii longer than a word, then \xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x98\x80 at the end"));
}

TEST_CASE("visible text: spaces, tabs, line breaks and invisible characters are not", "[text]") {
  CHECK_FALSE(has_visible_text(""));
  CHECK_FALSE(has_visible_text(" \t\n\r\n "));
  CHECK_FALSE(has_visible_text("\xC2\xA0\xE2\x80\x8B\xE3\x80\x80"));  // nbsp, zero-width space, ideographic space
  CHECK(has_visible_text("  ok "));
  CHECK(has_visible_text("\xE2\x80\x8B" "x"));
}

TEST_CASE("display escaping shows control and bidi characters, keeps the rest", "[text]") {
  CHECK(escape_for_display("Siti Contoh, é") == "Siti Contoh, é");
  CHECK(escape_for_display("\x1b[31mred\x07") == "\\x1b[31mred\\x07");
  CHECK(escape_for_display("abc\xE2\x80\xAE" "fed") == "abc\\u202efed");
  CHECK(escape_for_display("a\nb") == "a\\x0ab");
  CHECK(escape_for_display("a\nb", true) == "a\nb");
  CHECK(escape_for_display(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(escape_for_display("bad \xFF byte") == "bad \\xff byte");
  // A typed backslash-u cannot pass for an escape.
  CHECK(escape_for_display("\\u202e") == "\\\\u202e");
  CHECK(escape_for_display("C:\\path") == "C:\\path");
}

TEST_CASE("decide refuses control characters in values and reasons, and blank required reasons", "[text]") {
  ProcedurePtr p = testing::load_or_fail(testing::kCareYaml);
  CaseSnapshot snapshot = testing::snapshot_at(*p, "escalated");
  Command command;
  command.event = "back";
  command.actor = Actor{"budi", {"supervisor"}};
  for (const char* blank : {"", "   ", "\t\n", "\xC2\xA0"}) {
    command.reason = blank;
    const Decision blank_reason = decide(*p, snapshot, command);
    const Refusal* refusal = std::get_if<Refusal>(&blank_reason);
    REQUIRE(refusal);
    CHECK(refusal->kind == RefusalKind::kReasonRequired);
  }
  command.reason = std::string("papers\0lost", 11);
  Decision d = decide(*p, snapshot, command);
  REQUIRE(std::get_if<Refusal>(&d));
  CHECK(std::get<Refusal>(d).kind == RefusalKind::kBadInput);
  CHECK(std::get<Refusal>(d).message ==
        "the reason contains a control character, U+0000 (NUL), at character 7; only tabs and line breaks "
        "may appear besides printable text");
  command.reason = "papers lost\non the way";
  CHECK(std::holds_alternative<Transition>(decide(*p, snapshot, command)));

  snapshot.state = p->state_index("care");
  command.event = "write_plan";
  command.reason = "";
  command.inputs = {{"plan", "stay\x1b[2J"}};
  d = decide(*p, snapshot, command);
  REQUIRE(std::get_if<Refusal>(&d));
  CHECK(std::get<Refusal>(d).message ==
        "the value given for field 'plan' contains a control character, U+001B (ESC), at character 5; only "
        "tabs and line breaks may appear besides printable text");
  command.inputs = {{"plan", "stay\nthen return"}};
  CHECK(std::holds_alternative<Transition>(decide(*p, snapshot, command)));
  LifecycleCommand hold{LifecycleEvent::kHold, Actor{"budi", {"supervisor"}}, " \n ", DateTime{0}};
  auto lifecycle = decide_lifecycle(*p, snapshot, hold, std::nullopt);
  REQUIRE(std::get_if<Refusal>(&lifecycle));
  CHECK(std::get<Refusal>(lifecycle).kind == RefusalKind::kReasonRequired);
}

}  // namespace
}  // namespace sopir
