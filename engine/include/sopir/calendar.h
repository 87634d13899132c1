// A holiday calendar: which days count as working days.
//
// A procedure that counts deadlines in working days names a calendar
// (`calendar: indonesia`); the loader reads it from a YAML file
// (workflows/calendars/NAME.yaml, format in workflows/README.md) and the
// compiled Procedure holds it, so decide() never reads a file or a clock.
// The calendar's bytes are pinned with the procedure when it is published:
// replay and verify later count the same days even if the file was edited.
//
// A day is a working day unless it falls on the weekend or is listed as a
// national holiday or a collective leave day (cuti bersama). The calendar
// declares the range of dates it covers; past that range only weekends
// are known, and `covers()` says so.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sopir/value.h"

namespace sopir {

enum class DayKind { kHoliday, kCollectiveLeave };
const char* to_string(DayKind kind);  // "holiday", "collective_leave"

struct CalendarDay {
  Date date;
  DayKind kind = DayKind::kHoliday;
  std::string name_id;  // in Indonesian
  std::string name_en;  // in English
};

// One calendar file as read: its name, where it came from and its exact
// bytes (what is pinned), with their SHA-256 in lowercase hex.
struct CalendarSource {
  std::string name;
  std::string file;
  std::string text;
  std::string sha256;
};

struct Calendar {
  std::string name;  // as the procedure names it ("indonesia", or "a+b" for several)
  Date first;        // the covered range, inclusive
  Date last;
  // From this day to `last` the calendar is known only in part
  // (`partial_from:`): the days listed there are certain (the fixed-date
  // holidays), but the decree with the rest is not out yet, so a due time
  // counted there may come before the real one, never after it.
  std::optional<Date> partial_from;
  bool weekend[7] = {};            // by day of week, 0 = Monday .. 6 = Sunday
  std::map<int64_t, CalendarDay> days;  // by Date::days
  std::vector<CalendarSource> sources;  // the files it was read from, in order

  bool covers(Date date) const { return !(date < first) && !(last < date); }
  bool is_weekend(Date date) const;
  // Not a weekend day, holiday or collective leave day.
  bool is_working_day(Date date) const;
  // The listed holiday or leave day on `date`, or null.
  const CalendarDay* day(Date date) const;

  // `from` moved on by `n` (>= 1) working days: the same time of day on the
  // n-th working day after from's date. Days before the first working day
  // (a Saturday start, a holiday) do not count.
  DateTime add_working_days(DateTime from, int64_t n) const;
  // Working days d with `after` < d <= `until` (0 when until <= after).
  int64_t working_days_between(Date after, Date until) const;
};

using CalendarPtr = std::shared_ptr<const Calendar>;

// Day of week of a date: 0 = Monday .. 6 = Sunday.
int day_of_week(Date date);

}  // namespace sopir
