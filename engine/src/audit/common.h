// Small pieces shared by the audit source files (internal).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/audit.h"
#include "sopir/error.h"
#include "sopir/messages/audit.h"
#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir::audit_internal {

// Compiles published procedure versions once each, by SHA-256. A version
// that is missing or no longer loads is remembered with the reason.
class ProcedureCache {
 public:
  explicit ProcedureCache(Store& store) : store_(store) {}
  // Null when the version cannot be had; `*why` then says why.
  ProcedurePtr get(const std::string& sha256, std::string* why);
  // Published sop id and version number of a hash ("" / 0 when unknown).
  const PublishedProcedure* published(const std::string& sha256);

 private:
  Store& store_;
  std::map<std::string, ProcedurePtr> compiled_;
  std::map<std::string, std::string> failed_;
  std::map<std::string, PublishedProcedure> published_;
  bool listed_ = false;
};

// The log rows a read met whose stored record is not one sopir writes
// (Error::damaged_row(): verify's record-damaged): each kept once, by row,
// with its message. Readers that go on past them (verify, the exports, the
// report) collect them here: the log scans through hook() (as
// LogFilter::damaged), a read that throws (Store::history) through take().
class DamagedRows {
 public:
  // `on_new`, when set, is called with each row the first time it is kept
  // (the log table marks its place).
  using OnNew = std::function<void(int64_t seq, const std::string& message)>;
  explicit DamagedRows(OnNew on_new = nullptr) : on_new_(std::move(on_new)) {}
  DamagedRows(const DamagedRows&) = delete;  // hook() points at this object
  DamagedRows& operator=(const DamagedRows&) = delete;

  // For LogFilter::damaged: each damaged row the scan skips is kept.
  const std::function<void(const Error&)>* hook() const { return &hook_; }
  // Keeps `e`'s row and returns true when `e` is a damaged row's error;
  // false for any other error (the caller rethrows it).
  bool take(const Error& e) {
    if (!e.damaged_row()) return false;
    if (rows_.emplace(e.damaged_row(), e.message()).second && on_new_)
      on_new_(e.damaged_row(), e.message());
    return true;
  }
  bool empty() const { return rows_.empty(); }
  // Row -> its message ("log row 12 is not a record sopir writes (...)").
  const audit::UnreadRows& rows() const { return rows_; }

 private:
  audit::UnreadRows rows_;
  OnNew on_new_;
  const std::function<void(const Error&)> hook_ = [this](const Error& e) { take(e); };
};

// RFC 4180: the text quoted when it holds a comma, quote, CR or LF (or
// starts or ends with a space), quotes doubled.
std::string csv_field(const std::string& text);

// Which of `case_ids` `reveal.actor` may see personal data of (a role in
// the pinned procedure's pii_visible_to); one access row each is written to
// reveal.access_log, in one transaction, before the caller shows anything.
// kRefused when the actor may see none of them, kUsage without an access log.
std::vector<std::string> record_reveal(Store& store, ProcedureCache& procedures, const audit::RevealAccess& reveal,
                                       const std::vector<std::string>& case_ids);

// The value of a logged row's input `key` ("" when it has none): a registry
// row's facts (sop_id, version, staff, plan, site, from_site, ...).
inline std::string logged_input(const LogEntry& row, std::string_view key) {
  for (const auto& [name, value] : row.inputs)
    if (name == key) return value;
  return "";
}

// "log row 12", as findings name rows.
inline std::string log_row(int64_t seq) { return tr(msg::audit_log_row, {std::to_string(seq)}); }

// The first 16 hex digits of a hash and "...", or "(empty)".
inline std::string short_hash(std::string_view hash) {
  return hash.empty() ? "(empty)" : std::string(hash.substr(0, 16)) + "...";
}

}  // namespace sopir::audit_internal
