// CLI benchmark: the sopir program, start to exit, beside SQLite doing the
// same writes, in the same run, on the same files.
//
//   (a) one `sopir case advance` process against a database of 100,000 cases
//       (--quick: 10,000) beside one `sqlite3` process doing the same INSERT
//       of the log row and UPDATE of the case row; median of 20 runs each,
//       interleaved. Target: sopir at most 1.3x sqlite3.
//   (b) `sopir case import` of 10,000 cases (--quick: 1,000) beside raw
//       SQLite (SQLiteCpp) inserting the same rows in one transaction, each
//       on its own copy of the database. Target: baseline/sopir >= 0.5.
//   (c) one `sopir todo` process for the case worker, who may act on every
//       case of (a) (each active, its procedure with clocks, so todo reads
//       every case's log), beside one `sqlite3` process reading the same
//       rows (the active cases joined to their log rows): median of 3 each
//       (--quick: 5), interleaved. Reported, no target.
//
// --against PROGRAM runs another sopir (e.g. the build before a change) in
// the same rounds of (a), interleaved on fresh cases of the same database,
// and prints its median and ratio beside this build's: a before/after
// comparison that the machine's load moves alike.
//
// --keep DIR builds the database of (a) into DIR/big.db and stops there, for
// profiling one process by hand (`perf record build/sopir --db DIR/big.db
// --as cw case advance C-... give_consent --set ...`; `sqlite3 DIR/big.db
// "SELECT id FROM cases LIMIT 5"` gives ids); with --quick, 10,000 cases.
//
// Every program timed runs as an installed one would: sopir (and --against)
// are copied whole into the run's directory first, as a package manager
// writes a package's files, and run from there. The linker's output in the
// build tree sits in the page cache as the linker wrote it, and a process
// started from that file took about 20 more page faults and 1 ms more than
// the same bytes copied (docs/PERFORMANCE.md, 2026-12-06d), which an
// installed sopir does not pay; sqlite3 is the installed /usr/bin/sqlite3.
//
// The procedure is the largest shipped one (tppo-victim-care.yaml), so each
// sopir process pays for loading a real procedure. The baseline rows carry
// correct hashes, and the chain of every file is verified at the end.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "store/log_json.h"
#include "sopir/audit.h"
#include "sopir/engine.h"

extern char** environ;

namespace {

using namespace sopir;
using Timer = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr const char* kSop = "tppo-victim-care";
constexpr int kRuns = 20;

double seconds_since(Timer::time_point start) {
  return std::chrono::duration<double>(Timer::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs a program to its exit, output discarded; returns wall seconds.
double run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  const auto start = Timer::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
    std::perror(args[0]);
    std::exit(2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double elapsed = seconds_since(start);
  posix_spawn_file_actions_destroy(&actions);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "cli_bench: %s failed (status %d)\n", argv[0].c_str(), status);
    for (const auto& a : argv) std::fprintf(stderr, "  %s\n", a.substr(0, 200).c_str());
    std::exit(2);
  }
  return elapsed;
}

class FixedClock : public Clock {
 public:
  DateTime now() override { return DateTime{t_ += 7}; }

 private:
  int64_t t_ = 1767225600;  // 2026-01-01
};

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string time_or_null(const std::optional<DateTime>& t) {
  return t ? std::to_string(t->seconds) : std::string("NULL");
}

// Builds the database: staff, the procedure, `cases` cases open in
// consent (its first state). Returns their ids.
std::vector<std::string> build(const std::string& path, int cases) {
  StoreOptions options;
  options.create = true;
  options.synchronous_full = false;  // building only; the measured runs use sopir's defaults
  Engine engine(open_sqlite_store(path, options), std::make_shared<FixedClock>());
  engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, RegistryStamp{"admin", DateTime{0}});
  engine.store().add_staff({"cw", "Case Worker Contoh", {"case_worker"}, true}, RegistryStamp{"admin", DateTime{0}});
  // Targets of its hand-offs first.
  for (const char* sop : {"referral", "transfer", "tvc-health", "tvc-psychosocial", "tvc-legal", "tvc-tracing",
                          "tppo-victim-care"})
    engine.publish(std::string(SOPIR_SOURCE_DIR) + "/workflows/" + sop + ".yaml", "admin", false);
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(cases));
  const int batch = 2000;
  for (int first = 0; first < cases; first += batch) {
    engine.store().transaction([&] {
      for (int c = first; c < std::min(cases, first + batch); ++c) {
        OpenRequest r;
        r.sop_id = kSop;
        r.actor = "cw";
        r.inputs = {{"full_name", "Orang Contoh " + std::to_string(c)},
                    {"is_child", "false"},
                    {"referral_source", "ngo"},
                    {"age", std::to_string(18 + c % 50)}};
        ids.push_back(engine.open_case(r).after.id);
      }
    });
  }
  return ids;
}

// The SQL of the same step sopir just wrote for `done_id`, applied to case
// `id`: the log row (correctly chained, and linked to the case's previous
// row as sopir links it) and the case row (naming its new head row). A row
// without those links is still read right, by a scan of the whole log
// each time, which made every later part that reads these cases slower.
std::string same_step_sql(Store& store, const std::string& done_id, const std::string& id) {
  LogEntry e = store.history(done_id).back();
  const int64_t prev_row = store.history(id).back().seq;
  const CaseRecord before = *store.find_case(id);
  e.case_id = id;
  e.case_seq = before.last_seq + 1;
  e.recorded_at.seconds += 1;
  e.prev_hash = before.head_hash;  // the case's own chain
  e.hash = chain_hash(e.prev_hash, e);
  CaseRecord after = before;
  after.state = e.to_state;
  after.version += 1;
  after.last_seq = e.case_seq;
  after.due_at = e.due_at;
  for (const auto& change : e.changes) {
    auto it = std::find_if(after.data.begin(), after.data.end(),
                           [&](const StoredValue& v) { return v.field == change.after.field; });
    if (it != after.data.end()) {
      *it = change.after;
    } else {
      after.data.push_back(change.after);
    }
  }
  std::ostringstream sql;
  sql << "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; BEGIN IMMEDIATE; "
      << "INSERT INTO transitions (record, prev_hash, hash, prev_row) VALUES ("
      << quote(log_record(e)) << ", " << quote(e.prev_hash) << ", " << quote(e.hash) << ", "
      << prev_row << "); "
      << "UPDATE cases SET state = " << quote(after.state)
      << ", status = " << quote(to_string(after.status))
      << ", data = " << quote(log_json::values(after.data)) << ", version = " << after.version
      << ", last_seq = " << after.last_seq << ", head_hash = " << quote(e.hash)
      << ", head_row = last_insert_rowid()"
      << ", due_at = " << time_or_null(after.due_at) << " WHERE id = " << quote(id)
      << " AND version = " << before.version << "; COMMIT;";
  return sql.str();
}

bool chain_clean(const std::string& path) {
  StoreOptions ro;
  ro.read_only = true;
  auto store = open_sqlite_store(path, ro);
  audit::VerifyOptions options;
  options.replay = false;
  return audit::verify(*store, options).clean();
}

// The rows sopir's import wrote into `from` (log rows after `after_seq`,
// their case rows, personal texts after rowid `after_text`), inserted into
// `to` with SQLiteCpp in one transaction; returns the seconds taken.
double raw_insert(const std::string& from, const std::string& to, int64_t after_seq, int64_t after_text) {
  // Read everything first (not timed): the rows as sopir stored them.
  std::vector<std::vector<std::string>> log_rows, case_rows, texts;
  {
    SQLite::Database db(from, SQLite::OPEN_READONLY);
    SQLite::Statement logs(db,
                           "SELECT case_id, record, prev_hash, hash FROM transitions WHERE seq > ? "
                           "ORDER BY seq");
    logs.bind(1, static_cast<int64_t>(after_seq));
    while (logs.executeStep()) {
      std::vector<std::string> row;
      for (int i = 0; i < 4; ++i) row.push_back(logs.getColumn(i).getString());
      log_rows.push_back(std::move(row));
    }
    SQLite::Statement cases(db,
                            "SELECT id, sop_id, sha256, state, status, data, version, last_seq, "
                            "opened_at, coalesce(due_at, ''), closure_reason FROM cases WHERE id IN "
                            "(SELECT case_id FROM transitions WHERE seq > ?) ORDER BY id");
    cases.bind(1, static_cast<int64_t>(after_seq));
    while (cases.executeStep()) {
      std::vector<std::string> row;
      for (int i = 0; i < 11; ++i) row.push_back(cases.getColumn(i).getString());
      case_rows.push_back(std::move(row));
    }
    SQLite::Statement personal(db, "SELECT digest, text FROM personal_text WHERE rowid > ? ORDER BY rowid");
    personal.bind(1, static_cast<int64_t>(after_text));
    while (personal.executeStep())
      texts.push_back({personal.getColumn(0).getString(), personal.getColumn(1).getString()});
  }
  auto bind_row = [](SQLite::Statement& stmt, const std::vector<std::string>& row,
                     const std::vector<int>& integer, const std::vector<int>& nullable) {
    for (size_t i = 0; i < row.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      const bool is_int = std::find(integer.begin(), integer.end(), i) != integer.end();
      const bool is_nullable = std::find(nullable.begin(), nullable.end(), i) != nullable.end();
      if (is_nullable && row[i].empty()) {
        stmt.bind(index);
      } else if (is_int) {
        stmt.bind(index, static_cast<int64_t>(std::stoll(row[i])));
      } else {
        stmt.bind(index, row[i]);
      }
    }
  };
  const auto start = Timer::now();
  SQLite::Database db(to, SQLite::OPEN_READWRITE);
  db.exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;");
  db.exec("BEGIN IMMEDIATE");
  SQLite::Statement insert_case(db,
                                "INSERT INTO cases (id, sop_id, sha256, state, status, data, version, "
                                "last_seq, opened_at, due_at, closure_reason) VALUES "
                                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  SQLite::Statement insert_log(db, "INSERT INTO transitions (record, prev_hash, hash) VALUES (?, ?, ?)");
  SQLite::Statement insert_text(db, "INSERT OR IGNORE INTO personal_text (digest, text) VALUES (?, ?)");
  std::sort(case_rows.begin(), case_rows.end(), [&](const auto& a, const auto& b) { return a[0] < b[0]; });
  std::vector<size_t> case_of(log_rows.size());
  for (size_t i = 0; i < log_rows.size(); ++i) {
    // Case row first (the log row references it), then its log row.
    auto it = std::lower_bound(case_rows.begin(), case_rows.end(), log_rows[i][0],
                               [](const auto& row, const std::string& id) { return row[0] < id; });
    insert_case.reset();
    bind_row(insert_case, *it, {6, 7, 8}, {9});
    insert_case.exec();
    insert_log.reset();
    for (int k = 1; k <= 3; ++k) insert_log.bind(k, log_rows[i][static_cast<size_t>(k)]);
    insert_log.exec();
  }
  for (const auto& t : texts) {
    insert_text.reset();
    insert_text.bind(1, t[0]);
    insert_text.bind(2, t[1]);
    insert_text.exec();
  }
  db.exec("COMMIT");
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string keep, against;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--keep") == 0 && i + 1 < argc) {
      keep = argv[++i];
    } else if (std::strcmp(argv[i], "--against") == 0 && i + 1 < argc) {
      against = argv[++i];
    } else {
      std::fprintf(stderr, "usage: cli_bench [--quick] [--keep DIR] [--against PROGRAM]\n");
      return 2;
    }
  }
  const int cases = quick ? 10000 : 100000;
  const int import_rows = quick ? 1000 : 10000;
  char dir_template[] = "/tmp/sopir-cli-bench-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string db = dir + "/big.db";
  // Installed copies (see the top of this file).
  auto installed = [&](const std::string& program, const std::string& name) {
    const std::string to = dir + "/" + name;
    fs::copy_file(program, to);
    fs::permissions(to, fs::perms::owner_all);
    return to;
  };
  const std::string sopir = installed(SOPIR_BIN, "sopir");
  const std::string against_name = against;
  if (!against.empty()) against = installed(against, "against");

  if (!keep.empty()) {
    fs::remove_all(dir);
    fs::create_directories(keep);
    const std::string kept = keep + "/big.db";
    if (fs::exists(kept)) {
      std::fprintf(stderr, "cli_bench: %s exists; give a new directory\n", kept.c_str());
      return 2;
    }
    const std::vector<std::string> ids = build(kept, cases);
    std::printf("%s: %d cases in consent, e.g. %s\n", kept.c_str(), cases, ids.front().c_str());
    return 0;
  }
  auto t = Timer::now();
  const std::vector<std::string> ids = build(db, cases);
  const double build_s = seconds_since(t);

  // Copies for the import part, taken before any measured write.
  const std::string import_sopir = dir + "/import-sopir.db", import_raw = dir + "/import-raw.db";
  fs::copy_file(db, import_sopir);
  fs::copy_file(db, import_raw);
  // The build and the copies leave about 700 MB for the kernel to write
  // back; written now, that work does not fall into the timed parts.
  ::sync();

  // (a) advance: sopir and sqlite3 alternate, each on a fresh case (and the
  // other sopir, when given, which goes first in every other round).
  std::vector<double> sopir_s, sqlite_s, against_s;
  StoreOptions plain;
  const int64_t rows_before = open_sqlite_store(db, plain)->chain_head().first;
  const int per_round = against.empty() ? 2 : 3;
  auto advance = [&](const std::string& program, const std::string& id) {
    return run({program, "--db", db, "--as", "cw", "case", "advance", id, "give_consent", "--set",
                "consent_sharing=true", "--set", "consent_tracing=true"});
  };
  for (int i = 0; i < kRuns; ++i) {
    const std::string& a = ids[static_cast<size_t>(per_round * i)];
    const std::string& b = ids[static_cast<size_t>(per_round * i + 1)];
    const bool other_first = !against.empty() && i % 2 == 1;
    if (other_first) against_s.push_back(advance(against, ids[static_cast<size_t>(per_round * i + 2)]));
    sopir_s.push_back(advance(sopir, a));
    std::string sql;
    {
      auto store = open_sqlite_store(db, plain);
      sql = same_step_sql(*store, a, b);
    }
    sqlite_s.push_back(run({"/usr/bin/sqlite3", "-init", "/dev/null", "-batch", db, sql}));
    if (!against.empty() && !other_first) against_s.push_back(advance(against, ids[static_cast<size_t>(per_round * i + 2)]));
  }
  const double sopir_med = median(sopir_s), sqlite_med = median(sqlite_s);
  // The baseline's steps are linked as sopir's are: each case it advanced
  // names its newest row, and that row its previous one.
  {
    SQLite::Database check(db, SQLite::OPEN_READONLY);
    SQLite::Statement linked(
        check,
        "SELECT c.head_row = t.seq AND t.prev_row IS NOT NULL FROM cases c "
        "JOIN transitions t ON t.seq = (SELECT max(seq) FROM transitions WHERE case_id = c.id) "
        "WHERE c.id = ?");
    for (int i = 0; i < kRuns; ++i) {
      linked.bind(1, ids[static_cast<size_t>(per_round * i + 1)]);
      if (!linked.executeStep() || linked.getColumn(0).getInt() != 1) {
        std::fprintf(stderr, "cli_bench: the baseline's step on %s is not linked as sopir's\n",
                     ids[static_cast<size_t>(per_round * i + 1)].c_str());
        return 2;
      }
      linked.reset();
    }
  }
  // Every side really wrote its step: one log row each per run.
  const int64_t rows_after = open_sqlite_store(db, plain)->chain_head().first;
  if (rows_after != rows_before + per_round * kRuns) {
    std::fprintf(stderr, "cli_bench: expected %d new log rows from part (a), found %lld\n", per_round * kRuns,
                 static_cast<long long>(rows_after - rows_before));
    return 2;
  }

  // (c) todo: what the worker may do in each active case, beside reading
  // those cases and their logs, both with the file mapped (sopir maps it
  // for the length of a read snapshot).
  std::vector<double> todo_s, read_s, todo_against_s;
  const std::string read_sql =
      "SELECT count(*), sum(length(c.data)), sum(length(t.record)) FROM cases c "
      "JOIN transitions t ON t.case_id = c.id WHERE c.status = 'active'";
  for (int i = 0; i < (quick ? 5 : 3); ++i) {
    todo_s.push_back(run({sopir, "--db", db, "--as", "cw", "todo"}));
    read_s.push_back(run({"/usr/bin/sqlite3", "-init", "/dev/null", "-batch", "-readonly", "-cmd",
                          "PRAGMA mmap_size = 1073741824", db, read_sql}));
    if (!against.empty()) todo_against_s.push_back(run({against, "--db", db, "--as", "cw", "todo"}));
  }

  // (b) import.
  const std::string csv = dir + "/arrivals.csv";
  {
    std::ofstream out(csv);
    out << "full_name,is_child,referral_source,age,note\n";
    for (int i = 0; i < import_rows; ++i)
      out << "Pendatang Contoh " << i << ",false,police," << 20 + i % 40 << ",arrived by ship\n";
  }
  int64_t head_before = 0, text_before = 0;
  {
    SQLite::Database copy(import_sopir, SQLite::OPEN_READONLY);
    head_before = copy.execAndGet("SELECT coalesce(max(seq), 0) FROM transitions").getInt64();
    text_before = copy.execAndGet("SELECT coalesce(max(rowid), 0) FROM personal_text").getInt64();
  }
  const double import_s =
      run({sopir, "--db", import_sopir, "--as", "cw", "case", "import", csv, "--sop", kSop});
  const double raw_s = raw_insert(import_sopir, import_raw, head_before, text_before);

  const bool clean = chain_clean(db) && chain_clean(import_sopir) && chain_clean(import_raw);
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = -1;

  std::printf("cli_bench%s: %d cases (built in %.1f s), load average %.2f\n", quick ? " --quick" : "",
              cases, build_s, load[0]);
  std::printf("  (a) one case advance, process start to exit, median of %d:\n", kRuns);
  std::printf("      sopir   %7.1f ms\n", sopir_med * 1000);
  std::printf("      sqlite3 %7.1f ms  (same INSERT + UPDATE, baseline)\n", sqlite_med * 1000);
  std::printf("      ratio   %7.2fx  (target <= 1.3x)\n", sopir_med / sqlite_med);
  if (!against.empty())
    std::printf("      against %7.1f ms  %.2fx sqlite3 (%s, same rounds)\n", median(against_s) * 1000,
                median(against_s) / sqlite_med, against_name.c_str());
  std::printf("  (b) case import of %d cases, one transaction:\n", import_rows);
  std::printf("      sopir       %7.3f s  (%.0f cases/s, process start to exit)\n", import_s,
              import_rows / import_s);
  std::printf("      raw SQLite  %7.3f s  (same rows, SQLiteCpp, baseline)\n", raw_s);
  std::printf("      ratio baseline/sopir %.2f  (target >= 0.5)\n", raw_s / import_s);
  std::printf("  (c) todo of the case worker, every case active, process start to exit, median of %zu:\n",
              todo_s.size());
  std::printf("      sopir   %7.3f s\n", median(todo_s));
  std::printf("      sqlite3 %7.3f s  (reading the active cases and their log rows, baseline)\n", median(read_s));
  std::printf("      ratio   %7.1fx  (reported)\n", median(todo_s) / median(read_s));
  if (!against.empty())
    std::printf("      against %7.3f s  (%s, same rounds)\n", median(todo_against_s), against_name.c_str());
  std::printf("  hash chains: %s\n", clean ? "clean" : "BROKEN");
  fs::remove_all(dir);
  return clean ? 0 : 1;
}
