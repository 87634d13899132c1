// Case-level clocks (`clocks:` in a procedure, ClockDef): where each clock of
// a case stands, worked out from the case's log.
//
// A clock is never stored: its start, stop, pauses and due time follow from
// the log rows (which state each step entered, when the case was held,
// resumed, closed). The engine reads them this way for `case show`, `tick`
// and the overdue and todo lists, and so does an auditor's replay, so the
// figures cannot disagree with the hash-chained record. Pure: no store, no
// clock; the caller passes the rows and the time to judge "overdue" by.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir {

enum class ClockPhase {
  kNotStarted,  // no step has started it yet
  kRunning,
  kPaused,      // started, and the case is on hold
  kStopped,     // a stop state was entered or the case closed
};
const char* to_string(ClockPhase phase);  // "not_started", "running", "paused", "stopped"

struct ClockStatus {
  int clock = -1;  // index into Procedure::clocks
  ClockPhase phase = ClockPhase::kNotStarted;
  std::optional<DateTime> started_at, stopped_at;
  // When the limit is (or was) reached, time on hold added; none before the
  // clock starts, or while its `from` field has no value.
  std::optional<DateTime> due_at;

  // Running (not paused) and due at or before `now`.
  bool overdue(DateTime now) const {
    return phase == ClockPhase::kRunning && due_at && !(now < *due_at);
  }
  // Stopped after its due time.
  bool stopped_late() const {
    return phase == ClockPhase::kStopped && due_at && stopped_at && *due_at < *stopped_at;
  }
  // "overdue", "stopped_late" or the phase's name, as scenario tests and
  // --json write it.
  const char* status(DateTime now) const;
};

// Every clock of `procedure` (in its order) as the case's log rows leave it
// (`history`: the case's rows, oldest first, as Store::history returns them).
// A clock starts when a row enters one of its start states (or opens the
// case, for `start: open`) while it is not running, from zero again if it
// had stopped; it stops when a row enters one of its stop states or closes
// the case; a hold pauses it and the resume moves its due time later as a
// hold moves a state's deadline.
std::vector<ClockStatus> clock_statuses(const Procedure& procedure, const std::vector<LogEntry>& history);

// The same, a row at a time: what clock_statuses() keeps while it reads the
// rows (each clock's run and its `from` field's newest value), so that a
// pass over the whole log (audit report) need not hold every case's rows.
// `procedure` must outlive it.
class ClockRuns {
 public:
  explicit ClockRuns(const Procedure& procedure);
  void add(const LogEntry& row);  // the case's next row, oldest first
  std::vector<ClockStatus> statuses() const;
  const Procedure& procedure() const { return *procedure_; }

 private:
  struct Run {
    ClockPhase phase = ClockPhase::kNotStarted;
    DateTime started, stopped;
    std::vector<std::pair<DateTime, DateTime>> holds;  // (held, resumed) while it ran
    std::optional<DateTime> held;                      // on hold now, since
  };
  std::optional<DateTime> due_of(size_t clock) const;

  const Procedure* procedure_;
  std::vector<Run> runs_;
  // By clock: the value of its `from` field as of the newest row that set
  // it (a date's 00:00 UTC, or a datetime); none without one.
  std::vector<std::optional<DateTime>> anchors_;
};

// The same as guards read them (clock_overdue): id, running, due time.
std::vector<ClockReading> clock_readings(const Procedure& procedure, const std::vector<LogEntry>& history);

}  // namespace sopir
