// Due times of deadlines (deadline.h).
#include "rules/deadline.h"

namespace sopir {

namespace {

constexpr int64_t kDay = 86400;

std::optional<DateTime> anchor_time(const Value& value) {
  if (auto d = std::get_if<Date>(&value)) return start_of(*d);
  if (auto t = std::get_if<DateTime>(&value)) return *t;
  return std::nullopt;
}

}  // namespace

std::optional<DateTime> due_for(const Procedure& p, int state, DateTime at, const std::vector<Value>& data) {
  const int field = p.states[state].deadline_from;
  return due_for_anchor(p, state, at,
                        field >= 0 && static_cast<size_t>(field) < data.size() ? &data[field] : nullptr);
}

std::optional<DateTime> due_for_anchor(const Procedure& p, int state, DateTime at, const Value* anchor_value) {
  const StateDef& s = p.states[state];
  if (!s.has_deadline()) return std::nullopt;
  DateTime from = at;
  if (s.deadline_from >= 0) {
    if (!anchor_value) return std::nullopt;
    auto anchor = anchor_time(*anchor_value);
    if (!anchor) return std::nullopt;
    from = *anchor;
  }
  if (s.working_days > 0) {
    if (!p.calendar) return std::nullopt;  // the loader refuses this
    return p.calendar->add_working_days(from, s.working_days);
  }
  return DateTime{from.seconds + s.deadline->seconds};
}

DateTime due_after_hold(const Procedure& p, int state, DateTime due, DateTime held, DateTime resumed) {
  const bool working = state >= 0 && static_cast<size_t>(state) < p.states.size() &&
                       p.states[state].working_days > 0 && p.calendar;
  return due_after_pause(working ? p.calendar.get() : nullptr, due, held, resumed);
}

DateTime due_after_pause(const Calendar* working, DateTime due, DateTime held, DateTime resumed) {
  if (resumed.seconds <= held.seconds) return due;
  if (!working || !(held < due)) return DateTime{due.seconds + resumed.seconds - held.seconds};
  const Calendar& c = *working;
  const int64_t left = c.working_days_between(date_of(held), date_of(due));
  if (left <= 0) return DateTime{due.seconds + resumed.seconds - held.seconds};
  // The same time of day as before, on the left-th working day after the resume.
  const DateTime day = c.add_working_days(start_of(date_of(resumed)), left);
  const int64_t time_of_day = due.seconds - start_of(date_of(due)).seconds;
  return DateTime{day.seconds + time_of_day % kDay};
}

}  // namespace sopir
