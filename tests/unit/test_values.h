// Stored values and database paths for tests (header-only helpers).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "base/sha256.h"
#include "sopir/engine.h"
#include "sopir/store.h"

namespace sopir::testing {

// A clock a test sets by hand: now() is what it was made with or last set
// to (by default the time kByAdmin stamps).
class TestClock : public Clock {
 public:
  explicit TestClock(DateTime at = DateTime{1780000000}) : at_(at) {}
  DateTime now() override { return at_; }
  void set(DateTime at) { at_ = at; }
  void advance(int64_t seconds) { at_.seconds += seconds; }

 private:
  DateTime at_;
};

// A clock that moves on a minute each time it is read, from 2026-03-02
// 08:00 UTC: every step a test takes happens at a time of its own.
class StepClock : public Clock {
 public:
  DateTime now() override { return DateTime{now_.seconds += 60}; }

 private:
  DateTime now_ = *parse_datetime("2026-03-02T08:00:00Z");
};

// Who a test's staff rows are written by: the first administrator, "admin"
// (the first row, admin adding themselves, needs no one before it).
inline const RegistryStamp kByAdmin{"admin", DateTime{1780000000}};

// A step of case `id` by `actor`, with its inputs by name and as text.
inline StepRequest step_request(std::string id, std::string event, std::string actor,
                                std::vector<std::pair<std::string, std::string>> inputs = {}) {
  StepRequest r;
  r.case_id = std::move(id);
  r.event = std::move(event);
  r.actor = std::move(actor);
  r.inputs = std::move(inputs);
  return r;
}

// A non-personal value; an empty text is a missing value.
inline StoredValue plain(std::string field, std::string text) {
  StoredValue v;
  v.field = std::move(field);
  v.missing = text.empty();
  v.text = std::move(text);
  return v;
}

// A personal (pii) value with its salted digest; a random salt unless given.
inline StoredValue personal(std::string field, std::string text, std::string salt = random_hex(16)) {
  StoredValue v;
  v.field = std::move(field);
  v.missing = false;
  v.pii = true;
  v.salt = std::move(salt);
  v.digest = sha256_hex(v.salt + text);
  v.text = std::move(text);
  return v;
}

// A database path in a fresh temporary directory; the file, its -wal and
// -shm files and the directory are removed afterwards.
class TempDb {
 public:
  explicit TempDb(const std::string& name = "test") {
    std::string pattern = "/tmp/sopir-" + name + "-XXXXXX";
    dir_ = mkdtemp(pattern.data());
    path_ = dir_ + "/" + name + ".db";
  }
  ~TempDb() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
    rmdir(dir_.c_str());
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

}  // namespace sopir::testing
