// A worker process for the multi-process tests: fires `count` events at the
// given cases through the Engine and reports every outcome on stdout:
//   ok CASE CASE_SEQ EVENT      the step was recorded as CASE_SEQ
//   refused CASE EVENT KIND     the procedure refused it
//   conflict CASE EVENT EXIT    another process changed the case meanwhile
//                               (the race was lost; EXIT is the CLI's code)
// Conflicts are retried, as a person would after "case changed since you
// read it".
//
//   engine_worker DB ACTOR COUNT SEED CASE...     (DB: a file or a postgresql:// URL)
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "sopir/engine.h"

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: engine_worker DB ACTOR COUNT SEED CASE...\n");
    return 2;
  }
  const std::string db = argv[1], actor = argv[2];
  const int count = std::atoi(argv[3]);
  std::mt19937 random(static_cast<unsigned>(std::atoi(argv[4])));
  std::vector<std::string> cases(argv + 5, argv + argc);
  const char* events[] = {"ping", "pong"};
  try {
    sopir::Engine engine(sopir::open_store(db, sopir::StoreOptions{}));
    for (int i = 0; i < count; ++i) {
      sopir::StepRequest request;
      request.case_id = cases[random() % cases.size()];
      request.event = events[random() % 2];
      request.actor = actor;
      for (int attempt = 0;; ++attempt) {
        try {
          auto result = engine.advance(request);
          std::printf("ok %s %lld %s\n", result.after.id.c_str(),
                      static_cast<long long>(result.entry.case_seq), request.event.c_str());
          break;
        } catch (const sopir::RefusedError& e) {
          std::printf("refused %s %s %s\n", request.case_id.c_str(), request.event.c_str(),
                      sopir::to_string(e.refusal_kind()));
          break;
        } catch (const sopir::Error& e) {
          if (e.kind() != sopir::ErrorKind::kConflict || attempt > 1000) throw;
          std::printf("conflict %s %s %d\n", request.case_id.c_str(), request.event.c_str(),
                      sopir::exit_code(e.kind()));
        }
      }
      std::fflush(stdout);
    }
  } catch (const sopir::Error& e) {
    std::fprintf(stderr, "engine_worker: %s\n", e.message().c_str());
    return sopir::exit_code(e.kind());
  }
  return 0;
}
