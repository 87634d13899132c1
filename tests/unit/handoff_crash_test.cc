// A process doing hand-offs is killed (SIGKILL) at random moments: after
// each kill the database opens, the chain and every case verify, and no
// hand-off is ever half written (a parent's step naming a child that does
// not exist, or a child without the parent step that opened it).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "audit_links_fixture.h"
#include "sopir/audit.h"

namespace sopir {
namespace {

// Starts the worker with its stdout on a pipe; returns the read end.
FILE* start_worker(const std::string& db, int seed, pid_t* pid_out) {
  const std::string tool = std::string(SOPIR_BINARY_DIR) + "/tests/handoff_worker";
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::string seed_text = std::to_string(seed), db_text = db, tool_text = tool;
    char* argv[] = {tool_text.data(), db_text.data(), seed_text.data(), nullptr};
    execv(tool.c_str(), argv);
    _exit(127);
  }
  close(fds[1]);
  *pid_out = pid;
  return fdopen(fds[0], "r");
}

// Both sides of every hand-off present, checked straight from the store.
void check_no_half_handoff(Store& store, int64_t* children) {
  for (const CaseRecord& c : store.cases(CaseFilter{})) {
    if (c.parent_case.empty()) continue;
    ++*children;
    const auto parent_rows = store.history(c.parent_case);
    const bool opened = std::any_of(parent_rows.begin(), parent_rows.end(),
                                    [&](const LogEntry& e) { return e.linked_case == c.id; });
    INFO("child " << c.id << " of " << c.parent_case);
    CHECK(opened);
    CHECK(store.history(c.id).front().linked_case == c.parent_case);
  }
  store.scan_log(LogFilter{}, [&](const LogEntry& e) {
    if (e.kind != LogKind::kOpen && !e.linked_case.empty()) {
      auto child = store.find_case(e.linked_case);
      INFO("row " << e.seq << " of " << e.case_id << " names " << e.linked_case);
      REQUIRE(child);
      CHECK(child->parent_case == e.case_id);
    }
    return true;
  });
}

TEST_CASE("hand-offs killed at random moments are never half written", "[links][crash]") {
  const auto dir = std::filesystem::temp_directory_path() / ("sopir_handoff_crash_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string db = (dir / "crash.db").string();
  {
    Engine engine(open_sqlite_store(db, StoreOptions{true}));
    set_up_linked(engine);
  }
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 random(seed);
  int64_t reported = 0, children = 0;
  const int kills = 12;
  for (int round = 0; round < kills; ++round) {
    pid_t pid = 0;
    FILE* out = start_worker(db, static_cast<int>(random() % 100000), &pid);
    char line[256];
    REQUIRE(std::fgets(line, sizeof line, out) != nullptr);
    REQUIRE(std::string(line) == "ready\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 120));
    REQUIRE(kill(pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    while (std::fgets(line, sizeof line, out)) {
      if (std::string(line).rfind("handoff ", 0) == 0) ++reported;
    }
    std::fclose(out);

    auto store = open_sqlite_store(db, StoreOptions{});
    const audit::VerifyReport report = audit::verify(*store, {});
    std::string findings;
    for (const auto& f : report.findings) findings += std::string(audit::to_string(f.kind)) + ": " + f.message + "\n";
    INFO("after kill " << round + 1 << ":\n" << findings);
    REQUIRE(report.clean());
    children = 0;
    check_no_half_handoff(*store, &children);
  }
  // Every hand-off the worker reported committed; the killed one may have too.
  CHECK(children >= reported);
  CHECK(reported > 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sopir
