// Personal-data permission and masking, shared by the engine and the audit layer.
#include "sopir/privacy.h"

#include <algorithm>

namespace sopir {

bool may_see_personal_data(const Procedure& procedure, const Actor& actor) {
  return std::any_of(procedure.pii_roles.begin(), procedure.pii_roles.end(), [&](int r) {
    const std::string& role = procedure.roles[static_cast<size_t>(r)];
    return std::find(actor.roles.begin(), actor.roles.end(), role) != actor.roles.end();
  });
}

std::string shown_value(const StoredValue& value, bool reveal) {
  if (value.missing) return "";
  if (!value.pii) return value.text;
  // That a value was erased tells nothing about it: everyone sees so.
  if (value.erased) return kErasedValue;
  if (!reveal) return kMaskedValue;
  if (value.damaged) return kDamagedValue;
  return value.locked ? kLockedValue : value.text;
}

StoredValue as_shown(StoredValue value, bool reveal) {
  value.text = shown_value(value, reveal);
  if (value.pii && !reveal) {
    value.salt.clear();
    value.digest.clear();
  }
  return value;
}

std::vector<std::pair<std::string, std::string>> shown_inputs(const LogEntry& entry, bool reveal) {
  auto out = entry.inputs;
  for (auto& [name, text] : out) {
    if (text != kPersonalInput) continue;
    text = kMaskedValue;
    if (!reveal) continue;
    for (const auto& c : entry.changes) {
      if (c.after.field == name) text = shown_value(c.after, true);
    }
  }
  return out;
}

namespace {
bool personal(const StoredValue& v) { return v.pii && !v.missing && !v.erased && !v.locked; }
}  // namespace

bool holds_personal_data(const CaseRecord& record) {
  return std::any_of(record.data.begin(), record.data.end(), personal);
}

bool holds_personal_data(const LogEntry& entry) {
  return std::any_of(entry.changes.begin(), entry.changes.end(), [](const LogEntry::Change& c) {
    return personal(c.before) || personal(c.after);
  });
}

}  // namespace sopir
