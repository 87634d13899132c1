// The SQLite log's links (schema 15, docs/SCHEMA.md "transitions"): a
// case's history is read from its case row's head_row back through each
// row's prev_row, by primary key, so the log keeps no index by case.
// Tested here: every way sopir writes a row keeps the links; the upgrade
// from schema 14 links every row and keeps every hash, verify clean and the
// same histories; a wrong or missing link costs a scan, never a wrong
// history; a held step that lost its race writes nothing, links included.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sopir/audit.h"
#include "sopir/copy.h"
#include "sopir/engine.h"
#include "store/schema.h"
#include "test_copy.h"
#include "test_errors.h"
#include "test_links.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

using testing::broken_links;
using testing::step_request;

std::unique_ptr<Engine> make_engine(const std::string& path) {
  StoreOptions options;
  options.create = true;
  auto engine = std::make_unique<Engine>(open_sqlite_store(path, options), std::make_shared<testing::TestClock>());
  engine->store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, testing::kByAdmin);
  engine->store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, testing::kByAdmin);
  engine->store().add_staff({"budi", "Budi Contoh", {"supervisor"}, true}, testing::kByAdmin);
  engine->publish_source(testing::kCareYaml, "care.yaml", "admin", false);
  return engine;
}


// Three cases with steps interleaved, a four-eyes step (which reads the
// history while deciding), a closing and a reopening, registry rows between
// them and a checkpoint: the ids of the cases.
std::vector<std::string> fill(Engine& engine) {
  std::vector<std::string> ids;
  for (const char* name : {"Siti Contoh", "Dewi Contoh", "Ayu Contoh"})
    ids.push_back(engine.open_case(testing::care_case("rina", name)).after.id);
  for (const std::string& id : ids) engine.advance(step_request(id, "screen", "rina", {{"age", "30"}}));
  engine.store().add_staff({"tono", "Tono Contoh", {"worker"}, true}, testing::kByAdmin);
  engine.advance(step_request(ids[0], "assess", "rina", {{"risk", "high"}}));
  engine.advance(step_request(ids[1], "assess", "rina", {{"risk", "high"}}));
  engine.advance(step_request(ids[0], "stabilise", "tono"));
  engine.advance(step_request(ids[0], "write_plan", "rina", {{"plan", "shelter stay"}}));
  engine.checkpoint("admin");
  engine.advance(step_request(ids[0], "approve_plan", "budi"));
  auto lifecycle = [&](const std::string& id, LifecycleEvent event, const std::string& reason) {
    LifecycleRequest r;
    r.case_id = id;
    r.event = event;
    r.actor = "budi";
    r.reason = reason;
    engine.lifecycle(r);
  };
  lifecycle(ids[0], LifecycleEvent::kReopen, "new need");
  lifecycle(ids[2], LifecycleEvent::kHold, "in hospital");
  return ids;
}

// Seq and hash of each row of the case's history.
std::vector<std::pair<int64_t, std::string>> rows_of(const std::vector<LogEntry>& history) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const LogEntry& e : history) out.emplace_back(e.seq, e.hash);
  return out;
}

// The case's rows found without the links: every row of the log, by case_id.
std::vector<std::pair<int64_t, std::string>> scanned(Store& store, const std::string& id) {
  std::vector<std::pair<int64_t, std::string>> out;
  store.scan_log(LogFilter{}, [&](const LogEntry& e) {
    if (e.case_id == id) out.emplace_back(e.seq, e.hash);
    return true;
  });
  return out;
}

// The case's rows as audit log --case reads them.
std::vector<std::pair<int64_t, std::string>> filtered(Store& store, const std::string& id) {
  LogFilter filter;
  filter.case_id = id;
  std::vector<std::pair<int64_t, std::string>> out;
  store.scan_log(filter, [&](const LogEntry& e) {
    out.emplace_back(e.seq, e.hash);
    return true;
  });
  return out;
}

// Runs `sql` on the file with the log's append-only triggers lifted for it
// (as a forger with the file could), then puts them back as they were.
void tamper(const std::string& path, const std::string& sql) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  std::vector<std::string> triggers;
  {
    SQLite::Statement q(db, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'transitions'");
    while (q.executeStep()) triggers.push_back(q.getColumn(0).getString());
  }
  REQUIRE(triggers.size() == 2);
  db.exec("DROP TRIGGER transitions_no_update; DROP TRIGGER transitions_no_delete;");
  db.exec(sql);
  for (const std::string& t : triggers) db.exec(t);
}

TEST_CASE("every row sopir writes keeps the log's links, and a history follows them", "[log-links]") {
  testing::TempDb db("links");
  auto engine = make_engine(db.path());
  const std::vector<std::string> ids = fill(*engine);
  // A step through Store::append, which reads the case row itself.
  {
    Store& store = engine->store();
    CaseRecord record = *store.find_case(ids[1]);
    const CaseRecord before = record;
    LogEntry e = store.history(ids[1]).back();
    e.kind = LogKind::kProcedure;
    e.event = "stabilise";
    e.from_state = "emergency";
    e.to_state = "care";
    e.inputs.clear();
    e.changes.clear();
    e.note = "";
    record.state = "care";
    record.version += 1;
    store.append(record, before.version, e);
  }
  CHECK(broken_links(db.path()) == 0);
  Store& store = engine->store();
  for (const std::string& id : ids) {
    const auto history = store.history(id);
    INFO(id);
    CHECK(rows_of(history) == scanned(store, id));
    CHECK(filtered(store, id) == scanned(store, id));
    CHECK(history.size() == static_cast<size_t>(store.find_case(id)->last_seq));
  }
  CHECK(store.history(ids[0]).size() == 7);
  // The registry rows (staff, publishing, the checkpoint) link to nothing.
  SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
  CHECK(raw.execAndGet("SELECT count(*) FROM transitions WHERE case_id IS NULL").getInt64() >= 5);
  CHECK(raw.execAndGet("SELECT count(*) FROM transitions WHERE case_id IS NULL AND prev_row IS NOT NULL").getInt64() == 0);
  // The log keeps no index by case: only the registry's partial index.
  SQLite::Statement indexes(raw, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transitions' "
                                 "ORDER BY name");
  std::vector<std::string> names;
  while (indexes.executeStep()) names.push_back(indexes.getColumn(0).getString());
  CHECK(names == std::vector<std::string>{"transitions_registry"});
  testing::require_clean(store);
}

TEST_CASE("a copy and a move into an SQLite file keep the links", "[log-links]") {
  testing::TempDb source("links-from"), copy("links-copy");
  auto engine = make_engine(source.path());
  const std::vector<std::string> ids = fill(*engine);
  StoreOptions creating;
  creating.create = true;
  auto to = open_sqlite_store(copy.path(), creating);
  copy_database(engine->store(), *to, CopySealing{}, [](Store& c) { testing::require_clean(c); });
  CHECK(broken_links(copy.path()) == 0);
  for (const std::string& id : ids) CHECK(rows_of(to->history(id)) == rows_of(engine->store().history(id)));
  // A step on the copy follows on from the copied rows.
  Engine copied(std::move(to), std::make_shared<testing::TestClock>());
  copied.advance(step_request(ids[1], "stabilise", "rina"));
  CHECK(broken_links(copy.path()) == 0);
  CHECK(copied.store().history(ids[1]).size() == 4);
}

// A database of schema 14 holding what `live` holds: every table copied,
// the log rows without links and the case rows without head_row, which
// schema 14 did not have.
void write_schema_14(const std::string& live, const std::string& old) {
  SQLite::Database raw(old, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  raw.exec("PRAGMA journal_mode = WAL");
  schema::migrate(raw, 14);
  REQUIRE(raw.execAndGet("PRAGMA user_version").getInt() == 14);
  raw.exec("ATTACH DATABASE '" + live + "' AS live");
  std::vector<std::string> tables;
  {
    SQLite::Statement q(raw, "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT IN "
                             "('transitions', 'cases') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    while (q.executeStep()) tables.push_back(q.getColumn(0).getString());
  }
  raw.exec("BEGIN");
  std::string columns;
  {
    SQLite::Statement q(raw, "SELECT name FROM pragma_table_info('cases', 'main')");
    while (q.executeStep()) columns += (columns.empty() ? "" : ", ") + q.getColumn(0).getString();
  }
  REQUIRE(columns.find("head_row") == std::string::npos);
  raw.exec("INSERT INTO main.cases (" + columns + ") SELECT " + columns + " FROM live.cases");
  for (const std::string& t : tables) raw.exec("INSERT OR REPLACE INTO main." + t + " SELECT * FROM live." + t);
  raw.exec("INSERT INTO main.transitions (seq, record, prev_hash, hash) "
           "SELECT seq, record, prev_hash, hash FROM live.transitions ORDER BY seq");
  raw.exec("COMMIT");
  raw.exec("DETACH DATABASE live");
  // Schema 14's index by case is there before the upgrade.
  CHECK(raw.execAndGet("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transitions' AND "
                       "name LIKE 'sqlite_autoindex_transitions%'")
            .getInt() == 1);
}

TEST_CASE("the upgrade from schema 14 links every row and keeps every hash and history", "[log-links][migration]") {
  testing::TempDb live("links-live"), old("links-old");
  std::vector<std::string> ids;
  std::vector<std::vector<std::pair<int64_t, std::string>>> histories;
  std::pair<int64_t, std::string> head;
  {
    auto engine = make_engine(live.path());
    ids = fill(*engine);
    for (const std::string& id : ids) histories.push_back(rows_of(engine->store().history(id)));
    head = engine->store().chain_head();
  }
  write_schema_14(live.path(), old.path());

  {
    // The upgrade frees the old log's pages without zeroing them (they hold
    // only what the new table holds) and leaves the connection's
    // secure_delete as it found it.
    SQLite::Database raw(old.path(), SQLite::OPEN_READWRITE);
    raw.exec("PRAGMA secure_delete = 1");
    schema::migrate(raw);
    CHECK(raw.execAndGet("PRAGMA secure_delete").getInt() == 1);
    CHECK(raw.execAndGet("PRAGMA user_version").getInt() == schema::latest_version());
  }
  auto store = open_sqlite_store(old.path(), StoreOptions{});
  CHECK(store->schema_changes().empty());
  CHECK(store->chain_head() == head);
  CHECK(broken_links(old.path()) == 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    CHECK(rows_of(store->history(ids[i])) == histories[i]);
    CHECK(filtered(*store, ids[i]) == histories[i]);
  }
  testing::require_clean(*store);
  {
    SQLite::Database raw(old.path(), SQLite::OPEN_READONLY);
    CHECK(raw.execAndGet("PRAGMA user_version").getInt() == schema::latest_version());
    CHECK(raw.execAndGet("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sqlite_autoindex_transitions%'")
              .getInt() == 0);
    CHECK(raw.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'transitions_v14'").getInt() == 0);
  }
  // And the upgraded file takes the next step linked.
  Engine engine(std::move(store), std::make_shared<testing::TestClock>());
  engine.advance(step_request(ids[1], "stabilise", "rina"));
  CHECK(broken_links(old.path()) == 0);
  CHECK(engine.store().history(ids[1]).size() == histories[1].size() + 1);
}

TEST_CASE("a wrong or missing link costs a scan, never a wrong history", "[log-links]") {
  testing::TempDb db("links-wrong");
  std::vector<std::string> ids;
  std::vector<std::vector<std::pair<int64_t, std::string>>> histories;
  {
    auto engine = make_engine(db.path());
    ids = fill(*engine);
    for (const std::string& id : ids) histories.push_back(rows_of(engine->store().history(id)));
  }
  auto check_histories = [&] {
    auto store = open_sqlite_store(db.path(), StoreOptions{});
    for (size_t i = 0; i < ids.size(); ++i) {
      INFO(ids[i]);
      CHECK(rows_of(store->history(ids[i])) == histories[i]);
      CHECK(filtered(*store, ids[i]) == histories[i]);
    }
  };
  const std::string first = ids[0], second = ids[1];
  const int64_t third_row = histories[0][2].first, other_row = histories[1][1].first;
  SECTION("a row linked to another case's row") {
    tamper(db.path(), "UPDATE transitions SET prev_row = " + std::to_string(other_row) +
                          " WHERE seq = " + std::to_string(third_row));
  }
  SECTION("a row linked to nothing") {
    tamper(db.path(), "UPDATE transitions SET prev_row = NULL WHERE seq = " + std::to_string(third_row));
  }
  SECTION("a first row linked to an earlier one") {
    tamper(db.path(), "UPDATE transitions SET prev_row = 1 WHERE seq = " + std::to_string(histories[0][0].first));
  }
  SECTION("a case row naming another case's head, or none") {
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
    raw.exec("UPDATE cases SET head_row = (SELECT head_row FROM cases WHERE id = '" + second + "') WHERE id = '" +
             first + "'");
    raw.exec("UPDATE cases SET head_row = NULL WHERE id = '" + second + "'");
  }
  SECTION("a row pointing past the log") {
    tamper(db.path(), "UPDATE transitions SET prev_row = 1000000 WHERE seq = " + std::to_string(third_row));
  }
  CHECK(broken_links(db.path()) > 0);
  check_histories();
}

TEST_CASE("a held step that lost its race or names no case writes nothing, links included", "[log-links]") {
  testing::TempDb db("links-race");
  auto engine = make_engine(db.path());
  const std::vector<std::string> ids = fill(*engine);
  Store& store = engine->store();
  const CaseRecord held = *store.find_case(ids[1]);
  engine->advance(step_request(ids[1], "stabilise", "rina"));  // another writer moves the case on
  const auto head = store.chain_head();
  SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
  const int64_t head_row = raw.execAndGet("SELECT head_row FROM cases WHERE id = '" + ids[1] + "'").getInt64();

  CaseRecord after = held;
  after.version += 1;
  after.state = "care";
  LogEntry e = store.history(ids[1]).back();
  e.case_seq = 0;
  e.seq = 0;
  CHECK(testing::kind_of([&] { store.append_held(held, after, e); }) == ErrorKind::kConflict);
  CaseRecord stranger = held, stranger_after = after;
  stranger.id = stranger_after.id = "no-such-case";
  LogEntry e2 = e;
  e2.case_id = "no-such-case";
  CHECK(testing::kind_of([&] { store.append_held(stranger, stranger_after, e2); }) == ErrorKind::kNotFound);

  CHECK(store.chain_head() == head);
  CHECK(raw.execAndGet("SELECT head_row FROM cases WHERE id = '" + ids[1] + "'").getInt64() == head_row);
  CHECK(broken_links(db.path()) == 0);
  testing::require_clean(store);
}

TEST_CASE("a held case names its newest row: held steps link to it, and a held row naming another writes nothing",
          "[log-links]") {
  testing::TempDb db("links-held");
  auto engine = make_engine(db.path());
  const std::vector<std::string> ids = fill(*engine);
  Store& store = engine->store();
  SQLite::Database raw(db.path(), SQLite::OPEN_READONLY);
  const auto stored_head_row = [&](const std::string& id) {
    return raw.execAndGet("SELECT head_row FROM cases WHERE id = '" + id + "'").getInt64();
  };

  // find_case() reads the row's link to its newest log row.
  const CaseRecord held = *store.find_case(ids[1]);
  CHECK(held.head_row == stored_head_row(ids[1]));
  CHECK(held.head_row == store.history(ids[1]).back().seq);

  // Steps on the case as each result left it: each new row is linked to
  // the row before, and the result names the new one.
  StepResult r = engine->advance_held(held, step_request(ids[1], "stabilise", "rina"));
  CHECK(r.after.head_row == stored_head_row(ids[1]));
  CHECK(r.after.head_row == r.entry.seq);
  r = engine->advance_held(r.after, step_request(ids[1], "write_plan", "rina", {{"plan", "shelter stay"}}));
  CHECK(r.after.head_row == stored_head_row(ids[1]));
  CHECK(broken_links(db.path()) == 0);

  // A held row that names another log row than the case's newest (its
  // version, last_seq and head_hash right) is refused, and nothing is
  // written: no row, no link, the case row as it was.
  CaseRecord wrong = r.after;
  wrong.head_row = held.head_row;
  const auto head = store.chain_head();
  CHECK(testing::kind_of([&] { engine->advance_held(wrong, step_request(ids[1], "approve_plan", "budi")); }) ==
        ErrorKind::kConflict);
  CHECK(store.chain_head() == head);
  CHECK(stored_head_row(ids[1]) == r.after.head_row);
  CHECK(store.find_case(ids[1])->version == r.after.version);

  // The same step from the row as the last result left it is written.
  r = engine->advance_held(r.after, step_request(ids[1], "approve_plan", "budi"));
  CHECK(r.after.head_row == stored_head_row(ids[1]));
  CHECK(broken_links(db.path()) == 0);
  testing::require_clean(store);
}

}  // namespace
}  // namespace sopir
