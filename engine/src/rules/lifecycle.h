// The case lifecycle as a compile-time Boost.MSM state machine.
//
//   Active --hold--> OnHold --resume--> Active
//   Active --close--> Closed, OnHold --close--> Closed
//   Closed --reopen--> Active
//
// Independent of any procedure: decide_lifecycle() (decide.h) asks this
// table whether a move exists before applying the procedure's permissions.
#pragma once

#include <optional>

#include "sopir/case.h"

namespace sopir {

// The status after `event` from `from`, or nullopt when the machine has no
// such transition.
std::optional<Status> lifecycle_next(Status from, LifecycleEvent event);

}  // namespace sopir
