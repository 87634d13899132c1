// Small pieces shared by the audit source files (internal).
#pragma once

#include <map>
#include <cstdint>
#include <string>
#include <string_view>

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

// "log row 12", as findings name rows.
inline std::string log_row(int64_t seq) { return tr(msg::audit_log_row, {std::to_string(seq)}); }

// The first 16 hex digits of a hash and "...", or "(empty)".
inline std::string short_hash(std::string_view hash) {
  return hash.empty() ? "(empty)" : std::string(hash.substr(0, 16)) + "...";
}

}  // namespace sopir::audit_internal
