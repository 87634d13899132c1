// Two real processes fire 500 events each at the same 10 cases through the
// Engine: every accepted step is recorded exactly once, every refused one
// was reported, case rows match their logs and the chain verifies.
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

TEST_CASE("two processes firing at the same cases lose and double nothing", "[concurrency]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("sopir_concurrency_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "shared.db").string();
  std::vector<std::string> cases;
  {
    Engine engine(open_sqlite_store(db, StoreOptions{true}));
    engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"rina", "Rina", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"dewi", "Dewi", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine.publish_source(kPingPong, "ping-pong.yaml", "admin");
    for (int i = 0; i < 10; ++i)
      cases.push_back(engine.open_case({"ping-pong", "rina", {}, "", std::nullopt}).after.id);
  }
  pid_t first, second;
  const std::string out1 = run_worker(db, "rina", 1, cases, &first);
  const std::string out2 = run_worker(db, "dewi", 2, cases, &second);
  int status1 = 0, status2 = 0;
  waitpid(first, &status1, 0);
  waitpid(second, &status2, 0);
  REQUIRE(WIFEXITED(status1));
  REQUIRE(WEXITSTATUS(status1) == 0);
  REQUIRE(WIFEXITED(status2));
  REQUIRE(WEXITSTATUS(status2) == 0);

  std::set<std::pair<std::string, long long>> accepted;
  int lines = 0, refused = 0;
  for (const auto& file : {out1, out2}) {
    std::ifstream in(file);
    std::string kind, id, rest;
    long long seq;
    while (in >> kind) {
      ++lines;
      if (kind == "ok") {
        in >> id >> seq >> rest;
        CHECK(accepted.insert({id, seq}).second);  // never reported twice
      } else {
        in >> id >> rest >> rest;
        ++refused;
      }
    }
  }
  CHECK(lines == 1000);  // every event was reported one way or the other
  CHECK(refused > 0);    // ping from b / pong from a are refused

  auto store = open_sqlite_store(db, StoreOptions{});
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
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sopir
