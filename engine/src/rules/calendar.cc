// Working-day arithmetic over a holiday calendar (sopir/calendar.h).
#include "sopir/calendar.h"

#include <algorithm>
#include <iterator>

namespace sopir {

namespace {

constexpr int64_t kDay = 86400;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

const char* to_string(DayKind kind) {
  return kind == DayKind::kHoliday ? "holiday" : "collective_leave";
}

int day_of_week(Date date) {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  const int64_t r = (date.days + 3) % 7;
  return static_cast<int>(r < 0 ? r + 7 : r);
}

bool Calendar::is_weekend(Date date) const { return weekend[day_of_week(date)]; }

const CalendarDay* Calendar::day(Date date) const {
  auto it = days.find(date.days);
  return it == days.end() ? nullptr : &it->second;
}

bool Calendar::is_working_day(Date date) const { return !is_weekend(date) && !day(date); }

DateTime Calendar::add_working_days(DateTime from, int64_t n) const {
  const int64_t start = floor_div(from.seconds, kDay);
  const int64_t time_of_day = from.seconds - start * kDay;
  int64_t d = start;
  if (std::all_of(std::begin(weekend), std::end(weekend), [](bool w) { return w; })) return from;
  // A calendar with every weekday a weekend would never end; one that
  // declares no working day at all is refused when it is read.
  // The days are walked in order beside the listed days after `start`, so
  // each listed day is passed once instead of each day being looked up.
  int week_day = day_of_week(Date{d});
  auto listed = days.upper_bound(d);
  while (n > 0) {
    ++d;
    week_day = week_day == 6 ? 0 : week_day + 1;
    while (listed != days.end() && listed->first < d) ++listed;
    if (!weekend[week_day] && !(listed != days.end() && listed->first == d)) --n;
  }
  return DateTime{d * kDay + time_of_day};
}

int64_t Calendar::working_days_between(Date after, Date until) const {
  int64_t n = 0;
  int week_day = day_of_week(after);
  auto listed = days.upper_bound(after.days);
  for (int64_t d = after.days + 1; d <= until.days; ++d) {
    week_day = week_day == 6 ? 0 : week_day + 1;
    while (listed != days.end() && listed->first < d) ++listed;
    if (!weekend[week_day] && !(listed != days.end() && listed->first == d)) ++n;
  }
  return n;
}

}  // namespace sopir
