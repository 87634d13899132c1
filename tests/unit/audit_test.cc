// The audit layer: verify finds every kind of tampering (and nothing on a
// clean database), replay with a proposed procedure, exports and reveal.
// Databases are built through the Engine with a fixed clock, then tampered
// with through raw SQL, as someone with the file and the sqlite3 shell would.
#include "sopir/audit.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "sopir/engine.h"
#include "sopir/messages.h"
#include "store/schema.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

using audit::FindingKind;


class AuditFixture {
 protected:
  AuditFixture() {
    clock_ = std::make_shared<testing::TestClock>(*parse_datetime("2026-03-02T08:00:00Z"));
    engine_ = std::make_unique<Engine>(open_sqlite_store(db_.path(), StoreOptions{true}), clock_);
    Store& s = engine_->store();
    s.add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    s.add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
    s.add_staff({"dewi", "Dewi Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
    s.add_staff({"budi", "Budi Contoh", {"supervisor"}, true}, ::sopir::testing::kByAdmin);
    s.add_staff({"sari", "Sari Contoh", {"supervisor"}, true}, ::sopir::testing::kByAdmin);
    engine_->publish_source(testing::kCareYaml, "care.yaml", "admin", false);
  }

  StepResult step(const std::string& id, const std::string& event, const std::string& actor,
                  std::vector<std::pair<std::string, std::string>> inputs = {}, std::string reason = "",
                  bool override = false) {
    clock_->advance(3600);
    StepRequest r;
    r.case_id = id;
    r.event = event;
    r.actor = actor;
    r.inputs = std::move(inputs);
    r.reason = std::move(reason);
    r.override = override;
    return engine_->advance(r);
  }

  std::string open(std::vector<std::pair<std::string, std::string>> inputs) {
    clock_->advance(60);
    return engine_->open_case({"test-care", "rina", std::move(inputs), "arrived by bus", std::nullopt})
        .after.id;
  }

  // The case's personal data erased as `case erase` does it, by two data
  // protection officers (its `erase-requested` and `erased` rows).
  void erase(const std::string& id) {
    Store& s = engine_->store();
    if (!s.staff("lina"))
      for (const char* who : {"lina", "tono"})
        s.add_staff({who, std::string(who) + " Contoh", {"data_protection"}, true},
                    ::sopir::testing::kByAdmin);
    clock_->advance(60);
    engine_->request_erasure(id, "lina", "asked in person");
    clock_->advance(60);
    engine_->confirm_erasure(id, "tono");
  }

  // Case A walks to the end (four-eyes respected); case B is overridden,
  // held and resumed; case C is escalated by the timer and closed.
  void build() {
    a_ = open({{"full_name", "Siti Contoh"}, {"age", "31"}});
    step(a_, "screen", "rina", {{"age", "31"}});
    step(a_, "assess", "rina", {{"risk", "high"}});
    step(a_, "stabilise", "dewi");
    step(a_, "write_plan", "budi", {{"plan", "return to family"}});
    step(a_, "approve_plan", "sari");

    b_ = open({{"full_name", "Ani Contoh"}});
    step(b_, "screen", "dewi", {{"age", "19"}, {"full_name", "Ani Contoh"}});
    step(b_, "assess", "budi", {{"risk", "low"}}, "consent given on paper", true);
    clock_->advance(600);
    engine_->lifecycle({b_, LifecycleEvent::kHold, "budi", "waiting for documents", "", std::nullopt});
    clock_->advance(7200);
    engine_->lifecycle({b_, LifecycleEvent::kResume, "budi", "", "", std::nullopt});

    c_ = open({});
    clock_->advance(2 * 86400);
    engine_->tick();
    clock_->advance(600);
    engine_->lifecycle({c_, LifecycleEvent::kClose, "budi", "declined", "", std::nullopt});
  }

  audit::VerifyReport verify(std::optional<audit::Anchor> anchor = std::nullopt) {
    auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
    audit::VerifyOptions options;
    options.anchor = anchor;
    return audit::verify(*store, options);
  }

  // The SQL that creates the log's triggers, as the database holds it: a
  // careful tamperer puts them back after editing.
  std::string read_triggers_sql() {
    SQLite::Database db(db_.path(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'transitions' ORDER BY name");
    std::string out;
    while (q.executeStep()) out += q.getColumn(0).getString() + ";\n";
    return out;
  }

  // Raw SQL on the file, as a tamperer would.
  void sql(const std::string& statements) {
    SQLite::Database db(db_.path(), SQLite::OPEN_READWRITE);
    db.exec(statements);
  }
  static constexpr const char* kDropTriggers =
      "DROP TRIGGER transitions_no_update; DROP TRIGGER transitions_no_delete;";

  // Case A up to plan_review, its plan written by budi.
  void to_plan_review() {
    a_ = open({{"age", "40"}});
    step(a_, "screen", "rina", {{"age", "40"}});
    step(a_, "assess", "rina", {{"risk", "high"}});
    step(a_, "stabilise", "dewi");
    step(a_, "write_plan", "budi", {{"plan", "shelter stay"}});
  }

  // A forged approve_plan of case A (at plan_review: to_plan_review()) by
  // `actor` as `role`, with `note`, appended to its chain with the hashes
  // recomputed, as a forger with the file could: the row and its seq. The
  // case row is left as it was (move_case_row() moves it along).
  struct Forged {
    LogEntry row;
    int64_t seq = 0;
  };
  Forged forge_approval(const std::string& actor, const std::string& role,
                        const std::string& note = "") {
    LogEntry forged = newest_row(a_);
    const std::string prev = forged.hash;
    forged.case_seq += 1;
    forged.kind = LogKind::kProcedure;
    forged.event = "approve_plan";
    forged.from_state = "plan_review";
    forged.to_state = "done";
    forged.from_status = "active";
    forged.to_status = "closed";
    forged.actor = actor;
    forged.role = role;
    forged.inputs.clear();
    forged.changes.clear();
    forged.due_at.reset();
    forged.note = note;
    const int64_t seq = append_forged(forged, prev);
    return {forged, seq};
  }
  // Case A's row moved along to the forged approval `forged` (closed, at
  // done, its head the forged row), so only the forged step itself can give
  // it away.
  void move_case_row(const LogEntry& forged) {
    sql("UPDATE cases SET state = 'done', status = 'closed', version = version + 1, last_seq = " +
        std::to_string(forged.case_seq) + ", due_at = NULL, head_hash = '" + forged.hash +
        "' WHERE id = '" + a_ + "'");
  }

  // The newest row of `case_id`'s log, as a template for a forged row.
  LogEntry newest_row(const std::string& case_id) {
    auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
    return store->history(case_id).back();
  }
  // Appends `forged` after the newest row of the log, linked to `prev` (by
  // default the newest row's hash) with its hash recomputed, as a forger
  // with the file could; sets its prev_hash and hash. Returns its seq.
  int64_t append_forged(LogEntry& forged, const std::optional<std::string>& prev = std::nullopt) {
    auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
    const auto head = store->chain_head();
    store.reset();
    forged.prev_hash = prev.value_or(head.second);
    forged.hash = chain_hash(forged.prev_hash, forged);
    const int64_t seq = head.first + 1;
    SQLite::Database db(db_.path(), SQLite::OPEN_READWRITE);
    SQLite::Statement insert(
        db, "INSERT INTO transitions (seq, record, prev_hash, hash) VALUES (?, ?, ?, ?)");
    insert.bind(1, seq);
    insert.bind(2, log_record(forged));
    insert.bind(3, forged.prev_hash);
    insert.bind(4, forged.hash);
    insert.exec();
    return seq;
  }

  int64_t seq_of(const std::string& case_id, int case_seq) {
    SQLite::Database db(db_.path(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT seq FROM transitions WHERE case_id = ? AND case_seq = ?");
    q.bind(1, case_id);
    q.bind(2, case_seq);
    REQUIRE(q.executeStep());
    return q.getColumn(0).getInt64();
  }

  testing::TempDb db_{"audit"};
  std::shared_ptr<testing::TestClock> clock_;
  std::unique_ptr<Engine> engine_;
  std::string a_, b_, c_;
};

bool has_finding(const audit::VerifyReport& r, FindingKind kind, int64_t seq, const std::string& case_id = "") {
  for (const auto& f : r.findings) {
    if (f.kind == kind && f.seq == seq && (case_id.empty() || f.case_id == case_id)) return true;
  }
  return false;
}

std::string describe(const audit::VerifyReport& r) {
  std::string out;
  for (const auto& f : r.findings)
    out += std::string(audit::to_string(f.kind)) + " seq " + std::to_string(f.seq) + " case " + f.case_id +
           ": " + f.message + "\n";
  return out;
}

TEST_CASE_METHOD(AuditFixture, "verify reports nothing on a clean database", "[audit]") {
  build();
  const auto report = verify();
  INFO(describe(report));
  CHECK(report.clean());
  CHECK(report.rows == 20);  // 14 steps, 5 staff rows and 1 publish row
  CHECK(report.cases == 3);
  CHECK(report.steps == 11);  // 14 log rows, 3 of them open a case
  CHECK(report.unverifiable_steps == 0);
  const auto head = engine_->store().chain_head();
  CHECK(report.head.seq == head.first);
  // With the current head as anchor it is still clean.
  CHECK(verify(audit::Anchor{head.first, head.second}).clean());
}

TEST_CASE_METHOD(AuditFixture, "a changed note, actor or target state breaks the chain at that row",
                 "[audit]") {
  build();
  const int64_t seq = seq_of(a_, 3);  // assess by rina
  SECTION("note") {
    sql(std::string(kDropTriggers) + "UPDATE transitions SET record = json_set(record, '$.note', 'nothing happened') WHERE seq = " +
        std::to_string(seq));
    const auto r = verify();
    INFO(describe(r));
    CHECK(has_finding(r, FindingKind::kChainHash, seq, a_));
    // The dropped append-only triggers are findings too.
    REQUIRE(r.findings.size() == 3);
    CHECK(r.findings[0].kind == FindingKind::kChainHash);
    CHECK(r.findings[1].kind == FindingKind::kSchemaChanged);
    CHECK(r.findings[1].message == "the trigger transitions_no_delete is missing: a protection of the log was removed");
    CHECK(r.findings[2].message == "the trigger transitions_no_update is missing: a protection of the log was removed");
  }
  SECTION("note, with the triggers put back afterwards") {
    const std::string triggers = read_triggers_sql();
    sql(std::string(kDropTriggers) + "UPDATE transitions SET record = json_set(record, '$.note', 'nothing happened') WHERE seq = " +
        std::to_string(seq) + ";" + triggers);
    const auto r = verify();
    INFO(describe(r));
    CHECK(has_finding(r, FindingKind::kChainHash, seq, a_));
    CHECK(r.findings.size() == 1);
  }
  SECTION("actor") {
    sql(std::string(kDropTriggers) + "UPDATE transitions SET record = json_set(record, '$.actor', 'dewi') WHERE seq = " +
        std::to_string(seq));
    const auto r = verify();
    INFO(describe(r));
    CHECK(has_finding(r, FindingKind::kChainHash, seq, a_));
  }
  SECTION("target state") {
    sql(std::string(kDropTriggers) + "UPDATE transitions SET record = json_set(record, '$.to_state', 'care') WHERE seq = " +
        std::to_string(seq));
    const auto r = verify();
    INFO(describe(r));
    CHECK(has_finding(r, FindingKind::kChainHash, seq, a_));
    CHECK(has_finding(r, FindingKind::kStepDiffers, seq, a_));
  }
  SECTION("a row rewritten with its hash recomputed breaks the link of the next row") {
    // Rewrite row `seq` and recompute its own hash: the next row still names the old one.
    auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
    LogEntry e = store->history(a_)[2];
    store.reset();
    e.note = "rewritten";
    const std::string forged = chain_hash(e.prev_hash, e);
    sql(std::string(kDropTriggers) + "UPDATE transitions SET record = json_set(record, '$.note', 'rewritten'), hash = '" +
        forged + "' WHERE seq = " + std::to_string(seq));
    const auto r = verify();
    INFO(describe(r));
    CHECK(has_finding(r, FindingKind::kChainLink, seq + 1));
    CHECK_FALSE(has_finding(r, FindingKind::kChainHash, seq));
  }
}

TEST_CASE_METHOD(AuditFixture,
                 "audit case warns of a case row changed behind sopir's back and of missing steps",
                 "[audit]") {
  build();
  auto story_of = [&](const std::string& id) {
    auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
    std::ostringstream out;
    audit::export_case(*store, id, audit::ExportOptions{}, out);
    return out.str();
  };
  CHECK_THAT(story_of(a_), !Catch::Contains("WARNING"));
  // The case row says a state its log never left it in: "Now:" is the
  // row's, and the warning says which to believe, in verify's words.
  sql("UPDATE cases SET state = 'closed_fake' WHERE id = '" + a_ + "'");
  CHECK_THAT(
      story_of(a_),
      Catch::Contains(
          "WARNING:  the case row above disagrees with its log (changed behind sopir's back): "
          "state is 'closed_fake' but its log ends in '") &&
          Catch::Contains(
              "the log below is what happened, and `sopir audit verify` reports it (case-row)\n"));
  // A step taken out of the middle of the log: the step after it says so.
  const int64_t seq = seq_of(b_, 2);
  sql(std::string(kDropTriggers) + "DELETE FROM transitions WHERE seq = " + std::to_string(seq));
  CHECK_THAT(
      story_of(b_),
      Catch::Contains("\n   WARNING:  the case's log jumps here from step 1 to step 3: steps "
                      "between are missing, or rows are out of order\n"));
}

TEST_CASE_METHOD(AuditFixture,
                 "audit case returns the findings it shows and writes them as warning rows",
                 "[audit]") {
  build();
  auto told = [&](const std::string& id, audit::Format format, std::string* text) {
    auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
    audit::ExportOptions options;
    options.format = format;
    std::ostringstream out;
    audit::CaseExport result = audit::export_case(*store, id, options, out);
    *text = out.str();
    return result;
  };
  std::string text;
  CHECK(told(a_, audit::Format::kTable, &text).warnings.empty());
  CHECK(told(a_, audit::Format::kCsv, &text).warnings.empty());
  CHECK_THAT(text, !Catch::Contains(",warning,"));
  // The case row changed: one finding about the row (no log row), in
  // verify's words, the last row of each export.
  sql("UPDATE cases SET state = 'closed_fake' WHERE id = '" + a_ + "'");
  const std::string row_message =
      "case " + a_ +
      "'s row disagrees with its log (changed behind the engine's back): state is 'closed_fake' "
      "but its log ends in 'done'";
  for (audit::Format format : {audit::Format::kTable, audit::Format::kCsv, audit::Format::kJsonl}) {
    const audit::CaseExport result = told(a_, format, &text);
    REQUIRE(result.warnings.size() == 1);
    const audit::CaseWarning& w = result.warnings[0];
    CHECK(w.kind == FindingKind::kCaseRow);
    CHECK(w.case_id == a_);
    CHECK(w.seq == 0);
    CHECK(w.case_seq == 0);
    CHECK(w.message == row_message);
    if (format == audit::Format::kCsv)
      CHECK_THAT(text, Catch::EndsWith("\r\n," + a_ + ",,,,warning,case-row,,,,,,,,,,," +
                                       row_message + ",,,,,\r\n"));
    if (format == audit::Format::kJsonl) {
      const std::string last = text.substr(text.rfind('\n', text.size() - 2) + 1);
      const auto j = nlohmann::json::parse(last);
      CHECK(j["kind"] == "warning");
      CHECK(j["event"] == "case-row");
      CHECK(j["note"] == row_message);
      CHECK(j["case_id"] == a_);
      CHECK(j["seq"].is_null());
      CHECK(j["case_seq"].is_null());
      CHECK(j["changes"] == nlohmann::json::array());
      CHECK(j["hash"] == "");
    }
  }
  // A step taken out: the step after it jumps, and what follows from it.
  const int64_t gone = seq_of(b_, 2);
  const int64_t next = seq_of(b_, 3);
  sql(std::string(kDropTriggers) + "DELETE FROM transitions WHERE seq = " + std::to_string(gone));
  const audit::CaseExport result = told(b_, audit::Format::kCsv, &text);
  REQUIRE_FALSE(result.warnings.empty());
  CHECK(result.warnings[0].kind == FindingKind::kCaseRow);  // the row counts the step taken out
  CHECK(result.warnings[1].kind == FindingKind::kCaseSeqGap);
  CHECK(result.warnings[1].seq == next);
  CHECK(result.warnings[1].case_seq == 3);
  CHECK(result.warnings[1].message == "case " + b_ + " jumps from step 1 to step 3 at log row " +
                                          std::to_string(next) +
                                          ": its steps in between are missing");
  CHECK_THAT(text, Catch::Contains("\r\n" + std::to_string(next) + "," + b_ +
                                   ",3,,,warning,case-seq-gap,"));
  // Every warning is a row of the export, after the log rows.
  CHECK(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) ==
        1 + 4 + result.warnings.size());  // the header, the 4 rows left, the warnings
}

// Sets the process's message language (the replay's) for one test and puts
// English back.
class ProcessLanguage {
 public:
  explicit ProcessLanguage(const char* lang) { set_message_language(lang); }
  ~ProcessLanguage() { set_message_language("en"); }
};

TEST_CASE_METHOD(AuditFixture, "audit case in Indonesian says everything in Indonesian",
                 "[audit]") {
  // Case A at plan_review, budi wrote the plan; a forged row has budi
  // approve it himself (four-eyes), and the case row was left behind.
  to_plan_review();
  const LogEntry forged = forge_approval("budi", "supervisor", "seen").row;
  // The case row counts the step but still says plan_review.
  sql("UPDATE cases SET version = version + 1, last_seq = " + std::to_string(forged.case_seq) +
      " WHERE id = '" + a_ + "'");
  const ProcessLanguage indonesian("id");
  auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
  audit::ExportOptions options;
  options.lang = "id";
  std::ostringstream out;
  audit::export_case(*store, a_, options, out);
  const std::string text = out.str();
  INFO(text);
  CHECK_THAT(text,
             Catch::StartsWith(
                 "Kasus " + a_ +
                 "  prosedur test-care versi 1\nSekarang: plan_review (active)\n"
                 "Dibuka: 2026-03-02T08:01:00Z\nPERINGATAN:  baris kasus di atas tidak sesuai"));
  CHECK_THAT(text,
             Catch::Contains("\n1. open   intake  [active]\n   siapa:    rina sebagai worker\n"
                             "   kapan:    2026-03-02T08:01:00Z (dicatat 2026-03-02T08:01:00Z)\n"
                             "   aturan:   membuka kasus test-care (peran apa pun dalam prosedur)\n"
                             "   isian:    age = 40\n   catatan:  arrived by bus\n   tenggat:  "
                             "2026-03-03T08:01:00Z\n"));
  CHECK_THAT(
      text, Catch::Contains("   aturan:   transisi 4 'assess' screening -> emergency, oleh worker, "
                            "jika risk == high\n"));
  CHECK_THAT(text, Catch::Contains("   isian:    risk = high\n"));
  // The refusal is the rules' own, in Indonesian too.
  CHECK_THAT(
      text, Catch::Contains(
                "\n   PERINGATAN:  prosedur tidak akan mengizinkan langkah ini: aturan empat mata: "
                "'approve_plan' harus dilakukan oleh petugas lain"));
  CHECK_THAT(text, Catch::Contains("\n   catatan:  seen\n"));
  for (const char* english :
       {"Case ", "procedure ", "Now:", "Opened:", "who:", "when:", "rule:", "set:", "note:",
        "WARNING", " as ", "recorded", "transition", ", by ", "when ", "four-eyes", "open a case"})
    CHECK_THAT(text, !Catch::Contains(english));
}

TEST_CASE_METHOD(AuditFixture, "a deleted row is a seq gap, a broken link and a case step gap", "[audit]") {
  build();
  const int64_t seq = seq_of(a_, 4);  // stabilise by dewi
  sql(std::string(kDropTriggers) + "DELETE FROM transitions WHERE seq = " + std::to_string(seq));
  const auto r = verify();
  INFO(describe(r));
  CHECK(has_finding(r, FindingKind::kSeqGap, seq + 1));
  CHECK(has_finding(r, FindingKind::kChainLink, seq + 1));
  CHECK(has_finding(r, FindingKind::kCaseSeqGap, seq + 1, a_));
}

TEST_CASE_METHOD(
    AuditFixture,
    "a whole case removed after the newest checkpoint is a seq gap, whatever the gaps setting says",
    "[audit]") {
  build();
  engine_->checkpoint("admin");
  // The checkpoint commits that this file's numbers do not skip.
  REQUIRE(engine_->store().newest_checkpoint()->checkpoint->seq_gaps == false);
  const std::string gone = open({{"full_name", "Wati Contoh"}});
  step(gone, "screen", "rina", {{"age", "40"}});
  const int64_t first = seq_of(gone, 1), last = seq_of(gone, 2);
  open({{"full_name", "Yuni Contoh"}});  // written after it: the removal is no cut at the end
  sql(std::string(kDropTriggers) +
      "PRAGMA foreign_keys = OFF; DELETE FROM transitions WHERE case_id = '" + gone +
      "'; DELETE FROM case_keys WHERE case_id = '" + gone +
      "'; DELETE FROM personal_text WHERE case_id = '" + gone +
      "'; DELETE FROM cases WHERE id = '" + gone + "';");
  auto r = verify();
  INFO(describe(r));
  CHECK(has_finding(r, FindingKind::kSeqGap, last + 1));
  // Turned on behind sopir's back, the setting of a copy of a server's log
  // (whose numbers may skip) does not hide it: the checkpoint said otherwise.
  sql("UPDATE chain_rule SET seq_gaps = 1");
  r = verify();
  INFO(describe(r));
  REQUIRE(has_finding(r, FindingKind::kSeqGap, last + 1));
  // A later checkpoint (the hourly timer's) does not undo it: it commits
  // what the one before it did.
  engine_->checkpoint("admin");
  CHECK(engine_->store().newest_checkpoint()->checkpoint->seq_gaps == false);
  r = verify();
  INFO(describe(r));
  REQUIRE(has_finding(r, FindingKind::kSeqGap, last + 1));
  // The finding names no case: the next row's case is not the one removed.
  for (const auto& f : r.findings)
    if (f.kind == FindingKind::kSeqGap) {
      CHECK(f.case_id.empty());
      CHECK(f.message.find("log rows " + std::to_string(first) + " to " + std::to_string(last) +
                           " are missing") != std::string::npos);
    }
}

TEST_CASE_METHOD(AuditFixture, "a forged row with a valid chain but a forbidden step is refused by replay",
                 "[audit]") {
  // Case A stops at plan_review; budi wrote the plan. The forger appends
  // budi approving his own plan (four-eyes), recomputing the chain.
  to_plan_review();
  const auto [forged, seq] = forge_approval("budi", "supervisor");
  sql("UPDATE cases SET state = 'done', status = 'closed', version = version + 1, last_seq = " +
      std::to_string(forged.case_seq) + ", due_at = NULL WHERE id = '" + a_ + "'");
  const auto r = verify();
  INFO(describe(r));
  CHECK(has_finding(r, FindingKind::kStepRefused, seq, a_));
  CHECK_FALSE(has_finding(r, FindingKind::kChainHash, seq));
  CHECK_FALSE(has_finding(r, FindingKind::kChainLink, seq));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].message.find("four-eyes") != std::string::npos);
}

TEST_CASE_METHOD(AuditFixture,
                 "a step that cannot be decided again must still be a move its procedure has",
                 "[audit]") {
  // The case's name is erased, so no guard can be evaluated again; the
  // forger appends an assessment (whose guard now reads as unverifiable),
  // recomputing the chain, to a state of their choosing.
  a_ = open({{"full_name", "Siti Contoh"}});
  step(a_, "screen", "rina", {{"age", "40"}});
  erase(a_);
  const auto forge = [&](const std::string& to_state, const std::string& to_status) {
    LogEntry forged = newest_row(a_);
    forged.case_seq += 1;
    forged.kind = LogKind::kProcedure;
    forged.event = "assess";
    forged.from_state = "screening";
    forged.to_state = to_state;
    forged.from_status = "active";
    forged.to_status = to_status;
    forged.actor = "rina";
    forged.role = "worker";
    forged.inputs = {{"risk", "low"}};
    forged.changes.clear();
    forged.due_at.reset();
    forged.note = "";
    const int64_t seq = append_forged(forged);
    sql("UPDATE cases SET state = '" + to_state + "', status = '" + to_status +
        "', version = version + 1, last_seq = " + std::to_string(forged.case_seq) +
        ", due_at = NULL WHERE id = '" + a_ + "'");
    return seq;
  };
  SECTION("to a state the procedure has no such move to") {
    const int64_t seq = forge("nowhere", "closed");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(has_finding(r, FindingKind::kStepRefused, seq, a_));
    CHECK(r.findings[0].message.find(
              "the procedure has no step 'assess' from state 'screening' to 'nowhere'") !=
          std::string::npos);
  }
  SECTION("to a state it may go to, with the wrong status") {
    const int64_t seq = forge("care", "closed");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(has_finding(r, FindingKind::kStepRefused, seq, a_));
  }
  SECTION("a move it has stays unverifiable") {
    forge("care", "active");
    const auto r = verify();
    INFO(describe(r));
    CHECK(r.clean());
    CHECK(r.unverifiable_steps == 2);  // the opening (its name erased) and the assessment
  }
}

TEST_CASE_METHOD(AuditFixture, "truncated newest rows are found against an anchor", "[audit]") {
  build();
  const auto head = engine_->store().chain_head();
  const audit::Anchor anchor{head.first, head.second};
  // Remove the newest two rows (case C's timer step and close), put the
  // case row back as it was and the triggers too, so only the anchor can
  // tell.
  const std::string triggers = read_triggers_sql();
  sql(std::string(kDropTriggers) + "DELETE FROM transitions WHERE seq > " + std::to_string(head.first - 2) +
      "; UPDATE cases SET state = 'intake', status = 'active', version = 1, last_seq = 1, "
      "closure_reason = '', due_at = (SELECT json_extract(record, '$.due_at') FROM transitions WHERE case_id = '" + c_ +
      "' AND case_seq = 1) WHERE id = '" + c_ + "';" + triggers);
  const auto without = verify();
  INFO(describe(without));
  CHECK(without.clean());
  const auto r = verify(anchor);
  INFO(describe(r));
  CHECK(has_finding(r, FindingKind::kAnchorTruncated, head.first));
  SECTION("a rewritten chain is found by the anchor's hash") {
    const auto mid = verify(audit::Anchor{head.first - 3, std::string(64, 'a')});
    CHECK(has_finding(mid, FindingKind::kAnchorMismatch, head.first - 3));
  }
}

TEST_CASE_METHOD(AuditFixture, "a case row edited behind the engine's back disagrees with its log", "[audit]") {
  build();
  SECTION("state") {
    sql("UPDATE cases SET state = 'done' WHERE id = '" + b_ + "'");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].kind == FindingKind::kCaseRow);
    CHECK(r.findings[0].case_id == b_);
  }
  SECTION("data value") {
    sql("UPDATE cases SET data = replace(data, '\"text\":\"19\"', '\"text\":\"12\"') WHERE id = '" + b_ + "'");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].kind == FindingKind::kCaseRow);
    CHECK(r.findings[0].message.find("age") != std::string::npos);
  }
  // Columns no step's replay reads: the procedure, the opening time, the
  // start of a hold (which moves the due time a resume gives).
  const auto one_case_row = [&](const std::string& set, const std::string& says) {
    sql("UPDATE cases SET " + set + " WHERE id = '" + b_ + "'");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].kind == FindingKind::kCaseRow);
    CHECK(r.findings[0].case_id == b_);
    CHECK(r.findings[0].message.find(says) != std::string::npos);
  };
  SECTION("procedure") {
    one_case_row("sop_id = 'test-other'", "procedure is 'test-other' but its log runs 'test-care'");
  }
  SECTION("opening time") { one_case_row("opened_at = opened_at - 86400", "opening time is "); }
  SECTION("hold start") { one_case_row("hold_started = opened_at", "hold start is "); }
}

TEST_CASE_METHOD(AuditFixture,
                 "a registry table row removed or edited behind the engine's back is found",
                 "[audit]") {
  build();
  // A second procedure no case runs, so that removing it touches no case.
  std::string other = testing::kCareYaml;
  other.replace(other.find("sop: test-care"), 14, "sop: test-spare");
  engine_->publish_source(other, "spare.yaml", "admin", false);
  const auto only = [&](FindingKind kind, const std::string& says) {
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].kind == kind);
    CHECK(r.findings[0].message.find(says) != std::string::npos);
  };
  SECTION("a staff member's row") {
    sql("DELETE FROM staff WHERE id = 'sari'");
    only(FindingKind::kStaffRow, "sari, added by the log (log row ");
  }
  SECTION("a procedure version's row") {
    sql("DELETE FROM procedures WHERE sop_id = 'test-spare'");
    only(FindingKind::kProcedureChanged, "procedure test-spare version 1 (SHA-256 ");
  }
  SECTION("who published it") {
    sql("UPDATE procedures SET published_by = 'rina' WHERE sop_id = 'test-spare'");
    only(FindingKind::kProcedureChanged, "was published by rina at ");
  }
  SECTION("when it was published") {
    sql("UPDATE procedures SET published_at = published_at - 3600 WHERE sop_id = 'test-spare'");
    only(FindingKind::kProcedureChanged, "but its publish row (log row ");
  }
}

TEST_CASE_METHOD(AuditFixture,
                 "a registry row that is not a record sopir writes is named, and the rest read",
                 "[audit]") {
  build();
  int64_t seq = 0;
  {
    SQLite::Database db(db_.path(), SQLite::OPEN_READONLY);
    seq = db.execAndGet(
                "SELECT seq FROM transitions WHERE json_extract(record, '$.kind') = 'publish'")
              .getInt64();
  }
  sql(std::string(kDropTriggers) +
      "UPDATE transitions SET record = '{\"case_seq\":0}' WHERE seq = " + std::to_string(seq));
  const auto r = verify();
  INFO(describe(r));
  CHECK(has_finding(r, FindingKind::kRecordDamaged, seq, ""));
  for (const auto& f : r.findings)
    if (f.kind == FindingKind::kRecordDamaged) CHECK(f.case_id.empty());  // a registry row: no case
  CHECK(r.cases == 3);  // every case replayed all the same
}

TEST_CASE_METHOD(AuditFixture, "a log row that is not a record sopir writes is named", "[audit]") {
  build();
  const int64_t seq = seq_of(b_, 2);
  sql(std::string(kDropTriggers) + "UPDATE transitions SET record = '{\"case_id\":\"" + b_ +
      "\",\"case_seq\":2}' WHERE seq = " + std::to_string(seq));
  // Named as a finding; the other cases are still replayed.
  const auto r = verify();
  INFO(describe(r));
  CHECK(has_finding(r, FindingKind::kRecordDamaged, seq, b_));
  for (const auto& f : r.findings) {
    if (f.kind != FindingKind::kRecordDamaged) continue;
    CHECK(f.message.find("log row " + std::to_string(seq) + " is not a record sopir writes (") ==
          0);
    CHECK(f.message.find("; case " + b_ + " was not replayed") != std::string::npos);
  }
  CHECK(r.cases == 2);  // a_ and c_
  for (const auto& f : r.findings)
    if (f.kind != FindingKind::kSchemaChanged) CHECK(f.case_id == b_);
}

TEST_CASE_METHOD(AuditFixture,
                 "a damaged record is named by its first key at fault, in sopir's words",
                 "[audit]") {
  build();
  const int64_t seq = seq_of(b_, 1);  // its opening row: inputs and changes
  const auto [edit, problem] = GENERATE(table<std::string, std::string>({
      {"json_remove(record, '$.sha256')", "it has no 'sha256'"},
      {"json_set(record, '$.case_seq', 'two')", "its 'case_seq' is not a whole number"},
      {"json_set(record, '$.actor', 7)", "its 'actor' is not a text"},
      {"json_set(record, '$.inputs', json('[[\"age\"]]'))",
       "its 'inputs[0]' is not a pair of texts [name, value]"},
      {"json_set(record, '$.changes', json('{}'))", "its 'changes' is not a list"},
      {"json_remove(record, '$.changes[0].before')", "it has no 'changes[0].before'"},
      {"json_set(record, '$.changes[0].after.missing', 'no')",
       "its 'changes[0].after.missing' is not true or false"},
      {"json_set(record, '$.due_at', 'soon')",
       "its 'due_at' is not a time in whole seconds, or null"},
      {"json_set(record, '$.kind', 'magic')", "unknown log kind 'magic' in log row"},
  }));
  sql(std::string(kDropTriggers) + "UPDATE transitions SET record = " + edit +
      " WHERE seq = " + std::to_string(seq));
  const auto r = verify();
  INFO(edit << "\n" << describe(r));
  bool named = false;
  for (const auto& f : r.findings) {
    if (f.kind != FindingKind::kRecordDamaged || f.seq != seq) continue;
    named = true;
    CHECK(f.message.find(problem) != std::string::npos);
    // The JSON library's words never reach the auditor.
    CHECK(f.message.find("json") == std::string::npos);
    CHECK(f.message.find("exception") == std::string::npos);
  }
  CHECK(named);
  CHECK(r.cases == 2);  // a_ and c_ read on
}

TEST_CASE_METHOD(AuditFixture,
                 "the log, the case story and the report read on past a row they cannot read",
                 "[audit]") {
  build();
  auto reader = [&] { return open_sqlite_store(db_.path(), StoreOptions{false, true}); };
  audit::ExportOptions csv;
  csv.format = audit::Format::kCsv;
  std::ostringstream clean;
  const int64_t rows = audit::export_log(*reader(), LogFilter{}, csv, clean).rows;
  const int64_t seq = seq_of(b_, 2);
  sql(std::string(kDropTriggers) +
      "UPDATE transitions SET record = json_remove(record, '$.sha256') WHERE seq = " +
      std::to_string(seq));
  const std::string message =
      "log row " + std::to_string(seq) +
      " is not a record sopir writes (it has no 'sha256'): it was changed behind the "
      "engine's back";
  const audit::UnreadRows named = {{seq, message}};
  auto store = reader();

  // The log: every other row, in every format; the row named.
  std::ostringstream out;
  audit::ExportResult r = audit::export_log(*store, LogFilter{}, csv, out);
  CHECK(r.rows == rows - 1);
  CHECK(r.unread == named);
  const std::string text = out.str();
  CHECK(std::count(text.begin(), text.end(), '\n') == rows);  // the header and the other rows
  CHECK(text.find("\r\n" + std::to_string(seq) + ",") == std::string::npos);
  std::ostringstream lines;
  audit::ExportOptions jsonl;
  jsonl.format = audit::Format::kJsonl;
  r = audit::export_log(*store, LogFilter{}, jsonl, lines);
  CHECK(r.rows == rows - 1);
  CHECK(r.unread == named);
  // The table marks its place and ends with a WARNING line.
  std::ostringstream table;
  audit::ExportOptions wide;
  wide.width = 1000;
  r = audit::export_log(*store, LogFilter{}, wide, table);
  CHECK(r.rows == rows - 1);
  CHECK(r.unread == named);
  CHECK_THAT(
      table.str(),
      Catch::Contains("\n" + std::to_string(seq) + "\n") &&
          Catch::Contains("WARNING: " + message + "; the row is left out\n") &&
          Catch::EndsWith("\nWARNING: 1 log row(s) could not be read and are left out: " +
                          std::to_string(seq) + "; `sopir audit verify` names the damage\n"));
  // One case: the rows of b_ matching, and that row named.
  LogFilter only_b;
  only_b.case_id = b_;
  std::ostringstream b_rows;
  CHECK(audit::export_log(*store, only_b, csv, b_rows).unread == named);
  LogFilter only_a;
  only_a.case_id = a_;
  std::ostringstream a_rows;
  CHECK(audit::export_log(*store, only_a, csv, a_rows).unread.empty());

  // The case's story: told from its other rows, not checked against its
  // procedure, and says so; another case as before.
  std::ostringstream story;
  CHECK(audit::export_case(*store, b_, audit::ExportOptions{}, story).unread == named);
  CHECK_THAT(story.str(),
             Catch::Contains("\nWARNING:  " + message +
                             "; the case is told without it and its steps are not checked against "
                             "the procedure; `sopir audit verify` names the damage\n"));
  CHECK_THAT(story.str(), !Catch::Contains("rule:"));
  CHECK_THAT(story.str(), Catch::Contains("waiting for documents"));  // its hold, a later row
  std::ostringstream b_csv;
  CHECK(audit::export_case(*store, b_, csv, b_csv).unread == named);
  const std::string b_text = b_csv.str();
  // The header, 4 of its 5 rows, and a warning row naming the one left out.
  CHECK(std::count(b_text.begin(), b_text.end(), '\n') == 6);
  const std::string note =
      message.find_first_of(",\"") == std::string::npos ? message : "\"" + message + "\"";
  CHECK_THAT(b_text, Catch::EndsWith("\n" + std::to_string(seq) + "," + b_ +
                                     ",,,,warning,record-damaged,,,,,,,,,,," + note + ",,,,,\r\n"));
  std::ostringstream a_story;
  CHECK(audit::export_case(*store, a_, audit::ExportOptions{}, a_story).unread.empty());
  CHECK_THAT(a_story.str(), Catch::Contains("rule:") && !Catch::Contains("WARNING"));
  audit::ExportOptions linked;
  linked.with_linked = true;
  std::ostringstream family;
  CHECK(audit::export_case(*store, b_, linked, family).unread == named);
  CHECK_THAT(family.str(), Catch::Contains("WARNING:  " + message));

  // The report: the figures without it, a WARNING line first.
  audit::ReportOptions report;
  report.now = *parse_datetime("2026-03-10T08:00:00Z");
  std::ostringstream figures;
  CHECK(audit::report_text(*store, report, figures) == named);
  CHECK_THAT(figures.str(),
             Catch::StartsWith("WARNING: " + message +
                               "; the figures below leave it out; `sopir audit verify` names the "
                               "damage\n\n"));
  std::ostringstream page;
  CHECK(audit::report_html(*store, report, page) == named);
  CHECK_THAT(page.str(), Catch::Contains("<p class=\"warning\"><strong>WARNING: log row " +
                                         std::to_string(seq)));
}

TEST_CASE_METHOD(AuditFixture, "a case is told, not checked, when a staff row cannot be read",
                 "[audit]") {
  build();
  int64_t seq = 0;
  {
    SQLite::Database db(db_.path(), SQLite::OPEN_READONLY);
    seq = db.execAndGet("SELECT seq FROM transitions WHERE json_extract(record, '$.kind') = 'staff' "
                        "AND json_extract(record, '$.inputs[0][1]') = 'dewi'")
              .getInt64();
  }
  sql(std::string(kDropTriggers) +
      "UPDATE transitions SET record = json_remove(record, '$.actor') WHERE seq = " +
      std::to_string(seq));
  auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
  std::ostringstream story;
  const audit::UnreadRows unread =
      audit::export_case(*store, a_, audit::ExportOptions{}, story).unread;
  REQUIRE(unread.size() == 1);
  CHECK(unread.begin()->first == seq);
  CHECK_THAT(unread.begin()->second, Catch::Contains("(it has no 'actor')"));
  // Who held which role is not known: no rule and no warning about who
  // acted, each step told all the same.
  CHECK_THAT(story.str(), Catch::Contains("WARNING:  log row " + std::to_string(seq)) &&
                              !Catch::Contains("rule:") && Catch::Contains("approve_plan"));
}

TEST_CASE_METHOD(AuditFixture, "the log table fits the width asked for, its columns in line",
                 "[audit]") {
  build();
  auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
  const int width = GENERATE(100, 120);
  audit::ExportOptions options;
  options.width = width;
  std::ostringstream out;
  CHECK(audit::export_log(*store, LogFilter{}, options, out).rows == 14);
  std::istringstream in(out.str());
  std::string line, header;
  std::getline(in, header);
  INFO(out.str());
  CHECK(header.rfind("seq ", 0) == 0);
  const size_t case_at = header.find("case");
  const size_t event_at = header.find("event");
  REQUIRE(case_at != std::string::npos);
  int rows = 0;
  const std::set<std::string> cases = {a_, b_, c_};
  CHECK(header.size() <= static_cast<size_t>(width));
  while (std::getline(in, line)) {
    CHECK(line.size() <= static_cast<size_t>(width));
    if (line.empty() || !std::isdigit(static_cast<unsigned char>(line[0]))) continue;
    ++rows;
    // Each row's case and event start under their headings.
    CHECK(cases.count(line.substr(case_at, 7)) == 1);
    CHECK(line[event_at - 1] == ' ');
    CHECK(line[event_at] != ' ');
  }
  CHECK(rows == 14);
  // The kind where it says more than the event; the changes under the row.
  CHECK_THAT(out.str(), Catch::Contains("assess (override)") &&
                            Catch::Contains("hold (lifecycle)") &&
                            Catch::Contains("\n     age: (none) -> 31"));
}

TEST_CASE_METHOD(AuditFixture, "verify replays every case when the cases take several pages to read", "[audit]") {
  build();
  // More cases than verify reads at once (500 a page), in one transaction
  // to keep the test quick.
  engine_->store().transaction([&] {
    for (int i = 0; i < 1100; ++i) open({});
  });
  const auto clean = verify();
  INFO(describe(clean));
  CHECK(clean.clean());
  CHECK(clean.cases == 1103);
  // Edited behind the engine's back: the last case by id, on the last page,
  // and one on the first.
  std::vector<std::string> ids;
  {
    SQLite::Database db(db_.path(), SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT id FROM cases ORDER BY id");
    while (q.executeStep()) ids.push_back(q.getColumn(0).getString());
  }
  REQUIRE(ids.size() == 1103);
  sql("UPDATE cases SET state = 'done' WHERE id IN ('" + ids.front() + "', '" + ids.back() + "')");
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 2);
  std::set<std::string> found;
  for (const auto& f : r.findings) {
    CHECK(f.kind == FindingKind::kCaseRow);
    found.insert(f.case_id);
  }
  CHECK(found == std::set<std::string>{ids.front(), ids.back()});
  CHECK(r.cases == 1103);
}

TEST_CASE_METHOD(AuditFixture, "changed personal text no longer matches its digest", "[audit]") {
  build();
  sql("UPDATE personal_text SET text = 'Someone Else' WHERE text = 'Ani Contoh'");
  const auto r = verify();
  INFO(describe(r));
  CHECK(has_finding(r, FindingKind::kPiiDigest, seq_of(b_, 1), b_));
}

TEST_CASE_METHOD(AuditFixture, "personal text removed without an erasure row is a finding",
                 "[audit]") {
  build();
  // Cleared as an erasure clears it, and a row deleted outright; neither
  // case has an `erased` row (an erasure through the engine, with its rows,
  // verifies clean: at_rest_test).
  sql("UPDATE personal_text SET text = NULL WHERE text = 'Siti Contoh'");
  sql("DELETE FROM personal_text WHERE text = 'Ani Contoh'");
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 2);
  CHECK(has_finding(r, FindingKind::kPiiGone, seq_of(a_, 1), a_));
  CHECK(has_finding(r, FindingKind::kPiiGone, seq_of(b_, 1), b_));
  CHECK(r.findings[0].message.find("field full_name") != std::string::npos);
  CHECK(r.findings[0].message.find("no 'erased' row of the case follows it") != std::string::npos);
  // The steps that read the gone values are still not re-decided, not refused.
  CHECK(r.unverifiable_steps > 0);
}

TEST_CASE_METHOD(AuditFixture,
                 "text erased by hand as before schema 7 (its row naming no case) is no finding",
                 "[audit]") {
  build();
  // Before case keys, docs said erased text is NULL: a row kept, no case.
  sql("UPDATE personal_text SET text = NULL, case_id = NULL");
  const auto r = verify();
  INFO(describe(r));
  CHECK(r.clean());
  CHECK(r.unverifiable_steps > 0);
}

TEST_CASE_METHOD(AuditFixture, "a step not decided again still shows the rule of its recorded move",
                 "[audit]") {
  build();
  sql("UPDATE personal_text SET text = NULL, case_id = NULL");
  auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
  std::ostringstream story;
  CHECK(audit::export_case(*store, b_, audit::ExportOptions{}, story).unread.empty());
  INFO(story.str());
  // screen gave the erased name: found by its move, and said to be so.
  CHECK_THAT(story.str(),
             Catch::Contains("rule:     transition 1 'screen'") &&
                 Catch::Contains("[the transition of the recorded move; not decided again here]"));
  CHECK_THAT(story.str(), !Catch::Contains("rule:\n") && !Catch::Contains("rule:     \n"));
}

TEST_CASE_METHOD(AuditFixture, "replay with the same procedure finds nothing; a stricter one lists refusals",
                 "[audit]") {
  build();
  auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
  const auto same = audit::replay_proposed(*store, *testing::load_or_fail(testing::kCareYaml));
  CHECK(same.cases == 3);
  CHECK(same.differences.empty());
  // Proposed: stabilise needs a supervisor now (dewi, a worker, did it on case A).
  std::string stricter = testing::kCareYaml;
  const std::string from = "{event: stabilise, from: emergency, to: care, roles: [worker]}";
  stricter.replace(stricter.find(from), from.size(), "{event: stabilise, from: emergency, to: care, roles: [supervisor]}");
  const auto r = audit::replay_proposed(*store, *testing::load_or_fail(stricter.c_str()));
  REQUIRE(r.differences.size() == 1);
  CHECK(r.differences[0].case_id == a_);
  CHECK(r.differences[0].refused);
  CHECK(r.differences[0].event == "stabilise");
}

TEST_CASE_METHOD(AuditFixture, "CSV export: BOM, header, quoting, masked personal data", "[audit]") {
  build();
  auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
  std::ostringstream out;
  audit::ExportOptions options;
  options.format = audit::Format::kCsv;
  LogFilter filter;
  filter.case_id = b_;
  CHECK(audit::export_log(*store, filter, options, out).rows == 5);
  const std::string csv = out.str();
  CHECK(csv.rfind("\xEF\xBB\xBFseq,case_id,", 0) == 0);
  CHECK(csv.find("Ani Contoh") == std::string::npos);
  CHECK(csv.find("full_name: (none) -> ***") != std::string::npos);
  CHECK(csv.find("\r\n") != std::string::npos);
  // The override's reason holds no comma; the note of the open does not either:
  // the changes cell of the screen step holds "; " and is not quoted, the
  // table format names every step.
  std::ostringstream story;
  audit::export_case(*store, b_, audit::ExportOptions{}, story);
  CHECK(story.str().find("OVERRIDE") != std::string::npos);
  CHECK(story.str().find("when risk == low and consent == true") != std::string::npos);
  CHECK(story.str().find("consent given on paper") != std::string::npos);
}

TEST_CASE_METHOD(AuditFixture, "reveal needs a pii_visible_to role and records the access first", "[audit]") {
  build();
  auto reader = open_sqlite_store(db_.path(), StoreOptions{false, true});
  auto writer = open_sqlite_store(db_.path(), StoreOptions{});
  audit::RevealAccess access{Actor{"rina", {"worker"}, {"main"}}, writer.get(),
                             *parse_datetime("2026-04-01T10:00:00Z"), "audit case --reveal", ""};
  audit::ExportOptions options;
  options.reveal = &access;
  std::ostringstream out;
  // No reason: refused, nothing shown or recorded, whoever asks.
  access.actor = Actor{"budi", {"supervisor"}, {"main"}};
  try {
    audit::export_case(*reader, b_, options, out);
    FAIL("a reveal without a reason was not refused");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kRefused);
    CHECK(e.message() == "revealing personal data needs a reason: say why you need to see it");
  }
  CHECK(out.str().empty());
  access.reason = "complaint review";
  access.actor = Actor{"rina", {"worker"}, {"main"}};
  CHECK_THROWS_WITH(audit::export_case(*reader, b_, options, out),
                    Catch::Contains("pii_visible_to"));
  CHECK(out.str().empty());
  access.actor = Actor{"budi", {"supervisor"}, {"main"}};
  audit::export_case(*reader, b_, options, out);
  CHECK(out.str().find("Ani Contoh") != std::string::npos);
  SQLite::Database db(db_.path(), SQLite::OPEN_READONLY);
  CHECK(db.execAndGet("SELECT count(*) FROM access_log WHERE actor = 'budi' AND case_id = '" + b_ + "'")
            .getInt() == 1);
  CHECK(db.execAndGet("SELECT reason FROM access_log").getString() == "complaint review");
}

TEST_CASE_METHOD(AuditFixture, "the report counts states, stays, breaches and closures", "[audit]") {
  build();
  auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
  audit::ReportOptions options;
  options.now = clock_->now();
  std::ostringstream text;
  audit::report_text(*store, options, text);
  INFO(text.str());
  CHECK(text.str().find("Procedure test-care") != std::string::npos);
  CHECK(text.str().find("declined") != std::string::npos);
  CHECK(text.str().find("system") != std::string::npos);  // the timer's step
  // Stays in hours and days ("intake": a median of 1h, a 90th percentile of
  // 2d); in Indonesian "h" would read as hari (days): jam and hari.
  CHECK_THAT(text.str(), Catch::Matches("[\\s\\S]*intake +0 +0 +0 +3 +1h +2d [\\s\\S]*"));
  {
    ProcessLanguage indonesian("id");
    std::ostringstream id_text;
    audit::report_text(*store, options, id_text);
    INFO(id_text.str());
    CHECK_THAT(id_text.str(), Catch::Matches("[\\s\\S]*intake +0 +0 +0 +3 +1j +2hr [\\s\\S]*"));
  }
  // The diagram is drawn from dot text: every edge labelled, every state
  // with its cases waiting; the drawer's SVG is made to stand in the page.
  std::vector<std::string> drawn;
  options.draw_svg = [&](const std::string& dot) {
    drawn.push_back(dot);
    return std::string(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" "
        "\"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<!-- Generated by graphviz -->\n"
        "<svg width=\"80pt\" xmlns=\"http://www.w3.org/2000/svg\" "
        "xmlns:xlink=\"http://www.w3.org/1999/xlink\"><g class=\"graph\"/></svg>\n");
  };
  std::ostringstream html;
  audit::report_html(*store, options, html);
  REQUIRE(drawn.size() == 1);
  CHECK_THAT(drawn[0], Catch::Contains("[label=\"screen\\n(worker)\"]"));
  CHECK_THAT(drawn[0], Catch::Contains("waiting\", style=\"rounded,filled\", fillcolor=\"#"));
  CHECK(html.str().find(
            "<svg class=\"diagram\" role=\"img\" width=\"80pt\"><g class=\"graph\"/></svg>") !=
        std::string::npos);
  CHECK(html.str().find("http") == std::string::npos);  // self-contained
  // Without a drawer the page shows the dot text.
  options.draw_svg = nullptr;
  std::ostringstream source;
  audit::report_html(*store, options, source);
  CHECK(source.str().find("<pre class=\"diagram-source\">digraph") != std::string::npos);
}

TEST_CASE("anchors parse and refuse bad text", "[audit]") {
  const std::string hash(64, 'b');
  auto a = audit::parse_anchor("12:" + hash);
  CHECK(a.seq == 12);
  CHECK(audit::format_anchor(a) == "12:" + hash);
  CHECK_THROWS_AS(audit::parse_anchor("12"), Error);
  CHECK_THROWS_AS(audit::parse_anchor("x:" + hash), Error);
  CHECK_THROWS_AS(audit::parse_anchor("12:abc"), Error);
}

TEST_CASE_METHOD(AuditFixture, "a redefined log column or an added trigger is a schema finding", "[audit]") {
  build();
  SECTION("a generated column made to say something else") {
    // Rewriting the schema text directly: readers would see every row as
    // the first of its chain while every record, and so the chain, stays
    // intact.
    sql("PRAGMA writable_schema = ON; "
        "UPDATE sqlite_master SET sql = replace(sql, 'json_extract(record, ''$.case_seq'')', '1') "
        "WHERE name = 'transitions'; PRAGMA writable_schema = OFF;");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE_FALSE(r.findings.empty());
    CHECK(r.findings[0].kind == FindingKind::kSchemaChanged);
    CHECK(r.findings[0].seq == 0);
    CHECK(r.findings[0].message.find("the table transitions was redefined") == 0);
  }
  SECTION("the log's view made to say something else") {
    // Readers of log_view would see 'nothing' as every note.
    sql("PRAGMA writable_schema = ON; "
        "UPDATE sqlite_master SET sql = replace(sql, 'json_extract(t.record, ''$.note'')', '''nothing''') "
        "WHERE name = 'log_view'; PRAGMA writable_schema = OFF;");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].kind == FindingKind::kSchemaChanged);
    CHECK(r.findings[0].message.find("the view log_view was redefined") == 0);
  }
  SECTION("an added trigger") {
    sql("CREATE TRIGGER quiet AFTER INSERT ON transitions BEGIN SELECT 1; END;");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].message ==
          "the trigger quiet was added: sopir does not create it and it can change what is written");
  }
  SECTION("an auditor's own view, named audit_..., is no finding") {
    sql("CREATE VIEW audit_my_notes AS SELECT seq, note FROM log_view;");
    CHECK(verify().clean());
  }
  SECTION("an added view under another name") {
    sql("CREATE VIEW shadow_log AS SELECT seq, 'nothing happened' AS note FROM log_view;");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 1);
    CHECK(r.findings[0].kind == FindingKind::kSchemaChanged);
    CHECK(r.findings[0].message ==
          "the view shadow_log was added: sopir does not create it (an auditor's own views must be named "
          "audit_...)");
  }
  SECTION("an added table and index, even under the auditors' prefix") {
    sql("CREATE TABLE audit_copy (seq INTEGER, note TEXT); CREATE INDEX copy_by_note ON audit_copy (note);");
    const auto r = verify();
    INFO(describe(r));
    REQUIRE(r.findings.size() == 2);
    CHECK(r.findings[0].message == "the index copy_by_note was added: sopir does not create it");
    CHECK(r.findings[1].message == "the table audit_copy was added: sopir does not create it");
  }
}

// ---------------------------------------------------------------------------
// Registry rows: publishing and staff administration in the chain.

class RegistryFixture : public AuditFixture {
 protected:
  std::string audit_case_text(const std::string& id) {
    auto store = open_sqlite_store(db_.path(), StoreOptions{false, true});
    std::ostringstream out;
    audit::export_case(*store, id, audit::ExportOptions{}, out);
    return out.str();
  }
};

TEST_CASE_METHOD(RegistryFixture, "publishing and staff changes are registry rows in the chain", "[registry]") {
  Store& s = engine_->store();
  engine_->set_staff_role("admin", "rina", "supervisor", true);
  engine_->set_staff_role("admin", "rina", "supervisor", false);
  engine_->deactivate_staff("admin", "dewi");
  std::vector<LogEntry> rows;
  LogFilter all;
  all.registry = true;
  s.scan_log(all, [&](const LogEntry& e) {
    rows.push_back(e);
    return true;
  });
  REQUIRE(rows.size() == 9);
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].case_id.empty());
    CHECK(rows[i].case_seq == static_cast<int64_t>(i + 1));
  }
  CHECK(rows[0].kind == LogKind::kStaff);
  CHECK(rows[0].event == "added");
  CHECK(rows[0].inputs == std::vector<std::pair<std::string, std::string>>{
                              {"staff", "admin"}, {"name", "Admin Contoh"}, {"role", "admin"}, {"site", "main"}});
  CHECK(rows[5].kind == LogKind::kPublish);
  CHECK(rows[5].event == "published");
  CHECK(rows[5].actor == "admin");
  CHECK(rows[5].sha256 == s.current_procedure("test-care")->sha256);
  CHECK(rows[6].event == "role-granted");
  CHECK(rows[6].actor == "admin");
  CHECK(rows[6].occurred_at == clock_->now());
  CHECK(rows[7].event == "role-removed");
  CHECK(rows[8].event == "deactivated");
  CHECK(rows[8].inputs == std::vector<std::pair<std::string, std::string>>{{"staff", "dewi"}});
  CHECK(verify().clean());
}

TEST_CASE_METHOD(RegistryFixture, "a staff change and its registry row commit together or not at all",
                 "[registry]") {
  Store& s = engine_->store();
  const auto head = s.chain_head();
  CHECK_THROWS_AS(s.add_staff({"rina", "Rina Lain", {"worker"}, true}, RegistryStamp{"admin", clock_->now()}),
                  Error);
  CHECK_THROWS_AS(s.set_staff_role("nobody", "worker", true, RegistryStamp{"admin", clock_->now()}), Error);
  CHECK(s.chain_head() == head);
  // A change to what is already so writes nothing.
  s.set_staff_active("rina", true, RegistryStamp{"admin", clock_->now()});
  CHECK(s.chain_head() == head);
  LogEntry wrong;
  wrong.kind = LogKind::kProcedure;
  CHECK_THROWS_WITH(s.append_registry(wrong),
                    Catch::Contains("a registry row must be of a registry kind (publish, staff, checkpoint, migration-plan), not procedure"));
  CHECK(s.chain_head() == head);
}

TEST_CASE_METHOD(RegistryFixture, "an edited procedure source is procedure-changed and is not replayed",
                 "[registry]") {
  to_plan_review();
  const auto anchor = audit::anchor(*open_sqlite_store(db_.path(), StoreOptions{false, true}));
  SECTION("the four-eyes rule removed and a forged step under it, chain recomputed") {
    sql("UPDATE procedures SET source = replace(source, ', distinct_from: [write_plan]', '')");
    const auto [forged, seq] = forge_approval("budi", "supervisor");
    move_case_row(forged);
    for (const auto& r : {verify(), verify(anchor)}) {
      INFO(describe(r));
      CHECK_FALSE(has_finding(r, FindingKind::kChainHash, seq));
      CHECK_FALSE(has_finding(r, FindingKind::kAnchorMismatch, anchor.seq));
      REQUIRE(has_finding(r, FindingKind::kProcedureChanged, 0));
      CHECK(r.findings.back().message.find("the stored source of procedure test-care version 1 does not match "
                                           "its SHA-256") == 0);
      // The case is not replayed under the edited text.
      CHECK(has_finding(r, FindingKind::kProcedureMissing, seq_of(a_, 1), a_));
    }
  }
  SECTION("a comment appended") {
    sql("UPDATE procedures SET source = source || '# harmless?' || char(10)");
    for (const auto& r : {verify(), verify(anchor)}) {
      INFO(describe(r));
      CHECK(has_finding(r, FindingKind::kProcedureChanged, 0));
    }
  }
}

TEST_CASE_METHOD(RegistryFixture, "the engine refuses to run a case under an edited source", "[registry]") {
  to_plan_review();
  // With the compiled form gone (the source is loaded) or rewritten to name
  // the edited source's hash: refused each way, since the case is pinned to
  // the hash published.
  std::string source, sha;
  {
    SQLite::Database raw(db_.path(), SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT source, sha256 FROM procedures");
    REQUIRE(q.executeStep());
    source = q.getColumn(0).getString();
    sha = q.getColumn(1).getString();
  }
  const std::string edited_sha = sha256_hex(source + "# edited\n");
  const std::string compiled =
      GENERATE_COPY(std::string("''"),
                    "replace(compiled, '64:" + sha + "', '64:" + edited_sha + "')");
  sql("UPDATE procedures SET source = source || '# edited' || char(10), compiled = " + compiled);
  Engine fresh(open_sqlite_store(db_.path(), StoreOptions{}), clock_);
  StepRequest r;
  r.case_id = a_;
  r.event = "approve_plan";
  r.actor = "sari";
  CHECK_THROWS_WITH(fresh.advance(r), Catch::Contains("no longer matches its SHA-256"));
}

TEST_CASE_METHOD(RegistryFixture, "a case runs by the published form under an edited source, and verify reports the edit",
                 "[registry]") {
  to_plan_review();
  // The form naming the pinned hash is what decides a step; the source is
  // not hashed for it. The edit does not change the rules the case runs by
  // (the four-eyes rule removed from the text still holds), and verify
  // reports the source as changed.
  sql("UPDATE procedures SET source = replace(source, ', distinct_from: [write_plan]', '')");
  Engine fresh(open_sqlite_store(db_.path(), StoreOptions{}), clock_);
  StepRequest r;
  r.case_id = a_;
  r.event = "approve_plan";
  r.actor = "budi";  // who wrote the plan
  CHECK_THROWS_AS(fresh.advance(r), RefusedError);
  r.actor = "sari";
  CHECK(fresh.advance(r).entry.event == "approve_plan");
  const std::string pinned = fresh.store().find_case(a_)->sha256;
  CHECK(fresh.procedure(pinned)->source.empty());  // not the edited text
  const auto report = verify();
  INFO(describe(report));
  CHECK(has_finding(report, FindingKind::kProcedureChanged, 0));
}

TEST_CASE_METHOD(RegistryFixture, "a procedure put in the table without publishing is procedure-unlogged",
                 "[registry]") {
  const std::string source = std::string(testing::kCareYaml) + "# another version\n";
  SQLite::Database db(db_.path(), SQLite::OPEN_READWRITE);
  SQLite::Statement insert(db,
                           "INSERT INTO procedures (sop_id, version, sha256, source, file, published_at, "
                           "published_by, current) VALUES ('test-care', 2, ?, ?, 'care.yaml', 1, 'admin', 0)");
  insert.bind(1, sha256_hex(source));
  insert.bind(2, source);
  insert.exec();
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == FindingKind::kProcedureUnlogged);
  CHECK(r.findings[0].message.find("procedure test-care version 2 (SHA-256 ") == 0);
  CHECK(r.findings[0].message.find("has no publish row in the log") != std::string::npos);
}

TEST_CASE_METHOD(RegistryFixture, "a forged step by someone who is not staff is refused", "[registry]") {
  to_plan_review();
  const auto [forged, seq] = forge_approval("ghost", "supervisor");
  move_case_row(forged);
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(has_finding(r, FindingKind::kStepRefused, seq, a_));
  CHECK(r.findings[0].message.find("ghost was never a staff member: no staff row of the log adds them") !=
        std::string::npos);
  const std::string text = audit_case_text(a_);
  CHECK(text.find("WARNING:  the procedure would not have allowed this step: ghost was never a staff member") !=
        std::string::npos);
}

TEST_CASE_METHOD(RegistryFixture, "a forged step in a role the actor does not hold is refused", "[registry]") {
  to_plan_review();
  // rina is a worker; the approval needs a supervisor (and not budi).
  const auto [forged, seq] = forge_approval("rina", "supervisor");
  move_case_row(forged);
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(has_finding(r, FindingKind::kStepRefused, seq, a_));
  CHECK(r.findings[0].message.find("rina did not hold the role supervisor at that point (roles worker)") !=
        std::string::npos);
}

TEST_CASE_METHOD(RegistryFixture, "a role granted only after the step does not make it allowed", "[registry]") {
  to_plan_review();
  const auto [forged, seq] = forge_approval("rina", "supervisor");
  move_case_row(forged);
  clock_->advance(60);
  engine_->set_staff_role("admin", "rina", "supervisor", true);
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(has_finding(r, FindingKind::kStepRefused, seq, a_));
  CHECK(r.findings[0].message.find("rina did not hold the role supervisor at that point (roles worker); it "
                                   "was granted only later, at log row " +
                                   std::to_string(seq + 1)) != std::string::npos);
}

TEST_CASE_METHOD(RegistryFixture, "a step by a deactivated staff member is refused", "[registry]") {
  to_plan_review();
  clock_->advance(60);
  engine_->deactivate_staff("admin", "sari");
  const auto [forged, seq] = forge_approval("sari", "supervisor");
  move_case_row(forged);
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(has_finding(r, FindingKind::kStepRefused, seq, a_));
  CHECK(r.findings[0].message.find("sari was deactivated (log row " + std::to_string(seq - 1) +
                                   ") before this step") != std::string::npos);
}

TEST_CASE_METHOD(RegistryFixture, "a staff change forged by someone who is not an administrator is refused",
                 "[registry]") {
  // rina (a worker) grants herself supervisor behind the engine's back: a
  // registry row chained onto the registry chain, and the staff table to
  // match, so only who wrote the row can give it away.
  LogEntry last;
  LogFilter registry;
  registry.registry = true;
  engine_->store().scan_log(registry, [&](const LogEntry& e) {
    if (e.case_id.empty()) last = e;
    return true;
  });
  LogEntry row = last;
  row.case_seq += 1;
  row.kind = LogKind::kStaff;
  row.event = "role-granted";
  row.actor = "rina";
  row.role = "";
  row.sha256 = "";
  row.note = "";
  row.inputs = {{"staff", "rina"}, {"role", "supervisor"}};
  row.changes.clear();
  const int64_t seq = append_forged(row, last.hash);
  sql(R"(UPDATE staff SET roles = '["worker","supervisor"]' WHERE id = 'rina')");
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == FindingKind::kStepRefused);
  CHECK(r.findings[0].seq == seq);
  CHECK(r.findings[0].message ==
        "the staff change at log row " + std::to_string(seq) +
            " (role-granted) was made by rina, but only an administrator may change staff: rina did not hold "
            "the role admin at that point (roles worker)");
}

TEST_CASE_METHOD(RegistryFixture, "a staff table edited behind the log is a staff-row finding", "[registry]") {
  sql(R"(UPDATE staff SET roles = '["worker","supervisor"]' WHERE id = 'rina')");
  const auto r = verify();
  INFO(describe(r));
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].kind == FindingKind::kStaffRow);
  CHECK(r.findings[0].message.find("the staff table's row for rina disagrees with the staff rows of the log: "
                                   "the table gives roles supervisor, worker, the log roles worker") == 0);
}

TEST_CASE("a schema 2 database is upgraded: its rows still verify and its staff get registry rows",
          "[registry]") {
  // A live database, then the same history as schema 2 held it: the
  // procedure, staff, cases and their rows chained without registry rows.
  testing::TempDb live("registry-live"), old("registry-old");
  auto clock = std::make_shared<testing::TestClock>(*parse_datetime("2026-03-02T08:00:00Z"));
  {
    Engine engine(open_sqlite_store(live.path(), StoreOptions{true}), clock);
    engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
    engine.open_case({"test-care", "rina", {{"age", "30"}}, "", std::nullopt});
  }
  std::string case_id, old_head;
  {
    SQLite::Database raw(old.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA journal_mode = WAL");
    schema::migrate(raw, 2);
    raw.exec("ATTACH DATABASE '" + live.path() + "' AS live");
    raw.exec("INSERT INTO staff SELECT id, name, roles, active FROM live.staff");
    raw.exec("INSERT INTO procedures SELECT * FROM live.procedures");
    raw.exec("INSERT INTO cases SELECT id, sop_id, sha256, state, status, data, version, last_seq, opened_at, "
             "due_at, hold_started, closure_reason, parent_case FROM live.cases");
    SQLite::Statement rows(raw, "SELECT record FROM live.transitions WHERE case_id <> '' ORDER BY seq");
    std::vector<std::string> records;
    while (rows.executeStep()) records.push_back(rows.getColumn(0).getString());
    rows.reset();
    for (const std::string& record : records) {
      const std::string hash = sha256_hex(old_head + record);
      SQLite::Statement insert(raw, "INSERT INTO transitions (record, prev_hash, hash) VALUES (?, ?, ?)");
      insert.bind(1, record);
      insert.bind(2, old_head);
      insert.bind(3, hash);
      insert.exec();
      old_head = hash;
    }
    case_id = raw.execAndGet("SELECT id FROM cases").getString();
    raw.exec("UPDATE cases SET last_seq = 1");
    raw.exec("DETACH DATABASE live");
  }
  auto store = open_sqlite_store(old.path(), StoreOptions{});  // upgrades
  CHECK(store->schema_changes().empty());
  std::vector<LogEntry> rows;
  LogFilter all;
  all.registry = true;
  store->scan_log(all, [&](const LogEntry& e) {
    rows.push_back(e);
    return true;
  });
  REQUIRE(rows.size() == 7);  // and the sites upgrade's: the default site, each member joining it
  CHECK(rows[4].kind == LogKind::kSite);
  CHECK(rows[5].event == registry_event::kSiteJoined);
  CHECK(rows[6].inputs == std::vector<std::pair<std::string, std::string>>{{"staff", "rina"}, {"site", "main"}});
  CHECK(rows[0].hash == old_head);  // the old row, unchanged
  CHECK(rows[1].kind == LogKind::kPublish);
  CHECK(rows[1].event == "existing");
  CHECK(rows[1].prev_hash == "");  // the registry chain's first row
  CHECK(rows[1].note.find("dated at the upgrade, not when it happened") != std::string::npos);
  CHECK(rows[2].kind == LogKind::kStaff);
  CHECK(rows[2].event == "existing");
  CHECK(rows[2].inputs == std::vector<std::pair<std::string, std::string>>{
                              {"staff", "admin"}, {"name", "Admin Contoh"}, {"role", "admin"}});
  CHECK(rows[3].inputs[0] == std::make_pair(std::string("staff"), std::string("rina")));
  store.reset();
  auto reader = open_sqlite_store(old.path(), StoreOptions{false, true});
  const auto r = audit::verify(*reader, audit::VerifyOptions{});
  INFO(describe(r));
  CHECK(r.clean());
  // The step before the upgrade was checked against the upgrade's list: said.
  std::ostringstream out;
  audit::export_case(*reader, case_id, audit::ExportOptions{}, out);
  CHECK(out.str().find("WARNING:  who may act: checked against the staff list the schema upgrade recorded at "
                       "log row 4; who held which role before then was not logged") != std::string::npos);
}

}  // namespace
}  // namespace sopir
