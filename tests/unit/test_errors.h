// The kind of sopir::Error a call throws, for tests of refusals.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include "sopir/error.h"

namespace sopir::testing {

// The kind of the Error `body` throws; fails the test when it throws none.
inline ErrorKind kind_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no sopir::Error thrown");
  return ErrorKind::kUsage;
}

// The message of the Error `body` throws; fails the test when it throws none.
inline std::string message_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.message();
  }
  FAIL("no sopir::Error thrown");
  return "";
}

}  // namespace sopir::testing
