// Moving an office's database into one that holds others (sopir/copy.h
// move_in).
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "runtime/copy_parts.h"
#include "sopir/copy.h"
#include "sopir/error.h"
#include "sopir/messages/base.h"
#include "sopir/messages/runtime.h"
#include "store/registry.h"

namespace sopir {

namespace {

using copying::parents_first;
using copying::require_readable;

// What FROM brings of its procedures: the versions new to TO, and those TO
// holds already (same id, version and SHA-256), whose publish rows are not
// issued again.
struct Procedures {
  std::vector<PublishedProcedure> added;
  std::set<std::string, std::less<>> shared;  // SHA-256
};

// Refusals of a move found before anything is written; FROM's procedures
// sorted into new and shared.
Procedures check_move(Store& from, Store& to, const MoveIn& move, const std::vector<CaseRecord>& cases) {
  if (const std::optional<SiteCopy> copied = from.site_copy())
    throw usage_error(tr(msg::runtime_move_site_copy, {copied->site}));
  if (from.per_chain_from() > 1)
    throw usage_error(tr(msg::runtime_move_chain_rule, {std::to_string(from.per_chain_from() - 1)}));
  if (const std::vector<MovedIn> earlier = copying::moves(from); !earlier.empty())
    throw usage_error(tr(msg::runtime_move_nested, {std::to_string(earlier.front().seq), earlier.front().from}));
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
    throw conflict(tr(msg::runtime_move_site_has_cases,
                      {move.site, counted(held, msg::base_n_case, msg::base_n_cases)}));
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
    const auto count = static_cast<int64_t>(both.size());
    throw conflict(tr(msg::runtime_move_case_collision,
                      {counted(count, msg::base_n_case_id, msg::base_n_case_ids), shown}));
  }
  std::set<std::string> to_staff;
  for (const StaffMember& m : to.all_staff()) to_staff.insert(m.id);
  std::string staff_both;
  for (const StaffMember& m : from.all_staff())
    if (to_staff.count(m.id)) staff_both += (staff_both.empty() ? "" : ", ") + m.id;
  if (!staff_both.empty()) throw conflict(tr(msg::runtime_move_staff_collision, {staff_both}));
  const std::vector<PublishedProcedure> to_procedures = to.versions();
  Procedures out;
  for (const PublishedProcedure& p : from.procedures()) {
    bool same = false, other_versions = false;
    for (const PublishedProcedure& q : to_procedures) {
      if (q.sop_id != p.sop_id) continue;
      if (q.sha256 == p.sha256 && q.version == p.version) same = true;
      else other_versions = true;
    }
    if (same) {
      out.shared.insert(p.sha256);
    } else if (other_versions) {
      throw conflict(tr(msg::runtime_move_procedure_differs, {p.sop_id, std::to_string(p.version), p.sha256.substr(0, 12)}));
    } else {
      out.added.push_back(p);
    }
  }
  return out;
}

// The newest row of TO's registry chain: (case_seq, hash); (0, "") when
// none. A registry scan reads registry rows only (an index).
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

// A registry row of FROM issued again on TO's registry chain, after `head`
// ((case_seq, hash) of its newest row, moved on), at `seq`.
void issue(Store& to, LogEntry row, int64_t seq, std::pair<int64_t, std::string>& head) {
  row.case_seq = head.first + 1;
  row.prev_hash = head.second;
  const std::string record = log_record(row);
  const std::string hash = chain_hash(row.prev_hash, row);
  ChainRow issued;
  issued.seq = seq;
  issued.case_id = "";
  issued.case_seq = row.case_seq;
  issued.prev_hash = row.prev_hash;
  issued.hash = hash;
  issued.record = record;
  to.import_log_row(issued);
  head = {row.case_seq, hash};
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
    const Procedures procedures = check_move(from, to, move, cases);
    result.procedures_shared = static_cast<int64_t>(procedures.shared.size());
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
    for (const PublishedProcedure& p : procedures.added) {
      to.import_procedure(p, from.pinned_calendars(p.sha256));
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
      if (e.kind == LogKind::kPublish && procedures.shared.count(e.sha256)) return true;  // TO has its row
      issue(to, registry::moved_row(e, moved), here.seq, head);
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
    // The moved-in row right after the moved rows (whose last ones may be
    // kept only, FROM's checkpoints), and TO's numbers on past it.
    moved.seq = moved.last_seq + 1;
    issue(to, registry::moved_in(moved, RegistryStamp{move.actor, move.at}), moved.seq, head);
    to.import_finish(to.per_chain_from(), true);
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
    const std::function<bool(std::string_view)> keep = [&ids](std::string_view chain) { return ids.count(chain) > 0; };
    if (count_database(from).case_heads != count_database(to, keep).case_heads)
      throw storage_error(tr(msg::runtime_copy_differs));
    result.closing = *to.checkpoint(move.actor, move.at).checkpoint;
    if (check) check(to);
  });
  return result;
}

}  // namespace sopir
