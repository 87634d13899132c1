// Personal text encrypted at rest and its erasure (docs/PRIVACY.md,
// store/sealing.h, Engine::request_erasure / confirm_erasure): sealing and
// opening, a database that starts clear and is encrypted at an
// administrator's first passphrase, locked values without the key (and
// decisions that do not need them), every passphrase's wrapping, and
// crypto-shredding that leaves the chain valid. All names are invented.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sopir/audit.h"
#include "sopir/engine.h"
#include "sopir/key_file.h"
#include "sopir/login.h"
#include "sopir/privacy.h"
#include "store/sealing.h"
#include "test_errors.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

std::unique_ptr<Store> open_file(const std::string& path, bool create = false) {
  StoreOptions options;
  options.create = create;
  return open_sqlite_store(path, options);
}

std::string scalar(const std::string& path, const std::string& sql) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, sql);
  if (!q.executeStep() || q.getColumn(0).isNull()) return "NULL";
  return q.getColumn(0).getString();
}

const StoredValue* value_of(const CaseRecord& record, const std::string& field) {
  for (const auto& v : record.data) {
    if (v.field == field) return &v;
  }
  return nullptr;
}

using testing::kind_of;

// A database as one from before encryption: staff without passphrases, a
// case with a personal value kept in clear.
struct ClearDatabase {
  testing::TempDb db{"at-rest"};
  std::shared_ptr<testing::TestClock> clock = std::make_shared<testing::TestClock>(DateTime{1796256000});  // 2026-12-03T00:00:00Z
  std::string case_id;

  ClearDatabase() {
    sealing::forget_database_keys();
    Engine engine(open_file(db.path(), true), clock);
    Engine::add_first_administrator(engine.store(), "rina", "Rina Contoh");
    engine.add_staff("rina", {"dewi", "Dewi Contoh", {"worker", "data_protection"}, true});
    engine.add_staff("rina", {"sari", "Sari Contoh", {"supervisor", "data_protection"}, true});
    engine.add_staff("rina", {"budi", "Budi Contoh", {"worker"}, true});
    engine.publish_source(testing::kCareYaml, "care.yaml", "rina", false);
    OpenRequest open;
    open.sop_id = "test-care";
    open.actor = "dewi";
    open.inputs = {{"full_name", "Lastri Gunung"}, {"age", "30"}};
    case_id = engine.open_case(open).after.id;
  }
};

// A database file of `yaml` (test-care under another form) with one case
// opened by dewi with `inputs`, then encrypted at rina's and dewi's first
// passphrases ("NAME passphrase one"); no key held afterwards. The case's id.
std::string encrypted_case(const std::string& path,
                           const std::shared_ptr<testing::TestClock>& clock,
                           const std::string& yaml,
                           std::vector<std::pair<std::string, std::string>> inputs) {
  sealing::forget_database_keys();
  std::string id;
  {
    Engine engine(open_file(path, true), clock);
    Engine::add_first_administrator(engine.store(), "rina", "Rina Contoh");
    engine.add_staff("rina", {"dewi", "Dewi Contoh", {"worker"}, true});
    engine.publish_source(yaml, "care.yaml", "rina", false);
    id = engine.open_case({"test-care", "dewi", std::move(inputs), "", std::nullopt}).after.id;
    engine.set_passphrase("rina", "rina", "rina passphrase one", KdfCost::kTest);
    engine.set_passphrase("rina", "dewi", "dewi passphrase one", KdfCost::kTest);
    REQUIRE(engine.store().encrypts_personal_data());
  }
  sealing::forget_database_keys();
  return id;
}

}  // namespace

TEST_CASE("a sealed text opens only with its key and its associated data", "[at-rest]") {
  sealing::SecretKey key, other;
  const std::string sealed = sealing::seal(key, "Lastri Gunung", "digest-a");
  CHECK(sealed.find("Lastri") == std::string::npos);
  CHECK(sealing::open(key, sealed, "digest-a").value() == "Lastri Gunung");
  CHECK_FALSE(sealing::open(other, sealed, "digest-a"));
  CHECK_FALSE(sealing::open(key, sealed, "digest-b"));  // moved to another value
  std::string changed = sealed;
  changed[30] ^= 1;
  CHECK_FALSE(sealing::open(key, changed, "digest-a"));
  CHECK(sealing::seal(key, "Lastri Gunung", "digest-a") != sealed);  // a fresh nonce each time
  const auto cost = sealing::cost_of_hash(hash_passphrase("a long passphrase", KdfCost::kTest));
  REQUIRE(cost);
  CHECK(cost->ops >= 1);
  CHECK(cost->mem >= 8192);
  CHECK_FALSE(sealing::cost_of_hash("not a hash"));
}

TEST_CASE("without the key a step is refused only when its own rules read a locked value",
          "[at-rest]") {
  // test-care with one more step, from screening, whose guard reads the
  // personal name; the others read none.
  std::string yaml = testing::kCareYaml;
  const std::string after =
      "  - {event: escalate, from: intake, to: escalated, roles: [supervisor]}\n";
  yaml.replace(yaml.find(after), after.size(),
               after +
                   "  - {event: check_name, from: screening, to: care, roles: [worker], "
                   "when: \"len(full_name) > 1\"}\n");
  testing::TempDb db{"at-rest-own-rules"};
  auto clock = std::make_shared<testing::TestClock>(DateTime{1796256000});
  const std::string id = encrypted_case(db.path(), clock, yaml, {{"full_name", "Lastri Gunung"}});
  Engine engine(open_file(db.path()), clock);
  StepRequest step;
  step.case_id = id;
  step.actor = "dewi";
  // Screening reads no name: decided without it (the timer's case too).
  step.event = "screen";
  step.inputs = {{"age", "31"}};
  CHECK(engine.advance(step).after.state == "screening");
  // check_name's guard reads it: refused, nothing written.
  const int64_t head = engine.store().chain_head().first;
  step.event = "check_name";
  step.inputs.clear();
  CHECK(kind_of([&] { engine.advance(step); }) == ErrorKind::kDenied);
  CHECK(engine.store().chain_head().first == head);
}

TEST_CASE("a case key deleted behind the engine's back is a finding, with or without the key",
          "[at-rest]") {
  testing::TempDb db{"at-rest-key-gone"};
  auto clock = std::make_shared<testing::TestClock>(DateTime{1796256000});
  const std::string id =
      encrypted_case(db.path(), clock, testing::kCareYaml, {{"full_name", "Lastri Gunung"}});
  auto gone = [&] {
    auto store = open_file(db.path());
    const audit::VerifyReport report = audit::verify(*store, audit::VerifyOptions{});
    std::vector<std::string> found;
    for (const auto& f : report.findings) {
      INFO(f.message);
      CHECK(f.kind == audit::FindingKind::kPiiGone);
      CHECK(f.case_id == id);
      found.push_back(f.message);
    }
    return found;
  };
  REQUIRE(gone().empty());  // untouched: clean without the key
  {
    SQLite::Database file(db.path(), SQLite::OPEN_READWRITE);
    file.exec("DELETE FROM case_keys");
  }
  // Without any key (the text reads as locked otherwise) ...
  CHECK(gone().size() == 1);
  // ... and with one.
  {
    Engine engine(open_file(db.path()), clock);
    engine.log_in("dewi", "dewi passphrase one");
  }
  CHECK(gone().size() == 1);
  sealing::forget_database_keys();
}

TEST_CASE(
    "a sealed text or case key that does not open is a finding of verify, which reads on; a writer "
    "refuses it",
    "[at-rest]") {
  const char* damage = GENERATE("UPDATE personal_text SET sealed = x'00' WHERE sealed IS NOT NULL",
                                "UPDATE case_keys SET sealed = x'0011'");
  INFO(damage);
  testing::TempDb db{"at-rest-damaged"};
  auto clock = std::make_shared<testing::TestClock>(DateTime{1796256000});
  const std::string id =
      encrypted_case(db.path(), clock, testing::kCareYaml, {{"full_name", "Lastri Gunung"}});
  {
    SQLite::Database file(db.path(), SQLite::OPEN_READWRITE);
    file.exec(damage);
  }
  {
    Engine engine(open_file(db.path()), clock);
    engine.log_in("dewi", "dewi passphrase one");
  }
  // An audit's read-only store: one finding naming the case, the rest read.
  StoreOptions read_only;
  read_only.read_only = true;
  auto reader = open_sqlite_store(db.path(), read_only);
  const audit::VerifyReport report = audit::verify(*reader, audit::VerifyOptions{});
  REQUIRE(report.findings.size() == 1);
  CHECK(report.findings[0].kind == audit::FindingKind::kPiiDigest);
  CHECK(report.findings[0].case_id == id);
  CHECK_THAT(report.findings[0].message, Catch::Contains("field full_name") &&
                                             Catch::Contains("does not open with its case's key"));
  CHECK(report.cases == 1);
  const StoredValue* name = value_of(*reader->find_case(id), "full_name");
  REQUIRE(name);
  CHECK((name->damaged && name->locked && name->text.empty()));
  CHECK(shown_value(*name, true) == "(damaged)");
  CHECK(shown_value(*name, false) == "***");
  // A store that may write refuses the read, as before: nothing decides on it.
  auto writer = open_file(db.path());
  CHECK(kind_of([&] { writer->find_case(id); }) == ErrorKind::kStorage);
  sealing::forget_database_keys();
}

TEST_CASE("without the key a step into a state whose deadline counts from a locked date is refused",
          "[at-rest]") {
  // test-care with a personal return date, from which screening's deadline counts.
  std::string yaml = testing::kCareYaml;
  const auto replace = [&](const std::string& from, const std::string& to) {
    yaml.replace(yaml.find(from), from.size(), to);
  };
  replace("  plan: {type: string, label: Plan}\n",
          "  plan: {type: string, label: Plan}\n  returned_on: {type: date, pii: true}\n");
  replace("screening: {label: Screening, deadline: 7d}",
          "screening: {label: Screening, deadline: 7 days from returned_on}");
  replace("  accepts: [full_name, age]", "  accepts: [full_name, age, returned_on]");
  testing::TempDb db{"at-rest-anchor"};
  auto clock = std::make_shared<testing::TestClock>(DateTime{1796256000});
  const std::string id = encrypted_case(db.path(), clock, yaml, {{"returned_on", "2026-11-30"}});
  Engine engine(open_file(db.path()), clock);
  StepRequest screen;
  screen.case_id = id;
  screen.actor = "dewi";
  screen.event = "screen";
  screen.inputs = {{"age", "31"}};
  // Deciding on a stand-in date would write a due time counted from 1970.
  const int64_t head = engine.store().chain_head().first;
  CHECK(kind_of([&] { engine.advance(screen); }) == ErrorKind::kDenied);
  CHECK(engine.store().chain_head().first == head);
  // With the key: due seven days after the return date.
  engine.log_in("dewi", "dewi passphrase one");
  CHECK(format_datetime(*engine.advance(screen).after.due_at).rfind("2026-12-07", 0) == 0);
}

TEST_CASE("an older database is encrypted at its administrator's first passphrase", "[at-rest]") {
  ClearDatabase clear;
  const std::string path = clear.db.path();
  CHECK(scalar(path, "SELECT count(*) FROM personal_text WHERE text = 'Lastri Gunung'") == "1");
  {
    Engine engine(open_file(path), clear.clock);
    CHECK_FALSE(engine.store().encrypts_personal_data());
    engine.set_passphrase("rina", "rina", "rina passphrase one", KdfCost::kTest);
    CHECK(engine.store().encrypts_personal_data());
    // The administrator holds the key now: wrap it for the others.
    engine.set_passphrase("rina", "dewi", "dewi passphrase one", KdfCost::kTest);
    engine.set_passphrase("rina", "sari", "sari passphrase one", KdfCost::kTest);
  }
  CHECK(scalar(path, "SELECT count(*) FROM personal_text WHERE text IS NOT NULL") == "0");
  CHECK(scalar(path, "SELECT count(*) FROM personal_text WHERE sealed IS NOT NULL AND case_id = '" +
                         clear.case_id + "'") == "1");
  CHECK(scalar(path, "SELECT count(*) FROM key_wraps") == "3");
  CHECK(scalar(path, "SELECT count(*) FROM case_keys") == "1");

  // A new process: no key until a log-in.
  sealing::forget_database_keys();
  Engine engine(open_file(path), clear.clock);
  const CaseRecord locked = engine.store().find_case(clear.case_id).value();
  const StoredValue* name = value_of(locked, "full_name");
  REQUIRE(name);
  CHECK(name->locked);
  CHECK(name->text.empty());
  // A step that only needs the value present is decided without it.
  StepRequest screen;
  screen.case_id = clear.case_id;
  screen.event = "screen";
  screen.actor = "dewi";
  screen.inputs = {{"age", "31"}};
  CHECK(engine.advance(screen).after.state == "screening");
  // Writing a new personal value needs the key: refused, nothing written.
  const int64_t head = engine.store().chain_head().first;
  OpenRequest open;
  open.sop_id = "test-care";
  open.actor = "dewi";
  open.inputs = {{"full_name", "Ratna Kabut"}};
  CHECK(kind_of([&] { engine.open_case(open); }) == ErrorKind::kDenied);
  CHECK(engine.store().chain_head().first == head);
  // A wrong passphrase opens nothing.
  CHECK(kind_of([&] { engine.log_in("dewi", "not dewi's passphrase"); }) == ErrorKind::kDenied);
  CHECK_FALSE(engine.store().personal_data_unlocked());
  // Every passphrase with a wrapping opens the same key.
  for (const char* who : {"rina", "dewi", "sari"}) {
    sealing::forget_database_keys();
    Engine fresh(open_file(path), clear.clock);
    fresh.log_in(who, std::string(who) + " passphrase one");
    CHECK(fresh.store().personal_data_unlocked());
    CHECK(value_of(fresh.store().find_case(clear.case_id).value(), "full_name")->text == "Lastri Gunung");
  }
}

TEST_CASE("erasure by two officers destroys the key and the text, the chain stays valid", "[at-rest]") {
  ClearDatabase clear;
  const std::string path = clear.db.path();
  {
    Engine engine(open_file(path), clear.clock);
    engine.set_passphrase("rina", "rina", "rina passphrase one", KdfCost::kTest);
    engine.set_passphrase("rina", "dewi", "dewi passphrase one", KdfCost::kTest);
    engine.set_passphrase("rina", "sari", "sari passphrase one", KdfCost::kTest);
  }
  sealing::forget_database_keys();
  Engine engine(open_file(path), clear.clock);
  engine.log_in("dewi", "dewi passphrase one");
  const int64_t head = engine.store().chain_head().first;
  // Bad erasures: nothing written.
  CHECK(kind_of([&] { engine.request_erasure(clear.case_id, "budi", "request"); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { engine.request_erasure(clear.case_id, "dewi", ""); }) == ErrorKind::kUsage);
  CHECK(kind_of([&] { engine.confirm_erasure(clear.case_id, "sari"); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { engine.request_erasure("ZZZ-ZZZ", "dewi", "request"); }) == ErrorKind::kNotFound);
  CHECK(engine.store().chain_head().first == head);
  const StepResult requested = engine.request_erasure(clear.case_id, "dewi", "request of the person");
  CHECK(requested.entry.kind == LogKind::kErasure);
  CHECK(kind_of([&] { engine.request_erasure(clear.case_id, "sari", "again"); }) == ErrorKind::kConflict);
  CHECK(kind_of([&] { engine.confirm_erasure(clear.case_id, "dewi"); }) == ErrorKind::kRefused);
  CHECK(value_of(engine.store().find_case(clear.case_id).value(), "full_name")->text == "Lastri Gunung");
  bool cleaned = false;
  const StepResult erased = engine.confirm_erasure(clear.case_id, "sari", &cleaned);
  CHECK(cleaned);
  CHECK(erased.entry.event == "erased");
  CHECK(erased.entry.reason == "request of the person");
  CHECK(kind_of([&] { engine.confirm_erasure(clear.case_id, "sari"); }) == ErrorKind::kConflict);
  CHECK(kind_of([&] { engine.request_erasure(clear.case_id, "dewi", "again"); }) == ErrorKind::kConflict);
  CHECK(scalar(path, "SELECT count(*) FROM case_keys") == "0");
  CHECK(scalar(path, "SELECT count(*) FROM personal_text WHERE text IS NOT NULL OR sealed IS NOT NULL") == "0");
  // Unreadable with every passphrase; the chain and replay verify clean.
  for (const char* who : {"rina", "dewi", "sari"}) {
    sealing::forget_database_keys();
    Engine fresh(open_file(path), clear.clock);
    fresh.log_in(who, std::string(who) + " passphrase one");
    const CaseRecord record = fresh.store().find_case(clear.case_id).value();
    const StoredValue* name = value_of(record, "full_name");
    CHECK(name->erased);
    CHECK(name->text.empty());
  }
  StoreOptions read_only;
  read_only.read_only = true;
  auto reader = open_sqlite_store(path, read_only);
  const audit::VerifyReport report = audit::verify(*reader, audit::VerifyOptions{});
  CHECK(report.findings.empty());
}

}  // namespace sopir

namespace sopir {
namespace {

// A fresh directory for key files, removed with what it holds.
struct KeyDir {
  KeyDir() {
    char pattern[] = "/tmp/sopir-keyfile-XXXXXX";
    REQUIRE(::mkdtemp(pattern));
    path = pattern;
  }
  ~KeyDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string file = path + "/" + name;
    FILE* f = std::fopen(file.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
    ::chmod(file.c_str(), mode);
    return file;
  }
  std::string path;
};

ErrorKind key_error(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.message();
    return e.kind();
  }
  FAIL("no error");
  return ErrorKind::kUsage;
}

}  // namespace

TEST_CASE("key files: made 0600 and never overwritten, loaded by id; bad ones refused, nothing kept", "[at-rest]") {
  sealing::forget_key_files();
  KeyDir dir;
  const std::string path = dir.path + "/server.key";
  const std::string id = create_key_file(path);
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK(info.st_size == 65);
  CHECK(id.size() == 32);
  CHECK(key_error([&] { create_key_file(path); }) == ErrorKind::kConflict);
  CHECK(load_key_file(path) == id);
  CHECK(sealing::key_file_key(id) != nullptr);
  CHECK(sealing::first_key_file_id() == id);
  // The same key without its newline is the same key file.
  std::string hex;
  {
    FILE* f = std::fopen(path.c_str(), "r");
    char line[80] = {};
    REQUIRE(std::fgets(line, sizeof line, f));
    std::fclose(f);
    hex.assign(line, 64);
  }
  CHECK(load_key_file(dir.write("bare.key", hex, 0400)) == id);

  std::string message;
  CHECK(key_error([&] { load_key_file(dir.path + "/none.key"); }, &message) == ErrorKind::kNotFound);
  CHECK(message.find("does not exist") != std::string::npos);
  CHECK(key_error([&] { load_key_file(dir.write("open.key", hex + "\n", 0640)); }, &message) == ErrorKind::kDenied);
  CHECK(message.find("(mode 0640)") != std::string::npos);
  CHECK(key_error([&] { load_key_file(dir.write("short.key", hex.substr(0, 62) + "\n", 0600)); }, &message) ==
        ErrorKind::kUsage);
  CHECK(message.find("not 63 bytes") != std::string::npos);
  CHECK(key_error([&] { load_key_file(dir.write("long.key", hex + "\n\n", 0600)); }) == ErrorKind::kUsage);
  CHECK(key_error([&] { load_key_file(dir.write("text.key", std::string(64, 'g') + "\n", 0600)); }) ==
        ErrorKind::kUsage);
  CHECK(key_error([&] { load_key_file(dir.path); }) == ErrorKind::kUsage);
  CHECK(key_error([&] { load_key_file(""); }) == ErrorKind::kUsage);
  // A database file keeps no key file: a store there says so.
  testing::TempDb db{"keyfile"};
  auto store = open_file(db.path(), true);
  CHECK(store->key_file_id().empty());
  CHECK(key_error([&] { store->seal_database_key(id); }) == ErrorKind::kUsage);
  sealing::forget_key_files();
}

}  // namespace sopir
