// The log as many chains (docs/SCHEMA.md "The hash chains"): a chain per
// case whose head the case row holds, the registry chain, checkpoints over
// every head and verify's recomputation of them, steps on a held case that
// lose a race or are refused, and the migration of a database written
// before chains per case.
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>

#include "base/sha256.h"
#include "sopir/audit.h"
#include "sopir/copy.h"
#include "sopir/engine.h"
#include "store/log_json.h"
#include "store/merkle.h"
#include "store/schema.h"
#include "test_procedures.h"
#include "test_backends.h"
#include "test_errors.h"
#include "test_values.h"

namespace sopir {
namespace {

Engine make_engine(const std::string& path) {
  StoreOptions options;
  options.create = true;
  return Engine(open_store(path, options), std::make_shared<testing::StepClock>());
}

void set_up(Engine& engine) {
  engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"budi", "Budi Contoh", {"supervisor"}, true}, ::sopir::testing::kByAdmin);
  engine.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
}

std::string open(Engine& engine) {
  return engine.open_case({"test-care", "rina", {{"full_name", "Siti Contoh"}}, "", std::nullopt}).after.id;
}


// RFC 6962's Merkle tree hash, written out recursively (split at the
// largest power of two below n) as an independent check of the store's.
std::string raw_sha(const std::string& bytes) {
  Sha256 h;
  h.update(bytes);
  return h.digest();
}

std::string mth(const std::vector<std::string>& leaves, size_t begin, size_t end) {
  if (end - begin == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return raw_sha(std::string(1, '\x01') + mth(leaves, begin, begin + k) + mth(leaves, begin + k, end));
}

std::string hex(const std::string& bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {kDigits[c >> 4], kDigits[c & 15]};
  return out;
}

// The root over every chain's head as of row `upto`, from the log rows as a
// reader sees them.
std::string expected_root(Store& store, int64_t upto, int64_t* chains) {
  std::map<std::string, std::pair<int64_t, std::string>> heads;  // sorted by key
  LogFilter all;
  all.registry = true;
  store.scan_log(all, [&](const LogEntry& e) {
    if (e.seq <= upto) heads[e.case_id] = {e.case_seq, e.hash};
    return true;
  });
  std::vector<std::string> leaves;
  for (const auto& [key, head] : heads)
    leaves.push_back(raw_sha(std::string(1, '\0') + key + "\n" + std::to_string(head.first) + "\n" + head.second));
  *chains = static_cast<int64_t>(leaves.size());
  return hex(leaves.empty() ? raw_sha("") : mth(leaves, 0, leaves.size()));
}

audit::VerifyReport verify(const std::string& path, std::optional<audit::Anchor> anchor = std::nullopt) {
  StoreOptions options;
  options.read_only = true;
  auto store = open_store(path, options);
  audit::VerifyOptions verify_options;
  verify_options.anchor = anchor;
  return audit::verify(*store, verify_options);
}

std::string describe(const audit::VerifyReport& r) {
  std::string out;
  for (const auto& f : r.findings)
    out += std::string(audit::to_string(f.kind)) + " seq " + std::to_string(f.seq) + ": " + f.message + "\n";
  return out;
}

bool has_finding(const audit::VerifyReport& r, audit::FindingKind kind, int64_t seq) {
  for (const auto& f : r.findings)
    if (f.kind == kind && f.seq == seq) return true;
  return false;
}

const std::string kTriggers =
    "CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions\nBEGIN\n"
    "  SELECT RAISE(ABORT, 'the transition log is append-only');\nEND;\n"
    "CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions\nBEGIN\n"
    "  SELECT RAISE(ABORT, 'the transition log is append-only');\nEND;";
const std::string kDropTriggers = "DROP TRIGGER transitions_no_update; DROP TRIGGER transitions_no_delete;";

}  // namespace

TEST_CASE("a checkpoint row's record and the Merkle root's shape", "[chains]") {
  LogEntry e;
  e.kind = LogKind::kCheckpoint;
  e.case_seq = 2;
  e.event = "checkpoint";
  e.actor = "system";
  e.occurred_at = e.recorded_at = DateTime{10};
  e.checkpoint = Checkpoint{4, 3, "ab"};
  const std::string record = log_record(e);
  CHECK(record.substr(0, 31) == R"({"case_id":"","case_seq":2,"sha)");
  CHECK(record.find(R"("kind":"checkpoint")") != std::string::npos);
  CHECK(record.substr(record.size() - 68) ==
        R"("linked_case":"","checkpoint":{"upto_seq":4,"chains":3,"root":"ab"}})");
  LogEntry back;
  REQUIRE(log_json::read_record(record, back));
  REQUIRE(back.checkpoint);
  CHECK(back.checkpoint->upto_seq == 4);
  CHECK(back.checkpoint->chains == 3);
  CHECK(back.checkpoint->root == "ab");
  CHECK(log_kind_from_string("checkpoint") == LogKind::kCheckpoint);

  // The root against RFC 6962's recursive definition, for 0 to 9 chains.
  std::vector<merkle::ChainHead> heads;
  std::vector<std::string> leaves;
  CHECK(merkle::root(heads) == sha256_hex(""));
  for (int n = 1; n <= 9; ++n) {
    const std::string key = "C" + std::to_string(10 - n);  // added out of order
    const std::string hash = sha256_hex(key);
    heads.push_back({key, n, hash});
    std::vector<std::pair<std::string, std::string>> sorted;
    for (const auto& h : heads)
      sorted.emplace_back(h.key, raw_sha(std::string(1, '\0') + h.key + "\n" + std::to_string(h.case_seq) + "\n" + h.hash));
    std::sort(sorted.begin(), sorted.end());
    leaves.clear();
    for (const auto& [k, leaf] : sorted) leaves.push_back(leaf);
    INFO(n << " chains");
    CHECK(merkle::root(heads) == hex(mth(leaves, 0, leaves.size())));
  }
}

TEST_CASE("verify's running heads give the root of the heads they were given", "[chains]") {
  // Chains are added in no order and moved again; the root, the leaves and
  // the heads in key order are asked for between additions, as checkpoints
  // come between rows, and always match the heads given to merkle::root().
  merkle::Heads running;
  std::map<std::string, merkle::ChainHead> given;  // key -> head, as set
  std::string previous;
  const std::vector<std::string> keys = {"K7", "", "K10", "K1", "\xc3\xa9t", "K7", "K2", "K10", "A", "K1", "z"};
  int64_t seq = 0;
  for (const std::string& key : keys) {
    ++seq;
    const std::string hash = sha256_hex(key + std::to_string(seq));
    const auto before = given.find(key);
    const int64_t case_seq = before == given.end() ? 1 : before->second.case_seq + 1;
    INFO("row " << seq << ", chain '" << key << "'");
    if (seq % 2 == 0) {
      running.set(key, case_seq, hash, seq);
    } else {
      const int64_t previous_seq = running.advance(key, case_seq, hash, seq, previous);
      CHECK(previous_seq == (before == given.end() ? 0 : before->second.seq));
      CHECK(previous == (before == given.end() ? "" : before->second.hash));
    }
    given[key] = merkle::ChainHead{key, case_seq, hash, seq};
    REQUIRE(running.find(key) != nullptr);
    CHECK(running.find(key)->hash == hash);
    CHECK(running.size() == given.size());
    if (seq % 3 == 0 || seq == static_cast<int64_t>(keys.size())) {
      std::vector<merkle::ChainHead> heads;
      for (const auto& [k, h] : given) heads.push_back(h);
      CHECK(running.root() == merkle::root(heads));
      const std::vector<merkle::ChainHead> in_order = running.heads();
      REQUIRE(in_order.size() == heads.size());
      for (size_t i = 0; i < heads.size(); ++i) CHECK(in_order[i].key == heads[i].key);  // bytewise
      const auto leaves = running.leaves();
      CHECK(leaves.size() == heads.size());
      CHECK(leaves.at(key) == merkle::leaf(key, case_seq, hash));
    }
  }
  CHECK(running.find("K3") == nullptr);
  CHECK(given.begin()->first.empty());  // the registry chain's key sorts first
  CHECK(running.heads().back().key == "\xc3\xa9t");  // a byte above 0x7f sorts after "z"
}

TEST_CASE("a proof gives the root from some chains' heads and the subtrees without them", "[chains]") {
  // Every subset of up to 9 chains, and a few of 70: the root from the
  // kept leaves and the proof is the root over every chain.
  auto heads_of = [](int n) {
    std::vector<merkle::ChainHead> heads;
    for (int i = 0; i < n; ++i) heads.push_back({"C" + std::to_string(100 + i), i + 1, sha256_hex(std::to_string(i))});
    return heads;
  };
  auto kept_leaves = [](const std::vector<merkle::ChainHead>& heads, const merkle::Proof& proof) {
    std::map<std::string, std::string, std::less<>> kept;
    for (const auto& h : heads)
      if (proof.positions.count(h.key)) kept[h.key] = merkle::leaf(h.key, h.case_seq, h.hash);
    return kept;
  };
  for (int n = 0; n <= 9; ++n) {
    const auto heads = heads_of(n);
    for (unsigned mask = 0; mask < (1u << n); ++mask) {
      const auto proof = merkle::prove(heads, [&](std::string_view key) {
        for (int i = 0; i < n; ++i)
          if (heads[i].key == key) return ((mask >> i) & 1u) != 0;
        return false;
      });
      INFO(n << " chains, kept mask " << mask);
      CHECK(merkle::root_with(proof, kept_leaves(heads, proof)) == merkle::root(heads));
    }
  }
  const auto many = heads_of(70);
  for (int stride : {1, 3, 7, 69, 71}) {
    const auto proof = merkle::prove(many, [&](std::string_view key) {
      return std::stoi(std::string(key.substr(1))) % stride == 0;
    });
    INFO("every " << stride << "th chain kept");
    auto kept = kept_leaves(many, proof);
    CHECK(merkle::root_with(proof, kept) == merkle::root(many));
    // A proof is small: at most a node per level for each kept chain.
    CHECK(proof.nodes.size() <= (kept.size() + 1) * 7);

    // A changed head, a kept chain left out, a node changed or dropped: no root, or another.
    auto changed = kept;
    changed.begin()->second = merkle::leaf("C100", 99, sha256_hex("other"));
    CHECK(merkle::root_with(proof, changed) != merkle::root(many));
    auto fewer = kept;
    fewer.erase(fewer.begin());
    CHECK_FALSE(merkle::root_with(proof, fewer));
    if (!proof.nodes.empty()) {
      auto bent = proof;
      bent.nodes.front().hash[0] = static_cast<char>(bent.nodes.front().hash[0] ^ 1);
      CHECK(merkle::root_with(bent, kept) != merkle::root(many));
      auto short_of = proof;
      short_of.nodes.pop_back();
      CHECK_FALSE(merkle::root_with(short_of, kept));
      auto doubled = proof;
      doubled.nodes.push_back(doubled.nodes.front());
      CHECK_FALSE(merkle::root_with(doubled, kept));
    }
  }
}

TEST_CASE("each case is its own chain and its row holds the head", "[chains]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  Engine engine = make_engine(db.location());
  set_up(engine);
  const std::string a = open(engine), b = open(engine);
  engine.advance(testing::step_request(a, "screen", "rina", {{"age", "31"}}));
  engine.advance(testing::step_request(b, "screen", "rina", {{"age", "40"}}));
  engine.advance(testing::step_request(a, "assess", "rina", {{"risk", "high"}}));
  for (const std::string& id : {a, b}) {
    const auto rows = engine.store().history(id);
    std::string prev;
    for (const auto& e : rows) {
      CHECK(e.prev_hash == prev);
      CHECK(e.hash == chain_hash(prev, e));
      prev = e.hash;
    }
    CHECK(engine.store().find_case(id)->head_hash == prev);
  }
  CHECK(engine.store().per_chain_from() == 1);
  CHECK(verify(db.location()).clean());
}

TEST_CASE("a step on a held case that lost a race or is refused writes nothing", "[chains]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  Engine mine = make_engine(db.location());
  set_up(mine);
  const std::string id = open(mine);
  Engine theirs = make_engine(db.location());
  const CaseRecord held = *mine.store().find_case(id);

  SECTION("lost race") {
    theirs.advance(testing::step_request(id, "screen", "rina", {{"age", "31"}}));  // they win
    const std::string before = db.snapshot();
    try {
      mine.advance_held(held, testing::step_request(id, "screen", "rina", {{"age", "29"}}));
      FAIL("expected a conflict");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::kConflict);
      CHECK(e.message() == "case " + id + " changed since you read it (now version 2, you read version 1); read it again");
    }
    CHECK(db.snapshot() == before);
    // A held row whose version matches but whose chain head does not (a
    // caller's mistake) is refused the same way.
    CaseRecord stale = *mine.store().find_case(id);
    stale.head_hash = std::string(64, '0');
    CHECK_THROWS_AS(mine.advance_held(stale, testing::step_request(id, "assess", "rina", {{"risk", "high"}})), Error);
    CHECK(db.snapshot() == before);
  }
  SECTION("refused") {
    const std::string before = db.snapshot();
    CHECK_THROWS_AS(mine.advance_held(held, testing::step_request(id, "screen", "budi", {{"age", "31"}})), RefusedError);
    CHECK_THROWS_AS(mine.advance(testing::step_request(id, "screen", "budi", {{"age", "31"}})), RefusedError);
    CHECK(db.snapshot() == before);
  }
  SECTION("a held case advances step after step without reading it again") {
    StepResult first = mine.advance_held(held, testing::step_request(id, "screen", "rina", {{"age", "31"}}));
    StepResult second = mine.advance_held(first.after, testing::step_request(id, "assess", "rina", {{"risk", "high"}}));
    CHECK(second.entry.prev_hash == first.entry.hash);
    const CaseRecord stored = *mine.store().find_case(id);
    CHECK(stored.version == 3);
    CHECK(stored.state == "emergency");
    CHECK(stored.head_hash == second.entry.hash);
    CHECK(verify(db.location()).clean());
  }
}

TEST_CASE("verify reads one snapshot while another office writes", "[chains][audit]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  Engine office = make_engine(db.location());
  set_up(office);
  // More cases than verify reports progress by (every 4,096), so that it
  // reports in the middle of its replay, between reading a page of case
  // rows (500) and reading those cases' logs.
  std::vector<std::string> ids;
  office.store().transaction([&] {
    for (int i = 0; i < 4100; ++i) ids.push_back(open(office));
  });
  std::sort(ids.begin(), ids.end());
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = open_store(db.location(), read_only);
  const int64_t rows_before = store->chain_head().first;
  // The office steps the first case by id while verify reads the log, and
  // the last one (on the page being replayed) during the replay.
  int written = 0;
  const auto report =
      audit::verify(*store, audit::VerifyOptions{}, [&](const audit::VerifyProgress& p) {
        const bool replaying = p.phase == audit::VerifyPhase::kReplay;
        if (written == (replaying ? 1 : 0) && p.done < p.total) {
          office.advance(testing::step_request(replaying ? ids.back() : ids.front(), "screen",
                                               "rina", {{"age", "31"}}));
          ++written;
        }
      });
  INFO(describe(report));
  CHECK(written == 2);
  CHECK(report.clean());
  CHECK(report.rows == rows_before);  // the log as it was when verify began
  CHECK(report.head.seq == rows_before);
  CHECK(report.cases == 4100);
  CHECK(report.steps == 0);
  // Read again, the two steps are there and verify.
  const auto after = verify(db.location());
  INFO(describe(after));
  CHECK(after.clean());
  CHECK(after.rows == rows_before + 2);
  CHECK(after.steps == 2);
}

TEST_CASE("a read snapshot refuses a write inside it and reads one moment", "[chains][store]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  Engine office = make_engine(db.location());
  set_up(office);
  const std::string id = open(office);
  Engine other = make_engine(db.location());
  const std::string before = db.snapshot();
  std::string message;
  int64_t seen_version = 0, seen_steps = 0;
  office.store().read_snapshot([&] {
    seen_version = office.store().find_case(id)->version;
    // Another connection steps the case: this snapshot does not see it.
    other.advance(testing::step_request(id, "screen", "rina", {{"age", "31"}}));
    seen_steps = static_cast<int64_t>(office.store().history(id).size());
    try {
      office.advance(testing::step_request(id, "screen", "rina", {{"age", "32"}}));
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::kStorage);
      message = e.what();
    }
    CHECK(office.store().find_case(id)->version == seen_version);
  });
  CHECK(message.find("inside a read snapshot") != std::string::npos);
  CHECK(seen_steps == 1);
  CHECK(db.snapshot() != before);  // the other connection's step, and nothing of the refused one
  const auto rows = office.store().history(id);
  REQUIRE(rows.size() == 2);
  CHECK(rows.back().actor == "rina");
  CHECK(office.store().find_case(id)->version == seen_version + 1);
  // After the snapshot the store writes again.
  office.advance(testing::step_request(id, "assess", "rina", {{"risk", "high"}}));
  CHECK(office.store().history(id).size() == 3);
  CHECK(verify(db.location()).clean());
}

TEST_CASE("a checkpoint commits to every chain's head", "[chains]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  Engine engine = make_engine(db.location());
  set_up(engine);
  const std::string a = open(engine), b = open(engine), c = open(engine);
  engine.advance(testing::step_request(b, "screen", "rina", {{"age", "31"}}));
  const LogEntry first = engine.checkpoint("admin");
  REQUIRE(first.checkpoint);
  CHECK(first.kind == LogKind::kCheckpoint);
  CHECK(first.case_id.empty());
  // set_up wrote 4 registry rows (3 staff, 1 publish) before the cases.
  CHECK(first.case_seq == 5);
  CHECK(first.checkpoint->upto_seq == 8);
  CHECK(first.seq == 9);
  int64_t chains = 0;
  CHECK(first.checkpoint->chains == 4);
  // Recompute over the heads as of row 8 (before the checkpoint row).
  {
    std::vector<std::string> leaves;
    std::map<std::string, std::pair<int64_t, std::string>> heads;
    for (const std::string& id : {a, b, c}) {
      const auto rows = engine.store().history(id);
      heads[id] = {rows.back().case_seq, rows.back().hash};
    }
    LogFilter registry;
    registry.registry = true;
    engine.store().scan_log(registry, [&](const LogEntry& e) {
      if (e.case_id.empty() && e.seq < first.seq) heads[""] = {e.case_seq, e.hash};
      return true;
    });
    for (const auto& [key, head] : heads)
      leaves.push_back(raw_sha(std::string(1, '\0') + key + "\n" + std::to_string(head.first) + "\n" + head.second));
    CHECK(first.checkpoint->root == hex(mth(leaves, 0, leaves.size())));
  }
  // Nothing written since: the same checkpoint, nothing new.
  CHECK(engine.checkpoint("admin").seq == first.seq);
  CHECK_THROWS_AS(engine.checkpoint("nobody"), Error);

  engine.advance(testing::step_request(a, "screen", "rina", {{"age", "50"}}));
  const LogEntry second = engine.checkpoint("system");
  CHECK(second.case_seq == 6);
  CHECK(second.prev_hash == first.hash);
  CHECK(second.checkpoint->upto_seq == 10);
  CHECK(second.checkpoint->chains == 4);  // three cases and the registry chain
  CHECK(second.checkpoint->root == expected_root(engine.store(), 10, &chains));  // all rows but itself
  CHECK(chains == 4);

  const auto report = verify(db.location());
  INFO(describe(report));
  CHECK(report.clean());
  CHECK(report.rows == 11);
  CHECK(report.steps == 2);  // 3 of the 5 case rows open a case
  const audit::Anchor anchor = audit::anchor(engine.store());
  CHECK(anchor.seq == 10);
  CHECK(anchor.hash == second.checkpoint->root);
  CHECK(verify(db.location(), anchor).clean());
  // Registry rows stay out of case listings and exports.
  int64_t rows = 0;
  engine.store().scan_log({}, [&](const LogEntry&) { return ++rows > 0; });
  CHECK(rows == 5);
}

TEST_CASE("verify recomputes checkpoints: a rewritten one and a deleted chain are found", "[chains]") {
  testing::TempDb db("tamper");
  std::string a, b;
  LogEntry checkpoint;
  audit::Anchor anchor;
  {
    Engine engine = make_engine(db.path());
    set_up(engine);
    a = open(engine);
    b = open(engine);
    engine.advance(testing::step_request(a, "screen", "rina", {{"age", "31"}}));
    checkpoint = engine.checkpoint("admin");
    anchor = audit::anchor(engine.store());
  }
  REQUIRE(verify(db.path(), anchor).clean());
  SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);

  SECTION("a checkpoint rewritten with a hash that matches its new content") {
    LogEntry forged = checkpoint;
    forged.checkpoint->root = std::string(64, 'a');
    SQLite::Statement update(raw, "UPDATE transitions SET record = ?, hash = ? WHERE seq = ?");
    update.bind(1, log_record(forged));
    update.bind(2, chain_hash(forged.prev_hash, forged));
    update.bind(3, checkpoint.seq);
    raw.exec(kDropTriggers);
    update.exec();
    raw.exec(kTriggers);
    const auto r = verify(db.path());
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].kind == audit::FindingKind::kCheckpointMismatch);
    CHECK(r.findings[0].seq == checkpoint.seq);
    CHECK(r.findings[0].message.find("does not hold") != std::string::npos);
  }
  SECTION("a whole chain deleted, case row and all") {
    raw.exec(kDropTriggers + "DELETE FROM transitions WHERE case_id = '" + b + "'; DELETE FROM cases WHERE id = '" +
             b + "';" + kTriggers);
    const auto r = verify(db.path(), anchor);
    INFO(describe(r));
    CHECK(has_finding(r, audit::FindingKind::kCheckpointMismatch, checkpoint.seq));
    CHECK(has_finding(r, audit::FindingKind::kAnchorMismatch, anchor.seq));
  }
}

TEST_CASE("a schema 2 database migrates with every row and hash verifiable", "[chains][migration]") {
  // Rows written by the engine, copied into a schema 2 database chained as
  // schema 2 chained them: each row to the row before it in seq order.
  Engine source(open_sqlite_store(":memory:", StoreOptions{true}), std::make_shared<testing::StepClock>());
  set_up(source);
  const std::string a = open(source), b = open(source);
  source.advance(testing::step_request(a, "screen", "rina", {{"age", "31"}}));
  source.advance(testing::step_request(b, "screen", "rina", {{"age", "44"}}));
  source.advance(testing::step_request(a, "assess", "rina", {{"risk", "high"}}));

  testing::TempDb db("migrate");
  int64_t old_rows = 0;
  std::string old_head;
  {
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    schema::migrate(raw, 2);
    raw.exec("BEGIN");
    for (const auto& p : source.store().procedures()) {
      SQLite::Statement insert(raw, "INSERT INTO procedures (sop_id, version, sha256, source, file, published_at, "
                                    "published_by, current, compiled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      insert.bind(1, p.sop_id);
      insert.bind(2, p.version);
      insert.bind(3, p.sha256);
      insert.bind(4, p.source);
      insert.bind(5, p.file);
      insert.bind(6, static_cast<int64_t>(p.published_at.seconds));
      insert.bind(7, p.published_by);
      insert.bind(8, p.current ? 1 : 0);
      insert.bind(9, p.compiled);
      insert.exec();
    }
    for (const auto& m : source.store().all_staff())
      raw.exec("INSERT INTO staff (id, name, roles) VALUES ('" + m.id + "', '" + m.name + "', '[\"" + m.roles[0] + "\"]')");
    for (const auto& c : source.store().cases({})) {
      SQLite::Statement insert(raw, "INSERT INTO cases (id, sop_id, sha256, state, status, data, version, last_seq, "
                                    "opened_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      insert.bind(1, c.id);
      insert.bind(2, c.sop_id);
      insert.bind(3, c.sha256);
      insert.bind(4, c.state);
      insert.bind(5, to_string(c.status));
      std::string data = "[";
      for (const auto& v : c.data) {
        if (data.size() > 1) data += ",";
        if (v.pii) {
          data += "{\"field\":\"" + v.field + "\",\"missing\":false,\"pii\":true,\"salt\":\"" + v.salt +
                  "\",\"digest\":\"" + v.digest + "\"}";
          raw.exec("INSERT OR IGNORE INTO personal_text (digest, text) VALUES ('" + v.digest + "', '" + v.text + "')");
        } else {
          data += "{\"field\":\"" + v.field + "\",\"missing\":false,\"text\":\"" + v.text + "\"}";
        }
      }
      insert.bind(6, data + "]");
      insert.bind(7, static_cast<int64_t>(c.version));
      insert.bind(8, static_cast<int64_t>(c.last_seq));
      insert.bind(9, static_cast<int64_t>(c.opened_at.seconds));
      if (c.due_at) insert.bind(10, static_cast<int64_t>(c.due_at->seconds));
      insert.exec();
    }
    source.store().scan_log({}, [&](const LogEntry& e) {
      SQLite::Statement insert(raw, "INSERT INTO transitions (seq, record, prev_hash, hash) VALUES (?, ?, ?, ?)");
      const std::string hash = chain_hash(old_head, e);
      insert.bind(1, old_rows + 1);  // schema 2 had no registry rows: the case rows in order
      insert.bind(2, log_record(e));
      insert.bind(3, old_head);
      insert.bind(4, hash);
      insert.exec();
      old_head = hash;
      ++old_rows;
      return true;
    });
    raw.exec("COMMIT");
  }
  REQUIRE(old_rows == 5);

  Engine engine(open_sqlite_store(db.path(), StoreOptions{}), std::make_shared<testing::StepClock>());  // migrates
  CHECK(engine.store().per_chain_from() == 6);
  // The upgrade to schema 4 added one registry row per procedure version
  // and staff member (4), after the old rows; the sites upgrade one for the
  // default site and one per member joining it (4).
  CHECK(engine.store().chain_head().first == old_rows + 8);
  const auto rows_a = engine.store().history(a);
  CHECK(engine.store().find_case(a)->head_hash == rows_a.back().hash);
  {
    const auto r = verify(db.path());
    INFO(describe(r));
    CHECK(r.clean());
    CHECK(r.rows == 13);
  }
  // New rows chain per case, continuing from each case's last old row.
  const StepResult next = engine.advance(testing::step_request(b, "assess", "rina", {{"risk", "high"}}));
  CHECK(next.entry.prev_hash == engine.store().history(b)[1].hash);
  const std::string c = open(engine);
  CHECK(engine.store().history(c)[0].prev_hash.empty());
  engine.checkpoint("admin");
  {
    const auto r = verify(db.path());
    INFO(describe(r));
    CHECK(r.clean());
    CHECK(r.rows == 16);
  }
  // One site's rows cannot be taken out of a log chained row after row:
  // a site copy is refused, nothing written on either end.
  {
    testing::TempDb site_file("site");
    auto to = open_sqlite_store(site_file.path(), StoreOptions{true});
    const auto head = engine.store().chain_head();
    const std::string message = testing::message_of([&] {
      copy_database(engine.store(), *to, CopySealing{}, {}, SiteScope{"main", "site.db", "admin", DateTime{1}});
    });
    CHECK(message.find("the source's log was chained row after row up to row 5") == 0);
    CHECK(engine.store().chain_head() == head);
    CHECK(to->chain_head().first == 0);
  }
  // An old row changed is still found, by the rule it was written under.
  SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
  raw.exec(kDropTriggers + "UPDATE transitions SET record = json_set(record, '$.note', 'edited') WHERE seq = 2;" +
           kTriggers);
  const auto r = verify(db.path());
  INFO(describe(r));
  CHECK(has_finding(r, audit::FindingKind::kChainHash, 2));
}

}  // namespace sopir
