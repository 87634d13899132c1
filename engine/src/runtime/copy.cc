// Copying a whole database into a new one (sopir/copy.h).
#include "sopir/copy.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "base/sha256.h"
#include "store/merkle.h"
#include "runtime/copy_parts.h"
#include "store/registry.h"
#include "sopir/error.h"
#include "sopir/messages/base.h"
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
                    {counted(held.log_rows, msg::base_n_log_row, msg::base_n_log_rows),
                     counted(held.cases, msg::base_n_case, msg::base_n_cases),
                     counted(held.staff, msg::base_n_staff_member, msg::base_n_staff_members),
                     counted(held.sites, msg::base_n_site, msg::base_n_sites)}));
}

}  // namespace

void copying::require_readable(const StoredValue& value, const std::string& case_id) {
  if (value.locked) throw denied(tr(msg::runtime_copy_locked, {value.field, case_id}));
}

std::vector<CaseRecord> copying::parents_first(std::vector<CaseRecord> cases) {
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

std::vector<MovedIn> copying::moves(Store& store) {
  std::vector<MovedIn> out;
  LogFilter sites;
  sites.kind = LogKind::kSite;
  sites.registry = true;
  store.scan_log(sites, [&](const LogEntry& e) {
    if (auto move = registry::moved_in_of(e)) out.push_back(std::move(*move));
    return true;
  });
  return out;
}

namespace {

using copying::parents_first;
using copying::require_readable;

void copy_rows(Store& from, Store& to) {
  for (const Site& site : from.sites()) to.import_site(site);
  for (const StaffMember& member : from.all_staff()) to.import_staff(member, from.passphrase_hash(member.id));
}

// Which chains a copy takes (a chain key: a case id, or "" for the
// registry chain): all, or a site copy's.
using Keep = std::function<bool(std::string_view)>;

// A site copy's cases: those at `site` now or moved to or from it
// (transfer rows), and every case linked to them by hand-offs, at any
// depth (the families they belong to).
std::set<std::string, std::less<>> site_families(Store& from, const std::vector<CaseRecord>& cases,
                                                 const std::string& site) {
  std::set<std::string> seeds;
  for (const CaseRecord& c : cases)
    if (c.site == site) seeds.insert(c.id);
  LogFilter transfers;
  transfers.kind = LogKind::kTransfer;
  from.scan_log(transfers, [&](const LogEntry& e) {
    for (const auto& [key, value] : e.inputs)
      if ((key == "from_site" || key == "to_site") && value == site) seeds.insert(e.case_id);
    return true;
  });
  std::map<std::string, std::string> root_of;  // union-find over parent links
  std::function<std::string(const std::string&)> find = [&](const std::string& id) {
    auto it = root_of.find(id);
    if (it == root_of.end() || it->second == id) return id;
    return it->second = find(it->second);
  };
  for (const CaseRecord& c : cases) root_of.emplace(c.id, c.id);
  for (const CaseRecord& c : cases)
    if (!c.parent_case.empty() && root_of.count(c.parent_case)) root_of[find(c.id)] = find(c.parent_case);
  std::set<std::string> families;
  for (const std::string& id : seeds) families.insert(find(id));
  std::set<std::string, std::less<>> kept;
  for (const CaseRecord& c : cases)
    if (families.count(find(c.id))) kept.insert(c.id);
  return kept;
}

// What a copy learns while it reads the source's log: for a site copy, the
// proof that its chains are among those of the source's newest checkpoint.
struct ProofTaker {
  merkle::Heads heads;  // every chain's head so far (all sites')
  SiteCopy copy;        // its checkpoint_seq: the checkpoint to prove against
};

void copy_records(Store& from, Store& to, std::vector<CaseRecord> cases, const Keep& keep, ProofTaker* proof) {
  for (const PublishedProcedure& p : from.procedures()) to.import_procedure(p, from.pinned_calendars(p.sha256));
  for (const CaseRecord& record : parents_first(std::move(cases))) {
    if (keep && !keep(record.id)) continue;
    for (const StoredValue& value : record.data) require_readable(value, record.id);
    to.import_case(record);
  }
  from.scan_chain([&](const ChainRow& row) {
    if (proof) {
      // The heads as of the checkpoint: every row before its own.
      if (row.seq == proof->copy.checkpoint_seq) proof->copy.proof = merkle::prove(proof->heads.heads(), keep);
      proof->heads.set(row.case_id, row.case_seq, row.hash, row.seq);
      proof->copy.copied_upto = row.seq;  // the source's newest row, kept or not
    }
    if (keep && !keep(row.case_id)) return true;
    if (row.personal)
      for (const StoredValue& value : *row.personal) require_readable(value, std::string(row.case_id));
    to.import_log_row(row);
    return true;
  });
  // The registries of offices moved into FROM, kept as they were: registry
  // rows, which every copy takes.
  from.scan_moved_registry([&](const ChainRow& row) {
    to.import_moved_registry_row(row);
    return true;
  });
  for (const AccessRecord& record : from.access_records(AccessFilter{}))
    if (!keep || keep(record.case_id)) to.import_access(record);
  // A site copy leaves other sites' rows out: its seq numbers skip.
  to.import_finish(from.per_chain_from(), from.seq_gaps_allowed() || keep);
}

}  // namespace

DatabaseCounts count_database(Store& store, const Keep& keep) {
  DatabaseCounts c;
  store.scan_chain([&](const ChainRow& row) {
    if (keep && !keep(row.case_id)) return true;
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
  for (const CaseHead& head : store.case_heads()) {
    if (keep && !keep(head.id)) continue;
    ++c.cases;
    heads.update(head.id + " " + std::to_string(head.last_seq) + " " + head.head_hash + "\n");
  }
  c.case_heads = heads.hex_digest();
  c.staff = static_cast<int64_t>(store.all_staff().size());
  c.sites = static_cast<int64_t>(store.sites().size());
  c.procedures = static_cast<int64_t>(store.procedures().size());
  for (const AccessRecord& record : store.access_records(AccessFilter{}))
    if (!keep || keep(record.case_id)) ++c.access_records;
  return c;
}

bool operator==(const DatabaseCounts& a, const DatabaseCounts& b) {
  return a.log_rows == b.log_rows && a.registry_rows == b.registry_rows && a.cases == b.cases &&
         a.staff == b.staff && a.sites == b.sites && a.procedures == b.procedures &&
         a.access_records == b.access_records && a.head_seq == b.head_seq && a.head_hash == b.head_hash &&
         a.registry_head == b.registry_head && a.case_heads == b.case_heads;
}

CopyResult copy_database(Store& from, Store& to, const CopySealing& sealing,
                         const std::function<void(Store&)>& check, const std::optional<SiteScope>& site) {
  if (!from.session_identity().sees_every_site) throw denied(tr(msg::runtime_copy_every_site));
  if (from.encrypts_personal_data() && sealing.mode == CopySealing::Mode::kAsIs)
    throw usage_error(tr(msg::runtime_copy_keep_sealed));
  CopyResult result;
  std::vector<CaseRecord> cases;  // a site copy reads them in its source transaction
  if (!site) cases = from.cases(CaseFilter{});
  std::set<std::string, std::less<>> kept;
  Keep keep;
  std::optional<ProofTaker> proof;
  if (site) {
    if (to.session_identity().server) throw usage_error(tr(msg::runtime_copy_site_into_file, {site->site}));
    const std::vector<Site> sites = from.sites();
    if (std::none_of(sites.begin(), sites.end(), [&](const Site& s) { return s.id == site->site; })) {
      std::string known;
      for (const Site& s : sites) known += (known.empty() ? "" : ", ") + s.id;
      throw not_found(tr(msg::runtime_copy_no_site, {site->site, known}));
    }
    if (const std::optional<SiteCopy> earlier = from.site_copy())
      throw usage_error(tr(msg::runtime_copy_site_of_site_copy, {earlier->site}));
    if (from.per_chain_from() > 1)
      throw usage_error(tr(msg::runtime_copy_site_chain_rule, {std::to_string(from.per_chain_from() - 1)}));
    require_empty(to);
    keep = [&kept](std::string_view chain) { return chain.empty() || kept.count(chain) > 0; };
    proof.emplace();
    proof->copy.site = site->site;
    // The source commits to the chains the copy takes (their count and a
    // digest of their keys) and takes a checkpoint after it: the copy
    // proves its chains against that root, and no chain of the set can go
    // missing from the copy unseen. The cases are chosen inside the same
    // transaction, so that on a database file no case can come between.
    from.transaction([&] {
      cases = from.cases(CaseFilter{});
      kept = site_families(from, cases, site->site);
      for (const CaseRecord& c : cases)
        if (kept.count(c.id) && c.site != site->site) ++result.linked_cases;
      std::vector<std::string> keys{""};
      keys.insert(keys.end(), kept.begin(), kept.end());
      LogEntry row = registry::site_copied(site->site, site->to, static_cast<int64_t>(keys.size()),
                                           merkle::chains_digest(keys), RegistryStamp{site->actor, site->at});
      from.append_registry(row);
      const LogEntry checkpoint = from.checkpoint(site->actor, site->at);
      proof->copy.checkpoint_seq = result.proven_checkpoint_row = checkpoint.seq;
      result.proven = checkpoint.checkpoint;
    });
  }
  // A whole copy of a site copy keeps its proof: its older checkpoints
  // cover chains neither holds.
  const std::optional<SiteCopy> copied_site = site ? std::nullopt : from.site_copy();
  if (copied_site && to.session_identity().server)
    throw usage_error(tr(msg::runtime_copy_site_into_file, {copied_site->site}));
  result.from = count_database(from, keep);
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
    copy_records(from, to, std::move(cases), keep, proof ? &*proof : nullptr);
    result.to = count_database(to);
    if (!(result.to == result.from)) throw storage_error(tr(msg::runtime_copy_differs));
    if (site) to.import_site_copy(proof->copy);
    if (copied_site) to.import_site_copy(*copied_site);
    if (sealing.mode == CopySealing::Mode::kPassphrase) {
      // Setting the hash drops the member's wrapping (store.h): wrapped again.
      to.set_passphrase_hash(sealing.staff_id, sealing.hash, RegistryStamp{sealing.staff_id, sealing.at});
      to.wrap_database_key(sealing.staff_id, sealing.passphrase, sealing.hash);
      result.passphrase_row = true;
    }
    if (site) result.closing = to.checkpoint(site->actor, site->at).checkpoint;
    if (check) check(to);
  });
  return result;
}

}  // namespace sopir
