// list_bench: what `sopir case list` does for a member of one site, on a
// database of 1,000,000 cases spread over 100 sites (--quick: 100,000), on
// SQLite and on the PostgreSQL test server, each beside a baseline measured
// in the same run (issue #13, "Speed": under 20 ms on the server).
//
//   list_bench [--quick] [--keep]   --keep: leave the server database and its
//                                   logins in place and print their URLs
//                                   (for EXPLAIN and profiling)
//
// What is timed is the store calls the command makes (src/cmd_case.cc):
// Store::cases with the member's site and the page's limit (50 rows), then,
// the page being full, Store::count_cases for the "N more" line. On the
// server it runs in the member's own session (their server login), so
// row-level security (PostgreSQL schema 8) is on, as for the command.
//
// The baseline is the least work that does the same job: the same page of
// ids from a table holding only (site, opened_at, id) as its primary key,
// no row-level security, same rows, same database; once the page alone,
// once the page and the count of the site's rows (the "N more" line).
//
// The cases are real sopir rows: one case opened through the engine under
// a published procedure (with its log row), then copied by one INSERT ...
// SELECT with its own id, site and times; the copies have no log rows
// (listing reads none). Without SOPIR_TEST_PG the server part says so and
// is left out.
#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "sopir/engine.h"
#include "sopir/error.h"
#include "sopir/store.h"
#include "store/pg_connection.h"

namespace {

using namespace sopir;
using Timer = std::chrono::steady_clock;

constexpr const char* kProcedure = R"(sop: list-bench
version: 1
title: List bench
roles: [worker]
fields:
  category:
    type: enum
    values:
      - {id: overstay, label: Overstay}
      - {id: undocumented, label: Undocumented}
    label: Category
  count: {type: int, label: Count}
states:
  registered: {label: Registered, initial: true, deadline: 7d}
  done: {label: Done, terminal: true}
transitions:
  - {event: finish, from: registered, to: done, roles: [worker]}
open:
  requires: [category]
  accepts: [count]
)";

constexpr int kSites = 100;
constexpr int kPage = 50;                  // the command's page (kPageRows)
constexpr int64_t kFirstOpened = 1767225600;  // 2026-01-01
const char* const kMember = "budi";
const char* const kAdmin = "rina";

std::string site_id(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "site-%02d", i);
  return id;
}
const std::string kMemberSite = site_id(42);

// The template case gets this id; the copies' ids are 6 Crockford digits
// of (n * 48271) mod 2^30, n = 1..N: all different and none 000-000.
class TemplateId : public IdSource {
 public:
  std::string next() override { return "000-000"; }
};

// SQL (the same text in SQLite and PostgreSQL) of the copy number `n`'s
// id, opening time and site.
std::string copy_columns(const std::string& n) {
  const std::string x = "((" + n + " * 48271) % 1073741824)";
  auto digit = [&](int shift) {
    return "substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', CAST(((" + x + " >> " + std::to_string(shift) +
           ") & 31) + 1 AS integer), 1)";
  };
  const std::string site = "(" + n + " % " + std::to_string(kSites) + ")";
  return digit(25) + " || " + digit(20) + " || " + digit(15) + " || '-' || " + digit(10) + " || " + digit(5) +
         " || " + digit(0) + ", " + std::to_string(kFirstOpened) + " + " + n + " * 31, 'site-' || " +
         "CASE WHEN " + site + " < 10 THEN '0' ELSE '' END || " + site;
}

class StepClock : public sopir::Clock {
 public:
  DateTime now() override { return DateTime{t_ += 7}; }

 private:
  int64_t t_ = kFirstOpened - 86400;
};

// Staff, sites, the procedure and the template case (at site-00) through
// the engine; `server`: the first administrator's login is the session's.
void set_up(Engine& engine, bool server) {
  Store& store = engine.store();
  const DateTime at = engine.clock().now();
  if (server) Engine::add_first_administrator_on_server(store, kAdmin, "Rina Contoh");
  else Engine::add_first_administrator(store, kAdmin, "Rina Contoh");
  const RegistryStamp by{kAdmin, at};
  store.set_staff_role(kAdmin, "worker", true, by);
  for (int i = 0; i < kSites; ++i) store.add_site({site_id(i), "Office " + std::to_string(i)}, by);
  store.set_staff_site(kAdmin, site_id(0), true, by);
  store.add_staff({kMember, "Budi Contoh", {"worker"}, true, "", {kMemberSite}}, by);
  engine.publish_source(kProcedure, "list-bench.yaml", kAdmin);
  OpenRequest open{"list-bench", kAdmin, {{"category", "overstay"}, {"count", "3"}}, "", std::nullopt, site_id(0)};
  engine.open_case(open);
}

struct Figures {
  std::vector<double> ms;
  double median() const { return at(0.5); }
  double p95() const { return at(0.95); }
  double at(double q) const {
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
  }
};

double ms_of(const std::function<void()>& job) {
  const auto start = Timer::now();
  job();
  return std::chrono::duration<double, std::milli>(Timer::now() - start).count();
}

// Runs the jobs `runs` times each, interleaved (after two warm-up rounds).
std::vector<Figures> interleaved(const std::vector<std::function<void()>>& jobs, int runs) {
  std::vector<Figures> out(jobs.size());
  for (int round = -2; round < runs; ++round)
    for (size_t j = 0; j < jobs.size(); ++j) {
      const double ms = ms_of(jobs[j]);
      if (round >= 0) out[j].ms.push_back(ms);
    }
  return out;
}

// The command's filter for a member of the one site kMemberSite.
CaseFilter page_filter() {
  CaseFilter filter;
  filter.sites = std::vector<std::string>{kMemberSite};
  filter.limit = kPage;
  return filter;
}

// What run_case_list does with the store: the page, and the count when
// the page is full. Returns the page's size and the count (0 when not
// asked).
std::pair<size_t, int64_t> sopir_list(Store& store) {
  const CaseFilter filter = page_filter();
  const std::vector<CaseRecord> page = store.cases(filter);
  int64_t count = 0;
  if (static_cast<int64_t>(page.size()) == filter.limit) count = store.count_cases(filter);
  return {page.size(), count};
}

void print_row(const char* what, const Figures& f, double reference) {
  std::printf("  %-46s median %7.2f ms  p95 %7.2f ms", what, f.median(), f.p95());
  if (reference > 0) std::printf("  (%.2fx)", f.median() / reference);
  std::printf("\n");
}

void report(const char* backend, const std::vector<Figures>& f, int runs) {
  std::printf("%s, %d runs each, interleaved:\n", backend, runs);
  print_row("sopir: Store::cases + count_cases", f[0], 0);
  print_row("  of which Store::cases (the page) alone", f[3], 0);
  print_row("baseline: the page of ids", f[1], 0);
  print_row("baseline: the page of ids and the count", f[2], 0);
  std::printf("  sopir / baseline (page and count): %.2f; target: median under 20 ms: %s\n",
              f[0].median() / f[2].median(), f[0].median() < 20 ? "met" : "NOT met");
}

std::string with_database(const std::string& url, const std::string& name) {
  const size_t slash = url.rfind('/');
  const size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

std::string with_user(const std::string& url, const std::string& user, const std::string& password) {
  const size_t scheme = url.find("//");
  const size_t at = url.find('@', scheme);
  return url.substr(0, scheme + 2) + user + ":" + password + url.substr(at);
}

void sqlite_part(int64_t cases, int runs) {
  char dir_template[] = "/tmp/sopir-list-bench-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string path = dir + "/list.db";
  const auto fill_start = Timer::now();
  {
    StoreOptions options;
    options.create = true;
    options.synchronous_full = false;
    Engine engine(open_sqlite_store(path, options), std::make_shared<StepClock>(), std::make_shared<TemplateId>());
    set_up(engine, false);
  }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA journal_mode = WAL");
    SQLite::Transaction fill(db);
    db.exec("INSERT INTO cases (id, opened_at, site, sop_id, sha256, state, status, data, version, last_seq, "
            "due_at, hold_started, closure_reason, parent_case, head_hash) "
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
            std::to_string(cases) + ") SELECT " + copy_columns("i") +
            ", t.sop_id, t.sha256, t.state, t.status, t.data, t.version, t.last_seq, "
            "t.due_at - t.opened_at + " + std::to_string(kFirstOpened) + " + i * 31, NULL, '', NULL, t.head_hash "
            "FROM n, (SELECT * FROM cases WHERE id = '000-000') t");
    db.exec("CREATE TABLE list_floor (site TEXT, opened_at INTEGER, id TEXT, PRIMARY KEY (site, opened_at, id)) "
            "WITHOUT ROWID");
    db.exec("INSERT INTO list_floor SELECT site, opened_at, id FROM cases");
    fill.commit();
  }
  const double fill_s = std::chrono::duration<double>(Timer::now() - fill_start).count();
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = open_sqlite_store(path, read_only);
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement page(db, "SELECT id FROM list_floor WHERE site = ? ORDER BY opened_at, id LIMIT 50");
  SQLite::Statement count(db, "SELECT count(*) FROM list_floor WHERE site = ?");
  size_t floor_rows = 0;
  int64_t floor_count = 0;
  auto floor_page = [&] {
    page.reset();
    page.bind(1, kMemberSite);
    floor_rows = 0;
    while (page.executeStep()) floor_rows += page.getColumn(0).size() > 0;
  };
  auto floor_count_job = [&] {
    count.reset();
    count.bind(1, kMemberSite);
    count.executeStep();
    floor_count = count.getColumn(0).getInt64();
  };
  std::pair<size_t, int64_t> listed;
  const auto f = interleaved({[&] { listed = sopir_list(*store); }, floor_page,
                              [&] {
                                floor_page();
                                floor_count_job();
                              },
                              [&] { store->cases(page_filter()); }},
                             runs);
  std::printf("SQLite: %lld cases over %d sites (filled in %.1f s); the member's site %s: page of %zu, %lld "
              "cases (baseline: %zu, %lld)\n",
              static_cast<long long>(store->count_cases(CaseFilter{})), kSites, fill_s, kMemberSite.c_str(),
              listed.first, static_cast<long long>(listed.second), floor_rows,
              static_cast<long long>(floor_count));
  report("SQLite", f, runs);
  store.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  ::rmdir(dir.c_str());
}

int postgres_part(const std::string& admin_url, int64_t cases, int runs, bool keep) {
  const std::string tag = std::to_string(::getpid());
  const std::string database = "sopir_list_" + tag, owner = "list_owner_" + tag;
  const std::string member_login = "list_member_" + tag;
  const std::string owner_password = sha256_hex("owner-" + tag + std::to_string(Timer::now().time_since_epoch().count()))
                                         .substr(0, 24);
  const std::string member_password = sha256_hex("member-" + owner_password).substr(0, 24);
  pg::Connection admin(admin_url, 10);
  admin.exec("CREATE ROLE " + owner + " LOGIN CREATEROLE PASSWORD '" + owner_password + "'");
  admin.exec("CREATE DATABASE " + database + " OWNER " + owner);
  int rc = 0;
  try {
    const std::string db_url = with_database(admin_url, database);
    pg::Connection(db_url, 10).exec("ALTER SCHEMA public OWNER TO " + owner);
    const std::string owner_url = with_user(db_url, owner, owner_password);
    const auto fill_start = Timer::now();
    {
      StoreOptions create;
      create.create = true;
      Engine engine(open_store(owner_url, create), std::make_shared<StepClock>(), std::make_shared<TemplateId>());
      set_up(engine, true);
      engine.store().set_staff_login(kMember, member_login, member_password, RegistryStamp{kAdmin, engine.clock().now()});
    }
    {
      // The table owner's session (an administrator's: row-level security
      // lets it write every site).
      pg::Connection owner_conn(owner_url, 10);
      owner_conn.exec(
          "INSERT INTO cases (id, opened_at, site, sop_id, sha256, state, status, data, version, last_seq, due_at, "
          "hold_started, closure_reason, parent_case, head_hash) SELECT " +
          copy_columns("n") + ", t.sop_id, t.sha256, t.state, t.status, t.data, t.version, t.last_seq, "
          "t.due_at - t.opened_at + " + std::to_string(kFirstOpened) + " + n * 31, NULL, '', NULL, t.head_hash "
          "FROM generate_series(1::bigint, " + std::to_string(cases) + ") n, "
          "(SELECT * FROM cases WHERE id = '000-000') t");
      owner_conn.exec("CREATE TABLE list_floor (site text COLLATE \"C\", opened_at bigint, id text COLLATE \"C\", "
                      "PRIMARY KEY (site, opened_at, id))");
      owner_conn.exec("INSERT INTO list_floor SELECT site, opened_at, id FROM cases");
      // What autovacuum does to a table after many inserts, done now.
      owner_conn.exec("VACUUM ANALYZE cases");
      owner_conn.exec("VACUUM ANALYZE list_floor");
    }
    const double fill_s = std::chrono::duration<double>(Timer::now() - fill_start).count();

    auto store = open_store(with_user(db_url, member_login, member_password), StoreOptions{});
    const SessionIdentity who = store->session_identity();
    if (who.staff_id != kMember || who.sees_every_site)
      throw std::runtime_error("the member's session is not held to their site (row-level security off?)");
    pg::Connection floor(owner_url, 10);
    size_t floor_rows = 0;
    int64_t floor_count = 0;
    auto floor_page = [&] {
      floor_rows = static_cast<size_t>(
          floor
              .run("floor_page", "SELECT id FROM list_floor WHERE site = $1 ORDER BY opened_at, id LIMIT 50",
                   {kMemberSite})
              .rows());
    };
    auto floor_count_job = [&] {
      floor_count = floor.run("floor_count", "SELECT count(*) FROM list_floor WHERE site = $1", {kMemberSite})
                        .integer(0, 0);
    };
    std::pair<size_t, int64_t> listed;
    const auto f = interleaved({[&] { listed = sopir_list(*store); }, floor_page,
                                [&] {
                                  floor_page();
                                  floor_count_job();
                                },
                                [&] { store->cases(page_filter()); }},
                               runs);
    const int64_t seen = store->count_cases(CaseFilter{});
    const int64_t all = pg::Connection(db_url, 10).exec("SELECT count(*) FROM cases").integer(0, 0);
    std::printf("\nPostgreSQL: %lld cases over %d sites (filled in %.1f s); the member's session sees %lld (its "
                "site %s): page of %zu, %lld cases (baseline: %zu, %lld)\n",
                static_cast<long long>(all), kSites, fill_s, static_cast<long long>(seen), kMemberSite.c_str(),
                listed.first, static_cast<long long>(listed.second), floor_rows,
                static_cast<long long>(floor_count));
    report("PostgreSQL, the member's session (row-level security on)", f, runs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "list_bench: %s\n", e.what());
    rc = 1;
  }
  if (keep) {
    const std::string db_url = with_database(admin_url, database);
    std::printf("\nkept: the owner's URL %s\n      the member's URL %s\n",
                with_user(db_url, owner, owner_password).c_str(),
                with_user(db_url, member_login, member_password).c_str());
    return rc;
  }
  admin.exec("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  admin.exec("DROP ROLE IF EXISTS " + member_login);
  admin.exec("DROP ROLE IF EXISTS " + owner);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, keep = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--keep") == 0) {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: list_bench [--quick] [--keep]\n");
      return 2;
    }
  }
  const int64_t cases = quick ? 100000 : 1000000;
  const int runs = quick ? 30 : 200;
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = -1;
  std::printf("list_bench%s: `case list` for a member of one site among %lld cases over %d sites, page of %d; "
              "load average %.2f\n\n",
              quick ? " --quick" : "", static_cast<long long>(cases), kSites, kPage, load[0]);
  try {
    sqlite_part(cases, runs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "list_bench: %s\n", e.what());
    return 1;
  }
  const char* server = std::getenv("SOPIR_TEST_PG");
  if (!server || !*server) {
    std::printf("\nPostgreSQL part left out: SOPIR_TEST_PG is not set (scripts/pg-server.sh starts a test server)\n");
    return 0;
  }
  return postgres_part(server, cases, runs, keep);
}
