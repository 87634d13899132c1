// Staff log-in (sopir/login.h): passphrase hashes, who must log in, wrong
// passphrases refused and counted, the delay, setting one's own and an
// administrator's reset, the schema 5 -> 6 upgrade, and a server database
// (no passphrases kept). All names and passphrases are invented.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "test_errors.h"
#include "sopir/audit.h"
#include "sopir/engine.h"
#include "sopir/login.h"
#include "store/schema.h"
#include "test_backends.h"
#include "test_values.h"

namespace sopir::testing {
namespace {

// A clock the test moves.
struct LoginFixture {
  TempDb db{"login"};
  std::shared_ptr<testing::TestClock> clock =
      std::make_shared<testing::TestClock>(DateTime{1796256000});  // 2026-12-03T00:00:00Z
  std::unique_ptr<Engine> engine;

  LoginFixture() {
    StoreOptions create;
    create.create = true;
    auto store = open_sqlite_store(db.path(), create);
    Engine::add_first_administrator(*store, "rina", "Rina Contoh", "rina passphrase one", KdfCost::kTest);
    engine = std::make_unique<Engine>(std::move(store), clock);
    engine->add_staff("rina", {"budi", "Budi Contoh", {"shelter_staff"}, true}, "budi passphrase one",
                      KdfCost::kTest);
    engine->add_staff("rina", {"wulan", "Wulan Contoh", {"shelter_staff"}, true});
  }
  int64_t rows() { return engine->store().chain_head().first; }
};

}  // namespace

TEST_CASE("a passphrase hash is Argon2id, salted, and matches only its passphrase", "[login]") {
  const std::string a = hash_passphrase("a long passphrase", KdfCost::kTest);
  const std::string b = hash_passphrase("a long passphrase", KdfCost::kTest);
  CHECK(a.rfind("$argon2id$", 0) == 0);
  CHECK(a != b);  // a fresh salt each time
  CHECK(passphrase_matches(a, "a long passphrase"));
  CHECK(passphrase_matches(b, "a long passphrase"));
  CHECK_FALSE(passphrase_matches(a, "a long passphrasE"));
  CHECK_FALSE(passphrase_matches(a, ""));
  CHECK_FALSE(passphrase_matches(a, std::string(kMaxPassphrase + 1, 'x')));
  CHECK_FALSE(passphrase_matches("not a hash", "a long passphrase"));
  CHECK_FALSE(passphrase_matches("", "a long passphrase"));
}

TEST_CASE("the default cost is the tuned one, kept inside the hash", "[login]") {
  const auto start = std::chrono::steady_clock::now();
  const std::string h = hash_passphrase("a long passphrase", KdfCost::kDefault);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("default-cost hash took " << seconds << " s");
  CHECK(h.find("$m=98304,t=3,p=1$") != std::string::npos);
  CHECK(hash_passphrase("a long passphrase", KdfCost::kTest).find("$m=8,t=1,p=1$") != std::string::npos);
  CHECK(seconds > 0.05);  // not the test cost by mistake
  CHECK(passphrase_matches(h, "a long passphrase"));
}

TEST_CASE("an unusable new passphrase is refused with what would be accepted", "[login]") {
  CHECK(message_of([] { check_new_passphrase(""); }) == "the passphrase is empty; give one of at least 8 characters");
  CHECK(message_of([] { check_new_passphrase("short"); }) ==
        "the passphrase is too short (5 bytes); give one of at least 8 characters, for example four words");
  CHECK(message_of([] { check_new_passphrase(std::string(1025, 'x')); }) ==
        "the passphrase is too long (1025 bytes); give one of at most 1024 bytes");
  CHECK(kind_of([] { hash_passphrase("short", KdfCost::kTest); }) == ErrorKind::kUsage);
  check_new_passphrase("eight ch");
  check_new_passphrase(std::string(1024, 'x'));
}

TEST_CASE_METHOD(LoginFixture, "a database made with a passphrase needs a log-in from everyone", "[login]") {
  CHECK(engine->login_required());
  CHECK(engine->log_in("rina", "rina passphrase one").id == "rina");
  CHECK(engine->log_in("budi", "budi passphrase one").id == "budi");
  const int64_t before = rows();
  CHECK(message_of([&] { engine->log_in("budi", "rina passphrase one"); }) ==
        "wrong passphrase for 'budi'; nothing was done");
  CHECK(kind_of([&] { engine->log_in("budi", ""); }) == ErrorKind::kDenied);
  CHECK(kind_of([&] { engine->log_in("budi", std::string(5000, 'b')); }) == ErrorKind::kDenied);
  // A member without one cannot act until an administrator sets it.
  CHECK(message_of([&] { engine->log_in("wulan", "anything at all"); }) ==
        "'wulan' has no passphrase yet, and this database needs a log-in; an administrator sets one for them");
  CHECK(kind_of([&] { engine->log_in("nobody", "anything at all"); }) == ErrorKind::kNotFound);
  CHECK(kind_of([&] { engine->log_in("", "anything at all"); }) == ErrorKind::kUsage);
  CHECK(rows() == before);  // failures are no log rows
  CHECK(engine->store().login_failures_since("budi", DateTime{0}) == 3);
}

TEST_CASE_METHOD(LoginFixture, "wrong passphrases slow the next attempts down, for a while", "[login]") {
  CHECK(engine->login_delay("budi") == 0);
  for (int i = 0; i < kFreeAttempts - 1; ++i) CHECK_THROWS(engine->log_in("budi", "wrong guess number"));
  CHECK(engine->login_delay("budi") == 0);
  CHECK_THROWS(engine->log_in("budi", "wrong guess number"));
  CHECK(engine->login_delay("budi") == 1);
  CHECK_THROWS(engine->log_in("budi", "wrong guess number"));
  CHECK(engine->login_delay("budi") == 2);
  CHECK(engine->login_delay("rina") == 0);  // per member
  for (int i = 0; i < 40; ++i) CHECK_THROWS(engine->log_in("budi", "wrong guess number"));
  CHECK(engine->login_delay("budi") == kMaxDelay);
  clock->advance(kFailureWindow + 1);
  CHECK(engine->login_delay("budi") == 0);  // forgotten after the window
}

TEST_CASE_METHOD(LoginFixture, "one's own passphrase, and an administrator's reset, are logged", "[login]") {
  int64_t before = rows();
  engine->set_passphrase("budi", "budi", "budi passphrase two", KdfCost::kTest);
  CHECK(rows() == before + 1);
  CHECK_THROWS(engine->log_in("budi", "budi passphrase one"));
  CHECK(engine->log_in("budi", "budi passphrase two").id == "budi");
  // Not another's without the role admin: nothing written.
  before = rows();
  CHECK(message_of([&] { engine->set_passphrase("budi", "rina", "taken over now", KdfCost::kTest); }) ==
        "setting another staff member's passphrase needs the role admin; budi has roles shelter_staff");
  CHECK(kind_of([&] { engine->set_passphrase("budi", "budi", "short", KdfCost::kTest); }) == ErrorKind::kUsage);
  CHECK(kind_of([&] { engine->set_passphrase("rina", "budy", "a fine passphrase", KdfCost::kTest); }) ==
        ErrorKind::kNotFound);
  CHECK(rows() == before);
  engine->set_passphrase("rina", "wulan", "wulan passphrase one", KdfCost::kTest);
  CHECK(engine->log_in("wulan", "wulan passphrase one").id == "wulan");
  std::vector<LogEntry> staff_rows;
  LogFilter filter;
  filter.registry = true;
  filter.kind = LogKind::kStaff;
  engine->store().scan_log(filter, [&](const LogEntry& e) {
    if (e.event == registry_event::kPassphraseSet) staff_rows.push_back(e);
    return true;
  });
  REQUIRE(staff_rows.size() == 4);  // rina at init, budi added with one, budi's own, wulan's reset
  CHECK(staff_rows[2].actor == "budi");
  CHECK(staff_rows[3].actor == "rina");
  CHECK(staff_rows[3].inputs == std::vector<std::pair<std::string, std::string>>{{"staff", "wulan"}});
  // Neither passphrase nor hash enters the log.
  for (const LogEntry& e : staff_rows) {
    CHECK(log_record(e).find("passphrase two") == std::string::npos);
    CHECK(log_record(e).find("argon2") == std::string::npos);
  }
  // The auditor: a member setting their own needs no administrator.
  const audit::VerifyReport report = audit::verify(engine->store(), audit::VerifyOptions{});
  for (const auto& f : report.findings) UNSCOPED_INFO(f.message);
  CHECK(report.clean());
}

TEST_CASE("a schema 5 database is upgraded (to 6 and on) and needs no log-in until an administrator sets one",
          "[login][schema]") {
  TempDb db("login-upgrade");
  {
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA journal_mode = WAL");
    schema::migrate(raw, 5);
    REQUIRE(raw.execAndGet("PRAGMA user_version").getInt() == 5);
  }
  {
    auto store = open_sqlite_store(db.path(), StoreOptions{});
    store->add_staff({"rina", "Rina Contoh", {"admin", "policy"}, true}, RegistryStamp{"rina", DateTime{1}});
    store->add_staff({"budi", "Budi Contoh", {"shelter_staff"}, true}, RegistryStamp{"rina", DateTime{2}});
    CHECK(store->schema_changes().empty());
  }
  SQLite::Database check(db.path(), SQLite::OPEN_READONLY);
  CHECK(check.execAndGet("PRAGMA user_version").getInt() == schema::latest_version());
  Engine engine(open_sqlite_store(db.path(), StoreOptions{}));
  CHECK_FALSE(engine.login_required());
  CHECK(engine.log_in("budi", "").id == "budi");  // as before: no passphrase asked
  engine.set_passphrase("budi", "budi", "budi passphrase one", KdfCost::kTest);
  CHECK_FALSE(engine.login_required());  // a member's own is not an administrator's
  engine.set_passphrase("rina", "rina", "rina passphrase one", KdfCost::kTest);
  CHECK(engine.login_required());
  CHECK(kind_of([&] { engine.log_in("budi", ""); }) == ErrorKind::kDenied);
}

TEST_CASE("a deactivated administrator's passphrase does not make log-in required", "[login]") {
  TempDb db("login-deactivated");
  StoreOptions create;
  create.create = true;
  auto store = open_sqlite_store(db.path(), create);
  Engine::add_first_administrator(*store, "rina", "Rina Contoh");
  Engine engine(std::move(store));
  engine.add_staff("rina", {"tono", "Tono Contoh", {"admin"}, true}, "tono passphrase one", KdfCost::kTest);
  CHECK(engine.login_required());
  engine.deactivate_staff("rina", "tono");
  CHECK_FALSE(engine.login_required());
}

TEST_CASE("a server database keeps no passphrases: its server logs staff in", "[login][postgresql]") {
  if (test_server_url().empty()) return;
  TestDatabase db(Backend::kPostgres);
  StoreOptions create;
  create.create = true;
  auto store = open_store(db.location(), create);
  Engine::add_first_administrator(*store, "rina", "Rina Contoh");
  Engine engine(std::move(store));
  CHECK_FALSE(engine.login_required());
  CHECK(engine.log_in("rina", "").id == "rina");
  const int64_t before = engine.store().chain_head().first;
  CHECK(kind_of([&] { engine.set_passphrase("rina", "rina", "rina passphrase one", KdfCost::kTest); }) ==
        ErrorKind::kUsage);
  CHECK(engine.store().chain_head().first == before);
}

}  // namespace sopir::testing

namespace sopir::testing {
namespace {

// login_required() as it was first written: every staff row read.
bool login_required_by_every_row(Store& store) {
  for (const StaffMember& m : store.all_staff()) {
    const bool admin = std::find(m.roles.begin(), m.roles.end(), "admin") != m.roles.end();
    if (m.active && admin && store.passphrase_hash(m.id)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("log-in is required exactly when an active administrator has a passphrase, on each backend",
          "[login][postgresql]") {
  for (Backend backend : store_backends()) {
    TestDatabase db(backend);
    auto store = open_store(db.location(), creating());
    const auto agrees = [&](bool expected) {
      CHECK(login_required(*store) == expected);
      CHECK(login_required_by_every_row(*store) == expected);
    };
    agrees(false);  // no staff at all
    const RegistryStamp by{"rina", DateTime{1}};
    store->add_staff({"rina", "Rina Contoh", {"policy", "admin"}, true}, by);
    store->add_staff({"dewi", "Dewi Contoh", {"administrator", "admins", "Admin"}, true}, by);
    agrees(false);  // an administrator, but no passphrase
    if (backend == Backend::kPostgres) continue;  // the server keeps no passphrases
    store->set_passphrase_hash("dewi", hash_passphrase("dewi passphrase one", KdfCost::kTest), by);
    agrees(false);  // roles that only look like admin
    store->set_staff_active("rina", false, by);
    store->set_passphrase_hash("rina", hash_passphrase("rina passphrase one", KdfCost::kTest), by);
    agrees(false);  // an inactive administrator's passphrase
    store->set_staff_active("rina", true, by);
    agrees(true);
  }
}

}  // namespace sopir::testing
