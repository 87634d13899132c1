// The message catalogue: rendering, the process language and the list of
// entries (sopir/messages.h).
#include "sopir/messages.h"

#include <string>

#include "sopir/messages/base.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name{#name, en, id};
namespace sopir::msg {
#include "sopir/messages/catalogue.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

namespace sopir {
namespace {

std::string& process_language() {
  static std::string lang = "en";
  return lang;
}

}  // namespace

std::string tr(const Message& message, std::string_view lang,
               std::initializer_list<std::string_view> args) {
  const std::string_view text = lang == "id" ? message.id : message.en;
  size_t length = text.size();
  for (std::string_view arg : args) length += arg.size();
  std::string out;
  out.reserve(length);
  // The text between placeholders is copied a run at a time: refusals are
  // written on decide()'s path, where a character at a time showed up.
  size_t copied = 0;  // text[0, copied) is in `out`
  for (size_t i = text.find('{'); i != std::string_view::npos && i + 2 < text.size(); i = text.find('{', i + 1)) {
    // "{N}" with a single digit N names args[N]; any other "{" is text.
    const char digit = text[i + 1];
    if (digit < '0' || digit > '9' || text[i + 2] != '}') continue;
    const size_t n = static_cast<size_t>(digit - '0');
    if (n >= args.size()) continue;
    out.append(text, copied, i - copied);
    out += *(args.begin() + n);
    copied = i + 3;
    i += 2;
  }
  out.append(text, copied, std::string_view::npos);
  return out;
}

std::string tr(const Message& message, std::initializer_list<std::string_view> args) {
  return tr(message, process_language(), args);
}

// sopir/messages/base.h
std::string counted(int64_t n, const Message& one, const Message& many) {
  return tr(n == 1 ? one : many, {std::to_string(n)});
}

std::string language_from_locale(std::string_view locale) {
  return locale.substr(0, 2) == "id" && (locale.size() == 2 || locale[2] == '_' || locale[2] == '.' ||
                                         locale[2] == '-' || locale[2] == '@')
             ? "id"
             : "en";
}

void set_message_language(std::string_view lang) { process_language() = language_from_locale(lang); }

const std::string& message_language() { return process_language(); }

std::string_view lang_or_process(std::string_view lang) {
  return lang.empty() ? std::string_view(message_language()) : lang;
}

const std::vector<const Message*>& all_messages() {
  static const std::vector<const Message*> all = {
#define SOPIR_MESSAGE(name, en, id) &msg::name,
#include "sopir/messages/catalogue.def"
#undef SOPIR_MESSAGE
  };
  return all;
}

}  // namespace sopir
