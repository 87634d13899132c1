// pg_bench: the PostgreSQL store's appends per second with 1, 8 and 32
// concurrent writer processes, beside PostgreSQL's own pgbench (built-in
// TPC-B-like script) on the same server with the same client counts, in the
// same run. Needs the test server (SOPIR_TEST_PG, scripts/pg-server.sh);
// without it says so and exits 0.
//
//   pg_bench [--quick] [--sealing]   --quick: 1 and 8 clients, 2 s each;
//                                    --sealing: the cost of sealing alone
//
// Each writer is a process with its own connection (as offices are), with
// cases of its own (a chain per case: writers of different cases do not
// queue). Two ways to write a step, each its own transaction, measured one
// after the other: append() (read the case row's version and chain head,
// then write the hashed log row and the case row where they are still as
// read: two round trips) and append_held(), what the engine and `sopir
// case advance` use (the caller holds the case row as read or last
// written: one statement, one round trip). pgbench runs at scale = the
// largest client count, so its clients do not all queue on one branch row.
//
// Then the cost of sealing personal text (issue #16, docs/PRIVACY.md): steps
// that each give a personal value, on a database keeping it in clear beside
// one encrypted under a key file, alternated in the same run.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/key_file.h"
#include "sopir/store.h"
#include "store/pg_connection.h"

using namespace sopir;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kSource = "id: pmi_shelter\n# pg_bench procedure\n";
const std::string kSha = sha256_hex(kSource);

std::string with_database(const std::string& url, const std::string& name) {
  const size_t slash = url.rfind('/');
  const size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

// A personal value with a fresh salt and its digest.
StoredValue personal(const std::string& field, const std::string& text, long n) {
  StoredValue v;
  v.field = field;
  v.missing = false;
  v.pii = true;
  v.salt = sha256_hex(std::to_string(::getpid()) + "-" + std::to_string(n)).substr(0, 32);
  v.digest = sha256_hex(v.salt + text);
  v.text = text;
  return v;
}

StoredValue plain(const std::string& field, const std::string& text) {
  StoredValue v;
  v.field = field;
  v.missing = false;
  v.text = text;
  return v;
}

void open_case(Store& store, const std::string& id) {
  CaseRecord r;
  r.id = id;
  r.sop_id = "pmi_shelter";
  r.sha256 = kSha;
  r.state = "registered";
  r.version = 1;
  r.opened_at = DateTime{1790000000};
  r.data = {plain("counter", "0"), plain("category", "overstay")};
  LogEntry e;
  e.sha256 = kSha;
  e.kind = LogKind::kOpen;
  e.event = "open";
  e.to_state = r.state;
  e.to_status = "active";
  e.actor = "dewi";
  e.role = "registrar";
  e.occurred_at = e.recorded_at = r.opened_at;
  for (const auto& v : r.data) {
    StoredValue before;  // missing before the opening
    before.field = v.field;
    e.changes.push_back({before, v});
  }
  store.create_case(r, e);
}

// One step on `held` (the case as this writer last wrote it); with
// `with_personal`, the step also gives a new personal value (made-up text).
// `by_held`: through append_held() (else append()).
void step(Store& store, CaseRecord& held, bool with_personal = false, bool by_held = false) {
  CaseRecord next = held;
  next.version = held.version + 1;
  next.state = next.version % 2 ? "registered" : "screened";
  next.data[0] = plain("counter", std::to_string(next.version));
  LogEntry e;
  e.sha256 = kSha;
  e.event = "go";
  e.from_state = held.state;
  e.to_state = next.state;
  e.from_status = e.to_status = "active";
  e.actor = "budi";
  e.role = "social_worker";
  e.occurred_at = e.recorded_at = DateTime{1790000000 + next.version};
  e.note = "bench step";
  e.changes = {{held.data[0], next.data[0]}};
  if (with_personal) {
    StoredValue before = held.data.size() > 2 ? held.data[2] : plain("phone", "");
    before.missing = held.data.size() <= 2;
    if (next.data.size() < 3) next.data.push_back(before);
    next.data[2] = personal("phone", "+62 811 0000 " + std::to_string(next.version), next.version);
    e.changes.push_back({before, next.data[2]});
  }
  if (by_held) {
    store.append_held(held, next, e);
  } else {
    store.append(next, held.version, e);
  }
  held = next;
  set_chain_head(held, e);
}

// Which sopir_rate() call this is (case ids of their own in every run).
int run_number = 0;
// The writers' own CPU time a step in the last sopir_rate() call, in
// microseconds: what the client side of a step costs, which the server and
// the other writers do not move as they move the rate.
double client_cpu_us = 0;

// The same for the server's processes, when the test server runs on this
// machine (SOPIR_TEST_PG_DIR); -1 otherwise.
double server_cpu_us = -1;

// The test server's CPU time so far, in seconds: its postmaster's own and
// that of the processes it has reaped (backends of closed connections),
// and that of its processes alive (backends, checkpointer, WAL writer,
// autovacuum). -1 when the server is not on this machine.
double server_cpu_seconds() {
  const char* dir = std::getenv("SOPIR_TEST_PG_DIR");
  if (!dir || !*dir) return -1;
  std::ifstream pid_file(std::string(dir) + "/data/postmaster.pid");
  long postmaster = 0;
  if (!(pid_file >> postmaster)) return -1;
  double ticks = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat;
    if (!std::getline(in, stat)) continue;  // gone meanwhile
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    long ppid = 0, skip = 0, utime = 0, stime = 0, cutime = 0, cstime = 0;
    fields >> state >> ppid;
    for (int i = 0; i < 9; ++i) fields >> skip;  // pgrp .. cmajflt
    fields >> utime >> stime >> cutime >> cstime;
    const long pid = std::stol(name);
    if (pid == postmaster) ticks += static_cast<double>(utime + stime + cutime + cstime);
    else if (ppid == postmaster) ticks += static_cast<double>(utime + stime);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// A writer process: opens its cases, waits for `go`, appends for `seconds`,
// writes its count of steps and the CPU seconds they took to `out`.
[[noreturn]] void writer(const std::string& url, int index, int clients, double seconds, int ready_fd, int go_fd,
                         int out_fd, bool with_personal, const std::string& key_file, bool by_held) {
  long count = 0;
  double cpu = 0;
  try {
    if (!key_file.empty()) load_key_file(key_file);
    StoreOptions options;
    options.busy_timeout_ms = 30000;
    auto store = open_store(url, options);
    std::vector<CaseRecord> cases;
    for (int k = 0; k < 4; ++k) {
      const std::string id = std::string(with_personal ? "P" : by_held ? "H" : "B") + std::to_string(run_number) +
                             "-" + std::to_string(clients) + "-" + std::to_string(index) + "-" + std::to_string(k);
      open_case(*store, id);
      cases.push_back(*store->find_case(id));
    }
    char byte = 1;
    if (::write(ready_fd, &byte, 1) != 1 || ::read(go_fd, &byte, 1) != 1) ::_exit(2);
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    const double cpu_start = cpu_seconds();
    while (Clock::now() < end) step(*store, cases[static_cast<size_t>(count++ % 4)], with_personal, by_held);
    cpu = cpu_seconds() - cpu_start;
  } catch (const Error& e) {
    std::fprintf(stderr, "pg_bench writer %d: %s\n", index, e.what());
    ::_exit(1);
  }
  const std::string text = std::to_string(count) + " " + std::to_string(cpu) + "\n";
  if (::write(out_fd, text.data(), text.size()) < 0) ::_exit(1);
  ::_exit(0);
}

double sopir_rate(const std::string& url, int clients, double seconds, bool with_personal = false,
                  const std::string& key_file = "", bool by_held = false) {
  ++run_number;
  int ready[2], go[2], out[2];
  if (::pipe(ready) || ::pipe(go) || ::pipe(out)) throw std::runtime_error("pipe failed");
  std::vector<pid_t> pids;
  for (int i = 0; i < clients; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) writer(url, i, clients, seconds, ready[1], go[0], out[1], with_personal, key_file, by_held);
    pids.push_back(pid);
  }
  ::close(ready[1]);
  ::close(out[1]);
  char byte;
  for (int i = 0; i < clients; ++i)
    if (::read(ready[0], &byte, 1) != 1) throw std::runtime_error("a writer failed to start");
  const double server_start = server_cpu_seconds();
  const auto start = Clock::now();
  const std::string go_bytes(static_cast<size_t>(clients), 'g');
  if (::write(go[1], go_bytes.data(), go_bytes.size()) < 0) throw std::runtime_error("pipe write failed");
  long total = 0;
  int failed = 0;
  for (const pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // The writers' backends end when their connections close: let the
  // server reap them, so that their time is counted once.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double server_end = server_cpu_seconds();
  std::string counts;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(out[0], buffer, sizeof buffer)) > 0) counts.append(buffer, static_cast<size_t>(n));
  double cpu = 0;
  for (size_t at = 0; at < counts.size();) {
    const size_t space = counts.find(' ', at), end = counts.find('\n', at);
    total += std::stol(counts.substr(at, space - at));
    cpu += std::stod(counts.substr(space + 1, end - space - 1));
    at = end + 1;
  }
  client_cpu_us = total > 0 ? cpu / static_cast<double>(total) * 1e6 : 0;
  server_cpu_us = total > 0 && server_start >= 0 && server_end >= 0
                      ? (server_end - server_start) / static_cast<double>(total) * 1e6
                      : -1;
  for (int fd : {ready[0], go[0], go[1], out[0]}) ::close(fd);
  if (failed) throw std::runtime_error(std::to_string(failed) + " writer(s) failed");
  return static_cast<double>(total) / elapsed;
}

std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  if (::pclose(pipe) != 0) throw std::runtime_error("failed: " + command + "\n" + output);
  return output;
}

std::string quoted(const std::string& text) { return "'" + text + "'"; }

double pgbench_tps(const std::string& url, int clients, double seconds) {
  const std::string out = run("pgbench -n -b tpcb-like -c " + std::to_string(clients) + " -j " +
                              std::to_string(clients) + " -T " + std::to_string(static_cast<int>(seconds)) + " " +
                              quoted(url) + " 2>&1");
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("tps = ([0-9.]+)"))) throw std::runtime_error("no tps in: " + out);
  return std::stod(m[1]);
}

// Steps giving a personal value: clear against sealed under a key file,
// alternating which goes first, same client counts.
void personal_cost(pg::Connection& admin, const std::string& admin_url, const std::string& suffix,
                   const std::vector<int>& client_counts, double seconds) {
  const std::string clear_db = "sopir_clear_" + suffix, sealed_db = "sopir_sealed_" + suffix;
  char dir[] = "/tmp/sopir-pgbench-XXXXXX";
  if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
  const std::string key_file = std::string(dir) + "/bench.key";
  admin.exec("CREATE DATABASE " + clear_db);
  admin.exec("CREATE DATABASE " + sealed_db);
  try {
    const std::string clear_url = with_database(admin_url, clear_db), sealed_url = with_database(admin_url, sealed_db);
    const std::string key_id = create_key_file(key_file);
    load_key_file(key_file);
    for (const std::string& url : {clear_url, sealed_url}) {
      StoreOptions create;
      create.create = true;
      auto store = open_store(url, create);
      store->publish("pmi_shelter", kSha, kSource, "bench.yaml", "admin", DateTime{1789990000});
      if (url == sealed_url) store->seal_database_key(key_id);
    }
    std::printf("\nSteps each giving a personal value, clear text against sealed under a key file (clear,\n"
                "sealed, sealed, clear; the mean of each), %.0f s each, and the CPU time a step takes in\n"
                "microseconds, in the writers (sealing is done there) and in the server's processes (-1: the\n"
                "server is not on this machine):\n\n%8s %12s %12s %8s %9s %9s %9s %9s\n",
                seconds, "clients", "clear/s", "sealed/s", "cost", "writer", "sealed", "server", "sealed");
    // Each database written for a while first, unmeasured: a new database's
    // first steps run faster than any after them (its first checkpoint,
    // then full-page images in the server's log), and the first measured
    // would be favoured.
    sopir_rate(clear_url, client_counts.back(), seconds, true);
    sopir_rate(sealed_url, client_counts.back(), seconds, true, key_file);
    for (const int clients : client_counts) {
      // Clear, sealed, sealed, clear: whatever the server does in the
      // background (its checkpoints, autovacuum) falls on both alike.
      double cpu_clear = 0, cpu_sealed = 0, server_clear = 0, server_sealed = 0;
      auto measure = [&](bool is_sealed) {
        // The server's log written out before each run, so that a
        // checkpoint the run before made due does not fall on this one.
        admin.exec("CHECKPOINT");
        const double rate = is_sealed ? sopir_rate(sealed_url, clients, seconds, true, key_file)
                                      : sopir_rate(clear_url, clients, seconds, true);
        (is_sealed ? cpu_sealed : cpu_clear) += client_cpu_us / 2;
        (is_sealed ? server_sealed : server_clear) += server_cpu_us / 2;
        return rate;
      };
      const double clear_1 = measure(false), sealed_1 = measure(true), sealed_2 = measure(true),
                   clear_2 = measure(false);
      const double clear = (clear_1 + clear_2) / 2, sealed = (sealed_1 + sealed_2) / 2;
      std::printf("%8d %12.0f %12.0f %7.1f%% %9.1f %9.1f %9.1f %9.1f   (clear %.0f, %.0f; sealed %.0f, %.0f)\n",
                  clients, clear, sealed, (clear / sealed - 1) * 100, cpu_clear, cpu_sealed, server_clear,
                  server_sealed, clear_1, clear_2, sealed_1, sealed_2);
      std::fflush(stdout);
    }
    std::printf("\ntarget (issue #16): sealing costs at most 10%% of a step\n");
  } catch (...) {
    ::unlink(key_file.c_str());
    ::rmdir(dir);
    admin.exec("DROP DATABASE IF EXISTS " + clear_db + " WITH (FORCE)");
    admin.exec("DROP DATABASE IF EXISTS " + sealed_db + " WITH (FORCE)");
    throw;
  }
  ::unlink(key_file.c_str());
  ::rmdir(dir);
  admin.exec("DROP DATABASE IF EXISTS " + clear_db + " WITH (FORCE)");
  admin.exec("DROP DATABASE IF EXISTS " + sealed_db + " WITH (FORCE)");
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, sealing_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--sealing") {
      sealing_only = true;
    } else {
      std::fprintf(stderr, "usage: pg_bench [--quick] [--sealing]\n");
      return 2;
    }
  }
  const char* admin_env = std::getenv("SOPIR_TEST_PG");
  if (!admin_env || !*admin_env) {
    std::printf("pg_bench: SOPIR_TEST_PG is not set; start the test server (scripts/pg-server.sh) to run it\n");
    return 0;
  }
  const std::string admin_url = admin_env;
  const std::vector<int> client_counts = quick ? std::vector<int>{1, 8} : std::vector<int>{1, 8, 32};
  const double seconds = quick ? 2 : 10;
  const std::string suffix = std::to_string(::getpid());
  const std::string sopir_db = "sopir_bench_" + suffix, pgbench_db = "pgbench_" + suffix;
  pg::Connection admin(admin_url, 10);
  if (sealing_only) {
    try {
      personal_cost(admin, admin_url, suffix, client_counts, seconds);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pg_bench: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  admin.exec("CREATE DATABASE " + sopir_db);
  admin.exec("CREATE DATABASE " + pgbench_db);
  int rc = 0;
  try {
    const std::string sopir_url = with_database(admin_url, sopir_db);
    const std::string pgbench_url = with_database(admin_url, pgbench_db);
    {
      StoreOptions create;
      create.create = true;
      open_store(sopir_url, create)->publish("pmi_shelter", kSha, kSource, "bench.yaml", "admin", DateTime{1789990000});
    }
    run("pgbench -i -q -s " + std::to_string(client_counts.back()) + " " + quoted(pgbench_url) + " 2>&1");
    std::printf("PostgreSQL store steps per second (one step per transaction, each writer a process with\n"
                "cases of its own) through append() and through append_held() (the engine's and `case\n"
                "advance`'s path), beside pgbench -b tpcb-like at scale %d, %.0f s each, same run:\n\n",
                client_counts.back(), seconds);
    std::printf("%8s %12s %12s %12s %8s %8s\n", "clients", "append/s", "held/s", "pgbench tps", "ratio", "held");
    for (const int clients : client_counts) {
      const double sopir = sopir_rate(sopir_url, clients, seconds);
      const double held = sopir_rate(sopir_url, clients, seconds, false, "", true);
      const double tps = pgbench_tps(pgbench_url, clients, seconds);
      std::printf("%8d %12.0f %12.0f %12.0f %8.2f %8.2f\n", clients, sopir, held, tps, sopir / tps, held / tps);
      std::fflush(stdout);
    }
    auto store = open_store(sopir_url, StoreOptions{});
    long rows = 0;
    store->scan_chain([&](const ChainRow&) { return ++rows, true; });
    std::printf("\n%ld log rows written; target (issue #13): ratio >= 1.0 at every client count\n"
                "(ratio: append() against pgbench; held: append_held() against pgbench)\n", rows);
    personal_cost(admin, admin_url, suffix, client_counts, seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pg_bench: %s\n", e.what());
    rc = 1;
  }
  admin.exec("DROP DATABASE IF EXISTS " + sopir_db + " WITH (FORCE)");
  admin.exec("DROP DATABASE IF EXISTS " + pgbench_db + " WITH (FORCE)");
  return rc;
}
