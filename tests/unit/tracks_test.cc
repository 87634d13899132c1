// Tracks through the Engine on both store backends: one step opens four
// linked cases in one transaction (all or nothing), the parent's joins read
// them, and verify replays the joins as they were at each point of the log.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "sopir/audit.h"
#include "sopir/engine.h"
#include "test_backends.h"

namespace sopir {
namespace {

const std::vector<std::string> kTracks = {"medical-track", "psychosocial-track", "legal-track",
                                          "tracing-track"};

std::string tracks_file(const std::string& name) {
  return std::string(SOPIR_SOURCE_DIR) + "/tests/data/tracks/" + name + ".yaml";
}

struct TracksFixture {
  testing::TestDatabase db{GENERATE(from_range(testing::store_backends()))};
  Engine engine{open_store(db.location(), StoreOptions{true})};

  TracksFixture() {
    engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"rina", "Rina", {"case_manager"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"nia", "Nia", {"nurse"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"kiki", "Kiki", {"counsellor"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"lala", "Lala", {"lawyer"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"tari", "Tari", {"tracer"}, true}, ::sopir::testing::kByAdmin);
    for (const auto& sop : kTracks) engine.publish(tracks_file(sop), "admin");
    engine.publish(tracks_file("victim-care"), "admin");
  }

  StepResult step(const std::string& id, const std::string& event, const std::string& actor) {
    StepRequest r;
    r.case_id = id;
    r.event = event;
    r.actor = actor;
    return engine.advance(r);
  }

  std::string open_parent() {
    return engine.open_case({"victim-care", "rina", {{"full_name", "Wati Contoh"}, {"age", "24"}}, "", {}})
        .after.id;
  }

  size_t linked_to(const std::string& parent) {
    CaseFilter filter;
    filter.linked_to = parent;
    return engine.store().cases(filter).size();
  }
};

}  // namespace

TEST_CASE_METHOD(TracksFixture, "one step opens four tracks, in order, in one transaction", "[tracks]") {
  const std::string parent = open_parent();
  const StepResult r = step(parent, "start_services", "rina");
  REQUIRE(r.opened.size() == 4);
  std::vector<std::string> ids;
  for (size_t k = 0; k < 4; ++k) {
    CHECK(r.opened[k].record.sop_id == kTracks[k]);
    CHECK(r.opened[k].record.parent_case == parent);
    CHECK(r.opened[k].entry.linked_case == parent);
    CHECK(r.opened[k].entry.seq == r.entry.seq + 1 + static_cast<int64_t>(k));
    ids.push_back(r.opened[k].record.id);
  }
  CHECK(r.entry.linked_case == join_case_ids(ids));
  CHECK(split_case_ids(r.entry.linked_case) == ids);
  CHECK(linked_to(parent) == 4);

  // The join holds only when every track is closed and the medical one ended fit.
  step(ids[0], "declare_fit", "nia");
  step(ids[1], "finish", "kiki");
  step(ids[2], "finish", "lala");
  CHECK_THROWS_WITH(step(parent, "plan_return", "rina"),
                    Catch::Contains("all_tracks_closed() is false (open: tracing-track " + ids[3] + " (working))"));
  step(ids[3], "finish", "tari");
  step(parent, "plan_return", "rina");
  step(parent, "return_home", "rina");
  const auto report = audit::verify(engine.store(), {});
  CHECK(report.clean());
  CHECK(report.cases == 5);
}

TEST_CASE_METHOD(TracksFixture, "a track that cannot be written leaves nothing written", "[tracks]") {
  const std::string parent = open_parent();
  const CaseRecord before = *engine.store().find_case(parent);
  const size_t rows = engine.store().history(parent).size();
  // The fourth track's case row fails inside the transaction, after the
  // parent's step and three tracks were written: all of it must roll back.
  if (db.backend() == testing::Backend::kSqlite) {
    db.exec("CREATE TRIGGER no_tracing BEFORE INSERT ON cases WHEN NEW.sop_id = 'tracing-track' "
            "BEGIN SELECT RAISE(ABORT, 'tracing is closed today'); END;");
  } else {
    db.exec("CREATE FUNCTION no_tracing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'tracing is closed today'; END $$;"
            "CREATE TRIGGER no_tracing BEFORE INSERT ON cases FOR EACH ROW "
            "WHEN (NEW.sop_id = 'tracing-track') EXECUTE FUNCTION no_tracing();");
  }
  CHECK_THROWS(step(parent, "start_services", "rina"));
  const CaseRecord after = *engine.store().find_case(parent);
  CHECK(after.state == before.state);
  CHECK(after.version == before.version);
  CHECK(engine.store().history(parent).size() == rows);
  CHECK(linked_to(parent) == 0);
  // With the trigger gone (verify reports foreign triggers) the log is whole.
  db.exec(db.backend() == testing::Backend::kSqlite ? "DROP TRIGGER no_tracing"
                                                     : "DROP TRIGGER no_tracing ON cases");
  const auto report = audit::verify(engine.store(), {});
  std::string found;
  for (const auto& f : report.findings) found += f.message + "\n";
  CHECK(found == "");
}

TEST_CASE_METHOD(TracksFixture, "replay refuses a parent step its tracks did not allow then", "[tracks]") {
  const std::string parent = open_parent();
  const StepResult r = step(parent, "start_services", "rina");
  // `plan_return` forged into the log while every track was still open.
  const CaseRecord record = *engine.store().find_case(parent);
  CaseRecord forged = record;
  forged.version = record.version + 1;
  forged.state = "ready_to_return";
  LogEntry e = engine.store().history(parent).back();
  e.event = "plan_return";
  e.from_state = "in_services";
  e.to_state = "ready_to_return";
  e.inputs.clear();
  e.changes.clear();
  e.linked_case.clear();
  engine.store().append(forged, record.version, e);
  // The tracks close later: at the forged row the join was false.
  step(r.opened[0].record.id, "declare_fit", "nia");
  step(r.opened[1].record.id, "finish", "kiki");
  step(r.opened[2].record.id, "finish", "lala");
  step(r.opened[3].record.id, "finish", "tari");
  const auto report = audit::verify(engine.store(), {});
  REQUIRE(report.findings.size() == 1);
  CHECK(report.findings[0].kind == audit::FindingKind::kStepRefused);
  CHECK(report.findings[0].seq == e.seq);
  CHECK_THAT(report.findings[0].message, Catch::Contains("all_tracks_closed() is false (open: medical-track"));
}

}  // namespace sopir
