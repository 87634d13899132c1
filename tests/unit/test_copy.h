// What the copy and move tests share (copy_test.cc, move_in_test.cc): a
// test-care case to open, and a database that must verify clean.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "sopir/audit.h"
#include "sopir/engine.h"

namespace sopir::testing {

// Opening a test-care case for `who` with a made-up name.
inline OpenRequest care_case(const std::string& who, const std::string& full_name) {
  OpenRequest r;
  r.sop_id = "test-care";
  r.actor = who;
  r.inputs = {{"full_name", full_name}};
  return r;
}

// Verify finds nothing (each finding shown when it does).
inline void require_clean(Store& store) {
  const audit::VerifyReport report = audit::verify(store, audit::VerifyOptions{});
  for (const auto& f : report.findings) UNSCOPED_INFO(audit::to_string(f.kind) << ": " << f.message);
  REQUIRE(report.clean());
}

}  // namespace sopir::testing
