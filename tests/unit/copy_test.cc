// Copying a whole database into a new one (sopir/copy.h, `sopir db copy`):
// every row as it is onto each backend, the chain and verify the same on
// both ends, a log whose seq skips numbers kept so in a file, and a target
// that holds anything refused with nothing written. tests/e2e/test_cli_copy.py
// copies a database with every step kind both ways through the CLI.
#include <catch2/catch.hpp>
#include <functional>
#include <memory>
#include <string>

#include "sopir/audit.h"
#include "sopir/copy.h"
#include "sopir/engine.h"
#include "store/pg_connection.h"
#include "test_backends.h"
#include "test_errors.h"
#include "test_procedures.h"

namespace sopir {
namespace {

using testing::creating;

using testing::message_of;

class FixedClock : public Clock {
 public:
  DateTime now() override { return DateTime{1780000000}; }
};

void require_clean(Store& store) {
  const audit::VerifyReport report = audit::verify(store, audit::VerifyOptions{});
  for (const auto& f : report.findings) UNSCOPED_INFO(f.message);
  REQUIRE(report.clean());
}

// A database with staff at two sites, cases with personal values, a step,
// an access record and a checkpoint.
std::unique_ptr<Engine> filled(const std::string& location) {
  auto store = open_store(location, creating());
  Engine::add_first_administrator(*store, "ana", "Ana Contoh");
  auto engine = std::make_unique<Engine>(std::move(store), std::make_shared<FixedClock>());
  engine->add_staff("ana", {"rina", "Rina Contoh", {"worker", "supervisor"}, true});
  engine->add_site("ana", Site{"nunukan", "Pos Debarkasi Nunukan"});
  engine->add_staff("ana", {"budi", "Budi Contoh", {"worker"}, true, "", {"nunukan"}});
  engine->publish_source(testing::kCareYaml, "care.yaml", "ana", false);
  for (const char* who : {"rina", "budi"}) {
    const StepResult opened = engine->open_case(OpenRequest{"test-care", who, {{"full_name", "Siti Contoh"}}});
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
  require_clean(*to);
  // The copy is a database like any: its staff act on it.
  Engine copy(std::move(to), std::make_shared<FixedClock>());
  const StepResult opened = copy.open_case(OpenRequest{"test-care", "budi", {{"full_name", "Ani Contoh"}}});
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
  CHECK(message.find("the target already holds data (1 log rows, 0 cases, 1 staff members, 1 sites)") == 0);
  CHECK(testing::kind_of([&] { copy_database(engine->store(), *to, CopySealing{}); }) == ErrorKind::kConflict);
  CHECK(count_database(*to) == before);
}

}  // namespace
}  // namespace sopir
