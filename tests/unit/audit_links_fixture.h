// A parent and a child procedure joined by a hand-off, and a fixture that
// runs them through the Engine on a fixed clock (audit_links_test.cc).
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <utility>

#include "sopir/engine.h"
#include "test_values.h"

namespace sopir {

// The hand-off pair in tests/data (tests/data/README.md): pmi-intake's
// `refer` opens a pmi-care case.
inline std::string test_data(const std::string& name) {
  return std::string(SOPIR_SOURCE_DIR) + "/tests/data/" + name;
}

inline const DateTime kT0{1772323200};  // 2026-03-01T00:00:00Z
inline const DateTime kT1{kT0.seconds + 86400};
inline const DateTime kT2{kT0.seconds + 2 * 86400};
inline const DateTime kT3{kT0.seconds + 3 * 86400};

// Staff: admin, rina (worker), sari (carer); both procedures published.
inline void set_up_linked(Engine& engine) {
  engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"rina", "Rina", {"worker"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"sari", "Sari", {"carer"}, true}, ::sopir::testing::kByAdmin);
  engine.publish(test_data("pmi-care.yaml"), "admin");
  engine.publish(test_data("pmi-intake.yaml"), "admin");
}

class LinkedCases {
 protected:
  explicit LinkedCases(const std::string& location = ":memory:")
      : engine_(open_sqlite_store(location, StoreOptions{true}),
                std::make_shared<testing::TestClock>(DateTime{kT0.seconds + 9 * 86400})) {
    set_up_linked(engine_);
  }

  StepResult step(const std::string& id, const std::string& event, const std::string& actor,
                  std::vector<std::pair<std::string, std::string>> inputs = {},
                  std::optional<DateTime> at = std::nullopt) {
    StepRequest r;
    r.case_id = id;
    r.event = event;
    r.actor = actor;
    r.inputs = std::move(inputs);
    r.at = at;
    return engine_.advance(r);
  }

  // Opens an intake case at kT0 and refers it at kT1: (parent, child).
  std::pair<std::string, std::string> handoff() {
    const std::string parent =
        engine_.open_case({"pmi-intake", "rina", {{"full_name", "Wati Contoh"}}, "", kT0}).after.id;
    StepResult referred = step(parent, "refer", "rina", {{"age", "27"}}, kT1);
    REQUIRE(referred.opened.size() == 1);
    return {parent, referred.opened[0].record.id};
  }

  Engine engine_;
};

}  // namespace sopir
