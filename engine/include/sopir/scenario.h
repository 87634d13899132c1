// Scenario tests for procedures (workflows/README.md, "Scenario tests"), and
// the paths a case can take through a procedure.
//
// A scenario file (NAME.test.yaml) names a procedure, a start time, invented
// staff and scenarios: each opens a case and walks it step by step, with
// what must happen after each step. load_scenario_*() reads and checks the
// file against its procedure (loaded strictly) and reports problems in the
// test file as located diagnostics, like the procedure loader.
// run_scenarios() runs every scenario on its own throwaway in-memory
// database through the real Engine (so through the same decide() as
// production) with a fixed clock the steps move, and reports per scenario
// the first difference, plus which transitions and guard outcomes no
// scenario exercised.
//
// Hand-offs: when the procedure under test opens cases in other procedures
// (`opens:`), those procedures are loaded too (named under `procedures:`, or
// found as <sop-id>.yaml beside the procedure that hands off), transitively,
// and published first in each scenario's database. A step's `case:` names
// the procedure whose newest case in the scenario it acts on; `expect:
// {opened: ID}` checks that a step's hand-off opened a case of ID (`opened:
// [ID, ...]` for a step that opens several tracks, in hand-off order). Coverage
// counts only the procedure under test.
//
// Nothing here prints; the CLI (src/cmd_sop_scenarios.cc) formats the results.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sopir/decide.h"
#include "sopir/loader.h"
#include "sopir/procedure.h"
#include "sopir/store.h"
#include "sopir/value.h"

namespace sopir {

// The refusal kind named `name` as sopir::to_string(RefusalKind) spells it
// ("role", "missing-field", "reason", ...); nullopt when there is none.
std::optional<RefusalKind> refusal_kind_from_string(std::string_view name);
// Every refusal kind name, in enum order.
std::vector<std::string> refusal_kind_names();

// What must hold after a step (or after a scenario's last step).
struct ScenarioExpect {
  std::optional<RefusalKind> refused;
  std::optional<std::string> state;
  std::optional<Status> status;
  std::vector<std::pair<int, Value>> fields;  // field index, value (missing: no value)
  bool check_due = false;
  std::optional<DateTime> due;  // with check_due: nullopt means "no deadline"
  bool check_fired = false;
  std::optional<std::string> fired;  // with check_fired: nullopt means "nothing fired"
  bool check_opened = false;
  std::vector<std::string> opened;  // with check_opened: procedure ids in order; empty: "none"
  // Case-level clocks: (clock index, status as ClockStatus::status spells it).
  std::vector<std::pair<int, std::string>> clocks;
};

// kMigrate: `migrate: FILE` publishes the newer version in FILE and moves
// the case to it by a plan proposed, approved and applied (sopir/migration_apply.h).
enum class StepKind { kOpen, kEvent, kHold, kResume, kClose, kReopen, kTick, kMigrate };

struct ScenarioStep {
  StepKind kind = StepKind::kEvent;
  std::string actor;  // `as` (empty for tick)
  std::string event;  // kEvent
  std::vector<std::pair<std::string, std::string>> inputs;  // `set`, as staff would type them
  std::string reason;
  bool override = false;
  // `case:`: the procedure whose newest case in the scenario this step acts
  // on (and its expect checks); empty: the scenario's own case.
  std::string case_sop;
  std::optional<DateTime> at;  // `at:`, or the time of a tick
  ScenarioExpect expect;
  ProcedurePtr migrate_to;  // kMigrate: the newer version the case moves to
  // kMigrate: the procedures the newer version hands cases on to that the
  // file's own do not, found as ID.yaml beside it (targets first).
  std::vector<ProcedurePtr> migrate_linked;
  std::string text;  // the step as written, on one line
  int line = 0;
};

struct Scenario {
  std::string name;
  int line = 0;
  DateTime clock;  // when it starts
  ScenarioStep open;
  std::vector<ScenarioStep> steps;
  bool has_final = false;  // a scenario-level `expect:`
  ScenarioExpect final_expect;
  std::string final_text;
  int final_line = 0;
};

struct ScenarioFile {
  std::string file;            // as given
  std::string procedure_file;  // path of the procedure, as resolved
  ProcedurePtr procedure;
  // The procedures the one under test hands cases on to, directly or through
  // each other, in publishing order (targets first).
  std::vector<ProcedurePtr> linked;
  DateTime clock;
  std::vector<StaffMember> staff;
  std::vector<Scenario> scenarios;
};

struct ScenarioLoad {
  std::optional<ScenarioFile> file;     // set when there are no errors
  std::vector<Diagnostic> diagnostics;  // test file's, then the procedure's
  bool ok() const { return file.has_value(); }
};

// Reads a scenario file from disk (kNotFound when it cannot be read) and the
// procedure it names, relative to the file's directory, with the procedures
// its hand-offs open.
ScenarioLoad load_scenario_file(const std::string& path);
// The same from text; `name` stands for the file in messages and its
// directory is where `procedure:` is looked up.
ScenarioLoad load_scenario_string(std::string_view text, const std::string& name);

// The outcome of one scenario: passed, or the first step that did not go as
// expected with every difference found at that step.
struct ScenarioResult {
  std::string name;
  int line = 0;
  bool passed = true;
  int step = 0;            // failing step: 0 = open, 1-based for steps
  bool at_end = false;     // the failure is in the scenario's final expect
  std::string step_text;   // the step as written
  int step_line = 0;
  std::vector<std::string> differences;  // "state: expected 'a', got 'b'", ...
};

struct Coverage {
  struct Item {
    int transition = -1;
    bool fired = false;
    bool guarded = false;
    bool guard_true = false;   // some scenario saw the guard hold
    bool guard_false = false;  // some scenario saw it not hold
  };
  std::vector<Item> transitions;  // by transition index
  int covered = 0;  // fired transitions + guard outcomes seen
  int total = 0;    // transitions + 2 x guarded transitions
  double percent() const { return total == 0 ? 100.0 : 100.0 * covered / total; }
};

struct ScenarioReport {
  std::string file;
  ProcedurePtr procedure;
  std::vector<ScenarioResult> results;
  Coverage coverage;
  bool all_passed() const;
  int failed() const;
};

// Runs every scenario of a loaded file. Throws sopir::Error only when the
// in-memory database cannot be set up.
ScenarioReport run_scenarios(const ScenarioFile& file);

// "approve: requested, approval_overdue -> approved (line 210)".
std::string describe_transition(const Procedure& procedure, int transition);

// Paths from the initial state to a terminal state.
struct PathStep {
  int transition = -1;  // the first transition for this event between the two states
  int event = -1;
  int state = -1;       // the state reached
  bool again = false;   // the state was already visited on this path (a loop)
  // The procedures whose cases (tracks) the step opens (`opens:`), in the
  // order written; for an event whose transitions differ only in their
  // guard, those of every such transition, each once.
  std::vector<std::string> opens;
};
struct ProcedurePath {
  std::vector<PathStep> steps;
  bool has_loop = false;
};
struct PathOptions {
  int max_visits = 2;    // times one state may appear on one path
  size_t max_paths = 200;
};
struct PathList {
  std::vector<ProcedurePath> paths;  // paths without loops first
  bool truncated = false;            // max_paths was reached
};
PathList procedure_paths(const Procedure& procedure, const PathOptions& options = {});

// A starting scenario file for the paths, in the README's format: one
// scenario per path, invented staff per role, placeholder values for the
// fields each step and the opening need (TODO comments where sopir cannot
// choose a valid value or a guard decides the branch). `procedure_ref` is
// written as `procedure:` (relative to where the test file will be saved).
std::string paths_as_tests(const Procedure& procedure, const PathList& paths,
                           const std::string& procedure_ref);

}  // namespace sopir
