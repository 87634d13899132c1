// Audit benchmark: builds a database through the Engine (100,000 cases and
// 1,000,000 log rows; --quick: 10,000 and 100,000), then measures
//   - verify's chain part in rows/s beside raw SHA-256 of the same bytes
//     (prev_hash || stored record of every row; the baseline, measured
//     in the same run),
//   - `audit log --case` latency,
//   - the report's time.
// Targets: chain >= 1,000,000 rows/s, log --case < 50 ms, report < 10 s.
//
// With the PostgreSQL test server (SOPIR_TEST_PG), the chain part is also
// measured on a server database holding the same rows (issue #13: at least
// 0.5x the SQLite figure), alternated with SQLite in the same run, beside
// the least work of reading them: the same four columns fetched from the
// server, nothing checked. The server database is made by the same engine
// calls for the registry (staff, the procedure: the same bytes, checked),
// then the case rows of the log and the cases table copied byte for byte
// (one INSERT per 1,000 rows). Without SOPIR_TEST_PG that part says so and
// is left out.
#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "sopir/audit.h"
#include "sopir/engine.h"
#include "store/pg_connection.h"

namespace {

using namespace sopir;
using Timer = std::chrono::steady_clock;

constexpr const char* kLoop = R"(sop: bench-loop
version: 1
title: Bench loop
roles: [worker]
fields:
  count: {type: int}
states:
  a: {label: A, initial: true, deadline: 1d}
  b: {label: B, deadline: 2d}
  done: {label: Done, terminal: true}
transitions:
  - {event: go, from: a, to: b, roles: [worker], accepts: [count]}
  - {event: back, from: b, to: a, roles: [worker]}
  - {event: finish, from: b, to: done, roles: [worker]}
)";

class StepClock : public sopir::Clock {
 public:
  DateTime now() override { return DateTime{t_ += 37}; }

 private:
  int64_t t_ = 1767225600;  // 2026-01-01
};

double seconds_since(Timer::time_point start) {
  return std::chrono::duration<double>(Timer::now() - start).count();
}


// The staff and the procedure, through the engine (the log's registry rows).
void set_up_registry(Engine& engine) {
  engine.store().add_staff({"admin", "Admin", {"admin"}, true}, RegistryStamp{"admin", DateTime{0}});
  for (int i = 0; i < 8; ++i)
    engine.store().add_staff({"w" + std::to_string(i), "Worker " + std::to_string(i), {"worker"}, true},
                             RegistryStamp{"admin", DateTime{0}});
  engine.publish_source(kLoop, "loop.yaml", "admin", false);
}

std::string with_database(const std::string& url, const std::string& name) {
  const size_t slash = url.rfind('/');
  const size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

// Rows of the SQLite query `select` (all columns as text or NULL) into
// PostgreSQL's `insert_head` (... VALUES), `batch` rows per statement.
int64_t copy_rows(SQLite::Database& from, const std::string& select, pg::Connection& to,
                  const std::string& insert_head, int batch) {
  SQLite::Statement q(from, select);
  const int columns = q.getColumnCount();
  std::vector<pg::Param> params;
  std::string values;
  int64_t copied = 0;
  auto flush = [&] {
    if (params.empty()) return;
    to.exec(insert_head + values, params);
    params.clear();
    values.clear();
  };
  while (q.executeStep()) {
    values += values.empty() ? "(" : ", (";
    for (int c = 0; c < columns; ++c) {
      params.push_back(q.getColumn(c).isNull() ? pg::Param{} : pg::Param{q.getColumn(c).getString()});
      values += (c ? ", $" : "$") + std::to_string(params.size());
    }
    values += ")";
    if (++copied % batch == 0) flush();
  }
  flush();
  return copied;
}

// The same four columns verify's chain part reads, fetched from the server
// in batches through a cursor, nothing parsed or checked: rows/s.
double fetch_floor(const std::string& url, int64_t& rows) {
  pg::Connection conn(url, 10);
  const auto start = Timer::now();
  conn.exec("BEGIN");
  conn.exec("DECLARE floor_scan NO SCROLL CURSOR FOR SELECT seq, record, prev_hash, hash FROM transitions ORDER BY seq");
  rows = 0;
  int64_t bytes = 0;
  for (;;) {
    const pg::Result batch = conn.exec("FETCH 2000 FROM floor_scan");
    for (int i = 0; i < batch.rows(); ++i) bytes += static_cast<int64_t>(batch.text(i, 1).size());
    rows += batch.rows();
    if (batch.rows() < 2000) break;
  }
  conn.exec("COMMIT");
  return bytes > 0 ? rows / seconds_since(start) : 0;
}

// The chain part on the server beside SQLite, alternated; returns 0, or 1
// when a check failed.
int postgres_part(const std::string& admin_url, const std::string& sqlite_path, bool quick) {
  const std::string database = "sopir_audit_" + std::to_string(::getpid());
  pg::Connection admin(admin_url, 10);
  admin.exec("CREATE DATABASE " + database);
  int rc = 0;
  try {
    const std::string url = with_database(admin_url, database);
    auto copy_start = Timer::now();
    {
      StoreOptions create;
      create.create = true;
      Engine engine(open_store(url, create), std::make_shared<StepClock>());
      set_up_registry(engine);
    }
    SQLite::Database from(sqlite_path, SQLite::OPEN_READONLY);
    pg::Connection to(url, 10);
    // The registry rows the engine wrote must be SQLite's, byte for byte.
    const pg::Result registry = to.exec("SELECT seq, record, hash FROM transitions ORDER BY seq");
    SQLite::Statement first(from, "SELECT seq, record, hash FROM transitions WHERE case_id IS NULL ORDER BY seq");
    int same = 0;
    for (int i = 0; i < registry.rows() && first.executeStep(); ++i)
      same += registry.str(i, 0) == first.getColumn(0).getString() &&
              registry.str(i, 1) == first.getColumn(1).getString() &&
              registry.str(i, 2) == first.getColumn(2).getString();
    if (same != registry.rows() || first.executeStep())
      throw std::runtime_error("the server's registry rows are not SQLite's");
    // The copy is the bench's, not a step: the log's triggers (the actor
    // check, append-only) are left out for this session.
    to.exec("SET session_replication_role = replica");
    to.exec("BEGIN");
    const int64_t cases = copy_rows(
        from,
        "SELECT id, sop_id, sha256, state, status, data, version, last_seq, opened_at, due_at, hold_started, "
        "closure_reason, parent_case, head_hash, site FROM cases ORDER BY id",
        to,
        "INSERT INTO cases (id, sop_id, sha256, state, status, data, version, last_seq, opened_at, due_at, "
        "hold_started, closure_reason, parent_case, head_hash, site) VALUES ",
        500);
    const int64_t rows = copy_rows(
        from, "SELECT seq, record, prev_hash, hash FROM transitions WHERE case_id IS NOT NULL ORDER BY seq", to,
        "INSERT INTO transitions (seq, record, prev_hash, hash) OVERRIDING SYSTEM VALUE VALUES ", 1000);
    to.exec("SELECT setval(pg_get_serial_sequence('transitions', 'seq'), (SELECT max(seq) FROM transitions))");
    to.exec("COMMIT");
    to.exec("SET session_replication_role = DEFAULT");
    const double insert_s = seconds_since(copy_start);
    to.exec("VACUUM ANALYZE");
    const double copy_s = seconds_since(copy_start);

    StoreOptions ro;
    ro.read_only = true;
    auto sqlite_store = open_sqlite_store(sqlite_path, ro);
    auto pg_store = open_store(url, ro);
    audit::VerifyOptions chain_only;
    chain_only.replay = false;
    const int rounds = quick ? 2 : 3;
    std::vector<double> sqlite_rate, pg_rate, pg_cpu, floor_rate;
    int64_t verified = 0, floor_rows = 0;
    bool clean = true;
    for (int round = 0; round < rounds; ++round) {
      for (int side = 0; side < 2; ++side) {
        const bool on_server = (side + round) % 2 == 1;  // alternate which goes first
        const auto t = Timer::now();
        const std::clock_t cpu = std::clock();
        const auto report = audit::verify(on_server ? *pg_store : *sqlite_store, chain_only);
        const double s = seconds_since(t);
        clean = clean && report.clean();
        verified = report.rows;
        (on_server ? pg_rate : sqlite_rate).push_back(report.rows / s);
        if (on_server) pg_cpu.push_back(report.rows / (static_cast<double>(std::clock() - cpu) / CLOCKS_PER_SEC));
      }
      floor_rate.push_back(fetch_floor(url, floor_rows));
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf("  PostgreSQL (test server; %lld cases and %lld case rows copied beside the engine's registry "
                "rows in %.1f s, %.1f s of it VACUUM ANALYZE):\n",
                static_cast<long long>(cases), static_cast<long long>(rows), copy_s, copy_s - insert_s);
    std::printf("    verify chain, server: %10.0f rows/s median of %d (%s; client CPU: %.0f rows per CPU-second)\n",
                median(pg_rate), rounds, clean ? "clean" : "FINDINGS", median(pg_cpu));
    std::printf("    verify chain, SQLite: %10.0f rows/s median of %d, alternated with the server's\n",
                median(sqlite_rate), rounds);
    std::printf("    server / SQLite:      %10.2f  (target >= 0.5)\n", median(pg_rate) / median(sqlite_rate));
    std::printf("    floor: the same %lld rows' four columns fetched, nothing checked: %.0f rows/s (server / floor "
                "%.2f)\n",
                static_cast<long long>(floor_rows), median(floor_rate), median(pg_rate) / median(floor_rate));
    if (floor_rows != verified) throw std::runtime_error("the floor fetched another number of rows than verify read");
    if (!clean) rc = 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "audit_bench: PostgreSQL part: %s\n", e.what());
    rc = 1;
  }
  admin.exec("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string kept;  // --db PATH: build there once, keep it, reuse it (profiling)
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--db") == 0 && i + 1 < argc) kept = argv[++i];
    else {
      std::fprintf(stderr, "usage: audit_bench [--quick] [--db PATH]\n");
      return 2;
    }
  }
  const int cases = quick ? 10000 : 100000;
  const int steps_per_case = 10;  // open + 9 steps
  char dir_template[] = "/tmp/sopir-audit-bench-XXXXXX";
  const std::string dir = kept.empty() ? mkdtemp(dir_template) : "";
  const std::string path = kept.empty() ? dir + "/bench.db" : kept;
  const bool reuse = !kept.empty() && access(path.c_str(), F_OK) == 0;

  auto build_start = Timer::now();
  std::vector<std::string> ids;
  if (!reuse) {
    StoreOptions options;
    options.create = true;
    options.synchronous_full = false;
    Engine engine(open_sqlite_store(path, options), std::make_shared<StepClock>());
    set_up_registry(engine);
    const int batch = 1000;
    for (int first = 0; first < cases; first += batch) {
      engine.store().transaction([&] {
        for (int c = first; c < std::min(cases, first + batch); ++c) {
          const std::string actor = "w" + std::to_string(c % 8);
          const std::string id = engine.open_case({"bench-loop", actor, {}, "", std::nullopt}).after.id;
          ids.push_back(id);
          for (int s = 1; s < steps_per_case; ++s) {
            StepRequest r;
            r.case_id = id;
            r.actor = "w" + std::to_string((c + s) % 8);
            r.event = s % 2 == 1 ? "go" : (s == steps_per_case - 1 ? "finish" : "back");
            if (r.event == "go") r.inputs = {{"count", std::to_string(s)}};
            engine.advance(r);
          }
        }
      });
    }
  }
  const double build_s = seconds_since(build_start);
  StoreOptions ro;
  ro.read_only = true;
  auto store = open_sqlite_store(path, ro);
  if (reuse) {
    CaseFilter all;
    for (const CaseRecord& c : store->cases(all)) ids.push_back(c.id);
  }

  // Baseline: raw SHA-256 of the same bytes (prev_hash || record of every
  // row), copied out in batches and hashed back to back, so only hashing is
  // timed.
  double hash_s = 0;
  int64_t rows = 0, bytes = 0;
  {
    std::vector<std::string> batch;
    auto hash_batch = [&] {
      auto t = Timer::now();
      for (const std::string& b : batch) rows += sha256_hex(b).size() == 64;
      hash_s += seconds_since(t);
      batch.clear();
    };
    store->scan_chain([&](const ChainRow& r) {
      std::string b(r.prev_hash);
      b.append(r.record.data(), r.record.size());
      bytes += static_cast<int64_t>(b.size());
      batch.push_back(std::move(b));
      if (batch.size() == 8192) hash_batch();
      return true;
    });
    hash_batch();
  }
  audit::VerifyOptions chain_only;
  chain_only.replay = false;
  auto t = Timer::now();
  const std::clock_t cpu_start = std::clock();
  const auto report = audit::verify(*store, chain_only);
  const double chain_s = seconds_since(t);
  // On a shared machine wall time includes waiting for a core: CPU time too.
  const double chain_cpu_s = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  std::vector<double> latencies;
  for (size_t i = 0; i < 50; ++i) {
    LogFilter filter;
    filter.case_id = ids[(i * 7919) % ids.size()];
    std::ostringstream out;
    auto start = Timer::now();
    audit::export_log(*store, filter, audit::ExportOptions{}, out);
    latencies.push_back(seconds_since(start) * 1000);
  }
  std::sort(latencies.begin(), latencies.end());

  std::ostringstream sink;
  t = Timer::now();
  audit::ReportOptions report_options;
  report_options.now = DateTime{1767225600 + 86400 * 400};
  audit::report_text(*store, report_options, sink);
  const double report_s = seconds_since(t);

  t = Timer::now();
  const auto full = audit::verify(*store, audit::VerifyOptions{});
  const double full_s = seconds_since(t);

  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = -1;
  std::printf("audit_bench%s: %d cases, %lld log rows (built in %.1f s), load average %.2f\n",
              quick ? " --quick" : "", cases, static_cast<long long>(report.rows), build_s, load[0]);
  std::printf("  verify chain:      %10.0f rows/s  (%.2f s, %s; target >= 1,000,000)\n",
              report.rows / chain_s, chain_s, report.clean() ? "clean" : "FINDINGS");
  std::printf("  baseline SHA-256:  %10.0f rows/s  (raw SHA-256 of the same %lld rows' bytes, %.0f MB/s, "
              "%.2f s)\n",
              rows / hash_s, static_cast<long long>(rows), bytes / hash_s / 1e6, hash_s);
  std::printf("  ratio chain/SHA-256: %.2f\n", (report.rows / chain_s) / (rows / hash_s));
  std::printf("  verify chain, CPU: %10.0f rows per CPU-second (%.2f s CPU)\n", report.rows / chain_cpu_s,
              chain_cpu_s);
  std::printf("  verify full (chain + replay): %.2f s, %s\n", full_s, full.clean() ? "clean" : "FINDINGS");
  std::printf("  log --case:        median %.2f ms, max %.2f ms  (target < 50 ms)\n",
              latencies[latencies.size() / 2], latencies.back());
  std::printf("  report:            %.2f s  (target < 10 s)\n", report_s);
  std::fflush(stdout);
  store.reset();
  int rc = report.clean() && full.clean() ? 0 : 1;
  const char* server = std::getenv("SOPIR_TEST_PG");
  if (server && *server) {
    rc |= postgres_part(server, path, quick);
  } else {
    std::printf("  PostgreSQL: left out, SOPIR_TEST_PG is not set (scripts/pg-server.sh starts a test server)\n");
  }
  if (!kept.empty()) return rc;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  rmdir(dir.c_str());
  return rc;
}
