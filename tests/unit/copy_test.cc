// Copying a whole database into a new one (sopir/copy.h, `sopir db copy`):
// every row as it is onto each backend, the chain and verify the same on
// both ends, a log whose seq skips numbers kept so in a file, and a target
// that holds anything refused with nothing written. tests/e2e/test_cli_copy.py
// copies a database with every step kind both ways through the CLI.
#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "sopir/audit.h"
#include "sopir/copy.h"
#include "sopir/engine.h"
#include "store/pg_connection.h"
#include "test_backends.h"
#include "test_copy.h"
#include "test_errors.h"
#include "test_links.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

using testing::creating;

using testing::message_of;

using testing::care_case;
using testing::require_clean;

// A database with staff at two sites, cases with personal values, a step,
// an access record and a checkpoint.
std::unique_ptr<Engine> filled(const std::string& location) {
  auto store = open_store(location, creating());
  Engine::add_first_administrator(*store, "ana", "Ana Contoh");
  auto engine = std::make_unique<Engine>(std::move(store), std::make_shared<testing::TestClock>());
  engine->add_staff("ana", {"rina", "Rina Contoh", {"worker", "supervisor"}, true});
  engine->add_site("ana", Site{"nunukan", "Pos Debarkasi Nunukan"});
  engine->add_staff("ana", {"budi", "Budi Contoh", {"worker"}, true, "", {"nunukan"}});
  engine->publish_source(testing::kCareYaml, "care.yaml", "ana", false);
  for (const char* who : {"rina", "budi"}) {
    const StepResult opened = engine->open_case(care_case(who, "Siti Contoh"));
    StepRequest step;
    step.case_id = opened.entry.case_id;
    step.event = "screen";
    step.actor = who;
    step.inputs = {{"age", "30"}};
    engine->advance(step);
  }
  engine->store().record_access("rina", engine->store().cases(CaseFilter{}).front().id, "case show --reveal",
                                "a call back", DateTime{1780000000});
  engine->checkpoint("ana");
  return engine;
}

TEST_CASE("db copy: every row as it is, onto each backend, verify clean on both ends", "[copy]") {
  testing::TestDatabase source(testing::Backend::kSqlite);
  auto engine = filled(source.location());
  Store& from = engine->store();
  require_clean(from);
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = open_store(target.location(), creating());

  const CopyResult result = copy_database(from, *to, CopySealing{}, [](Store& copy) { require_clean(copy); });
  CHECK(result.from == result.to);
  CHECK(result.to.cases == 2);
  CHECK(result.to.sites == 2);
  CHECK(result.to.access_records == 1);
  CHECK_FALSE(result.passphrase_row);
  CHECK(count_database(*to) == count_database(from));
  if (target.backend() == testing::Backend::kSqlite) CHECK(target.query(testing::kBrokenLinks) == "0");
  // The chain heads a copy compares, read without the cases' values: each
  // case's, in id order, as its row holds them.
  for (Store* store : {&from, to.get()}) {
    std::vector<CaseRecord> cases = store->cases(CaseFilter{});
    std::sort(cases.begin(), cases.end(), [](const CaseRecord& a, const CaseRecord& b) { return a.id < b.id; });
    const std::vector<CaseHead> heads = store->case_heads();
    REQUIRE(heads.size() == cases.size());
    for (size_t i = 0; i < heads.size(); ++i) {
      CHECK(heads[i].id == cases[i].id);
      CHECK(heads[i].last_seq == cases[i].last_seq);
      CHECK(heads[i].head_hash == cases[i].head_hash);
    }
  }
  require_clean(*to);
  // The copy is a database like any: its staff act on it.
  Engine copy(std::move(to), std::make_shared<testing::TestClock>());
  const StepResult opened = copy.open_case(care_case("budi", "Ani Contoh"));
  CHECK(opened.entry.seq > result.to.head_seq);
  require_clean(copy.store());
}

TEST_CASE("db copy keeps a server's seq numbers in a file, gaps and all", "[copy]") {
  const std::string server = testing::test_server_url();
  if (server.empty()) return;
  testing::PgTestDatabase source;
  auto engine = filled(source.url());
  // A server transaction that rolled back used its seq number up: so does this.
  pg::Connection(source.url(), 10).exec("SELECT nextval(pg_get_serial_sequence('transitions', 'seq'))");
  engine->add_site("ana", Site{"tarakan", "Pos Tarakan"});
  require_clean(engine->store());
  testing::TempDb file("copy");
  auto to = open_store(file.path(), creating());
  const CopyResult result = copy_database(engine->store(), *to, CopySealing{});
  CHECK(result.from == result.to);
  CHECK(result.to.head_seq == result.to.log_rows + 1);  // one number skipped
  CHECK(to->seq_gaps_allowed());
  require_clean(*to);
}

TEST_CASE("db copy refuses a target that holds anything, and writes nothing", "[copy]") {
  testing::TestDatabase source(testing::Backend::kSqlite);
  auto engine = filled(source.location());
  testing::TestDatabase target(GENERATE(from_range(testing::store_backends())));
  auto to = open_store(target.location(), creating());
  Engine::add_first_administrator(*to, "eko", "Eko Contoh");
  const DatabaseCounts before = count_database(*to);
  const std::string message = message_of([&] { copy_database(engine->store(), *to, CopySealing{}); });
  CHECK(message.find(
            "the target already holds data (1 log row, 0 cases, 1 staff member, 1 site)") == 0);
  CHECK(testing::kind_of([&] { copy_database(engine->store(), *to, CopySealing{}); }) == ErrorKind::kConflict);
  CHECK(count_database(*to) == before);
}

TEST_CASE("db copy of one site: its chains, and a proof against a checkpoint the source takes", "[copy]") {
  testing::TestDatabase source(GENERATE(from_range(testing::store_backends())));
  auto engine = filled(source.location());  // budi's case at nunukan, rina's at main, then a checkpoint
  Store& from = engine->store();
  const audit::Anchor earlier = audit::anchor(from);
  std::string at_main, at_nunukan;
  for (const CaseRecord& c : from.cases(CaseFilter{})) (c.site == "main" ? at_main : at_nunukan) = c.id;
  // A case opened at main and moved to nunukan, and one moved away from
  // nunukan: both are the office's record; a third at main is not.
  const std::string moved_in =
      engine->open_case(care_case("rina", "Ani Contoh")).entry.case_id;
  engine->transfer_case(TransferRequest{moved_in, "ana", "nunukan", "moved to the post"});
  const std::string moved_out =
      engine->open_case(care_case("budi", "Ina Contoh")).entry.case_id;
  engine->transfer_case(TransferRequest{moved_out, "ana", "main", "moved home"});
  const std::string elsewhere_only =
      engine->open_case(care_case("rina", "Eni Contoh")).entry.case_id;

  testing::TempDb file("site");
  auto to = open_store(file.path(), creating());
  const SiteScope scope{"nunukan", "site.db", "ana", DateTime{1780000100}};
  const CopyResult result = copy_database(from, *to, CopySealing{}, [](Store& copy) { require_clean(copy); }, scope);
  CHECK(result.from == result.to);
  CHECK(result.to.cases == 3);
  CHECK(result.linked_cases == 1);  // moved out
  std::set<std::string> held;
  for (const CaseRecord& c : to->cases(CaseFilter{})) held.insert(c.id);
  CHECK(held == std::set<std::string>{at_nunukan, moved_in, moved_out});
  CHECK_FALSE(held.count(elsewhere_only));

  // The source logged the copy, committing to its 4 chains (3 cases and
  // the registry), and took the checkpoint the copy is proven against.
  const LogEntry proven = *from.newest_checkpoint();
  CHECK(result.proven_checkpoint_row == proven.seq);
  REQUIRE(result.proven);
  CHECK(result.proven->root == proven.checkpoint->root);
  LogFilter copies;
  copies.registry = true;
  copies.kind = LogKind::kSite;
  std::vector<LogEntry> copied;
  from.scan_log(copies, [&](const LogEntry& e) {
    if (e.event == registry_event::kCopied) copied.push_back(e);
    return true;
  });
  REQUIRE(copied.size() == 1);
  CHECK(copied[0].seq == proven.seq - 1);
  CHECK(copied[0].inputs[2] == std::make_pair(std::string("chains"), std::string("4")));
  require_clean(from);
  REQUIRE(result.closing);

  audit::VerifyOptions with_anchor;
  with_anchor.anchor = audit::anchor(from);
  audit::VerifyReport report = audit::verify(*to, with_anchor);
  for (const auto& f : report.findings) UNSCOPED_INFO(f.message);
  CHECK(report.clean());
  CHECK(report.site_copy == "nunukan");
  CHECK(report.proven_checkpoint == proven.seq);
  CHECK(report.checkpoints_elsewhere == 1);
  // An anchor of the source the copy cannot check is said so.
  with_anchor.anchor = earlier;
  report = audit::verify(*to, with_anchor);
  REQUIRE(report.findings.size() == 1);
  CHECK(report.findings[0].kind == audit::FindingKind::kAnchorMissing);
  CHECK(report.findings[0].message.find("this database is a copy of site nunukan only") == 0);

  // A copy of the copy keeps its proof, and verifies the same; a site copy
  // of it is refused.
  testing::TempDb again("again");
  auto second = open_store(again.path(), creating());
  copy_database(*to, *second, CopySealing{}, [](Store& copy) { require_clean(copy); });
  report = audit::verify(*second, audit::VerifyOptions{});
  CHECK(report.clean());
  CHECK(report.site_copy == "nunukan");
  testing::TempDb third("third");
  auto thrice = open_store(third.path(), creating());
  CHECK(message_of([&] { copy_database(*to, *thrice, CopySealing{}, {}, scope); })
            .find("the source is itself a copy of site nunukan") == 0);

  // Into a server, or of a site the source does not have: refused, nothing
  // written on either end.
  const DatabaseCounts source_before = count_database(from);
  if (source.backend() == testing::Backend::kPostgres) {
    testing::PgTestDatabase server;
    auto there = open_store(server.url(), creating());
    CHECK(testing::kind_of([&] { copy_database(from, *there, CopySealing{}, {}, scope); }) == ErrorKind::kUsage);
    CHECK(count_database(*there).log_rows == 0);
  }
  testing::TempDb other("other");
  auto elsewhere = open_store(other.path(), creating());
  const SiteScope unknown{"tarakan", "other.db", "ana", DateTime{1780000100}};
  CHECK(message_of([&] { copy_database(from, *elsewhere, CopySealing{}, {}, unknown); }) ==
        "the source has no site tarakan; its sites are: main, nunukan");
  CHECK(count_database(*elsewhere).log_rows == 0);
  CHECK(count_database(from) == source_before);
}

TEST_CASE("db copy of one site from a source without a checkpoint: the copy takes one", "[copy]") {
  testing::TestDatabase source(testing::Backend::kSqlite);
  auto store = open_store(source.location(), creating());
  Engine::add_first_administrator(*store, "ana", "Ana Contoh");
  Engine engine(std::move(store), std::make_shared<testing::TestClock>());
  engine.add_site("ana", Site{"nunukan", "Pos Debarkasi Nunukan"});
  REQUIRE_FALSE(engine.store().newest_checkpoint());
  testing::TempDb file("site");
  auto to = open_store(file.path(), creating());
  const CopyResult result =
      copy_database(engine.store(), *to, CopySealing{}, {}, SiteScope{"nunukan", "site.db", "ana", DateTime{1780000100}});
  REQUIRE(engine.store().newest_checkpoint());
  CHECK(result.proven_checkpoint_row == engine.store().newest_checkpoint()->seq);
  const audit::VerifyReport report = audit::verify(*to, audit::VerifyOptions{});
  for (const auto& f : report.findings) UNSCOPED_INFO(f.message);
  CHECK(report.clean());
  CHECK(report.site_copy == "nunukan");
  CHECK(report.proven_checkpoint == result.proven_checkpoint_row);
  CHECK(report.checkpoints_elsewhere == 0);
}

}  // namespace
}  // namespace sopir
