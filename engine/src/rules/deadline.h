// When a state's deadline falls (internal to decide()). Pure: the calendar
// comes with the procedure, the time and the case's data from the caller.
#pragma once

#include <optional>
#include <vector>

#include "sopir/procedure.h"

namespace sopir {

// The due time of `state` entered at `at` with `data` (the case's values
// after the step, by field index): a duration from `at`; N working days on
// the procedure's calendar; either one counted from the anchor field's day
// (00:00 UTC) or time. None when the state has no deadline or its anchor
// field has no value.
std::optional<DateTime> due_for(const Procedure& p, int state, DateTime at, const std::vector<Value>& data);
// The same with the anchor field's value given (null: the field is out of
// range, so no deadline); `anchor` is not read when the state's deadline
// has no anchor.
std::optional<DateTime> due_for_anchor(const Procedure& p, int state, DateTime at, const Value* anchor);

// The due time after a hold from `held` to `resumed`: the clock paused. A
// working-day deadline keeps the working days it had left when the hold
// began and counts them again from the resume; any other moves by the
// time spent on hold.
DateTime due_after_hold(const Procedure& p, int state, DateTime due, DateTime held, DateTime resumed);

// The same for any due time: `working` is the calendar of a working-day
// limit, null for any other (case-level clocks use it too).
DateTime due_after_pause(const Calendar* working, DateTime due, DateTime held, DateTime resumed);

}  // namespace sopir
