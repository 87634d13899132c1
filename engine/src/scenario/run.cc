// Running scenario tests: each scenario on its own in-memory database,
// through the real Engine, with a clock the steps set. Coverage comes from
// the DecisionTrace that decide() fills for every step on a case of the
// procedure under test (steps on cases its hand-offs opened are not traced).
#include <algorithm>
#include <map>

#include "sopir/engine.h"
#include "sopir/messages/scenario.h"
#include "sopir/error.h"
#include "sopir/scenario.h"
#include "sopir/messages/runtime.h"
#include "sopir/migration_apply.h"
#include "sopir/migration_plan.h"
#include "sopir/messages/scenario.h"

namespace sopir {

namespace {

// The staff member who publishes the procedure into each scenario's
// database; not a valid staff id in a scenario file ('~' is never typed).
constexpr char kPublisher[] = "~scenario-publisher";
// The second policy member a migrate: step's plan needs (four-eyes).
constexpr char kApprover[] = "~scenario-approver";

class FixedClock : public Clock {
 public:
  explicit FixedClock(DateTime at) : at_(at) {}
  DateTime now() override { return at_; }
  void set(DateTime at) { at_ = at; }

 private:
  DateTime at_;
};

// Case ids in a scenario are predictable so messages are too.
class SequentialIds : public IdSource {
 public:
  std::string next() override {
    ++n_;
    std::string digits = std::to_string(n_ % 1000);
    return "TST-" + std::string(3 - digits.size(), '0') + digits;
  }

 private:
  int n_ = 0;
};


std::string due_text(const std::optional<DateTime>& due) {
  return due ? format_datetime(*due) : tr(msg::scen_none);
}

std::string value_text(const Value& v) { return is_missing(v) ? tr(msg::scen_no_value) : format_value(v); }

// What a step's hand-off opened, against `expect: {opened: ...}`.
void compare_opened(const ScenarioExpect& e, const std::vector<StepResult::Opened>& opened,
                    std::vector<std::string>* differences) {
  if (!e.check_opened) return;
  std::vector<std::string> got;
  for (const auto& o : opened) got.push_back(o.record.sop_id);
  if (got == e.opened) return;
  std::string what, expected;
  for (const auto& o : opened)
    what += (what.empty() ? "" : ", ") + tr(msg::scen_a_case_of, {o.record.sop_id, o.record.id});
  for (const auto& id : e.opened) expected += (expected.empty() ? "" : ", ") + tr(msg::scen_a_case_of_sop, {id});
  differences->push_back(tr(msg::scen_opened_differs, {expected.empty() ? tr(msg::scen_none) : expected,
                                                       what.empty() ? tr(msg::scen_none) : what}));
}

// Refusal messages from the Engine start with "case ID: "; in a scenario
// the step already says which case, so that is noise.
std::string without_case_prefix(const std::string& message, const std::string& case_id) {
  const std::string prefix = tr(msg::runtime_case_prefix, {case_id, ""});
  if (!case_id.empty() && message.rfind(prefix, 0) == 0) return message.substr(prefix.size());
  return message;
}

// Compares the case with an expectation (all keys but refused and fired).
void compare(Engine& engine, const Procedure& p, const CaseRecord& record, const ScenarioExpect& e,
             std::vector<std::string>* differences) {
  if (!e.clocks.empty()) {
    const std::vector<ClockStatus> clocks = engine.clocks(record);
    const DateTime now = engine.clock().now();
    for (const auto& [index, expected] : e.clocks) {
      if (index < 0 || static_cast<size_t>(index) >= clocks.size()) continue;
      const std::string got = clocks[static_cast<size_t>(index)].status(now);
      if (got != expected)
        differences->push_back(tr(msg::scenario_clock_differs, {p.clocks[static_cast<size_t>(index)].id, expected, got}));
    }
  }
  if (e.state && *e.state != record.state)
    differences->push_back(tr(msg::scen_state_differs, {*e.state, record.state}));
  if (e.status && *e.status != record.status)
    differences->push_back(tr(msg::scen_status_differs, {to_string(*e.status), to_string(record.status)}));
  if (e.check_due && e.due != record.due_at)
    differences->push_back(tr(msg::scen_due_differs, {due_text(e.due), due_text(record.due_at)}));
  if (!e.fields.empty()) {
    const std::vector<Value> data = Engine::decode_data(p, record);
    for (const auto& [field, expected] : e.fields) {
      if (data[field] != expected)
        differences->push_back(
            tr(msg::scen_field_differs, {p.fields[field].id, value_text(expected), value_text(data[field])}));
    }
  }
}

// What a refused step must not have changed.
void compare_unchanged(const CaseRecord& before, const CaseRecord& after,
                       std::vector<std::string>* differences) {
  std::vector<std::string> what;
  if (before.state != after.state) what.push_back(tr(msg::scen_changed_state, {before.state, after.state}));
  if (before.status != after.status)
    what.push_back(tr(msg::scen_changed_status, {to_string(before.status), to_string(after.status)}));
  if (before.due_at != after.due_at)
    what.push_back(tr(msg::scen_changed_due, {due_text(before.due_at), due_text(after.due_at)}));
  bool data_changed = before.data.size() != after.data.size();
  for (size_t i = 0; !data_changed && i < before.data.size(); ++i) {
    data_changed = before.data[i].field != after.data[i].field ||
                   before.data[i].text != after.data[i].text ||
                   before.data[i].missing != after.data[i].missing;
  }
  if (data_changed) what.push_back(tr(msg::scen_changed_fields));
  if (before.version != after.version) what.push_back(tr(msg::scen_changed_version));
  if (what.empty()) return;
  std::string text;
  for (size_t i = 0; i < what.size(); ++i) text += (i ? ", " : "") + what[i];
  differences->push_back(tr(msg::scen_changed_although_refused, {text}));
}

class ScenarioRunner {
 public:
  ScenarioRunner(const ScenarioFile& file, DecisionTrace* trace) : file_(file), trace_(trace) {}

  // The sites the procedures' hand-offs open cases at (`site:`, and the
  // values of an enum field `site_from:` names): a scenario's database has
  // them, and every member of the scenario belongs to each, so that a test
  // follows a case wherever it is handed on. (A string field naming the
  // site can name only sites the scenario's database has: main and these.)
  void add_handoff_sites(Store& store, const RegistryStamp& stamp) {
    std::vector<std::string> sites;
    const auto note = [&](const std::string& id) {
      if (id != kDefaultSite && std::find(sites.begin(), sites.end(), id) == sites.end()) sites.push_back(id);
    };
    std::vector<const Procedure*> procedures{file_.procedure.get()};
    for (const auto& linked : file_.linked) procedures.push_back(linked.get());
    for (const Procedure* p : procedures)
      for (const TransitionDef& t : p->transitions)
        for (const HandOff& h : t.opens) {
          if (!h.site.empty()) note(h.site);
          if (h.site_field >= 0)
            for (const std::string& value : p->fields[static_cast<size_t>(h.site_field)].values) note(value);
        }
    for (const std::string& site : sites) {
      store.add_site(Site{site, site}, stamp);
      for (const StaffMember& member : store.all_staff()) store.set_staff_site(member.id, site, true, stamp);
    }
  }

  ScenarioResult run(const Scenario& scenario) {
    ScenarioResult result;
    result.name = scenario.name;
    result.line = scenario.line;
    auto clock = std::make_shared<FixedClock>(scenario.clock);
    StoreOptions options;
    options.create = true;
    options.synchronous_full = false;
    Engine engine(open_sqlite_store(":memory:", options), clock, std::make_shared<SequentialIds>());
    // Refusals quoted in a result are in the language of the rest of it.
    engine.set_language(message_language());
    const RegistryStamp stamp{kPublisher, scenario.clock};
    engine.store().add_staff(StaffMember{kPublisher, "Scenario runner", {"policy"}, true}, stamp);
    engine.store().add_staff(StaffMember{kApprover, "Scenario runner", {"policy"}, true}, stamp);
    for (const auto& member : file_.staff) engine.store().add_staff(member, stamp);
    add_handoff_sites(engine.store(), stamp);
    // Hand-off targets first: publishing checks that they are there.
    // Each with the calendar it was loaded with (tppo-victim-care's tvc-legal counts working days).
    for (const auto& linked : file_.linked)
      engine.publish_source(linked->source, linked->file, kPublisher, false,
                            linked->calendar ? linked->calendar->sources : std::vector<CalendarSource>{});
    engine.publish_source(file_.procedure->source, file_.procedure->file, kPublisher, false,
                          file_.procedure->calendar ? file_.procedure->calendar->sources
                                                    : std::vector<CalendarSource>{});
    const Procedure& p = *file_.procedure;

    std::string case_id;
    auto fail = [&](int number, const ScenarioStep& step, std::vector<std::string> differences) {
      result.passed = false;
      result.step = number;
      result.step_text = step.text;
      result.step_line = step.line;
      result.differences = std::move(differences);
      return result;
    };

    // Step 0: open.
    {
      const ScenarioStep& open = scenario.open;
      if (open.at) clock->set(*open.at);
      std::vector<std::string> differences;
      try {
        OpenRequest request;
        request.sop_id = p.id;
        request.actor = open.actor;
        request.inputs = open.inputs;
        request.site = kDefaultSite;  // its staff may belong to hand-off sites too
        StepResult opened = engine.open_case(request);
        case_id = opened.after.id;
        if (open.expect.refused)
          differences.push_back(tr(msg::scen_expected_refused_opened, {to_string(*open.expect.refused)}));
        compare(engine, p, opened.after, open.expect, &differences);
      } catch (const RefusedError& e) {
        refusal_differences(open.expect, e, &differences);
      } catch (const Error& e) {
        differences.push_back(tr(msg::scen_error, {e.message()}));
      }
      if (!differences.empty()) return fail(0, open, std::move(differences));
      if (open.expect.refused) return result;
    }

    for (size_t i = 0; i < scenario.steps.size(); ++i) {
      const ScenarioStep& step = scenario.steps[i];
      std::vector<std::string> differences;
      std::string target = case_id;
      try {
        target = case_for(engine, p, case_id, step, &differences);
        if (!target.empty()) run_step(engine, *clock, target, step, &differences);
      } catch (const Error& e) {
        differences.push_back(tr(msg::scen_error, {without_case_prefix(e.message(), target)}));
      }
      if (!differences.empty()) return fail(static_cast<int>(i + 1), step, std::move(differences));
    }

    if (scenario.has_final) {
      std::vector<std::string> differences;
      compare(engine, p, *engine.store().find_case(case_id), scenario.final_expect, &differences);
      if (!differences.empty()) {
        ScenarioStep end;
        end.text = scenario.final_text;
        end.line = scenario.final_line;
        fail(static_cast<int>(scenario.steps.size() + 1), end, std::move(differences));
        result.at_end = true;
      }
    }
    return result;
  }

 private:
  void refusal_differences(const ScenarioExpect& expect, const RefusedError& e,
                           std::vector<std::string>* differences, const std::string& case_id = "") {
    const std::string got = to_string(e.refusal_kind());
    const std::string message = without_case_prefix(e.message(), case_id);
    if (!expect.refused) {
      differences->push_back(tr(msg::scen_expected_success, {got, message}));
    } else if (*expect.refused != e.refusal_kind()) {
      differences->push_back(tr(msg::scen_expected_other_refusal, {to_string(*expect.refused), got, message}));
    }
  }

  // The case a step acts on: the scenario's own, or with `case: ID` the
  // newest case of ID in this scenario's database (one a hand-off opened).
  // Empty, with a difference, when there is none yet.
  std::string case_for(Engine& engine, const Procedure& own, const std::string& own_case,
                       const ScenarioStep& step, std::vector<std::string>* differences) {
    if (step.case_sop.empty() || step.case_sop == own.id) return own_case;
    CaseFilter filter;
    filter.sop_id = step.case_sop;
    const std::vector<CaseRecord> cases = engine.store().cases(filter);
    if (cases.empty()) {
      differences->push_back(tr(msg::scen_no_case_yet, {step.case_sop}));
      return "";
    }
    return cases.back().id;
  }

  // The timer pass of a tick step; only decisions about the procedure under
  // test reach the trace. Returns what fired per case id; refusals go to
  // `failures`.
  std::map<std::string, FiredDeadline> timer_pass(Engine& engine,
                                                  std::vector<std::string>* failures) {
    TickReport report = engine.tick([&](const CaseRecord& record) -> DecisionTrace* {
      return record.sop_id == file_.procedure->id ? trace_ : nullptr;
    });
    std::map<std::string, FiredDeadline> fired;
    for (auto& f : report.fired) fired.emplace(f.case_id, std::move(f));
    for (TickFailure& f : report.failures) failures->push_back(std::move(f.message));
    return fired;
  }

  void run_step(Engine& engine, FixedClock& clock, const std::string& case_id,
                const ScenarioStep& step, std::vector<std::string>* differences) {
    if (step.at) clock.set(*step.at);
    const CaseRecord before = *engine.store().find_case(case_id);
    const ProcedurePtr procedure = engine.procedure(before.sha256);
    const Procedure& p = *procedure;
    if (step.kind == StepKind::kMigrate) {
      migrate(engine, before, step, differences);
      return;
    }
    if (step.kind == StepKind::kTick) {
      std::vector<std::string> failures;
      const auto fired_by_case = timer_pass(engine, &failures);
      std::optional<std::string> fired;
      std::vector<StepResult::Opened> opened;
      if (auto it = fired_by_case.find(case_id); it != fired_by_case.end()) {
        fired = it->second.event;
        opened = it->second.opened;
      }
      for (const auto& failure : failures)
        differences->push_back(tr(msg::scen_timer_refused, {without_case_prefix(failure, case_id)}));
      if (step.expect.check_fired && step.expect.fired != fired)
        differences->push_back(tr(msg::scen_fired_differs, {step.expect.fired.value_or(tr(msg::scen_nothing)),
                                                            fired.value_or(tr(msg::scen_nothing))}));
      compare_opened(step.expect, opened, differences);
      compare(engine, p, *engine.store().find_case(case_id), step.expect, differences);
      return;
    }
    const bool traced = before.sop_id == file_.procedure->id && p.version == file_.procedure->version;
    std::vector<StepResult::Opened> opened;
    try {
      if (step.kind == StepKind::kEvent) {
        StepRequest request;
        request.case_id = case_id;
        request.event = step.event;
        request.actor = step.actor;
        request.inputs = step.inputs;
        request.reason = step.reason;
        request.override = step.override;
        request.trace = traced ? trace_ : nullptr;
        opened = engine.advance(request).opened;
      } else {
        LifecycleRequest request;
        request.case_id = case_id;
        request.event = step.kind == StepKind::kHold     ? LifecycleEvent::kHold
                        : step.kind == StepKind::kResume ? LifecycleEvent::kResume
                        : step.kind == StepKind::kClose  ? LifecycleEvent::kClose
                                                         : LifecycleEvent::kReopen;
        request.actor = step.actor;
        request.reason = step.reason;
        engine.lifecycle(request);
      }
    } catch (const RefusedError& e) {
      refusal_differences(step.expect, e, differences, case_id);
      if (!differences->empty()) return;
      const CaseRecord after = *engine.store().find_case(case_id);
      compare_unchanged(before, after, differences);
      compare(engine, p, after, step.expect, differences);
      return;
    }
    const CaseRecord after = *engine.store().find_case(case_id);
    if (step.expect.refused) {
      differences->push_back(tr(msg::scen_expected_refused_succeeded,
                                {to_string(*step.expect.refused), after.state, to_string(after.status)}));
      return;
    }
    compare_opened(step.expect, opened, differences);
    compare(engine, p, after, step.expect, differences);
  }

  // Publishes the newer version and moves the case to it as an office
  // would: a plan, proposed, approved by a second member, applied.
  void migrate(Engine& engine, const CaseRecord& before, const ScenarioStep& step,
               std::vector<std::string>* differences) {
    const Procedure& next = *step.migrate_to;
    for (const auto& linked : step.migrate_linked)
      engine.publish_source(linked->source, linked->file, kPublisher, false,
                            linked->calendar ? linked->calendar->sources : std::vector<CalendarSource>{});
    const PublishedProcedure published = engine.publish_source(
        next.source, next.file, kPublisher, false,
        next.calendar ? next.calendar->sources : std::vector<CalendarSource>{});
    const MigrationPlan plan = plan_migration(engine, before.sop_id, published.version);
    // A plan that moves nothing cannot be proposed: the case stays, and the
    // step says why below.
    if (plan.moving() > 0) {
      const std::string document = plan_json(plan);
      propose_migration(engine, kPublisher, document);
      approve_migration(engine, kApprover, plan_sha256(document));
      apply_migration(engine, kPublisher, document);
    }
    const CaseRecord after = *engine.store().find_case(before.id);
    if (after.sha256 != published.sha256) {
      std::string why;
      for (const auto& c : plan.cases)
        if (c.case_id == before.id) why = c.reason;
      differences->push_back(tr(msg::scen_migrate_not_moved, {std::to_string(published.version), why}));
      return;
    }
    compare(engine, *engine.procedure(after.sha256), after, step.expect, differences);
  }

  const ScenarioFile& file_;
  DecisionTrace* trace_;
};

Coverage coverage_of(const Procedure& p, const DecisionTrace& trace) {
  Coverage c;
  for (const auto& t : p.transitions) {
    Coverage::Item item;
    item.transition = t.index;
    item.guarded = t.guard != nullptr;
    c.transitions.push_back(item);
  }
  for (int t : trace.fired) c.transitions[t].fired = true;
  for (const auto& candidate : trace.candidates) {
    auto& item = c.transitions[candidate.transition];
    if (candidate.guard == DecisionTrace::Guard::kTrue) item.guard_true = true;
    if (candidate.guard == DecisionTrace::Guard::kFalse) item.guard_false = true;
  }
  for (const auto& item : c.transitions) {
    c.total += 1 + (item.guarded ? 2 : 0);
    c.covered += (item.fired ? 1 : 0) + (item.guard_true ? 1 : 0) + (item.guard_false ? 1 : 0);
  }
  return c;
}

}  // namespace

bool ScenarioReport::all_passed() const { return failed() == 0; }

int ScenarioReport::failed() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(),
                                        [](const ScenarioResult& r) { return !r.passed; }));
}

ScenarioReport run_scenarios(const ScenarioFile& file) {
  ScenarioReport report;
  report.file = file.file;
  report.procedure = file.procedure;
  DecisionTrace trace;
  ScenarioRunner runner(file, &trace);
  for (const auto& scenario : file.scenarios) report.results.push_back(runner.run(scenario));
  report.coverage = coverage_of(*file.procedure, trace);
  return report;
}

std::string describe_transition(const Procedure& p, int index) {
  const TransitionDef& t = p.transitions[index];
  std::string from;
  for (size_t i = 0; i < t.from.size(); ++i) from += (i ? ", " : "") + p.states[t.from[i]].id;
  return p.events[t.event] + ": " + from + " -> " + p.to_id(t) +
         (t.pos.line > 0 ? tr(msg::scen_on_line, {std::to_string(t.pos.line)}) : "");
}

}  // namespace sopir
