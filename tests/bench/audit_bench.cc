// Audit benchmark: builds a database through the Engine (100,000 cases and
// 1,000,000 log rows; --quick: 10,000 and 100,000), then measures
//   - verify's chain part in rows/s beside raw SHA-256 of the same bytes
//     (prev_hash || stored record of every row; the baseline, measured
//     in the same run),
//   - `audit log --case` latency,
//   - the report's time.
// Targets: chain >= 1,000,000 rows/s, log --case < 50 ms, report < 10 s.
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
    engine.store().add_staff({"admin", "Admin", {"admin"}, true}, RegistryStamp{"admin", DateTime{0}});
    for (int i = 0; i < 8; ++i)
      engine.store().add_staff({"w" + std::to_string(i), "Worker " + std::to_string(i), {"worker"}, true}, RegistryStamp{"admin", DateTime{0}});
    engine.publish_source(kLoop, "loop.yaml", "admin", false);
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
  store.reset();
  if (!kept.empty()) return report.clean() && full.clean() ? 0 : 1;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  rmdir(dir.c_str());
  return report.clean() && full.clean() ? 0 : 1;
}
