// The hash chain over the transition log: log kinds as text, a row's record
// (the JSON bytes stored and hashed) and the chained hash. docs/SCHEMA.md
// describes both so an auditor can recompute them independently.
#include <string>
#include <string_view>

#include <algorithm>

#include "store/log_json.h"
#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/messages/store.h"
#include "sopir/store.h"

namespace sopir {

namespace {
constexpr const char* kLogKindNames[] = {"open",       "procedure", "override", "lifecycle",
                                         "timer",      "checkpoint", "publish", "staff",
                                         "erasure",    "migration",  "migration-plan",
                                         "site",       "transfer"};
}  // namespace

const char* to_string(LogKind kind) {
  const auto index = static_cast<size_t>(kind);
  return index < std::size(kLogKindNames) ? kLogKindNames[index] : "unknown";
}

void Store::set_passphrase_hash(const std::string& id, const std::string& hash, const RegistryStamp& by) {
  (void)hash;
  (void)by;
  throw usage_error(tr(msg::store_no_passphrases, {id}));
}

void Store::erase_personal_data(const std::string& case_id, const std::vector<std::string>& digests) {
  (void)digests;
  throw usage_error(tr(msg::store_no_erasure, {case_id}));
}

bool Store::seal_database_key(const std::string& key_file_id) {
  (void)key_file_id;
  throw usage_error(tr(msg::store_no_key_files));
}

bool Store::set_staff_login(const std::string& id, const std::string& login, const std::string& new_password,
                            const RegistryStamp& by) {
  (void)login;
  (void)new_password;
  (void)by;
  throw usage_error(tr(msg::store_no_server_logins, {id}));
}

std::vector<ChildCase> Store::child_cases(const std::string& parent_id) {
  CaseFilter filter;
  filter.linked_to = parent_id;
  std::vector<ChildCase> out;
  for (const CaseRecord& c : cases(filter))
    if (c.parent_case == parent_id)
      out.push_back(ChildCase{c.id, c.sop_id, c.state, c.status, c.closure_reason, c.opened_at});
  return out;
}

std::vector<std::vector<ChildCase>> Store::children_of(const std::vector<std::string>& parent_ids) {
  std::vector<std::vector<ChildCase>> out;
  out.reserve(parent_ids.size());
  for (const std::string& id : parent_ids) out.push_back(child_cases(id));
  return out;
}

std::vector<std::vector<LogEntry>> Store::histories(const std::vector<std::string>& case_ids) {
  std::vector<std::vector<LogEntry>> out;
  out.reserve(case_ids.size());
  for (const std::string& id : case_ids) out.push_back(history(id));
  return out;
}

void Store::each_case(CaseFilter filter, const std::function<void(const CaseRecord&)>& visit, int64_t page) {
  each_part(
      std::move(filter),
      [&](std::vector<CaseRecord>& part) {
        for (const CaseRecord& c : part) visit(c);
      },
      page);
}

void Store::each_part(CaseFilter filter, const std::function<void(std::vector<CaseRecord>&)>& visit,
                      int64_t page) {
  filter.after_id = "";
  filter.limit = std::max<int64_t>(page, 1);
  for (;;) {
    std::vector<CaseRecord> part = cases(filter);
    if (part.empty()) return;
    const bool last = static_cast<int64_t>(part.size()) < filter.limit;
    filter.after_id = part.back().id;
    visit(part);
    if (last) return;
  }
}

std::vector<CaseHead> Store::case_heads() {
  std::vector<CaseHead> out;
  for (const CaseRecord& c : cases(CaseFilter{})) out.push_back(CaseHead{c.id, c.last_seq, c.head_hash});
  std::sort(out.begin(), out.end(), [](const CaseHead& a, const CaseHead& b) { return a.id < b.id; });
  return out;
}

namespace {
[[noreturn]] void no_import() { throw usage_error(tr(msg::store_no_import)); }
}  // namespace

void Store::import_site(const Site&) { no_import(); }
void Store::import_staff(const StaffMember&, const std::optional<std::string>&) { no_import(); }
void Store::import_procedure(const PublishedProcedure&, const std::vector<CalendarSource>&) { no_import(); }
void Store::import_case(const CaseRecord&) { no_import(); }
void Store::import_log_row(const ChainRow&) { no_import(); }
void Store::import_access(const AccessRecord&) { no_import(); }
void Store::import_finish(int64_t, bool) { no_import(); }
void Store::import_site_copy(const SiteCopy&) { no_import(); }
void Store::import_moved_registry_row(const ChainRow&) { no_import(); }

bool is_registry(LogKind kind) {
  return kind == LogKind::kCheckpoint || kind == LogKind::kPublish || kind == LogKind::kStaff ||
         kind == LogKind::kMigrationPlan || kind == LogKind::kSite;
}

int64_t publication_number(const std::string& sop_id, int64_t highest, int requested) {
  if (requested == 0) return highest + 1;
  if (requested <= highest)
    throw conflict(tr(msg::store_publication_number_taken, {sop_id, std::to_string(highest)}));
  return requested;
}

const std::vector<LogKind>& registry_kinds() {
  // kLogKindNames names every kind (to_string() reads it), so walking it
  // meets a kind added later too.
  static const std::vector<LogKind> kinds = [] {
    std::vector<LogKind> out;
    for (size_t i = 0; i < std::size(kLogKindNames); ++i)
      if (is_registry(static_cast<LogKind>(i))) out.push_back(static_cast<LogKind>(i));
    return out;
  }();
  return kinds;
}

std::optional<LogKind> log_kind_from_string(std::string_view text) {
  for (size_t i = 0; i < std::size(kLogKindNames); ++i) {
    if (text == kLogKindNames[i]) return static_cast<LogKind>(i);
  }
  return std::nullopt;
}

std::string log_record(const LogEntry& entry) { return log_json::record(entry); }

std::string chain_hash(const std::string& prev_hash, const LogEntry& entry) {
  Sha256 hash;
  hash.update(prev_hash);
  hash.update(log_json::record(entry));
  return hash.hex_digest();
}

}  // namespace sopir
