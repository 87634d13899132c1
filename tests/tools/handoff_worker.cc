// A worker process for the hand-off crash test: does hand-offs in a loop
// until it is killed. Each round opens an intake case, refers it (which
// opens a care case in the same transaction) and sometimes discharges the
// care case and finishes the intake. Prints "ready" once the database is
// open, then one line per hand-off:
//   handoff PARENT CHILD
//
//   handoff_worker DB SEED
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "sopir/engine.h"

namespace {

sopir::StepResult step(sopir::Engine& engine, const std::string& id, const char* event, const char* actor,
                       std::vector<std::pair<std::string, std::string>> inputs = {}) {
  sopir::StepRequest request;
  request.case_id = id;
  request.event = event;
  request.actor = actor;
  request.inputs = std::move(inputs);
  return engine.advance(request);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: handoff_worker DB SEED\n");
    return 2;
  }
  std::mt19937 random(static_cast<unsigned>(std::atoi(argv[2])));
  try {
    sopir::Engine engine(sopir::open_sqlite_store(argv[1], sopir::StoreOptions{}));
    std::printf("ready\n");
    std::fflush(stdout);
    for (int round = 0;; ++round) {
      const std::string name = "Pekerja Contoh " + std::to_string(round);
      const std::string parent = engine.open_case({"pmi-intake", "rina", {{"full_name", name}}, "", {}}).after.id;
      auto referred = step(engine, parent, "refer", "rina", {{"age", std::to_string(20 + round % 30)}});
      std::printf("handoff %s %s\n", parent.c_str(), referred.opened.at(0).record.id.c_str());
      std::fflush(stdout);
      if (random() % 2) {
        step(engine, referred.opened.at(0).record.id, "discharge", "sari");
        step(engine, parent, "finish", "rina");
      }
    }
  } catch (const sopir::Error& e) {
    std::fprintf(stderr, "handoff_worker: %s\n", e.what());
    return 1;
  }
}
