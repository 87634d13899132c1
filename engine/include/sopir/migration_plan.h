// Planning a migration over the database (`sopir migrate plan`): every
// running case of the older published versions of a procedure, where
// plan_case (sopir/migration.h) lands it in a newer version, or why it
// cannot move. Read-only: nothing is written.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/engine.h"

namespace sopir {

// One value a moving case changes; personal data (`pii`) is shown as "***".
struct PlannedChange {
  std::string field;       // the new version's field; "" when left behind
  std::string from_field;  // the older field it came from or stays in; "" for a default
  std::string before, after;  // canonical text ("" missing), or "***"
};

struct PlannedCase {
  std::string case_id;
  int from_version = 0;      // the published version it is pinned to (sop list)
  std::string from_sha256;
  // The case as planned: apply skips a case whose row changed since.
  int64_t case_version = 0;
  std::string head_hash;
  std::string status;        // active, on_hold
  std::string from_state;
  bool moves = false;
  std::string to_state;      // when it moves
  std::string reason;        // when it does not
  std::vector<PlannedChange> changes;
  std::optional<DateTime> due_before, due_after;
};

struct MigrationPlan {
  std::string sop_id;
  int to_version = 0;
  std::string to_sha256;
  DateTime made_at;
  std::vector<PlannedCase> cases;  // by older version, then as Store::cases orders them

  int64_t moving() const;
  int64_t staying() const { return static_cast<int64_t>(cases.size()) - moving(); }
  // Cases per older version (published version number).
  std::map<int, int64_t> by_version() const;
};

// The plan for every case of `sop_id` that is not closed and is pinned to a
// published version older than `to_version` (as `sop list` numbers them).
// Reasons are in `lang` ("" the process's language). kNotFound for an
// unknown procedure or version; kUsage when `to_version` names no version
// newer than another (the first). The time of the plan is the engine's
// clock; guards in splits read it.
MigrationPlan plan_migration(Engine& engine, const std::string& sop_id, int to_version, std::string_view lang = {});

// The plan as a JSON document (format "sopir-migration-plan-1"), the bytes
// that are saved and hashed; and as CSV (one row per case, a header row).
std::string plan_json(const MigrationPlan& plan);
std::string plan_csv(const MigrationPlan& plan);

// Lowercase hex SHA-256 of a plan document's bytes: the plan's identity.
std::string plan_sha256(std::string_view document);

}  // namespace sopir
