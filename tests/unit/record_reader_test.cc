// The log's fast record reader (log_json::read_record): it reads back
// exactly what log_json::record writes, and refuses every other layout so
// the store falls back to general JSON for those; the same for a case
// row's values (log_json::read_values, record_rows::read_values).
#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "sopir/store.h"
#include "store/log_json.h"
#include "store/record_rows.h"
#include "test_values.h"

using namespace sopir;
using testing::plain;

namespace {

StoredValue personal(std::string field) {
  StoredValue v;
  v.field = std::move(field);
  v.missing = false;
  v.pii = true;
  v.salt = "0a0b";
  v.digest = std::string(64, 'd');
  return v;
}

LogEntry sample() {
  LogEntry e;
  e.case_id = "K7F-3QX";
  e.case_seq = 12;
  e.sha256 = std::string(64, 'a');
  e.kind = LogKind::kOverride;
  e.event = "screen";
  e.from_state = "registered";
  e.to_state = "screened";
  e.from_status = "active";
  e.to_status = "on_hold";
  e.actor = "dewi";
  e.role = "social_worker";
  e.occurred_at = DateTime{-86400};
  e.recorded_at = DateTime{1790000100};
  e.note = "line one\nline two\t\x01 end \\ \"q\" \x7f — Kota Baru";
  e.reason = "\b\f\r\x1f";
  e.inputs = {{"category", "overstay"}, {"", ""}};
  e.changes = {{plain("category", ""), plain("category", "overstay")}, {personal("name"), personal("name")}};
  e.changes[1].before.missing = true;
  e.due_at = DateTime{1790086400};
  e.linked_case = "P9";
  return e;
}

}  // namespace

TEST_CASE("read_record reads back every field record() writes", "[record]") {
  const LogEntry e = sample();
  const std::string text = log_json::record(e);
  LogEntry back;
  REQUIRE(log_json::read_record(text, back));
  CHECK(log_json::record(back) == text);
  CHECK(back.case_id == e.case_id);
  CHECK(back.case_seq == 12);
  CHECK(back.kind == LogKind::kOverride);
  CHECK(back.occurred_at.seconds == -86400);
  CHECK(back.note == e.note);
  CHECK(back.reason == e.reason);
  REQUIRE(back.inputs.size() == 2);
  CHECK(back.inputs[1].first.empty());
  REQUIRE(back.changes.size() == 2);
  CHECK(back.changes[0].after.text == "overstay");
  CHECK(back.changes[1].after.pii);
  CHECK(back.changes[1].after.salt == "0a0b");
  CHECK(back.changes[1].after.text.empty());  // personal text is never in a record
  CHECK(back.changes[1].before.missing);
  REQUIRE(back.due_at);
  CHECK(back.due_at->seconds == 1790086400);
  CHECK(back.linked_case == "P9");

  LogEntry no_due = e;
  no_due.due_at.reset();
  no_due.inputs.clear();
  no_due.changes.clear();
  REQUIRE(log_json::read_record(log_json::record(no_due), back));
  CHECK_FALSE(back.due_at);
  CHECK(back.inputs.empty());
  CHECK(back.changes.empty());
}

TEST_CASE("read_record round-trips random text byte for byte", "[record]") {
  std::mt19937 random(20261129);
  auto text = [&] {
    std::string out;
    const int length = static_cast<int>(random() % 12);
    for (int i = 0; i < length; ++i) out += static_cast<char>(random() % 256);
    return out;
  };
  for (int round = 0; round < 2000; ++round) {
    LogEntry e = sample();
    e.note = text();
    e.reason = text();
    e.case_id = text();
    e.inputs = {{text(), text()}};
    e.changes[0].after.text = text();
    e.case_seq = static_cast<int64_t>(random()) - 1000;
    const std::string written = log_json::record(e);
    LogEntry back;
    INFO("round " << round);
    REQUIRE(log_json::read_record(written, back));
    CHECK(log_json::record(back) == written);
    CHECK(back.note == e.note);
    CHECK(back.case_id == e.case_id);
    CHECK(back.inputs == e.inputs);
  }
}

TEST_CASE("read_record refuses every other layout", "[record]") {
  const std::string text = log_json::record(sample());
  LogEntry back;
  // Every truncation.
  for (size_t n = 0; n < text.size(); ++n) {
    INFO("first " << n << " bytes");
    CHECK_FALSE(log_json::read_record(text.substr(0, n), back));
  }
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string out = text;
    const size_t at = out.find(from);
    REQUIRE(at != std::string::npos);
    return out.replace(at, from.size(), to);
  };
  for (const std::string& other : {
           text + " ",                                        // trailing bytes
           replaced(",\"case_seq\":", ", \"case_seq\":"),      // a space
           replaced("\"case_seq\":12", "\"case_seq\":012"),    // leading zero
           replaced("\"case_seq\":12", "\"case_seq\":12.0"),   // not an integer
           replaced("\\n", "\\u000a"),                         // long form of a short escape
           replaced("\\n", "\\u000A"),                         // upper-case hex
           replaced("\\u0001", "\\u0041"),                     // escaped printable
           replaced("\\u0001", std::string(1, '\x01')),           // raw control byte
           replaced("\\u0001", std::string(1, '\0')),             // raw NUL
           replaced("\"kind\":\"override\"", "\"kind\":\"forged\""),  // unknown kind
           replaced("\"missing\":false", "\"missing\":0"),    // not a boolean
           replaced("{\"case_id\":\"K7F-3QX\",\"case_seq\":12,", "{\"case_seq\":12,\"case_id\":\"K7F-3QX\","),
       }) {
    INFO(other);
    CHECK_FALSE(log_json::read_record(other, back));
  }
}

TEST_CASE("read_values reads back a case row's values and refuses every other layout", "[record]") {
  std::vector<StoredValue> values = {plain("category", "overstay"), personal("name"),
                                     plain("note", "a\nb \"c\" \\")};
  values[1].missing = true;
  values.push_back(personal("passport"));
  const std::string text = log_json::values(values);
  std::vector<StoredValue> back;
  REQUIRE(log_json::read_values(text, back));
  CHECK(log_json::values(back) == text);
  REQUIRE(back.size() == 4);
  CHECK(back[0].text == "overstay");
  CHECK(back[1].pii);
  CHECK(back[1].missing);
  CHECK(back[3].digest == std::string(64, 'd'));
  REQUIRE(log_json::read_values("[]", back));
  CHECK(back.empty());
  for (size_t n = 0; n < text.size(); ++n) {
    INFO("first " << n << " bytes");
    CHECK_FALSE(log_json::read_values(text.substr(0, n), back));
  }
  CHECK_FALSE(log_json::read_values(text + " ", back));
  CHECK_FALSE(log_json::read_values("[ ]", back));
  CHECK_FALSE(log_json::read_values("[{\"missing\":false,\"field\":\"a\",\"text\":\"\"}]", back));
}

TEST_CASE("a case row's values in another layout read as general JSON, personal text looked up",
          "[record]") {
  int looked_up = 0;
  const record_rows::PersonalLookup lookup = [&](StoredValue& value) {
    ++looked_up;
    value.text = "Sari (made up)";
  };
  std::vector<StoredValue> values = {plain("category", "overstay"), personal("name")};
  const std::string exact = log_json::values(values);
  // The same values written with spaces and keys in another order.
  const std::string other =
      "[ {\"text\": \"overstay\", \"missing\": false, \"field\": \"category\"},"
      " {\"digest\": \"" +
      std::string(64, 'd') +
      "\", \"salt\": \"0a0b\", \"pii\": true, \"missing\": false, \"field\": \"name\"} ]";
  for (const std::string& text : {exact, other}) {
    INFO(text);
    looked_up = 0;
    const std::vector<StoredValue> back = record_rows::read_values(text, lookup);
    REQUIRE(back.size() == 2);
    CHECK(back[0].field == "category");
    CHECK(back[0].text == "overstay");
    CHECK(back[1].pii);
    CHECK(back[1].text == "Sari (made up)");
    CHECK(back[1].salt == "0a0b");
    CHECK(looked_up == 1);
  }
  CHECK_THROWS(record_rows::read_values("[{\"field\":", lookup));
}
