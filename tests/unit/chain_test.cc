// The hash chain: log kind names, the record (log_record) and chain_hash.
#include <catch2/catch.hpp>

#include <functional>

#include "base/sha256.h"
#include "sopir/store.h"
#include "test_values.h"

using namespace sopir;
using testing::personal;
using testing::plain;

namespace {

LogEntry sample() {
  LogEntry e;
  e.case_id = "K7F-3QX";
  e.case_seq = 2;
  e.sha256 = std::string(64, 'a');
  e.kind = LogKind::kProcedure;
  e.event = "screen";
  e.from_state = "registered";
  e.to_state = "screened";
  e.from_status = "active";
  e.to_status = "active";
  e.actor = "dewi";
  e.role = "social_worker";
  e.occurred_at = DateTime{1790000000};
  e.recorded_at = DateTime{1790000100};
  e.note = "paper form";
  e.inputs = {{"category", "overstay"}, {"arrival", "2026-03-01"}};
  e.changes = {{plain("category", ""), plain("category", "overstay")},
               {personal("name", "", "00"), personal("name", "Sari Wulandari", "0a0b")}};
  e.changes[1].before.missing = true;
  e.due_at = DateTime{1790086400};
  return e;
}

}  // namespace

TEST_CASE("log kinds round-trip through their names") {
  for (LogKind kind : {LogKind::kOpen, LogKind::kProcedure, LogKind::kOverride, LogKind::kLifecycle,
                       LogKind::kTimer}) {
    REQUIRE(log_kind_from_string(to_string(kind)) == kind);
  }
  CHECK(std::string(to_string(LogKind::kLifecycle)) == "lifecycle");
  CHECK_FALSE(log_kind_from_string("Open"));
  CHECK_FALSE(log_kind_from_string(""));
}

TEST_CASE("the record is one JSON object with keys in a fixed order") {
  LogEntry e;
  e.case_id = "C1";
  e.case_seq = 1;
  e.sha256 = "ab";
  e.kind = LogKind::kOpen;
  e.event = "open";
  e.to_state = "new";
  e.to_status = "active";
  e.actor = "ana";
  e.occurred_at = DateTime{10};
  e.recorded_at = DateTime{11};
  e.note = "line 1\n\"quoted\"";
  e.inputs = {{"k", "v"}};
  e.changes = {{plain("f", ""), plain("f", "x")}};
  e.linked_case = "P9";
  // The worked example of docs/SCHEMA.md, byte for byte.
  CHECK(log_record(e) ==
        R"({"case_id":"C1","case_seq":1,"sha256":"ab","kind":"open","event":"open",)"
        R"("from_state":"","to_state":"new","from_status":"","to_status":"active","actor":"ana",)"
        R"("role":"","occurred_at":10,"recorded_at":11,"note":"line 1\n\"quoted\"","reason":"",)"
        R"("inputs":[["k","v"]],)"
        R"("changes":[{"before":{"field":"f","missing":true,"text":""},)"
        R"("after":{"field":"f","missing":false,"text":"x"}}],)"
        R"("due_at":null,"linked_case":"P9"})");
  e.due_at = DateTime{12};
  CHECK(log_record(e).find(R"("due_at":12,"linked_case":"P9"})") != std::string::npos);
}

TEST_CASE("the record leaves out seq, prev_hash and hash") {
  LogEntry a = sample();
  LogEntry b = a;
  b.seq = 99;
  b.prev_hash = "ff";
  b.hash = "ee";
  CHECK(log_record(a) == log_record(b));
}

TEST_CASE("every other field changes the record") {
  const std::string base = log_record(sample());
  std::vector<std::function<void(LogEntry&)>> edits = {
      [](LogEntry& e) { e.case_id += "x"; },
      [](LogEntry& e) { e.case_seq++; },
      [](LogEntry& e) { e.sha256[0] = 'b'; },
      [](LogEntry& e) { e.kind = LogKind::kOverride; },
      [](LogEntry& e) { e.event = "screen2"; },
      [](LogEntry& e) { e.from_state = "x"; },
      [](LogEntry& e) { e.to_state = "x"; },
      [](LogEntry& e) { e.from_status = "on_hold"; },
      [](LogEntry& e) { e.to_status = "closed"; },
      [](LogEntry& e) { e.actor = "budi"; },
      [](LogEntry& e) { e.role = "supervisor"; },
      [](LogEntry& e) { e.occurred_at.seconds++; },
      [](LogEntry& e) { e.recorded_at.seconds++; },
      [](LogEntry& e) { e.note += "."; },
      [](LogEntry& e) { e.reason = "r"; },
      [](LogEntry& e) { e.inputs.pop_back(); },
      [](LogEntry& e) { e.inputs[0].second = "drugs"; },
      [](LogEntry& e) { e.changes.pop_back(); },
      [](LogEntry& e) { e.changes[0].after.text = "drugs"; },
      [](LogEntry& e) { e.changes[1].after.digest[0] ^= 1; },
      [](LogEntry& e) { e.changes[1].after.salt = "ff"; },
      [](LogEntry& e) { e.changes[0].before.missing = false; },
      [](LogEntry& e) { e.due_at.reset(); },
      [](LogEntry& e) { e.due_at->seconds++; },
      [](LogEntry& e) { e.linked_case = "K7F-3QY"; },
      [](LogEntry& e) { e.inputs[0].first = "categori"; },
      [](LogEntry& e) { e.changes[1].after.pii = false; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    LogEntry e = sample();
    edits[i](e);
    INFO("edit " << i);
    CHECK(log_record(e) != base);
  }
}

TEST_CASE("field boundaries cannot be shifted") {
  LogEntry a = sample(), b = sample();
  a.note = "ab";
  a.reason = "c";
  b.note = "a";
  b.reason = "bc";
  CHECK(log_record(a) != log_record(b));
}

TEST_CASE("personal text never enters the record") {
  LogEntry a = sample();
  LogEntry erased = a;
  erased.changes[1].after.text.clear();
  erased.changes[1].after.erased = true;
  CHECK(log_record(a) == log_record(erased));
  CHECK(log_record(a).find(R"({"field":"name","missing":false,"pii":true,"salt":"0a0b","digest":")") !=
        std::string::npos);
  CHECK(log_record(a).find("Sari") == std::string::npos);
}

TEST_CASE("chain_hash is SHA-256 of prev_hash then the record") {
  const LogEntry e = sample();
  CHECK(chain_hash("", e) == sha256_hex(log_record(e)));
  const std::string prev = std::string(64, '1');
  CHECK(chain_hash(prev, e) == sha256_hex(prev + log_record(e)));
  CHECK(chain_hash(prev, e) != chain_hash("", e));
  CHECK(chain_hash("", e).size() == 64);
}
