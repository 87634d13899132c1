// Proposing, approving and applying a migration plan (sopir/migration_apply.h).
#include "sopir/migration_apply.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/messages/migrate.h"
#include "sopir/migration.h"
#include "sopir/migration_plan.h"

namespace sopir {

namespace {

using json = nlohmann::json;

const char kFormat[] = "sopir-migration-plan-1";

std::string roles_text(const Actor& who) { return who.roles.empty() ? "-" : join(who.roles); }

Actor policy_actor(Engine& engine, const std::string& actor_id) {
  Actor who = engine.actor(actor_id);
  if (std::find(who.roles.begin(), who.roles.end(), kMigrationRole) == who.roles.end())
    throw refused(tr(msg::mig_needs_role, {who.id, roles_text(who)}));
  return who;
}

std::string short_hash(const std::string& hash) { return hash.substr(0, 12); }

std::string input(const LogEntry& e, const std::string& key) {
  for (const auto& [k, v] : e.inputs)
    if (k == key) return v;
  return "";
}

const json& member(const json& j, const char* key, json::value_t type, const Message& what, std::string_view lang) {
  auto it = j.find(key);
  const bool number = type == json::value_t::number_integer;
  if (it == j.end() || !(it->type() == type || (number && it->is_number_unsigned())))
    throw usage_error(tr(msg::mig_doc_member, lang, {key, tr(what, lang)}));
  return *it;
}

// The plan names a version of its procedure this database does not have
// (made on another database): kNotFound naming the versions it has.
[[noreturn]] void no_such_version(Engine& engine, const SavedPlan& plan) {
  std::vector<std::string> ids;
  std::vector<int> known;
  for (const auto& p : engine.store().versions()) {
    ids.push_back(p.sop_id);
    if (p.sop_id == plan.sop_id) known.push_back(p.version);
  }
  if (known.empty()) throw not_found(no_procedure_message(plan.sop_id, ids));
  throw not_found(unpublished_version_message(plan.sop_id, plan.to_version, known));
}

}  // namespace

std::string unpublished_version_message(const std::string& sop_id, int version,
                                        std::vector<int> published, std::string_view lang) {
  std::sort(published.begin(), published.end());
  std::vector<std::string> listed;
  for (int v : published) listed.push_back(std::to_string(v));
  const std::string asked = std::to_string(version);
  // sop publish takes only a number above every published one.
  if (!published.empty() && version < published.back())
    return tr(msg::mig_version_below_newest, lang_or_process(lang),
              {sop_id, asked, join(listed, ", "), listed.back()});
  return tr(msg::mig_unknown_version, lang_or_process(lang), {sop_id, asked, join(listed, ", ")});
}

int64_t SavedPlan::moving() const {
  return std::count_if(cases.begin(), cases.end(), [](const Case& c) { return c.moves; });
}

std::string SavedPlan::from_versions() const {
  std::vector<int> versions;
  for (const auto& c : cases)
    if (std::find(versions.begin(), versions.end(), c.from_version) == versions.end())
      versions.push_back(c.from_version);
  std::sort(versions.begin(), versions.end());
  std::vector<std::string> out;
  for (int v : versions) out.push_back(std::to_string(v));
  return out.empty() ? "-" : join(out, ",");
}

SavedPlan read_plan(std::string_view document, std::string_view lang) {
  lang = lang_or_process(lang);  // propose and apply give none
  json j;
  try {
    j = json::parse(document.begin(), document.end());
  } catch (const json::exception& e) {
    throw usage_error(tr(msg::mig_doc_not_json, lang, {e.what()}));
  }
  if (!j.is_object()) throw usage_error(tr(msg::mig_doc_not_json, lang, {tr(msg::mig_doc_not_object, lang)}));
  auto format = j.find("format");
  if (format == j.end() || !format->is_string() || format->get<std::string>() != kFormat)
    throw usage_error(tr(msg::mig_doc_format, lang, {format != j.end() && format->is_string() ? format->get<std::string>() : ""}));
  const auto S = json::value_t::string;
  const auto I = json::value_t::number_integer;
  SavedPlan plan;
  plan.sha256 = plan_sha256(document);
  plan.sop_id = member(j, "sop", S, msg::mig_kind_text, lang).get<std::string>();
  plan.to_version = member(j, "to_version", I, msg::mig_kind_number, lang).get<int>();
  plan.to_sha256 = member(j, "to_sha256", S, msg::mig_kind_text, lang).get<std::string>();
  auto made = parse_datetime(member(j, "made_at", S, msg::mig_kind_time, lang).get<std::string>());
  if (!made) throw usage_error(tr(msg::mig_doc_member, lang, {"made_at", tr(msg::mig_kind_time, lang)}));
  plan.made_at = *made;
  const json& cases = member(j, "cases", json::value_t::array, msg::mig_kind_list, lang);
  plan.cases.reserve(cases.size());
  for (const json& c : cases) {
    if (!c.is_object()) throw usage_error(tr(msg::mig_doc_member, lang, {"cases", tr(msg::mig_kind_list, lang)}));
    SavedPlan::Case out;
    out.case_id = member(c, "case", S, msg::mig_kind_text, lang).get<std::string>();
    out.from_version = member(c, "from_version", I, msg::mig_kind_number, lang).get<int>();
    out.from_sha256 = member(c, "from_sha256", S, msg::mig_kind_text, lang).get<std::string>();
    out.case_version = member(c, "case_version", I, msg::mig_kind_number, lang).get<int64_t>();
    out.head_hash = member(c, "head_hash", S, msg::mig_kind_text, lang).get<std::string>();
    out.moves = member(c, "moves", json::value_t::boolean, msg::mig_kind_bool, lang).get<bool>();
    if (out.moves) out.to_state = member(c, "to_state", S, msg::mig_kind_text, lang).get<std::string>();
    plan.cases.push_back(std::move(out));
  }
  return plan;
}

std::vector<PlanStatus> migration_plans(Store& store,
                                        const std::function<void(const Error&)>* damaged) {
  std::vector<PlanStatus> out;
  std::map<std::string, size_t> index;
  LogFilter filter;
  filter.damaged = damaged;
  filter.kind = LogKind::kMigrationPlan;
  filter.registry = true;
  store.scan_log(filter, [&](const LogEntry& e) {
    const std::string hash = input(e, "plan");
    if (e.event == registry_event::kProposed && !index.count(hash)) {
      PlanStatus p;
      p.sha256 = hash;
      p.sop_id = input(e, "sop_id");
      p.from_versions = input(e, "from_versions");
      p.to_version = static_cast<int>(parse_int(input(e, "to_version")).value_or(0));
      p.made_at = input(e, "made_at");
      p.cases = parse_int(input(e, "cases")).value_or(0);
      p.moving = parse_int(input(e, "moving")).value_or(0);
      p.proposed_by = e.actor;
      p.proposed_at = e.occurred_at;
      p.proposed_seq = e.seq;
      index[hash] = out.size();
      out.push_back(std::move(p));
    } else if (e.event == registry_event::kApproved) {
      auto it = index.find(hash);
      if (it != index.end() && out[it->second].approved_by.empty()) {
        PlanStatus& p = out[it->second];
        p.approved_by = e.actor;
        p.approved_at = e.occurred_at;
        p.approved_seq = e.seq;
      }
    }
    return true;
  });
  return out;
}

PlanStatus propose_migration(Engine& engine, const std::string& actor, std::string_view document) {
  const SavedPlan plan = read_plan(document);
  const Actor who = policy_actor(engine, actor);
  std::optional<PublishedProcedure> target;
  for (auto& p : engine.store().versions())
    if (p.sop_id == plan.sop_id && p.version == plan.to_version) target = std::move(p);
  if (!target) no_such_version(engine, plan);
  if (target->sha256 != plan.to_sha256)
    throw not_found(tr(msg::mig_to_differs, {std::to_string(plan.to_version), plan.sop_id,
                                             short_hash(plan.to_sha256), short_hash(target->sha256)}));
  // A plan that moves no case would only wait for an approval that does
  // nothing (its cases already closed, or all declared not movable).
  if (plan.moving() == 0)
    throw refused(tr(msg::mig_plan_moves_nothing, {plan.sop_id, std::to_string(plan.to_version),
                                                   std::to_string(plan.cases.size())}));
  PlanStatus out;
  engine.store().transaction([&] {
    for (const PlanStatus& p : migration_plans(engine.store()))
      if (p.sha256 == plan.sha256)
        throw conflict(tr(msg::mig_already_proposed, {plan.sha256, p.proposed_by, format_datetime(p.proposed_at)}));
    LogEntry e;
    e.kind = LogKind::kMigrationPlan;
    e.event = registry_event::kProposed;
    e.sha256 = plan.to_sha256;
    e.actor = who.id;
    e.role = kMigrationRole;
    e.occurred_at = e.recorded_at = engine.clock().now();
    e.inputs = {{"plan", plan.sha256},
                {"sop_id", plan.sop_id},
                {"from_versions", plan.from_versions()},
                {"to_version", std::to_string(plan.to_version)},
                {"made_at", format_datetime(plan.made_at)},
                {"cases", std::to_string(plan.cases.size())},
                {"moving", std::to_string(plan.moving())}};
    engine.store().append_registry(e);
    out.sha256 = plan.sha256;
    out.sop_id = plan.sop_id;
    out.from_versions = plan.from_versions();
    out.to_version = plan.to_version;
    out.made_at = format_datetime(plan.made_at);
    out.cases = static_cast<int64_t>(plan.cases.size());
    out.moving = plan.moving();
    out.proposed_by = who.id;
    out.proposed_at = e.occurred_at;
    out.proposed_seq = e.seq;
  });
  return out;
}

PlanStatus approve_migration(Engine& engine, const std::string& actor, const std::string& hash_text) {
  std::string hash = hash_text;
  for (char& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool hex = hash.size() >= 8 && hash.size() <= 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
                     return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                   });
  if (!hex) throw usage_error(tr(msg::mig_bad_hash, {hash_text}));
  const Actor who = policy_actor(engine, actor);
  PlanStatus out;
  engine.store().transaction([&] {
    const std::vector<PlanStatus> plans = migration_plans(engine.store());
    std::vector<const PlanStatus*> matches;
    std::vector<std::string> known;
    for (const PlanStatus& p : plans) {
      known.push_back(short_hash(p.sha256));
      if (p.sha256.compare(0, hash.size(), hash) == 0) matches.push_back(&p);
    }
    if (matches.empty())
      throw not_found(tr(msg::mig_hash_unknown,
                         {hash_text, known.empty() ? "" : tr(msg::mig_proposed_list, {join(known)})}));
    if (matches.size() > 1) {
      std::vector<std::string> which;
      for (const PlanStatus* p : matches) which.push_back(short_hash(p->sha256));
      throw usage_error(tr(msg::mig_hash_ambiguous, {hash_text, join(which)}));
    }
    const PlanStatus& p = *matches.front();
    if (p.proposed_by == who.id) throw refused(tr(msg::mig_own_approval, {who.id, p.sha256}));
    if (!p.approved_by.empty())
      throw conflict(tr(msg::mig_already_approved, {p.sha256, p.approved_by, format_datetime(*p.approved_at)}));
    LogEntry e;
    e.kind = LogKind::kMigrationPlan;
    e.event = registry_event::kApproved;
    for (const auto& v : engine.store().versions())
      if (v.sop_id == p.sop_id && v.version == p.to_version) e.sha256 = v.sha256;
    e.actor = who.id;
    e.role = kMigrationRole;
    e.occurred_at = e.recorded_at = engine.clock().now();
    e.inputs = {{"plan", p.sha256}, {"sop_id", p.sop_id}, {"to_version", std::to_string(p.to_version)}};
    engine.store().append_registry(e);
    out = p;
    out.approved_by = who.id;
    out.approved_at = e.occurred_at;
    out.approved_seq = e.seq;
  });
  return out;
}

std::unordered_map<std::string, DateTime> state_entered_at(Store& store, const std::string& sop_id) {
  std::unordered_map<std::string, DateTime> out;
  LogFilter filter;
  filter.sop_id = sop_id;
  store.scan_log(filter, [&](const LogEntry& e) {
    if (e.kind == LogKind::kOpen || (e.kind != LogKind::kMigration && e.from_state != e.to_state))
      out[e.case_id] = e.occurred_at;
    return true;
  });
  return out;
}

MovedValues moved_values(const Procedure& next, const CaseRecord& record, const std::vector<Value>& landing_data) {
  MovedValues out;
  std::map<std::string, const StoredValue*> before;
  for (const StoredValue& v : record.data)
    if (!v.missing) before[v.field] = &v;
  for (size_t g = 0; g < next.fields.size() && g < landing_data.size(); ++g) {
    const FieldDef& field = next.fields[g];
    const Value& v = landing_data[g];
    StoredValue after;
    after.field = field.id;
    after.pii = field.pii;
    after.missing = is_missing(v);
    if (!after.missing) {
      after.text = format_value(v);
      if (field.pii) {
        // The same text under any older field keeps its salt and digest.
        for (const StoredValue& old : record.data) {
          if (old.pii && !old.missing && !old.erased && old.text == after.text) {
            after.salt = old.salt;
            after.digest = old.digest;
            break;
          }
        }
        if (after.digest.empty()) {
          after.salt = random_hex(16);
          after.digest = sha256_hex(after.salt + after.text);
        }
      }
      out.data.push_back(after);
    }
    auto it = before.find(field.id);
    const StoredValue* old = it == before.end() ? nullptr : it->second;
    const bool same = old ? (!after.missing && old->pii == after.pii && old->text == after.text &&
                             old->digest == after.digest)
                          : after.missing;
    if (!same) {
      LogEntry::Change change;
      if (old) {
        change.before = *old;
      } else {
        change.before.field = field.id;
        change.before.pii = field.pii;
      }
      change.after = after;
      out.changes.push_back(std::move(change));
    }
    if (it != before.end()) before.erase(it);
  }
  // Older values no field of the new version holds: left behind.
  for (const StoredValue& old : record.data) {
    if (old.missing || !before.count(old.field)) continue;
    LogEntry::Change change;
    change.before = old;
    change.after.field = old.field;
    change.after.pii = old.pii;
    out.changes.push_back(std::move(change));
  }
  return out;
}

ApplyReport apply_migration(Engine& engine, const std::string& actor, std::string_view document,
                            const ApplyOptions& options) {
  const SavedPlan plan = read_plan(document);
  const Actor who = policy_actor(engine, actor);
  Store& store = engine.store();
  // Approved? Refusals first, before anything is read for writing.
  const std::vector<PlanStatus> plans = migration_plans(store);
  auto found = std::find_if(plans.begin(), plans.end(), [&](const PlanStatus& p) { return p.sha256 == plan.sha256; });
  if (found == plans.end()) {
    const std::string made = format_datetime(plan.made_at);
    for (const PlanStatus& p : plans)
      if (p.sop_id == plan.sop_id && p.to_version == plan.to_version && p.made_at == made)
        throw refused(tr(msg::mig_edited, {plan.sha256, plan.sop_id, std::to_string(plan.to_version), made, p.sha256}));
    throw refused(tr(msg::mig_not_proposed, {plan.sha256}));
  }
  if (found->approved_by.empty()) throw refused(tr(msg::mig_not_approved, {plan.sha256, found->proposed_by}));

  std::map<std::string, PublishedProcedure> versions;  // sha256 -> version of plan.sop_id
  for (auto& p : engine.store().versions())
    if (p.sop_id == plan.sop_id) versions.emplace(p.sha256, std::move(p));
  auto target = versions.find(plan.to_sha256);
  if (target == versions.end() || target->second.version != plan.to_version)
    no_such_version(engine, plan);
  const ProcedurePtr next = engine.procedure(plan.to_sha256);
  struct Older {
    ProcedurePtr procedure;
    FieldPlan fields;
  };
  std::map<std::string, Older> olders;

  ApplyReport report;
  report.plan_sha256 = plan.sha256;
  std::vector<const SavedPlan::Case*> moving;
  for (const auto& c : plan.cases) {
    if (c.moves) {
      moving.push_back(&c);
    } else {
      ++report.stays;
    }
  }
  if (moving.empty()) return report;
  const auto entered = state_entered_at(store, plan.sop_id);
  const std::string version_text = std::to_string(plan.to_version);
  const std::string planned_at = format_datetime(plan.made_at);
  const int64_t total = static_cast<int64_t>(moving.size());
  const size_t batch = std::max<size_t>(1, options.batch);
  int64_t done = 0;
  for (size_t start = 0; start < moving.size(); start += batch) {
    const size_t end = std::min(moving.size(), start + batch);
    ApplyReport part;
    store.transaction_all_or_nothing([&] {
      for (size_t i = start; i < end; ++i) {
        const SavedPlan::Case& c = *moving[i];
        std::optional<CaseRecord> held = store.find_case(c.case_id);
        if (!held) {
          ++part.cannot;
          part.skipped.push_back({c.case_id, tr(msg::mig_gone)});
          continue;
        }
        if (held->version != c.case_version || held->head_hash != c.head_hash || held->sha256 != c.from_sha256) {
          if (held->sha256 == plan.to_sha256 && held->version == c.case_version + 1) {
            ++part.already;
          } else {
            ++part.stale;
            part.skipped.push_back(
                {c.case_id, tr(msg::mig_stale, {std::to_string(held->version), std::to_string(c.case_version)})});
          }
          continue;
        }
        auto old = olders.find(c.from_sha256);
        if (old == olders.end()) {
          ProcedurePtr p = engine.procedure(c.from_sha256);
          old = olders.emplace(c.from_sha256, Older{p, field_plan(*p, *next)}).first;
        }
        const Procedure& from = *old->second.procedure;
        CaseSnapshot snapshot;
        snapshot.id = held->id;
        snapshot.state = from.state_index(held->state);
        snapshot.status = held->status;
        snapshot.data = Engine::decode_data(from, *held);
        snapshot.due_at = held->due_at;
        auto e = entered.find(held->id);
        const DateTime at = e == entered.end() ? held->opened_at : e->second;
        if (snapshot.state < 0) {
          ++part.cannot;
          part.skipped.push_back({c.case_id, tr(msg::mig_plan_unmapped, {held->state, std::to_string(from.version)})});
          continue;
        }
        const Landing l = plan_case(from, *next, old->second.fields, snapshot, at, plan.made_at);
        if (!l.moves || next->states[static_cast<size_t>(l.state)].id != c.to_state) {
          ++part.cannot;
          part.skipped.push_back(
              {c.case_id, l.moves ? tr(msg::mig_lands_elsewhere, {c.to_state, next->states[static_cast<size_t>(l.state)].id})
                                  : l.reason});
          continue;
        }
        MovedValues values = moved_values(*next, *held, l.data);
        CaseRecord after = *held;
        after.sha256 = plan.to_sha256;
        after.state = c.to_state;
        after.data = std::move(values.data);
        after.due_at = l.due_at;
        after.version = held->version + 1;
        LogEntry entry;
        entry.case_id = held->id;
        entry.sha256 = plan.to_sha256;
        entry.kind = LogKind::kMigration;
        entry.event = kMigrationEvent;
        entry.from_state = held->state;
        entry.to_state = c.to_state;
        entry.from_status = entry.to_status = to_string(held->status);
        entry.actor = who.id;
        entry.role = kMigrationRole;
        entry.occurred_at = entry.recorded_at = engine.clock().now();
        entry.inputs = {{"plan", plan.sha256},
                        {"from_version", std::to_string(c.from_version)},
                        {"from_sha256", c.from_sha256},
                        {"to_version", version_text},
                        {"planned_at", planned_at}};
        entry.changes = std::move(values.changes);
        entry.due_at = l.due_at;
        store.append_held(*held, after, entry);
        ++part.migrated;
      }
    });
    report.migrated += part.migrated;
    report.already += part.already;
    report.stale += part.stale;
    report.cannot += part.cannot;
    for (auto& s : part.skipped) report.skipped.push_back(std::move(s));
    ++report.batches;
    done += static_cast<int64_t>(end - start);
    if (options.progress) options.progress(done, total);
  }
  return report;
}

}  // namespace sopir
