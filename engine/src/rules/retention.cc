// Retention periods and the checks on retention erasure rows
// (sopir/retention.h).
#include "sopir/retention.h"

#include <regex>

#include "sopir/messages/rules.h"

namespace sopir {

namespace {

constexpr char kClosed[] = "closed";

const char* unit_word(Retention::Unit unit, bool one) {
  switch (unit) {
    case Retention::Unit::kDays: return one ? "day" : "days";
    case Retention::Unit::kMonths: return one ? "month" : "months";
    case Retention::Unit::kYears: return one ? "year" : "years";
  }
  return "";
}

std::string input(const LogEntry& e, const char* key) {
  for (const auto& [k, v] : e.inputs)
    if (k == key) return v;
  return "";
}

}  // namespace

std::string Retention::text() const {
  return std::to_string(count) + " " + unit_word(unit, count == 1);
}

DateTime Retention::due(DateTime closed_at) const {
  switch (unit) {
    case Unit::kDays: return DateTime{closed_at.seconds + count * 86400};
    case Unit::kMonths: return add_months(closed_at, count);
    case Unit::kYears: return add_months(closed_at, count * 12);
  }
  return closed_at;
}

std::optional<Retention> parse_retention(std::string_view text) {
  static const std::regex re(R"(^\s*(\d{1,6})\s+(days?|months?|years?)\s*$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, re)) return std::nullopt;
  Retention r;
  r.count = std::stoll(m[1].str());
  const char unit = m[2].str()[0];
  r.unit = unit == 'd' ? Retention::Unit::kDays : unit == 'm' ? Retention::Unit::kMonths : Retention::Unit::kYears;
  const int64_t most = unit == 'd' ? 36525 : unit == 'm' ? 1200 : 100;
  if (r.count < 1 || r.count > most) return std::nullopt;
  return r;
}

std::optional<DateTime> closed_after(std::optional<DateTime> closed, const LogEntry& e) {
  if (e.to_status != kClosed) return std::nullopt;
  if (e.from_status != kClosed || !closed) return e.occurred_at;
  return closed;  // a step that leaves a closed case closed (an erasure)
}

std::optional<DateTime> closed_at(const std::vector<LogEntry>& history) {
  std::optional<DateTime> closed;
  for (const LogEntry& e : history) closed = closed_after(closed, e);
  return closed;
}

bool is_retention_erasure(const LogEntry& e) {
  return e.kind == LogKind::kErasure && e.event == erasure_event::kErased &&
         input(e, retention_input::kBasis) == retention_input::kRetention;
}

std::string retention_problem(const Procedure& procedure, std::optional<DateTime> closed, const LogEntry& e) {
  if (!closed) return tr(msg::rules_retention_not_closed);
  if (!procedure.retention)
    return tr(msg::rules_retention_none, {procedure.id, std::to_string(procedure.version)});
  const Retention& r = *procedure.retention;
  const std::string named = input(e, retention_input::kRetention);
  if (named != r.text()) return tr(msg::rules_retention_other_period, {named, r.text()});
  const std::string named_close = input(e, retention_input::kClosedAt);
  if (named_close != format_datetime(*closed))
    return tr(msg::rules_retention_other_close, {named_close, format_datetime(*closed)});
  const DateTime due = r.due(*closed);
  const DateTime at = e.recorded_at < e.occurred_at ? e.recorded_at : e.occurred_at;
  if (at < due)
    return tr(msg::rules_retention_early, {format_datetime(at), r.text(), format_datetime(*closed), format_datetime(due)});
  return "";
}

}  // namespace sopir
