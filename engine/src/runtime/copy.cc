// Copying a whole database into a new one (sopir/copy.h).
#include "sopir/copy.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "base/sha256.h"
#include "store/merkle.h"
#include "store/registry.h"
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

namespace sopir {

namespace {

// Refusals of a move found before anything is written (copy.h move_in).
void check_move(Store& from, Store& to, const MoveIn& move, const std::vector<CaseRecord>& cases,
                std::vector<const PublishedProcedure*>& added, std::vector<PublishedProcedure>& from_procedures,
                int64_t& shared) {
  if (const std::optional<SiteCopy> copied = from.site_copy())
    throw usage_error(tr(msg::runtime_move_site_copy, {copied->site}));
  if (from.per_chain_from() > 1)
    throw usage_error(tr(msg::runtime_move_chain_rule, {std::to_string(from.per_chain_from() - 1)}));
  const std::vector<Site> to_sites = to.sites();
  auto on_target = [&](const std::string& id) {
    return std::any_of(to_sites.begin(), to_sites.end(), [&](const Site& s) { return s.id == id; });
  };
  if (!on_target(move.site)) {
    std::string known;
    for (const Site& s : to_sites) known += (known.empty() ? "" : ", ") + s.id;
    throw not_found(tr(msg::runtime_move_site_missing, {move.site, known}));
  }
  CaseFilter at_site;
  at_site.sites = std::vector<std::string>{move.site};
  if (const int64_t held = to.count_cases(at_site); held > 0)
    throw conflict(tr(msg::runtime_move_site_has_cases, {move.site, std::to_string(held)}));
  for (const Site& site : from.sites())
    if (site.id != kDefaultSite && on_target(site.id))
      throw conflict(tr(msg::runtime_move_site_taken, {site.id, kDefaultSite}));
  std::set<std::string> to_cases;
  for (const CaseHead& head : to.case_heads()) to_cases.insert(head.id);
  std::vector<std::string> both;
  for (const CaseRecord& c : cases)
    if (to_cases.count(c.id)) both.push_back(c.id);
  if (!both.empty()) {
    std::string shown;
    for (size_t i = 0; i < both.size() && i < 5; ++i) shown += (i ? ", " : "") + both[i];
    if (both.size() > 5) shown += ", ...";
    throw conflict(tr(msg::runtime_move_case_collision, {std::to_string(both.size()), shown}));
  }
  std::set<std::string> to_staff;
  for (const StaffMember& m : to.all_staff()) to_staff.insert(m.id);
  std::string staff_both;
  for (const StaffMember& m : from.all_staff())
    if (to_staff.count(m.id)) staff_both += (staff_both.empty() ? "" : ", ") + m.id;
  if (!staff_both.empty()) throw conflict(tr(msg::runtime_move_staff_collision, {staff_both}));
  const std::vector<PublishedProcedure> to_procedures = to.procedures();
  from_procedures = from.procedures();
  for (const PublishedProcedure& p : from_procedures) {
    bool same = false, other_versions = false;
    for (const PublishedProcedure& q : to_procedures) {
      if (q.sop_id != p.sop_id) continue;
      if (q.sha256 == p.sha256 && q.version == p.version) same = true;
      else other_versions = true;
    }
    if (same) {
      ++shared;
    } else if (other_versions) {
      throw conflict(tr(msg::runtime_move_procedure_differs, {p.sop_id, std::to_string(p.version), p.sha256.substr(0, 12)}));
    } else {
      added.push_back(&p);
    }
  }
}

// The newest row of TO's registry chain: (case_seq, hash); (0, "") when none.
std::pair<int64_t, std::string> registry_head(Store& store) {
  std::pair<int64_t, std::string> head{0, ""};
  LogFilter registry;
  registry.registry = true;
  store.scan_log(registry, [&](const LogEntry& e) {
    if (e.case_id.empty()) head = {e.case_seq, e.hash};
    return true;
  });
  return head;
}

}  // namespace

MoveResult move_in(Store& from, Store& to, const CopySealing& sealing, const std::function<void(Store&)>& check,
                   const MoveIn& move) {
  if (!from.session_identity().sees_every_site) throw denied(tr(msg::runtime_copy_every_site));
  if (!to.session_identity().sees_every_site) throw denied(tr(msg::runtime_move_target_sites));
  MoveResult result;
  MovedIn& moved = result.move;
  moved.site = move.site;
  moved.from = move.from;
  const std::vector<CaseRecord> cases = from.cases(CaseFilter{});
  // FROM's registry rows, by seq: each is issued again on TO.
  std::map<int64_t, LogEntry> registry_rows;
  LogFilter registry;
  registry.registry = true;
  from.scan_log(registry, [&](const LogEntry& e) {
    if (e.case_id.empty()) registry_rows.emplace(e.seq, e);
    return true;
  });
  const auto from_head = from.chain_head();
  moved.head = std::to_string(from_head.first) + ":" + from_head.second;
  moved.cases = static_cast<int64_t>(cases.size());
  to.transaction_all_or_nothing([&] {
    to.begin_move_in();
    std::vector<const PublishedProcedure*> added;
    std::vector<PublishedProcedure> from_procedures;
    check_move(from, to, move, cases, added, from_procedures, result.procedures_shared);
    std::set<std::string, std::less<>> shared_versions;  // SHA-256 of versions TO holds already
    for (const PublishedProcedure& p : from_procedures) shared_versions.insert(p.sha256);
    for (const PublishedProcedure* p : added) shared_versions.erase(p->sha256);
    // The key first, so that no personal text is ever written in clear.
    if (to.encrypts_personal_data()) {
      if (!to.personal_data_unlocked()) throw denied(tr(msg::runtime_move_locked));
    } else if (sealing.mode == CopySealing::Mode::kKeyFile) {
      to.seal_database_key(sealing.key_file_id);
    } else if (from.encrypts_personal_data()) {
      throw usage_error(tr(msg::runtime_copy_keep_sealed));
    }
    for (const Site& site : from.sites())
      if (site.id != kDefaultSite) {
        to.import_site(site);
        ++result.sites;
      }
    for (StaffMember member : from.all_staff()) {
      for (std::string& site : member.sites) site = moved.here(site);
      to.import_staff(member, from.passphrase_hash(member.id));
      ++result.staff;
    }
    for (const PublishedProcedure* p : added) {
      to.import_procedure(*p, from.pinned_calendars(p->sha256));
      ++result.procedures_added;
    }
    for (CaseRecord record : parents_first(cases)) {
      for (const StoredValue& value : record.data) require_readable(value, record.id);
      record.site = moved.here(record.site.empty() ? std::string(kDefaultSite) : record.site);
      to.import_case(record);
    }
    // FROM's rows in its order at TO's next numbers: case rows as they
    // are; registry rows kept as they were and issued again on TO's chain.
    moved.offset = to.chain_head().first;
    moved.first_seq = moved.offset + 1;
    auto head = registry_head(to);
    from.scan_chain([&](const ChainRow& row) {
      ChainRow here = row;
      here.seq = row.seq + moved.offset;
      moved.last_seq = here.seq;
      if (!row.case_id.empty()) {
        if (row.personal)
          for (const StoredValue& value : *row.personal) require_readable(value, std::string(row.case_id));
        to.import_log_row(here);
        return true;
      }
      here.personal = nullptr;
      to.import_moved_registry_row(here);
      ++moved.registry_rows;
      moved.registry_head = std::string(row.hash);
      const auto there = registry_rows.find(row.seq);
      if (there == registry_rows.end()) throw storage_error(tr(msg::runtime_copy_differs));
      const LogEntry& e = there->second;
      if (e.kind == LogKind::kCheckpoint) return true;  // its root covers FROM's chains only
      if (e.kind == LogKind::kPublish && shared_versions.count(e.sha256)) return true;  // TO has its row
      LogEntry again = registry::moved_row(e, moved);
      again.case_seq = head.first + 1;
      again.prev_hash = head.second;
      const std::string record = log_record(again);
      const std::string hash = chain_hash(again.prev_hash, again);
      ChainRow issued;
      issued.seq = here.seq;
      issued.case_id = "";
      issued.case_seq = again.case_seq;
      issued.prev_hash = again.prev_hash;
      issued.hash = hash;
      issued.record = record;
      to.import_log_row(issued);
      head = {again.case_seq, hash};
      ++result.reissued;
      return true;
    });
    // Access records take TO's next numbers too.
    int64_t access_offset = 0;
    for (const AccessRecord& r : to.access_records(AccessFilter{})) access_offset = std::max(access_offset, r.id);
    for (AccessRecord r : from.access_records(AccessFilter{})) {
      r.id += access_offset;
      to.import_access(r);
    }
    to.import_finish(to.per_chain_from(), true);
    LogEntry row = registry::moved_in(moved, RegistryStamp{move.actor, move.at});
    to.append_registry(row);
    moved.seq = row.seq;
    // An office's administrators are not the server's: the role is removed
    // here (logged), to be granted again by the server's administrators.
    // The mover last: on a server that does not log staff in yet, an
    // administrator of FROM moves it, and acts as one until the end.
    for (const StaffMember& member : from.all_staff())
      if (std::find(member.roles.begin(), member.roles.end(), "admin") != member.roles.end())
        result.admins_removed.push_back(member.id);
    std::stable_partition(result.admins_removed.begin(), result.admins_removed.end(),
                          [&](const std::string& id) { return id != move.actor; });
    for (const std::string& id : result.admins_removed)
      to.set_staff_role(id, "admin", false, RegistryStamp{move.actor, move.at});
    // Every moved case ends its chain on TO where it ended on FROM.
    std::set<std::string, std::less<>> ids;
    for (const CaseRecord& c : cases) ids.insert(c.id);
    const Keep keep = [&ids](std::string_view chain) { return ids.count(chain) > 0; };
    if (count_database(from).case_heads != count_database(to, keep).case_heads)
      throw storage_error(tr(msg::runtime_copy_differs));
    result.closing = *to.checkpoint(move.actor, move.at).checkpoint;
    if (check) check(to);
  });
  return result;
}

}  // namespace sopir
