// Values as people read them (display.h).
#include "sopir/display.h"

#include <algorithm>

namespace sopir {

std::string value_label(const FieldDef& field, std::string_view id, std::string_view lang) {
  auto it = std::find(field.values.begin(), field.values.end(), id);
  if (it == field.values.end()) return std::string(id);
  const size_t index = static_cast<size_t>(it - field.values.begin());
  if (index >= field.value_labels.size()) return std::string(id);
  std::string label = field.value_labels[index].get(lang);
  return label.empty() ? std::string(id) : label;
}

std::string bool_word(bool value, std::string_view lang) {
  if (lang == "id") return value ? "ya" : "tidak";
  return value ? "yes" : "no";
}

std::string display_value(const FieldDef& field, std::string_view stored, std::string_view lang) {
  switch (field.type) {
    case Type::kBool:
      if (auto b = parse_bool(stored)) return bool_word(*b, lang);
      break;
    case Type::kEnum:
      return value_label(field, stored, lang);
    case Type::kSet: {
      if (!parse_typed(Type::kSet, field.values, stored, nullptr)) break;  // masked, say
      if (stored.empty()) return lang == "id" ? "tidak ada" : "none";
      std::string out;
      for (const std::string& id : set_members(stored)) {
        if (!out.empty()) out += ", ";
        out += value_label(field, id, lang);
      }
      return out;
    }
    default:
      break;
  }
  return std::string(stored);
}

}  // namespace sopir
