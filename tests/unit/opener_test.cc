// Engine::Opener (case import): the same decisions and errors as
// open_case, with the actor and procedure looked up once per batch.
#include <catch2/catch.hpp>

#include "sopir/engine.h"
#include "test_procedures.h"
#include "test_values.h"

namespace sopir {
namespace {

using Inputs = std::vector<std::pair<std::string, std::string>>;

struct OpenerFixture {
  Engine engine{open_sqlite_store(":memory:", StoreOptions{true})};

  OpenerFixture() {
    engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
    engine.store().add_staff({"tini", "Tini Contoh", {"worker"}, false}, ::sopir::testing::kByAdmin);
    engine.publish_source(testing::kCareYaml, "care.yaml", "admin", false);
  }

  static OpenRequest request(const std::string& sop, const std::string& actor, Inputs inputs = {}) {
    return OpenRequest{sop, actor, std::move(inputs), "", std::nullopt};
  }

  // "kind: message" of what `f` threw; "ok" when it did not throw.
  static std::string outcome(const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(to_string(e.kind())) + ": " + e.message();
    }
    return "ok";
  }

  size_t cases() { return engine.store().cases({}).size(); }
};

TEST_CASE_METHOD(OpenerFixture, "an opener opens cases as open_case does", "[engine][opener]") {
  Engine::Opener opener(engine);
  std::vector<std::string> ids;
  engine.store().transaction([&] {
    for (int i = 0; i < 5; ++i) {
      StepResult r = opener.open(request("test-care", "rina", {{"age", std::to_string(30 + i)}}));
      CHECK(r.after.state == "intake");
      CHECK(r.after.last_seq == 1);
      CHECK(r.entry.kind == LogKind::kOpen);
      CHECK(r.entry.actor == "rina");
      ids.push_back(r.after.id);
    }
  });
  const StepResult single = engine.open_case(request("test-care", "rina", {{"age", "30"}}));
  CHECK(cases() == 6);
  const auto first = *engine.store().find_case(ids[0]);
  CHECK(first.sha256 == single.after.sha256);
  CHECK(first.state == single.after.state);
  // The same deadline, counted from each case's own opening (the engine's
  // clock may tick between the two).
  REQUIRE(first.due_at);
  REQUIRE(single.after.due_at);
  CHECK(first.due_at->seconds - first.opened_at.seconds ==
        single.after.due_at->seconds - single.after.opened_at.seconds);
  CHECK(engine.store().history(ids[0])[0].role == single.entry.role);
}

TEST_CASE_METHOD(OpenerFixture, "an opener refuses and fails exactly as open_case does",
                 "[engine][opener]") {
  const std::vector<OpenRequest> requests = {
      request("test-care", "rina", {{"age", "200"}}),        // out of range
      request("test-care", "rina", {{"risk", "high"}}),      // not accepted when opening
      request("test-care", "rina", {{"agee", "3"}}),         // unknown field
      request("test-care", "rinna"),                         // unknown staff, did you mean
      request("test-care", "tini"),                          // deactivated
      request("test-care", "system"),                        // the timer is not staff
      request("test-care", ""),                              // nobody
      request("test-kare", "rina"),                          // unpublished, did you mean
      request("test-kare", "rinna"),                         // both: the actor is reported
      request("test-care", "rina", {{"age", "31"}}),         // fine
  };
  Engine::Opener opener(engine);
  // Twice through: the second round hits what the opener remembered.
  for (int round = 0; round < 2; ++round) {
    for (const auto& r : requests) {
      INFO("round " << round << ", actor '" << r.actor << "', sop " << r.sop_id);
      const std::string single = outcome([&] { engine.open_case(r); });
      std::string batched;
      engine.store().transaction([&] { batched = outcome([&] { opener.open(r); }); });
      CHECK(batched == single);
      if (&r != &requests.back()) CHECK(single != "ok");
    }
  }
  CHECK(cases() == 4);  // the last request, twice each way
}

TEST_CASE_METHOD(OpenerFixture, "a refused actor does not stick to the next actor",
                 "[engine][opener]") {
  Engine::Opener opener(engine);
  engine.store().transaction([&] {
    CHECK_THROWS_AS(opener.open(request("test-care", "tini")), Error);
    CHECK_NOTHROW(opener.open(request("test-care", "rina")));
    CHECK_THROWS_AS(opener.open(request("test-kare", "rina")), Error);
    CHECK_NOTHROW(opener.open(request("test-care", "rina")));
  });
  CHECK(cases() == 2);
}

}  // namespace
}  // namespace sopir
