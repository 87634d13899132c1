// ProcedureCache: published procedure versions compiled once each.
#include "audit/common.h"

#include <algorithm>
#include <set>

#include "base/sha256.h"
#include "sopir/engine.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "sopir/messages/audit.h"
#include "sopir/privacy.h"
#include "sopir/text.h"

namespace sopir::audit_internal {

const PublishedProcedure* ProcedureCache::published(const std::string& sha256) {
  if (!listed_) {
    for (auto& p : store_.procedures()) published_.emplace(p.sha256, std::move(p));
    listed_ = true;
  }
  auto it = published_.find(sha256);
  return it == published_.end() ? nullptr : &it->second;
}

ProcedurePtr ProcedureCache::get(const std::string& sha256, std::string* why) {
  if (auto it = compiled_.find(sha256); it != compiled_.end()) return it->second;
  if (auto it = failed_.find(sha256); it != failed_.end()) {
    if (why) *why = it->second;
    return nullptr;
  }
  const PublishedProcedure* p = published(sha256);
  std::string reason;
  if (!p) {
    reason = tr(msg::audit_no_procedure_hash, {sha256});
  } else if (sha256_hex(p->source) != sha256) {
    reason = tr(msg::audit_source_edited_unused, {p->sop_id, std::to_string(p->version)});
  } else {
    LoadOptions pinned;  // the calendars pinned at publishing, not today's files
    for (auto& c : store_.pinned_calendars(sha256)) pinned.calendars[c.name] = c;
    LoadResult loaded = load_procedure_string(p->source, p->file, pinned);
    if (loaded.ok()) {
      compiled_.emplace(sha256, loaded.procedure);
      return loaded.procedure;
    }
    reason = tr(msg::audit_no_longer_loads, {p->sop_id, std::to_string(p->version)});
    for (const auto& d : loaded.diagnostics) {
      if (d.severity == Severity::kError) {
        reason += ": " + d.message;
        break;
      }
    }
  }
  failed_.emplace(sha256, reason);
  if (why) *why = reason;
  return nullptr;
}

std::string csv_field(const std::string& text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::vector<std::string> record_reveal(Store& store, ProcedureCache& procedures, const audit::RevealAccess& r,
                                       const std::vector<std::string>& case_ids) {
  if (!r.access_log) throw usage_error(tr(msg::audit_reveal_needs_log));
  // Every view of personal data carries a reason (docs/PRIVACY.md).
  if (!has_visible_text(r.reason))
    throw RefusedError(Refusal{RefusalKind::kReasonRequired, tr(msg::audit_reveal_needs_reason)});
  if (std::string problem = control_problem(r.reason, false); !problem.empty())
    throw refused(tr(msg::audit_reason_control, {problem}));
  std::vector<std::string> refused_sops;
  std::set<std::string> refused_sites;
  std::vector<std::string> allowed;
  // The rule `case show --reveal` applies to one case (reveal_bar), case by
  // case: a case it bars is shown masked, and no access is recorded for it.
  for (const auto& id : case_ids) {
    auto record = store.find_case(id);
    if (!record) continue;
    ProcedurePtr p = procedures.get(record->sha256, nullptr);
    if (!p) continue;
    switch (reveal_bar(r.actor, record->site, *p)) {
      case RevealBar::kNone:
        allowed.push_back(id);
        break;
      case RevealBar::kSite:
        refused_sites.insert(record->site);
        break;
      case RevealBar::kRole:
        if (std::find(refused_sops.begin(), refused_sops.end(), p->id) == refused_sops.end())
          refused_sops.push_back(p->id);
        break;
    }
  }
  if (allowed.empty() && !case_ids.empty()) {
    // Every reason that applied: the sites, then the procedures' roles.
    std::vector<std::string> why;
    if (!refused_sites.empty())
      why.push_back(tr(msg::audit_reveal_refused_sites,
                       {r.actor.id, join(std::vector<std::string>(refused_sites.begin(),
                                                                  refused_sites.end()))}));
    if (!refused_sops.empty() || refused_sites.empty()) {
      const std::string roles = r.actor.roles.empty()
                                    ? tr(msg::audit_has_no_roles, {r.actor.id})
                                    : tr(msg::audit_has_roles, {r.actor.id, join(r.actor.roles)});
      why.push_back(refused_sops.empty() ? tr(msg::audit_reveal_refused_cases, {r.actor.id, roles})
                                         : tr(msg::audit_reveal_refused_sops,
                                              {r.actor.id, join(refused_sops), roles}));
    }
    throw refused(join(why, "; "));
  }
  r.access_log->transaction([&] {
    for (const auto& id : allowed) r.access_log->record_access(r.actor.id, id, r.what, r.reason, r.now);
  });
  return allowed;
}

}  // namespace sopir::audit_internal
