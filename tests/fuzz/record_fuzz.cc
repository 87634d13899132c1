// Fuzzes the log's fast record reader (log_json::read_record). Invariants
// beyond "no crash": whatever it accepts, the writer writes back byte for
// byte (so the fast path can never read a row differently from what is
// stored and hashed), and general JSON decoding agrees on the fields.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "store/log_json.h"
#include "sopir/store.h"
#include "sopir/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sopir::LogEntry entry;
  if (!sopir::log_json::read_record(text, entry)) return 0;
  if (sopir::log_json::record(entry) != text) std::abort();
  // Valid UTF-8 records must also decode as general JSON to the same
  // fields (the store's fallback path).
  if (!sopir::valid_utf8(text)) return 0;
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || json.at("case_id") != entry.case_id || json.at("note") != entry.note ||
      json.at("case_seq") != entry.case_seq || json.at("inputs").size() != entry.inputs.size() ||
      json.at("changes").size() != entry.changes.size())
    std::abort();
  return 0;
}
