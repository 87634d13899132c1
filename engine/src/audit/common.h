// Small pieces shared by the audit source files (internal).
#pragma once

#include <map>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/audit.h"
#include "sopir/procedure.h"
#include "sopir/store.h"
#include "sopir/messages/audit.h"

namespace sopir::audit_internal {

// Compiles published procedure versions once each, by SHA-256. A version
// that is missing or no longer loads is remembered with the reason.
class ProcedureCache {
 public:
  explicit ProcedureCache(Store& store) : store_(store) {}
  // Null when the version cannot be had; `*why` then says why.
  ProcedurePtr get(const std::string& sha256, std::string* why);
  // Published sop id and version number of a hash ("" / 0 when unknown).
  const PublishedProcedure* published(const std::string& sha256);

 private:
  Store& store_;
  std::map<std::string, ProcedurePtr> compiled_;
  std::map<std::string, std::string> failed_;
  std::map<std::string, PublishedProcedure> published_;
  bool listed_ = false;
};

// RFC 4180: the text quoted when it holds a comma, quote, CR or LF (or
// starts or ends with a space), quotes doubled.
std::string csv_field(const std::string& text);

// Which of `case_ids` `reveal.actor` may see personal data of (a role in
// the pinned procedure's pii_visible_to); one access row each is written to
// reveal.access_log, in one transaction, before the caller shows anything.
// kRefused when the actor may see none of them, kUsage without an access log.
std::vector<std::string> record_reveal(Store& store, ProcedureCache& procedures, const audit::RevealAccess& reveal,
                                       const std::vector<std::string>& case_ids);

// The value of a logged row's input `key` ("" when it has none): a registry
// row's facts (sop_id, version, staff, plan, site, from_site, ...).
inline std::string logged_input(const LogEntry& row, std::string_view key) {
  for (const auto& [name, value] : row.inputs)
    if (name == key) return value;
  return "";
}

// "log row 12", as findings name rows.
inline std::string log_row(int64_t seq) { return tr(msg::audit_log_row, {std::to_string(seq)}); }

// The first 16 hex digits of a hash and "...", or "(empty)".
inline std::string short_hash(std::string_view hash) {
  return hash.empty() ? "(empty)" : std::string(hash.substr(0, 16)) + "...";
}

}  // namespace sopir::audit_internal
