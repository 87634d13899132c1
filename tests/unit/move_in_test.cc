// Moving an office's database into one that holds other offices already
// (sopir/copy.h move_in, `sopir db copy FROM SERVER --into-site SITE`): its
// case rows keep their bytes and hashes at the target's next numbers, its
// registry rows are kept as they were and issued again on the target's
// registry chain, its default site becomes the site given; verify is clean
// and finds a kept row changed; every refusal writes nothing. Runs with the
// target on each backend. tests/e2e/test_cli_copy.py moves one through the CLI.
#include <catch2/catch.hpp>
#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "sopir/audit.h"
#include "sopir/copy.h"
#include "sopir/engine.h"
#include "store/registry.h"
#include "test_backends.h"
#include "test_copy.h"
#include "test_errors.h"
#include "test_links.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

using testing::creating;

using testing::care_case;
using testing::require_clean;

std::vector<audit::Finding> findings(Store& store) {
  return audit::verify(store, audit::VerifyOptions{}).findings;
}

void screen(Engine& engine, const std::string& case_id, const std::string& who) {
  StepRequest step;
  step.case_id = case_id;
  step.event = "screen";
  step.actor = who;
  step.inputs = {{"age", "30"}};
  engine.advance(step);
}

// An office's own database: its administrator, two workers at its default
// site, a second site of its own with a worker, a case at each site
// (one screened), an access record and a checkpoint.
std::unique_ptr<Engine> office(const std::string& location) {
  auto store = open_store(location, creating());
  Engine::add_first_administrator(*store, "ana", "Ana Contoh");
  auto engine = std::make_unique<Engine>(std::move(store), std::make_shared<testing::TestClock>());
  engine->add_staff("ana", {"rina", "Rina Contoh", {"worker", "supervisor"}, true});
  engine->add_site("ana", Site{"sebatik", "Pos Sebatik"});
  engine->add_staff("ana", {"budi", "Budi Contoh", {"worker"}, true, "", {"sebatik"}});
  engine->publish_source(testing::kCareYaml, "care.yaml", "ana", false);
  const StepResult kept = engine->open_case(care_case("rina", "Siti Contoh"));
  screen(*engine, kept.entry.case_id, "rina");
  engine->store().record_access("rina", kept.entry.case_id, "case show --reveal", "a call back", DateTime{1780000000});
  engine->checkpoint("ana");
  engine->open_case(care_case("budi", "Wati Contoh"));
  return engine;
}

// The national database: its administrator, an office at tarakan with a
// worker and a case, the same procedure, and the empty site the office
// moves into.
std::unique_ptr<Engine> national(const std::string& location) {
  auto store = open_store(location, creating());
  Engine::add_first_administrator(*store, "nadia", "Nadia Contoh");
  auto engine = std::make_unique<Engine>(std::move(store), std::make_shared<testing::TestClock>());
  engine->add_site("nadia", Site{"tarakan", "Pos Tarakan"});
  engine->add_site("nadia", Site{"nunukan", "Pos Debarkasi Nunukan"});
  engine->add_staff("nadia", {"tika", "Tika Contoh", {"worker"}, true, "", {"tarakan"}});
  engine->publish_source(testing::kCareYaml, "care.yaml", "nadia", false);
  engine->open_case(care_case("tika", "Rini Contoh"));
  engine->checkpoint("nadia");
  return engine;
}

MoveIn into(const std::string& site) { return MoveIn{site, "office.db", "nadia", DateTime{1790000000}}; }

struct Row {
  std::string record, prev_hash, hash;
};

std::map<int64_t, Row> rows_of(Store& store, bool registry) {
  std::map<int64_t, Row> out;
  store.scan_chain([&](const ChainRow& r) {
    if (r.case_id.empty() == registry)
      out[r.seq] = Row{std::string(r.record), std::string(r.prev_hash), std::string(r.hash)};
    return true;
  });
  return out;
}

TEST_CASE("moving an office in: its rows keep their hashes at the target's next numbers, verify clean", "[move]") {
  testing::TestDatabase source(testing::Backend::kSqlite);
  auto from = office(source.location());
  require_clean(from->store());
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = national(target.location());
  const int64_t head_before = to->store().chain_head().first;

  const MoveResult result =
      move_in(from->store(), to->store(), CopySealing{}, [](Store& moved) { require_clean(moved); }, into("nunukan"));
  const MovedIn& m = result.move;
  CHECK(m.offset == head_before);
  CHECK(m.first_seq == head_before + 1);
  CHECK(m.last_seq == head_before + from->store().chain_head().first);
  CHECK(m.cases == 2);
  CHECK(result.procedures_shared == 1);
  CHECK(result.procedures_added == 0);
  CHECK(result.sites == 1);
  CHECK(result.staff == 3);
  CHECK(result.admins_removed == std::vector<std::string>{"ana"});

  // Case rows: the same bytes and hashes, numbered seq + offset.
  const auto case_rows_there = rows_of(from->store(), false);
  const auto case_rows_here = rows_of(to->store(), false);
  for (const auto& [seq, row] : case_rows_there) {
    const auto it = case_rows_here.find(seq + m.offset);
    REQUIRE(it != case_rows_here.end());
    CHECK(it->second.record == row.record);
    CHECK(it->second.prev_hash == row.prev_hash);
    CHECK(it->second.hash == row.hash);
  }
  // Registry rows: kept as they were, each but the checkpoint and the
  // publish of the version the target holds issued again at its number.
  const auto registry_there = rows_of(from->store(), true);
  std::map<int64_t, Row> kept;
  to->store().scan_moved_registry([&](const ChainRow& r) {
    kept[r.seq] = Row{std::string(r.record), std::string(r.prev_hash), std::string(r.hash)};
    return true;
  });
  REQUIRE(kept.size() == registry_there.size());
  CHECK(m.registry_rows == static_cast<int64_t>(registry_there.size()));
  for (const auto& [seq, row] : registry_there) {
    CHECK(kept[seq + m.offset].hash == row.hash);
    CHECK(kept[seq + m.offset].record == row.record);
  }
  CHECK(result.reissued == static_cast<int64_t>(registry_there.size()) - 2);
  // On a file, each moved case row links to the case's previous row.
  if (target.backend() == testing::Backend::kSqlite) CHECK(target.query(testing::kBrokenLinks) == "0");

  // The office's default site is nunukan here; its other site came along.
  for (const CaseRecord& there : from->store().cases(CaseFilter{}))
    CHECK(to->store().find_case(there.id)->site == (there.site == "sebatik" ? "sebatik" : "nunukan"));
  CaseFilter at_nunukan;
  at_nunukan.sites = std::vector<std::string>{"nunukan"};
  CHECK(to->store().count_cases(at_nunukan) == 1);
  CaseFilter at_sebatik;
  at_sebatik.sites = std::vector<std::string>{"sebatik"};
  CHECK(to->store().count_cases(at_sebatik) == 1);
  CHECK(to->store().staff("rina")->sites == std::vector<std::string>{"nunukan"});
  CHECK(to->store().staff("budi")->sites == std::vector<std::string>{"sebatik"});
  const auto ana = to->store().staff("ana");
  CHECK(std::find(ana->roles.begin(), ana->roles.end(), "admin") == ana->roles.end());
  CHECK(to->store().access_records(AccessFilter{}).size() == 1);
  require_clean(to->store());

  // The moved office works on here, and the whole verifies with an anchor.
  const std::string moved_case = from->store().cases(CaseFilter{}).back().id;
  const CaseRecord before = *to->store().find_case(moved_case);
  if (before.state == "intake") screen(*to, moved_case, before.site == "sebatik" ? "budi" : "rina");
  to->checkpoint("nadia");
  audit::VerifyOptions anchored;
  anchored.anchor = audit::anchor(to->store());
  CHECK(audit::verify(to->store(), anchored).clean());
  require_clean(to->store());
}

TEST_CASE("a move refused writes nothing, and says why", "[move]") {
  testing::TestDatabase source(testing::Backend::kSqlite);
  auto from = office(source.location());
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = national(target.location());
  std::string site = "nunukan";
  ErrorKind kind = ErrorKind::kConflict;
  std::string says;
  SECTION("a site the target does not have") {
    site = "nowhere";
    kind = ErrorKind::kNotFound;
    says = "the target has no site nowhere: make it there first";
  }
  SECTION("a site that holds cases already") {
    site = "tarakan";
    says = "the target already holds 1 case at site tarakan";
  }
  SECTION("a site of the office's the target has too") {
    to->add_site("nadia", Site{"sebatik", "Pos Sebatik"});
    says = "the moved database has a site sebatik and so has the target";
  }
  SECTION("a staff id both use") {
    to->add_staff("nadia", {"rina", "Rina Lain", {"worker"}, true, "", {"tarakan"}});
    says = "staff ids used in both databases: rina;";
  }
  SECTION("a version of a procedure the target has otherwise") {
    std::string changed = testing::kCareYaml;
    changed.replace(changed.find("version: 1"), 10, "version: 2");
    from->publish_source(changed, "care.yaml", "ana", false);
    says = "procedure test-care version 2";
  }
  SECTION("a case id both hold") {
    CaseRecord theirs = from->store().cases(CaseFilter{}).front();
    theirs.site = kDefaultSite;  // a site the target has
    Store& store = to->store();
    store.transaction_all_or_nothing([&] {
      store.import_case(theirs);
      store.import_finish(store.per_chain_from(), store.seq_gaps_allowed());  // the server sends its batch
    });
    says = "both databases use 1 case id (" + theirs.id + ")";
  }
  const DatabaseCounts before = count_database(to->store());
  std::string message;
  CHECK(testing::kind_of([&] { move_in(from->store(), to->store(), CopySealing{}, {}, into(site)); }) == kind);
  message = testing::message_of([&] { move_in(from->store(), to->store(), CopySealing{}, {}, into(site)); });
  CHECK(message.find(says) == 0);
  CHECK(count_database(to->store()) == before);
  int64_t kept = 0;
  to->store().scan_moved_registry([&](const ChainRow&) {
    ++kept;
    return true;
  });
  CHECK(kept == 0);
}

TEST_CASE("verify finds a moved office's kept registry changed, or a row issued again that differs", "[move]") {
  testing::TestDatabase source(testing::Backend::kSqlite);
  auto from = office(source.location());
  testing::TestDatabase target(testing::Backend::kSqlite);
  auto to = national(target.location());
  const MoveResult result = move_in(from->store(), to->store(), CopySealing{}, {}, into("nunukan"));
  to.reset();
  SQLite::Database db(target.location(), SQLite::OPEN_READWRITE);
  db.exec("DROP TRIGGER moved_registry_no_update");
  SECTION("a kept row's record") {
    db.exec("UPDATE moved_registry SET record = replace(record, 'Rina Contoh', 'Rina Lain') "
            "WHERE record LIKE '%Rina Contoh%'");
  }
  SECTION("the kept chain cut short") {
    db.exec("DROP TRIGGER moved_registry_no_delete");
    db.exec("DELETE FROM moved_registry WHERE seq = (SELECT max(seq) FROM moved_registry)");
  }
  db.exec("CREATE TRIGGER moved_registry_no_update BEFORE UPDATE ON moved_registry "
          "BEGIN SELECT RAISE(ABORT, 'the moved registry is append-only'); END");
  auto reopened = open_store(target.location(), StoreOptions{});
  const auto found = findings(*reopened);
  const bool moved_registry = std::any_of(found.begin(), found.end(), [](const audit::Finding& f) {
    return f.kind == audit::FindingKind::kMovedRegistry;
  });
  CHECK(moved_registry);
  (void)result;
}

// A national database with one member at main and the empty sites
// tarakan and nunukan, for offices to move into.
std::unique_ptr<Engine> waiting(const std::string& location) {
  auto store = open_store(location, creating());
  Engine::add_first_administrator(*store, "nadia", "Nadia Contoh");
  auto engine = std::make_unique<Engine>(std::move(store), std::make_shared<testing::TestClock>());
  engine->add_site("nadia", Site{"tarakan", "Pos Tarakan"});
  engine->add_site("nadia", Site{"nunukan", "Pos Nunukan"});
  engine->add_staff("nadia", {"umi", "Umi Contoh", {"worker"}, true, "", {"main"}});
  engine->publish_source(testing::kCareYaml, "care.yaml", "nadia", false);
  return engine;
}

// A small office: its administrator `admin`, procedure `source` published,
// and (when `worker` is given) a case opened by that worker.
std::unique_ptr<Engine> small_office(const std::string& location, const std::string& admin,
                                     const std::string& source, const std::string& worker = "") {
  auto store = open_store(location, creating());
  Engine::add_first_administrator(*store, admin, "Admin Contoh");
  auto engine = std::make_unique<Engine>(std::move(store), std::make_shared<testing::TestClock>());
  engine->publish_source(source, "care.yaml", admin, false);
  if (!worker.empty()) {
    engine->add_staff(admin, {worker, "Pekerja Contoh", {"worker"}, true});
    engine->open_case(care_case(worker, "Siti Contoh"));
  }
  return engine;
}

TEST_CASE("an office whose newest row is kept only (its checkpoint) moves in, the moved-in row after it", "[move]") {
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = waiting(target.location());
  testing::TestDatabase one(testing::Backend::kSqlite);
  auto office = small_office(one.location(), "ana", testing::kCareYaml, "rina");
  office->checkpoint("ana");
  const MoveResult r = move_in(office->store(), to->store(), CopySealing{}, {}, into("tarakan"));
  CHECK(r.move.seq == r.move.last_seq + 1);
  require_clean(to->store());
  // And the next row of the server comes after it.
  to->checkpoint("nadia");
  CHECK(to->store().chain_head().first > r.move.seq);
  require_clean(to->store());
}

TEST_CASE("two offices bringing the same new procedure version: the second shares the first's", "[move]") {
  std::string other = testing::kCareYaml;
  other.replace(other.find("sop: test-care"), 14, "sop: test-more");
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = waiting(target.location());
  testing::TestDatabase one(testing::Backend::kSqlite), two(testing::Backend::kSqlite);
  auto first = small_office(one.location(), "ana", other);
  CHECK(move_in(first->store(), to->store(), CopySealing{}, {}, into("tarakan")).procedures_added == 1);
  require_clean(to->store());
  auto second = small_office(two.location(), "oki", other);
  CHECK(move_in(second->store(), to->store(), CopySealing{}, {}, into("nunukan")).procedures_shared == 1);
  require_clean(to->store());
}

TEST_CASE("a database an office moved into copies whole, its kept registry too; and does not move on", "[move]") {
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = waiting(target.location());
  testing::TestDatabase one(testing::Backend::kSqlite);
  auto office = small_office(one.location(), "ana", testing::kCareYaml, "rina");
  move_in(office->store(), to->store(), CopySealing{}, {}, into("tarakan"));
  testing::TestDatabase backup(testing::Backend::kSqlite);
  auto copy = open_store(backup.location(), creating());
  copy_database(to->store(), *copy, CopySealing{}, [](Store& c) { require_clean(c); });
  int64_t kept = 0;
  copy->scan_moved_registry([&](const ChainRow&) {
    ++kept;
    return true;
  });
  CHECK(kept > 0);
  // The copy (holding a move) does not move on into another database.
  testing::TestDatabase elsewhere(testing::Backend::kSqlite);
  auto other = waiting(elsewhere.location());
  std::string message;
  CHECK(testing::kind_of([&] { move_in(*copy, other->store(), CopySealing{}, {}, into("nunukan")); }) ==
        ErrorKind::kUsage);
  message = testing::message_of([&] { move_in(*copy, other->store(), CopySealing{}, {}, into("nunukan")); });
  CHECK(message.find("the moved database has itself taken in another office's database") == 0);
}

TEST_CASE("a moved-in row written over a case of the server's own, to move it unlogged, is found", "[move]") {
  testing::TestDatabase target(testing::Backend::kSqlite);
  std::string case_id;
  int64_t first = 0, last = 0;
  auto to = waiting(target.location());
  to->set_staff_site("nadia", "umi", "nunukan", true);
  OpenRequest open = care_case("umi", "Rini Contoh");
  open.site = "main";
  case_id = to->open_case(open).entry.case_id;
  to->checkpoint("nadia");
  to->store().scan_chain([&](const ChainRow& r) {
    if (r.case_id == case_id) {
      if (!first) first = r.seq;
      last = r.seq;
    }
    return true;
  });
  require_clean(to->store());
  // The forger names the case's rows as a move's, with the head and count
  // they hold, so that verify would read its main as nunukan.
  MovedIn forged;
  forged.site = "nunukan";
  forged.from = "nothing.db";
  forged.first_seq = first;
  forged.last_seq = last;
  forged.offset = first - 1;
  forged.cases = 1;
  to->store().scan_chain([&](const ChainRow& r) {
    if (r.seq == last) forged.head = std::to_string(last - forged.offset) + ":" + std::string(r.hash);
    return true;
  });
  // The case row moved behind the log's back, which alone verify finds.
  to.reset();
  SQLite::Database(target.location(), SQLite::OPEN_READWRITE)
      .exec("UPDATE cases SET site = 'nunukan' WHERE id = '" + case_id + "'");
  auto store = open_store(target.location(), StoreOptions{});
  CHECK_FALSE(audit::verify(*store, audit::VerifyOptions{}).clean());
  LogEntry row = registry::moved_in(forged, RegistryStamp{"nadia", DateTime{1790000000}});
  store->append_registry(row);
  const audit::VerifyReport report = audit::verify(*store, audit::VerifyOptions{});
  CHECK_FALSE(report.clean());
  const bool range = std::any_of(report.findings.begin(), report.findings.end(), [](const audit::Finding& f) {
    return f.message.find("which no move writes") != std::string::npos;
  });
  CHECK(range);
}

TEST_CASE("a moved-in row written over the server's own rows is found", "[move]") {
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = national(target.location());
  require_clean(to->store());
  // An administrator's registry row claiming that rows 2-3 came with a move
  // (verify would then read their main as another site).
  MovedIn forged;
  forged.site = "nunukan";
  forged.from = "nowhere.db";
  forged.first_seq = 2;
  forged.last_seq = 3;
  forged.offset = 1;
  forged.head = "2:0000";
  LogEntry row = registry::moved_in(forged, RegistryStamp{"nadia", DateTime{1790000000}});
  to->store().append_registry(row);
  const auto found = findings(to->store());
  std::vector<std::string> moved;
  for (const auto& f : found)
    if (f.kind == audit::FindingKind::kMovedRegistry) moved.push_back(f.message);
  REQUIRE_FALSE(moved.empty());
  // Rows 2-3 are long before the row claiming them.
  const bool names_end = std::any_of(moved.begin(), moved.end(), [](const std::string& m) {
    return m.find("records a move of rows 2-3 with offset 1, which no move writes") != std::string::npos;
  });
  const bool names_extra = std::any_of(moved.begin(), moved.end(), [](const std::string& m) {
    return m.find("lies among the rows of the database moved in") != std::string::npos;
  });
  CHECK(names_end);
  CHECK(names_extra);
}

}  // namespace
}  // namespace sopir
