// Retention of personal data after a case closes (`retention:` in a
// procedure, Retention in sopir/procedure.h; docs/PRIVACY.md "Retention").
//
// Pure: no store, no clock. The engine lists and erases what is due
// (Engine::retention_due, Engine::apply_retention) with the time the caller's
// clock gives; `audit verify` checks each retention erasure row with the same
// functions, from the log alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir {

// A period as a procedure writes it: a whole number, then day(s), month(s)
// or year(s) ("90 days", "1 month", "5 years"), at most 100 years (36525
// days, 1200 months). Null for anything else, 0 included.
std::optional<Retention> parse_retention(std::string_view text);

// When the case whose rows `history` holds (oldest first) was closed: the
// occurred_at of the row that last moved it to the status closed, when it
// is still closed after its last row; nullopt when it is open, on hold, or
// was reopened since.
std::optional<DateTime> closed_at(const std::vector<LogEntry>& history);

// The inputs of an erasure row written by the retention rule
// (Engine::apply_retention): [["basis","retention"],["retention","5 years"],
// ["closed_at","2020-03-01T10:00:00Z"]]. A row with basis retention needs no
// request before it: the approved procedure's period is its authority, and
// audit verify checks it (retention_problem).
namespace retention_input {
inline constexpr char kBasis[] = "basis";
inline constexpr char kRetention[] = "retention";  // also the basis's value
inline constexpr char kClosedAt[] = "closed_at";
}  // namespace retention_input

// Whether `e` is an erasure row the retention rule wrote (kind erasure,
// event erased, basis retention).
bool is_retention_erasure(const LogEntry& e);

// What is wrong with retention erasure row `e`, given the procedure version
// the case ran under then and when the rows before it left the case closed
// (closed_at of those rows); "" when it is legitimate: the case was closed,
// `procedure` has a retention, the row names that period and the close time
// the log shows, and both its times are at or after that close plus the
// period.
std::string retention_problem(const Procedure& procedure, std::optional<DateTime> closed, const LogEntry& e);

// How closed_at() follows one row: `closed` as the rows before `e` left it,
// as the rows up to `e` leave it.
std::optional<DateTime> closed_after(std::optional<DateTime> closed, const LogEntry& e);

}  // namespace sopir
