// Proposing, approving and applying a migration plan (sopir/migration_apply.h)
// and audit verify's replay across a migration row, on both backends:
// 10,000 cases of pmi-debarkation version 2 in every state a case can be in
// (built through the engine from version 2's own scenario tests) moved to
// version 3 (as shipped before version 4) and verified clean; a forged or unapproved
// migration row is found by verify.
#include "sopir/migration_apply.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sanitizers.h"
#include "sopir/audit.h"
#include "sopir/engine.h"
#include "sopir/messages.h"
#include "sopir/migration.h"
#include "sopir/migration_plan.h"
#include "sopir/scenario.h"
#include "test_backends.h"
#include "test_values.h"

namespace sopir {
namespace {

namespace fs = std::filesystem;

const std::string kSource = SOPIR_SOURCE_DIR;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The shipped procedures in a temporary folder with pmi-debarkation at
// version 2 and version 2's scenario file beside it.
class Version2Folder {
 public:
  Version2Folder() {
    std::string pattern = "/tmp/sopir-migrate-v2-XXXXXX";
    dir_ = mkdtemp(pattern.data());
    for (const auto& entry : fs::directory_iterator(kSource + "/workflows")) {
      const std::string name = entry.path().filename().string();
      if (entry.is_directory()) {
        fs::copy(entry.path(), dir_ + "/" + name, fs::copy_options::recursive);
      } else if (name.size() > 5 && name.substr(name.size() - 5) == ".yaml" &&
                 name.find(".test.") == std::string::npos) {
        fs::copy_file(entry.path(), dir_ + "/" + name);
      }
    }
    fs::copy_file(kSource + "/tests/data/migrate/pmi-debarkation.v2.yaml", dir_ + "/pmi-debarkation.yaml",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(kSource + "/tests/data/migrate/pmi-debarkation.v2.test.yaml", dir_ + "/pmi-debarkation.test.yaml");
  }
  ~Version2Folder() { fs::remove_all(dir_); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// A temporary folder of procedure and scenario files written by a test,
// removed with it; run() loads one scenario file there and runs it.
class ScenarioFolder {
 public:
  ScenarioFolder() {
    std::string pattern = "/tmp/sopir-scenario-XXXXXX";
    dir_ = mkdtemp(pattern.data());
  }
  ~ScenarioFolder() { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ + "/" + name) << text;
  }
  ScenarioReport run(const std::string& test_file) const {
    ScenarioLoad loaded = load_scenario_file(dir_ + "/" + test_file);
    INFO(format_diagnostics(loaded.diagnostics));
    REQUIRE(loaded.ok());
    return run_scenarios(*loaded.file);
  }

 private:
  std::string dir_;
};

// One way into a state: a scenario's opening and its first `steps` steps.
struct Recipe {
  const Scenario* scenario = nullptr;
  size_t steps = 0;
  std::string state;
};

// Runs `steps` steps of `s` on a new case (steps on other cases and refused
// steps are left out, as their scenario expects). Returns the case id.
std::string run_recipe(Engine& engine, testing::TestClock& clock, const Procedure& p, const Scenario& s, size_t steps) {
  clock.set(s.open.at.value_or(s.clock));
  OpenRequest open;
  open.sop_id = p.id;
  open.actor = s.open.actor;
  open.inputs = s.open.inputs;
  const std::string id = engine.open_case(open).after.id;
  for (size_t i = 0; i < steps; ++i) {
    const ScenarioStep& step = s.steps[i];
    if (step.at) clock.set(*step.at);
    if (!step.case_sop.empty() && step.case_sop != p.id) continue;
    if (step.expect.refused) continue;
    if (step.kind == StepKind::kTick) {
      // The timer pass on this case alone: other cases keep their states.
      const CaseRecord c = *engine.store().find_case(id);
      const int state = p.state_index(c.state);
      if (c.status != Status::kActive || !c.due_at || c.due_at->seconds > clock.now().seconds || state < 0 ||
          p.states[static_cast<size_t>(state)].on_deadline < 0)
        continue;
      StepRequest r;
      r.event = p.events[static_cast<size_t>(p.states[static_cast<size_t>(state)].on_deadline)];
      r.timer = true;
      r.note = "deadline passed";
      engine.advance_held(c, r);
      continue;
    }
    if (step.kind == StepKind::kEvent) {
      StepRequest r;
      r.case_id = id;
      r.event = step.event;
      r.actor = step.actor;
      r.inputs = step.inputs;
      r.reason = step.reason;
      r.override = step.override;
      engine.advance(r);
    } else {
      LifecycleRequest r;
      r.case_id = id;
      r.event = step.kind == StepKind::kHold     ? LifecycleEvent::kHold
                : step.kind == StepKind::kResume ? LifecycleEvent::kResume
                : step.kind == StepKind::kClose  ? LifecycleEvent::kClose
                                                 : LifecycleEvent::kReopen;
      r.actor = step.actor;
      r.reason = step.reason;
      engine.lifecycle(r);
    }
  }
  return id;
}

std::string publish_all(Engine& engine, const ScenarioFile& file) {
  engine.store().add_staff(StaffMember{"admin", "Admin Contoh", {"admin", "policy"}, true},
                           RegistryStamp{"admin", DateTime{1772000000}});
  engine.store().add_staff(StaffMember{"pia", "Pia Contoh", {"policy"}, true},
                           RegistryStamp{"admin", DateTime{1772000000}});
  for (const auto& member : file.staff) engine.add_staff("admin", member);
  for (const auto& linked : file.linked)
    engine.publish_source(linked->source, linked->file, "admin", false,
                          linked->calendar ? linked->calendar->sources : std::vector<CalendarSource>{});
  return engine
      .publish_source(file.procedure->source, file.procedure->file, "admin", false,
                      file.procedure->calendar ? file.procedure->calendar->sources : std::vector<CalendarSource>{})
      .sha256;
}

StoreOptions quick_store() {
  StoreOptions options;
  options.create = true;
  options.synchronous_full = false;
  return options;
}

// An engine with a scenario file's procedures and staff (publish_all), its
// clock at 2026-03-02 08:00 UTC.
struct ScenarioEngine {
  std::shared_ptr<testing::TestClock> clock =
      std::make_shared<testing::TestClock>(DateTime{1772438400});
  Engine engine;
  ScenarioEngine(std::unique_ptr<Store> store, const ScenarioFile& file)
      : engine(std::move(store), clock) {
    publish_all(engine, file);
  }
};

// The recipes: for each state a case of `p` can be in (not finished), the
// first scenario prefix that leaves a case there; explored on a throwaway
// database.
std::map<std::string, Recipe> find_recipes(const ScenarioFile& file) {
  const Procedure& p = *file.procedure;
  ScenarioEngine built(open_sqlite_store(":memory:", quick_store()), file);
  Engine& engine = built.engine;
  testing::TestClock* clock = built.clock.get();
  std::map<std::string, Recipe> recipes;
  for (const Scenario& s : file.scenarios) {
    if (s.open.expect.refused) continue;
    for (size_t n = 0; n <= s.steps.size(); ++n) {
      try {
        const std::string id = run_recipe(engine, *clock, p, s, n);
        const CaseRecord c = *engine.store().find_case(id);
        if (c.status != Status::kClosed && !p.states[static_cast<size_t>(p.state_index(c.state))].terminal &&
            !recipes.count(c.state))
          recipes[c.state] = Recipe{&s, n, c.state};
      } catch (const Error&) {
        break;  // a step that needs what the left-out steps did
      }
    }
  }
  return recipes;
}

std::string describe(const audit::VerifyReport& report) {
  std::string out;
  for (size_t i = 0; i < report.findings.size() && i < 10; ++i)
    out += std::string(audit::to_string(report.findings[i].kind)) + ": " + report.findings[i].message + "\n";
  return out;
}

std::string plan_document(Engine& engine, const std::string& sop, int to) {
  return plan_json(plan_migration(engine, sop, to));
}

TEST_CASE("a migration of cases in every state of pmi-debarkation version 2 to version 3 verifies clean",
          "[migration][apply]") {
  const testing::Backend backend = GENERATE(from_range(testing::store_backends()));
  testing::TestDatabase db(backend);
  // 10,000 cases on SQLite (the issue's figure); fewer on the server, whose
  // round trips make building slow, and under AddressSanitizer, where the
  // 10,000 took two minutes of CI: the code path is the same.
#ifdef SOPIR_UNDER_ASAN
  const int sqlite_cases = 2000;
#else
  const int sqlite_cases = 10000;
#endif
  const int cases = backend == testing::Backend::kSqlite ? sqlite_cases : 400;
  Version2Folder folder;
  ScenarioLoad loaded = load_scenario_file(folder.dir() + "/pmi-debarkation.test.yaml");
  INFO(format_diagnostics(loaded.diagnostics));
  REQUIRE(loaded.ok());
  const ScenarioFile& file = *loaded.file;
  const Procedure& v2 = *file.procedure;
  REQUIRE(v2.version == 2);

  const std::map<std::string, Recipe> recipes = find_recipes(file);
  const std::vector<bool> reachable = reachable_states(v2);
  for (size_t s = 0; s < v2.states.size(); ++s) {
    INFO("state " << v2.states[s].id << " has no scenario prefix leading to it");
    if (reachable[s] && !v2.states[s].terminal) CHECK(recipes.count(v2.states[s].id) == 1);
  }
  std::vector<const Recipe*> order;
  for (const auto& [state, recipe] : recipes) order.push_back(&recipe);

  ScenarioEngine built(open_store(db.location(), quick_store()), file);
  Engine& engine = built.engine;
  testing::TestClock* clock = built.clock.get();
  std::map<std::string, int64_t> per_state;
  for (int first = 0; first < cases; first += 1000) {
    engine.store().transaction([&] {
      for (int c = first; c < std::min(cases, first + 1000); ++c) {
        const Recipe& r = *order[static_cast<size_t>(c) % order.size()];
        run_recipe(engine, *clock, v2, *r.scenario, r.steps);
        ++per_state[r.state];
      }
    });
  }
  clock->set(DateTime{1780272000});  // 2026-06-01: version 3 published, the plan made
  const PublishedProcedure v3 =
      engine.publish(kSource + "/tests/data/migrate/pmi-debarkation.v3.yaml", "admin", false);
  REQUIRE(engine.procedure(v3.sha256)->version == 3);  // the file's version: 3; the database's second

  const std::string document = plan_document(engine, "pmi-debarkation", v3.version);
  const SavedPlan plan = read_plan(document);
  REQUIRE(plan.cases.size() == static_cast<size_t>(cases));
  CHECK(plan.moving() == cases);  // version 3 keeps every step of version 2

  // Four-eyes: the proposer's approval is refused and writes nothing.
  propose_migration(engine, "admin", document);
  const auto head = engine.store().chain_head();
  try {
    approve_migration(engine, "admin", plan.sha256);
    FAIL("the proposer approved their own plan");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kRefused);
    CHECK_THAT(e.message(), Catch::Contains("four-eyes"));
  }
  CHECK(engine.store().chain_head() == head);
  approve_migration(engine, "pia", plan.sha256.substr(0, 12));

  ApplyOptions apply;
  int64_t last = 0;
  apply.progress = [&](int64_t done, int64_t total) {
    CHECK(done > last);
    CHECK(total == cases);
    last = done;
  };
  const ApplyReport report = apply_migration(engine, "admin", document, apply);
  CHECK(report.migrated == cases);
  CHECK(report.stale == 0);
  CHECK(report.cannot == 0);
  CHECK(report.batches == (cases + 499) / 500);
  CHECK(last == cases);

  CaseFilter filter;
  filter.sop_id = "pmi-debarkation";
  int64_t on_v3 = 0;
  std::map<std::string, int64_t> now_in;
  for (const CaseRecord& c : engine.cases(filter)) {
    on_v3 += c.sha256 == v3.sha256 ? 1 : 0;
    ++now_in[c.state];
  }
  CHECK(on_v3 == cases);
  CHECK(now_in == per_state);  // every state kept by name

  const audit::VerifyReport verified = audit::verify(engine.store(), audit::VerifyOptions{});
  INFO(describe(verified));
  CHECK(verified.clean());
  CHECK(verified.cases >= cases);
}

// Cases of version 2 of `file`'s procedure, one in each state its scenarios
// leave a case in, moved straight to the shipped version (published after
// `first`) in one plan, proposed, approved and applied; audit verify is
// clean afterwards. Returns the plan.
SavedPlan straight_to_shipped(const ScenarioFile& file, const std::vector<std::string>& first,
                              const std::vector<int>& unpublished) {
  const Procedure& v2 = *file.procedure;
  REQUIRE(v2.version == 2);
  const std::map<std::string, Recipe> recipes = find_recipes(file);
  REQUIRE(recipes.size() > 2);
  testing::TestDatabase db(testing::Backend::kSqlite);
  ScenarioEngine built(open_store(db.location(), quick_store()), file);
  Engine& engine = built.engine;
  testing::TestClock* clock = built.clock.get();
  std::map<std::string, std::string> state_of;  // case id: its state under version 2
  for (const auto& [state, recipe] : recipes)
    state_of[run_recipe(engine, *clock, v2, *recipe.scenario, recipe.steps)] = state;
  clock->set(DateTime{1780272000});  // 2026-06-01
  for (const std::string& path : first) engine.publish(kSource + "/" + path, "admin", false);
  // Versions 3 and 4 were never published here.
  const PublishedProcedure shipped =
      engine.publish(kSource + "/workflows/" + v2.id + ".yaml", "admin", false);
  const ProcedurePtr next = engine.procedure(shipped.sha256);
  REQUIRE(next->version == 5);
  CHECK(shipped.migrate_from_unpublished == unpublished);

  const std::string document = plan_document(engine, v2.id, shipped.version);
  const SavedPlan plan = read_plan(document);
  REQUIRE(plan.cases.size() == recipes.size());
  for (const auto& c : plan.cases) CHECK(c.from_version == 2);
  propose_migration(engine, "admin", document);
  approve_migration(engine, "pia", plan.sha256);
  const ApplyReport report = apply_migration(engine, "admin", document);
  CHECK(report.migrated == plan.moving());
  CHECK(report.stale == 0);
  CHECK(report.cannot == 0);
  for (const auto& c : plan.cases) {
    const CaseRecord after = *engine.store().find_case(c.case_id);
    INFO(c.case_id << " from " << state_of[c.case_id]);
    CHECK(after.sha256 == (c.moves ? shipped.sha256 : c.from_sha256));
    CHECK(after.state == (c.moves ? c.to_state : state_of[c.case_id]));
  }
  const audit::VerifyReport verified = audit::verify(engine.store(), audit::VerifyOptions{});
  INFO(describe(verified));
  CHECK(verified.clean());
  return plan;
}

TEST_CASE(
    "cases of debarkation version 2 move straight to the shipped version in one plan and verify "
    "clean",
    "[migration][apply][shipped]") {
  Version2Folder folder;
  ScenarioLoad loaded = load_scenario_file(folder.dir() + "/pmi-debarkation.test.yaml");
  INFO(format_diagnostics(loaded.diagnostics));
  REQUIRE(loaded.ok());
  const SavedPlan plan = straight_to_shipped(*loaded.file, {}, {3, 4, 1});
  CHECK(plan.moving() == static_cast<int64_t>(plan.cases.size()));  // every step kept by name
}

TEST_CASE(
    "cases of victim care version 2 move straight to the shipped version in one plan and verify "
    "clean",
    "[migration][apply][shipped]") {
  ScenarioLoad loaded =
      load_scenario_file(kSource + "/tests/data/migrate/tppo-victim-care.v2.test.yaml");
  INFO(format_diagnostics(loaded.diagnostics));
  REQUIRE(loaded.ok());
  const SavedPlan plan =
      straight_to_shipped(*loaded.file,
                          {"workflows/tvc-health.yaml", "workflows/tvc-psychosocial.yaml",
                           "workflows/tvc-legal.yaml", "workflows/tvc-tracing.yaml"},
                          {3, 4});
  CHECK(plan.moving() > 1);
  bool to_consent = false;
  for (const auto& c : plan.cases) to_consent = to_consent || c.to_state == "consent";
  CHECK(to_consent);  // a screened case is asked for consent first
}

// A small procedure pair for the checks below: version 2 renames a state,
// a field, and splits a state by age.
const char kV1[] = R"(sop: intake
version: 1
title: Intake
roles: [staff]
fields:
  age: {type: int}
  risk: {type: enum, values: [low, high]}
  name: {type: string, pii: true}
states:
  arrived: {initial: true}
  waiting_room: {deadline: 2d}
  assessment: {}
  closed: {terminal: true}
transitions:
  - {event: wait, from: arrived, to: waiting_room, roles: [staff]}
  - {event: assess, from: [arrived, waiting_room], to: assessment, roles: [staff]}
  - {event: close, from: assessment, to: closed, roles: [staff]}
)";

const char kV2[] = R"(sop: intake
version: 2
title: Intake
roles: [staff]
fields:
  age: {type: int}
  risk_level: {type: enum, values: [low, medium, high]}
  name: {type: string, pii: true}
states:
  arrived: {initial: true}
  queue: {deadline: 3d}
  child_assessment: {}
  adult_assessment: {}
  closed: {terminal: true}
transitions:
  - {event: wait, from: arrived, to: queue, roles: [staff]}
  - {event: assess, from: [arrived, queue], to: adult_assessment, roles: [staff]}
  - {event: finish, from: [child_assessment, adult_assessment], to: closed, roles: [staff]}
migrate:
  from: 1
  states:
    waiting_room: queue
    assessment:
      - to: child_assessment
        when: has(age) and age < 18
      - to: adult_assessment
  fields:
    risk_level: risk
)";

struct Small {
  testing::TestDatabase db;
  std::shared_ptr<testing::TestClock> clock =
      std::make_shared<testing::TestClock>(DateTime{1772438400});  // 2026-03-02
  std::unique_ptr<Engine> engine;
  std::vector<std::string> ids;

  explicit Small(testing::Backend backend) : db(backend) {
    StoreOptions options;
    options.create = true;
    engine = std::make_unique<Engine>(open_store(db.location(), options), clock);
    Engine::add_first_administrator(engine->store(), "admin", "Admin Contoh");
    engine->add_staff("admin", StaffMember{"pia", "Pia Contoh", {"policy"}, true});
    engine->add_staff("admin", StaffMember{"budi", "Budi Contoh", {"staff"}, true});
    engine->publish_source(kV1, "v1.yaml", "admin", false);
    for (const char* age : {"12", "40", "30"}) {
      OpenRequest open;
      open.sop_id = "intake";
      open.actor = "budi";
      open.inputs = {{"age", age}, {"risk", "high"}, {"name", "Orang Contoh"}};
      ids.push_back(engine->open_case(open).after.id);
    }
    clock->advance(3600);
    advance(ids[0], "assess");
    advance(ids[1], "assess");
    advance(ids[2], "wait");
    clock->advance(3600);
    engine->publish_source(kV2, "v2.yaml", "admin", false);
  }
  void advance(const std::string& id, const std::string& event) {
    StepRequest r;
    r.case_id = id;
    r.event = event;
    r.actor = "budi";
    engine->advance(r);
  }
};

TEST_CASE("publishing says which versions migrate: from: names that were never published",
          "[migration][publish]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  StoreOptions options;
  options.create = true;
  Engine engine(open_store(db.location(), options),
                std::make_shared<testing::TestClock>(DateTime{1772438400}));
  Engine::add_first_administrator(engine.store(), "admin", "Admin Contoh");
  const auto v3_from = [](const std::string& from) {
    std::string yaml = kV2;
    yaml.replace(yaml.find("version: 2"), 10, "version: 3");
    yaml.replace(yaml.find("  from: 1\n"), 10, "  from: " + from + "\n");
    return yaml;
  };
  SECTION("a first publication, of a version naming one never published: nothing to say") {
    const PublishedProcedure v2 = engine.publish_source(kV2, "v2.yaml", "admin", false);
    CHECK(v2.migrate_from_unpublished.empty());
    CHECK(v2.migrate_from_published.empty());
    CHECK(engine.store().current_procedure("intake")->version == 2);
  }
  SECTION("said again of the same text published again") {
    engine.publish_source(kV1, "v1.yaml", "admin", false);
    CHECK(engine.publish_source(v3_from("2"), "v3.yaml", "admin", false).migrate_from_unpublished ==
          std::vector<int>{2});
    CHECK(engine.publish_source(v3_from("2"), "v3.yaml", "admin", false).migrate_from_unpublished ==
          std::vector<int>{2});
  }
  SECTION("of two named, the one never published, with the versions that were") {
    engine.publish_source(kV1, "v1.yaml", "admin", false);
    const PublishedProcedure v3 =
        engine.publish_source(v3_from("[1, 2]"), "v3.yaml", "admin", false);
    CHECK(v3.version == 3);
    CHECK(v3.migrate_from_unpublished == std::vector<int>{2});
    CHECK(v3.migrate_from_published == std::vector<int>{1});
  }
  SECTION("a version named twice, told once") {
    engine.publish_source(kV1, "v1.yaml", "admin", false);
    const PublishedProcedure v3 =
        engine.publish_source(v3_from("[2, 1, 2]"), "v3.yaml", "admin", false);
    CHECK(v3.migrate_from_unpublished == std::vector<int>{2});
    CHECK(v3.migrate_from_published == std::vector<int>{1});
  }
  SECTION("every version named is published: nothing to say") {
    engine.publish_source(kV1, "v1.yaml", "admin", false);
    const PublishedProcedure v2 = engine.publish_source(kV2, "v2.yaml", "admin", false);
    CHECK(v2.migrate_from_unpublished.empty());
    CHECK(v2.migrate_from_published.empty());
    CHECK(engine.publish_source(kV1, "v1.yaml", "admin", false).migrate_from_unpublished.empty());
  }
}

TEST_CASE("apply moves cases by the plan and replay checks each migration row", "[migration][apply]") {
  Small t(GENERATE(from_range(testing::store_backends())));
  const std::string document = plan_document(*t.engine, "intake", 2);
  propose_migration(*t.engine, "admin", document);
  approve_migration(*t.engine, "pia", plan_sha256(document));
  const ApplyReport r = apply_migration(*t.engine, "pia", document);
  CHECK(r.migrated == 3);
  const CaseRecord child = *t.engine->store().find_case(t.ids[0]);
  const CaseRecord adult = *t.engine->store().find_case(t.ids[1]);
  const CaseRecord queued = *t.engine->store().find_case(t.ids[2]);
  CHECK(child.state == "child_assessment");
  CHECK(adult.state == "adult_assessment");
  CHECK(queued.state == "queue");
  // The deadline is the new state's, counted from when the case entered it.
  REQUIRE(queued.due_at);
  CHECK(queued.due_at->seconds == 1772438400 + 3600 + 3 * 86400);
  // The personal value keeps its digest; the renamed field takes the value.
  const std::vector<LogEntry> history = t.engine->store().history(t.ids[2]);
  const LogEntry& row = history.back();
  CHECK(row.kind == LogKind::kMigration);
  CHECK(row.from_state == "waiting_room");
  CHECK(row.to_state == "queue");
  bool renamed = false, left = false;
  for (const auto& c : row.changes) {
    renamed = renamed || (c.after.field == "risk_level" && c.after.text == "high");
    left = left || (c.before.field == "risk" && c.after.missing);
    CHECK(c.after.field != "name");
  }
  CHECK(renamed);
  CHECK(left);
  // The case runs under version 2 from here.
  t.advance(t.ids[2], "assess");
  const audit::VerifyReport clean = audit::verify(t.engine->store(), audit::VerifyOptions{});
  INFO(describe(clean));
  CHECK(clean.clean());
}

TEST_CASE("verify finds a migration row that does not match the plan or applies no approved plan",
          "[migration][apply]") {
  Small t(GENERATE(from_range(testing::store_backends())));
  const std::string document = plan_document(*t.engine, "intake", 2);
  const SavedPlan plan = read_plan(document);
  std::string v2;
  for (const auto& p : t.engine->procedures())
    if (p.version == 2) v2 = p.sha256;
  // A migration row written behind the engine's back: an unapproved plan,
  // and the child landing in the adult state.
  const CaseRecord held = *t.engine->store().find_case(t.ids[0]);
  CaseRecord after = held;
  after.sha256 = v2;
  after.state = "adult_assessment";
  after.version = held.version + 1;
  const ProcedurePtr next = t.engine->procedure(v2);
  const ProcedurePtr old = t.engine->procedure(held.sha256);
  std::vector<Value> data = Engine::decode_data(*old, held);
  std::vector<Value> landed(next->fields.size());
  landed[static_cast<size_t>(next->field_index("age"))] = data[static_cast<size_t>(old->field_index("age"))];
  landed[static_cast<size_t>(next->field_index("risk_level"))] = data[static_cast<size_t>(old->field_index("risk"))];
  landed[static_cast<size_t>(next->field_index("name"))] = data[static_cast<size_t>(old->field_index("name"))];
  MovedValues moved = moved_values(*next, held, landed);
  after.data = moved.data;
  LogEntry e;
  e.kind = LogKind::kMigration;
  e.event = kMigrationEvent;
  e.sha256 = v2;
  e.from_state = held.state;
  e.to_state = "adult_assessment";
  e.from_status = e.to_status = "active";
  e.actor = "pia";
  e.role = kMigrationRole;
  e.occurred_at = e.recorded_at = t.clock->now();
  e.inputs = {{"plan", plan.sha256}, {"from_version", "1"}, {"from_sha256", held.sha256}, {"to_version", "2"},
              {"planned_at", format_datetime(plan.made_at)}};
  e.changes = moved.changes;
  t.engine->store().append_held(held, after, e);
  const audit::VerifyReport report = audit::verify(t.engine->store(), audit::VerifyOptions{});
  INFO(describe(report));
  bool unapproved = false, differs = false;
  for (const auto& f : report.findings) {
    unapproved = unapproved || (f.kind == audit::FindingKind::kStepRefused &&
                                f.message.find("not proposed and approved") != std::string::npos);
    differs = differs || (f.kind == audit::FindingKind::kStepDiffers &&
                          f.message.find("'child_assessment'") != std::string::npos);
  }
  CHECK(unapproved);
  CHECK(differs);
}

TEST_CASE("a plan document that is not one is refused with what is wrong", "[migration][apply]") {
  CHECK_THROWS_WITH(read_plan("{"), Catch::Contains("this is not a migration plan"));
  CHECK_THROWS_WITH(read_plan(R"({"format":"x"})"), Catch::Contains("its format is 'x'"));
  CHECK_THROWS_WITH(read_plan(R"({"format":"sopir-migration-plan-1","sop":"a"})"),
                    Catch::Contains("the plan's to_version is missing or not a whole number"));
  const std::string doc =
      R"({"format":"sopir-migration-plan-1","sop":"a","to_version":2,"to_sha256":"ab","made_at":"2026-06-01T00:00:00Z",)"
      R"("cases":[{"case":"K7F-3QX","from_version":1,"from_sha256":"cd","case_version":3,"head_hash":"ef","moves":true,"to_state":"b"}]})";
  const SavedPlan plan = read_plan(doc);
  CHECK(plan.sha256 == plan_sha256(doc));
  CHECK(plan.cases.at(0).case_version == 3);
  CHECK(plan.from_versions() == "1");
}

TEST_CASE("a plan document that is not one is told in the process's language",
          "[migration][apply]") {
  // migrate propose and apply read the file without a language: --lang id
  // sets the process's.
  set_message_language("id");
  std::string told;
  try {
    read_plan(R"({"format":"x"})");
  } catch (const Error& e) {
    told = e.what();
  }
  set_message_language("en");
  CHECK(told.find("ini bukan rencana migrasi sopir ini: formatnya 'x'") != std::string::npos);
}

TEST_CASE("a version not published here: publish it first, or it can no longer be",
          "[migration][apply]") {
  // Above every published version: its file can still be published.
  CHECK(unpublished_version_message("intake", 4, {3, 1, 2}, "en") ==
        "'intake' has no version 4 published in this database (published: 1, 2, 3); publish its "
        "file first: "
        "sopir sop publish FILE");
  // Below the newest: sop publish would refuse it, so it does not say to.
  CHECK(unpublished_version_message("intake", 2, {1, 3}, "en") ==
        "'intake' has no version 2 published in this database (published: 1, 3), and it can no "
        "longer be: a new "
        "version is numbered above the newest, 3");
  CHECK(
      unpublished_version_message("intake", 2, {1, 3}, "id").find("tidak dapat diterbitkan lagi") !=
      std::string::npos);
}

}  // namespace
}  // namespace sopir

namespace sopir {
namespace {

TEST_CASE("a scenario moves its case to a newer version with a migrate: step", "[migration][apply][scenario]") {
  ScenarioLoad loaded = load_scenario_file(kSource + "/tests/data/migrate/tppo-victim-care.v2.test.yaml");
  INFO(format_diagnostics(loaded.diagnostics));
  REQUIRE(loaded.ok());
  const ScenarioFile& file = *loaded.file;
  REQUIRE(file.scenarios.size() == 3);
  const ScenarioStep& step = file.scenarios[0].steps[0];
  CHECK(step.kind == StepKind::kMigrate);
  REQUIRE(step.migrate_to);
  CHECK(step.migrate_to->version == 3);
  CHECK_FALSE(step.migrate_linked.empty());  // version 3's service tracks, found beside it
  // The second scenario moves its case on to the shipped version 5.
  const ScenarioStep& onward = file.scenarios[1].steps.back();
  CHECK(onward.kind == StepKind::kMigrate);
  REQUIRE(onward.migrate_to);
  CHECK(onward.migrate_to->version == 5);
  // The third moves its case from version 2 straight to the shipped version.
  const ScenarioStep& straight = file.scenarios[2].steps[0];
  REQUIRE(straight.migrate_to);
  CHECK(straight.migrate_to->version == 5);
  const ScenarioReport report = run_scenarios(file);
  for (const auto& r : report.results) {
    INFO(r.name << ": " << (r.differences.empty() ? "" : r.differences[0]));
    CHECK(r.passed);
  }
  // A migrate: to a version that is not newer is an error in the test file.
  const std::string text = read_text(kSource + "/tests/data/migrate/tppo-victim-care.v2.test.yaml");
  std::string same = text;
  const std::string target = "tppo-victim-care.v3.yaml";
  for (size_t at = same.find(target); at != std::string::npos; at = same.find(target, at))
    same.replace(at, target.size(), "tppo-victim-care.v2.yaml");
  ScenarioLoad bad = load_scenario_string(same, kSource + "/tests/data/migrate/same.test.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(format_diagnostics(bad.diagnostics), Catch::Contains("must be a newer version (above 2)"));
}

}  // namespace
}  // namespace sopir

namespace sopir {
namespace {

// A case's own history across two migration rows: four-eyes reads the events
// fired under version 1 by the names of version 3, through the events: of each
// section in turn (Engine::fired_events), as audit replay does (carry_over).
TEST_CASE("four-eyes holds across two migrations that rename the prepared event",
          "[migration][apply][scenario]") {
  const ScenarioFolder folder;
  const std::string head =
      "sop: grant-review\ntitle: Grant review\nroles: [staff]\n"
      "states:\n  requested: {initial: true}\n  prepared: {}\n  granted: {terminal: true}\n";
  folder.write("v1.yaml",
               "version: 1\n" + head +
                   "transitions:\n"
                   "  - {event: prepare, from: requested, to: prepared, roles: [staff]}\n"
                   "  - {event: approve, from: prepared, to: granted, roles: [staff], "
                   "distinct_from: [prepare]}\n");
  folder.write("v2.yaml", "version: 2\n" + head +
                              "transitions:\n"
                              "  - {event: draft, from: requested, to: prepared, roles: [staff]}\n"
                              "  - {event: approve, from: prepared, to: granted, roles: [staff], "
                              "distinct_from: [draft]}\n"
                              "migrate:\n  from: 1\n  events: {prepare: draft}\n");
  folder.write("v3.yaml",
               "version: 3\n" + head +
                   "transitions:\n"
                   "  - {event: write_up, from: requested, to: prepared, roles: [staff]}\n"
                   "  - {event: approve, from: prepared, to: granted, roles: [staff], "
                   "distinct_from: [write_up]}\n"
                   "migrate:\n  from: 2\n  events: {draft: write_up}\n");
  // Who prepared it may not approve it on version 3; someone else may.
  const std::string by = GENERATE(as<std::string>{}, "sari", "pia");
  folder.write("v1.test.yaml",
               "procedure: v1.yaml\nclock: 2026-03-02T08:00:00Z\n"
               "staff:\n  - {id: sari, name: Sari Contoh, roles: [staff]}\n  - {id: pia, name: Pia "
               "Contoh, roles: [staff]}\n"
               "scenarios:\n  - name: prepared under version 1, approved under version 3\n"
               "    open: {as: sari}\n    steps:\n"
               "      - {event: prepare, as: sari, expect: {state: prepared}}\n"
               "      - {migrate: v2.yaml, expect: {state: prepared}}\n"
               "      - {migrate: v3.yaml, expect: {state: prepared}}\n"
               "      - {event: approve, as: " +
                   by + ", expect: " +
                   (by == "sari" ? "{refused: four-eyes, state: prepared}" : "{state: granted}") +
                   "}\n");
  const ScenarioReport report = folder.run("v1.test.yaml");
  REQUIRE(report.results.size() == 1);
  INFO((report.results[0].differences.empty() ? "" : report.results[0].differences[0]));
  CHECK(report.results[0].passed);
}

}  // namespace
}  // namespace sopir

namespace sopir {
namespace {

// A scenario's migrate: step for a case its version declares not movable:
// the plan moves nothing, so nothing is proposed, and the step fails saying
// why the case stayed.
TEST_CASE("a scenario's migrate: step says why a case that stays did not move",
          "[migration][apply][scenario]") {
  const ScenarioFolder folder;
  const std::string head =
      "sop: grant-review\ntitle: Grant review\nroles: [staff]\n"
      "states:\n  requested: {initial: true}\n  prepared: {}\n  granted: {terminal: true}\n"
      "transitions:\n"
      "  - {event: prepare, from: requested, to: prepared, roles: [staff]}\n"
      "  - {event: approve, from: prepared, to: granted, roles: [staff]}\n";
  folder.write("v1.yaml", "version: 1\n" + head);
  folder.write("v2.yaml",
               "version: 2\n" + head +
                   "migrate:\n  from: 1\n  states:\n    prepared: {stays: approved on paper in "
                   "version 1}\n");
  folder.write("v1.test.yaml",
               "procedure: v1.yaml\nclock: 2026-03-02T08:00:00Z\n"
               "staff:\n  - {id: sari, name: Sari Contoh, roles: [staff]}\n"
               "scenarios:\n  - name: a prepared case stays on version 1\n"
               "    open: {as: sari}\n    steps:\n"
               "      - {event: prepare, as: sari, expect: {state: prepared}}\n"
               "      - {migrate: v2.yaml, expect: {state: prepared}}\n");
  const ScenarioReport report = folder.run("v1.test.yaml");
  REQUIRE(report.results.size() == 1);
  CHECK_FALSE(report.results[0].passed);
  REQUIRE(report.results[0].differences.size() == 1);
  CHECK_THAT(report.results[0].differences[0],
             Catch::Contains(
                 "the case did not move to version 2: state 'prepared' is declared not movable: "
                 "approved on paper in version 1"));
}

}  // namespace
}  // namespace sopir
