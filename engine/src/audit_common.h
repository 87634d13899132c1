// Small pieces shared by the audit source files (internal).
#pragma once

#include <map>
#include <string>

#include "sopir/audit.h"
#include "sopir/procedure.h"
#include "sopir/store.h"

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

// Whether the actor has a role the procedure lets see personal data.
bool may_see_pii(const Procedure& procedure, const Actor& actor);

}  // namespace sopir::audit_internal
