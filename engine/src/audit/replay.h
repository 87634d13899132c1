// Replaying one case's recorded log through a procedure (internal to audit).
//
// The snapshot is rebuilt from the *recorded* steps (state, status, data
// from the recorded changes, who fired what, due time), and each recorded
// step is re-decided under `procedure` with the recorded actor, role,
// inputs, reason and time. Because the record drives the snapshot, one
// tampered step gives one verdict, not a cascade. Pure: no store, no clock.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit/staff.h"
#include "sopir/decide.h"
#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir::audit_internal {

enum class Verdict {
  kAllowed,       // the rules allow it with exactly the recorded outcome
  kRefused,       // the rules refuse it
  kDiffers,       // the rules allow it but the outcome differs from the record
  kUnverifiable,  // needs personal data that has been erased
};

struct StepReplay {
  Verdict verdict = Verdict::kAllowed;
  int transition = -1;          // the transition that allowed it (procedure steps)
  std::string role;             // the role the rules matched
  std::string decided_to;       // where the rules send it ("" when refused)
  std::string message;          // refusal message, or the differences
  bool sequence_gap = false;    // steps before this one are missing
  // The actor check rests on the schema upgrade's staff list (StaffCheck).
  std::string staff_caveat;
  int64_t expected_case_seq = 0;
  // The case's values after this step (field id -> value as recorded), kept
  // only for steps that open or claim to open another case: a hand-off
  // copies them.
  std::optional<std::map<std::string, StoredValue>> data_after;
  // The version the step was replayed under when a migration row before it
  // switched the case to another one; null: the procedure replay_case was given.
  ProcedurePtr under;
};

// The case as its log leaves it.
struct ReplayedCase {
  std::string state;
  Status status = Status::kActive;
  std::map<std::string, StoredValue> data;  // field id -> latest recorded value
  std::optional<DateTime> due_at, hold_started;
  std::string closure_reason;
  int64_t last_case_seq = 0;
  int64_t steps = 0;
};

struct CaseReplay {
  std::vector<StepReplay> steps;  // one per history entry, same order
  ReplayedCase end;
};

// A case opened by a hand-off, as its own log tells it: what has_child()
// and child_closed() guards of its parent saw at each point of the log.
struct ChildTimeline {
  std::string id;
  std::string sop_id;
  // What each of its rows left, oldest first; the first is its open row.
  struct Row {
    int64_t seq = 0;
    Status status = Status::kActive;
    std::string state;
    std::string closure_reason;  // as `case close` gave it; "" otherwise
  };
  std::vector<Row> statuses;
};

// The children as they were just before log row `seq`: those opened by an
// earlier row, each with the status its last row before `seq` left.
std::vector<LinkedCase> children_before(const std::vector<ChildTimeline>& children, int64_t seq);

// `children`: the cases this case opened (needed when the procedure's
// guards read them); their rows give has_child()/child_closed() the state
// of the children at each replayed step.
// `staff`, when given, also checks each step's actor and role against the
// staff in force just before it (timer steps excepted): a step by someone
// who was not staff, was deactivated or did not hold the role is refused.
//
// A migration row (kind migration) switches the rules: with `versions`, the
// row is checked by re-running plan_case (sopir/migration.h) on the case as
// replayed so far, from the version in force to the row's version (its
// sha256), at the plan's time (the row's planned_at): state, values and
// deadline must be what it gives. Later rows replay under the new version.
// Without `versions` (replaying under a proposed procedure) the row is
// taken as recorded and the rules stay `procedure`'s.
using VersionLookup = std::function<ProcedurePtr(const std::string& sha256, std::string* why)>;
CaseReplay replay_case(const Procedure& procedure, const std::vector<LogEntry>& history,
                       const std::vector<ChildTimeline>& children = {},
                       const StaffTimeline* staff = nullptr, const VersionLookup* versions = nullptr);

// Where the case row `c` disagrees with what its log leaves (`end`, of
// procedure `sop_id`, opened at `opened` when the log holds its open row),
// one "; "-joined text; "" when it agrees. verify reports it (case-row) and
// `audit case` warns with it.
std::string case_row_problems(const CaseRecord& c, const ReplayedCase& end,
                              const std::string& sop_id, std::optional<DateTime> opened);

}  // namespace sopir::audit_internal
