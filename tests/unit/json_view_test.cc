// base/json_view: the in-place JSON reader that decodes compiled procedures.
// It must accept what nlohmann::json (the writer) accepts, but for the few
// differences json_view.h names, read back the same values, and refuse
// damaged text whole.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/json_view.h"

namespace sopir {
namespace {

using json_view::Document;
using json_view::Kind;
using json_view::Node;

// The view's value as an nlohmann::json, to compare with nlohmann's parse.
nlohmann::json rebuilt(Node n) {
  switch (n.kind()) {
    case Kind::kNull: return nullptr;
    case Kind::kBool: return n.boolean();
    case Kind::kNumber: return n.integer();
    case Kind::kString: return n.str();
    case Kind::kArray: {
      nlohmann::json out = nlohmann::json::array();
      for (Node e : n) out.push_back(rebuilt(e));
      return out;
    }
    case Kind::kObject: {
      nlohmann::json out = nlohmann::json::object();
      for (Node e : n) out[e.key()] = rebuilt(e);
      return out;
    }
  }
  return nullptr;
}

TEST_CASE("json_view reads what nlohmann writes, value for value", "[json_view]") {
  nlohmann::json doc = {
      {"format", "sopir-compiled-4"},
      {"id", "aid"},
      {"version", 3},
      {"big", int64_t{9007199254740993}},
      {"negative", -42},
      {"flags", {true, false, nullptr}},
      {"text", {{"en", "Line one\nline \"two\"\t\\ end"}, {"id", "Baris satu — dua"}}},
      {"controls", std::string("a\x01" "b\x1f", 4)},
      {"nested", {{"a", {{"b", {{"c", {1, 2, {3, 4}}}}}}}}},
      {"empty_array", nlohmann::json::array()},
      {"empty_object", nlohmann::json::object()},
      {"emoji", "\xF0\x9F\x98\x80"},
  };
  const std::string text = doc.dump();
  Document d;
  REQUIRE(d.parse(text));
  CHECK(rebuilt(d.root()) == doc);
  const Node root = d.root();
  CHECK(root.at("version").integer32() == 3);
  CHECK(root.at("big").integer() == int64_t{9007199254740993});
  CHECK(root.at("negative").integer() == -42);
  CHECK(root.at("text").at("en").str() == "Line one\nline \"two\"\t\\ end");
  CHECK(root.at("controls").str() == std::string("a\x01" "b\x1f", 4));
  CHECK(root.at("flags").size() == 3);
  CHECK(root.at("flags").at(size_t{0}).boolean());
  CHECK(root.at("flags").at(2).is_null());
  CHECK(root.at("nested").at("a").at("b").at("c").at(2).at(1).integer() == 4);
  CHECK(root.at("empty_array").size() == 0);
  CHECK_FALSE(root.at("empty_array").begin() != root.at("empty_array").end());
  CHECK(root.at("empty_object").size() == 0);
  CHECK_FALSE(root.find("absent"));

  // Escapes nlohmann never writes but JSON allows, and surrounding space.
  REQUIRE(d.parse(" {\"a\\u0062\" : [\"\\u00e9\\/\\ud83d\\ude00\" , 1.5e3 , -0] } "));
  CHECK(d.root().at("ab").at(size_t{0}).str() == "\xC3\xA9/\xF0\x9F\x98\x80");
  CHECK(d.root().at("ab").at(size_t{0}).str() ==
        nlohmann::json::parse("\"\\u00e9\\/\\ud83d\\ude00\"").get<std::string>());
  CHECK(d.root().at("ab").at(2).integer() == 0);
  CHECK(d.root().at("ab").at(1).kind() == Kind::kNumber);
  CHECK_THROWS(d.root().at("ab").at(1).integer());  // 1.5e3 is not read as a whole number
}

TEST_CASE("json_view refuses what is not one JSON value, as nlohmann does", "[json_view]") {
  const char* bad[] = {
      "",           "   ",          "{",           "}",          "[1,]",        "{\"a\":1,}",  "{\"a\" 1}",
      "{a:1}",      "[01]",         "[1.]",        "[.5]",       "[1e]",        "[-]",         "[+1]",
      "[tru]",      "[nul]",        "\"abc",       "\"a\\x\"",   "\"\\u12\"",   "\"\\ud800\"", "\"\\udc00\"",
      "\"\\ud800\\u0041\"", "[1] [2]", "1 2",       "[\"\t\"]",   "[\"\n\"]",    "{\"a\":}",    "[,1]",
      "NaN",        "[Infinity]",   "'a'",
      // Not UTF-8: a lone continuation byte, a truncated sequence, an
      // overlong '/', a surrogate written directly, past U+10FFFF.
      "[\"\x80\"]", "[\"\xC3\"]", "[\"\xC0\xAF\"]", "[\"\xED\xA0\x80\"]", "[\"\xF4\x90\x80\x80\"]",
  };
  for (const char* text : bad) {
    INFO("text: " << text);
    CHECK_FALSE(nlohmann::json::accept(text));
    Document d;
    CHECK_FALSE(d.parse(text));
  }
  // Nesting past kMaxDepth is refused rather than followed down the stack.
  Document d;
  const std::string deep(json_view::kMaxDepth + 1, '[');
  CHECK_FALSE(d.parse(deep + std::string(json_view::kMaxDepth + 1, ']')));
  const std::string ok(json_view::kMaxDepth, '[');
  CHECK(d.parse(ok + std::string(json_view::kMaxDepth, ']')));
  // Where it differs from nlohmann (json_view.h): text after a NUL byte
  // and a byte order mark are refused; a repeated name finds the first.
  CHECK_FALSE(d.parse(std::string("{\"a\":1}\0junk", 12)));
  CHECK_FALSE(d.parse("\xEF\xBB\xBF{}"));
  REQUIRE(d.parse(R"({"v":7,"v":1})"));
  CHECK(d.root().at("v").integer() == 7);
  // Valid UTF-8 of every length is kept as it is.
  REQUIRE(d.parse("[\"a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"]"));
  CHECK(d.root().at(size_t{0}).str() == "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST_CASE("json_view throws on reading what is not there", "[json_view]") {
  Document d;
  REQUIRE(d.parse(R"({"s":"x","n":3,"big":99999999999,"huge":99999999999999999999,"a":[1],"b":true})"));
  const Node root = d.root();
  CHECK_THROWS(root.at("missing"));
  CHECK_THROWS(root.at("s").integer());
  CHECK_THROWS(root.at("n").str());
  CHECK_THROWS(root.at("n").boolean());
  CHECK_THROWS(root.at("big").integer32());
  CHECK(root.at("big").integer() == 99999999999);
  CHECK_THROWS(root.at("huge").integer());
  CHECK_THROWS(root.at("a").at(1));
  CHECK_THROWS(root.at("a").at("x"));
  CHECK_THROWS(root.at("s").size());
  CHECK_THROWS(root.at("b").begin());
  CHECK(root.at("a").at(size_t{0}).key().empty());
  CHECK(root.at("b").key() == "b");
}

}  // namespace
}  // namespace sopir

namespace sopir {
namespace {

using json_view::Document;
using json_view::Node;

// Strings are scanned eight plain bytes at a time, then a byte at a time:
// every byte value, and sequences of several bytes, at every place in and
// across those eight-byte words must read as nlohmann reads them.
TEST_CASE("json_view reads any byte at any place in a string as nlohmann does", "[json_view]") {
  std::vector<std::string> inserts;
  for (int b = 0; b < 256; ++b) inserts.push_back(std::string(1, static_cast<char>(b)));
  for (const char* s : {"\\n", "\\\"", "\\\\", "\\u00e9", "\\ud83d\\ude00", "\xC3\xA9", "\xE2\x82\xAC",
                        "\xF0\x9F\x98\x80", "\xC3", "\xE2\x82", "\xED\xA0\x80", "\x7f\x7f", "\"\""})
    inserts.push_back(s);
  for (const std::string& insert : inserts) {
    // Up to 40 bytes before: the insert at every place of the first three
    // sixteen-byte chunks a string is scanned in.
    for (size_t before = 0; before <= 40; ++before) {
      for (size_t after : {size_t{0}, size_t{3}, size_t{9}}) {
        const std::string text = "[\"" + std::string(before, 'x') + insert + std::string(after, 'y') + "\"]";
        INFO("insert " << static_cast<int>(static_cast<unsigned char>(insert[0])) << ", " << before << " before, "
                       << after << " after");
        Document d;
        const bool ours = d.parse(text);
        REQUIRE(ours == nlohmann::json::accept(text));
        if (ours) {
          const std::string expected = nlohmann::json::parse(text)[0].get<std::string>();
          CHECK(d.root().at(size_t{0}).str() == expected);
          std::string scratch;
          CHECK(d.root().at(size_t{0}).str_view(scratch) == expected);
        }
      }
    }
  }
}

TEST_CASE("json_view finds a member by its whole name, escaped or not", "[json_view]") {
  Document d;
  REQUIRE(d.parse(R"({"":0,"a":1,"ab":2,"b":3,"a\u0062c":4,"abd":5,"label":6,"lab":7})"));
  const Node root = d.root();
  CHECK(root.at("").integer() == 0);
  CHECK(root.at("a").integer() == 1);
  CHECK(root.at("ab").integer() == 2);
  CHECK(root.at("b").integer() == 3);
  CHECK(root.at("abc").integer() == 4);
  CHECK(root.at("abd").integer() == 5);
  CHECK(root.at("label").integer() == 6);
  CHECK(root.at("lab").integer() == 7);
  CHECK_FALSE(root.find("abe"));
  CHECK_FALSE(root.find("labels"));
  CHECK_FALSE(root.find("a\\u0062c"));
  CHECK_THROWS(root.at("a").find("a"));  // a number has no members
}

TEST_CASE("json_view gives strings and names as views, unescaped into scratch only when escaped", "[json_view]") {
  const std::string text = R"({"plain":"label","a\u0062c":"line\nbreak"})";
  Document d;
  REQUIRE(d.parse(text));
  std::string scratch = "untouched";
  Node plain = d.root().at("plain");
  CHECK(plain.str_view(scratch) == "label");
  CHECK(plain.key_view(scratch) == "plain");
  CHECK(scratch == "untouched");  // views into the document's text
  CHECK(plain.str_view(scratch).data() >= text.data());
  CHECK(plain.written_size() == 5);
  Node escaped = d.root().at("abc");
  CHECK(escaped.key_view(scratch) == "abc");
  CHECK(escaped.str_view(scratch) == "line\nbreak");
  CHECK(scratch == "line\nbreak");
  CHECK(escaped.written_size() == 11);  // as written: the escape's two bytes
  CHECK_THROWS(d.root().str_view(scratch));  // an object is not a string
}

}  // namespace
}  // namespace sopir
