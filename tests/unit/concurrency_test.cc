// Real processes fire 500 events each at the same 10 cases through the
// Engine (two on an SQLite file, eight on the PostgreSQL test server): every
// accepted step is recorded exactly once, every refused one was reported,
// a lost race is a conflict (the CLI's exit 4) and is retried, case rows
// match their logs and every chain verifies.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "sopir/engine.h"
#include "test_backends.h"
#include "test_values.h"

namespace sopir {
namespace {

const char* kPingPong = R"(sop: ping-pong
version: 1
title: Ping pong
roles: [worker]
states:
  a: {initial: true}
  b: {}
  end: {terminal: true}
transitions:
  - {event: ping, from: a, to: b, roles: [worker]}
  - {event: pong, from: b, to: a, roles: [worker]}
  - {event: finish, from: [a, b], to: end, roles: [worker]}
)";

std::string run_worker(const std::string& db, const std::string& actor, int seed,
                       const std::vector<std::string>& cases, pid_t* pid_out) {
  std::string out = std::filesystem::temp_directory_path() /
                    ("sopir_worker_" + actor + "_" + std::to_string(getpid()) + ".txt");
  const std::string tool = std::string(SOPIR_BINARY_DIR) + "/tests/engine_worker";
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen(out.c_str(), "w", stdout);
    std::vector<std::string> args = {tool, db, actor, "500", std::to_string(seed)};
    args.insert(args.end(), cases.begin(), cases.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(tool.c_str(), argv.data());
    _exit(127);
  }
  *pid_out = pid;
  return out;
}

TEST_CASE("processes firing at the same cases lose and double nothing", "[concurrency]") {
  const testing::Backend backend = GENERATE(from_range(testing::store_backends()));
  testing::TestDatabase database(backend);
  const std::string db = database.location();
  // Two writers on a file (SQLite takes one at a time); eight on the server.
  const int workers = backend == testing::Backend::kSqlite ? 2 : 8;
  std::vector<std::string> cases;
  {
    Engine engine(open_store(db, StoreOptions{true}));
    engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
    for (int w = 0; w < workers; ++w)
      engine.store().add_staff({"worker" + std::to_string(w), "Worker", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine.publish_source(kPingPong, "ping-pong.yaml", "admin");
    for (int i = 0; i < 10; ++i)
      cases.push_back(engine.open_case({"ping-pong", "worker0", {}, "", std::nullopt}).after.id);
  }
  std::vector<pid_t> pids(static_cast<size_t>(workers));
  std::vector<std::string> outputs;
  for (int w = 0; w < workers; ++w)
    outputs.push_back(run_worker(db, "worker" + std::to_string(w), w + 1, cases, &pids[static_cast<size_t>(w)]));
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }

  std::set<std::pair<std::string, long long>> accepted;
  int reported = 0, refused = 0, conflicts = 0;
  for (const auto& file : outputs) {
    std::ifstream in(file);
    std::string kind, id, rest;
    long long seq;
    int exit = 0;
    while (in >> kind) {
      if (kind == "ok") {
        ++reported;
        in >> id >> seq >> rest;
        CHECK(accepted.insert({id, seq}).second);  // never reported twice
      } else if (kind == "conflict") {
        in >> id >> rest >> exit;
        CHECK(exit == 4);
        ++conflicts;
      } else {
        ++reported;
        in >> id >> rest >> rest;
        ++refused;
      }
    }
    std::filesystem::remove(file);
  }
  CHECK(reported == workers * 500);  // every event was reported one way or the other
  CHECK(refused > 0);                // ping from b / pong from a are refused
  if (backend == testing::Backend::kPostgres) CHECK(conflicts > 0);  // eight writers on ten cases do race
  database.wait_for_no_other_sessions();

  auto store = open_store(db, StoreOptions{});
  size_t logged = 0;
  std::map<std::string, std::string> prev;  // each case's chain: the hash of its newest row
  std::map<std::string, LogEntry> last;
  store->scan_log({}, [&](const LogEntry& e) {
    CHECK(e.prev_hash == prev[e.case_id]);
    CHECK(e.hash == chain_hash(prev[e.case_id], e));
    prev[e.case_id] = e.hash;
    if (e.kind != LogKind::kOpen) {
      ++logged;
      CHECK(accepted.count({e.case_id, e.case_seq}) == 1);
    }
    last[e.case_id] = e;
    return true;
  });
  CHECK(logged == accepted.size());
  for (const auto& id : cases) {
    auto record = store->find_case(id);
    REQUIRE(record);
    CHECK(record->state == last[id].to_state);
    CHECK(record->last_seq == last[id].case_seq);
    CHECK(record->head_hash == prev[id]);
  }
}

}  // namespace
}  // namespace sopir
