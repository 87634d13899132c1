// Text (sopir/procedure.h): a label or description in several languages,
// kept packed in one string. What its users rely on: one text per code, in
// code order, the fallbacks of get(), and equality by content.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sopir/procedure.h"

namespace sopir {
namespace {

using Entries = std::vector<std::pair<std::string_view, std::string_view>>;

TEST_CASE("a Text keeps one text per language, in code order, whatever order they are set in",
          "[text]") {
  Text t;
  CHECK(t.empty());
  CHECK(t.get("id").empty());
  t.set("id", "Persetujuan");
  t.set("en", "Consent");
  t.set("", "plain");
  CHECK_FALSE(t.empty());
  CHECK(t.entries() == Entries{{"", "plain"}, {"en", "Consent"}, {"id", "Persetujuan"}});
  t.set("en", "Consent given");  // replaces, in place
  t.set("id", "");               // an empty text is still a text
  CHECK(t.entries() == Entries{{"", "plain"}, {"en", "Consent given"}, {"id", ""}});
  CHECK(t.has("id"));
  CHECK_FALSE(t.has("fr"));
  CHECK(t == Text{{"id", ""}, {"", "plain"}, {"en", "Consent given"}});
  CHECK(t != Text{{"", "plain"}, {"en", "Consent given"}});
}

TEST_CASE("Text::get falls back to English, then the plain text, then any", "[text]") {
  const Text both{{"en", "Screening"}, {"id", "Penyaringan"}};
  CHECK(both.get("id") == "Penyaringan");
  CHECK(both.get("en") == "Screening");
  CHECK(both.get("fr") == "Screening");
  CHECK(both.get("") == "Screening");
  const Text plain{{"", "IOM"}, {"id", "Organisasi"}};
  CHECK(plain.get("en") == "IOM");
  CHECK(plain.get("id") == "Organisasi");
  const Text only_id{{"id", "Pemulangan"}};
  CHECK(only_id.get("en") == "Pemulangan");
}

TEST_CASE("a Text holds any bytes and long texts, and refuses a code past 255 bytes", "[text]") {
  const std::string long_text(100000, 'x');
  std::string with_nul("a\0b", 3);
  Text t;
  t.set("id", long_text);
  t.set("en", with_nul);
  CHECK(t.get("id") == long_text);
  CHECK(t.get("en") == with_nul);
  CHECK(t.entries().size() == 2);
  CHECK_THROWS_AS(t.set(std::string(256, 'a'), "x"), std::length_error);
  CHECK(t.entries().size() == 2);  // unchanged
  t.set(std::string(255, 'z'), "last");
  CHECK(t.entries().back() ==
        std::pair<std::string_view, std::string_view>{std::string(255, 'z'), "last"});
}

TEST_CASE("a Text answers as a map of code to text would, after any sequence of sets", "[text]") {
  std::mt19937 random(20261205);  // fixed: a failure repeats
  const std::vector<std::string> codes = {"",    "en", "id", "e",
                                          "enx", "jv", "su", std::string(255, 'q')};
  for (int round = 0; round < 200; ++round) {
    Text text;
    std::map<std::string, std::string> model;
    const int sets = static_cast<int>(random() % 12);
    for (int i = 0; i < sets; ++i) {
      const std::string& code = codes[random() % codes.size()];
      const std::string value(random() % 40, static_cast<char>('a' + random() % 26));
      text.set(code, value);
      model[code] = value;
    }
    Entries expected;
    for (const auto& [code, value] : model) expected.emplace_back(code, value);
    REQUIRE(text.entries() == expected);
    CHECK(text.empty() == model.empty());
    for (const std::string& code : codes) CHECK(text.has(code) == (model.count(code) == 1));
    std::string english = model.count("en") ? model["en"]
                          : model.count("") ? model[""]
                          : model.empty()   ? ""
                                            : model.begin()->second;
    CHECK(text.get("fr") == english);
    if (model.count("id")) CHECK(text.get("id") == model["id"]);
    Text rebuilt;
    for (auto it = model.rbegin(); it != model.rend(); ++it) rebuilt.set(it->first, it->second);
    CHECK(rebuilt == text);  // the same content, whatever order it was set in
  }
}

}  // namespace
}  // namespace sopir
