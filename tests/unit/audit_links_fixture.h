// A parent and a child procedure joined by a hand-off, and a fixture that
// runs them through the Engine on a fixed clock (audit_links_test.cc).
#pragma once

#include <catch2/catch.hpp>
#include <utility>

#include "sopir/engine.h"

namespace sopir {

// Intake of a returning migrant worker; `refer` opens a care case.
inline const char* kIntakeSop = R"yaml(sop: pmi-intake
version: 1
title: Intake
roles: [worker]
fields:
  full_name: {type: string, pii: true}
  age: {type: int}
states:
  screening: {initial: true}
  referred: {}
  done: {terminal: true}
transitions:
  - {event: refer, from: screening, to: referred, roles: [worker], requires: [age],
     opens: {sop: pmi-care, copy: [full_name, age], set: {source: intake}}}
  - {event: remind, from: referred, to: referred, roles: [worker], when: "not child_closed('pmi-care')"}
  - {event: finish, from: referred, to: done, roles: [worker], when: "child_closed('pmi-care')"}
)yaml";

inline const char* kCareSop = R"yaml(sop: pmi-care
version: 1
title: Care
roles: [carer]
fields:
  full_name: {type: string, pii: true}
  age: {type: int}
  source: {type: enum, values: [intake, police]}
states:
  admitted: {initial: true}
  discharged: {terminal: true}
transitions:
  - {event: discharge, from: admitted, to: discharged, roles: [carer]}
open:
  requires: [full_name, source]
  accepts: [age]
)yaml";

inline const DateTime kT0{1772323200};  // 2026-03-01T00:00:00Z
inline const DateTime kT1{kT0.seconds + 86400};
inline const DateTime kT2{kT0.seconds + 2 * 86400};
inline const DateTime kT3{kT0.seconds + 3 * 86400};

class FixedClock : public Clock {
 public:
  DateTime now() override { return DateTime{kT0.seconds + 9 * 86400}; }
};

// Staff: admin, rina (worker), sari (carer); both procedures published.
inline void set_up_linked(Engine& engine) {
  engine.store().add_staff({"admin", "Admin", {"admin"}, true});
  engine.store().add_staff({"rina", "Rina", {"worker"}, true});
  engine.store().add_staff({"sari", "Sari", {"carer"}, true});
  engine.publish_source(kCareSop, "pmi-care.yaml", "admin");
  engine.publish_source(kIntakeSop, "pmi-intake.yaml", "admin");
}

class LinkedCases {
 protected:
  LinkedCases() : engine_(open_sqlite_store(":memory:", StoreOptions{true}), std::make_shared<FixedClock>()) {
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
    REQUIRE(referred.opened);
    return {parent, referred.opened->record.id};
  }

  Engine engine_;
};

}  // namespace sopir
