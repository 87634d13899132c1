#include "values.h"

#include "sopir/display.h"

namespace sopir::cli {

const FieldDef* find_field(const Procedure& p, const std::string& id) {
  const int index = p.field_index(id);
  return index < 0 ? nullptr : &p.fields[static_cast<size_t>(index)];
}

std::string shown_value(const Procedure& p, const StoredValue& v, const std::string& lang) {
  const FieldDef* f = find_field(p, v.field);
  if (!f || v.missing) return v.text;
  return display_value(*f, v.text, lang);
}

nlohmann::json value_json(const Procedure& p, const StoredValue& v) {
  if (v.missing) return nullptr;
  const FieldDef* f = find_field(p, v.field);
  if (!f || f->type != Type::kSet || !parse_typed(Type::kSet, f->values, v.text, nullptr)) return v.text;
  return set_members(v.text);
}

}  // namespace sopir::cli
