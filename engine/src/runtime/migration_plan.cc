// plan_migration and the plan's documents (sopir/migration_plan.h).
#include "sopir/migration_plan.h"

#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "audit/common.h"
#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/messages/migrate.h"
#include "sopir/migration.h"
#include "sopir/migration_apply.h"

namespace sopir {

namespace {

using json = nlohmann::json;

const char kFormat[] = "sopir-migration-plan-1";
const char kMasked[] = "***";

std::string shown(const FieldDef* field, const Value& v) {
  if (is_missing(v)) return "";
  return field && field->pii ? kMasked : format_value(v);
}

PlannedCase plan_one(const Procedure& old, const Procedure& next, const FieldPlan& fields,
                     const PublishedProcedure& version, const CaseRecord& record, DateTime entered, DateTime now,
                     std::string_view lang) {
  PlannedCase out;
  out.case_id = record.id;
  out.from_version = version.version;
  out.from_sha256 = version.sha256;
  out.case_version = record.version;
  out.head_hash = record.head_hash;
  out.status = to_string(record.status);
  out.from_state = record.state;
  out.due_before = record.due_at;
  CaseSnapshot c;
  c.id = record.id;
  c.state = old.state_index(record.state);
  if (c.state < 0) throw storage_error(tr(msg::mig_plan_unmapped, lang, {record.state, std::to_string(old.version)}));
  c.status = record.status;
  c.data = Engine::decode_data(old, record);
  c.due_at = record.due_at;
  const Landing l = plan_case(old, next, fields, c, entered, now, lang);
  out.moves = l.moves;
  if (!l.moves) {
    out.reason = l.reason;
    return out;
  }
  out.to_state = next.states[static_cast<size_t>(l.state)].id;
  out.due_after = l.due_at;
  for (const FieldMove& m : l.changes) {
    const FieldDef* to = m.field >= 0 ? &next.fields[static_cast<size_t>(m.field)] : nullptr;
    const int from_index = m.old_field.empty() ? -1 : old.field_index(m.old_field);
    const FieldDef* from = from_index >= 0 ? &old.fields[static_cast<size_t>(from_index)] : nullptr;
    const FieldDef* masking = to && to->pii ? to : from;
    out.changes.push_back(PlannedChange{to ? to->id : "", m.old_field, shown(masking, m.before), shown(masking, m.after)});
  }
  return out;
}

json time_json(const std::optional<DateTime>& t) { return t ? json(format_datetime(*t)) : json(); }

std::string csv_join(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + audit_internal::csv_field(cells[i]);
  return line + "\r\n";
}

}  // namespace

int64_t MigrationPlan::moving() const {
  return std::count_if(cases.begin(), cases.end(), [](const PlannedCase& c) { return c.moves; });
}

std::map<int, int64_t> MigrationPlan::by_version() const {
  std::map<int, int64_t> out;
  for (const auto& c : cases) ++out[c.from_version];
  return out;
}

MigrationPlan plan_migration(Engine& engine, const std::string& sop_id, int to_version, std::string_view lang) {
  std::vector<PublishedProcedure> versions;
  std::vector<std::string> ids;
  for (auto& p : engine.store().versions()) {
    ids.push_back(p.sop_id);
    if (p.sop_id == sop_id) versions.push_back(std::move(p));
  }
  if (versions.empty())
    throw not_found(no_procedure_message(sop_id, ids, lang));
  auto target = std::find_if(versions.begin(), versions.end(),
                             [&](const PublishedProcedure& p) { return p.version == to_version; });
  if (target == versions.end()) {
    std::vector<int> known;
    for (const auto& p : versions) known.push_back(p.version);
    throw not_found(unpublished_version_message(sop_id, to_version, known, lang));
  }
  if (target->version == std::min_element(versions.begin(), versions.end(), [](const auto& a, const auto& b) {
                           return a.version < b.version;
                         })->version)
    throw usage_error(tr(msg::mig_first_version, lang, {sop_id, std::to_string(to_version)}));
  MigrationPlan plan;
  plan.sop_id = sop_id;
  plan.to_version = to_version;
  plan.to_sha256 = target->sha256;
  plan.made_at = engine.clock().now();
  const ProcedurePtr next = engine.procedure(target->sha256);
  std::sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  std::unordered_map<std::string, const PublishedProcedure*> by_sha;
  for (const auto& v : versions)
    if (v.version < to_version) by_sha[v.sha256] = &v;
  CaseFilter filter;
  filter.sop_id = sop_id;
  std::map<int, std::vector<CaseRecord>> cases;
  for (auto& record : engine.cases(filter)) {
    auto it = by_sha.find(record.sha256);
    if (record.status == Status::kClosed || it == by_sha.end()) continue;
    cases[it->second->version].push_back(std::move(record));
  }
  if (cases.empty()) return plan;
  const auto entered = state_entered_at(engine.store(), sop_id);
  for (const auto& [version, records] : cases) {
    const PublishedProcedure* published = nullptr;
    for (const auto& v : versions)
      if (v.version == version) published = &v;
    const ProcedurePtr old = engine.procedure(published->sha256);
    const FieldPlan fields = field_plan(*old, *next);
    for (const auto& record : records) {
      auto e = entered.find(record.id);
      const DateTime at = e == entered.end() ? record.opened_at : e->second;
      plan.cases.push_back(plan_one(*old, *next, fields, *published, record, at, plan.made_at, lang));
    }
  }
  return plan;
}

std::string plan_json(const MigrationPlan& plan) {
  json by_version = json::object();
  for (const auto& [v, n] : plan.by_version()) by_version[std::to_string(v)] = n;
  const json head = {{"format", kFormat},
                     {"sop", plan.sop_id},
                     {"to_version", plan.to_version},
                     {"to_sha256", plan.to_sha256},
                     {"made_at", format_datetime(plan.made_at)},
                     {"summary",
                      {{"cases", plan.cases.size()}, {"moving", plan.moving()}, {"staying", plan.staying()},
                       {"by_version", by_version}}}};
  // The head indented, then one case a line: readable, diffable, and quick
  // to write for 100,000 cases.
  std::string out = head.dump(2);
  out.pop_back();  // the closing brace
  while (!out.empty() && out.back() == '\n') out.pop_back();
  out += ",\n  \"cases\": [";
  for (size_t i = 0; i < plan.cases.size(); ++i) {
    const PlannedCase& c = plan.cases[i];
    json changes = json::array();
    for (const auto& ch : c.changes)
      changes.push_back({{"field", ch.field.empty() ? json() : json(ch.field)},
                         {"from_field", ch.from_field.empty() ? json() : json(ch.from_field)},
                         {"before", ch.before},
                         {"after", ch.after}});
    const json one = {{"case", c.case_id},
                      {"from_version", c.from_version},
                      {"from_sha256", c.from_sha256},
                      {"case_version", c.case_version},
                      {"head_hash", c.head_hash},
                      {"status", c.status},
                      {"from_state", c.from_state},
                      {"moves", c.moves},
                      {"to_state", c.moves ? json(c.to_state) : json()},
                      {"reason", c.moves ? json() : json(c.reason)},
                      {"changes", changes},
                      {"due_before", time_json(c.due_before)},
                      {"due_after", time_json(c.due_after)}};
    out += (i ? ",\n    " : "\n    ") + one.dump();
  }
  out += plan.cases.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

std::string plan_csv(const MigrationPlan& plan) {
  std::string out = csv_join({"case", "from_version", "status", "from_state", "moves", "to_state", "reason",
                              "changes", "due_before", "due_after"});
  for (const auto& c : plan.cases) {
    std::vector<std::string> changes;
    for (const auto& ch : c.changes) {
      const std::string name = ch.field.empty() ? ch.from_field : ch.field;
      changes.push_back(name + (ch.from_field.empty() || ch.from_field == name ? "" : " <- " + ch.from_field) + ": " +
                        (ch.before.empty() ? "-" : ch.before) + " -> " + (ch.after.empty() ? "-" : ch.after));
    }
    out += csv_join({c.case_id, std::to_string(c.from_version), c.status, c.from_state, c.moves ? "true" : "false",
                     c.to_state, c.reason, join(changes, "; "), c.due_before ? format_datetime(*c.due_before) : "",
                     c.due_after ? format_datetime(*c.due_after) : ""});
  }
  return out;
}

std::string plan_sha256(std::string_view document) { return sha256_hex(document); }

}  // namespace sopir
