#include "rules/lifecycle.h"

#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

namespace sopir {
namespace {

namespace msmf = boost::msm::front;

struct HoldEvent {};
struct ResumeEvent {};
struct CloseEvent {};
struct ReopenEvent {};

struct LifecycleDef : msmf::state_machine_def<LifecycleDef> {
  struct Active : msmf::state<> {};
  struct OnHold : msmf::state<> {};
  struct Closed : msmf::state<> {};
  using initial_state = Active;

  // clang-format off
  struct transition_table : boost::mpl::vector<
      //        Start    Event        Next
      msmf::Row<Active, HoldEvent,   OnHold>,
      msmf::Row<Active, CloseEvent,  Closed>,
      msmf::Row<OnHold, ResumeEvent, Active>,
      msmf::Row<OnHold, CloseEvent,  Closed>,
      msmf::Row<Closed, ReopenEvent, Active>
  > {};
  // clang-format on

  // A move the table does not have is a refusal, not an error.
  template <class Fsm, class Event>
  void no_transition(const Event&, Fsm&, int) {
    rejected = true;
  }
  bool rejected = false;
};

using Machine = boost::msm::back::state_machine<LifecycleDef>;

// State ids follow the order of first appearance in the transition table.
Status status_of(const Machine& machine) {
  switch (machine.current_state()[0]) {
    case 0: return Status::kActive;
    case 1: return Status::kOnHold;
    default: return Status::kClosed;
  }
}

void dispatch(Machine& machine, LifecycleEvent event) {
  switch (event) {
    case LifecycleEvent::kHold: machine.process_event(HoldEvent{}); break;
    case LifecycleEvent::kResume: machine.process_event(ResumeEvent{}); break;
    case LifecycleEvent::kClose: machine.process_event(CloseEvent{}); break;
    case LifecycleEvent::kReopen: machine.process_event(ReopenEvent{}); break;
  }
}

}  // namespace

std::optional<Status> lifecycle_next(Status from, LifecycleEvent event) {
  Machine machine;
  machine.start();
  // Bring the machine to `from` along the table's own rows.
  if (from == Status::kOnHold) dispatch(machine, LifecycleEvent::kHold);
  if (from == Status::kClosed) dispatch(machine, LifecycleEvent::kClose);
  dispatch(machine, event);
  if (machine.rejected) return std::nullopt;
  return status_of(machine);
}

}  // namespace sopir
