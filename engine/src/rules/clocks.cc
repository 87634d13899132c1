// Case-level clocks from a case's log (sopir/clocks.h).
#include "sopir/clocks.h"

#include <algorithm>

#include "rules/deadline.h"

namespace sopir {

const char* to_string(ClockPhase phase) {
  switch (phase) {
    case ClockPhase::kNotStarted: return "not_started";
    case ClockPhase::kRunning: return "running";
    case ClockPhase::kPaused: return "paused";
    case ClockPhase::kStopped: return "stopped";
  }
  return "?";
}

const char* ClockStatus::status(DateTime now) const {
  if (overdue(now)) return "overdue";
  if (stopped_late()) return "stopped_late";
  return to_string(phase);
}

namespace {

bool listed(const std::vector<int>& states, int s) {
  return std::find(states.begin(), states.end(), s) != states.end();
}

// A field's value as a clock's `from` reads it: a date's 00:00 UTC or a
// datetime; none when it is missing, erased or unreadable.
std::optional<DateTime> anchor_value(const FieldDef& field, const StoredValue& value) {
  if (value.missing) return std::nullopt;
  if (field.type == Type::kDate) {
    if (auto d = parse_date(value.text)) return start_of(*d);
  } else if (auto t = parse_datetime(value.text)) {
    return *t;
  }
  return std::nullopt;
}

}  // namespace

ClockRuns::ClockRuns(const Procedure& p)
    : procedure_(&p), runs_(p.clocks.size()), anchors_(p.clocks.size()) {}

void ClockRuns::add(const LogEntry& row) {
  const Procedure& p = *procedure_;
  const int to = p.state_index(row.to_state);
  const bool opens = row.kind == LogKind::kOpen;
  const bool enters = opens || row.kind == LogKind::kProcedure || row.kind == LogKind::kOverride ||
                      row.kind == LogKind::kTimer || (row.kind == LogKind::kLifecycle && row.event == "reopen");
  const bool closes = row.to_status == to_string(Status::kClosed);
  for (size_t i = 0; i < runs_.size(); ++i) {
    const ClockDef& c = p.clocks[i];
    Run& run = runs_[i];
    // The row's first change of the `from` field, if it has one.
    if (c.limit_from >= 0) {
      const FieldDef& field = p.fields[static_cast<size_t>(c.limit_from)];
      const auto change = std::find_if(row.changes.begin(), row.changes.end(),
                                       [&](const LogEntry::Change& ch) { return ch.after.field == field.id; });
      if (change != row.changes.end()) anchors_[i] = anchor_value(field, change->after);
    }
    const bool started = run.phase == ClockPhase::kRunning || run.phase == ClockPhase::kPaused;
    if (row.kind == LogKind::kLifecycle && row.event == "hold" && run.phase == ClockPhase::kRunning) {
      run.phase = ClockPhase::kPaused;
      run.held = row.occurred_at;
    } else if (row.kind == LogKind::kLifecycle && row.event == "resume" && run.phase == ClockPhase::kPaused) {
      run.phase = ClockPhase::kRunning;
      run.holds.emplace_back(*run.held, row.occurred_at);
      run.held.reset();
    }
    if (started && enters && listed(c.stop, to)) {
      run.phase = ClockPhase::kStopped;
      run.stopped = row.occurred_at;
    } else if (!started && enters && ((opens && c.start_at_open) || listed(c.start, to))) {
      run = Run{};
      run.phase = ClockPhase::kRunning;
      run.started = row.occurred_at;
    }
    const bool running = run.phase == ClockPhase::kRunning || run.phase == ClockPhase::kPaused;
    if (closes && running) {
      if (run.held) run.holds.emplace_back(*run.held, row.occurred_at);
      run.held.reset();
      run.phase = ClockPhase::kStopped;
      run.stopped = row.occurred_at;
    }
  }
}

std::optional<DateTime> ClockRuns::due_of(size_t clock) const {
  const Procedure& p = *procedure_;
  const ClockDef& c = p.clocks[clock];
  const Run& run = runs_[clock];
  DateTime from = run.started;
  if (c.limit_from >= 0) {
    if (!anchors_[clock]) return std::nullopt;
    from = *anchors_[clock];
  }
  DateTime due;
  if (c.working_days > 0) {
    if (!p.calendar) return std::nullopt;  // the loader refuses this
    due = p.calendar->add_working_days(from, c.working_days);
  } else {
    due = DateTime{from.seconds + c.limit->seconds};
  }
  const Calendar* working = c.working_days > 0 ? p.calendar.get() : nullptr;
  for (const auto& [held, resumed] : run.holds) due = due_after_pause(working, due, held, resumed);
  return due;
}

std::vector<ClockStatus> ClockRuns::statuses() const {
  std::vector<ClockStatus> out;
  for (size_t i = 0; i < runs_.size(); ++i) {
    const Run& run = runs_[i];
    ClockStatus s;
    s.clock = static_cast<int>(i);
    s.phase = run.phase;
    if (run.phase != ClockPhase::kNotStarted) {
      s.started_at = run.started;
      // A paused clock's due time is where it stood when the hold began;
      // the resume moves it.
      s.due_at = due_of(i);
    }
    if (run.phase == ClockPhase::kStopped) s.stopped_at = run.stopped;
    out.push_back(s);
  }
  return out;
}

std::vector<ClockStatus> clock_statuses(const Procedure& p, const std::vector<LogEntry>& history) {
  ClockRuns runs(p);
  for (const LogEntry& row : history) runs.add(row);
  return runs.statuses();
}

std::vector<ClockReading> clock_readings(const Procedure& p, const std::vector<LogEntry>& history) {
  std::vector<ClockReading> out;
  for (const ClockStatus& s : clock_statuses(p, history)) {
    out.push_back({p.clocks[static_cast<size_t>(s.clock)].id, s.phase == ClockPhase::kRunning, s.due_at});
  }
  return out;
}

}  // namespace sopir
