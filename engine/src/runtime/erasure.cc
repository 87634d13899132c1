// Erasure of a case's personal data (Engine::request_erasure,
// Engine::confirm_erasure; docs/PRIVACY.md): two people, two logged rows,
// and the case's key and personal text destroyed with the second. The
// retention rule (Engine::retention_due, Engine::apply_retention) erases
// the same way, by one officer, with the procedure's period as its basis.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sopir/engine.h"
#include "sopir/error.h"
#include "sopir/messages/runtime.h"
#include "sopir/retention.h"

namespace sopir {
namespace {

constexpr char kDataProtection[] = "data_protection";

// Where a case stands: the waiting request, if any, and the erasure done.
struct ErasureState {
  std::optional<LogEntry> requested;
  std::optional<LogEntry> erased;
};

ErasureState erasure_state(const std::vector<LogEntry>& history) {
  ErasureState state;
  for (const LogEntry& e : history) {
    if (e.kind != LogKind::kErasure) continue;
    if (e.event == erasure_event::kRequested) state.requested = e;
    if (e.event == erasure_event::kErased) {
      state.erased = e;
      state.requested.reset();
    }
  }
  return state;
}

bool has_data_protection(const Actor& who) {
  return std::find(who.roles.begin(), who.roles.end(), kDataProtection) != who.roles.end();
}

std::string roles_of(const Actor& who) {
  return who.roles.empty() ? tr(msg::runtime_has_no_roles, {who.id})
                           : tr(msg::runtime_has_roles, {who.id, join(who.roles)});
}

void require_data_protection(const Actor& who, const std::string& case_id) {
  if (!has_data_protection(who)) throw refused(tr(msg::runtime_erase_role, {case_id, roles_of(who)}));
}

// Every digest of a personal value the case holds or its log names.
std::vector<std::string> personal_digests(const CaseRecord& record, const std::vector<LogEntry>& history) {
  std::set<std::string> digests;
  for (const StoredValue& v : record.data) {
    if (v.pii && !v.digest.empty()) digests.insert(v.digest);
  }
  for (const LogEntry& e : history) {
    for (const auto& c : e.changes) {
      if (c.before.pii && !c.before.digest.empty()) digests.insert(c.before.digest);
      if (c.after.pii && !c.after.digest.empty()) digests.insert(c.after.digest);
    }
  }
  return {digests.begin(), digests.end()};
}

}  // namespace

StepResult Engine::request_erasure(const std::string& typed_case, const std::string& actor_id,
                                   const std::string& reason) {
  const Actor who = actor(actor_id);
  const std::string case_id = resolve_case_id(typed_case, actor_id);
  require_data_protection(who, case_id);
  if (!store_->supports_erasure()) throw usage_error(tr(msg::runtime_erase_no_store, {case_id}));
  if (reason.empty()) throw usage_error(tr(msg::runtime_erase_reason, {case_id}));
  StepResult result;
  store_->transaction([&] {
    const std::optional<CaseRecord> record = store_->find_case(case_id);
    if (!record) throw_no_case(typed_case, case_id, actor_id);
    const ErasureState state = erasure_state(store_->history(case_id));
    if (state.erased)
      throw conflict(tr(msg::runtime_erase_done, {case_id, format_datetime(state.erased->occurred_at), state.erased->actor}));
    if (state.requested)
      throw conflict(tr(msg::runtime_erase_waiting, {case_id, state.requested->actor,
                                                     format_datetime(state.requested->occurred_at)}));
    result = write_erasure_row(*record, who, erasure_event::kRequested, reason, {});
  });
  return result;
}

StepResult Engine::confirm_erasure(const std::string& typed_case, const std::string& actor_id, bool* cleaned) {
  const Actor who = actor(actor_id);
  const std::string case_id = resolve_case_id(typed_case, actor_id);
  require_data_protection(who, case_id);
  if (!store_->supports_erasure()) throw usage_error(tr(msg::runtime_erase_no_store, {case_id}));
  StepResult result;
  store_->transaction([&] {
    const std::optional<CaseRecord> record = store_->find_case(case_id);
    if (!record) throw_no_case(typed_case, case_id, actor_id);
    const std::vector<LogEntry> history = store_->history(case_id);
    const ErasureState state = erasure_state(history);
    if (state.erased)
      throw conflict(tr(msg::runtime_erase_done, {case_id, format_datetime(state.erased->occurred_at), state.erased->actor}));
    if (!state.requested) throw refused(tr(msg::runtime_erase_not_requested, {case_id}));
    if (state.requested->actor == who.id) throw refused(tr(msg::runtime_erase_same_person, {case_id, who.id}));
    result = write_erasure_row(*record, who, erasure_event::kErased, state.requested->reason,
                               personal_digests(*record, history));
  });
  const bool done = store_->erased_cleanup();
  if (cleaned) *cleaned = done;
  return result;
}

StepResult Engine::write_erasure_row(const CaseRecord& record, const Actor& who, const std::string& event,
                                     const std::string& reason, const std::vector<std::string>& digests,
                                     const std::vector<std::pair<std::string, std::string>>& inputs) {
  check_site_access(who, record, true);
  const DateTime now = clock_->now();
  StepResult result;
  LogEntry& e = result.entry;
  e.case_id = record.id;
  e.sha256 = record.sha256;
  e.kind = LogKind::kErasure;
  e.event = event;
  e.from_state = e.to_state = record.state;
  e.from_status = e.to_status = to_string(record.status);
  e.actor = who.id;
  e.role = kDataProtection;
  e.occurred_at = e.recorded_at = now;
  e.reason = reason;
  e.inputs = inputs;
  e.due_at = record.due_at;
  result.after = record;
  result.after.version = record.version + 1;
  store_->append_held(record, result.after, e);
  set_chain_head(result.after, e);
  if (event == erasure_event::kErased) {
    store_->erase_personal_data(record.id, digests);
    for (StoredValue& v : result.after.data) {
      if (!v.pii || v.missing) continue;
      v.text.clear();
      v.erased = true;
      v.locked = false;
    }
  }
  return result;
}

void Engine::each_retention_due(DateTime now, const std::function<void(RetentionItem&)>& due,
                                int64_t& not_yet,
                                const std::optional<std::vector<std::string>>& sites) {
  std::set<std::string> sops;
  // In one read snapshot: the closed cases of each procedure with a
  // retention (each case counts by its own version's), a part at a time.
  reading([&] {
    for (const PublishedProcedure& v : store_->versions()) {
      if (sops.count(v.sop_id) || !procedure(v.sha256)->retention) continue;
      sops.insert(v.sop_id);  // every version of it: each case counts by its own
      CaseFilter filter;
      filter.sop_id = v.sop_id;
      filter.status = Status::kClosed;
      filter.sites = sites;
      each_case_with_log(
          filter, [](const Procedure& p) { return p.retention.has_value(); },
          [&](CaseRecord& record, const ProcedurePtr& p, const std::vector<LogEntry>& history) {
            const std::optional<DateTime> closed = closed_at(history);
            if (!closed) return;
            const DateTime due_at = p->retention->due(*closed);
            if (now < due_at) {
              ++not_yet;
              return;
            }
            RetentionItem item{std::move(record), p, *closed, due_at,
                               erasure_state(history).erased};
            due(item);
          });
    }
  });
}

RetentionReport Engine::retention_due(const std::string& reader) {
  RetentionReport report;
  if (!reader.empty()) report.sites = sites_held_to(*store_, actor(reader));
  const std::optional<std::vector<std::string>>& sites = report.sites;
  report.now = clock_->now();
  each_retention_due(
      report.now,
      [&](RetentionItem& item) {
        (item.erased ? report.already_erased : report.due).push_back(std::move(item));
      },
      report.not_yet, sites);
  auto by_due = [](const RetentionItem& a, const RetentionItem& b) {
    return a.due_at < b.due_at || (a.due_at == b.due_at && a.record.id < b.record.id);
  };
  std::sort(report.due.begin(), report.due.end(), by_due);
  std::sort(report.already_erased.begin(), report.already_erased.end(), by_due);
  return report;
}

RetentionReport Engine::apply_retention(const std::string& actor_id, bool dry_run) {
  const Actor who = actor(actor_id);
  if (!has_data_protection(who)) throw refused(tr(msg::runtime_retention_role, {roles_of(who)}));
  if (!store_->supports_erasure()) throw usage_error(tr(msg::runtime_retention_no_store));
  // The cases of the sites the officer reads (sites_held_to); of those,
  // each site's officer erases its own (docs/DEPLOY.md "Sites"): the rest
  // stay listed, for their sites' officers.
  RetentionReport report = retention_due(actor_id);
  auto elsewhere = std::stable_partition(report.due.begin(), report.due.end(), [&](const RetentionItem& item) {
    return may_act_at_site(who, item.record.site);
  });
  report.other_sites.assign(std::make_move_iterator(elsewhere), std::make_move_iterator(report.due.end()));
  report.due.erase(elsewhere, report.due.end());
  if (dry_run) return report;
  for (const RetentionItem& item : report.due) {
    try {
      report.erased.push_back(erase_by_retention(item, who));
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::kStorage) throw;
      report.failures.push_back(e.message());
    }
  }
  if (!report.erased.empty()) report.cleaned = store_->erased_cleanup();
  return report;
}

StepResult Engine::erase_by_retention(const RetentionItem& item, const Actor& who) {
  const std::string& case_id = item.record.id;
  const Retention& retention = *item.procedure->retention;
  StepResult result;
  store_->transaction([&] {
    const std::optional<CaseRecord> record = store_->find_case(case_id);
    const std::vector<LogEntry> history = record ? store_->history(case_id) : std::vector<LogEntry>{};
    const std::optional<DateTime> closed = closed_at(history);
    if (!record || record->sha256 != item.procedure->sha256 || !closed || *closed != item.closed_at)
      throw conflict(tr(msg::runtime_retention_changed, {case_id}));
    const ErasureState state = erasure_state(history);
    if (state.erased)
      throw conflict(tr(msg::runtime_erase_done, {case_id, format_datetime(state.erased->occurred_at), state.erased->actor}));
    const std::vector<std::pair<std::string, std::string>> inputs = {
        {retention_input::kBasis, retention_input::kRetention},
        {retention_input::kRetention, retention.text()},
        {retention_input::kClosedAt, format_datetime(*closed)}};
    result = write_erasure_row(*record, who, erasure_event::kErased,
                               std::string(retention_input::kRetention) + ": " + retention.text(),
                               personal_digests(*record, history), inputs);
  });
  return result;
}

}  // namespace sopir
