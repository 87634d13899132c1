// The message catalogue (sopir/messages.h): every entry in both languages,
// with the same placeholders, and rendered as documented.
#include "sopir/messages.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <string>
#include <vector>

#include "sopir/messages/cli.h"
#include "sopir/messages/rules.h"

namespace sopir {
namespace {

// The placeholders a text uses, sorted: "{0} and {1}, {0}" -> {0, 0, 1}.
std::vector<int> placeholders(const std::string& text) {
  std::vector<int> out;
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] == '{' && std::isdigit(static_cast<unsigned char>(text[i + 1])) && text[i + 2] == '}') {
      out.push_back(text[i + 1] - '0');
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool has_letters(const std::string& text) {
  std::string bare;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{' && i + 2 < text.size() && text[i + 2] == '}') {
      i += 2;
      continue;
    }
    bare += text[i];
  }
  return std::any_of(bare.begin(), bare.end(), [](unsigned char c) { return std::isalpha(c); });
}

TEST_CASE("every message of the catalogue has an English and an Indonesian text", "[messages]") {
  REQUIRE_FALSE(all_messages().empty());
  for (const Message* m : all_messages()) {
    INFO("message " << m->key);
    const std::string en = m->en, id = m->id;
    CHECK_FALSE(en.empty());
    CHECK_FALSE(id.empty());
    // Same placeholders, each as often: a translation may reorder them but
    // not drop or add one.
    CHECK(placeholders(en) == placeholders(id));
    // A text with words is translated, not copied (texts of placeholders and
    // punctuation only are the same in both).
    if (has_letters(en)) CHECK(en != id);
  }
}

TEST_CASE("a message renders in the language asked for, with its arguments", "[messages]") {
  CHECK(tr(msg::cli_lang_value, "en", {"fr"}) == "--lang takes id or en, not 'fr'");
  CHECK(tr(msg::cli_lang_value, "id", {"fr"}) == "--lang menerima id atau en, bukan 'fr'");
  // Any language but Indonesian is English.
  CHECK(tr(msg::cli_lang_value, "de", {"fr"}) == "--lang takes id or en, not 'fr'");
  // A missing argument leaves its placeholder visible.
  CHECK(tr(msg::cli_lang_value, "en") == "--lang takes id or en, not '{0}'");
}

// `case list` labels a case's status with the word a refusal uses for it, so
// that staff reading Indonesian meet one word for "on hold", not two.
TEST_CASE("a status reads the same in Indonesian in lists and in refusals", "[messages]") {
  CHECK(tr(msg::cli_status_active, "id") == tr(msg::rules_status_active, "id"));
  CHECK(tr(msg::cli_status_on_hold, "id") == tr(msg::rules_status_on_hold, "id"));
  CHECK(tr(msg::cli_status_closed, "id") == tr(msg::rules_status_closed, "id"));
}

TEST_CASE("the message language follows a locale name", "[messages]") {
  CHECK(language_from_locale("id_ID.UTF-8") == "id");
  CHECK(language_from_locale("id") == "id");
  CHECK(language_from_locale("en_US.UTF-8") == "en");
  CHECK(language_from_locale("ida") == "en");
  CHECK(language_from_locale("") == "en");
  set_message_language("id_ID.UTF-8");
  CHECK(message_language() == "id");
  CHECK(tr(msg::cli_lang_value, {"x"}) == "--lang menerima id atau en, bukan 'x'");
  set_message_language("en");
  CHECK(message_language() == "en");
}

}  // namespace
}  // namespace sopir
