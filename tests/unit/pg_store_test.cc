// What only the PostgreSQL store has: opening a server database (bad URLs,
// unreachable servers, refused logins, missing, foreign or newer
// databases), its schema checks, and faults: a backend terminated between
// or inside writes, a server restarted mid-stream, a lock held too long.
// Against the real test server (SOPIR_TEST_PG, test_backends.h); the
// behaviour both stores share is tested in store_test.cc on both.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <regex>
#include <unistd.h>

#include "sopir/error.h"
#include "sopir/store.h"
#include "sopir/key_file.h"
#include "store/pg_schema.h"
#include "store/sealing.h"
#include "test_backends.h"

using namespace sopir;
using sopir::testing::PgTestDatabase;
using sopir::testing::test_server_url;
using sopir::testing::with_database;

namespace {

using testing::creating;

template <typename F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("no sopir::Error thrown");
  return usage_error("");
}

const std::string kSource = "id: pmi_shelter\nstates: [registered, screened]\n";
const std::string kSha = sha256_hex(kSource);

CaseRecord new_case(const std::string& id) {
  CaseRecord r;
  r.id = id;
  r.sop_id = "pmi_shelter";
  r.sha256 = kSha;
  r.state = "registered";
  r.data = {testing::plain("counter", "0"), testing::personal("name", "Sari Dewi")};
  r.version = 1;
  r.opened_at = DateTime{1790000000};
  return r;
}

LogEntry open_entry(const CaseRecord& r) {
  LogEntry e;
  e.sha256 = r.sha256;
  e.kind = LogKind::kOpen;
  e.event = "open";
  e.to_state = r.state;
  e.to_status = "active";
  e.actor = "dewi";
  e.role = "registrar";
  e.occurred_at = r.opened_at;
  e.recorded_at = r.opened_at;
  for (const auto& v : r.data) e.changes.push_back({testing::plain(v.field, ""), v});
  return e;
}

void open_case(Store& store, const std::string& id) {
  CaseRecord r = new_case(id);
  LogEntry e = open_entry(r);
  store.create_case(r, e);
}

// Moves case `id` one step on, as read now.
void step(Store& store, const std::string& id) {
  const CaseRecord now = *store.find_case(id);
  CaseRecord next = now;
  next.version = now.version + 1;
  next.state = "s" + std::to_string(next.version);
  LogEntry e;
  e.sha256 = now.sha256;
  e.event = "go";
  e.from_state = now.state;
  e.to_state = next.state;
  e.from_status = e.to_status = "active";
  e.actor = "budi";
  e.role = "social_worker";
  e.occurred_at = e.recorded_at = DateTime{1790000000 + next.version};
  store.append(next, now.version, e);
}

// Each chain's rows (a case's; the registry's, case id "") chain from "" by
// prev_hash, case_seq 1, 2, ..., and the case row holds the newest; returns
// the number of case rows.
int64_t verify_chains(Store& store) {
  std::map<std::string, std::pair<int64_t, std::string>> heads;
  int64_t rows = 0;
  store.scan_chain([&](const ChainRow& row) {
    auto& head = heads[std::string(row.case_id)];
    REQUIRE(row.case_seq == head.first + 1);
    REQUIRE(row.prev_hash == head.second);
    Sha256 hash;
    hash.update(row.prev_hash);
    hash.update(row.record);
    REQUIRE(row.hash == hash.hex_digest());
    head = {row.case_seq, std::string(row.hash)};
    if (!row.case_id.empty()) ++rows;
    return true;
  });
  for (const auto& [id, head] : heads) {
    if (id.empty()) continue;  // the registry chain
    const auto c = store.find_case(id);
    REQUIRE(c);
    REQUIRE(c->last_seq == head.first);
  }
  return rows;
}

// Ends the store's server session(s) on `db` from another connection.
void terminate_sessions(const PgTestDatabase& db) {
  pg::Connection admin(db.admin_url(), 10);
  const pg::Result r = admin.exec(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'sopir'",
      {db.name()});
  REQUIRE(r.integer(0, 0) >= 1);
}

// The test server's URL, or skip (a FAIL in CI).
#define NEED_SERVER()                          \
  if (test_server_url().empty()) return;

}  // namespace

TEST_CASE("a URL libpq cannot read is a usage error naming the form", "[pg]") {
  for (const char* url : {"postgresql://sopir@localhost:5432/db?colour=blue",
                          "postgresql://sopir@localhost:5432/db?sslmode=sometimes", "postgresql://[::1/db"}) {
    INFO(url);
    const Error e = error_of([&] { open_store(url, {}); });
    CHECK(e.kind() == ErrorKind::kUsage);
    CHECK_THAT(e.message(), Catch::StartsWith("not a PostgreSQL URL: "));
    CHECK_THAT(e.message(), Catch::EndsWith("; give postgresql://USER:PASSWORD@HOST:PORT/DATABASE"));
  }
  CHECK(is_server_url("postgres://x/y"));
  CHECK_FALSE(is_server_url("shelter.db"));
}

TEST_CASE("an unreachable server is kStorage naming it, never its password", "[pg]") {
  // Port 1 on the loopback: nothing listens there.
  const Error e = error_of([] { open_store("postgresql://sopir:secret@127.0.0.1:1/national", {}); });
  CHECK(e.kind() == ErrorKind::kStorage);
  CHECK_THAT(e.message(), Catch::StartsWith("cannot reach the PostgreSQL server at postgresql://sopir@127.0.0.1:1/national ("));
  CHECK_THAT(e.message(), Catch::EndsWith("); check that it runs and that the host and port in the URL are right"));
  CHECK(e.message().find("secret") == std::string::npos);
  CHECK(display_location("postgresql://sopir:secret@127.0.0.1:1/national") == "postgresql://sopir@127.0.0.1:1/national");
}

TEST_CASE("a wrong password, a missing database and an empty one each say so", "[pg]") {
  NEED_SERVER();
  PgTestDatabase db;
  const std::string wrong = std::regex_replace(db.url(), std::regex(":[^:@/]+@"), ":not-the-password@");
  REQUIRE(wrong != db.url());
  const Error login = error_of([&] { open_store(wrong, {}); });
  CHECK(login.kind() == ErrorKind::kStorage);
  CHECK_THAT(login.message(), Catch::StartsWith("cannot log in to the PostgreSQL server at postgresql://sopir@"));
  CHECK_THAT(login.message(), Catch::EndsWith("; check the password in the URL or in ~/.pgpass"));
  CHECK(login.message().find("not-the-password") == std::string::npos);

  const Error missing = error_of([&] { open_store(with_database(db.url(), "no_such_db"), creating()); });
  CHECK(missing.kind() == ErrorKind::kNotFound);
  CHECK_THAT(missing.message(), Catch::Contains("sopir creates its tables"));

  const Error empty = error_of([&] { open_store(db.url(), {}); });
  CHECK(empty.kind() == ErrorKind::kNotFound);
  CHECK(empty.message() == "no sopir database at " + display_location(db.url()) + " (it is empty)");
  StoreOptions read_only;
  read_only.read_only = true;
  read_only.create = true;
  CHECK(error_of([&] { open_store(db.url(), read_only); }).kind() == ErrorKind::kNotFound);
  // Nothing was created by any of these.
  pg::Connection raw(db.url(), 10);
  CHECK(raw.exec("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").integer(0, 0) == 0);
}

TEST_CASE("a database of something else, or from a newer sopir, is refused and left as it was", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  SECTION("another program's tables") {
    db.exec("CREATE TABLE invoices (id integer)");
    const Error e = error_of([&] { open_store(db.location(), creating()); });
    CHECK(e.kind() == ErrorKind::kStorage);
    CHECK_THAT(e.message(), Catch::EndsWith("holds tables but is not a sopir database; give an empty database for a new one"));
  }
  SECTION("a newer schema") {
    open_store(db.location(), creating()).reset();
    db.exec("UPDATE sopir_schema SET version = 99");
    const std::string before = db.snapshot();
    StoreOptions read_only;
    read_only.read_only = true;
    for (const auto& options : {StoreOptions{}, creating(), read_only}) {
      const Error e = error_of([&] { open_store(db.location(), options); });
      CHECK(e.kind() == ErrorKind::kStorage);
      CHECK(e.message() == "database " + display_location(db.location()) +
                               " was written by a newer sopir (schema 99, this sopir knows up to " +
                               std::to_string(pg::latest_schema_version()) + "); use that sopir or a newer one");
    }
    CHECK(db.snapshot() == before);
  }
}

TEST_CASE("schema_changes: none on a fresh database; removed or disabled protections are named", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = open_store(db.location(), creating());
  CHECK(store->schema_changes().empty());
  db.exec("ALTER TABLE transitions DISABLE TRIGGER transitions_no_change");
  db.exec("DROP TRIGGER transitions_no_truncate ON transitions");
  const auto changes = store->schema_changes();
  REQUIRE(changes.size() == 2);
  CHECK_THAT(changes[0], Catch::StartsWith("the trigger transitions_no_change was redefined"));
  CHECK_THAT(changes[0], Catch::Contains("(disabled)"));
  CHECK(changes[1] == "the trigger transitions_no_truncate is missing: a protection of the log was removed");
}

TEST_CASE("schema_changes: the check of the logged-in actor switched off is named", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = open_store(db.location(), creating());
  db.exec("CREATE OR REPLACE FUNCTION sopir_actor_is_session() RETURNS trigger LANGUAGE plpgsql AS "
          "$b$ BEGIN RETURN NEW; END $b$");
  db.exec("ALTER TABLE transitions DISABLE TRIGGER transitions_actor_is_session");
  const auto changes = store->schema_changes();
  REQUIRE(changes.size() == 2);
  CHECK_THAT(changes[0], Catch::StartsWith("the function sopir_actor_is_session was redefined"));
  CHECK_THAT(changes[1], Catch::StartsWith("the trigger transitions_actor_is_session was redefined"));
  CHECK_THAT(changes[1], Catch::Contains("(disabled)"));
}

TEST_CASE("schema_changes: how a function runs (SECURITY DEFINER, its search_path) is compared too",
          "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = open_store(db.location(), creating());
  CHECK(db.query("SELECT array_to_string(proconfig, ', ') FROM pg_proc WHERE proname = "
                 "'sopir_child_cases'") == "search_path=pg_catalog, pg_temp");
  // The bodies stay as they were: only how each runs changes.
  db.exec("ALTER FUNCTION sopir_child_cases(text) SET search_path = public, pg_catalog");
  db.exec("ALTER FUNCTION sopir_personal_gone(text[]) SECURITY INVOKER");
  db.exec("ALTER FUNCTION sopir_session_roles() SECURITY DEFINER");
  const auto changes = store->schema_changes();
  REQUIRE(changes.size() == 3);
  CHECK(changes[0] ==
        "the function sopir_child_cases runs as SECURITY DEFINER, search_path=public, pg_catalog "
        "where sopir makes "
        "it SECURITY DEFINER, search_path=pg_catalog, pg_temp: it is not the one sopir creates "
        "(compare with "
        "docs/SCHEMA.md)");
  CHECK(changes[1] ==
        "the function sopir_personal_gone runs as SECURITY INVOKER, search_path=pg_catalog, "
        "pg_temp where sopir "
        "makes it SECURITY DEFINER, search_path=pg_catalog, pg_temp: it is not the one sopir "
        "creates (compare "
        "with docs/SCHEMA.md)");
  CHECK(changes[2] ==
        "the function sopir_session_roles runs as SECURITY DEFINER where sopir makes it SECURITY "
        "INVOKER: it is "
        "not the one sopir creates (compare with docs/SCHEMA.md)");
  // A function dropped is named once, by its body's entry.
  db.exec("ALTER FUNCTION sopir_child_cases(text) RESET search_path");
  db.exec("ALTER FUNCTION sopir_personal_gone(text[]) SECURITY DEFINER");
  db.exec("ALTER FUNCTION sopir_session_roles() SECURITY INVOKER");
  db.exec("DROP FUNCTION sopir_personal_gone(text[])");
  const auto dropped = store->schema_changes();
  REQUIRE(dropped.size() == 2);
  CHECK(dropped[0] == "the function sopir_personal_gone is missing");
  // A function of the same name with another argument list is named too, by
  // that list. sopir's own is made again after it (a restored dump may number
  // them so) and is still the one compared, with the same findings as before.
  db.exec("ALTER FUNCTION sopir_child_cases(text) SET search_path = pg_catalog, pg_temp");
  db.exec(
      "CREATE FUNCTION sopir_child_cases(parent integer) RETURNS integer LANGUAGE sql AS $b$ "
      "SELECT 1 $b$");
  const std::string definition =
      db.query("SELECT pg_get_functiondef('sopir_child_cases(text)'::regprocedure)");
  db.exec("DROP FUNCTION sopir_child_cases(text)");
  db.exec(definition);
  CHECK(db.query("SELECT 'sopir_child_cases(text)'::regprocedure::oid > "
                 "'sopir_child_cases(integer)'::regprocedure::oid") == "t");
  const auto overloaded = store->schema_changes();
  REQUIRE(overloaded.size() == 2);
  CHECK(overloaded[0] == "the function sopir_personal_gone is missing");
  CHECK(overloaded[1] ==
        "the function sopir_child_cases(parent integer) was added: sopir does not create it");
  CHECK_THAT(dropped[1],
             Catch::StartsWith("the function sopir_child_cases runs as SECURITY DEFINER where"));
}

TEST_CASE("schema 13: a version 12 database's sopir_child_cases loses public from its search_path",
          "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  {
    pg::Connection conn(db.location(), 10);
    pg::migrate(conn, 12);
  }
  CHECK(db.query("SELECT array_to_string(proconfig, ', ') FROM pg_proc WHERE proname = "
                 "'sopir_child_cases'") == "search_path=pg_catalog, public");
  auto store = open_store(db.location(), StoreOptions{});
  CHECK(db.query("SELECT version FROM sopir_schema") ==
        std::to_string(pg::latest_schema_version()));
  CHECK(db.query("SELECT array_to_string(proconfig, ', ') FROM pg_proc WHERE proname = "
                 "'sopir_child_cases'") == "search_path=pg_catalog, pg_temp");
  CHECK(store->schema_changes().empty());
}

TEST_CASE("a read-only store writes nothing, also at the server", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  open_store(db.location(), creating()).reset();
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = open_store(db.location(), read_only);
  const Error e = error_of([&] { store->add_staff({"sri", "Sri", {}, true}, ::sopir::testing::kByAdmin); });
  CHECK(e.kind() == ErrorKind::kStorage);
  CHECK_THAT(e.message(), Catch::EndsWith(" is open read-only; adding a staff member needs write access"));
  CHECK(store->all_staff().empty());
}

TEST_CASE("a terminated session: the write in flight is not written and says so; the next one reconnects", "[pg]") {
  NEED_SERVER();
  PgTestDatabase db;
  auto store = open_store(db.url(), creating());
  store->publish("pmi_shelter", kSha, kSource, "pmi_shelter.yaml", "admin", DateTime{1789990000});
  open_case(*store, "T-1");
  open_case(*store, "T-2");

  SECTION("between two calls") {
    terminate_sessions(db);
    const Error e = error_of([&] { step(*store, "T-1"); });
    CHECK(e.kind() == ErrorKind::kStorage);
    CHECK_THAT(e.message(), Catch::Contains("lost the connection to the server"));
  }
  SECTION("inside a transaction, after one of its writes") {
    const Error e = error_of([&] {
      store->transaction([&] {
        step(*store, "T-1");
        terminate_sessions(db);
        step(*store, "T-2");
      });
    });
    CHECK(e.kind() == ErrorKind::kStorage);
    CHECK_THAT(e.message(), Catch::Contains("lost the connection to the server"));
    CHECK_THAT(e.message(), Catch::Contains("nothing was written"));
  }
  // Nothing half-written; the store reconnects and goes on.
  CHECK(store->find_case("T-1")->version == 1);
  CHECK(store->find_case("T-2")->version == 1);
  step(*store, "T-1");
  CHECK(verify_chains(*store) == 3);
}

TEST_CASE("a lock held longer than the busy timeout gives up, never hangs, and writes nothing", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  {
    auto setup = open_store(db.location(), creating());
    setup->publish("pmi_shelter", kSha, kSource, "pmi_shelter.yaml", "admin", DateTime{1789990000});
    open_case(*setup, "L-1");
  }
  StoreOptions quick;
  quick.busy_timeout_ms = 300;
  auto store = open_store(db.location(), quick);
  pg::Connection holder(db.location(), 10);
  holder.exec("BEGIN; SELECT 1 FROM cases WHERE id = 'L-1' FOR UPDATE");
  const std::string before = db.snapshot();
  const auto start = std::chrono::steady_clock::now();
  const Error e = error_of([&] { step(*store, "L-1"); });
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(e.kind() == ErrorKind::kStorage);
  CHECK_THAT(e.message(), Catch::EndsWith("the database is busy: another session kept the row locked for more than "
                                          "300 ms; nothing was written"));
  CHECK(waited >= std::chrono::milliseconds(300));
  CHECK(waited < std::chrono::seconds(5));
  CHECK(db.snapshot() == before);
  holder.exec("ROLLBACK");
  step(*store, "L-1");
  CHECK(store->find_case("L-1")->version == 2);
}

TEST_CASE("a server restarted mid-stream: the write in flight fails and says so, the next ones land", "[pg][restart]") {
  NEED_SERVER();
  // A server of its own: restarting the shared one would fail other tests.
  const std::string script = std::string(SOPIR_SOURCE_DIR) + "/scripts/pg-server.sh";
  std::string env;
  {
    FILE* out = ::popen(("bash " + script + " start").c_str(), "r");
    REQUIRE(out);
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, out)) env += buffer;
    REQUIRE(::pclose(out) == 0);
  }
  std::smatch m;
  REQUIRE(std::regex_search(env, m, std::regex("SOPIR_TEST_PG=(\\S+)\\nexport SOPIR_TEST_PG_DIR=(\\S+)")));
  const std::string url = m[1], dir = m[2];
  struct Stop {
    std::string command;
    ~Stop() { (void)std::system(command.c_str()); }
  } stop{"bash " + script + " stop " + dir};

  auto store = open_store(url, creating());
  store->publish("pmi_shelter", kSha, kSource, "pmi_shelter.yaml", "admin", DateTime{1789990000});
  open_case(*store, "R-1");
  for (int i = 0; i < 5; ++i) step(*store, "R-1");
  REQUIRE(std::system(("bash " + script + " restart " + dir).c_str()) == 0);
  const Error e = error_of([&] { step(*store, "R-1"); });
  CHECK(e.kind() == ErrorKind::kStorage);
  CHECK_THAT(e.message(), Catch::Contains("lost the connection to the server"));
  CHECK(store->find_case("R-1")->version == 6);
  for (int i = 0; i < 5; ++i) step(*store, "R-1");
  CHECK(verify_chains(*store) == 11);
}

TEST_CASE("appends to different cases do not wait on each other; to one case they queue", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = open_store(db.location(), creating());
  store->publish("pmi_shelter", kSha, kSource, "pmi_shelter.yaml", "admin", DateTime{1789990000});
  open_case(*store, "P-1");
  open_case(*store, "P-2");
  StoreOptions quick;
  quick.busy_timeout_ms = 300;
  auto other = open_store(db.location(), quick);
  // `store` holds P-1's row in an open transaction: `other` appends to P-2
  // at once, and times out on P-1.
  store->transaction([&] {
    step(*store, "P-1");
    step(*other, "P-2");
    CHECK(error_of([&] { step(*other, "P-1"); }).kind() == ErrorKind::kStorage);
  });
  CHECK(store->find_case("P-1")->version == 2);
  CHECK(store->find_case("P-2")->version == 2);
  CHECK(verify_chains(*store) == 4);
}

TEST_CASE("schema 5: a version 4 database is upgraded and its log takes migration and migration-plan rows", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  {
    pg::Connection conn(db.location(), 10);
    pg::migrate(conn, 4);
  }
  CHECK(db.query("SELECT version FROM sopir_schema") == "4");
  // Version 4's log refuses the new kinds.
  CHECK_THROWS(db.exec("INSERT INTO transitions (record, prev_hash, hash) VALUES "
                       "('{\"case_id\":\"\",\"case_seq\":1,\"kind\":\"migration-plan\",\"event\":\"proposed\","
                       "\"actor\":\"a\",\"occurred_at\":1}', '', 'x')"));
  auto store = open_store(db.location(), StoreOptions{});
  CHECK(db.query("SELECT version FROM sopir_schema") == std::to_string(pg::latest_schema_version()));
  store->add_staff(StaffMember{"admin", "Admin Contoh", {"admin", "policy"}, true}, testing::kByAdmin);
  LogEntry e;
  e.kind = LogKind::kMigrationPlan;
  e.event = registry_event::kProposed;
  e.actor = "admin";
  e.role = "policy";
  e.occurred_at = e.recorded_at = DateTime{1780000000};
  e.inputs = {{"plan", std::string(64, 'a')}};
  store->append_registry(e);
  CHECK(db.query("SELECT count(*) FROM transitions WHERE kind = 'migration-plan'") == "1");
  CHECK(store->schema_changes().empty());
}

namespace {

// A key file made and loaded as `sopir key new` and --key-file would;
// returns its key id.
std::string loaded_key_file() {
  char dir[] = "/tmp/sopir-pgkey-XXXXXX";
  REQUIRE(::mkdtemp(dir));
  const std::string path = std::string(dir) + "/server.key";
  const std::string made = create_key_file(path);
  const std::string id = load_key_file(path);
  std::remove(path.c_str());
  ::rmdir(dir);
  REQUIRE(made == id);
  return id;
}

// A store on a fresh server database with one procedure published and its
// personal text sealed under a key file made and loaded for it.
std::unique_ptr<Store> sealed_store(testing::TestDatabase& db) {
  sealing::forget_database_keys();
  sealing::forget_key_files();
  auto store = open_store(db.location(), creating());
  store->publish("pmi_shelter", kSha, kSource, "p.yaml", "dewi", DateTime{1780000000});
  REQUIRE(store->seal_database_key(loaded_key_file()));
  return store;
}

}  // namespace

// Takes a database of the newest schema back to version 5's shape, as a
// sopir of schema 5 left it: no sites or row-level security (versions 8-10),
// no moved registry (version 11), no presence check (version 12), no key tables, texts without
// their case (version 6).
void back_to_version_5(testing::TestDatabase& db) {
  std::string undo_sites;
  for (const char* table : {"cases", "transitions", "personal_text", "access_log"})
    undo_sites += std::string("ALTER TABLE ") + table + " NO FORCE ROW LEVEL SECURITY; ALTER TABLE " + table +
                  " DISABLE ROW LEVEL SECURITY;";
  for (const char* policy :
       {"cases_read ON cases", "cases_open ON cases", "cases_step ON cases",
        "transitions_read ON transitions", "transitions_append ON transitions",
        "personal_text_read ON personal_text", "personal_text_keep ON personal_text",
        "personal_text_erase ON personal_text", "access_log_read ON access_log",
        "access_log_record ON access_log", "cases_children ON cases",
        "personal_text_presence ON personal_text"})
    undo_sites += std::string("DROP POLICY ") + policy + ";";
  db.exec(undo_sites +
          "DROP FUNCTION sopir_personal_gone(text[]);"
          "DROP FUNCTION sopir_rls_claim_mode(); DROP FUNCTION sopir_session_roles();"
          "DROP FUNCTION sopir_child_cases(text); DROP FUNCTION sopir_definer_reads();"
          "DROP FUNCTION sopir_session_sites(); DROP FUNCTION sopir_session_site_case(text);"
          "ALTER TABLE cases DROP COLUMN site;"
          "ALTER TABLE staff DROP COLUMN sites; DROP TABLE sites;"
          "DROP TABLE moved_registry; DROP FUNCTION sopir_moved_append_only();");
  db.exec("DROP TRIGGER personal_text_sealed ON personal_text; DROP FUNCTION sopir_personal_sealed();"
          "DROP TABLE case_keys; DROP TABLE database_key; DROP INDEX personal_text_by_case;"
          "ALTER TABLE personal_text DROP COLUMN case_id; ALTER TABLE personal_text DROP COLUMN sealed;"
          "ALTER TABLE transitions DROP CONSTRAINT transitions_kind_check;"
          "ALTER TABLE transitions ADD CONSTRAINT transitions_kind_check CHECK (kind IN ('open', 'procedure', "
          "'override', 'lifecycle', 'timer', 'publish', 'staff', 'checkpoint', 'migration', 'migration-plan'));"
          "UPDATE sopir_schema SET version = 5");
}

TEST_CASE("schema 6: a version 5 database with clear personal text is upgraded, then encrypted whole", "[pg]") {
  NEED_SERVER();
  sealing::forget_database_keys();
  sealing::forget_key_files();
  testing::TestDatabase db(testing::Backend::kPostgres);
  {
    auto store = open_store(db.location(), creating());
    store->publish("pmi_shelter", kSha, kSource, "p.yaml", "dewi", DateTime{1780000000});
    open_case(*store, "P-1");
    open_case(*store, "P-2");
    step(*store, "P-1");
  }
  back_to_version_5(db);
  CHECK(db.query("SELECT count(*) FROM personal_text WHERE text = 'Sari Dewi'") == "2");
  // Version 5's log refuses erasure rows.
  CHECK_THROWS(db.exec("INSERT INTO transitions (record, prev_hash, hash) VALUES "
                       "('{\"case_id\":\"X\",\"case_seq\":1,\"kind\":\"erasure\",\"event\":\"erased\","
                       "\"actor\":\"a\",\"occurred_at\":1}', '', 'x')"));
  const std::string rows_before = db.query("SELECT string_agg(hash, ',' ORDER BY seq) FROM transitions");
  const std::string last_before = db.query("SELECT max(seq) FROM transitions");

  // Opening upgrades it: every row kept, every chain verifies, each text
  // names its case (from the log), still in clear: no key yet.
  auto store = open_store(db.location(), StoreOptions{});
  CHECK(db.query("SELECT version FROM sopir_schema") == std::to_string(pg::latest_schema_version()));
  // Every row it had, unchanged (the sites step adds registry rows after).
  CHECK(db.query("SELECT string_agg(hash, ',' ORDER BY seq) FROM transitions WHERE seq <= " + last_before) ==
        rows_before);
  CHECK(verify_chains(*store) == 3);
  CHECK(store->schema_changes().empty());
  CHECK(db.query("SELECT string_agg(case_id, ',' ORDER BY case_id) FROM personal_text") == "P-1,P-2");
  CHECK_FALSE(store->encrypts_personal_data());
  CHECK(store->find_case("P-1")->data[1].text == "Sari Dewi");

  // The first key: every clear text sealed in one transaction.
  const std::string key_id = loaded_key_file();
  CHECK(store->seal_database_key(key_id));
  CHECK(store->key_file_id() == key_id);
  CHECK(db.query("SELECT count(*) FROM personal_text WHERE text IS NOT NULL") == "0");
  CHECK(db.query("SELECT count(*) FROM personal_text WHERE sealed IS NOT NULL") == "2");
  CHECK(db.query("SELECT count(*) FROM case_keys") == "2");
  CHECK(db.query("SELECT count(*) FROM personal_text WHERE encode(sealed, 'escape') LIKE '%Sari%'") == "0");
  CHECK(store->find_case("P-2")->data[1].text == "Sari Dewi");
  // The server refuses clear text now, whoever sends it.
  CHECK_THROWS(db.exec("INSERT INTO personal_text (digest, text) VALUES ('d', 'Rini Contoh')"));
  step(*store, "P-2");
  CHECK(verify_chains(*store) == 4);

  // A process without the key file: locked values, no personal write.
  store.reset();
  sealing::forget_database_keys();
  sealing::forget_key_files();
  auto locked = open_store(db.location(), StoreOptions{});
  CHECK(locked->encrypts_personal_data());
  CHECK_FALSE(locked->personal_data_unlocked());
  const CaseRecord p1 = *locked->find_case("P-1");
  CHECK(p1.data[1].locked);
  CHECK(p1.data[1].text.empty());
  const std::string before = db.snapshot();
  const Error refused_write = error_of([&] { open_case(*locked, "P-3"); });
  CHECK(refused_write.kind() == ErrorKind::kDenied);
  CHECK(db.snapshot() == before);
  // A step that writes no new personal text goes on without the key.
  step(*locked, "P-1");
  CHECK(verify_chains(*locked) == 5);
}

TEST_CASE("erasure on the server: the case key and texts go in the erasure's transaction", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = sealed_store(db);
  open_case(*store, "E-1");
  open_case(*store, "E-2");
  CHECK(store->supports_erasure());
  const CaseRecord held = *store->find_case("E-1");
  CaseRecord after = held;
  after.version = held.version + 1;
  LogEntry e;
  e.sha256 = held.sha256;
  e.kind = LogKind::kErasure;
  e.event = erasure_event::kErased;
  e.from_state = e.to_state = held.state;
  e.from_status = e.to_status = "active";
  e.actor = "dewi";
  e.role = "data_protection";
  e.occurred_at = e.recorded_at = DateTime{1790000100};
  SECTION("a failure in the transaction keeps everything") {
    CHECK_THROWS(store->transaction([&] {
      store->append_held(held, after, e);
      store->erase_personal_data("E-1", {held.data[1].digest});
      throw conflict("stop");
    }));
    CHECK(store->find_case("E-1")->data[1].text == "Sari Dewi");
  }
  SECTION("committed, the value is gone even with the key file") {
    store->transaction([&] {
      store->append_held(held, after, e);
      store->erase_personal_data("E-1", {held.data[1].digest});
    });
    CHECK(store->erased_cleanup());
    CHECK(db.query("SELECT count(*) FROM case_keys WHERE case_id = 'E-1'") == "0");
    CHECK(db.query("SELECT count(*) FROM personal_text WHERE case_id = 'E-1' AND sealed IS NOT NULL") == "0");
    CHECK(db.query("SELECT count(*) FROM transitions WHERE kind = 'erasure'") == "1");
    auto again = open_store(db.location(), StoreOptions{});
    CHECK(again->find_case("E-1")->data[1].erased);
    CHECK(again->find_case("E-2")->data[1].text == "Sari Dewi");
    CHECK(verify_chains(*again) == 3);
  }
}

TEST_CASE("a process that wrote clear text before the key was set is refused clear text after", "[pg]") {
  NEED_SERVER();
  sealing::forget_database_keys();
  sealing::forget_key_files();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto early = open_store(db.location(), creating());
  early->publish("pmi_shelter", kSha, kSource, "p.yaml", "dewi", DateTime{1780000000});
  open_case(*early, "R-1");  // in clear: no key yet (and remembered so)
  CHECK(db.query("SELECT count(*) FROM personal_text WHERE text IS NOT NULL") == "1");
  {
    auto admin = open_store(db.location(), StoreOptions{});
    CHECK(admin->seal_database_key(loaded_key_file()));
  }
  CHECK(db.query("SELECT count(*) FROM personal_text WHERE text IS NOT NULL") == "0");
  // The early store still believes there is no key: the server refuses.
  sealing::forget_database_keys();
  sealing::forget_key_files();
  const std::string before = db.snapshot();
  const Error refused = error_of([&] { open_case(*early, "R-2"); });
  CHECK(refused.kind() == ErrorKind::kDenied);
  CHECK(refused.message().find("refused personal text in clear") != std::string::npos);
  CHECK(db.snapshot() == before);
  // Asked again, it knows the key exists, and without the key file it is refused as any process without it.
  CHECK(error_of([&] { open_case(*early, "R-2"); }).kind() == ErrorKind::kDenied);
  CHECK(early->find_case("R-1")->data[1].locked);
  CHECK(db.snapshot() == before);
}

namespace {

// The next step on `held` (as the store assigned it), giving a new personal
// value when `personal_text` is not empty.
std::pair<CaseRecord, LogEntry> next_step(const CaseRecord& held, const std::string& personal_text = "") {
  CaseRecord after = held;
  after.version = held.version + 1;
  after.state = "s" + std::to_string(after.version);
  LogEntry e;
  e.sha256 = held.sha256;
  e.event = "go";
  e.from_state = held.state;
  e.to_state = after.state;
  e.from_status = e.to_status = "active";
  e.actor = "budi";
  e.role = "social_worker";
  e.occurred_at = e.recorded_at = DateTime{1790000000 + after.version};
  if (!personal_text.empty()) {
    const StoredValue before = after.data[1];
    after.data[1] = testing::personal("name", personal_text);
    e.changes.push_back({before, after.data[1]});
  }
  return {after, e};
}

}  // namespace

TEST_CASE("a held step outside a transaction is one statement: a lost race writes nothing, personal text included",
          "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = open_store(db.location(), creating());
  store->publish("pmi_shelter", kSha, kSource, "pmi_shelter.yaml", "admin", DateTime{1789990000});
  open_case(*store, "H-1");
  const CaseRecord held = *store->find_case("H-1");
  auto [after, e] = next_step(held, "Rina Wulandari");
  store->append_held(held, after, e);
  CHECK(e.case_seq == 2);
  CHECK(e.prev_hash == held.head_hash);
  // The same held row again: the row changed since, so nothing is written
  // (no log row, no case row, no personal text) and the entry is as given.
  auto stale_step = next_step(held, "Ayu Lestari");
  CaseRecord& stale = stale_step.first;
  LogEntry& e2 = stale_step.second;
  const std::string before = db.snapshot();
  const Error lost = error_of([&] { store->append_held(held, stale, e2); });
  CHECK(lost.kind() == ErrorKind::kConflict);
  CHECK_THAT(lost.message(), Catch::Contains("H-1"));
  CHECK(e2.seq == 0);
  CHECK(e2.hash.empty());
  CHECK(db.snapshot() == before);
  CHECK(db.query("SELECT count(*) FROM personal_text") == "2");
  // The row as written goes on.
  CaseRecord now = after;
  set_chain_head(now, e);
  auto [next, e3] = next_step(now, "Dewi Anggraini");
  store->append_held(now, next, e3);
  CHECK(store->find_case("H-1")->data[1].text == "Dewi Anggraini");
  CHECK(verify_chains(*store) == 3);
}

TEST_CASE("nested writes on the server: a failed level is undone, the transaction goes on and commits the rest",
          "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  {
    auto setup = open_store(db.location(), creating());
    setup->publish("pmi_shelter", kSha, kSource, "pmi_shelter.yaml", "admin", DateTime{1789990000});
    for (const char* id : {"N-1", "N-2", "N-3"}) open_case(*setup, id);
  }
  StoreOptions quick;
  quick.busy_timeout_ms = 300;
  auto store = open_store(db.location(), quick);
  SECTION("a lost race (no statement failed)") {
    const CaseRecord stale = *store->find_case("N-2");
    step(*store, "N-2");
    store->transaction([&] {
      step(*store, "N-1");
      auto late = next_step(stale);
      CHECK(error_of([&] { store->append_held(stale, late.first, late.second); }).kind() == ErrorKind::kConflict);
      step(*store, "N-3");
    });
    CHECK(store->find_case("N-2")->version == 2);
  }
  SECTION("a statement the server failed (a lock held too long)") {
    step(*store, "N-2");
    pg::Connection holder(db.location(), 10);
    holder.exec("BEGIN; SELECT 1 FROM cases WHERE id = 'N-2' FOR UPDATE");
    store->transaction([&] {
      step(*store, "N-1");
      CHECK(error_of([&] { step(*store, "N-2"); }).kind() == ErrorKind::kStorage);
      step(*store, "N-3");
    });
    holder.exec("ROLLBACK");
    CHECK(store->find_case("N-2")->version == 2);
  }
  SECTION("a level that failed before sending anything, nested twice") {
    store->transaction([&] {
      step(*store, "N-1");
      CHECK_THROWS(store->transaction([&] {
        store->transaction([&] { step(*store, "N-2"); });
        throw conflict("stop");
      }));
      CHECK_THROWS(store->transaction([&] { throw conflict("stop before any statement"); }));
      step(*store, "N-3");
    });
    CHECK(store->find_case("N-2")->version == 1);
  }
  CHECK(store->find_case("N-1")->version == 2);
  CHECK(store->find_case("N-3")->version == 2);
  // Nothing is left open: a transaction of another session is not kept waiting.
  pg::Connection other(db.location(), 10);
  other.exec("SET lock_timeout = 1000");
  other.exec("BEGIN; SELECT 1 FROM cases FOR UPDATE; ROLLBACK");
  CHECK(verify_chains(*store) == 3 + 2 + (store->find_case("N-2")->version - 1));
}

TEST_CASE("an empty transaction, or one that failed before any statement, leaves the store as it was", "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = open_store(db.location(), creating());
  store->publish("pmi_shelter", kSha, kSource, "pmi_shelter.yaml", "admin", DateTime{1789990000});
  open_case(*store, "E-1");
  store->transaction([] {});
  store->transaction([&] { store->transaction([] {}); });
  CHECK_THROWS(store->transaction([] { throw conflict("stop"); }));
  step(*store, "E-1");
  CHECK(store->find_case("E-1")->version == 2);
}

TEST_CASE("a case's history is whole and in order, shorter than one fetch, as long, and longer",
          "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = sealed_store(db);
  // history() reads a log shorter than one fetch (2,000 rows) by one
  // statement, and a longer one again through a cursor.
  const std::vector<std::pair<std::string, int>> logs = {
      {"H-short", 3}, {"H-page", 2000}, {"H-more", 2001}};
  store->transaction([&] {
    for (const auto& [id, rows] : logs) {
      open_case(*store, id);
      for (int i = 1; i < rows; ++i) step(*store, id);
    }
  });
  store->read_snapshot([&] {
    for (const auto& [id, rows] : logs) {
      const std::vector<LogEntry> history = store->history(id);
      REQUIRE(history.size() == static_cast<size_t>(rows));
      for (int i = 0; i < rows; ++i) CHECK(history[static_cast<size_t>(i)].case_seq == i + 1);
      CHECK(history.front().changes[1].after.text == "Sari Dewi");
      CHECK(history.back().to_state == (rows == 1 ? "registered" : "s" + std::to_string(rows)));
    }
  });
  CHECK(store->history("H-more").size() == 2001);  // outside a transaction too
}

TEST_CASE("personal texts read a fetched batch at a time: every value as read alone, erased and locked ones too",
          "[pg]") {
  NEED_SERVER();
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto store = sealed_store(db);
  // More cases than one fetch (2,000 rows), each with its own name, so a
  // text given to the wrong value shows.
  constexpr int kCases = 2100;
  store->transaction([&] {
    for (int i = 0; i < kCases; ++i) {
      CaseRecord r = new_case("B-" + std::to_string(i));
      r.data[1] = testing::personal("name", "Nama Contoh " + std::to_string(i));
      LogEntry e = open_entry(r);
      store->create_case(r, e);
    }
  });
  const CaseRecord gone = *store->find_case("B-7");
  store->erase_personal_data("B-7", {gone.data[1].digest});
  auto name_of = [](const std::string& id) {
    return "Nama Contoh " + id.substr(2);
  };
  auto check_value = [&](const std::string& id, const StoredValue& value) {
    if (id == "B-7") {
      CHECK(value.erased);
    } else {
      CHECK_FALSE(value.erased);
      CHECK(value.text == name_of(id));
    }
  };
  const std::vector<CaseRecord> all = store->cases(CaseFilter{});
  REQUIRE(all.size() == kCases);
  for (const CaseRecord& c : all) check_value(c.id, c.data[1]);
  CaseFilter page;
  page.limit = 50;  // one statement, no cursor
  for (const CaseRecord& c : store->cases(page)) check_value(c.id, c.data[1]);
  int64_t opens = 0;
  store->scan_chain([&](const ChainRow& row) {
    if (row.case_id.empty()) return true;
    REQUIRE(row.personal);
    REQUIRE(row.personal->size() == 1);
    check_value(std::string(row.case_id), row.personal->front());
    ++opens;
    return true;
  });
  CHECK(opens == kCases);
  LogFilter opened;
  opened.kind = LogKind::kOpen;
  int64_t entries = 0;
  store->scan_log(opened, [&](const LogEntry& e) {
    check_value(e.case_id, e.changes[1].after);
    ++entries;
    return true;
  });
  CHECK(entries == kCases);
  // Without the key file every text but the erased one is locked, none read.
  sealing::forget_database_keys();
  sealing::forget_key_files();
  auto locked = open_store(db.location(), StoreOptions{});
  for (const CaseRecord& c : locked->cases(CaseFilter{})) {
    CHECK(c.data[1].text.empty());
    CHECK((c.id == "B-7" ? c.data[1].erased : c.data[1].locked));
  }
}
