// The hash chain: log kind names, the canonical encoding and chain_hash.
#include <catch2/catch.hpp>

#include <functional>

#include "sha256.h"
#include "sopir/store.h"

using namespace sopir;

namespace {

StoredValue plain(std::string field, std::string text) {
  StoredValue v;
  v.field = std::move(field);
  v.missing = text.empty();
  v.text = std::move(text);
  return v;
}

StoredValue personal(std::string field, std::string text, std::string salt) {
  StoredValue v;
  v.field = std::move(field);
  v.missing = false;
  v.pii = true;
  v.salt = std::move(salt);
  v.digest = sha256_hex(v.salt + text);
  v.text = std::move(text);
  return v;
}

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

TEST_CASE("canonical encoding is length-prefixed in a fixed order") {
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
  e.inputs = {{"k", "v"}};
  e.changes = {{plain("f", ""), plain("f", "x")}};
  e.linked_case = "P9";
  // The worked example of docs/SCHEMA.md, byte for byte.
  CHECK(canonical_encoding(e) ==
        "12:sopir-log-v1" "2:C1" "1:1" "2:ab" "4:open" "4:open" "0:" "3:new" "0:" "6:active"
        "3:ana" "0:" "2:10" "2:11" "0:" "0:"
        R"(11:[["k","v"]])"
        R"(100:[{"before":{"field":"f","missing":true,"text":""},)"
        R"("after":{"field":"f","missing":false,"text":"x"}}])"
        "1:0" "2:P9");
}

TEST_CASE("canonical encoding leaves out seq, prev_hash and hash") {
  LogEntry a = sample();
  LogEntry b = a;
  b.seq = 99;
  b.prev_hash = "ff";
  b.hash = "ee";
  CHECK(canonical_encoding(a) == canonical_encoding(b));
}

TEST_CASE("every other field changes the encoding") {
  const std::string base = canonical_encoding(sample());
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
    CHECK(canonical_encoding(e) != base);
  }
}

TEST_CASE("field boundaries cannot be shifted") {
  LogEntry a = sample(), b = sample();
  a.note = "ab";
  a.reason = "c";
  b.note = "a";
  b.reason = "bc";
  CHECK(canonical_encoding(a) != canonical_encoding(b));
}

TEST_CASE("personal text never enters the encoding") {
  LogEntry a = sample();
  LogEntry erased = a;
  erased.changes[1].after.text.clear();
  erased.changes[1].after.erased = true;
  CHECK(canonical_encoding(a) == canonical_encoding(erased));
  CHECK(canonical_encoding(a).find(R"({"field":"name","missing":false,"pii":true,"salt":"0a0b","digest":")") !=
        std::string::npos);
  CHECK(canonical_encoding(a).find("Sari") == std::string::npos);
}

TEST_CASE("chain_hash is SHA-256 of prev_hash then the encoding") {
  const LogEntry e = sample();
  CHECK(chain_hash("", e) == sha256_hex(canonical_encoding(e)));
  const std::string prev = std::string(64, '1');
  CHECK(chain_hash(prev, e) == sha256_hex(prev + canonical_encoding(e)));
  CHECK(chain_hash(prev, e) != chain_hash("", e));
  CHECK(chain_hash("", e).size() == 64);
}
