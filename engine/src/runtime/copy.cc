// Copying a whole database into a new one (sopir/copy.h).
#include "sopir/copy.h"

#include <map>
#include <set>
#include <vector>

#include "base/sha256.h"
#include "sopir/error.h"
#include "sopir/messages/runtime.h"

namespace sopir {

namespace {

// TO must hold nothing a copy could collide with: no log row, case, staff
// member or procedure, and no site but the default one every database has.
void require_empty(Store& to) {
  const DatabaseCounts held = count_database(to);
  const bool only_default_site =
      held.sites == 0 || (held.sites == 1 && to.sites().front().id == kDefaultSite);
  if (held.log_rows == 0 && held.cases == 0 && held.staff == 0 && held.procedures == 0 && only_default_site) return;
  throw conflict(tr(msg::runtime_copy_target_not_empty,
                    {std::to_string(held.log_rows), std::to_string(held.cases), std::to_string(held.staff),
                     std::to_string(held.sites)}));
}

// A value this session cannot read (encrypted, no key held) cannot be
// copied: its text would be lost.
void require_readable(const StoredValue& value, const std::string& case_id) {
  if (value.locked) throw denied(tr(msg::runtime_copy_locked, {value.field, case_id}));
}

// Cases in an order that puts every parent before the cases it opened.
std::vector<CaseRecord> parents_first(std::vector<CaseRecord> cases) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < cases.size(); ++i) index[cases[i].id] = i;
  std::vector<CaseRecord> out;
  out.reserve(cases.size());
  std::vector<bool> placed(cases.size(), false);
  std::function<void(size_t)> place = [&](size_t i) {
    if (placed[i]) return;
    placed[i] = true;  // before the parent: a cycle (a damaged database) cannot recurse forever
    const auto parent = index.find(cases[i].parent_case);
    if (!cases[i].parent_case.empty() && parent != index.end()) place(parent->second);
    out.push_back(std::move(cases[i]));
  };
  for (size_t i = 0; i < cases.size(); ++i) place(i);
  return out;
}

void copy_rows(Store& from, Store& to) {
  for (const Site& site : from.sites()) to.import_site(site);
  for (const StaffMember& member : from.all_staff()) to.import_staff(member, from.passphrase_hash(member.id));
}

void copy_records(Store& from, Store& to) {
  for (const PublishedProcedure& p : from.procedures()) to.import_procedure(p, from.pinned_calendars(p.sha256));
  for (const CaseRecord& record : parents_first(from.cases(CaseFilter{}))) {
    for (const StoredValue& value : record.data) require_readable(value, record.id);
    to.import_case(record);
  }
  from.scan_chain([&](const ChainRow& row) {
    if (row.personal)
      for (const StoredValue& value : *row.personal) require_readable(value, std::string(row.case_id));
    to.import_log_row(row);
    return true;
  });
  for (const AccessRecord& record : from.access_records(AccessFilter{})) to.import_access(record);
  to.import_finish(from.per_chain_from(), from.seq_gaps_allowed());
}

}  // namespace

DatabaseCounts count_database(Store& store) {
  DatabaseCounts c;
  store.scan_chain([&](const ChainRow& row) {
    ++c.log_rows;
    if (row.case_id.empty()) {
      ++c.registry_rows;
      c.registry_head = std::string(row.hash);
    }
    c.head_seq = row.seq;
    c.head_hash = std::string(row.hash);
    return true;
  });
  Sha256 heads;
  for (const CaseRecord& record : store.cases(CaseFilter{})) {
    ++c.cases;
    heads.update(record.id + " " + std::to_string(record.last_seq) + " " + record.head_hash + "\n");
  }
  c.case_heads = heads.hex_digest();
  c.staff = static_cast<int64_t>(store.all_staff().size());
  c.sites = static_cast<int64_t>(store.sites().size());
  c.procedures = static_cast<int64_t>(store.procedures().size());
  c.access_records = static_cast<int64_t>(store.access_records(AccessFilter{}).size());
  return c;
}

bool operator==(const DatabaseCounts& a, const DatabaseCounts& b) {
  return a.log_rows == b.log_rows && a.registry_rows == b.registry_rows && a.cases == b.cases &&
         a.staff == b.staff && a.sites == b.sites && a.procedures == b.procedures &&
         a.access_records == b.access_records && a.head_seq == b.head_seq && a.head_hash == b.head_hash &&
         a.registry_head == b.registry_head && a.case_heads == b.case_heads;
}

CopyResult copy_database(Store& from, Store& to, const CopySealing& sealing,
                         const std::function<void(Store&)>& check) {
  if (!from.session_identity().sees_every_site) throw denied(tr(msg::runtime_copy_every_site));
  if (from.encrypts_personal_data() && sealing.mode == CopySealing::Mode::kAsIs)
    throw usage_error(tr(msg::runtime_copy_keep_sealed));
  CopyResult result;
  result.from = count_database(from);
  to.transaction_all_or_nothing([&] {
    require_empty(to);
    copy_rows(from, to);
    // The key first, so that no personal text is ever written in clear.
    if (sealing.mode == CopySealing::Mode::kKeyFile) {
      to.seal_database_key(sealing.key_file_id);
    } else if (sealing.mode == CopySealing::Mode::kPassphrase) {
      if (!to.staff(sealing.staff_id)) throw not_found(tr(msg::runtime_copy_sealer_unknown, {sealing.staff_id}));
      to.wrap_database_key(sealing.staff_id, sealing.passphrase, sealing.hash);
    }
    copy_records(from, to);
    result.to = count_database(to);
    if (!(result.to == result.from)) throw storage_error(tr(msg::runtime_copy_differs));
    if (sealing.mode == CopySealing::Mode::kPassphrase) {
      // Setting the hash drops the member's wrapping (store.h): wrapped again.
      to.set_passphrase_hash(sealing.staff_id, sealing.hash, RegistryStamp{sealing.staff_id, sealing.at});
      to.wrap_database_key(sealing.staff_id, sealing.passphrase, sealing.hash);
      result.passphrase_row = true;
    }
    if (check) check(to);
  });
  return result;
}

}  // namespace sopir
