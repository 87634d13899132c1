// decide(), decide_open() and decide_lifecycle(): tables of decisions.
#include "sopir/decide.h"

#include <catch2/catch.hpp>

#include "lang/procedure_codec.h"
#include "rules/lifecycle.h"
#include "test_procedures.h"

namespace sopir {
namespace {

using Inputs = std::vector<std::pair<std::string, std::string>>;

const DateTime kAt = *parse_datetime("2026-03-02T08:00:00Z");

class DecideFixture {
 protected:
  DecideFixture() : p_(testing::load_or_fail(testing::kCareYaml)) {}

  CaseSnapshot at_state(const std::string& state, Inputs data = {}) const {
    CaseSnapshot s = testing::snapshot_at(*p_, state);
    for (const auto& [field, text] : data) {
      const FieldDef& f = p_->fields[p_->field_index(field)];
      s.data[p_->field_index(field)] = *parse_typed(f.type, f.values, text, nullptr);
    }
    return s;
  }

  Decision fire(const CaseSnapshot& s, const std::string& event, const Actor& actor,
                Inputs inputs = {}, std::string reason = "", bool override = false) const {
    Command c;
    c.event = event;
    c.actor = actor;
    c.inputs = std::move(inputs);
    c.reason = std::move(reason);
    c.override = override;
    c.at = kAt;
    return decide(*p_, s, c);
  }

  std::string target(const Decision& d) const {
    if (auto* r = std::get_if<Refusal>(&d)) FAIL("refused: " << r->message);
    return p_->states[std::get<Transition>(d).to].id;
  }

  static Refusal refusal(const Decision& d) {
    if (!std::holds_alternative<Refusal>(d)) FAIL("expected a refusal");
    return std::get<Refusal>(d);
  }

  ProcedurePtr p_;
  Actor worker_{"rina", {"worker"}};
  Actor worker2_{"dewi", {"worker"}};
  Actor supervisor_{"budi", {"supervisor"}};
};

TEST_CASE_METHOD(DecideFixture, "a step moves the case, applies inputs and set, sets the deadline",
                 "[decide]") {
  Decision d = fire(at_state("intake"), "screen", worker_, {{"age", "34"}});
  REQUIRE(target(d) == "screening");
  const Transition& t = std::get<Transition>(d);
  CHECK(t.role == "worker");
  CHECK_FALSE(t.overridden);
  CHECK_FALSE(t.closes_case);
  REQUIRE(t.changes.size() == 2);
  CHECK(p_->fields[t.changes[0].field].id == "age");
  CHECK(std::get<int64_t>(t.changes[0].after) == 34);
  CHECK(p_->fields[t.changes[1].field].id == "screened_on");
  CHECK(format_value(t.changes[1].after) == "2026-03-02");
  REQUIRE(t.due_at);
  CHECK(format_datetime(*t.due_at) == "2026-03-09T08:00:00Z");
}

TEST_CASE_METHOD(DecideFixture, "refusals name the rule and what would be accepted", "[decide]") {
  struct Row {
    const char* state;
    const char* event;
    int actor;  // 0 worker, 1 supervisor
    Inputs inputs;
    RefusalKind kind;
    const char* message;
  };
  const Row rows[] = {
      {"intake",
       "screen",
       0,
       {},
       RefusalKind::kMissingField,
       "event 'screen' needs a value for age"},
      {"intake",
       "screen",
       1,
       {{"age", "30"}},
       RefusalKind::kRole,
       "event 'screen' may be done by worker; budi has roles supervisor"},
      {"intake",
       "screen",
       0,
       {{"age", "thirty"}},
       RefusalKind::kBadInput,
       "age: 'thirty' is not a whole number like 42, of at most 18 digits"},
      {"intake",
       "screen",
       0,
       {{"age", "99999999999999999999"}},
       RefusalKind::kBadInput,
       "age: '99999999999999999999' is not a whole number like 42, of at most 18 digits"},
      {"intake",
       "screen",
       0,
       {{"age", "130"}},
       RefusalKind::kBadInput,
       "age: '130' must be at most 120"},
      {"intake",
       "screen",
       0,
       {{"agee", "30"}},
       RefusalKind::kBadInput,
       "procedure 'test-care' has no field 'agee'; did you mean 'age'?"},
      {"intake",
       "screen",
       0,
       {{"age", "30"}, {"risk", "high"}},
       RefusalKind::kBadInput,
       "field 'risk' is not taken by event 'screen'; it takes: age, full_name"},
      {"screening",
       "assess",
       0,
       {{"risk", "hihg"}},
       RefusalKind::kBadInput,
       "risk: 'hihg' is not one of: low, high; did you mean 'high'?"},
      {"intake",
       "screan",
       0,
       {},
       RefusalKind::kUnknownEvent,
       "procedure 'test-care' has no event 'screan'; did you mean 'screen'? (possible now: screen, "
       "escalate)"},
      {"intake",
       "assess",
       0,
       {},
       RefusalKind::kNotInState,
       "event 'assess' is not possible in state 'intake' (Intake); possible now: screen, escalate"},
      {"escalated",
       "back",
       1,
       {},
       RefusalKind::kReasonRequired,
       "event 'back' needs a written reason"},
  };
  for (const Row& row : rows) {
    INFO(row.state << " " << row.event);
    const Refusal& r = refusal(fire(at_state(row.state), row.event, row.actor ? supervisor_ : worker_,
                                    row.inputs));
    CHECK(to_string(r.kind) == std::string(to_string(row.kind)));
    CHECK(r.message == row.message);
  }
}

TEST_CASE_METHOD(DecideFixture, "guards route the event and explain a false guard", "[decide]") {
  CHECK(target(fire(at_state("screening"), "assess", worker_, {{"risk", "high"}})) == "emergency");
  CHECK(target(fire(at_state("screening"), "assess", worker_, {{"risk", "low"}, {"consent", "yes"}})) ==
        "care");
  const Refusal& r =
      refusal(fire(at_state("screening"), "assess", worker_, {{"risk", "low"}, {"consent", "no"}}));
  CHECK(r.kind == RefusalKind::kGuard);
  CHECK_THAT(r.message, Catch::Contains("consent"));
  CHECK_THAT(r.message, Catch::Contains("false"));
}

TEST_CASE_METHOD(DecideFixture, "an override needs an override role and a reason", "[decide]") {
  const auto s = at_state("screening", {{"risk", "low"}, {"consent", "false"}});
  CHECK(refusal(fire(s, "assess", worker_, {}, "urgent", true)).kind == RefusalKind::kOverride);
  CHECK(refusal(fire(s, "assess", supervisor_, {}, "", true)).kind == RefusalKind::kReasonRequired);
  Decision d = fire(s, "assess", supervisor_, {}, "guardian unreachable, child at risk", true);
  REQUIRE(target(d) == "care");
  CHECK(std::get<Transition>(d).overridden);
  CHECK(std::get<Transition>(d).role == "supervisor");
  // Without asking for an override the refusal says one is possible.
  CHECK_THAT(refusal(fire(s, "assess", supervisor_, {}, "")).message,
             Catch::Contains("you may override"));
}

TEST_CASE_METHOD(DecideFixture,
                 "an override asked for where the condition holds still takes a reason",
                 "[decide]") {
  // assess to care holds here (low risk, consent): nothing to override.
  const auto s = at_state("screening", {{"risk", "low"}, {"consent", "true"}});
  // The worker fires it anyway; asking for an override takes a reason, and
  // the step then goes as an ordinary one.
  const Refusal asked = refusal(fire(s, "assess", worker_, {}, "", true));
  CHECK(asked.kind == RefusalKind::kReasonRequired);
  CHECK(asked.message == "an override needs a written reason");
  Decision d = fire(s, "assess", worker_, {}, "checked twice", true);
  REQUIRE(target(d) == "care");
  CHECK_FALSE(std::get<Transition>(d).overridden);
  // The supervisor may only override assess: asking to, they may fire it,
  // with a reason too (a plain step: no condition was set aside).
  CHECK(refusal(fire(s, "assess", supervisor_, {}, "", true)).kind == RefusalKind::kReasonRequired);
  Decision by_override = fire(s, "assess", supervisor_, {}, "the worker is away today", true);
  REQUIRE(target(by_override) == "care");
  CHECK_FALSE(std::get<Transition>(by_override).overridden);
  CHECK(std::get<Transition>(by_override).role == "supervisor");
  // A step recorded before this rule (audit replay: recorded) had no reason
  // to give, and replays as the plain step it was.
  Command recorded;
  recorded.event = "assess";
  recorded.actor = supervisor_;
  recorded.override = recorded.recorded = true;
  recorded.at = kAt;
  CHECK(target(decide(*p_, s, recorded)) == "care");
  // Without --override the supervisor is refused by role, told it may override.
  const Refusal role = refusal(fire(s, "assess", supervisor_));
  CHECK(role.kind == RefusalKind::kRole);
  CHECK(role.may_override);
}

TEST_CASE_METHOD(DecideFixture, "four-eyes: the approver must not be the writer", "[decide]") {
  auto s = at_state("plan_review", {{"plan", "return home"}});
  s.fired = {{p_->event_index("write_plan"), "budi"}};
  const Refusal& r = refusal(fire(s, "approve_plan", supervisor_));
  CHECK(r.kind == RefusalKind::kFourEyes);
  CHECK(r.message ==
        "four-eyes rule: 'approve_plan' must be done by someone other than whoever did "
        "'write_plan' on this case, and budi did it");
  s.fired = {{p_->event_index("write_plan"), "rina"}};
  Decision d = fire(s, "approve_plan", supervisor_);
  CHECK(target(d) == "done");
  CHECK(std::get<Transition>(d).closes_case);
  CHECK_FALSE(std::get<Transition>(d).due_at);
}

TEST_CASE_METHOD(DecideFixture, "hold and closed cases refuse procedure events", "[decide]") {
  auto s = at_state("intake");
  s.status = Status::kOnHold;
  CHECK(refusal(fire(s, "screen", worker_, {{"age", "30"}})).kind == RefusalKind::kOnHold);
  s.status = Status::kClosed;
  CHECK(refusal(fire(s, "screen", worker_, {{"age", "30"}})).kind == RefusalKind::kClosed);
}

TEST_CASE_METHOD(DecideFixture, "the timer fires only the state's on_deadline event", "[decide]") {
  Command c;
  c.actor = Actor{"system", {}};
  c.timer = true;
  c.at = kAt;
  c.event = "escalate";
  CHECK(target(decide(*p_, at_state("intake"), c)) == "escalated");
  c.event = "screen";
  CHECK(std::holds_alternative<Refusal>(decide(*p_, at_state("intake"), c)));
}

TEST_CASE_METHOD(DecideFixture, "opening a case checks the open section", "[decide]") {
  Decision d = decide_open(*p_, worker_, {{"full_name", "Siti Contoh"}}, kAt);
  REQUIRE(std::holds_alternative<Transition>(d));
  CHECK(p_->states[std::get<Transition>(d).to].id == "intake");
  CHECK(format_datetime(*std::get<Transition>(d).due_at) == "2026-03-03T08:00:00Z");
  CHECK(refusal(decide_open(*p_, worker_, {{"risk", "low"}}, kAt)).message ==
        "field 'risk' is not taken when opening a case; it takes: full_name, age");
  // Said before the value is checked: 'ok' is no risk level either.
  CHECK(refusal(decide_open(*p_, worker_, {{"risk", "ok"}}, kAt)).message ==
        "field 'risk' is not taken when opening a case; it takes: full_name, age");
  CHECK(refusal(decide_open(*p_, Actor{"x", {"cook"}}, {}, kAt)).kind == RefusalKind::kRole);
}

TEST_CASE_METHOD(DecideFixture, "check_events lists what this actor can do now", "[decide]") {
  auto checks = check_events(*p_, at_state("intake"), worker_, kAt);
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].event == "screen");
  CHECK(checks[0].possible);  // needs age, which can be given
  CHECK(checks[0].refusal->kind == RefusalKind::kMissingField);
  CHECK(checks[1].event == "escalate");
  CHECK_FALSE(checks[1].possible);
  CHECK(checks[1].refusal->kind == RefusalKind::kRole);
}

TEST_CASE("the lifecycle machine has exactly its table's moves", "[lifecycle]") {
  using E = LifecycleEvent;
  using S = Status;
  struct Row {
    S from;
    E event;
    std::optional<S> to;
  };
  const Row rows[] = {
      {S::kActive, E::kHold, S::kOnHold},   {S::kActive, E::kResume, std::nullopt},
      {S::kActive, E::kClose, S::kClosed},  {S::kActive, E::kReopen, std::nullopt},
      {S::kOnHold, E::kHold, std::nullopt}, {S::kOnHold, E::kResume, S::kActive},
      {S::kOnHold, E::kClose, S::kClosed},  {S::kOnHold, E::kReopen, std::nullopt},
      {S::kClosed, E::kHold, std::nullopt}, {S::kClosed, E::kResume, std::nullopt},
      {S::kClosed, E::kClose, std::nullopt}, {S::kClosed, E::kReopen, S::kActive},
  };
  for (const Row& row : rows) {
    INFO(to_string(row.from) << " " << to_string(row.event));
    CHECK(lifecycle_next(row.from, row.event) == row.to);
  }
}

TEST_CASE_METHOD(DecideFixture, "lifecycle moves: roles, reasons, paused deadlines, reopen",
                 "[lifecycle]") {
  auto s = at_state("screening");
  s.due_at = DateTime{kAt.seconds + 86400};
  LifecycleCommand hold{LifecycleEvent::kHold, worker_, "", kAt};
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, hold)).kind == RefusalKind::kReasonRequired);
  hold.reason = "person in hospital";
  auto held = decide_lifecycle(*p_, s, hold);
  REQUIRE(std::holds_alternative<LifecycleTransition>(held));
  CHECK(std::get<LifecycleTransition>(held).to == Status::kOnHold);

  // Three days on hold push the deadline three days later.
  s.status = Status::kOnHold;
  LifecycleCommand resume{LifecycleEvent::kResume, worker_, "", DateTime{kAt.seconds + 3 * 86400}};
  auto resumed = decide_lifecycle(*p_, s, resume, kAt);
  REQUIRE(std::holds_alternative<LifecycleTransition>(resumed));
  CHECK(std::get<LifecycleTransition>(resumed).due_at->seconds == kAt.seconds + 4 * 86400);

  s.status = Status::kActive;
  LifecycleCommand close{LifecycleEvent::kClose, worker_, "needs_met", kAt};
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, close)).kind == RefusalKind::kRole);
  close.actor = supervisor_;
  close.reason = "needs-met";
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, close)).message ==
        "'needs-met' is not a closure reason of 'test-care'; did you mean 'needs_met'? (one of: "
        "needs_met, declined)");
  close.reason = "needs_met";
  CHECK(std::get<LifecycleTransition>(decide_lifecycle(*p_, s, close)).to == Status::kClosed);

  auto finished = at_state("done");
  finished.status = Status::kClosed;
  LifecycleCommand reopen{LifecycleEvent::kReopen, supervisor_, "", kAt};
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, finished, reopen)).kind ==
        RefusalKind::kReasonRequired);
  reopen.reason = "new information from the family";
  auto reopened = decide_lifecycle(*p_, finished, reopen);
  REQUIRE(std::holds_alternative<LifecycleTransition>(reopened));
  CHECK(p_->states[std::get<LifecycleTransition>(reopened).state_to].id == "care");
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, resume)).kind == RefusalKind::kLifecycle);
  // The refusal says the status as people read it and which would do.
  s.id = "K7F-3QX";
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, resume)).message ==
        "cannot resume the case: it is active (possible when it is on hold)");
  finished.id = "K7F-3QX";
  close.lang = "id";
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, finished, close)).message ==
        "kasus tidak dapat ditutup: statusnya ditutup (bisa bila statusnya aktif atau "
        "ditangguhkan)");
  s.status = Status::kOnHold;
  hold.lang = "";
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, hold)).message ==
        "cannot hold the case: it is on hold (possible when it is active)");
}

}  // namespace
}  // namespace sopir

namespace sopir {
namespace {

// A note taken at any step (`from: '*'`, `to: '*'`) and a consent rule on opening.
constexpr const char* kStayYaml = R"(sop: test-stay
version: 1
title: {en: Stay test}
roles: [worker]
fields:
  consent: {type: bool}
  note: {type: string}
states:
  intake: {initial: true, deadline: 24h}
  care: {deadline: 7d}
  done: {terminal: true}
transitions:
  - {event: admit, from: intake, to: care, roles: [worker]}
  - {event: finish, from: care, to: done, roles: [worker]}
  - {event: add_note, from: '*', to: '*', roles: [worker], requires: [note]}
open:
  requires: [consent]
  when: consent == true
)";

TEST_CASE("a step with to: '*' keeps the case in its state and its running deadline", "[decide]") {
  ProcedurePtr p = testing::load_or_fail(kStayYaml);
  const TransitionDef& t = p->transitions[2];
  CHECK(t.stays);
  CHECK(p->to_id(t) == "*");
  CHECK(t.from.size() == 2);  // every non-terminal state
  for (const char* state : {"intake", "care"}) {
    CaseSnapshot s = testing::snapshot_at(*p, state);
    s.due_at = *parse_datetime("2026-03-05T08:00:00Z");
    Command c;
    c.event = "add_note";
    c.actor = Actor{"rina", {"worker"}};
    c.inputs = {{"note", "called the family"}};
    c.at = kAt;
    Decision d = decide(*p, s, c);
    REQUIRE(std::holds_alternative<Transition>(d));
    const Transition& moved = std::get<Transition>(d);
    CHECK(moved.from == s.state);
    CHECK(moved.to == s.state);
    CHECK(format_datetime(*moved.due_at) == "2026-03-05T08:00:00Z");
    CHECK_FALSE(moved.closes_case);
  }
}

TEST_CASE("open: when: refuses an opening whose values break the rule", "[decide]") {
  ProcedurePtr p = testing::load_or_fail(kStayYaml);
  const Actor worker{"rina", {"worker"}};
  Decision yes = decide_open(*p, worker, {{"consent", "true"}}, kAt);
  CHECK(std::holds_alternative<Transition>(yes));
  Decision no = decide_open(*p, worker, {{"consent", "false"}}, kAt);
  REQUIRE(std::holds_alternative<Refusal>(no));
  CHECK(std::get<Refusal>(no).kind == RefusalKind::kGuard);
  CHECK(std::get<Refusal>(no).message ==
        "a case of 'test-stay' can be opened only when its rule holds: consent == true is false "
        "(consent = no)");
  // In the command's language, values read as words.
  Decision shown = decide_open(*p, worker, {{"consent", "false"}}, kAt, false, "id");
  CHECK(std::get<Refusal>(shown).message ==
        "kasus 'test-stay' hanya dapat dibuka bila aturannya terpenuhi: consent == true bernilai salah "
        "(consent = tidak)");
  // A missing value is reported as missing first.
  CHECK(std::get<Refusal>(decide_open(*p, worker, {}, kAt)).kind == RefusalKind::kMissingField);
}

TEST_CASE("open: when: is a checked guard", "[decide]") {
  std::string yaml = kStayYaml;
  yaml.replace(yaml.find("consent == true"), 15, "consnet == true");
  LoadResult r = load_procedure_string(yaml, "stay.yaml");
  REQUIRE_FALSE(r.procedure);
  REQUIRE_FALSE(r.diagnostics.empty());
  CHECK(r.diagnostics[0].code == "bad-guard");
  CHECK(r.diagnostics[0].line == 18);
}

TEST_CASE("a value set: computes outside its field's bounds is refused, never recorded",
          "[decide]") {
  const char* yaml = R"yaml(sop: wait-check
version: 1
title: Waiting check
roles: [worker]
fields:
  arrived: {type: date}
  days_waited: {type: int, min: 0, max: 30}
states:
  waiting: {initial: true}
  seen: {terminal: true}
  other: {terminal: true}
transitions:
  - {event: see, from: waiting, to: seen, roles: [worker], requires: [arrived],
     set: {days_waited: "days_since(arrived)"}}
  - {event: see, from: waiting, to: other, roles: [worker]}
)yaml";
  LoadResult r = load_procedure_string(yaml, "wait.yaml");
  REQUIRE(r.procedure);
  const Procedure& p = *r.procedure;
  CaseSnapshot s = testing::snapshot_at(p, "waiting");
  Command see;
  see.event = "see";
  see.actor = Actor{"rina", {"worker"}};
  see.at = *parse_datetime("2026-03-10T08:00:00Z");
  // Nine days: within the bound, recorded.
  s.data[p.field_index("arrived")] = *parse_date("2026-03-01");
  const Decision within = decide(p, s, see);
  REQUIRE(std::holds_alternative<Transition>(within));
  REQUIRE(std::get<Transition>(within).changes.size() == 1);
  CHECK(std::get<Transition>(within).changes[0].after == Value(int64_t{9}));
  // Sixty-eight days: the procedure's own set: breaks max 30.
  s.data[p.field_index("arrived")] = *parse_date("2026-01-01");
  const Decision beyond = decide(p, s, see);
  REQUIRE(std::holds_alternative<Refusal>(beyond));
  CHECK(std::get<Refusal>(beyond).kind == RefusalKind::kBadInput);
  CHECK(std::get<Refusal>(beyond).message ==
        "event 'see' sets days_waited to '68', but days_waited must be at most 30: the procedure's "
        "set: gives a "
        "value its own field does not allow, so nothing was recorded; ask the procedure's authors "
        "to correct it");
  // The branch after it does not stand in: the first branch is the one the step takes.
  // A step recorded before this check (replayed by the audit) decides as it did then.
  see.recorded = true;
  const Decision replayed = decide(p, s, see);
  REQUIRE(std::holds_alternative<Transition>(replayed));
  CHECK(p.states[static_cast<size_t>(std::get<Transition>(replayed).to)].id == "seen");
  CHECK(std::get<Transition>(replayed).changes[0].after == Value(int64_t{68}));
}

TEST_CASE("a required text of spaces or line breaks only is not given", "[decide][field]") {
  const char* yaml = R"yaml(sop: handover-check
version: 1
title: Handover check
roles: [worker]
fields:
  received_by: {type: string, max: 120}
  note: {type: string}
states:
  arrived: {initial: true}
  handed_over: {terminal: true}
transitions:
  - {event: hand_over, from: arrived, to: handed_over, roles: [worker], requires: [received_by], accepts: [note]}
open:
  requires: [received_by]
)yaml";
  LoadResult r = load_procedure_string(yaml, "handover.yaml");
  REQUIRE(r.ok());
  const Procedure& p = *r.procedure;
  CaseSnapshot s = testing::snapshot_at(p, "arrived");
  Command c;
  c.event = "hand_over";
  c.actor = Actor{"rina", {"worker"}};
  c.at = kAt;
  auto message = [](const Decision& d) {
    return std::holds_alternative<Refusal>(d) ? std::get<Refusal>(d).message : std::string("taken");
  };
  for (const char* blank : {"", "   ", "\t\n  \r\n"}) {
    INFO("'" << blank << "'");
    c.inputs = {{"received_by", blank}};
    const Decision d = decide(p, s, c);
    REQUIRE(std::holds_alternative<Refusal>(d));
    CHECK(std::get<Refusal>(d).kind == RefusalKind::kMissingField);
    CHECK(std::get<Refusal>(d).missing == std::vector<std::string>{"received_by"});
    CHECK(message(d) ==
          "event 'hand_over' needs a value for received_by (text of spaces or line breaks only is "
          "no value: write "
          "it out)");
    // Held from before, it is still to give.
    CaseSnapshot held = s;
    held.data[static_cast<size_t>(p.field_index("received_by"))] = std::string(blank);
    c.inputs.clear();
    CHECK(std::holds_alternative<Refusal>(decide(p, held, c)));
    // A step recorded before the rule (the auditors' replay) decides as it did.
    c.inputs = {{"received_by", blank}};
    c.recorded = true;
    CHECK(message(decide(p, s, c)) == "taken");
    c.recorded = false;
    const Decision opened = decide_open(p, c.actor, {{"received_by", blank}}, kAt);
    CHECK(message(opened) ==
          "opening a case of 'handover-check' needs received_by (text of spaces or line breaks "
          "only is no value: "
          "write it out)");
    CHECK(message(decide_open(p, c.actor, {{"received_by", blank}}, kAt, false, {}, true)) ==
          "taken");
  }
  // Text with a visible character is given; an optional field may stay blank.
  c.inputs = {{"received_by", " Wati Contoh "}, {"note", "  "}};
  CHECK(message(decide(p, s, c)) == "taken");
  // Not given at all: the message as before.
  c.inputs.clear();
  CHECK(message(decide(p, s, c)) == "event 'hand_over' needs a value for received_by");
}

TEST_CASE("min/max today and now: a date or time is checked against the step's own",
          "[decide][field]") {
  const char* yaml = R"yaml(sop: arrival-check
version: 1
title: Arrival check
roles: [worker]
fields:
  born_on: {type: date, max: today}
  arrived_at: {type: datetime, max: now}
  planned_on: {type: date, min: today, max: 2030-12-31}
states:
  arrived: {initial: true}
  recorded: {terminal: true}
transitions:
  - {event: record, from: arrived, to: recorded, roles: [worker], accepts: [born_on, arrived_at, planned_on]}
open:
  accepts: [born_on]
)yaml";
  LoadResult r = load_procedure_string(yaml, "arrival.yaml");
  for (const auto& d : r.diagnostics) INFO(d.format());
  REQUIRE(r.ok());
  const Procedure& p = *r.procedure;
  CaseSnapshot s = testing::snapshot_at(p, "arrived");
  // 06:30 in Jakarta (UTC+7) on 10 March is 23:30 UTC on the 9th: the
  // staff member's own date still passes.
  const DateTime at = *parse_datetime("2026-03-09T23:30:00Z");
  auto step = [&](std::vector<std::pair<std::string, std::string>> inputs, std::string lang = "") {
    Command c;
    c.event = "record";
    c.actor = Actor{"rina", {"worker"}};
    c.at = at;
    c.inputs = std::move(inputs);
    c.lang = std::move(lang);
    return decide(p, s, c);
  };
  auto message = [](const Decision& d) {
    return std::holds_alternative<Refusal>(d) ? std::get<Refusal>(d).message : std::string("taken");
  };
  CHECK(message(step({{"born_on", "1990-05-17"}})) == "taken");
  CHECK(message(step({{"born_on", "2026-03-10"}})) == "taken");
  CHECK(message(step({{"born_on", "2026-03-11"}})) ==
        "born_on: '2026-03-11' must be at most today (2026-03-10 at the latest, wherever the step "
        "is taken)");
  CHECK(message(step({{"born_on", "2062-03-10"}}, "id")) ==
        "born_on: '2062-03-10' harus paling besar hari ini (paling lambat 2026-03-10, di mana pun "
        "langkah itu "
        "diambil)");
  CHECK(message(step({{"arrived_at", "2026-03-10T06:30+07:00"}})) == "taken");
  CHECK(message(step({{"arrived_at", "2026-03-09T23:31:00Z"}})) ==
        "arrived_at: '2026-03-09T23:31:00Z' must be at most now (2026-03-09T23:30:00Z)");
  // As a min, the earliest date anywhere: UTC-12's, the 9th.
  CHECK(message(step({{"planned_on", "2026-03-09"}})) == "taken");
  CHECK(message(step({{"planned_on", "2026-03-08"}})) ==
        "planned_on: '2026-03-08' must be at least today (2026-03-09 at the earliest, wherever the "
        "step is taken)");
  CHECK(message(step({{"planned_on", "2031-01-01"}})) ==
        "planned_on: '2031-01-01' must be at most 2030-12-31");
  // Typed inputs are checked alike.
  Command typed;
  typed.event = "record";
  typed.actor = Actor{"rina", {"worker"}};
  typed.at = at;
  typed.values = {{p.field_index("born_on"), *parse_date("2026-04-01")}};
  CHECK(message(decide(p, s, typed)) ==
        "born_on: '2026-04-01' must be at most today (2026-03-10 at the latest, wherever the step "
        "is taken)");
  // Opening a case too, at its own time.
  const Decision opened =
      decide_open(p, Actor{"rina", {"worker"}}, {{"born_on", "2026-03-12"}}, at);
  CHECK(message(opened) ==
        "born_on: '2026-03-12' must be at most today (2026-03-10 at the latest, wherever the step "
        "is taken)");
  // A step a day later takes the date a day later.
  const Decision later = decide_open(p, Actor{"rina", {"worker"}}, {{"born_on", "2026-03-12"}},
                                     DateTime{at.seconds + 86400 * 2});
  CHECK(message(later) == "taken");
  // The compiled form keeps the bounds.
  const ProcedurePtr back = decode_procedure(encode_procedure(p), p.source, p.file, {});
  REQUIRE(back);
  const FieldDef& born = back->fields[static_cast<size_t>(back->field_index("born_on"))];
  const FieldDef& planned = back->fields[static_cast<size_t>(back->field_index("planned_on"))];
  CHECK((born.max_now && !born.min_now && !born.max && born.checks.relative));
  CHECK((planned.min_now && !planned.max_now && planned.max && !planned.min));
}

// Command::values: the same step with its inputs typed decides as with text.
TEST_CASE_METHOD(DecideFixture, "typed inputs decide as the same inputs given as text", "[decide][typed]") {
  Command typed;
  typed.event = "screen";
  typed.actor = worker_;
  typed.at = kAt;
  typed.values = {{p_->field_index("age"), int64_t{34}}};
  const Decision as_text = fire(at_state("intake"), "screen", worker_, {{"age", "34"}});
  const Decision as_values = decide(*p_, at_state("intake"), typed);
  REQUIRE(target(as_values) == "screening");
  const Transition& a = std::get<Transition>(as_text);
  const Transition& b = std::get<Transition>(as_values);
  CHECK(a.role == b.role);
  CHECK(a.due_at == b.due_at);
  REQUIRE(a.changes.size() == b.changes.size());
  for (size_t i = 0; i < a.changes.size(); ++i) {
    CHECK(a.changes[i].field == b.changes[i].field);
    CHECK(a.changes[i].before == b.changes[i].before);
    CHECK(a.changes[i].after == b.changes[i].after);
  }
  // A guard reads the typed value: risk high goes to emergency, low to care.
  Command assess;
  assess.event = "assess";
  assess.actor = worker_;
  assess.at = kAt;
  assess.values = {{p_->field_index("risk"), std::string("high")}};
  CHECK(target(decide(*p_, at_state("screening"), assess)) == "emergency");
  assess.values = {{p_->field_index("risk"), std::string("low")}, {p_->field_index("consent"), true}};
  CHECK(target(decide(*p_, at_state("screening"), assess)) == "care");
  // Text and typed together: the typed value comes last and wins.
  assess.inputs = {{"risk", "low"}};
  assess.values = {{p_->field_index("risk"), std::string("high")}};
  CHECK(target(decide(*p_, at_state("screening"), assess)) == "emergency");
}

TEST_CASE_METHOD(DecideFixture, "typed inputs are checked as text inputs are", "[decide][typed]") {
  auto refuse = [&](const std::string& state, const std::string& event, int field, Value value) {
    Command c;
    c.event = event;
    c.actor = worker_;
    c.at = kAt;
    c.values = {{field, std::move(value)}};
    return refusal(decide(*p_, at_state(state), c));
  };
  const int age = p_->field_index("age"), risk = p_->field_index("risk");
  // Out of bounds: the same sentence as for the text "130".
  const Refusal bounds = refuse("intake", "screen", age, int64_t{130});
  CHECK(bounds.kind == RefusalKind::kBadInput);
  CHECK(bounds.message == refusal(fire(at_state("intake"), "screen", worker_, {{"age", "130"}})).message);
  // Of another type: what the field accepts.
  const Refusal type = refuse("intake", "screen", age, std::string("34"));
  CHECK(type.kind == RefusalKind::kBadInput);
  CHECK(type.message == "age: '34' is not a whole number like 42, of at most 18 digits");
  CHECK(refuse("intake", "screen", age, Value{}).kind == RefusalKind::kBadInput);
  // Not one of the enum's values.
  const Refusal value = refuse("screening", "assess", risk, std::string("medium"));
  CHECK(value.message == "risk: 'medium' is not one of: low, high");
  // A field number the procedure does not have.
  const Refusal number = refuse("intake", "screen", 99, int64_t{1});
  CHECK(number.message == "procedure 'test-care' has no field number 99: it has 6 fields, numbered from 0");
  CHECK(refuse("intake", "screen", -1, int64_t{1}).kind == RefusalKind::kBadInput);
  // A personal value is not shown; a control character is refused.
  const Refusal name = refuse("intake", "screen", p_->field_index("full_name"), std::string("Ani\x01"));
  CHECK(name.message.find("Ani") == std::string::npos);
  CHECK(name.kind == RefusalKind::kBadInput);
}

// The step's inputs and `set:` stand in for the case's values (nothing is
// copied): only what differs from the case is a change, the last value
// given for a field wins, and `set:` reads the inputs.
TEST_CASE("inputs and set: over the case's values: changes, repeats and reads", "[decide][typed]") {
  const ProcedurePtr p = testing::load_or_fail(R"(sop: test-overlay
version: 1
title: Overlay
roles: [worker]
fields:
  age: {type: int}
  adult: {type: bool}
  note: {type: string}
  met_on: {type: date}
states:
  a: {initial: true}
  b: {deadline: 2 days from met_on}
  c: {terminal: true}
transitions:
  - {event: check, from: a, to: b, roles: [worker], requires: [age], accepts: [note, met_on], set: {adult: age >= 18}}
  - {event: finish, from: b, to: c, roles: [worker]}
)");
  const int age = p->field_index("age"), adult = p->field_index("adult"), note = p->field_index("note"),
            met_on = p->field_index("met_on");
  CaseSnapshot s = testing::snapshot_at(*p, "a");
  Command c;
  c.event = "check";
  c.actor = {"rina", {"worker"}};
  c.at = kAt;
  auto changes = [&](const Decision& d) {
    if (auto* r = std::get_if<Refusal>(&d)) FAIL("refused: " << r->message);
    std::vector<std::string> out;
    for (const auto& change : std::get<Transition>(d).changes)
      out.push_back(p->fields[change.field].id + ": " + format_value(change.before) + " -> " +
                    format_value(change.after));
    return out;
  };
  // `set:` reads the input; the changes come in field order; no anchor, no deadline.
  c.inputs = {{"age", "20"}};
  Decision d = decide(*p, s, c);
  CHECK(changes(d) == std::vector<std::string>{"age:  -> 20", "adult:  -> true"});
  CHECK_FALSE(std::get<Transition>(d).due_at);
  // A field given twice: the last value wins, and `set:` reads that one.
  c.inputs = {{"age", "20"}, {"age", "12"}};
  CHECK(changes(decide(*p, s, c)) == std::vector<std::string>{"age:  -> 12", "adult:  -> false"});
  // What the case already holds is no change; the deadline counts from the
  // anchor the step gives.
  s.data[age] = int64_t{20};
  s.data[adult] = true;
  s.data[note] = std::string("seen");
  c.inputs = {{"note", "seen"}, {"age", "20"}};
  c.values = {{met_on, *parse_date("2026-03-05")}};
  d = decide(*p, s, c);
  CHECK(changes(d) == std::vector<std::string>{"met_on:  -> 2026-03-05"});
  REQUIRE(std::get<Transition>(d).due_at);
  CHECK(format_datetime(*std::get<Transition>(d).due_at) == "2026-03-07T00:00:00Z");
  // Or from the case's own value when the step leaves it.
  s.data[met_on] = *parse_date("2026-03-01");
  c.values.clear();
  d = decide(*p, s, c);
  CHECK(changes(d).empty());
  CHECK(format_datetime(*std::get<Transition>(d).due_at) == "2026-03-03T00:00:00Z");
  // The case's values are as they were.
  CHECK(s.data[age] == Value{int64_t{20}});
}

}  // namespace
}  // namespace sopir
