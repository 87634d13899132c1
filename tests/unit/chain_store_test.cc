// The hash chain from the stored bytes: Store::scan_chain hands out the
// stored record, equal to log_record() of the decoded row; the store's JSON
// writer round-trips; the other columns are generated from the record and
// cannot be edited apart from it; tampering the record breaks the hash.
#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "store/log_json.h"
#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/store.h"
#include "test_values.h"

using namespace sopir;
using testing::personal;
using testing::plain;
using testing::TempDb;

namespace {

const std::string kSha(64, 'c');

// Two cases: a parent whose step opened a child (linked both ways), with
// personal values, awkward text (quotes, backslash, newline, control bytes,
// non-ASCII) and due times.
void build(Store& store) {
  store.publish("p", kSha, "sop: p", "p.yaml", "admin", DateTime{1});
  CaseRecord parent;
  parent.id = "PAR-001";
  parent.sop_id = "p";
  parent.sha256 = kSha;
  parent.state = "new";
  parent.version = 1;
  parent.opened_at = DateTime{100};
  parent.data = {personal("name", "Wulan Contoh"), plain("town", "Kota \"Baru\"")};
  LogEntry open;
  open.kind = LogKind::kOpen;
  open.sha256 = kSha;
  open.event = "open";
  open.to_state = "new";
  open.to_status = "active";
  open.actor = "rina";
  open.role = "worker";
  open.occurred_at = DateTime{100};
  open.recorded_at = DateTime{101};
  open.note = "line one\nline two\t\x01 end \\ \"q\"";
  open.inputs = {{"name", "<pii>"}, {"town", "Kota \"Baru\" — Jawa Timur"}};
  open.changes = {{StoredValue{"name", true, "", true, "", "", false}, parent.data[0]},
                  {plain("town", ""), parent.data[1]}};
  open.changes[0].before.salt = "";
  open.due_at = DateTime{86500};
  store.create_case(parent, open);

  CaseRecord child = parent;
  child.id = "CHI-002";
  child.parent_case = parent.id;
  child.data = {plain("town", "Surabaya")};
  LogEntry child_open = open;
  child_open.case_id.clear();
  child_open.note = "opened by PAR-001's referral";
  child_open.inputs = {};
  child_open.changes = {{plain("town", ""), plain("town", "Surabaya")}};
  child_open.due_at.reset();
  child_open.linked_case = parent.id;
  store.create_case(child, child_open);

  CaseRecord next = parent;
  next.state = "referred";
  next.version = 2;
  LogEntry step;
  step.kind = LogKind::kProcedure;
  step.sha256 = kSha;
  step.event = "refer";
  step.from_state = "new";
  step.to_state = "referred";
  step.from_status = "active";
  step.to_status = "active";
  step.actor = "budi";
  step.role = "supervisor";
  step.occurred_at = DateTime{200};
  step.recorded_at = DateTime{260};
  step.reason = "needs shelter";
  step.inputs = {{"town", "Surabaya"}};
  step.changes = {{parent.data[1], plain("town", "Surabaya")}};
  step.linked_case = child.id;
  store.append(next, 1, step);
}

struct Stored {
  int64_t seq;
  std::string prev_hash, hash, record, case_id;
  int64_t case_seq;
  size_t personal;
};

std::vector<Stored> chain_rows(Store& store) {
  std::vector<Stored> out;
  store.scan_chain([&](const ChainRow& r) {
    out.push_back({r.seq, std::string(r.prev_hash), std::string(r.hash), std::string(r.record),
                   std::string(r.case_id), r.case_seq, r.personal->size()});
    return true;
  });
  return out;
}

bool row_verifies(const Stored& r) { return sha256_hex(r.prev_hash + r.record) == r.hash; }

}  // namespace

TEST_CASE("scan_chain's bytes equal log_record of the decoded rows", "[chain]") {
  TempDb file("chain");
  auto store = open_sqlite_store(file.path(), StoreOptions{true});
  build(*store);
  std::vector<LogEntry> decoded;
  LogFilter all;
  all.registry = true;
  store->scan_log(all, [&](const LogEntry& e) {
    decoded.push_back(e);
    return true;
  });
  const auto rows = chain_rows(*store);
  REQUIRE(rows.size() == 4);  // the publish row, then the three case rows
  REQUIRE(decoded.size() == 4);
  std::map<std::string, std::string> previous;  // each case is its own chain
  for (size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << rows[i].seq);
    CHECK(rows[i].seq == decoded[i].seq);
    CHECK(rows[i].record == log_record(decoded[i]));
    CHECK(rows[i].case_id == decoded[i].case_id);
    CHECK(rows[i].case_seq == decoded[i].case_seq);
    CHECK(chain_hash(decoded[i].prev_hash, decoded[i]) == rows[i].hash);
    CHECK(row_verifies(rows[i]));
    CHECK(rows[i].prev_hash == previous[rows[i].case_id]);
    previous[rows[i].case_id] = rows[i].hash;
  }
  CHECK(decoded[0].kind == LogKind::kPublish);
  CHECK(rows[0].case_id.empty());
  CHECK(rows[0].case_seq == 1);
  CHECK(decoded[2].linked_case == "PAR-001");
  CHECK(decoded[3].linked_case == "CHI-002");
  CHECK(decoded[1].note == "line one\nline two\t\x01 end \\ \"q\"");
  CHECK(decoded[1].inputs[1].second == "Kota \"Baru\" — Jawa Timur");
  // Only the first case row holds personal values; they come with their text.
  CHECK(rows[1].personal == 2);
  CHECK(rows[2].personal == 0);
  CHECK(rows[1].record.find("Wulan") == std::string::npos);
}

TEST_CASE("erasing personal text keeps the chain valid", "[chain]") {
  TempDb file("chain");
  {
    auto store = open_sqlite_store(file.path(), StoreOptions{true});
    build(*store);
  }
  const auto before = chain_rows(*open_sqlite_store(file.path(), StoreOptions{}));
  {
    SQLite::Database db(file.path(), SQLite::OPEN_READWRITE);
    CHECK(db.exec("UPDATE personal_text SET text = NULL") == 1);
  }
  auto store = open_sqlite_store(file.path(), StoreOptions{});
  const auto after = chain_rows(*store);
  REQUIRE(after.size() == before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    CHECK(after[i].record == before[i].record);
    CHECK(row_verifies(after[i]));
  }
  store->scan_log(LogFilter{}, [&](const LogEntry& e) {
    CHECK(chain_hash(e.prev_hash, e) == e.hash);
    return true;
  });
}

TEST_CASE("tampering the stored record breaks that row's hash", "[chain]") {
  // (edit of the record, whether it changes what the row says: a layout-only
  // change of the JSON is caught from the stored bytes but decodes to the
  // same row).
  const std::pair<const char*, bool> edits[] = {
      {"json_set(record, '$.note', json_extract(record, '$.note') || '.')", true},
      {"json_set(record, '$.actor', 'dewi')", true},
      {"json_set(record, '$.to_state', 'closed')", true},
      {"json_set(record, '$.inputs', json('[[\"town\",\"Malang\"]]'))", true},
      {"replace(record, 'Surabaya', 'Malang')", true},
      {"replace(record, '\"missing\":false', '\"missing\": false')", false},
      {"json_set(record, '$.linked_case', '')", true},
      {"json_set(record, '$.due_at', 5)", true},
      {"json_set(record, '$.occurred_at', json_extract(record, '$.occurred_at') + 1)", true},
      {"json_set(record, '$.reason', 'r')", true},
      {"json_set(record, '$.kind', 'override')", true},
  };
  for (const auto& [edit, meaning] : edits) {
    INFO(edit);
    TempDb file("chain");
    {
      auto store = open_sqlite_store(file.path(), StoreOptions{true});
      build(*store);
    }
    {
      SQLite::Database db(file.path(), SQLite::OPEN_READWRITE);
      db.exec("DROP TRIGGER transitions_no_update");
      CHECK(db.exec(std::string("UPDATE transitions SET record = ") + edit + " WHERE seq = 4") == 1);
    }
    auto store = open_sqlite_store(file.path(), StoreOptions{});
    const auto rows = chain_rows(*store);
    REQUIRE(rows.size() == 4);
    CHECK(row_verifies(rows[0]));
    CHECK(row_verifies(rows[1]));
    CHECK(row_verifies(rows[2]));
    CHECK_FALSE(row_verifies(rows[3]));
    // The decoded path agrees. (A copy: clang before 16 does not let a
    // lambda capture a structured binding.)
    const bool changes_meaning = meaning;
    store->scan_log(LogFilter{}, [&](const LogEntry& e) {
      if (e.seq == 4) CHECK((chain_hash(e.prev_hash, e) != e.hash) == changes_meaning);
      return true;
    });
  }
}

TEST_CASE("a log row's columns cannot be edited apart from its record", "[chain]") {
  TempDb file("chain");
  {
    auto store = open_sqlite_store(file.path(), StoreOptions{true});
    build(*store);
  }
  SQLite::Database db(file.path(), SQLite::OPEN_READWRITE);
  db.exec("DROP TRIGGER transitions_no_update");
  for (const char* column : {"case_id", "case_seq"}) {
    INFO(column);
    CHECK_THROWS_WITH(db.exec(std::string("UPDATE transitions SET ") + column + " = NULL WHERE seq = 3"),
                      Catch::Contains("cannot UPDATE generated column"));
  }
  // The record's other fields have no column of their own to edit (schema
  // 13): SQL readers see them through log_view, which reads the record.
  CHECK_THROWS_WITH(db.exec("UPDATE transitions SET note = NULL WHERE seq = 3"), Catch::Contains("no such column"));
  db.exec("UPDATE transitions SET record = json_set(record, '$.note', 'rewritten') WHERE seq = 3");
  CHECK(db.execAndGet("SELECT note FROM log_view WHERE seq = 3").getString() == "rewritten");
  // A record that is not JSON is refused outright.
  CHECK_THROWS_WITH(db.exec("UPDATE transitions SET record = 'not json' WHERE seq = 3"),
                    Catch::Contains("malformed JSON") || Catch::Contains("CHECK constraint failed"));
  CHECK(db.execAndGet("SELECT json_valid(record) FROM transitions WHERE seq = 3").getInt() == 1);
}
