#include "sopir/value.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>

#include "sopir/error.h"
#include "sopir/messages/base.h"

namespace sopir {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kRefused: return "refused";
    case ErrorKind::kUsage: return "usage";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kStorage: return "storage";
    case ErrorKind::kDenied: return "denied";
  }
  return "error";
}

namespace {

constexpr const char* kTypeNames[] = {"string", "int", "bool", "date", "datetime", "enum", "duration", "set"};
constexpr int kTypeCount = sizeof kTypeNames / sizeof kTypeNames[0];

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "[a, b]" -> "a, b": a set may be written as a list.
std::string_view without_brackets(std::string_view text) {
  std::string_view t = trimmed(text);
  if (t.size() >= 2 && t.front() == '[' && t.back() == ']') return t.substr(1, t.size() - 2);
  return text;
}

// "a, b ,c" -> {"a", "b", "c"}; "" (or only spaces) -> {}. An empty item
// ("a,,b") stays, so the caller rejects it.
std::vector<std::string> split_items(std::string_view text) {
  std::vector<std::string> out;
  if (trimmed(text).empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    out.emplace_back(trimmed(text.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool read_digits(std::string_view text, size_t pos, size_t count, int* out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

const char* type_name(Type type) { return kTypeNames[static_cast<int>(type)]; }

std::optional<Type> type_from_name(std::string_view name) {
  for (int i = 0; i < kTypeCount; ++i) {
    if (name == kTypeNames[i]) return static_cast<Type>(i);
  }
  return std::nullopt;
}

std::string format_date(Date date) {
  // Dates come from parse_date (years 0000-9999); anything far outside is
  // shown clamped rather than overflowing the calendar arithmetic.
  constexpr int64_t kLimit = 1'000'000'000;
  if (date.days > kLimit) date.days = kLimit;
  if (date.days < -kLimit) date.days = -kLimit;
  int64_t y;
  unsigned m, d;
  civil_from_days(date.days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string format_datetime(DateTime time) {
  int64_t days = time.seconds / 86400;
  int64_t rest = time.seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02lld:%02lld:%02lldZ", static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  return format_date(Date{days}) + buf;
}

std::string format_duration(Duration duration) {
  static const std::pair<int64_t, char> kUnits[] = {
      {604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  const int64_t s = duration.seconds;
  if (s == 0) return "0s";
  for (const auto& [size, unit] : kUnits) {
    // Weeks only when they read naturally; "14d" is what SOPs write.
    if (unit == 'w') continue;
    if (s % size == 0) return std::to_string(s / size) + unit;
  }
  return std::to_string(s) + "s";
}

std::string format_value(const Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(Date d) const { return format_date(d); }
    std::string operator()(DateTime t) const { return format_datetime(t); }
    std::string operator()(Duration d) const { return format_duration(d); }
  };
  return std::visit(Visitor{}, value);
}

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > std::numeric_limits<int64_t>::max() / 10 - 10) return std::nullopt;
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == start || i == text.size()) return std::nullopt;
    int64_t unit = 0;
    switch (text[i]) {
      case 'w': unit = 604800; break;
      case 'd': unit = 86400; break;
      case 'h': unit = 3600; break;
      case 'm': unit = 60; break;
      case 's': unit = 1; break;
      default: return std::nullopt;
    }
    ++i;
    if (n > (std::numeric_limits<int64_t>::max() - total) / unit) return std::nullopt;
    total += n * unit;
  }
  return Duration{total};
}

std::optional<Date> parse_date(std::string_view text) {
  int y, m, d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!read_digits(text, 0, 4, &y) || !read_digits(text, 5, 2, &m) || !read_digits(text, 8, 2, &d))
    return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, m)) return std::nullopt;
  return Date{days_from_civil(y, m, d)};
}

std::optional<DateTime> parse_datetime(std::string_view text) {
  if (text.size() < 10) return std::nullopt;
  auto date = parse_date(text.substr(0, 10));
  if (!date) return std::nullopt;
  int64_t seconds = date->days * 86400;
  if (text.size() == 10) return DateTime{seconds};
  if (text[10] != 'T' && text[10] != ' ') return std::nullopt;
  int hh, mm, ss = 0;
  if (!read_digits(text, 11, 2, &hh) || text.size() < 16 || text[13] != ':' ||
      !read_digits(text, 14, 2, &mm))
    return std::nullopt;
  size_t pos = 16;
  if (pos < text.size() && text[pos] == ':') {
    if (!read_digits(text, 17, 2, &ss)) return std::nullopt;
    pos = 19;
  }
  if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  seconds += hh * 3600 + mm * 60 + ss;
  std::string_view zone = text.substr(pos);
  if (zone.empty() || zone == "Z") return DateTime{seconds};
  int oh, om;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
      !read_digits(zone, 1, 2, &oh) || !read_digits(zone, 4, 2, &om) || oh > 23 || om > 59)
    return std::nullopt;
  const int64_t offset = oh * 3600 + om * 60;
  return DateTime{zone[0] == '+' ? seconds - offset : seconds + offset};
}

std::optional<int64_t> parse_int(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    i = 1;
    if (text.size() == 1) return std::nullopt;
  }
  // Accumulate negatively: the int64 range has one more negative value.
  int64_t value = 0;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    const int digit = text[i] - '0';
    if (value < (kMin + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (!negative && value == kMin) return std::nullopt;
  return negative ? value : -value;
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string t = lower(text);
  if (t == "true" || t == "yes" || t == "ya" || t == "1") return true;
  if (t == "false" || t == "no" || t == "tidak" || t == "0") return false;
  return std::nullopt;
}

int64_t text_length(std::string_view text) {
  // Characters are the bytes that do not continue one (10xxxxxx); a word of
  // eight ASCII bytes holds eight.
  int64_t n = 0;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if ((w & 0x8080808080808080ULL) == 0) {
      n += 8;
      continue;
    }
    for (size_t k = i; k < i + 8; ++k) n += (static_cast<unsigned char>(text[k]) & 0xC0) != 0x80;
  }
  for (; i < text.size(); ++i) n += (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
  return n;
}

Date date_of(DateTime time) {
  int64_t days = time.seconds / 86400;
  if (time.seconds % 86400 < 0) --days;
  return Date{days};
}

DateTime start_of(Date date) { return DateTime{date.days * 86400}; }

DateTime add_months(DateTime time, int64_t months) {
  const Date day = date_of(time);
  const int64_t seconds_of_day = time.seconds - start_of(day).seconds;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day.days, &y, &m, &d);
  // Months since year 0, moved, then back to a year and a month (1-12).
  const int64_t index = y * 12 + static_cast<int64_t>(m - 1) + months;
  int64_t year = index / 12;
  int64_t month0 = index % 12;
  if (month0 < 0) {
    month0 += 12;
    --year;
  }
  const unsigned month = static_cast<unsigned>(month0 + 1);
  const unsigned last = days_in_month(year, month);
  const Date moved{days_from_civil(year, month, d < last ? d : last)};
  return DateTime{start_of(moved).seconds + seconds_of_day};
}

std::string accepted_forms(Type type, const std::vector<std::string>& enum_values, std::string_view lang) {
  lang = lang_or_process(lang);
  switch (type) {
    case Type::kString: return tr(msg::base_accepts_text, lang);
    case Type::kInt: return tr(msg::base_accepts_int, lang);
    case Type::kBool: return tr(msg::base_accepts_bool, lang);
    case Type::kDate: return tr(msg::base_accepts_date, lang);
    case Type::kDateTime: return tr(msg::base_accepts_datetime, lang);
    case Type::kDuration: return tr(msg::base_accepts_duration, lang);
    case Type::kEnum: return tr(msg::base_accepts_enum, lang, {join(enum_values)});
    case Type::kSet: return tr(msg::base_accepts_set, lang, {join(enum_values)});
  }
  return "";
}

std::optional<Value> parse_typed(Type type, const std::vector<std::string>& enum_values,
                                 std::string_view text, std::string* accepted, std::string_view lang) {
  std::optional<Value> out;
  switch (type) {
    case Type::kString: out = std::string(text); break;
    case Type::kInt:
      if (auto v = parse_int(text)) out = *v;
      break;
    case Type::kBool:
      if (auto v = parse_bool(text)) out = *v;
      break;
    case Type::kDate:
      if (auto v = parse_date(text)) out = *v;
      break;
    case Type::kDateTime:
      if (auto v = parse_datetime(text)) out = *v;
      break;
    case Type::kDuration:
      if (auto v = parse_duration(text)) out = *v;
      break;
    case Type::kEnum:
      if (std::find(enum_values.begin(), enum_values.end(), text) != enum_values.end())
        out = std::string(text);
      break;
    case Type::kSet:
      if (auto set = canonical_set(enum_values, split_items(without_brackets(text)))) out = std::move(*set);
      break;
  }
  if (!out && accepted) *accepted = accepted_forms(type, enum_values, lang);
  return out;
}

std::optional<std::string> canonical_set(const std::vector<std::string>& enum_values,
                                         const std::vector<std::string>& members, std::string* unknown) {
  std::vector<bool> in(enum_values.size(), false);
  for (const auto& m : members) {
    auto it = std::find(enum_values.begin(), enum_values.end(), m);
    if (it == enum_values.end()) {
      if (unknown) *unknown = m;
      return std::nullopt;
    }
    in[static_cast<size_t>(it - enum_values.begin())] = true;
  }
  std::string out;
  for (size_t i = 0; i < enum_values.size(); ++i) {
    if (!in[i]) continue;
    if (!out.empty()) out += ',';
    out += enum_values[i];
  }
  return out;
}

std::vector<std::string> set_members(std::string_view canonical) { return split_items(canonical); }

bool set_contains(std::string_view canonical, std::string_view id) {
  size_t start = 0;
  while (start <= canonical.size()) {
    size_t comma = canonical.find(',', start);
    if (comma == std::string_view::npos) comma = canonical.size();
    if (comma - start == id.size() && canonical.compare(start, id.size(), id) == 0) return !id.empty();
    start = comma + 1;
  }
  return false;
}

int64_t set_count(std::string_view canonical) {
  if (canonical.empty()) return 0;
  return 1 + static_cast<int64_t>(std::count(canonical.begin(), canonical.end(), ','));
}

std::optional<int> compare_values(const Value& a, const Value& b) {
  if (a.index() != b.index() || is_missing(a) || std::holds_alternative<bool>(a)) return std::nullopt;
  return std::visit(
      [&](const auto& x) -> std::optional<int> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate> || std::is_same_v<T, bool>) {
          return std::nullopt;
        } else {
          const auto& y = std::get<T>(b);
          return x < y ? -1 : (y < x ? 1 : 0);
        }
      },
      a);
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                  std::tolower(static_cast<unsigned char>(b[j - 1]))
                              ? 0
                              : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& candidate : candidates) {
    const size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  if (!best || best_distance == 0 || best_distance > limit) return std::nullopt;
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates,
                         std::string_view quote, std::string_view lang) {
  auto near = nearest(word, candidates);
  if (!near) return "";
  return tr(msg::base_did_you_mean, lang_or_process(lang), {std::string(quote) + *near + std::string(quote)});
}

std::string suggest_name(std::string_view word, const std::vector<std::string>& candidates,
                         size_t list_at_most, std::string_view lang) {
  std::string guess = did_you_mean(word, candidates, "'", lang);
  if (!guess.empty()) return guess;
  if (candidates.empty() || candidates.size() > list_at_most) return "";
  return tr(msg::base_expected_one_of, lang_or_process(lang), {join(candidates)});
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
}

}  // namespace sopir
