// Sites (docs/DEPLOY.md "Sites"), on both backends: the default site,
// sites added and staff joining them as logged registry rows, every case at
// one site (in its open row's record), the engine holding staff to their
// sites' cases, national and auditor staff, transfers, and the upgrade of
// an older database into the default site.
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "test_errors.h"
#include "sopir/audit.h"
#include "base/sha256.h"
#include "sopir/engine.h"
#include "store/pg_connection.h"
#include "store/pg_schema.h"
#include "store/schema.h"
#include "test_backends.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

using testing::creating;

using testing::message_of;

using testing::kind_of;

void require_clean(Store& store) {
  const audit::VerifyReport report = audit::verify(store, audit::VerifyOptions{});
  for (const auto& f : report.findings) UNSCOPED_INFO(f.message);
  REQUIRE(report.clean());
}

// A database on each backend with two sites: `main` (ana, the
// administrator, and rina) and `nunukan` (budi), plus dewi in both, nia
// (national, no site) and oki (auditor, no site).
struct SitesFixture {
  testing::TestDatabase db{GENERATE(from_range(testing::store_backends()))};
  std::unique_ptr<Engine> engine;

  SitesFixture() {
    auto store = open_store(db.location(), creating());
    Engine::add_first_administrator(*store, "ana", "Ana Contoh");
    engine = std::make_unique<Engine>(std::move(store), std::make_shared<testing::TestClock>());
    engine->add_staff("ana", {"rina", "Rina Contoh", {"worker"}, true});  // the only site: main
    engine->add_site("ana", Site{"nunukan", "Pos Debarkasi Nunukan"});
    engine->add_staff("ana", {"budi", "Budi Contoh", {"worker", "supervisor"}, true, "", {"nunukan"}});
    engine->add_staff("ana", {"dewi", "Dewi Contoh", {"worker", "supervisor"}, true, "", {"main", "nunukan"}});
    engine->add_staff("ana", {"nia", "Nia Contoh", {"national"}, true});
    engine->add_staff("ana", {"oki", "Oki Contoh", {"auditor", "supervisor"}, true});
    engine->publish_source(testing::kCareYaml, "care.yaml", "ana", false);
  }

  StepResult open(const std::string& actor, const std::string& site = "") {
    OpenRequest r{"test-care", actor, {{"full_name", "Siti Contoh"}}, "", std::nullopt, site};
    return engine->open_case(r);
  }
  StepResult step(const std::string& id, const std::string& actor) {
    StepRequest r;
    r.case_id = id;
    r.event = "escalate";
    r.actor = actor;
    return engine->advance(r);
  }
  std::string snapshot() { return db.snapshot(); }
};

TEST_CASE_METHOD(SitesFixture, "sites and memberships are kept and logged", "[sites]") {
  Store& store = engine->store();
  const auto sites = store.sites();
  REQUIRE(sites.size() == 2);
  CHECK(sites[0].id == "main");
  CHECK(sites[0].name == kDefaultSiteName);
  CHECK(sites[1].id == "nunukan");
  CHECK(store.staff("ana")->sites == std::vector<std::string>{"main"});
  CHECK(store.staff("rina")->sites == std::vector<std::string>{"main"});
  CHECK(store.staff("dewi")->sites == std::vector<std::string>{"main", "nunukan"});
  CHECK(store.staff("nia")->sites.empty());

  engine->set_staff_site("ana", "rina", "nunukan", true);
  CHECK(store.staff("rina")->sites == std::vector<std::string>{"main", "nunukan"});
  engine->set_staff_site("ana", "rina", "main", false);
  CHECK(store.staff("rina")->sites == std::vector<std::string>{"nunukan"});

  // Each change is a registry row.
  std::vector<std::string> events;
  LogFilter filter;
  filter.registry = true;
  store.scan_log(filter, [&](const LogEntry& e) {
    if (e.kind == LogKind::kSite || e.event == registry_event::kSiteJoined || e.event == registry_event::kSiteLeft)
      events.push_back(std::string(to_string(e.kind)) + " " + e.event + " " + e.inputs.back().second);
    return true;
  });
  CHECK(events == std::vector<std::string>{"site added Pos Debarkasi Nunukan", "staff site-joined nunukan",
                                           "staff site-left main"});
  require_clean(store);

  // The table changed behind the log's back: verify says so.
  db.exec("UPDATE staff SET sites = '[\"main\",\"nunukan\"]' WHERE id = 'budi'");
  const audit::VerifyReport report = audit::verify(store, audit::VerifyOptions{});
  REQUIRE_FALSE(report.clean());
  CHECK(report.findings.front().message.find("the table gives them the sites main, nunukan, the log nunukan") !=
        std::string::npos);
}

TEST_CASE_METHOD(SitesFixture, "bad site administration is refused and writes nothing", "[sites]") {
  const std::string before = snapshot();
  CHECK(kind_of([&] { engine->add_site("ana", Site{"nunukan", "Again"}); }) == ErrorKind::kConflict);
  CHECK(message_of([&] { engine->add_site("ana", Site{"nunukan", "Again"}); }) ==
        "site id nunukan is already taken (by Pos Debarkasi Nunukan)");
  CHECK(kind_of([&] { engine->add_site("ana", Site{"Bad Id", "X"}); }) == ErrorKind::kUsage);
  CHECK(kind_of([&] { engine->add_site("ana", Site{"tpi", ""}); }) == ErrorKind::kUsage);
  CHECK(kind_of([&] { engine->add_site("rina", Site{"tpi", "Tanjung Pinang"}); }) == ErrorKind::kRefused);
  CHECK(message_of([&] { engine->set_staff_site("ana", "rina", "nunukn", true); }) ==
        "unknown site 'nunukn'; did you mean 'nunukan'? (the sites are: main, nunukan)");
  CHECK(kind_of([&] { engine->set_staff_site("ana", "nobody", "main", true); }) == ErrorKind::kNotFound);
  CHECK(kind_of([&] { engine->set_staff_site("ana", "rina", "main", true); }) == ErrorKind::kConflict);
  CHECK(kind_of([&] { engine->set_staff_site("ana", "rina", "nunukan", false); }) == ErrorKind::kConflict);
  // With several sites a new member must be given one (administrators, national and auditor staff
  // need none).
  CHECK(message_of([&] {
          engine->add_staff("ana", {"eka", "Eka Contoh", {"worker"}, true});
        }) ==
        "staff member 'eka' needs a site: this database has several (main, nunukan); give --site "
        "SITE "
        "(administrators, national and auditor staff need none)");
  CHECK(kind_of([&] { engine->add_staff("ana", {"eka", "Eka Contoh", {"worker"}, true, "", {"tpi"}}); }) ==
        ErrorKind::kNotFound);
  CHECK(snapshot() == before);
}

TEST_CASE_METHOD(SitesFixture, "a case opens at its actor's site, in the hashed record", "[sites]") {
  const StepResult a = open("rina");
  CHECK(a.after.site == "main");
  CHECK(a.entry.site == "main");
  CHECK(log_record(a.entry).find(",\"linked_case\":\"\",\"site\":\"main\"}") != std::string::npos);
  CHECK(engine->store().find_case(a.after.id)->site == "main");
  CHECK(engine->store().history(a.after.id).front().site == "main");
  CHECK(open("budi").after.site == "nunukan");
  CHECK(open("dewi", "nunukan").after.site == "nunukan");
  // A step's row names no site.
  CHECK(step(a.after.id, "dewi").entry.site.empty());

  const std::string before = snapshot();
  // Several sites: say which; none: refused; not theirs or unknown: refused.
  CHECK(message_of([&] { open("dewi"); }) ==
        "dewi belongs to several sites (main, nunukan): say which the case belongs to with --site SITE");
  CHECK(kind_of([&] { open("dewi"); }) == ErrorKind::kUsage);
  CHECK(kind_of([&] { open("nia"); }) == ErrorKind::kRefused);
  CHECK(message_of([&] { open("nia"); }) ==
        "nia belongs to no site, so cannot open a case: an administrator adds them to one with "
        "`sopir staff site nia SITE`");
  CHECK(kind_of([&] { open("rina", "nunukan"); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { open("rina", "tpi"); }) == ErrorKind::kNotFound);
  CHECK(kind_of([&] { open("oki"); }) == ErrorKind::kRefused);
  CHECK(snapshot() == before);

  CaseFilter only;
  only.sites = std::vector<std::string>{"nunukan"};
  CHECK(engine->cases(only).size() == 2);
  only.sites = std::vector<std::string>{};
  CHECK(engine->cases(only).empty());
  require_clean(engine->store());
}

TEST_CASE_METHOD(SitesFixture, "an administrator needs no site, reads every one and acts at none",
                 "[sites]") {
  const std::string at_nunukan = open("budi").after.id;
  // Staff held to their sites need one on a database of several; an
  // administrator (who reads every site, as national staff do) needs none.
  CHECK(kind_of([&] {
          engine->add_staff("ana", {"ria", "Ria Contoh", {"worker"}, true});
        }) == ErrorKind::kUsage);
  engine->add_staff("ana", {"ari", "Ari Contoh", {"admin"}, true});
  CHECK(engine->store().staff("ari")->sites.empty());
  CHECK(engine->show(at_nunukan, "ari").record.id == at_nunukan);
  const std::string before = snapshot();
  CHECK(kind_of([&] { open("ari"); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { step(at_nunukan, "ari"); }) == ErrorKind::kRefused);
  CHECK(snapshot() == before);
  // The events they see are none of theirs to fire, as the step says.
  for (const EventCheck& check : engine->show(at_nunukan, "ari").checks) {
    CHECK_FALSE(check.possible);
    REQUIRE(check.refusal);
    CHECK(check.refusal->message.find("only staff of nunukan act on it") != std::string::npos);
  }
  // A member of the site sees the same event as theirs.
  const CaseView budi = engine->show(at_nunukan, "budi");
  CHECK(std::any_of(budi.checks.begin(), budi.checks.end(),
                    [](const EventCheck& c) { return c.possible; }));
  require_clean(engine->store());
}

TEST_CASE_METHOD(SitesFixture, "staff read and act only on their sites' cases", "[sites]") {
  const std::string at_main = open("rina").after.id;
  const std::string at_nunukan = open("budi").after.id;
  const std::string before = snapshot();
  CHECK(message_of([&] { step(at_main, "budi"); }) ==
        "case " + at_main + " belongs to site main, and budi belongs to nunukan: only staff of main act on it "
        "(an administrator adds a member with `sopir staff site budi main`)");
  CHECK(kind_of([&] { engine->show(at_main, "budi"); }) == ErrorKind::kRefused);
  CHECK(kind_of([&] { engine->history(at_main, "budi"); }) == ErrorKind::kRefused);
  LifecycleRequest hold{at_main, LifecycleEvent::kHold, "budi", "waiting", "", std::nullopt};
  CHECK(kind_of([&] { engine->lifecycle(hold); }) == ErrorKind::kRefused);
  // The administrator reads every site's cases, as on a server, but acts
  // only at their sites and sees other sites' personal data masked.
  CHECK(engine->show(at_nunukan, "ana").record.id == at_nunukan);
  CHECK(kind_of([&] { step(at_nunukan, "ana"); }) == ErrorKind::kRefused);
  CHECK(readable_sites(engine->actor("ana")) == std::nullopt);
  // National staff read every site, never its personal data; auditors read and act on none.
  CHECK(engine->show(at_nunukan, "nia").record.id == at_nunukan);
  CHECK(engine->history(at_nunukan, "oki").entries.size() == 1);
  const RevealRequest reveal{"case show --reveal", "checking the record"};
  CHECK(message_of([&] { engine->show(at_nunukan, "oki", &reveal); }) ==
        "oki may not see the personal data of case " + at_nunukan +
            ": it is shown only to staff of its site, nunukan (administrators, national and "
            "auditor staff see it masked)");
  CHECK(kind_of([&] { step(at_nunukan, "oki"); }) == ErrorKind::kRefused);
  CHECK(snapshot() == before);
  // The todo list holds only one's own sites' cases.
  CHECK(engine->todo("budi").items.size() == 1);
  CHECK(engine->todo("dewi").items.size() == 2);
  CHECK(engine->todo("oki").items.empty());
  CHECK(readable_sites(engine->actor("nia")) == std::nullopt);
  CHECK(readable_sites(engine->actor("budi")) == std::vector<std::string>{"nunukan"});
  // A member of the site may reveal.
  CHECK(engine->show(at_nunukan, "budi", &reveal).personal_data_shown);
  require_clean(engine->store());

  // A step by a member of another site, written behind the engine's back:
  // verify names it.
  Store& store = engine->store();
  const CaseRecord held = *store.find_case(at_main);
  CaseRecord after = held;
  after.version = held.version + 1;
  after.state = "escalated";
  LogEntry e;
  e.case_id = at_main;
  e.sha256 = held.sha256;
  e.kind = LogKind::kProcedure;
  e.event = "escalate";
  e.from_state = held.state;
  e.to_state = "escalated";
  e.from_status = e.to_status = "active";
  e.actor = "budi";
  e.role = "supervisor";
  e.occurred_at = e.recorded_at = DateTime{1780000000};
  e.due_at = held.due_at;
  after.due_at = held.due_at;
  store.append_held(held, after, e);
  const audit::VerifyReport report = audit::verify(store, audit::VerifyOptions{});
  bool named = false;
  for (const auto& f : report.findings)
    named = named || f.message.find("budi did not belong to site main, where the case was") != std::string::npos;
  CHECK(named);
}

TEST_CASE_METHOD(SitesFixture, "the timer pass and retention are held to who asks for them",
                 "[sites][tick]") {
  const std::string at_main = open("rina").after.id;
  const std::string at_nunukan = open("budi").after.id;
  const std::string before = snapshot();
  // Auditors write nothing: a pass they ask for is refused before it reads.
  CHECK(message_of([&] { engine->tick({}, "oki"); }) ==
        "oki is an auditor: auditors write nothing, and the timer pass writes the steps it fires "
        "(the scheduled timer, or an administrator, runs it)");
  CHECK(kind_of([&] { engine->tick({}, "nobody"); }) == ErrorKind::kNotFound);
  CHECK(snapshot() == before);
  // A member of one site is held to it; the timer, an administrator and a
  // member of every site are not.
  CHECK(engine->tick({}, "budi").sites == std::vector<std::string>{"nunukan"});
  CHECK(engine->retention_due("budi").sites == std::vector<std::string>{"nunukan"});
  CHECK(engine->tick({}, "").sites == std::nullopt);
  CHECK(engine->tick({}, "ana").sites == std::nullopt);
  CHECK(engine->tick({}, "dewi").sites == std::nullopt);
  CHECK(engine->retention_due().sites == std::nullopt);
  // Reading a case by its id: refused for a member of another site,
  // allowed to its own and to national staff; nothing for a case with no row.
  CHECK(kind_of([&] { check_site_access(engine->store(), engine->actor("budi"), at_main); }) ==
        ErrorKind::kRefused);
  check_site_access(engine->store(), engine->actor("budi"), at_nunukan);
  check_site_access(engine->store(), engine->actor("nia"), at_main);
  check_site_access(engine->store(), engine->actor("budi"), "ZZZ-ZZZ");
}

TEST_CASE_METHOD(SitesFixture, "a site's cases are listed a page at a time and counted", "[sites][store]") {
  std::vector<std::string> main_ids, nunukan_ids;
  for (int i = 0; i < 3; ++i) main_ids.push_back(open("rina").after.id);
  for (int i = 0; i < 2; ++i) nunukan_ids.push_back(open("budi").after.id);
  main_ids.push_back(open("dewi", "main").after.id);
  // Opened at the same time (TestClock): listed by id.
  std::sort(main_ids.begin(), main_ids.end());
  std::sort(nunukan_ids.begin(), nunukan_ids.end());
  auto ids = [](const std::vector<CaseRecord>& cases) {
    std::vector<std::string> out;
    for (const CaseRecord& c : cases) out.push_back(c.id);
    return out;
  };
  Store& store = engine->store();
  CaseFilter one;
  one.sites = std::vector<std::string>{"main"};
  CHECK(ids(store.cases(one)) == main_ids);
  CHECK(store.count_cases(one) == 4);
  one.limit = 3;  // a page: the first three of the same order
  CHECK(ids(store.cases(one)) == std::vector<std::string>(main_ids.begin(), main_ids.begin() + 3));
  CHECK(store.count_cases(one) == 4);
  for (const CaseRecord& c : store.cases(one)) CHECK(c.site == "main");
  one.status = Status::kClosed;
  CHECK(store.cases(one).empty());
  CHECK(store.count_cases(one) == 0);

  CaseFilter both;
  both.sites = std::vector<std::string>{"main", "nunukan"};
  std::vector<std::string> all = main_ids;
  all.insert(all.end(), nunukan_ids.begin(), nunukan_ids.end());
  std::sort(all.begin(), all.end());
  CHECK(ids(store.cases(both)) == all);
  both.limit = 2;
  CHECK(ids(store.cases(both)) == std::vector<std::string>(all.begin(), all.begin() + 2));
  CHECK(store.count_cases(both) == 6);

  CaseFilter none;
  none.sites = std::vector<std::string>{};
  CHECK(store.cases(none).empty());
  CHECK(store.count_cases(none) == 0);
  CHECK(store.count_cases(CaseFilter{}) == 6);
}

TEST_CASE_METHOD(SitesFixture, "a transfer moves a case as a logged step that verify checks", "[sites]") {
  const std::string id = open("rina").after.id;
  const std::string before = snapshot();
  TransferRequest t{id, "rina", "main", "moved", ""};
  CHECK(message_of([&] { engine->transfer_case(t); }) ==
        "case " + id + " already belongs to site main; nothing was changed (give another site with --to)");
  t.to_site = "tpi";
  CHECK(kind_of([&] { engine->transfer_case(t); }) == ErrorKind::kNotFound);
  t.to_site = "nunukan";
  t.reason = " ";
  CHECK(kind_of([&] { engine->transfer_case(t); }) == ErrorKind::kUsage);
  t.reason = "the survivor travels to Nunukan";
  t.actor = "budi";  // not of main
  CHECK(kind_of([&] { engine->transfer_case(t); }) == ErrorKind::kRefused);
  t.actor = "rina";  // not of nunukan
  CHECK(message_of([&] { engine->transfer_case(t); }) ==
        "rina may not move case " + id + " from main to nunukan: a case moves between sites by an administrator "
        "or by staff who belong to both");
  CHECK(snapshot() == before);

  t.actor = "dewi";
  const StepResult moved = engine->transfer_case(t);
  CHECK(moved.after.site == "nunukan");
  CHECK(moved.entry.kind == LogKind::kTransfer);
  CHECK(moved.entry.inputs ==
        std::vector<std::pair<std::string, std::string>>{{"from_site", "main"}, {"to_site", "nunukan"}});
  CHECK(engine->store().find_case(id)->site == "nunukan");
  CHECK(engine->store().history(id).back().site == "nunukan");
  // Now budi's, no longer rina's.
  CHECK(step(id, "budi").after.state == "escalated");
  CHECK(kind_of([&] { engine->show(id, "rina"); }) == ErrorKind::kRefused);
  require_clean(engine->store());

  // A case row moved behind the log's back is reported.
  db.exec("UPDATE cases SET site = 'main' WHERE id = '" + id + "'");
  const audit::VerifyReport report = audit::verify(engine->store(), audit::VerifyOptions{});
  REQUIRE_FALSE(report.clean());
  CHECK(report.findings.front().message ==
        "case " + id + " is at site main in the cases table, but its log leaves it at nunukan");
}

// `text` without every occurrence of `what`.
std::string without(std::string text, const std::string& what) {
  for (size_t at; (at = text.find(what)) != std::string::npos;) text.erase(at, what.size());
  return text;
}

TEST_CASE("an SQLite database from before sites puts everything in the default site", "[sites][schema]") {
  // A database as sopir wrote it before sites: made now, then copied into a
  // schema 8 file without any site (records re-hashed chain by chain).
  testing::TempDb live("sites-live"), old("sites-old");
  std::string case_id;
  {
    auto store = open_sqlite_store(live.path(), creating());
    Engine::add_first_administrator(*store, "ana", "Ana Contoh");
    Engine engine(std::move(store), std::make_shared<testing::TestClock>());
    engine.add_staff("ana", {"rina", "Rina Contoh", {"worker"}, true});
    engine.publish_source(testing::kCareYaml, "care.yaml", "ana", false);
    case_id = engine.open_case({"test-care", "rina", {{"full_name", "Siti Contoh"}}, "", std::nullopt}).after.id;
    StepRequest r;
    r.case_id = case_id;
    r.event = "screen";
    r.actor = "rina";
    r.inputs = {{"age", "30"}};
    engine.advance(r);
  }
  {
    SQLite::Database raw(old.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA journal_mode = WAL");
    schema::migrate(raw, 8);
    raw.exec("ATTACH DATABASE '" + live.path() + "' AS live");
    raw.exec("INSERT INTO staff SELECT id, name, roles, active FROM live.staff");
    raw.exec("INSERT INTO procedures SELECT * FROM live.procedures");
    raw.exec("INSERT INTO personal_text SELECT * FROM live.personal_text");
    raw.exec("INSERT INTO cases SELECT id, sop_id, sha256, state, status, data, version, last_seq, opened_at, "
             "due_at, hold_started, closure_reason, parent_case, head_hash FROM live.cases");
    SQLite::Statement rows(raw, "SELECT coalesce(case_id, ''), record FROM live.transitions ORDER BY seq");
    std::map<std::string, std::string> heads;
    std::vector<std::pair<std::string, std::string>> records;
    while (rows.executeStep())
      records.emplace_back(rows.getColumn(0).getString(),
                           without(without(rows.getColumn(1).getString(), ",\"site\":\"main\""), ",[\"site\",\"main\"]"));
    rows.reset();
    for (const auto& [chain, record] : records) {
      REQUIRE(record.find("site") == std::string::npos);
      const std::string prev = heads[chain];
      const std::string hash = sha256_hex(prev + record);
      SQLite::Statement insert(raw, "INSERT INTO transitions (record, prev_hash, hash) VALUES (?, ?, ?)");
      insert.bind(1, record);
      insert.bind(2, prev);
      insert.bind(3, hash);
      insert.exec();
      heads[chain] = hash;
    }
    raw.exec("UPDATE cases SET head_hash = '" + heads[case_id] + "'");
    raw.exec("DETACH DATABASE live");
  }
  {
    // Verified clean as the old sopir left it (read at schema 8 through a
    // copy is not possible: this sopir upgrades at the first open).
    auto store = open_sqlite_store(old.path(), StoreOptions{});  // upgrades
    CHECK(store->schema_changes().empty());
    REQUIRE(store->sites().size() == 1);
    CHECK(store->sites()[0].id == kDefaultSite);
    CHECK(store->find_case(case_id)->site == "main");
    CHECK(store->staff("ana")->sites == std::vector<std::string>{"main"});
    CHECK(store->staff("rina")->sites == std::vector<std::string>{"main"});
    // The upgrade's rows: the default site and each member joining it.
    std::vector<std::string> rows;
    LogFilter filter;
    filter.registry = true;
    filter.after_seq = 5;
    store->scan_log(filter, [&](const LogEntry& e) {
      rows.push_back(std::string(to_string(e.kind)) + " " + e.event + " " + e.inputs.front().second + " by '" +
                     e.actor + "'");
      return true;
    });
    CHECK(rows == std::vector<std::string>{"site existing main by ''", "staff site-joined ana by ''",
                                           "staff site-joined rina by ''"});
    require_clean(*store);
  }
  // Nothing changes for a one-office user: the members open and act as before.
  Engine engine(open_sqlite_store(old.path(), StoreOptions{}), std::make_shared<testing::TestClock>());
  CHECK(engine.open_case({"test-care", "rina", {}, "", std::nullopt}).after.site == "main");
  CHECK(engine.show(case_id, "rina").record.id == case_id);
  require_clean(engine.store());
}

TEST_CASE("a PostgreSQL database from before sites is upgraded into the default site", "[sites][schema][pg]") {
  if (testing::test_server_url().empty()) return;
  testing::TestDatabase db(testing::Backend::kPostgres);
  {
    pg::Connection conn(db.location(), 10);
    pg::migrate(conn, 5);
  }
  CHECK(db.query("SELECT version FROM sopir_schema") == "5");
  // A member and a registry row as an older sopir wrote them.
  db.exec("INSERT INTO staff (id, name, roles, active) VALUES ('ana', 'Ana Contoh', '[\"admin\"]', true)");
  auto store = open_store(db.location(), StoreOptions{});  // upgrades
  CHECK(db.query("SELECT version FROM sopir_schema") == std::to_string(pg::latest_schema_version()));
  CHECK(store->staff("ana")->sites == std::vector<std::string>{"main"});
  CHECK(store->sites().size() == 1);
  CHECK(store->schema_changes().empty());
  CHECK(db.query("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'cases'") == "t");
  // Row-level security lifted or a policy added behind sopir's back: verify's schema check says so.
  db.exec("ALTER TABLE cases NO FORCE ROW LEVEL SECURITY");
  db.exec("CREATE POLICY everyone ON transitions FOR SELECT USING (true)");
  const std::vector<std::string> changes = store->schema_changes();
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].find("the row security of cases was redefined") == 0);
  CHECK(changes[0].find("(enabled, not forced;") != std::string::npos);
  CHECK(changes[1] == "the policy everyone was added: sopir does not create it, and it can show rows to other sites");
}

}  // namespace
}  // namespace sopir
