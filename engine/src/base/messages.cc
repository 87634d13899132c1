// The message catalogue: rendering, the process language and the list of
// entries (sopir/messages.h).
#include "sopir/messages.h"

#include <string>

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
  std::string_view text = lang == "id" ? message.id : message.en;
  std::string out;
  out.reserve(text.size() + 32);
  for (size_t i = 0; i < text.size(); ++i) {
    // "{N}" with a single digit N names args[N].
    if (text[i] == '{' && i + 2 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9' &&
        text[i + 2] == '}') {
      size_t n = static_cast<size_t>(text[i + 1] - '0');
      if (n < args.size()) {
        out += *(args.begin() + n);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string tr(const Message& message, std::initializer_list<std::string_view> args) {
  return tr(message, process_language(), args);
}

std::string language_from_locale(std::string_view locale) {
  return locale.substr(0, 2) == "id" && (locale.size() == 2 || locale[2] == '_' || locale[2] == '.' ||
                                         locale[2] == '-' || locale[2] == '@')
             ? "id"
             : "en";
}

void set_message_language(std::string_view lang) { process_language() = language_from_locale(lang); }

const std::string& message_language() { return process_language(); }

const std::vector<const Message*>& all_messages() {
  static const std::vector<const Message*> all = {
#define SOPIR_MESSAGE(name, en, id) &msg::name,
#include "sopir/messages/catalogue.def"
#undef SOPIR_MESSAGE
  };
  return all;
}

}  // namespace sopir
