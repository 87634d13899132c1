// ProcedureCache: published procedure versions compiled once each.
#include "audit/common.h"

#include <algorithm>

#include "base/sha256.h"
#include "sopir/loader.h"
#include "sopir/messages/audit.h"

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

}  // namespace sopir::audit_internal
