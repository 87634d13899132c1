// Guard and `set` expressions: parse, type-check, evaluate, explain.
//
// The language is small on purpose (policy staff write it):
//   literals   42  'text'  "text"  true  false  null  2020-08-15  24h  14d
//              2020-08-15T08:30:00Z (also without seconds/Z, or +07:00)
//   names      field ids; a bare name that is not a field but is a value of
//              the enum being compared with is read as that enum value
//   operators  == != < <= > >=   and or not (also && || !)   x in [a, b]
//   grouping   ( ... )
//   functions  has(field) today() now() days_since(date_or_datetime) len(x)
//   tracks     has_child('sop') child_closed('sop') all_tracks_closed()
//              any_track_open() track_state('sop') track_outcome('sop')
//   clocks     clock_overdue('clock'): that case-level clock runs and its
//              limit is reached (EvalContext::clocks, the step's time)
// Tracks are the cases this case opened by hand-offs (`opens:`); their
// status, state and outcome come in EvalContext::children. track_state() is
// the state id of the newest case of that procedure, track_outcome() its
// closure reason (or, once it ended in a terminal state without one, that
// state's id); both are text, missing when no such case (or outcome) yet.
// all_tracks_closed() needs at least one track.
// Missing values (see workflows/README.md): `==`/`!=` treat missing as a
// value of its own (missing == null is true); `<` `<=` `>` `>=` and `in`
// with a missing operand are false; days_since(missing) is missing;
// len(missing) is 0; `not` inverts the boolean result as computed.
//
// A bool field without a value reads as false where a condition is needed
// (so `not consented` holds when consented is missing).
//
// Type rules, checked by parse_expr: == and != need both sides of one type
// (null allowed on either side); < <= > >= order ints, dates, datetimes
// and durations only (not text, bool or enum); an enum compares with an
// enum field sharing a value, a bare name or a quoted text that is one of
// its values; `in` follows ==; and/or/not take conditions. days_since()
// counts whole days (rounded down) from its date or datetime to now;
// len() counts characters (UTF-8 code points). At most kMaxExprDepth (64)
// levels of parentheses, lists, calls and `not`.
//
// Everything here is pure: the clock comes in through EvalContext.
// Internals: expr_tree.h (compiled form), expr_syntax.h (lexer, parser).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/case.h"
#include "sopir/procedure.h"
#include "sopir/value.h"

namespace sopir {

// A problem found while parsing or type-checking; `offset` is the 0-based
// byte offset into the expression text (the loader turns it into a column).
struct ExprError {
  size_t offset = 0;
  std::string message;
};

struct ParsedExpr {
  std::shared_ptr<const Expr> expr;  // null when there are errors
  std::vector<ExprError> errors;
};

// Parses and type-checks `text` against the procedure's fields.
// `target` is the type the result must have: Type::kBool for guards; for a
// `set:` value the field's type (with `target_enum` its values for kEnum).
ParsedExpr parse_expr(std::string_view text, const std::vector<FieldDef>& fields, Type target,
                      const std::vector<std::string>& target_enum = {});

// An expression that always yields `value`, of type `type`: for a `set:`
// value the loader read as a plain literal of the field's type (e.g. text
// that is not an expression). An enum value prints bare in to_string.
std::shared_ptr<const Expr> constant_expr(const Value& value, Type type);

struct EvalContext {
  const std::vector<Value>* fields = nullptr;  // by field index
  DateTime now;                                // today() is date_of(now)
  // Cases this case opened (has_child, child_closed); null reads as none.
  const std::vector<LinkedCase>* children = nullptr;
  // Explanations (evaluate_guard) name enum and set values with their
  // labels and bools as words in this language ("en", "id"); "": ids and
  // true/false only (what the log keeps).
  std::string_view lang;
  // The case's clocks (clock_overdue); null reads as none running.
  const std::vector<ClockReading>* clocks = nullptr;
  // Values that stand in for some of `fields` (a step's inputs and `set:`
  // results, by field index; the last entry for a field wins), so that a
  // step is evaluated against the case's values without copying them. Null:
  // `fields` alone.
  const std::vector<std::pair<int, Value>>* overlay = nullptr;
};

// The missing value field_value() hands back for a field nobody holds.
extern const Value kNoFieldValue;

// The value of field `index` in `context`: the overlay's last entry for it,
// else `fields`' entry; missing when neither has it. Inline: guards and
// the decision's required-field check call it for every field they read.
inline const Value& field_value(const EvalContext& context, int index) {
  if (const auto* overlay = context.overlay) {
    for (auto it = overlay->rbegin(); it != overlay->rend(); ++it)
      if (it->first == index) return it->second;
  }
  const std::vector<Value>* fields = context.fields;
  if (!fields || index < 0 || static_cast<size_t>(index) >= fields->size()) return kNoFieldValue;
  return (*fields)[index];
}

// The expression's value. For a guard that is a bool, except that a guard
// which is just a bool field (or days_since of a missing date, in `set`)
// yields the missing value when the field has none; use guard_holds or
// evaluate_guard for a guard's verdict. Never allocates for guards.
Value evaluate(const Expr& expr, const EvalContext& context);

// The verdict of a guard (an expression parsed with target Type::kBool);
// missing reads as false. Allocation-free: the one for hot loops.
bool guard_holds(const Expr& expr, const EvalContext& context);

// A guard's verdict. When false, `explanation` names the smallest part that
// made it false with the values it saw, in words staff understand, e.g.
// "age >= 18 is false (age = 16)" or "has(consent_date) is false
// (consent_date has no value)".
struct GuardResult {
  bool value = false;
  std::string explanation;
};
GuardResult evaluate_guard(const Expr& expr, const std::vector<FieldDef>& fields,
                           const EvalContext& context);

// Field indices the expression reads (lint: read before set).
std::vector<int> fields_read(const Expr& expr);
// Whether it reads field `field` (its value or has()); allocates nothing.
bool reads_field(const Expr& expr, int field);

// Whether the expression reads the cases this one opened (any track function).
bool reads_tracks(const Expr& expr);

// Whether the expression reads a case-level clock (clock_overdue).
bool reads_clocks(const Expr& expr);
// Clock ids named by clock_overdue() in the expression.
std::vector<std::string> clocks_read(const Expr& expr);

// Procedure ids named by has_child(), child_closed(), track_state() and
// track_outcome() in the expression.
std::vector<std::string> children_read(const Expr& expr);

// A text literal a guard compares with track_state('sop') or
// track_outcome('sop') (==, !=, in [...]), or the state counted by
// count_tracks('sop', 'state'): publishing checks it against that
// procedure's states (or closure reasons and end states).
struct TrackLiteral {
  std::string sop;
  bool outcome = false;  // track_outcome; else track_state
  std::string value;
};
std::vector<TrackLiteral> track_literals(const Expr& expr);

// Canonical text of the expression (diagrams, messages).
std::string to_string(const Expr& expr, const std::vector<FieldDef>& fields);
// The same for people reading `lang`: enum and set values compared with a
// field show as their labels in quotes ("risk == 'Tinggi'"); diagrams.
std::string to_string(const Expr& expr, const std::vector<FieldDef>& fields, std::string_view lang);

}  // namespace sopir
