// Hand-offs between procedures: a step that opens a case in another
// procedure, in the same transaction, checked when publishing.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sopir/engine.h"
#include "test_values.h"

namespace sopir {
namespace {

// The hand-off pair in tests/data (tests/data/README.md), as text.
std::string data_file(const std::string& name) {
  std::ifstream in(std::string(SOPIR_SOURCE_DIR) + "/tests/data/" + name);
  if (!in) throw std::runtime_error("cannot read tests/data/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kParent = data_file("pmi-intake.yaml");
const std::string kChild = data_file("pmi-care.yaml");

class HandoffFixture {
 protected:
  HandoffFixture() : engine_(open_sqlite_store(":memory:", StoreOptions{true})) {
    engine_.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"rina", "Rina", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine_.store().add_staff({"sari", "Sari", {"carer"}, true}, ::sopir::testing::kByAdmin);
  }

  StepResult step(const std::string& id, const std::string& event, const std::string& actor,
                  std::vector<std::pair<std::string, std::string>> inputs = {}) {
    return engine_.advance(testing::step_request(id, event, actor, std::move(inputs)));
  }

  Engine engine_;
};

TEST_CASE_METHOD(HandoffFixture, "publishing refuses a hand-off to an unpublished procedure",
                 "[handoff]") {
  try {
    engine_.publish_source(kParent, "parent.yaml", "admin");
    FAIL("expected a refusal");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kRefused);
    CHECK_THAT(e.message(), Catch::Contains("parent.yaml:14:6:"));
    CHECK_THAT(e.message(), Catch::Contains("hand-off to 'pmi-care', which is not published"));
  }
  CHECK(engine_.store().procedures().empty());
}

TEST_CASE_METHOD(HandoffFixture, "publishing checks copied fields against the target",
                 "[handoff]") {
  std::string child = kChild;
  child.replace(child.find("age: {type: int}"), 16, "age: {type: string}");
  engine_.publish_source(child, "child.yaml", "admin");
  CHECK_THROWS_WITH(engine_.publish_source(kParent, "parent.yaml", "admin"),
                    Catch::Contains("cannot copy age (int) into pmi-care.age (string)"));
}

TEST_CASE_METHOD(HandoffFixture, "a loop of hand-offs is refused", "[handoff]") {
  engine_.publish_source(kChild, "child.yaml", "admin");
  engine_.publish_source(kParent, "parent.yaml", "admin");
  // A new child version that hands back to the parent would open cases forever.
  std::string looping = kChild;
  looping.replace(looping.find("version: 1"), 10, "version: 2");
  const std::string discharge =
      "  - {event: discharge, from: admitted, to: discharged, roles: [carer]}";
  looping.replace(looping.find(discharge), discharge.size(),
                  "  - {event: discharge, from: admitted, to: discharged, roles: [carer],\n"
                  "     opens: {sop: pmi-intake, copy: [full_name, age]}}");
  CHECK_THROWS_WITH(engine_.publish_source(looping, "child-v2.yaml", "admin"),
                    Catch::Contains("loop that would open cases forever: pmi-care -> "
                                    "pmi-intake -> pmi-care"));
}

TEST_CASE_METHOD(HandoffFixture, "a hand-off opens the linked case in the same step",
                 "[handoff]") {
  engine_.publish_source(kChild, "child.yaml", "admin");
  engine_.publish_source(kParent, "parent.yaml", "admin");
  const std::string parent =
      engine_.open_case({"pmi-intake", "rina", {{"full_name", "Wati Contoh"}}, "", {}}).after.id;
  StepResult result = step(parent, "refer", "rina", {{"age", "27"}});
  REQUIRE(result.opened.size() == 1);
  const CaseRecord& child = result.opened[0].record;
  CHECK(child.sop_id == "pmi-care");
  CHECK(child.parent_case == parent);
  CHECK(result.entry.linked_case == child.id);
  CHECK(result.opened[0].entry.linked_case == parent);
  CHECK(result.opened[0].entry.role == "hand-off");
  auto stored = engine_.store().find_case(child.id);
  REQUIRE(stored);
  auto data = Engine::decode_data(*engine_.current_procedure("pmi-care"), *stored);
  CHECK(std::get<std::string>(data[0]) == "Wati Contoh");
  CHECK(std::get<int64_t>(data[1]) == 27);
  CHECK(std::get<std::string>(data[2]) == "intake");

  // The parent waits for the child: child_closed() is false until it closes.
  CHECK_THROWS_WITH(step(parent, "finish", "rina"), Catch::Contains("child_closed('pmi-care')"));
  step(child.id, "discharge", "sari");
  CHECK(step(parent, "finish", "rina").after.state == "done");

  CaseView view = engine_.view(parent, "rina");
  REQUIRE(view.linked.size() == 1);
  CHECK(view.linked[0].id == child.id);
}

TEST_CASE_METHOD(HandoffFixture, "a refused hand-off writes neither case", "[handoff]") {
  engine_.publish_source(kChild, "child.yaml", "admin");
  engine_.publish_source(kParent, "parent.yaml", "admin");
  // No full_name on the parent: the child's open: requires it.
  const std::string parent = engine_.open_case({"pmi-intake", "rina", {}, "", {}}).after.id;
  const auto head = engine_.store().chain_head();
  try {
    step(parent, "refer", "rina", {{"age", "27"}});
    FAIL("expected a refusal");
  } catch (const RefusedError& e) {
    CHECK(e.refusal_kind() == RefusalKind::kMissingField);
    CHECK_THAT(e.message(), Catch::Contains("the hand-off to 'pmi-care' was refused"));
    CHECK_THAT(e.message(), Catch::Contains("full_name"));
  }
  CHECK(engine_.store().chain_head() == head);
  CHECK(engine_.store().find_case(parent)->state == "screening");
  CaseFilter all;
  CHECK(engine_.store().cases(all).size() == 1);
}

}  // namespace
}  // namespace sopir
