// The HTCDS export (audit/htcds_export.cc) and the `standards:` checker
// (lang/standards.cc), held against the standard's field list as the data
// file writes it: this test reads engine/data/htcds-2.0.fields with its own
// few lines, not through the engine, so a mistake in the engine's reading
// shows here. Every column of an export must be an HTCDS field and every
// value of a coded column one of its codes.
#include <catch2/catch.hpp>

#include <dirent.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "audit_links_fixture.h"
#include "sopir/audit.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "test_backends.h"

namespace sopir {
namespace {

using json = nlohmann::json;

// The data file: field name -> (type, codes); "@iso3166"-style code lists kept as one code.
struct Facts {
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> fields;
  std::string version;
};

const Facts& facts() {
  static const Facts f = [] {
    Facts out;
    std::ifstream in(std::string(SOPIR_SOURCE_DIR) + "/engine/data/htcds-2.0.fields");
    for (std::string line; std::getline(in, line);) {
      std::istringstream words(line);
      std::vector<std::string> w;
      for (std::string x; words >> x;) w.push_back(x);
      if (w.empty() || w[0][0] == '#' || w[0] == "section") continue;
      if (w[0] == "standard") {
        out.version = w[2];
        continue;
      }
      out.fields[w[0]] = {w[1], std::vector<std::string>(w.begin() + 4, w.end())};
    }
    return out;
  }();
  return f;
}

bool in_value_set(const std::string& field, const std::string& code) {
  const auto& codes = facts().fields.at(field).second;
  if (codes.size() == 1 && codes[0] == "@iso3166") return std::regex_match(code, std::regex("[A-Z]{2}"));
  if (codes.size() == 1 && codes[0] == "@iso639") return std::regex_match(code, std::regex("[a-z]{2,3}"));
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}
bool coded(const std::string& field) { return !facts().fields.at(field).second.empty(); }

std::vector<std::string> split(const std::string& text, char by) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, by)) out.push_back(part);
  if (!text.empty() && text.back() == by) out.push_back("");
  return out;
}

// A CSV without quoted fields (the test data has none): rows of cells.
std::vector<std::vector<std::string>> csv_rows(std::string text) {
  REQUIRE(text.rfind("\xEF\xBB\xBF", 0) == 0);
  text.erase(0, 3);
  std::vector<std::vector<std::string>> rows;
  for (const auto& line : split(text, '\n')) {
    if (line.empty()) continue;
    REQUIRE(line.back() == '\r');
    rows.push_back(split(line.substr(0, line.size() - 1), ','));
  }
  return rows;
}

// Every column an HTCDS field, every coded value in its value set.
void check_against_standard(const std::vector<std::vector<std::string>>& rows) {
  REQUIRE(!rows.empty());
  const auto& header = rows[0];
  for (const auto& column : header) {
    INFO("column " << column);
    REQUIRE(facts().fields.count(column) == 1);
  }
  for (size_t r = 1; r < rows.size(); ++r) {
    REQUIRE(rows[r].size() == header.size());
    for (size_t c = 0; c < header.size(); ++c) {
      if (!coded(header[c]) || rows[r][c].empty() || rows[r][c] == "***") continue;
      for (const auto& code : split(rows[r][c], ';')) {
        INFO(header[c] << " = " << rows[r][c]);
        if (!code.empty()) CHECK(in_value_set(header[c], code));
      }
    }
  }
}

void check_against_standard(const json& doc) {
  CHECK(doc.at("standard") == "HTCDS");
  CHECK(doc.at("version") == facts().version);
  for (const auto& record : doc.at("records")) {
    for (const auto& [column, value] : record.items()) {
      INFO("column " << column);
      REQUIRE(facts().fields.count(column) == 1);
      if (!coded(column) || value.is_null() || value == "***") continue;
      for (const auto& code : value.is_array() ? value : json::array({value})) {
        INFO(column << " = " << value.dump());
        if (!code.is_null()) CHECK(in_value_set(column, code.get<std::string>()));
      }
    }
  }
}

std::string column(const std::vector<std::vector<std::string>>& rows, size_t row, const std::string& name) {
  const auto& header = rows[0];
  const auto it = std::find(header.begin(), header.end(), name);
  REQUIRE(it != header.end());
  return rows[row][static_cast<size_t>(it - header.begin())];
}

std::string htcds_data(const std::string& name) { return test_data("htcds/" + name); }

class HtcdsCases : public LinkedCases {
 protected:
  HtcdsCases() {
    engine_.store().add_staff({"budi", "Budi", {"case_worker"}, true}, testing::kByAdmin);
    engine_.store().add_staff({"siti", "Siti", {"supervisor"}, true}, testing::kByAdmin);
    engine_.publish(htcds_data("referral.yaml"), "admin");
    engine_.publish(htcds_data("case.yaml"), "admin");
    engine_.publish(htcds_data("plain.yaml"), "admin");
    // A confirmed adult with every coded field, referred twice, in follow-up.
    first_ = engine_.open_case({"htcds-case", "budi",
                                {{"name", "Wulan Contoh"}, {"gender", "f"}, {"born_on", "1998-04-02"},
                                 {"children", "2"}, {"status", "confirmed"}, {"decided_by", "police"},
                                 {"forms", "forced_criminality, organ_removal, forced_labour"},
                                 {"control", "debt, documents"}, {"recruited", "online"},
                                 {"citizenship", "indonesian"}, {"consent", "true"}},
                                "", kT0})
                 .after.id;
    step(first_, "refer", "budi", {{"service", "health"}, {"org", "RS Contoh"}}, kT1);
    const std::string second = step(first_, "refer", "budi", {{"service", "legal"}, {"org", "LBH Contoh"}}, kT2)
                                   .opened.at(0).record.id;
    step(second, "accept", "budi", {{"contact", "Pak Rudi"}}, kT3);
    step(first_, "follow", "budi", {}, kT3);
    // A possible victim, handed over; a third closed as transferred by the lifecycle.
    const std::string handed =
        engine_.open_case({"htcds-case", "budi", {{"status", "possible"}, {"gender", "x"}}, "", kT1}).after.id;
    step(handed, "hand_over", "siti", {}, kT2);
    const std::string closed = engine_.open_case({"htcds-case", "budi", {{"status", "not_victim"}}, "", kT2}).after.id;
    engine_.lifecycle({closed, LifecycleEvent::kClose, "siti", "transferred", "", kT3});
  }

  std::string run(audit::FileFormat format, const audit::RevealAccess* reveal = nullptr) {
    audit::HtcdsOptions options;
    options.format = format;
    options.sop_id = "htcds-case";
    options.reveal = reveal;
    std::ostringstream out;
    CHECK(audit::export_htcds(engine_.store(), options, out) == 3);
    return out.str();
  }

  std::string first_;
};

}  // namespace

TEST_CASE_METHOD(HtcdsCases, "the HTCDS export's columns and codes are the standard's", "[htcds]") {
  const auto rows = csv_rows(run(audit::FileFormat::kCsv));
  check_against_standard(rows);
  REQUIRE(rows.size() == 4);  // the header and three cases, oldest first
  CHECK(rows[0] == std::vector<std::string>{
                       "prs_FirstName", "prs_Birthdate", "prs_Gender", "prs_NumberOfChildren", "prs_Citizenship",
                       "vic_TraffickingStatus", "vic_TraffickingStatusDecisionMakingOrg", "vic_MethodOfRecruitment",
                       "vic_MethodsOfControl", "vic_TypeOfExploitation", "cas_Status", "cas_ReasonForCaseClosure",
                       "cas_ReferredOrganisation", "cas_ReferredPrimaryCaseWorker", "cas_ReasonForOutgoingReferral",
                       "cas_OutgoingReferralDate", "con_Consent"});
  CHECK(column(rows, 1, "prs_FirstName") == "***");
  CHECK(column(rows, 1, "prs_Gender") == "Feminine");
  CHECK(column(rows, 1, "prs_Birthdate") == "1998-04-02");
  CHECK(column(rows, 1, "prs_Citizenship") == "ID");
  CHECK(column(rows, 1, "vic_TraffickingStatus") == "ActualVictimOfTrafficking");
  CHECK(column(rows, 1, "vic_TypeOfExploitation") == "ForcedLabour;Other;OrganRemoval");
  CHECK(column(rows, 1, "vic_MethodsOfControl") == "DebtBondage;WithholdsDocuments");
  CHECK(column(rows, 1, "cas_Status") == "FollowUp");
  CHECK(column(rows, 1, "cas_ReasonForCaseClosure") == "");
  CHECK(column(rows, 1, "cas_ReferredOrganisation") == "RS Contoh;LBH Contoh");
  CHECK(column(rows, 1, "cas_ReasonForOutgoingReferral") == "AdditionalServicesRequired;Other");
  CHECK(column(rows, 1, "cas_ReferredPrimaryCaseWorker") == ";***");
  CHECK(column(rows, 1, "cas_OutgoingReferralDate") == "2026-03-02;2026-03-03");
  CHECK(column(rows, 1, "con_Consent") == "TRUE");
  CHECK(column(rows, 2, "prs_Gender") == "");  // x: no code
  CHECK(column(rows, 2, "cas_Status") == "ClosedReferred");
  CHECK(column(rows, 2, "cas_ReasonForCaseClosure") == "referred");
  CHECK(column(rows, 3, "cas_Status") == "ClosedReferred");
  CHECK(column(rows, 3, "cas_ReasonForCaseClosure") == "transferred");
  CHECK(column(rows, 3, "vic_TraffickingStatus") == "NotAVictimOfTrafficking");
}

TEST_CASE_METHOD(HtcdsCases, "the HTCDS export as JSON holds the same records", "[htcds]") {
  const json doc = json::parse(run(audit::FileFormat::kJson));
  check_against_standard(doc);
  CHECK(doc.at("procedure") == "htcds-case");
  const json& first = doc.at("records").at(0);
  CHECK(first.at("vic_TypeOfExploitation") == json::array({"ForcedLabour", "Other", "OrganRemoval"}));
  CHECK(first.at("con_Consent") == true);
  CHECK(first.at("prs_NumberOfChildren") == 2);
  CHECK(first.at("prs_FirstName") == "***");
  CHECK(first.at("cas_ReferredPrimaryCaseWorker") == json::array({nullptr, "***"}));
  CHECK(doc.at("records").at(2).at("con_Consent").is_null());
}

TEST_CASE_METHOD(HtcdsCases, "the HTCDS export reveals personal values to an allowed role only", "[htcds]") {
  audit::RevealAccess reveal{Actor{"siti", {"supervisor"}, {"main"}}, &engine_.store(), kT3, "test",
                             "monthly report"};
  const auto rows = csv_rows(run(audit::FileFormat::kCsv, &reveal));
  CHECK(column(rows, 1, "prs_FirstName") == "Wulan Contoh");
  CHECK(column(rows, 1, "cas_ReferredPrimaryCaseWorker") == ";Pak Rudi");
  audit::RevealAccess refused{Actor{"budi", {"case_worker"}, {"main"}}, &engine_.store(), kT3,
                              "test", "monthly report"};
  audit::HtcdsOptions options;
  options.sop_id = "htcds-case";
  options.reveal = &refused;
  std::ostringstream out;
  CHECK_THROWS_WITH(audit::export_htcds(engine_.store(), options, out),
                    Catch::Contains("pii_visible_to"));
  CHECK(out.str().empty());
}

TEST_CASE_METHOD(HtcdsCases,
                 "the HTCDS export of more cases than a part lists each once, oldest first",
                 "[htcds]") {
  // More cases than one part read (Engine::kCasesPerRead), each later id
  // opened earlier and two to a second: the export's order (opened_at, then
  // id) is not the parts' (id).
  struct Opened {
    int64_t at;
    std::string id, name;
  };
  std::vector<Opened> opened;
  const int n = static_cast<int>(Engine::kCasesPerRead) + 3;
  for (int i = 0; i < n; ++i) {
    const std::string name = "Contoh " + std::to_string(1000 + i);
    const DateTime at{kT3.seconds + 3600 + (n - i) / 2};
    opened.push_back(
        {at.seconds,
         engine_.open_case({"htcds-case", "budi", {{"name", name}, {"status", "possible"}}, "", at})
             .after.id,
         name});
  }
  std::sort(opened.begin(), opened.end(), [](const Opened& a, const Opened& b) {
    return a.at != b.at ? a.at < b.at : a.id < b.id;
  });
  std::vector<std::string> expected = {"Wulan Contoh", "",
                                       ""};  // the fixture's three, opened before
  for (const Opened& o : opened) expected.push_back(o.name);

  audit::RevealAccess reveal{Actor{"siti", {"supervisor"}, {"main"}}, &engine_.store(), kT3, "test",
                             "monthly report"};
  audit::HtcdsOptions options;
  options.sop_id = "htcds-case";
  options.reveal = &reveal;
  std::ostringstream csv;
  CHECK(audit::export_htcds(engine_.store(), options, csv) == n + 3);
  const auto rows = csv_rows(csv.str());
  check_against_standard(rows);
  REQUIRE(rows.size() == expected.size() + 1);
  for (size_t r = 1; r < rows.size(); ++r) {
    INFO("row " << r);
    CHECK(column(rows, r, "prs_FirstName") == expected[r - 1]);
  }
  // Every revealed case recorded once: the n, the fixture's named case and
  // its referral track that names a contact.
  const std::vector<AccessRecord> views = engine_.store().access_records({});
  CHECK(views.size() == static_cast<size_t>(n + 2));
  // ... in the export's order.
  std::vector<std::string> viewed, in_order;
  for (const Opened& o : opened) in_order.push_back(o.id);
  const std::set<std::string> ours(in_order.begin(), in_order.end());
  for (const AccessRecord& v : views)
    if (ours.count(v.case_id)) viewed.push_back(v.case_id);
  CHECK(viewed == in_order);
  CHECK(views.front().case_id == first_);  // the fixture's, opened first

  options.format = audit::FileFormat::kJson;
  options.reveal = nullptr;
  std::ostringstream out;
  CHECK(audit::export_htcds(engine_.store(), options, out) == n + 3);
  const json doc = json::parse(out.str());  // the records written one by one make one document
  check_against_standard(doc);
  REQUIRE(doc.at("records").size() == expected.size());
  for (size_t r = 0; r < expected.size(); ++r) {
    INFO("record " << r);
    CHECK(doc.at("records").at(r).at("prs_FirstName") ==
          (expected[r].empty() ? json() : json("***")));
  }
  // As json::dump(2) writes the whole document, in the standard's order.
  CHECK(out.str() == nlohmann::ordered_json::parse(out.str()).dump(2) + "\n");
}

TEST_CASE_METHOD(LinkedCases,
                 "an HTCDS export of a procedure without cases is its header or an empty list",
                 "[htcds]") {
  engine_.publish(htcds_data("referral.yaml"), "admin");
  engine_.publish(htcds_data("case.yaml"), "admin");
  audit::HtcdsOptions options;
  options.sop_id = "htcds-case";
  std::ostringstream csv;
  CHECK(audit::export_htcds(engine_.store(), options, csv) == 0);
  const auto rows = csv_rows(csv.str());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].front() == "prs_FirstName");
  options.format = audit::FileFormat::kJson;
  std::ostringstream out;
  CHECK(audit::export_htcds(engine_.store(), options, out) == 0);
  const nlohmann::ordered_json doc = nlohmann::ordered_json::parse(out.str());
  CHECK(doc.at("records").is_array());
  CHECK(doc.at("records").empty());
  CHECK(out.str() == doc.dump(2) + "\n");
}

TEST_CASE_METHOD(HtcdsCases, "an HTCDS export of an unknown or unmapped procedure writes nothing", "[htcds]") {
  audit::HtcdsOptions options;
  std::ostringstream out;
  options.sop_id = "htcds-cas";
  try {
    audit::export_htcds(engine_.store(), options, out);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kNotFound);
    CHECK(std::string(e.what()) == "no procedure 'htcds-cas' is published; did you mean 'htcds-case'?");
  }
  options.sop_id = "htcds-plain";
  try {
    audit::export_htcds(engine_.store(), options, out);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kUsage);
    CHECK(std::string(e.what()).rfind("procedure 'htcds-plain' has no HTCDS mapping; add a 'standards: htcds:' block", 0) == 0);
  }
  CHECK(out.str().empty());
  // Without a procedure named: the one whose mapping fills case records (not
  // the referral track's).
  options.sop_id.reset();
  CHECK(audit::export_htcds(engine_.store(), options, out) == 3);
  CHECK_THROWS_WITH(audit::parse_file_format("xml"), "output format 'xml' is not known; use csv or json");
  CHECK_THROWS_WITH(audit::check_export_standard("ctdc"), "format 'ctdc' is not known for audit export; use htcds");
}

// The shipped procedures' mappings, read by the loader, against the data
// file as this test reads it.
TEST_CASE("the shipped HTCDS mappings name the standard's fields and codes", "[htcds]") {
  const std::string dir = std::string(SOPIR_SOURCE_DIR) + "/workflows/";
  int mapped = 0;
  for (const char* name : {"tppo-victim-care.yaml", "pmi-debarkation.yaml", "referral.yaml", "transfer.yaml"}) {
    const LoadResult result = load_procedure_file(dir + name, LoadOptions{true});
    INFO(name << "\n" << format_diagnostics(result.diagnostics));
    REQUIRE(result.ok());
    const StandardMapping* m = result.procedure->standard("htcds");
    REQUIRE(m != nullptr);
    ++mapped;
    for (const auto& f : m->fields) {
      INFO(f.target);
      REQUIRE(facts().fields.count(f.target) == 1);
      for (const auto& [ours, code] : f.codes)
        if (!code.empty()) CHECK(in_value_set(f.target, code));
    }
    for (const auto& [state, code] : m->state_status) CHECK(in_value_set("cas_Status", code));
    for (const auto& [reason, code] : m->closure_status) CHECK(in_value_set("cas_Status", code));
  }
  CHECK(mapped == 4);
}

TEST_CASE("the broken corpus covers every code of the standards checker", "[htcds][broken]") {
  std::set<std::string> seen;
  for (const char* name : {"htcds_errors", "htcds_lint"}) {
    std::ifstream in(std::string(SOPIR_SOURCE_DIR) + "/tests/broken/" + name + ".yaml");
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& d : load_procedure_string(text.str(), name).diagnostics) seen.insert(d.code);
  }
  for (const char* code : {"unknown-standard-field", "bad-standard-field", "bad-standard-code", "unknown-field",
                           "unknown-state", "unknown-closure-reason", "unknown-track", "unknown-key",
                           "bad-enum-value", "standard-unmapped"}) {
    INFO("code " << code);
    CHECK(seen.count(code) == 1);
  }
}

}  // namespace sopir
