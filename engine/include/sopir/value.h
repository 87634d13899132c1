// Typed values of case fields and guard expressions.
//
// A Value is missing (std::monostate) or one of the field types a procedure
// can declare. Times are UTC: a Date counts days since 1970-01-01, a DateTime
// seconds since 1970-01-01T00:00:00Z, a Duration seconds. Enum values are
// held as their text; a set as its canonical text: its members' ids in the
// enum's declared order, no repeats, joined by ',' ("" is the empty set,
// which is a value, unlike missing). Every function here is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sopir {

// kSet: a set of values of the field's enum (a multi-select).
enum class Type { kString, kInt, kBool, kDate, kDateTime, kEnum, kDuration, kSet };

struct Date {
  int64_t days = 0;
  friend bool operator==(Date a, Date b) { return a.days == b.days; }
  friend bool operator!=(Date a, Date b) { return a.days != b.days; }
  friend bool operator<(Date a, Date b) { return a.days < b.days; }
};
struct DateTime {
  int64_t seconds = 0;
  friend bool operator==(DateTime a, DateTime b) { return a.seconds == b.seconds; }
  friend bool operator!=(DateTime a, DateTime b) { return a.seconds != b.seconds; }
  friend bool operator<(DateTime a, DateTime b) { return a.seconds < b.seconds; }
};
struct Duration {
  int64_t seconds = 0;
  friend bool operator==(Duration a, Duration b) { return a.seconds == b.seconds; }
  friend bool operator!=(Duration a, Duration b) { return a.seconds != b.seconds; }
  friend bool operator<(Duration a, Duration b) { return a.seconds < b.seconds; }
};

// Index order is part of the contract (std::variant::index is used in
// canonical encodings): missing, bool, int, text (string and enum), date,
// datetime, duration.
using Value = std::variant<std::monostate, bool, int64_t, std::string, Date, DateTime, Duration>;

inline bool is_missing(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// "string", "int", "bool", "date", "datetime", "enum", "duration", "set".
const char* type_name(Type type);
std::optional<Type> type_from_name(std::string_view name);

// Canonical text of a value, the form parse_* accept back:
// "" (missing), "true", "42", text as is, "2026-11-29", "2026-11-29T08:30:00Z",
// durations in their largest exact unit ("7d", "36h", "90m", "45s", "0s").
std::string format_value(const Value& value);
std::string format_date(Date date);
std::string format_datetime(DateTime time);
std::string format_duration(Duration duration);

// Parsers return std::nullopt on anything they do not accept in full.
// Durations: one or more <digits><unit> with units w d h m s ("24h", "1d12h").
std::optional<Duration> parse_duration(std::string_view text);
// Dates: YYYY-MM-DD, a real calendar day.
std::optional<Date> parse_date(std::string_view text);
// Date-times: YYYY-MM-DD, then 'T' or ' ', HH:MM[:SS], then nothing (UTC),
// 'Z', or an offset +HH:MM / -HH:MM. A bare date means its midnight UTC.
std::optional<DateTime> parse_datetime(std::string_view text);
std::optional<int64_t> parse_int(std::string_view text);
// true/false, also yes/no, ya/tidak (Indonesian), 1/0; case-insensitive.
std::optional<bool> parse_bool(std::string_view text);

// Length of a text in characters (UTF-8 code points), as `len()` and the
// `min`/`max` bounds of string fields count it.
int64_t text_length(std::string_view text);

// The number a value of `type` is ordered by, as compare_values() orders
// two of them: an int itself, a date's days, a date-time's or a duration's
// seconds; nullopt for a value not of `type`'s alternative, and for a
// type not ordered by a number (bool, string, enum, set).
inline std::optional<int64_t> ordered_number(Type type, const Value& value) {
  switch (type) {
    case Type::kInt:
      if (const auto* n = std::get_if<int64_t>(&value)) return *n;
      break;
    case Type::kDate:
      if (const auto* d = std::get_if<Date>(&value)) return d->days;
      break;
    case Type::kDateTime:
      if (const auto* t = std::get_if<DateTime>(&value)) return t->seconds;
      break;
    case Type::kDuration:
      if (const auto* d = std::get_if<Duration>(&value)) return d->seconds;
      break;
    default: break;
  }
  return std::nullopt;
}

// Calendar helpers.
Date date_of(DateTime time);
DateTime start_of(Date date);
// `time` moved by `months` calendar months (may be negative): the same day
// of the month and time of day; a day the target month lacks becomes its
// last day (Jan 31 + 1 month = Feb 28 or 29; Feb 29 + 12 months = Feb 28),
// as PostgreSQL's `+ interval '1 year'` and java.time's plusYears count.
DateTime add_months(DateTime time, int64_t months);

// Parses `text` as a value of `type` (enum values checked against
// `enum_values`). On failure returns std::nullopt and sets `*accepted` to a
// short description of what would be accepted, e.g. "a date like 2026-11-29"
// or "one of: overstay, illegal_entry, drugs".
//
// A set is given as its members separated by commas ("a,b", spaces around
// them allowed), optionally in brackets ("[a, b]"); "" and "[]" are the
// empty set. The result is canonical (see above).
//
// Messages (`*accepted` and the texts below) are in `lang` ("en", "id"; ""
// is the process's message language, sopir/messages.h).
std::optional<Value> parse_typed(Type type, const std::vector<std::string>& enum_values,
                                 std::string_view text, std::string* accepted,
                                 std::string_view lang = {});

// Describes what a field of this type accepts (the text parse_typed puts in
// *accepted).
std::string accepted_forms(Type type, const std::vector<std::string>& enum_values,
                           std::string_view lang = {});

// Sets in canonical text: the members, in order; whether `id` is one (no
// allocation); how many there are.
std::vector<std::string> set_members(std::string_view canonical);
bool set_contains(std::string_view canonical, std::string_view id);
int64_t set_count(std::string_view canonical);
// The canonical text of `members` (ids of `enum_values`, any order, repeats
// allowed); std::nullopt and `*unknown` set when one is not a value.
std::optional<std::string> canonical_set(const std::vector<std::string>& enum_values,
                                         const std::vector<std::string>& members,
                                         std::string* unknown = nullptr);

// Ordering of two present values of the same alternative; nullopt when they
// cannot be ordered (missing, different alternatives, or bools).
std::optional<int> compare_values(const Value& a, const Value& b);

// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word` when it is close enough to be a likely
// typo (distance at most 2, or at most a third of the word's length);
// std::nullopt otherwise.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates);
// "; did you mean 'x'?" with the nearest candidate between `quote`s, or ""
// when none is close: the one way messages suggest a name.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates,
                         std::string_view quote = "'", std::string_view lang = {});

// did_you_mean(), else "; expected one of: a, b" when there are 1 to
// `list_at_most` candidates, else "".
std::string suggest_name(std::string_view word, const std::vector<std::string>& candidates,
                         size_t list_at_most, std::string_view lang = {});

// The items separated by `separator`: "a, b, c".
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

}  // namespace sopir
