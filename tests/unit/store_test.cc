// The stores: round-trips, the hash chain, append-only enforcement,
// optimistic concurrency, transactions, schema checks, read-only opening,
// several processes at once, and crashes. Tests on StoreFixture run on
// SQLite and on PostgreSQL (test_backends.h); those on SqliteFixture test
// the SQLite file itself.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "test_errors.h"
#include "sopir/messages.h"
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/store.h"
#include "test_backends.h"
#include "store/pg_connection.h"
#include "store/pg_schema.h"
#include "store/schema.h"

using namespace sopir;
using sopir::testing::Backend;
namespace fs = std::filesystem;

namespace {

using testing::creating;

using testing::message_of;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "sopir_store_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::permissions(path_, fs::perms::owner_all, ignored);
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The database and its WAL: what a refused operation must leave unchanged.
std::string db_bytes(const std::string& path) { return file_bytes(path) + "|wal|" + file_bytes(path + "-wal"); }

StoreOptions reading() {
  StoreOptions o;
  o.read_only = true;
  return o;
}

StoredValue plain(const std::string& field, const std::string& text) {
  StoredValue v;
  v.field = field;
  v.missing = text.empty();
  v.text = text;
  return v;
}

StoredValue personal(const std::string& field, const std::string& text) {
  StoredValue v;
  v.field = field;
  v.missing = false;
  v.pii = true;
  v.salt = random_hex(16);
  v.digest = sha256_hex(v.salt + text);
  v.text = text;
  return v;
}

using testing::kind_of;

const std::string kSourceA = "id: pmi_shelter\nstates: [registered, screened]\n";
const std::string kShaA = sha256_hex(kSourceA);

CaseRecord new_case(const std::string& id, const std::string& sha = kShaA) {
  CaseRecord r;
  r.id = id;
  r.sop_id = "pmi_shelter";
  r.sha256 = sha;
  r.state = "registered";
  r.status = Status::kActive;
  r.data = {plain("category", "overstay"), personal("name", "Rina Kartika"), plain("counter", "0")};
  r.version = 1;
  r.opened_at = DateTime{1790000000};
  r.due_at = DateTime{1790086400};
  return r;
}

LogEntry open_entry(const CaseRecord& r) {
  LogEntry e;
  e.case_id = r.id;
  e.sha256 = r.sha256;
  e.kind = LogKind::kOpen;
  e.event = "open";
  e.to_state = r.state;
  e.to_status = "active";
  e.actor = "dewi";
  e.role = "registrar";
  e.occurred_at = r.opened_at;
  e.recorded_at = DateTime{r.opened_at.seconds + 5};
  e.inputs = {{"category", "overstay"}};
  for (const auto& v : r.data) e.changes.push_back({plain(v.field, ""), v});
  for (auto& c : e.changes) c.before.pii = c.after.pii, c.before.missing = true;
  e.due_at = r.due_at;
  return e;
}

// Moves case `id` to `to_state`, as read now; returns the appended entry.
LogEntry step(Store& store, const std::string& id, const std::string& to_state,
              const std::string& actor = "budi") {
  auto now = store.find_case(id);
  REQUIRE(now);
  CaseRecord next = *now;
  next.version = now->version + 1;
  next.state = to_state;
  LogEntry e;
  e.case_id = id;
  e.sha256 = now->sha256;
  e.kind = LogKind::kProcedure;
  e.event = "go_" + to_state;
  e.from_state = now->state;
  e.to_state = to_state;
  e.from_status = e.to_status = "active";
  e.actor = actor;
  e.role = "social_worker";
  e.occurred_at = DateTime{1790000000 + now->version * 60};
  e.recorded_at = DateTime{e.occurred_at.seconds + 1};
  e.note = "step " + std::to_string(next.version);
  e.changes = {{plain("counter", std::to_string(now->version - 1)), plain("counter", std::to_string(now->version))}};
  for (auto& v : next.data)
    if (v.field == "counter") v = e.changes[0].after;
  store.append(next, now->version, e);
  return e;
}

// Every chain (one per case) verifies from its first row; returns the
// number of rows.
int64_t verify_chain(Store& store) {
  std::map<std::string, std::string> heads;  // case id -> hash of its newest row
  std::string newest;
  int64_t rows = 0, last_seq = 0;
  store.scan_log({}, [&](const LogEntry& e) {
    REQUIRE(e.seq > last_seq);
    const std::string prev = heads[e.case_id];
    REQUIRE(e.prev_hash == prev);
    REQUIRE(e.hash == chain_hash(prev, e));
    heads[e.case_id] = newest = e.hash;
    last_seq = e.seq;
    if (!e.case_id.empty()) ++rows;  // registry rows (publish, staff) are chained but not counted
    return true;
  });
  const auto head = store.chain_head();
  CHECK(head.first == last_seq);
  CHECK(head.second == newest);
  for (const auto& c : store.cases({})) CHECK(c.head_hash == heads[c.id]);
  return rows;
}

// Every case row matches its newest log row; case_seq runs 1, 2, ...
void verify_cases(Store& store) {
  for (const auto& c : store.cases({})) {
    const auto rows = store.history(c.id);
    REQUIRE(!rows.empty());
    for (size_t i = 0; i < rows.size(); ++i) REQUIRE(rows[i].case_seq == static_cast<int64_t>(i + 1));
    INFO("case " << c.id);
    REQUIRE(c.last_seq == rows.back().case_seq);
    REQUIRE(c.state == rows.back().to_state);
    REQUIRE(c.version == static_cast<int64_t>(rows.size()));
  }
}

// A store on each backend in turn.
struct StoreFixture {
  testing::TestDatabase db{GENERATE(from_range(testing::store_backends()))};
  std::string path = db.location();
  std::unique_ptr<Store> store = open_store(path, creating());

  StoreFixture() { store->publish("pmi_shelter", kShaA, kSourceA, "pmi_shelter.yaml", "admin", DateTime{1789990000}); }

  LogEntry open_case(const std::string& id) {
    CaseRecord r = new_case(id);
    LogEntry e = open_entry(r);
    store->create_case(r, e);
    return e;
  }

  void reopen(const StoreOptions& options = {}) {
    store.reset();
    store = open_store(path, options);
  }

  int64_t chain() { return verify_chain(*store); }
};

// An SQLite file, for what concerns the file itself.
struct SqliteFixture {
  TempDir dir;
  std::string path = dir.file("sopir.db");
  std::unique_ptr<Store> store = open_sqlite_store(path, creating());

  SqliteFixture() { store->publish("pmi_shelter", kShaA, kSourceA, "pmi_shelter.yaml", "admin", DateTime{1789990000}); }

  LogEntry open_case(const std::string& id) {
    CaseRecord r = new_case(id);
    LogEntry e = open_entry(r);
    store->create_case(r, e);
    return e;
  }

  void reopen(const StoreOptions& options = {}) {
    store.reset();
    store = open_sqlite_store(path, options);
  }
};

void check_same_value(const StoredValue& a, const StoredValue& b) {
  CHECK(a.field == b.field);
  CHECK(a.missing == b.missing);
  CHECK(a.text == b.text);
  CHECK(a.pii == b.pii);
  CHECK(a.salt == b.salt);
  CHECK(a.digest == b.digest);
  CHECK(a.erased == b.erased);
}

void check_same_entry(const LogEntry& a, const LogEntry& b) {
  CHECK(a.seq == b.seq);
  CHECK(log_record(a) == log_record(b));
  CHECK(a.prev_hash == b.prev_hash);
  CHECK(a.hash == b.hash);
  REQUIRE(a.changes.size() == b.changes.size());
  for (size_t i = 0; i < a.changes.size(); ++i) {
    check_same_value(a.changes[i].before, b.changes[i].before);
    check_same_value(a.changes[i].after, b.changes[i].after);
  }
}

// Runs `tool args...` with stdout to `out`; returns the child's pid.
pid_t spawn(const std::vector<std::string>& args, const std::string& out) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(127);  // a worker's error shows in `out`
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

std::string worker_tool() { return std::string(SOPIR_BINARY_DIR) + "/tests/store_worker"; }

// "ok CASE CASE_SEQ NOTE" lines a worker printed (complete lines only).
std::vector<std::vector<std::string>> reported(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(file_bytes(out));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: cut by a kill
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    if (!w.empty() && w[0] == "ok") rows.push_back(w);
  }
  return rows;
}

}  // namespace

// ---------------------------------------------------------------------------
// Opening and schema checks.

TEST_CASE("a new database is created owner-only with the sopir schema") {
  TempDir dir;
  const std::string path = dir.file("new.db");
  auto store = open_sqlite_store(path, creating());
  struct stat info;
  REQUIRE(::stat(path.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK(store->chain_head() == std::make_pair<int64_t, std::string>(0, ""));
  store.reset();
  SQLite::Database raw(path);
  CHECK(raw.execAndGet("PRAGMA application_id").getInt() == 0x534F5052);
  CHECK(raw.execAndGet("PRAGMA user_version").getInt() == schema::latest_version());
  CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
  // Opening again (with or without create) keeps it as it is.
  const std::string before = file_bytes(path);
  open_sqlite_store(path, creating()).reset();
  open_sqlite_store(path, {}).reset();
  CHECK(file_bytes(path) == before);
}

TEST_CASE("a missing file is kNotFound unless create is set") {
  TempDir dir;
  const std::string path = dir.file("missing.db");
  CHECK(kind_of([&] { open_sqlite_store(path, {}); }) == ErrorKind::kNotFound);
  CHECK(message_of([&] { open_sqlite_store(path, {}); }) == "no sopir database at " + path);
  CHECK(kind_of([&] { open_sqlite_store(path, reading()); }) == ErrorKind::kNotFound);
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("a database from a newer sopir is refused with both versions") {
  SqliteFixture f;
  f.store.reset();
  {
    SQLite::Database raw(f.path, SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA user_version = " + std::to_string(schema::latest_version() + 1));
  }
  const std::string before = db_bytes(f.path);
  for (const auto& options : {StoreOptions{}, creating(), reading()}) {
    CHECK(kind_of([&] { open_sqlite_store(f.path, options); }) == ErrorKind::kStorage);
    CHECK(message_of([&] { open_sqlite_store(f.path, options); }) ==
          f.path + " was written by a newer sopir (schema " + std::to_string(schema::latest_version() + 1) +
              ", this sopir knows up to " +
              std::to_string(schema::latest_version()) + ")");
  }
  CHECK(db_bytes(f.path) == before);
}

TEST_CASE("an SQLite file of another program is not a sopir database") {
  TempDir dir;
  const std::string path = dir.file("other.db");
  {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("CREATE TABLE shopping (item TEXT)");
  }
  const std::string before = file_bytes(path);
  for (const auto& options : {StoreOptions{}, creating(), reading()}) {
    CHECK(kind_of([&] { open_sqlite_store(path, options); }) == ErrorKind::kStorage);
    CHECK_THAT(message_of([&] { open_sqlite_store(path, options); }),
               Catch::StartsWith(path + " is an SQLite database but not a sopir database (application_id 0;"));
  }
  CHECK(file_bytes(path) == before);
}

TEST_CASE("a text file is not a sopir database") {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "Daftar belanja: beras, minyak, gula. This is plainly not a database file at all.\n";
  const std::string before = file_bytes(path);
  for (const auto& options : {StoreOptions{}, creating(), reading()}) {
    CHECK(kind_of([&] { open_sqlite_store(path, options); }) == ErrorKind::kStorage);
    CHECK(message_of([&] { open_sqlite_store(path, options); }) ==
          path + " is not a sopir database: it is not an SQLite file at all");
  }
  CHECK(file_bytes(path) == before);
}

TEST_CASE("an empty file needs create, and a directory is refused") {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  std::ofstream(path).close();
  CHECK(kind_of([&] { open_sqlite_store(path, {}); }) == ErrorKind::kStorage);
  CHECK(file_bytes(path).empty());
  open_sqlite_store(path, creating()).reset();
  open_sqlite_store(path, {}).reset();
  CHECK(message_of([&] { open_sqlite_store(dir.path(), creating()); }) ==
        dir.path() + " is a directory, not a sopir database");
}

TEST_CASE(":memory: opens a throwaway database") {
  auto store = open_sqlite_store(":memory:", {});
  store->publish("pmi_shelter", kShaA, kSourceA, "f.yaml", "admin", DateTime{1});
  CaseRecord r = new_case("MEM-001");
  LogEntry e = open_entry(r);
  store->create_case(r, e);
  CHECK(store->find_case("MEM-001"));
  CHECK(verify_chain(*store) == 1);
}

// ---------------------------------------------------------------------------
// Round-trips.

TEST_CASE_METHOD(StoreFixture, "procedures are content-addressed and versioned") {
  auto again = store->publish("pmi_shelter", kShaA, kSourceA, "other.yaml", "someone", DateTime{5});
  CHECK(again.already_published);  // the one answer to whether a version was written
  CHECK(again.version == 1);
  CHECK(again.file == "pmi_shelter.yaml");
  CHECK(again.published_by == "admin");
  CHECK(again.published_at == DateTime{1789990000});
  CHECK(again.current);
  CHECK(again.source == kSourceA);

  const std::string source_b = kSourceA + "# v2\n";
  auto v2 = store->publish("pmi_shelter", sha256_hex(source_b), source_b, "pmi_shelter.yaml", "admin", DateTime{7});
  CHECK(v2.version == 2);
  CHECK_FALSE(v2.already_published);
  CHECK(v2.current);
  CHECK_FALSE(store->procedure_by_hash(kShaA)->current);
  CHECK(store->current_procedure("pmi_shelter")->sha256 == v2.sha256);
  CHECK_FALSE(store->current_procedure("tppo_care"));
  CHECK_FALSE(store->procedure_by_hash(std::string(64, '0')));

  // A step's read of the same row leaves the source out, and only it.
  store->set_compiled(kShaA, "{\"format\":\"x\"}");
  const auto whole = store->procedure_by_hash(kShaA), form = store->procedure_form_by_hash(kShaA);
  REQUIRE(whole);
  REQUIRE(form);
  CHECK(whole->source == kSourceA);
  CHECK(form->source.empty());
  CHECK(std::tie(form->sop_id, form->version, form->sha256, form->file, form->published_at.seconds,
                 form->published_by, form->current, form->cases, form->compiled) ==
        std::tie(whole->sop_id, whole->version, whole->sha256, whole->file, whole->published_at.seconds,
                 whole->published_by, whole->current, whole->cases, whole->compiled));
  CHECK(form->compiled == "{\"format\":\"x\"}");
  CHECK_FALSE(store->procedure_form_by_hash(std::string(64, '0')));

  // Publishing v1's source again changes nothing.
  const auto v1_again = store->publish("pmi_shelter", kShaA, kSourceA, "x", "y", DateTime{9});
  CHECK(v1_again.version == 1);
  CHECK(v1_again.already_published);
  CHECK_FALSE(v1_again.current);
  CHECK(store->current_procedure("pmi_shelter")->version == 2);
  // Nothing a read gives back says it (it is never stored).
  CHECK_FALSE(store->procedure_by_hash(kShaA)->already_published);

  auto other = store->publish("tppo_care", sha256_hex("tppo"), "tppo", "tppo.yaml", "admin", DateTime{8});
  CHECK(other.version == 1);
  CHECK_FALSE(other.already_published);
  open_case("CASE-01");
  open_case("CASE-02");
  const auto all = store->procedures();
  REQUIRE(all.size() == 3);
  CHECK(all[0].sop_id == "pmi_shelter");
  CHECK(all[0].version == 1);
  CHECK(all[0].cases == 2);
  CHECK(all[1].version == 2);
  CHECK(all[1].cases == 0);
  CHECK(all[2].sop_id == "tppo_care");

  // One procedure's versions, oldest first, as procedures() gives them but
  // without source, compiled form or case count (what publishing reads).
  const auto versions = store->versions_of("pmi_shelter");
  REQUIRE(versions.size() == 2);
  for (size_t i = 0; i < versions.size(); ++i) {
    const auto& v = versions[i];
    CHECK(std::tie(v.sop_id, v.version, v.sha256, v.file, v.published_at.seconds, v.published_by,
                   v.current) == std::tie(all[i].sop_id, all[i].version, all[i].sha256, all[i].file,
                                          all[i].published_at.seconds, all[i].published_by,
                                          all[i].current));
    CHECK(v.source.empty());
    CHECK(v.compiled.empty());
    CHECK(v.cases == 0);
  }
  CHECK(store->versions_of("tppo_care").size() == 1);
  CHECK(store->versions_of("unknown_sop").empty());
  // Every procedure's, in procedures()'s order.
  const auto every = store->versions();
  REQUIRE(every.size() == all.size());
  for (size_t i = 0; i < every.size(); ++i) {
    CHECK(std::tie(every[i].sop_id, every[i].version, every[i].sha256, every[i].current) ==
          std::tie(all[i].sop_id, all[i].version, all[i].sha256, all[i].current));
    CHECK(every[i].compiled.empty());
    CHECK(every[i].cases == 0);
  }

  const std::string before = db.snapshot();
  CHECK(kind_of([&] { store->publish("tppo_care", kShaA, kSourceA, "f", "a", DateTime{1}); }) ==
        ErrorKind::kConflict);
  CHECK(db.snapshot() == before);
}

TEST_CASE_METHOD(StoreFixture, "staff round-trip") {
  store->add_staff({"dewi", "Dewi Lestari", {"social_worker", "registrar"}, true}, ::sopir::testing::kByAdmin);
  store->add_staff({"anto", "Anto Saputra", {}, false}, ::sopir::testing::kByAdmin);
  auto dewi = store->staff("dewi");
  REQUIRE(dewi);
  CHECK(dewi->name == "Dewi Lestari");
  CHECK(dewi->roles == std::vector<std::string>{"social_worker", "registrar"});
  CHECK(dewi->active);
  CHECK_FALSE(store->staff("nobody"));
  const auto all = store->all_staff();
  REQUIRE(all.size() == 2);
  CHECK(all[0].id == "anto");
  CHECK_FALSE(all[0].active);
  store->set_staff_active("dewi", false, ::sopir::testing::kByAdmin);
  CHECK_FALSE(store->staff("dewi")->active);

  const std::string before = db.snapshot();
  CHECK(kind_of([&] { store->add_staff({"dewi", "Other", {}, true}, ::sopir::testing::kByAdmin); }) == ErrorKind::kConflict);
  CHECK(kind_of([&] { store->set_staff_active("nobody", true, ::sopir::testing::kByAdmin); }) == ErrorKind::kNotFound);
  CHECK(db.snapshot() == before);
}

TEST_CASE_METHOD(StoreFixture, "cases and log rows round-trip") {
  CaseRecord parent = new_case("PAR-001");
  LogEntry parent_open = open_entry(parent);
  store->create_case(parent, parent_open);

  CaseRecord r = new_case("K7F-3QX");
  r.hold_started = DateTime{1790001000};
  r.closure_reason = "transferred";
  r.parent_case = "PAR-001";
  r.status = Status::kOnHold;
  r.data.push_back(plain("empty", ""));
  LogEntry e = open_entry(r);
  e.note = "from a paper form\nline two";
  e.reason = "arrived at night";
  e.inputs.push_back({"umur", "24"});
  store->create_case(r, e);

  CHECK(e.case_seq == 1);
  CHECK(e.seq == 3);  // after the fixture's publish row and the parent's open row
  // A new case starts its own chain.
  CHECK(e.prev_hash.empty());
  CHECK(e.hash == chain_hash("", e));

  auto got = store->find_case("K7F-3QX");
  REQUIRE(got);
  CHECK(got->id == r.id);
  CHECK(got->sop_id == r.sop_id);
  CHECK(got->sha256 == r.sha256);
  CHECK(got->state == r.state);
  CHECK(got->status == Status::kOnHold);
  CHECK(got->version == 1);
  CHECK(got->last_seq == 1);
  CHECK(got->opened_at == r.opened_at);
  CHECK(got->due_at == r.due_at);
  CHECK(got->hold_started == r.hold_started);
  CHECK(got->closure_reason == "transferred");
  CHECK(got->parent_case == "PAR-001");
  REQUIRE(got->data.size() == r.data.size());
  for (size_t i = 0; i < r.data.size(); ++i) check_same_value(got->data[i], r.data[i]);
  CHECK(store->find_case("PAR-001")->parent_case.empty());
  CHECK_FALSE(store->find_case("NOPE"));
  CHECK(store->case_exists("K7F-3QX"));
  CHECK_FALSE(store->case_exists("k7f-3qx"));

  LogEntry second = step(*store, "K7F-3QX", "screened");
  CHECK(second.case_seq == 2);
  const auto rows = store->history("K7F-3QX");
  REQUIRE(rows.size() == 2);
  check_same_entry(rows[0], e);
  check_same_entry(rows[1], second);
  CHECK(rows[0].note == "from a paper form\nline two");
  CHECK(rows[0].inputs == e.inputs);
  CHECK_FALSE(rows[1].due_at);
  CHECK(kind_of([&] { store->history("NOPE"); }) == ErrorKind::kNotFound);

  // Survives closing and opening again.
  reopen();
  check_same_entry(store->history("K7F-3QX")[1], second);
  CHECK(store->find_case("K7F-3QX")->version == 2);
}

TEST_CASE_METHOD(StoreFixture, "personal text is kept apart from the log and can be erased") {
  open_case("ERA-001");
  CHECK(db.query("SELECT count(*) FROM transitions WHERE record LIKE '%Rina%'") == "0");
  CHECK(db.query("SELECT count(*) FROM cases WHERE data LIKE '%Rina%'") == "0");
  CHECK(db.query("SELECT count(*) FROM personal_text WHERE text = 'Rina Kartika'") == "1");
  db.exec("UPDATE personal_text SET text = NULL");
  const auto c = store->find_case("ERA-001");
  const auto& name = c->data[1];
  CHECK(name.field == "name");
  CHECK(name.erased);
  CHECK(name.text.empty());
  CHECK_FALSE(name.digest.empty());
  CHECK(store->history("ERA-001")[0].changes[1].after.erased);
  CHECK(chain() == 1);
}

TEST_CASE_METHOD(StoreFixture, "a personal value without a digest is refused") {
  CaseRecord r = new_case("BAD-001");
  r.data[1].digest.clear();
  LogEntry e = open_entry(r);
  const std::string before = db.snapshot();
  CHECK(kind_of([&] { store->create_case(r, e); }) == ErrorKind::kUsage);
  CHECK(db.snapshot() == before);
  CHECK(e.hash.empty());
}

TEST_CASE_METHOD(StoreFixture, "a step with a text that is not UTF-8 is refused, naming the first, and writes nothing") {
  open_case("UTF-001");
  const CaseRecord held = *store->find_case("UTF-001");
  const std::string bad = "Rina \xff";
  // A step whose texts are all valid, then one fault at a time.
  auto attempt = [&](const std::function<void(CaseRecord&, LogEntry&)>& spoil) {
    CaseRecord after = held;
    after.version = held.version + 1;
    after.state = "screened";
    after.data[2] = plain("counter", "1");
    LogEntry e;
    e.kind = LogKind::kProcedure;
    e.sha256 = held.sha256;
    e.event = "screen";
    e.from_state = "registered";
    e.to_state = "screened";
    e.from_status = e.to_status = "active";
    e.actor = "budi";
    e.role = "social_worker";
    e.note = "interview done";
    e.inputs = {{"category", "overstay"}, {"risk", "medium"}};
    e.changes = {{plain("counter", "0"), plain("counter", "1")}};
    spoil(after, e);
    const std::string before = db.snapshot();
    const std::string message = message_of([&] { store->append_held(held, after, e); });
    CHECK(kind_of([&] { store->append_held(held, after, e); }) == ErrorKind::kUsage);
    CHECK(db.snapshot() == before);
    CHECK(e.hash.empty());
    return message;
  };
  CHECK(attempt([&](CaseRecord&, LogEntry& e) { e.changes[0].after.text = bad; }) ==
        "the value of field counter is not valid UTF-8 text; give the text in UTF-8");
  CHECK(attempt([&](CaseRecord&, LogEntry& e) { e.inputs[1].second = bad; }) ==
        "the input risk is not valid UTF-8 text; give the text in UTF-8");
  CHECK(attempt([&](CaseRecord&, LogEntry& e) { e.note = bad; }) ==
        "the note is not valid UTF-8 text; give the text in UTF-8");
  CHECK(attempt([&](CaseRecord&, LogEntry& e) { e.role = bad; }) ==
        "a text of this step is not valid UTF-8; give the text in UTF-8");
  // The first at fault is named: the changes before the inputs, the note last.
  CHECK(attempt([&](CaseRecord&, LogEntry& e) {
          e.note = bad;
          e.inputs[0].first = bad;
          e.changes[0].before.field = bad;
        }) == "a field name is not valid UTF-8 text; give the text in UTF-8");
  // A personal value without a digest before a later text's fault.
  CHECK(attempt([&](CaseRecord&, LogEntry& e) {
          e.note = bad;
          e.changes.push_back({plain("name", ""), personal("name", "Rina")});
          e.changes[1].after.digest.clear();
        }).find("personal value of field 'name' has no digest") != std::string::npos);
  // The case row's values are checked as well.
  CHECK(attempt([&](CaseRecord& after, LogEntry&) { after.data[0].text = bad; }) ==
        "the value of field category is not valid UTF-8 text; give the text in UTF-8");
  // And the same step with every text valid is written.
  CaseRecord after = held;
  after.version = held.version + 1;
  after.data[0].text = "overstay \xc3\xa9";
  LogEntry e;
  e.kind = LogKind::kProcedure;
  e.sha256 = held.sha256;
  e.event = "screen";
  e.actor = "budi";
  e.note = "caf\xc3\xa9";
  store->append_held(held, after, e);
  CHECK(store->find_case("UTF-001")->data[0].text == "overstay \xc3\xa9");
  CHECK(chain() == 2);
}

TEST_CASE_METHOD(StoreFixture, "create_case refuses taken ids, unknown procedures and parents") {
  open_case("DUP-001");
  const std::string before = db.snapshot();
  CaseRecord again = new_case("DUP-001");
  LogEntry e = open_entry(again);
  CHECK(message_of([&] { store->create_case(again, e); }) ==
        "case id DUP-001 is already taken");
  CHECK(kind_of([&] { store->create_case(again, e); }) == ErrorKind::kConflict);
  CHECK(e.seq == 0);
  CHECK(e.hash.empty());

  CaseRecord unknown = new_case("UNK-001", std::string(64, 'f'));
  LogEntry e2 = open_entry(unknown);
  CHECK(kind_of([&] { store->create_case(unknown, e2); }) == ErrorKind::kNotFound);

  CaseRecord orphan = new_case("ORP-001");
  orphan.parent_case = "NOPE";
  LogEntry e3 = open_entry(orphan);
  CHECK(kind_of([&] { store->create_case(orphan, e3); }) == ErrorKind::kNotFound);

  LogEntry wrong_kind = open_entry(new_case("WK-001"));
  wrong_kind.kind = LogKind::kProcedure;
  CHECK(kind_of([&] { store->create_case(new_case("WK-001"), wrong_kind); }) == ErrorKind::kUsage);
  CHECK(db.snapshot() == before);
}

// ---------------------------------------------------------------------------
// The chain and the log.

TEST_CASE_METHOD(StoreFixture, "the chain holds over many appends") {
  for (int i = 0; i < 10; ++i) open_case("CH-" + std::to_string(i));
  std::mt19937 random(7);
  for (int i = 0; i < 400; ++i) step(*store, "CH-" + std::to_string(random() % 10), "s" + std::to_string(i));
  CHECK(chain() == 410);
  verify_cases(*store);
  reopen(reading());
  CHECK(chain() == 410);
}

TEST_CASE_METHOD(StoreFixture, "the transition log refuses UPDATE and DELETE") {
  open_case("AO-001");
  step(*store, "AO-001", "screened");
  const std::string before = db.snapshot();
  const bool sqlite = db.backend() == Backend::kSqlite;
  std::vector<std::string> statements = {
      sqlite ? "UPDATE transitions SET record = json_set(record, '$.note', 'edited') WHERE seq = 1"
             : "UPDATE transitions SET record = replace(record, 'step 2', 'edited')",
      "UPDATE transitions SET hash = '' ", "DELETE FROM transitions WHERE seq = 2", "DELETE FROM transitions"};
  if (!sqlite) statements.push_back("TRUNCATE transitions");
  for (const std::string& statement : statements) {
    INFO(statement);
    try {
      db.exec(statement);
      FAIL("the statement was allowed");
    } catch (const std::exception& e) {
      CHECK_THAT(e.what(), Catch::Contains("the transition log is append-only"));
    }
  }
  // A case with log rows cannot be deleted either (foreign key on SQLite;
  // on PostgreSQL a child case references it here, and the log row's case
  // is checked by verify).
  if (sqlite) CHECK_THROWS(db.exec("PRAGMA foreign_keys = ON; DELETE FROM cases WHERE id = 'AO-001'"));
  CHECK(db.snapshot() == before);
  CHECK(chain() == 2);
}

TEST_CASE_METHOD(StoreFixture, "a stale append is a conflict and writes nothing") {
  open_case("OC-001");
  const auto read = *store->find_case("OC-001");
  step(*store, "OC-001", "screened", "other");  // someone else wins
  const std::string before = db.snapshot();
  const auto head = store->chain_head();

  CaseRecord next = read;
  next.version = read.version + 1;
  next.state = "late";
  LogEntry e;
  e.kind = LogKind::kProcedure;
  e.sha256 = read.sha256;
  e.event = "late";
  e.to_state = "late";
  CHECK(kind_of([&] { store->append(next, read.version, e); }) == ErrorKind::kConflict);
  CHECK(message_of([&] { store->append(next, read.version, e); }) ==
        "case OC-001 changed since you read it (now version 2, you read version 1); read it again");
  CHECK(e.seq == 0);
  CHECK(e.case_seq == 0);
  CHECK(e.hash.empty());
  CHECK(db.snapshot() == before);
  CHECK(store->chain_head() == head);
  CHECK(store->find_case("OC-001")->state == "screened");

  // Bad calls are usage errors; unknown cases not found.
  CaseRecord skipped = next;
  skipped.version = 5;
  CHECK(kind_of([&] { store->append(skipped, 2, e); }) == ErrorKind::kUsage);
  CaseRecord ghost = next;
  ghost.id = "GHOST";
  ghost.version = 3;
  LogEntry ghost_entry = e;
  ghost_entry.case_id = "GHOST";
  CHECK(kind_of([&] { store->append(ghost, 2, ghost_entry); }) == ErrorKind::kNotFound);
  CHECK(db.snapshot() == before);
}

TEST_CASE_METHOD(StoreFixture, "transactions commit together or not at all") {
  open_case("TX-001");
  open_case("TX-002");
  const std::string before = db.snapshot();
  const auto head = store->chain_head();

  SECTION("an exception in the body rolls everything back") {
    CHECK_THROWS_WITH(store->transaction([&] {
      step(*store, "TX-001", "a");
      step(*store, "TX-002", "b");
      store->add_staff({"sri", "Sri", {}, true}, ::sopir::testing::kByAdmin);
      open_case("TX-003");
      throw std::runtime_error("stop");
    }), "stop");
    CHECK(db.snapshot() == before);
    CHECK(store->chain_head() == head);
    CHECK_FALSE(store->case_exists("TX-003"));
    // The chain continues from the committed head afterwards.
    step(*store, "TX-001", "after");
    CHECK(chain() == 3);
  }

  SECTION("batch appends commit once, and nested calls join") {
    store->transaction([&] {
      step(*store, "TX-001", "a");
      store->transaction([&] { step(*store, "TX-002", "b"); });
      step(*store, "TX-001", "c");
    });
    CHECK(store->find_case("TX-001")->state == "c");
    CHECK(store->find_case("TX-002")->state == "b");
    CHECK(chain() == 5);
    verify_cases(*store);
  }

  SECTION("a failed nested call undoes only its own writes") {
    store->transaction([&] {
      step(*store, "TX-001", "a");
      try {
        store->transaction([&] {
          step(*store, "TX-002", "b");
          throw std::runtime_error("inner");
        });
      } catch (const std::runtime_error&) {
      }
      CaseRecord stale = *store->find_case("TX-001");
      stale.version = 2;
      LogEntry e;
      e.sha256 = kShaA;
      CHECK(kind_of([&] { store->append(stale, 1, e); }) == ErrorKind::kConflict);
      step(*store, "TX-002", "d");
    });
    CHECK(store->find_case("TX-001")->state == "a");
    CHECK(store->find_case("TX-002")->state == "d");
    CHECK(store->history("TX-002").size() == 2);
    CHECK(chain() == 4);
    verify_cases(*store);
  }
}

TEST_CASE_METHOD(StoreFixture, "case_ids() lists the sites asked for, by prefix and limit") {
  using V = std::vector<std::string>;
  store->add_site(Site{"nunukan", "Pos Contoh"}, RegistryStamp{"admin", DateTime{2}});
  store->add_site(Site{"tarakan", "Pos Contoh Dua"}, RegistryStamp{"admin", DateTime{3}});
  for (const auto& [id, site] : {std::pair{"A-1", "main"},
                                 {"A-2", "nunukan"},
                                 {"A-3", "main"},
                                 {"A-4", "tarakan"},
                                 {"B-1", "nunukan"}}) {
    CaseRecord r = new_case(id);
    r.site = site;
    LogEntry e = open_entry(r);
    store->create_case(r, e);
  }
  CHECK(store->case_ids("A", 0, V{"main"}) == V{"A-1", "A-3"});
  CHECK(store->case_ids("", 0, V{"nunukan", "tarakan"}) == V{"A-2", "A-4", "B-1"});
  // The limit counts the ids of those sites, not the ids passed over.
  CHECK(store->case_ids("", 2, V{"nunukan"}) == V{"A-2", "B-1"});
  CHECK(store->case_ids("B", 0, V{"main"}).empty());
  CHECK(store->case_ids("", 0, V{}).empty());  // no site: no case
  CHECK(store->case_ids("", 0, std::nullopt).size() == 5);
}

TEST_CASE_METHOD(StoreFixture, "cases() honours every filter") {
  const std::string tppo_sha = sha256_hex("tppo");
  store->publish("tppo_care", tppo_sha, "tppo", "tppo.yaml", "admin", DateTime{1});
  auto add = [&](const std::string& id, const std::string& sop, const std::string& sha, const std::string& state,
                 Status status, std::optional<DateTime> due, const std::string& parent, int64_t opened) {
    CaseRecord r = new_case(id, sha);
    r.sop_id = sop;
    r.state = state;
    r.status = status;
    r.due_at = due;
    r.parent_case = parent;
    r.opened_at = DateTime{opened};
    LogEntry e = open_entry(r);
    store->create_case(r, e);
  };
  add("A-1", "pmi_shelter", kShaA, "registered", Status::kActive, DateTime{100}, "", 1);
  add("A-2", "pmi_shelter", kShaA, "screened", Status::kOnHold, DateTime{300}, "", 2);
  add("B-1", "tppo_care", tppo_sha, "registered", Status::kClosed, std::nullopt, "A-1", 3);
  add("B-2", "tppo_care", tppo_sha, "interview", Status::kActive, DateTime{200}, "A-1", 4);

  auto ids = [&](const CaseFilter& f) {
    std::vector<std::string> out;
    for (const auto& c : store->cases(f)) out.push_back(c.id);
    return out;
  };
  using V = std::vector<std::string>;
  CaseFilter f;
  CHECK(ids(f) == V{"A-1", "A-2", "B-1", "B-2"});
  f.sop_id = "tppo_care";
  CHECK(ids(f) == V{"B-1", "B-2"});
  f = {};
  f.state = "registered";
  CHECK(ids(f) == V{"A-1", "B-1"});
  f = {};
  f.status = Status::kOnHold;
  CHECK(ids(f) == V{"A-2"});
  f = {};
  f.due_before = DateTime{250};
  CHECK(ids(f) == V{"A-1", "B-2"});  // by due time
  f = {};
  f.linked_to = "A-1";
  CHECK(ids(f) == V{"B-1", "B-2"});
  f.linked_to = "B-2";
  CHECK(ids(f) == V{"A-1"});
  f = {};
  f.limit = 3;
  CHECK(ids(f) == V{"A-1", "A-2", "B-1"});
  f = {};
  f.sop_id = "pmi_shelter";
  f.state = "screened";
  f.status = Status::kOnHold;
  CHECK(ids(f) == V{"A-2"});
  f = {};
  f.sha256 = tppo_sha;
  CHECK(ids(f) == V{"B-1", "B-2"});
  CHECK(store->count_cases(f) == 2);

  CHECK(store->case_ids("A", 0, std::nullopt) == V{"A-1", "A-2"});
  CHECK(store->case_ids("", 0, std::nullopt) == V{"A-1", "A-2", "B-1", "B-2"});
  CHECK(store->case_ids("B", 1, std::nullopt) == V{"B-1"});
  CHECK(store->case_ids("C", 10, std::nullopt).empty());
  CHECK(store->case_ids("A-2", 10, std::nullopt) == V{"A-2"});

  // A pass a page at a time (audit verify's): by id, whatever the opening
  // times, each case once, and the other filters still apply.
  add("A-0", "pmi_shelter", kShaA, "registered", Status::kActive, std::nullopt, "", 5);
  f = {};
  CHECK(ids(f) == V{"A-1", "A-2", "B-1", "B-2", "A-0"});
  f.after_id = "";
  CHECK(ids(f) == V{"A-0", "A-1", "A-2", "B-1", "B-2"});
  f.limit = 2;
  V paged;
  for (V page = ids(f); !page.empty(); page = ids(f)) {
    CHECK(page.size() <= 2);
    paged.insert(paged.end(), page.begin(), page.end());
    f.after_id = page.back();
  }
  CHECK(paged == V{"A-0", "A-1", "A-2", "B-1", "B-2"});
  f = {};
  f.after_id = "A-1";
  f.state = "registered";
  CHECK(ids(f) == V{"B-1"});
  CHECK(store->count_cases(f) == 1);
  // each_case() pages so, whatever limit or start the filter brings.
  V each;
  store->each_case(CaseFilter{}, [&](const CaseRecord& c) { each.push_back(c.id); }, 2);
  CHECK(each == V{"A-0", "A-1", "A-2", "B-1", "B-2"});
  each.clear();
  f = {};
  f.state = "registered";
  f.limit = 1;
  f.after_id = "B";
  store->each_case(f, [&](const CaseRecord& c) { each.push_back(c.id); }, 1);
  CHECK(each == V{"A-0", "A-1", "B-1"});
  // each_part() hands over each page, whole and never empty (five cases in
  // pages of 2, and of 5: the last page full); the caller may move cases out.
  for (const int64_t page : {int64_t{2}, int64_t{5}}) {
    std::vector<V> parts;
    store->each_part(
        CaseFilter{},
        [&](std::vector<CaseRecord>& part) {
          V ids;
          for (CaseRecord& c : part) ids.push_back(std::move(c.id));
          parts.push_back(ids);
        },
        page);
    CHECK(parts == (page == 2 ? std::vector<V>{{"A-0", "A-1"}, {"A-2", "B-1"}, {"B-2"}}
                              : std::vector<V>{{"A-0", "A-1", "A-2", "B-1", "B-2"}}));
  }
}

TEST_CASE_METHOD(StoreFixture, "scan_log honours every filter and stops early") {
  const std::string tppo_sha = sha256_hex("tppo");
  store->publish("tppo_care", tppo_sha, "tppo", "tppo.yaml", "admin", DateTime{1});
  open_case("L-1");
  open_case("L-2");
  CaseRecord t = new_case("T-1", tppo_sha);
  t.sop_id = "tppo_care";
  LogEntry te = open_entry(t);
  store->create_case(t, te);
  step(*store, "L-1", "screened", "budi");  // seq 6, occurred 1790000060
  step(*store, "L-1", "sheltered", "sari");  // seq 7, occurred 1790000120
  step(*store, "L-2", "screened", "sari");  // seq 8, occurred 1790000060
  // seq 1 and 2: the publish rows of the fixture's procedure and tppo_care,
  // registry rows, which scan_log leaves out unless asked.

  auto seqs = [&](const LogFilter& f) {
    std::vector<int64_t> out;
    store->scan_log(f, [&](const LogEntry& e) {
      out.push_back(e.seq);
      return true;
    });
    return out;
  };
  using V = std::vector<int64_t>;
  LogFilter f;
  CHECK(seqs(f) == V{3, 4, 5, 6, 7, 8});
  f.registry = true;
  CHECK(seqs(f) == V{1, 2, 3, 4, 5, 6, 7, 8});
  f = {};
  f.case_id = "L-1";
  CHECK(seqs(f) == V{3, 6, 7});
  f.after_seq = 3;  // a case's rows, the newer ones
  CHECK(seqs(f) == V{6, 7});
  f = {};
  f.sop_id = "tppo_care";
  CHECK(seqs(f) == V{5});
  f = {};
  f.actor = "sari";
  CHECK(seqs(f) == V{7, 8});
  f = {};
  f.event = "go_screened";
  CHECK(seqs(f) == V{6, 8});
  f = {};
  f.state = "screened";  // from or to
  CHECK(seqs(f) == V{6, 7, 8});
  f = {};
  f.kind = LogKind::kOpen;
  CHECK(seqs(f) == V{3, 4, 5});
  f = {};
  f.since = DateTime{1790000060};
  CHECK(seqs(f) == V{6, 7, 8});
  f.until = DateTime{1790000120};
  CHECK(seqs(f) == V{6, 8});
  f = {};
  f.after_seq = 6;
  CHECK(seqs(f) == V{7, 8});
  f.actor = "sari";
  f.case_id = "L-2";
  CHECK(seqs(f) == V{8});

  int visited = 0;
  store->scan_log({}, [&](const LogEntry&) { return ++visited < 2; });
  CHECK(visited == 2);
  visited = 0;
  LogFilter one_case;
  one_case.case_id = "L-1";
  store->scan_log(one_case, [&](const LogEntry&) { return ++visited < 2; });
  CHECK(visited == 2);
}

TEST_CASE_METHOD(StoreFixture, "access is recorded, and auditors' views show ISO times") {
  open_case("V-1");
  store->record_access("auditor1", "V-1", "show personal data", "monthly audit", DateTime{1790000000});
  CHECK(db.query("SELECT actor || ' ' || case_id || ' ' || what || ' ' || reason || ' ' || at FROM access_view") ==
        "auditor1 V-1 show personal data monthly audit 2026-09-21T14:13:20Z");
  CHECK(db.query("SELECT occurred_at FROM log_view WHERE seq = 2") == "2026-09-21T14:13:20Z");
  CHECK(db.query("SELECT sop_id || ' v' || procedure_version FROM log_view") == "pmi_shelter v1");
  CHECK(db.query("SELECT due_at FROM cases_view") == "2026-09-22T14:13:20Z");
  CHECK(db.query("SELECT cases FROM procedures_view") == "1");
}

TEST_CASE_METHOD(StoreFixture, "access records carry a reason, are read back by filter, and cannot be changed",
                 "[access]") {
  open_case("V-1");
  open_case("V-2");
  store->record_access("tono", "V-1", "case show --reveal", "call back", DateTime{1000});
  store->record_access("siti", "V-2", "audit case --reveal", "audit, \"March\"", DateTime{2000});
  store->record_access("tono", "V-2", "case export-personal", "access request", DateTime{3000});
  auto ids = [&](const AccessFilter& f) {
    std::vector<std::string> out;
    for (const AccessRecord& r : store->access_records(f)) out.push_back(r.actor + "@" + r.case_id + ":" + r.reason);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(ids({}) == V{"tono@V-1:call back", "siti@V-2:audit, \"March\"", "tono@V-2:access request"});
  const std::vector<AccessRecord> all = store->access_records({});
  REQUIRE(all.size() == 3);
  CHECK(all[0].id < all[1].id);
  CHECK(all[1].what == "audit case --reveal");
  CHECK(all[2].at.seconds == 3000);
  AccessFilter f;
  f.case_ids = {"V-2"};
  CHECK(ids(f) == V{"siti@V-2:audit, \"March\"", "tono@V-2:access request"});
  f.actor = "tono";
  CHECK(ids(f) == V{"tono@V-2:access request"});
  f = {};
  f.case_ids = {"V-1", "V-2"};
  f.since = DateTime{1000};
  f.until = DateTime{3000};
  CHECK(ids(f) == V{"tono@V-1:call back", "siti@V-2:audit, \"March\""});
  f.case_ids = {"NONE"};
  CHECK(ids(f).empty());

  // No reason, no record.
  CHECK(kind_of([&] { store->record_access("tono", "V-1", "case show --reveal", "", DateTime{4000}); }) ==
        ErrorKind::kUsage);
  CHECK(store->access_records({}).size() == 3);
  // Append-only behind sopir's back too, and a removed protection is reported.
  CHECK_THROWS(db.exec("DELETE FROM access_log"));
  CHECK_THROWS(db.exec("UPDATE access_log SET reason = 'x'"));
  CHECK(store->access_records({}).size() == 3);
  CHECK(store->schema_changes().empty());
  if (db.backend() == testing::Backend::kSqlite) {
    db.exec("DROP TRIGGER access_log_no_delete");
  } else {
    db.exec("DROP TRIGGER access_log_no_change ON access_log");
  }
  const std::vector<std::string> changes = store->schema_changes();
  REQUIRE(changes.size() == 1);
  CHECK_THAT(changes[0], Catch::Contains("access_log_no_") && Catch::Contains("is missing"));
}

TEST_CASE("a database from before access reasons is upgraded; its access rows keep an empty reason",
          "[access][schema]") {
  testing::TestDatabase db{GENERATE(from_range(testing::store_backends()))};
  // The schema version before access reasons: SQLite 6, PostgreSQL 3.
  if (db.backend() == testing::Backend::kSqlite) {
    SQLite::Database raw(db.location(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    schema::migrate(raw, 6);
  } else {
    pg::Connection raw(db.location(), 10);
    pg::migrate(raw, 3);
  }
  db.exec("INSERT INTO access_log (actor, case_id, what, at) VALUES ('tono', 'OLD-001', 'case show', 5)");
  auto store = open_store(db.location(), StoreOptions{});
  const std::vector<AccessRecord> rows = store->access_records({});
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].actor == "tono");
  CHECK(rows[0].what == "case show");
  CHECK(rows[0].reason.empty());
  CHECK(store->schema_changes().empty());
  store->record_access("siti", "OLD-001", "case show --reveal", "follow-up", DateTime{6});
  CHECK(db.query("SELECT reason FROM access_view ORDER BY id DESC LIMIT 1") == "follow-up");
  CHECK_THROWS(db.exec("DELETE FROM access_log"));
}

// ---------------------------------------------------------------------------
// Read-only opening.

TEST_CASE_METHOD(SqliteFixture, "a read-only open of a 0444 file reads and never writes") {
  open_case("RO-001");
  step(*store, "RO-001", "screened");
  store.reset();
  REQUIRE(::chmod(path.c_str(), 0444) == 0);
  const std::string before = file_bytes(path);

  auto check_read_only = [&](Store& ro) {
    CHECK(ro.find_case("RO-001")->state == "screened");
    CHECK(verify_chain(ro) == 2);
    CHECK(ro.procedures().size() == 1);
    CaseRecord r = *ro.find_case("RO-001");
    r.version++;
    LogEntry e;
    e.sha256 = kShaA;
    const std::vector<std::function<void()>> writes = {
        [&] { ro.append(r, r.version - 1, e); },
        [&] {
          CaseRecord n = new_case("RO-002");
          LogEntry o = open_entry(n);
          ro.create_case(n, o);
        },
        [&] { ro.publish("x", "y", "z", "f", "a", DateTime{1}); },
        [&] { ro.add_staff({"s", "S", {}, true}, ::sopir::testing::kByAdmin); },
        [&] { ro.set_staff_active("s", false, ::sopir::testing::kByAdmin); },
        [&] { ro.record_access("a", "RO-001", "w", "r", DateTime{1}); },
        [&] { ro.transaction([] {}); },
    };
    for (const auto& write : writes) {
      CHECK(kind_of(write) == ErrorKind::kStorage);
      CHECK_THAT(message_of(write), Catch::Contains("is open read-only"));
    }
    // What the store was doing is said in the message language too.
    CHECK_THAT(message_of(writes[3]), Catch::EndsWith(" is open read-only; adding a staff member needs write access"));
    set_message_language("id");
    CHECK_THAT(message_of(writes[3]),
               Catch::EndsWith(" dibuka hanya-baca; penambahan petugas memerlukan akses tulis"));
    set_message_language("en");
  };

  SECTION("in a writable directory") {
    auto ro = open_sqlite_store(path, reading());
    check_read_only(*ro);
    ro.reset();
    CHECK(file_bytes(path) == before);
  }
  SECTION("in a read-only directory too") {
    REQUIRE(::chmod(dir.path().c_str(), 0555) == 0);
    auto ro = open_sqlite_store(path, reading());
    check_read_only(*ro);
    ro.reset();
    CHECK(file_bytes(path) == before);
    ::chmod(dir.path().c_str(), 0755);
  }
  // Without read_only a 0444 file cannot be written: a storage error.
  SECTION("a write-mode open of a 0444 file fails to write cleanly") {
    if (::geteuid() != 0) {
      CHECK(kind_of([&] {
              auto rw = open_sqlite_store(path, {});
              step(*rw, "RO-001", "x");
            }) == ErrorKind::kStorage);
      CHECK(file_bytes(path) == before);
    }
  }
}

// ---------------------------------------------------------------------------
// Several processes, and crashes.

TEST_CASE_METHOD(StoreFixture, "two processes append at once, and every reported append is recorded once") {
  TempDir dir;  // the workers' output
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back("MP-" + std::to_string(i));
    open_case(ids.back());
  }
  const int64_t opened = 4;
  const int steps = 150;
  auto args = [&](const std::string& name, const std::string& batch) {
    std::vector<std::string> a = {worker_tool(), path, name, std::to_string(steps), batch};
    a.insert(a.end(), ids.begin(), ids.end());
    return a;
  };
  const pid_t a = spawn(args("wa", "1"), dir.file("a.out"));
  const pid_t b = spawn(args("wb", "1"), dir.file("b.out"));
  const pid_t c = spawn(args("wc", "5"), dir.file("c.out"));
  for (pid_t pid : {a, b, c}) {
    const int status = wait_for(pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }
  std::map<std::string, std::pair<std::string, int64_t>> claimed;  // note -> (case, case_seq)
  int64_t conflicts = 0;
  for (const char* out : {"a.out", "b.out", "c.out"}) {
    const auto rows = reported(dir.file(out));
    CHECK(rows.size() == static_cast<size_t>(steps));
    for (const auto& row : rows) {
      REQUIRE(row.size() == 4);
      CHECK(claimed.emplace(row[3], std::make_pair(row[1], std::stoll(row[2]))).second);
    }
    const std::string text = file_bytes(dir.file(out));
    conflicts += std::stoll(text.substr(text.rfind(' ') + 1));
  }
  WARN("conflicts retried: " << conflicts);

  std::map<std::string, int> seen;
  store->scan_log({}, [&](const LogEntry& e) {
    if (e.kind == LogKind::kOpen || is_registry(e.kind)) return true;
    ++seen[e.note];
    auto it = claimed.find(e.note);
    REQUIRE(it != claimed.end());
    CHECK(it->second.first == e.case_id);
    CHECK(it->second.second == e.case_seq);
    return true;
  });
  CHECK(seen.size() == claimed.size());
  for (const auto& [note, count] : seen) CHECK(count == 1);
  CHECK(chain() == opened + 3 * steps);
  verify_cases(*store);
  // The counter field went up once per append.
  for (const auto& id : ids) {
    const auto c = store->find_case(id);
    CHECK(c->data[2].text == std::to_string(c->version - 1));
  }
}

TEST_CASE_METHOD(StoreFixture, "killed writers leave a consistent database") {
  TempDir dir;  // the workers' output
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back("CR-" + std::to_string(i));
    open_case(ids.back());
  }
  store.reset();
  std::mt19937 random(20260101);
  std::set<std::string> reported_notes;
  int64_t rows_before = 3;
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> args = {worker_tool(), path, "k" + std::to_string(round), "0",
                                     round % 2 ? "4" : "1"};
    args.insert(args.end(), ids.begin(), ids.end());
    const std::string out = dir.file("crash.out");
    const pid_t pid = spawn(args, out);
    // Kill it once it is writing (its first append reported; a loaded
    // machine may take a while to connect), at a random moment after.
    for (int waited = 0; waited < 2000 && reported(out).empty(); ++waited)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));
    ::kill(pid, SIGKILL);
    const int status = wait_for(pid);
    INFO("worker output: " << file_bytes(out));
    REQUIRE(WIFSIGNALED(status));
    for (const auto& row : reported(out)) reported_notes.insert(row[3]);
    db.wait_for_no_other_sessions();

    auto check = open_store(path, {});
    const int64_t rows = verify_chain(*check);
    CHECK(rows >= rows_before);
    rows_before = rows;
    verify_cases(*check);
    std::set<std::string> notes;
    check->scan_log({}, [&](const LogEntry& e) {
      notes.insert(e.note);
      return true;
    });
    for (const auto& note : reported_notes) {
      INFO("reported " << note);
      CHECK(notes.count(note) == 1);
    }
  }
  WARN("appends that survived 20 kills: " << rows_before - 3 << " (" << reported_notes.size() << " reported)");
  CHECK(rows_before > 3);
}

TEST_CASE_METHOD(StoreFixture, "an all-or-nothing transaction takes no savepoint per write") {
  open_case("AN-001");
  const std::string before = db.snapshot();
  const auto head = store->chain_head();

  SECTION("everything commits when the body returns") {
    store->transaction_all_or_nothing([&] {
      step(*store, "AN-001", "a");
      store->transaction([&] { open_case("AN-002"); });
      step(*store, "AN-002", "b");
    });
    CHECK(store->find_case("AN-001")->state == "a");
    CHECK(store->find_case("AN-002")->state == "b");
    CHECK(chain() == 4);
    verify_cases(*store);
  }

  SECTION("an exception leaving the body writes nothing") {
    CHECK_THROWS_WITH(store->transaction_all_or_nothing([&] {
      step(*store, "AN-001", "a");
      open_case("AN-002");
      throw std::runtime_error("stop");
    }), "stop");
    CHECK(db.snapshot() == before);
    CHECK(store->chain_head() == head);
    step(*store, "AN-001", "after");
    CHECK(chain() == 2);
  }

  SECTION("a nested failure the body caught still writes nothing") {
    // Without a savepoint the nested call's writes cannot be undone alone:
    // committing the rest would keep half of it, so nothing commits.
    const std::string message = message_of([&] {
      store->transaction_all_or_nothing([&] {
        step(*store, "AN-001", "a");
        try {
          store->transaction([&] {
            open_case("AN-002");
            throw std::runtime_error("inner");
          });
        } catch (const std::runtime_error&) {
        }
        step(*store, "AN-001", "b");
      });
    });
    CHECK(message.find("all-or-nothing transaction failed") != std::string::npos);
    CHECK(message.find("nothing was written") != std::string::npos);
    CHECK(db.snapshot() == before);
    CHECK(store->chain_head() == head);
    CHECK_FALSE(store->case_exists("AN-002"));
  }

  SECTION("a store refusal inside it (a taken id) also fails the whole transaction") {
    CHECK(kind_of([&] {
      store->transaction_all_or_nothing([&] {
        step(*store, "AN-001", "a");
        CHECK(kind_of([&] { open_case("AN-001"); }) == ErrorKind::kConflict);
      });
    }) == ErrorKind::kStorage);
    CHECK(db.snapshot() == before);
  }

  SECTION("nested in a transaction it is one savepoint") {
    store->transaction([&] {
      step(*store, "AN-001", "a");
      try {
        store->transaction_all_or_nothing([&] {
          open_case("AN-002");
          throw std::runtime_error("inner");
        });
      } catch (const std::runtime_error&) {
      }
      // Savepoints work again after it.
      try {
        store->transaction([&] {
          open_case("AN-003");
          throw std::runtime_error("inner");
        });
      } catch (const std::runtime_error&) {
      }
      open_case("AN-004");
    });
    CHECK(store->find_case("AN-001")->state == "a");
    CHECK_FALSE(store->case_exists("AN-002"));
    CHECK_FALSE(store->case_exists("AN-003"));
    CHECK(store->case_exists("AN-004"));
    CHECK(chain() == 3);
    verify_cases(*store);
  }
}
