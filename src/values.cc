#include "values.h"

#include "sopir/display.h"
#include "sopir/value.h"

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

nlohmann::json history_entry_json(const Procedure& p, const LogEntry& e) {
  using nlohmann::json;
  json changes = json::array(), inputs = json::object();
  for (const auto& ch : e.changes) {
    changes.push_back({{"field", ch.after.field.empty() ? ch.before.field : ch.after.field},
                       {"before", value_json(p, ch.before)},
                       {"after", value_json(p, ch.after)}});
  }
  for (const auto& in : e.inputs) inputs[in.first] = in.second;
  return {{"seq", e.seq},
          {"case_seq", e.case_seq},
          {"kind", to_string(e.kind)},
          {"event", e.event},
          {"from_state", e.from_state},
          {"to_state", e.to_state},
          {"from_status", e.from_status},
          {"to_status", e.to_status},
          {"actor", e.actor},
          {"role", e.role},
          {"occurred_at", format_datetime(e.occurred_at)},
          {"recorded_at", format_datetime(e.recorded_at)},
          {"note", e.note},
          {"reason", e.reason},
          {"inputs", inputs},
          {"changes", changes},
          {"linked_case", e.linked_case.empty() ? json() : json(e.linked_case)},
          {"sha256", e.sha256},
          {"hash", e.hash}};
}

}  // namespace sopir::cli
