#include "sopir/procedure.h"

#include <algorithm>

namespace sopir {

std::string Text::get(std::string_view lang) const {
  if (auto it = by_lang.find(std::string(lang)); it != by_lang.end()) return it->second;
  if (auto it = by_lang.find("en"); it != by_lang.end()) return it->second;
  if (auto it = by_lang.find(""); it != by_lang.end()) return it->second;
  return by_lang.empty() ? std::string() : by_lang.begin()->second;
}

namespace {
template <typename T, typename Key>
int index_of(const std::vector<T>& items, std::string_view id, Key key) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (key(items[i]) == id) return static_cast<int>(i);
  }
  return -1;
}
}  // namespace

int Procedure::state_index(std::string_view id) const {
  return index_of(states, id, [](const StateDef& s) -> const std::string& { return s.id; });
}
int Procedure::event_index(std::string_view id) const {
  return index_of(events, id, [](const std::string& e) -> const std::string& { return e; });
}
int Procedure::field_index(std::string_view id) const {
  return index_of(fields, id, [](const FieldDef& f) -> const std::string& { return f.id; });
}
int Procedure::role_index(std::string_view id) const {
  return index_of(roles, id, [](const std::string& r) -> const std::string& { return r; });
}

std::vector<std::string> Procedure::events_from(int state) const {
  std::vector<std::string> out;
  if (state < 0 || state >= static_cast<int>(transitions_from.size())) return out;
  for (int t : transitions_from[state]) {
    const std::string& name = events[transitions[t].event];
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::vector<std::string> Procedure::state_ids() const {
  std::vector<std::string> out;
  for (const auto& s : states) out.push_back(s.id);
  return out;
}

std::vector<std::string> Procedure::field_ids() const {
  std::vector<std::string> out;
  for (const auto& f : fields) out.push_back(f.id);
  return out;
}

bool Procedure::from_every_state(const TransitionDef& t) const {
  size_t open = 0;
  for (const StateDef& s : states) open += s.terminal ? 0 : 1;
  return open > 0 && t.from.size() == open;
}

std::string Procedure::to_id(const TransitionDef& t) const {
  return t.stays ? "*" : states[static_cast<size_t>(t.to)].id;
}

}  // namespace sopir
