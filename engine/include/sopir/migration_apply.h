// Proposing, approving and applying a saved migration plan
// (`sopir migrate propose|approve|apply`, issue #17).
//
// A plan (sopir/migration_plan.h, the JSON document `migrate plan --output`
// saves) is known by the SHA-256 of its bytes. A staff member with the role
// `policy` proposes it (a registry row, kind migration-plan, event
// "proposed"); a second, different one approves it by that hash (event
// "approved"): four-eyes. apply moves the cases the plan moves, in batches
// of `batch` cases, each batch one all-or-nothing transaction, writing one
// log row of kind `migration` per case and updating the case row (its
// procedure version, state, values and deadline). A case whose row changed
// since the plan was made (its version or chain head differ) is skipped,
// never moved on stale data; one that no longer lands where the plan said
// stays. Every refusal is raised before anything is written.
//
// A migration row: kind "migration", event "migrate", sha256 the version
// the case moves to, from_state/to_state, status unchanged, actor and role
// "policy", changes the values that differ (the new version's fields, and
// the older values left behind as missing; personal values as salted
// digests), due_at the recomputed deadline, inputs
//   [["plan",SHA256],["from_version",N],["from_sha256",SHA],["to_version",N],["planned_at",TIME]]
// planned_at is the plan's made_at: what a split's guard read as now().
// audit verify re-runs plan_case (sopir/migration.h) at that row.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sopir/engine.h"

namespace sopir {

// The staff role that proposes, approves and applies migrations.
inline constexpr char kMigrationRole[] = "policy";
// The event of a migration row.
inline constexpr char kMigrationEvent[] = "migrate";

// The parts of a saved plan document apply needs.
struct SavedPlan {
  std::string sha256;  // of the document's bytes
  std::string sop_id;
  int to_version = 0;
  std::string to_sha256;
  DateTime made_at;
  struct Case {
    std::string case_id;
    int from_version = 0;
    std::string from_sha256;
    int64_t case_version = 0;
    std::string head_hash;
    bool moves = false;
    std::string to_state;
  };
  std::vector<Case> cases;
  int64_t moving() const;
  std::string from_versions() const;  // "2" or "1,2"
};

// Reads a plan document (format sopir-migration-plan-1). kUsage naming what
// is wrong (not JSON, another format, a missing or mistyped member) for
// anything else: a CSV plan, a file edited out of shape. Messages are in
// `lang` ("" the process's language).
SavedPlan read_plan(std::string_view document, std::string_view lang = {});

// "'SOP' has no version N published in this database" (kNotFound's text for
// `migrate plan --to N` and for proposing a plan made elsewhere), with the
// `published` versions (ascending or not) and what to do: publish the file
// first when N is above them all; else that N can no longer be published.
std::string unpublished_version_message(const std::string& sop_id, int version,
                                        std::vector<int> published, std::string_view lang = {});

// A plan as the registry rows record it.
struct PlanStatus {
  std::string sha256;
  std::string sop_id;
  std::string from_versions;
  int to_version = 0;
  std::string made_at;  // the plan's made_at as recorded
  int64_t cases = 0, moving = 0;
  std::string proposed_by;
  DateTime proposed_at;
  int64_t proposed_seq = 0;
  std::string approved_by;  // "" while not approved
  std::optional<DateTime> approved_at;
  int64_t approved_seq = 0;
};
// Every plan proposed, oldest first, from the registry rows. `damaged`: as
// LogFilter::damaged (audit verify reads on past a damaged row).
std::vector<PlanStatus> migration_plans(Store& store,
                                        const std::function<void(const Error&)>* damaged = nullptr);

// Proposes the plan in `document` (its bytes as saved) by `actor` (an
// active staff member with the role policy): writes the "proposed" row.
// kUsage when it is not a plan document; kNotFound when its procedure or
// version is not published (or the version's hash differs); kRefused
// without the role; kConflict when this plan was proposed already.
PlanStatus propose_migration(Engine& engine, const std::string& actor, std::string_view document);

// Approves the proposed plan `hash` (its 64 hex digits, or a prefix of at
// least 8 naming one plan) by `actor`: writes the "approved" row. kUsage for
// text that is not such a hash; kNotFound when no proposed plan has it;
// kRefused without the role, or when `actor` proposed the plan
// (four-eyes); kConflict when it is approved already.
PlanStatus approve_migration(Engine& engine, const std::string& actor, const std::string& hash);

struct ApplyOptions {
  size_t batch = 500;  // cases per transaction
  // After each committed batch: cases done (moved or skipped) and the
  // moving cases in all.
  std::function<void(int64_t done, int64_t total)> progress;
};

struct ApplySkip {
  std::string case_id;
  std::string reason;
};

struct ApplyReport {
  std::string plan_sha256;
  int64_t migrated = 0;  // moved now
  int64_t already = 0;   // moved by this plan's earlier, interrupted apply
  int64_t stale = 0;     // changed since the plan was made: skipped
  int64_t cannot = 0;    // the plan moves it but it cannot move now: stays
  int64_t stays = 0;     // the plan leaves it where it is
  int64_t batches = 0;   // transactions committed
  std::vector<ApplySkip> skipped;  // stale and cannot, with why
};

// Applies the plan in `document` by `actor` (role policy). Refused (kRefused,
// nothing written) when the plan was not proposed, or not approved, or when
// its bytes no longer hash to a proposed plan (it was edited: a proposal
// with its procedure, version and time exists under another hash). kUsage
// for a document that is not a plan. Storage errors and conflicts end the
// apply: committed batches stay (each whole), the batch under way is
// undone; applying the plan again moves the rest.
ApplyReport apply_migration(Engine& engine, const std::string& actor, std::string_view document,
                            const ApplyOptions& options = {});

// What a case's values become when it moves (pure): `landing` (plan_case)
// of `record` under `next`. The new stored values, and the log row's
// changes: every field whose value differs, including older values left
// behind (after missing). A personal value keeps its salt and digest when
// its text is unchanged, wherever it moved.
struct MovedValues {
  std::vector<StoredValue> data;
  std::vector<LogEntry::Change> changes;
};
MovedValues moved_values(const Procedure& next, const CaseRecord& record, const std::vector<Value>& landing_data);

// When each case of `sop_id` entered the state it is in: the time of its
// newest log row that opened it or changed its state (migration rows
// excepted: moving keeps the time a case entered its state). One pass over
// the procedure's rows. plan and apply both use it; replay uses the same
// rule (audit).
std::unordered_map<std::string, DateTime> state_entered_at(Store& store, const std::string& sop_id);

}  // namespace sopir
