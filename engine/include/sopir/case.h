// The case model: what a case is, independent of how it is decided or
// stored. The decision core (decide.h), the store (store.h), guards and the
// lifecycle all speak of cases in these types.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/value.h"

namespace sopir {

// A case's lifecycle, independent of its procedure (lifecycle.h).
enum class Status { kActive, kOnHold, kClosed };
const char* to_string(Status status);  // "active", "on_hold", "closed"
std::optional<Status> status_from_string(std::string_view text);

// What moves a case between statuses (rules/lifecycle.h has the machine).
enum class LifecycleEvent { kHold, kResume, kClose, kReopen };
const char* to_string(LifecycleEvent event);  // "hold", "resume", "close", "reopen"

struct Actor {
  std::string id;
  std::vector<std::string> roles;  // database roles of this staff member
  std::vector<std::string> sites = {};  // the sites they belong to (StaffMember::sites)
};

// A case linked to this one by a hand-off (`opens:` in the procedure).
struct LinkedCase {
  std::string id;
  std::string sop_id;
  Status status = Status::kActive;
  // Its state id and closure reason (missing while it has none), as text
  // values so guards (track_state, track_outcome) read them without copying.
  Value state;
  Value outcome;
};

// A linked case as guards see it: `closure_reason` is its outcome when
// closed; a case closed without one (it ended in a terminal state) has its
// state as outcome.
LinkedCase linked_case(std::string id, std::string sop_id, Status status, const std::string& state,
                       const std::string& closure_reason);

// A case-level clock (`clocks:`) as guards see it: clock_overdue('stay')
// is true when it runs (not paused, not stopped) and its due time is at or
// before the step's time. Worked out from the case's log (sopir/clocks.h).
struct ClockReading {
  std::string id;
  bool running = false;
  std::optional<DateTime> due_at;
};

// The case as the caller read it.
struct CaseSnapshot {
  std::string id;
  int state = -1;                 // index into Procedure::states
  Status status = Status::kActive;
  std::vector<Value> data;        // by field index; size == fields.size()
  // Who fired which procedure event on this case so far (event index,
  // actor id), oldest first: the four-eyes rule reads it.
  std::vector<std::pair<int, std::string>> fired;
  std::optional<DateTime> due_at;
  // Cases this case opened by hand-offs (its tracks): guards such as
  // child_closed('tppo-victim-care') or all_tracks_closed() read them. The
  // engine fills them before decide(); replay fills them from the log.
  std::vector<LinkedCase> children;
  // Its clocks, when a guard from its state reads one (clock_overdue); the
  // engine fills them from the log before decide(), replay likewise.
  std::vector<ClockReading> clocks;
};

}  // namespace sopir
