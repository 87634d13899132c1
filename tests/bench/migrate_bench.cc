// Planning a migration (issue #17: planning 100,000 cases under 10 s):
//   1. plan_case alone, in memory: tppo-victim-care version 2 cases spread
//      over every state a case can be in, planned to version 3 (as shipped
//      before version 4, kept in tests/data/migrate), beside decoding the
//      same cases' values (what any plan must do first) in the same run;
//   2. `migrate plan` end to end on an SQLite database: N cases opened under
//      version 2, version 3 published, plan_migration over all of them (the
//      cases read, the log scanned for when each entered its state, every
//      case planned) and the plan written as JSON. Target: N = 100,000 in
//      under 10 s.
//   3. `migrate apply` beside `case advance --batch` on the same cases in
//      the same run (issue #17: apply >= 0.5 x the batch's throughput): one
//      database copied twice; on one every case is moved by an approved
//      plan (apply_migration, batches of 500), on the other every case takes
//      one step (record_screening) in batches of 500 rows, each batch one
//      all-or-nothing transaction as `case advance --batch` runs it
//      (Engine::run_batch, Engine::advance per row).
//
//   migrate_bench [--quick]     (--quick: 5,000 cases, figures only)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "sopir/engine.h"
#include "sopir/loader.h"
#include "sopir/migration.h"
#include "sopir/migration_apply.h"
#include "sopir/migration_plan.h"
#include "sopir/store.h"

using namespace sopir;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

const std::string kSource = SOPIR_SOURCE_DIR;

// Cases are opened and planned at one fixed time: 2026-06-01.
class FixedClock : public Clock {
 public:
  DateTime now() override { return DateTime{1780272000}; }
};

ProcedurePtr load(const std::string& path) {
  LoadResult r = load_procedure_file(path);
  if (!r.ok()) {
    std::fprintf(stderr, "%s", format_diagnostics(r.diagnostics).c_str());
    std::exit(1);
  }
  return r.procedure;
}

void in_memory(int cases) {
  ProcedurePtr old = load(kSource + "/tests/data/migrate/tppo-victim-care.v2.yaml");
  ProcedurePtr next = load(kSource + "/tests/data/migrate/tppo-victim-care.v3.yaml");
  const std::vector<bool> reached = reachable_states(*old);
  std::vector<int> states;
  for (size_t s = 0; s < old->states.size(); ++s)
    if (reached[s] && !old->states[s].terminal) states.push_back(static_cast<int>(s));
  std::vector<CaseSnapshot> snapshots(static_cast<size_t>(cases));
  for (int i = 0; i < cases; ++i) {
    CaseSnapshot& c = snapshots[static_cast<size_t>(i)];
    c.state = states[static_cast<size_t>(i) % states.size()];
    c.data.assign(old->fields.size(), Value{});
    c.data[static_cast<size_t>(old->field_index("full_name"))] = Value{std::string("Orang Contoh")};
    c.data[static_cast<size_t>(old->field_index("age"))] = Value{int64_t{18 + i % 50}};
    c.data[static_cast<size_t>(old->field_index("is_child"))] = Value{false};
  }
  const DateTime at{1764547200};
  // Baseline: formatting and parsing each case's values once.
  auto start = std::chrono::steady_clock::now();
  size_t sink = 0;
  for (const auto& c : snapshots)
    for (size_t f = 0; f < c.data.size(); ++f)
      if (!is_missing(c.data[f])) sink += format_value(c.data[f]).size();
  const double baseline = seconds_since(start);
  start = std::chrono::steady_clock::now();
  int moving = 0;
  const FieldPlan fields = field_plan(*old, *next);
  for (const auto& c : snapshots) moving += plan_case(*old, *next, fields, c, at, at).moves ? 1 : 0;
  const double planned = seconds_since(start);
  std::printf("plan_case, in memory: %d cases over %zu states in %.3f s (%.0f cases/s; %d move); "
              "baseline, values formatted once: %.3f s (%zu)\n",
              cases, states.size(), planned, cases / planned, moving, baseline, sink);
}

void end_to_end(int cases) {
  char dir_template[] = "/tmp/sopir-migrate-bench-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) std::exit(1);
  const std::string path = std::string(dir) + "/bench.db";
  StoreOptions options;
  options.create = true;
  options.synchronous_full = false;  // building only
  auto start = std::chrono::steady_clock::now();
  {
    Engine engine(open_sqlite_store(path, options), std::make_shared<FixedClock>());
    engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, RegistryStamp{"admin", DateTime{0}});
    engine.store().add_staff({"cw", "Case Worker Contoh", {"case_worker"}, true}, RegistryStamp{"admin", DateTime{0}});
    for (const char* sop : {"referral", "transfer", "tvc-health", "tvc-psychosocial", "tvc-legal", "tvc-tracing"})
      engine.publish(kSource + "/workflows/" + sop + ".yaml", "admin", false);
    engine.publish(kSource + "/tests/data/migrate/tppo-victim-care.v2.yaml", "admin", false);
    const int batch = 5000;
    for (int first = 0; first < cases; first += batch) {
      engine.store().transaction([&] {
        Engine::Opener opener(engine);
        for (int c = first; c < std::min(cases, first + batch); ++c) {
          OpenRequest r;
          r.sop_id = "tppo-victim-care";
          r.actor = "cw";
          r.inputs = {{"full_name", "Orang Contoh " + std::to_string(c)},
                      {"is_child", "false"},
                      {"referral_source", "ngo"},
                      {"age", std::to_string(18 + c % 50)}};
          opener.open(r);
        }
      });
    }
    engine.publish(kSource + "/tests/data/migrate/tppo-victim-care.v3.yaml", "admin", false);
  }
  const double built = seconds_since(start);
  StoreOptions reading;
  Engine engine(open_sqlite_store(path, reading), std::make_shared<FixedClock>());
  int to = 0;
  for (const auto& p : engine.procedures())
    if (p.sop_id == "tppo-victim-care") to = std::max(to, p.version);
  start = std::chrono::steady_clock::now();
  const MigrationPlan plan = plan_migration(engine, "tppo-victim-care", to);
  const double read_and_planned = seconds_since(start);
  const std::string json = plan_json(plan);
  const double planned = seconds_since(start);
  std::printf("migrate plan, SQLite, end to end: %zu cases planned and written as JSON (%zu bytes) in %.3f s "
              "(%.0f cases/s; %lld move; %.3f s reading and planning, %.3f s the JSON); built in %.1f s\n",
              plan.cases.size(), json.size(), planned, plan.cases.size() / planned,
              static_cast<long long>(plan.moving()), read_and_planned, planned - read_and_planned, built);
  if (cases >= 100000) std::printf("  target (100,000 cases under 10 s): %s\n", planned < 10 ? "met" : "NOT met");
  std::remove(path.c_str());
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  rmdir(dir);
}

// Apply against a batch of steps on copies of one database (see 3. above).
void apply_beside_batch(int cases) {
  char dir_template[] = "/tmp/sopir-migrate-apply-bench-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) std::exit(1);
  const std::string base = std::string(dir) + "/base.db";
  StoreOptions building;
  building.create = true;
  building.synchronous_full = false;
  std::vector<std::string> ids;
  {
    Engine engine(open_sqlite_store(base, building), std::make_shared<FixedClock>());
    engine.store().add_staff({"admin", "Admin Contoh", {"admin", "policy"}, true}, RegistryStamp{"admin", DateTime{0}});
    engine.store().add_staff({"pia", "Pia Contoh", {"policy"}, true}, RegistryStamp{"admin", DateTime{0}});
    engine.store().add_staff({"cw", "Case Worker Contoh", {"case_worker"}, true}, RegistryStamp{"admin", DateTime{0}});
    for (const char* sop : {"referral", "transfer", "tvc-health", "tvc-psychosocial", "tvc-legal", "tvc-tracing"})
      engine.publish(kSource + "/workflows/" + sop + ".yaml", "admin", false);
    engine.publish(kSource + "/tests/data/migrate/tppo-victim-care.v2.yaml", "admin", false);
    for (int first = 0; first < cases; first += 5000) {
      engine.store().transaction([&] {
        Engine::Opener opener(engine);
        for (int c = first; c < std::min(cases, first + 5000); ++c) {
          OpenRequest r;
          r.sop_id = "tppo-victim-care";
          r.actor = "cw";
          r.inputs = {{"full_name", "Orang Contoh " + std::to_string(c)},
                      {"is_child", "false"},
                      {"referral_source", "ngo"},
                      {"age", std::to_string(18 + c % 50)}};
          ids.push_back(opener.open(r).after.id);
        }
      });
    }
    engine.publish(kSource + "/tests/data/migrate/tppo-victim-care.v3.yaml", "admin", false);
  }
  const std::string moved = std::string(dir) + "/apply.db", stepped = std::string(dir) + "/batch.db";
  std::filesystem::copy_file(base, moved);
  std::filesystem::copy_file(base, stepped);
  StoreOptions writing;  // as the sopir program opens a file: synchronous FULL
  double apply_seconds = 0, batch_seconds = 0;
  int64_t migrated = 0;
  size_t stepped_rows = 0;
  {
    Engine engine(open_sqlite_store(moved, writing), std::make_shared<FixedClock>());
    int to = 0;
    for (const auto& p : engine.procedures())
      if (p.sop_id == "tppo-victim-care") to = std::max(to, p.version);
    const std::string document = plan_json(plan_migration(engine, "tppo-victim-care", to));
    propose_migration(engine, "admin", document);
    approve_migration(engine, "pia", plan_sha256(document));
    const auto start = std::chrono::steady_clock::now();
    migrated = apply_migration(engine, "admin", document).migrated;
    apply_seconds = seconds_since(start);
  }
  {
    Engine engine(open_sqlite_store(stepped, writing), std::make_shared<FixedClock>());
    const auto start = std::chrono::steady_clock::now();
    for (size_t first = 0; first < ids.size(); first += 500) {
      const size_t n = std::min<size_t>(500, ids.size() - first);
      const BatchOutcome out = engine.run_batch(n, false, [&](size_t i) {
        StepRequest r;
        r.case_id = ids[first + i];
        r.event = "record_screening";
        r.actor = "cw";
        r.inputs = {{"trafficking_status", "confirmed_victim"},
                    {"deciding_organisation", "police"},
                    {"exploitation_type", "domestic_servitude"},
                    {"means_of_control", "withheld_wages"}};
        engine.advance(r);
      });
      if (!out.committed) {
        std::fprintf(stderr, "the batch was refused: %s\n", out.errors[0] ? out.errors[0]->message().c_str() : "?");
        std::exit(1);
      }
      stepped_rows += out.written();
    }
    batch_seconds = seconds_since(start);
  }
  const double apply_rate = migrated / apply_seconds, batch_rate = stepped_rows / batch_seconds;
  std::printf("migrate apply, SQLite, synchronous FULL: %lld cases moved in %.3f s (%.0f cases/s); "
              "case advance --batch on the same cases, same run: %zu steps in %.3f s (%.0f steps/s); "
              "ratio %.2f (target >= 0.5: %s)\n",
              static_cast<long long>(migrated), apply_seconds, apply_rate, stepped_rows, batch_seconds, batch_rate,
              apply_rate / batch_rate, apply_rate >= 0.5 * batch_rate ? "met" : "NOT met");
  for (const std::string& path : {base, moved, stepped})
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  rmdir(dir);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int cases = quick ? 5000 : 100000;
  in_memory(cases);
  end_to_end(cases);
  apply_beside_batch(quick ? 2000 : 20000);
  return 0;
}
