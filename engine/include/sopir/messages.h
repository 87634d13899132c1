// Every message a person reads, in English and Indonesian, from one catalogue.
//
// The catalogue is the set of .def files in sopir/messages/ (one per part of
// the engine, and one for the command line). Each entry is
//   SOPIR_MESSAGE(name, "English text", "teks bahasa Indonesia")
// and becomes a constant sopir::msg::name. Texts take positional
// placeholders {0}, {1}, ...: both languages must use the same ones (a test
// checks every entry). Code never writes a message as a literal; it writes
//   throw refused(tr(msg::unknown_case, {id}));
//
// The language: "id" gives Indonesian; anything else gives English. decide()
// is given its language with the command; everything else reads the
// process's message language, which the front end sets once at start-up
// (from --lang or LANG) before any other thread runs.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace sopir {

struct Message {
  const char* key;  // the constant's name: "unknown_case"
  const char* en;
  const char* id;
};

// `message` in `lang` with {N} replaced by args[N]. A placeholder with no
// argument stays as written ("{2}"), so a mistake shows instead of crashing.
std::string tr(const Message& message, std::string_view lang,
               std::initializer_list<std::string_view> args = {});

// The same, in the process's message language.
std::string tr(const Message& message, std::initializer_list<std::string_view> args = {});

// The process's message language: "en" (the default) or "id". Anything but
// "id" (after "id_ID.UTF-8"-style suffixes are cut) sets "en".
void set_message_language(std::string_view lang);
const std::string& message_language();
// `lang`, or the process's message language when `lang` is "" (the
// convention of every function that takes a language).
std::string_view lang_or_process(std::string_view lang);

// "id" for LANG values such as "id_ID.UTF-8" or "id", else "en".
std::string language_from_locale(std::string_view locale);

// Every entry of the catalogue, in .def order (for tests and translators).
const std::vector<const Message*>& all_messages();

}  // namespace sopir
