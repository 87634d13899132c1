// The auditor's view of hand-offs: verify checks both sides of every link
// and the values copied, replay gives has_child()/child_closed() the
// children as they were, and `audit case --with-linked` tells the linked
// cases' story in time order.
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "audit_links_fixture.h"
#include "base/sha256.h"
#include "sopir/audit.h"

namespace sopir {
namespace {

using audit::FindingKind;

std::vector<FindingKind> kinds(const audit::VerifyReport& report) {
  std::vector<FindingKind> out;
  for (const auto& f : report.findings) out.push_back(f.kind);
  return out;
}

std::string described(const audit::VerifyReport& report) {
  std::string out;
  for (const auto& f : report.findings)
    out += std::string(audit::to_string(f.kind)) + " at " + std::to_string(f.seq) + " (" + f.case_id +
           "): " + f.message + "\n";
  return out;
}

StoredValue plain_value(const std::string& field, const std::string& text) {
  StoredValue v;
  v.field = field;
  v.missing = false;
  v.text = text;
  return v;
}

StoredValue pii_value(const std::string& field, const std::string& text) {
  StoredValue v = plain_value(field, text);
  v.pii = true;
  v.salt = "00112233445566778899aabbccddeeff";
  v.digest = sha256_hex(v.salt + text);
  return v;
}

LogEntry::Change added(const StoredValue& after) {
  LogEntry::Change c;
  c.before.field = after.field;
  c.before.pii = after.pii;
  c.after = after;
  return c;
}

// A hand-off written straight through the Store, as a program other than
// the engine could: the parent's `refer` step and the child it opens, with
// the child's age as given. The chain is computed by the store, so only the
// audit's link and replay checks can tell a wrong one.
struct HandBuilt {
  std::string parent, child;
};

HandBuilt write_handoff(Engine& engine, const std::string& child_id, const std::string& child_age,
                        const std::string& child_name = "Wati Contoh", bool write_child = true,
                        const std::string& child_site = kDefaultSite) {
  Store& store = engine.store();
  const std::string parent_id =
      engine.open_case({"pmi-intake", "rina", {{"full_name", "Wati Contoh"}}, "", kT0}).after.id;
  CaseRecord parent = *store.find_case(parent_id);
  const int64_t version = parent.version;
  CaseRecord after = parent;
  after.state = "referred";
  after.version = version + 1;
  after.data.push_back(plain_value("age", "27"));
  LogEntry step;
  step.case_id = parent_id;
  step.sha256 = parent.sha256;
  step.kind = LogKind::kProcedure;
  step.event = "refer";
  step.from_state = "screening";
  step.to_state = "referred";
  step.from_status = step.to_status = "active";
  step.actor = "rina";
  step.role = "worker";
  step.occurred_at = step.recorded_at = kT1;
  step.inputs = {{"age", "27"}};
  step.changes = {added(plain_value("age", "27"))};
  step.linked_case = child_id;

  CaseRecord child;
  child.id = child_id;
  child.sop_id = "pmi-care";
  child.sha256 = engine.current_procedure("pmi-care")->sha256;
  child.state = "admitted";
  child.version = 1;
  child.opened_at = kT1;
  child.parent_case = parent_id;
  child.site = child_site;
  child.data = {pii_value("full_name", child_name), plain_value("age", child_age),
                plain_value("source", "intake")};
  LogEntry open;
  open.case_id = child_id;
  open.sha256 = child.sha256;
  open.kind = LogKind::kOpen;
  open.event = "open";
  open.to_state = "admitted";
  open.to_status = "active";
  open.actor = "rina";
  open.role = "hand-off";
  open.occurred_at = open.recorded_at = kT1;
  open.note = "opened by case " + parent_id + " (pmi-intake, refer)";
  open.inputs = {{"full_name", "<pii>"}, {"age", child_age}, {"source", "intake"}};
  for (const auto& v : child.data) open.changes.push_back(added(v));
  open.linked_case = parent_id;
  open.site = child_site;
  store.transaction([&] {
    store.append(after, version, step);
    if (write_child) store.create_case(child, open);
  });
  return {parent_id, child_id};
}

TEST_CASE_METHOD(LinkedCases, "a database of parent and child cases verifies clean", "[audit][links]") {
  const auto [parent, child] = handoff();
  step(child, "discharge", "sari");
  step(parent, "finish", "rina");
  const auto report = audit::verify(engine_.store(), {});
  CHECK(report.clean());
  INFO(described(report));
  CHECK(report.cases == 2);
  CHECK(report.steps == 3);  // opening rows are not steps
}

TEST_CASE_METHOD(LinkedCases, "a hand-off written by hand with the right values verifies clean",
                 "[audit][links]") {
  // The control for the forgeries below: the hand-built rows are right.
  write_handoff(engine_, "HND-000", "27");
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  CHECK(report.clean());
}

TEST_CASE_METHOD(LinkedCases, "a child case without the parent step that opened it is found",
                 "[audit][links]") {
  const auto [parent, child] = handoff();
  // Copy the real child under a new id: a case row and an open row naming
  // the parent, the chain recomputed by the store, but no step of the
  // parent opened it.
  CaseRecord forged = *engine_.store().find_case(child);
  LogEntry open = engine_.store().history(child).front();
  forged.id = open.case_id = "FRG-000";
  forged.version = 1;
  engine_.store().create_case(forged, open);
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  REQUIRE(kinds(report) == std::vector<FindingKind>{FindingKind::kLinkMissing});
  CHECK(report.findings[0].case_id == "FRG-000");
  CHECK(report.findings[0].seq == open.seq);
  CHECK_THAT(report.findings[0].message,
             Catch::Contains("case FRG-000 claims to have been opened by case " + parent) &&
                 Catch::Contains("no step of case " + parent + " opened it"));
}

TEST_CASE_METHOD(LinkedCases, "a child opened with other values than its parent's are found",
                 "[audit][links]") {
  const HandBuilt h = write_handoff(engine_, "HND-001", "28");
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  REQUIRE(kinds(report) == std::vector<FindingKind>{FindingKind::kLinkValues});
  CHECK(report.findings[0].case_id == h.child);
  CHECK_THAT(report.findings[0].message,
             Catch::Contains("age is '28' but case " + h.parent + " had '27' in age"));
}

TEST_CASE_METHOD(LinkedCases, "a child opened at another site than its hand-off's rule says is found",
                 "[audit][links][sites]") {
  // pmi-intake's hand-off names no site: its case opens where the parent is.
  engine_.add_site("admin", Site{"nunukan", "Pos Debarkasi Nunukan"});
  const HandBuilt h = write_handoff(engine_, "HND-009", "27", "Wati Contoh", true, "nunukan");
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  REQUIRE(kinds(report) == std::vector<FindingKind>{FindingKind::kLinkValues});
  CHECK(report.findings[0].case_id == h.child);
  CHECK_THAT(report.findings[0].message,
             Catch::Contains("it was opened at site nunukan, but the hand-off's rule opens it at main"));
}

TEST_CASE_METHOD(LinkedCases, "a personal value copied wrongly is found without showing it",
                 "[audit][links]") {
  const HandBuilt h = write_handoff(engine_, "HND-002", "27", "Wati Lain");
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  REQUIRE(kinds(report) == std::vector<FindingKind>{FindingKind::kLinkValues});
  CHECK_THAT(report.findings[0].message,
             Catch::Contains("full_name is (personal data) but case " + h.parent +
                             " had (personal data) in full_name (a different value)"));
  CHECK_THAT(report.findings[0].message, !Catch::Contains("Wati"));
}

TEST_CASE_METHOD(LinkedCases, "a step that names a case that does not exist is found", "[audit][links]") {
  const HandBuilt h = write_handoff(engine_, "HND-003", "27", "Wati Contoh", /*write_child=*/false);
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  REQUIRE(kinds(report) == std::vector<FindingKind>{FindingKind::kLinkUnknown});
  CHECK(report.findings[0].case_id == h.parent);
  CHECK_THAT(report.findings[0].message, Catch::Contains("claims to have opened case HND-003") &&
                                             Catch::Contains("there is no such case"));
}

TEST_CASE_METHOD(LinkedCases, "a step whose rule opens no case cannot claim a link", "[audit][links]") {
  const auto [parent, child] = handoff();
  // `remind` opens nothing; write it with a link to the real child.
  CaseRecord record = *engine_.store().find_case(parent);
  CaseRecord after = record;
  after.version = record.version + 1;
  LogEntry e = engine_.store().history(parent).back();
  e.event = "remind";
  e.from_state = e.to_state = "referred";
  e.inputs.clear();
  e.changes.clear();
  e.linked_case = child;
  engine_.store().append(after, record.version, e);
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  REQUIRE(kinds(report) == std::vector<FindingKind>{FindingKind::kLinkUnknown});
  CHECK_THAT(report.findings[0].message, Catch::Contains("the rule that allowed it opens no case"));
}

TEST_CASE_METHOD(LinkedCases, "replay gives guards the children as they were at each step",
                 "[audit][links]") {
  const auto [parent, child] = handoff();
  // `remind` needs the child still open; it was, then the child closed.
  step(parent, "remind", "rina");
  step(child, "discharge", "sari");
  CHECK_THROWS_WITH(step(parent, "remind", "rina"), Catch::Contains("child_closed('pmi-care')"));
  step(parent, "finish", "rina");
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  CHECK(report.clean());
  CHECK(report.steps == 4);
}

TEST_CASE_METHOD(LinkedCases, "a parent step the children did not allow then is refused on replay",
                 "[audit][links]") {
  const auto [parent, child] = handoff();
  // `finish` written while the child was still admitted: child_closed was
  // false at that point of the log, whatever the child did later.
  CaseRecord record = *engine_.store().find_case(parent);
  CaseRecord after = record;
  after.version = record.version + 1;
  after.state = "done";
  after.status = Status::kClosed;
  LogEntry e = engine_.store().history(parent).back();
  e.event = "finish";
  e.from_state = "referred";
  e.to_state = "done";
  e.to_status = "closed";
  e.inputs.clear();
  e.changes.clear();
  e.linked_case.clear();
  engine_.store().append(after, record.version, e);
  const int64_t finish_seq = e.seq;
  step(child, "discharge", "sari");
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  REQUIRE(kinds(report) == std::vector<FindingKind>{FindingKind::kStepRefused});
  CHECK(report.findings[0].seq == finish_seq);
  CHECK_THAT(report.findings[0].message, Catch::Contains("child_closed('pmi-care')"));
}

// The same cases in a file, so that a test can edit a row behind the
// engine's back.
struct FileHolder {
  testing::TempDb db{"links"};
};
struct LinkedCasesOnFile : FileHolder, LinkedCases {
  LinkedCasesOnFile() : LinkedCases(db.path()) {}
};

TEST_CASE_METHOD(
    LinkedCasesOnFile,
    "a damaged row of a child's log names the child and the parent whose guards read it",
    "[audit][links]") {
  const auto [parent, child] = handoff();
  step(child, "discharge", "sari");
  step(parent, "finish", "rina");
  const int64_t discharge = engine_.store().history(child).back().seq;
  {
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
    raw.exec("DROP TRIGGER transitions_no_update; DROP TRIGGER transitions_no_delete;");
    raw.exec("UPDATE transitions SET record = '{\"case_id\":\"" + child +
             "\",\"case_seq\":2}' WHERE seq = " + std::to_string(discharge));
  }
  const auto report = audit::verify(engine_.store(), {});
  INFO(described(report));
  // Each case the row kept from being replayed is named with it, the
  // parent (read first, by id or by its place among the cases) as well as
  // the child, whichever was replayed first.
  std::set<std::string> named;
  for (const auto& f : report.findings) {
    if (f.kind != FindingKind::kRecordDamaged) continue;
    CHECK(f.seq == discharge);
    CHECK_THAT(f.message, Catch::StartsWith("log row " + std::to_string(discharge) +
                                            " is not a record sopir writes"));
    CHECK_THAT(f.message, Catch::EndsWith("; case " + f.case_id + " was not replayed"));
    named.insert(f.case_id);
  }
  CHECK(named == std::set<std::string>{parent, child});
  CHECK(report.cases == 0);
}

TEST_CASE_METHOD(LinkedCases, "audit case --with-linked tells the linked cases in time order",
                 "[audit][links]") {
  const auto [parent, child] = handoff();
  step(parent, "remind", "rina", {}, kT3);
  step(child, "discharge", "sari", {}, kT2);  // happened before the reminder, recorded after it
  audit::ExportOptions options;
  options.with_linked = true;
  options.format = audit::Format::kJsonl;
  for (const std::string& from : {parent, child}) {
    std::ostringstream out;
    audit::export_case(engine_.store(), from, options, out);
    std::vector<std::pair<std::string, std::string>> rows;  // (case, event)
    std::vector<std::string> links;
    std::string line;
    std::istringstream in(out.str());
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      rows.emplace_back(j["case_id"], j["event"]);
      links.push_back(j["linked_case"]);
    }
    INFO("from " << from << "\n" << out.str());
    CHECK(rows == std::vector<std::pair<std::string, std::string>>{
                      {parent, "open"}, {parent, "refer"}, {child, "open"}, {child, "discharge"},
                      {parent, "remind"}});
    CHECK(links == std::vector<std::string>{"", child, parent, "", ""});
  }
  std::ostringstream table;
  options.format = audit::Format::kTable;
  audit::export_case(engine_.store(), child, options, table);
  const std::string text = table.str();
  CHECK_THAT(text, Catch::Contains("Case " + child + " and its linked cases (2 cases, 5 steps"));
  CHECK_THAT(text, Catch::Contains("[" + parent + " 2] refer"));
  CHECK_THAT(text, Catch::Contains("link:     opened case " + child));
  CHECK_THAT(text, Catch::Contains("link:     opened by case " + parent));
  CHECK(text.find("[" + child + " 2] discharge") < text.find("[" + parent + " 3] remind"));

  std::ostringstream csv;
  options.format = audit::Format::kCsv;
  audit::export_case(engine_.store(), parent, options, csv);
  const std::string csv_text = csv.str();
  CHECK_THAT(csv_text, Catch::Contains(",linked_case,rule,hash\r\n"));
  CHECK(std::count(csv_text.begin(), csv_text.end(), '\n') == 6);
}

TEST_CASE_METHOD(LinkedCases, "the linked story follows parents up and children down, not siblings",
                 "[audit][links]") {
  const auto [parent, child] = handoff();
  const auto [other, other_child] = handoff();
  audit::ExportOptions options;
  options.with_linked = true;
  options.format = audit::Format::kCsv;
  std::ostringstream out;
  audit::export_case(engine_.store(), child, options, out);
  CHECK_THAT(out.str(), Catch::Contains(parent) && Catch::Contains(child));
  CHECK_THAT(out.str(), !Catch::Contains(other) && !Catch::Contains(other_child));
}

}  // namespace
}  // namespace sopir
