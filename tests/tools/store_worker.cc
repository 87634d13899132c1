// store_worker: appends steps to existing cases of a sopir database, for the
// store's multi-process and crash tests (tests/unit/store_test.cc).
//
// usage: store_worker DB NAME STEPS BATCH CASE...
//   Appends STEPS steps (0: until killed), BATCH appends per transaction,
//   each to a random case of CASE..., retrying on kConflict. After each
//   commit prints one line per append: "ok CASE CASE_SEQ NAME:N", flushed.
//   Ends with "done APPENDS CONFLICTS". Exit 0, or 1 with the error on stderr.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "sopir/error.h"
#include "sopir/store.h"

using namespace sopir;

namespace {

StoredValue value(const std::string& field, const std::string& text) {
  StoredValue v;
  v.field = field;
  v.missing = text.empty();
  v.text = text;
  return v;
}

// The next case row and its log row for step `n` of worker `name`.
void next_step(const CaseRecord& now, const std::string& name, long n, CaseRecord* next, LogEntry* entry) {
  *next = now;
  next->version = now.version + 1;
  next->state = name + "." + std::to_string(n);
  StoredValue before = value("counter", "");
  for (auto& v : next->data) {
    if (v.field == "counter") {
      before = v;
      v.text = std::to_string(std::stol(v.text.empty() ? "0" : v.text) + 1);
      v.missing = false;
    }
  }
  StoredValue after = before;
  for (const auto& v : next->data)
    if (v.field == "counter") after = v;
  *entry = LogEntry{};
  entry->case_id = now.id;
  entry->sha256 = now.sha256;
  entry->kind = LogKind::kProcedure;
  entry->event = "step";
  entry->from_state = now.state;
  entry->to_state = next->state;
  entry->from_status = entry->to_status = "active";
  entry->actor = name;
  entry->role = "worker";
  entry->occurred_at = entry->recorded_at = DateTime{1790000000 + n};
  entry->note = name + ":" + std::to_string(n);
  entry->inputs = {{"n", std::to_string(n)}};
  entry->changes = {{before, after}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: store_worker DB NAME STEPS BATCH CASE...\n");
    return 2;
  }
  const std::string db = argv[1], name = argv[2];
  const long steps = std::atol(argv[3]);
  const long batch = std::max(1L, std::atol(argv[4]));
  std::vector<std::string> cases(argv + 5, argv + argc);
  std::mt19937 random(static_cast<unsigned>(getpid()));
  long appends = 0, conflicts = 0;
  try {
    StoreOptions options;
    options.busy_timeout_ms = 30000;
    auto store = open_store(db, options);  // a file or a server URL
    for (long n = 1; steps == 0 || n <= steps;) {
      std::vector<std::string> lines;
      const long count = steps == 0 ? batch : std::min(batch, steps - n + 1);
      try {
        auto body = [&] {
          lines.clear();
          for (long i = 0; i < count; ++i) {
            const std::string& id = cases[random() % cases.size()];
            // Read outside any write lock when batch == 1: another worker
            // may append in between, and append must then refuse.
            auto now = store->find_case(id);
            if (!now) throw not_found("no case " + id);
            // A little think time between read and write makes races likely.
            if (count == 1) usleep(random() % 500);
            CaseRecord next;
            LogEntry entry;
            next_step(*now, name, n + i, &next, &entry);
            store->append(next, now->version, entry);
            lines.push_back("ok " + id + " " + std::to_string(entry.case_seq) + " " + entry.note);
          }
        };
        if (count == 1) {
          body();
        } else {
          store->transaction(body);
        }
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::kConflict) throw;
        ++conflicts;
        continue;
      }
      for (const auto& line : lines) std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      appends += count;
      n += count;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "store_worker %s: %s\n", name.c_str(), e.what());
    return 1;
  }
  std::printf("done %ld %ld\n", appends, conflicts);
  return 0;
}
