// verify(): the hash chain, the replay of every case, the anchor, and the
// case rows against their logs.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_set>

#include "audit/chain.h"
#include "audit/common.h"
#include "audit/links.h"
#include "audit/replay.h"
#include "audit/staff.h"
#include "base/sha256.h"
#include "lang/procedure_codec.h"
#include "sopir/audit.h"
#include "sopir/error.h"
#include "sopir/messages/audit.h"
#include "sopir/migration_apply.h"
#include "store/merkle.h"
#include "store/record_rows.h"
#include "store/registry.h"

namespace sopir::audit {

using namespace audit_internal;

const char* to_string(FindingKind kind) {
  switch (kind) {
    case FindingKind::kChainHash: return "chain-hash";
    case FindingKind::kChainLink: return "chain-link";
    case FindingKind::kSeqGap: return "seq-gap";
    case FindingKind::kPiiDigest: return "pii-digest";
    case FindingKind::kPiiGone:
      return "pii-gone";
    case FindingKind::kRecordDamaged:
      return "record-damaged";
    case FindingKind::kProcedureMissing: return "procedure-missing";
    case FindingKind::kCaseSeqGap: return "case-seq-gap";
    case FindingKind::kStepRefused: return "step-refused";
    case FindingKind::kStepDiffers: return "step-differs";
    case FindingKind::kCaseRow: return "case-row";
    case FindingKind::kAnchorMissing: return "anchor-missing";
    case FindingKind::kAnchorMismatch: return "anchor-mismatch";
    case FindingKind::kAnchorTruncated: return "anchor-truncated";
    case FindingKind::kLinkMissing: return "link-missing";
    case FindingKind::kLinkUnknown: return "link-unknown";
    case FindingKind::kLinkValues: return "link-values";
    case FindingKind::kSchemaChanged: return "schema-changed";
    case FindingKind::kCompiledDiffers: return "compiled-differs";
    case FindingKind::kCheckpointMismatch: return "checkpoint-mismatch";
    case FindingKind::kProcedureChanged: return "procedure-changed";
    case FindingKind::kProcedureUnlogged: return "procedure-unlogged";
    case FindingKind::kStaffRow: return "staff-row";
    case FindingKind::kMovedRegistry: return "moved-registry";
  }
  return "?";
}

Anchor parse_anchor(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) throw usage_error(tr(msg::audit_anchor_form, {text}));
  auto seq = parse_int(text.substr(0, colon));
  std::string hash = text.substr(colon + 1);
  for (char& c : hash) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool hex = hash.size() == 64 && std::all_of(hash.begin(), hash.end(), [](char c) {
                     return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                   });
  if (!seq || *seq < 1 || !hex) throw usage_error(tr(msg::audit_anchor_form, {text}));
  return Anchor{*seq, hash};
}

std::string format_anchor(const Anchor& anchor) {
  return std::to_string(anchor.seq) + ":" + anchor.hash;
}

Anchor anchor(Store& store) {
  if (auto c = store.newest_checkpoint(); c && c->checkpoint && c->checkpoint->upto_seq > 0)
    return Anchor{c->checkpoint->upto_seq, c->checkpoint->root};
  const int64_t head = store.chain_head().first;
  if (head == 0) return Anchor{};
  ChainRules rules;
  rules.root_at = head;
  ChainChecker heads([](Finding) {}, rules);
  store.scan_chain([&](const ChainRow& r) {
    heads.add(r);
    return true;
  });
  heads.finish();
  return Anchor{head, heads.root_at().value_or("")};
}

namespace {

class Verifier {
 public:
  Verifier(Store& store, const VerifyOptions& options, const ProgressFn& progress)
      : store_(store), options_(options), progress_(progress), procedures_(store) {}

  VerifyReport run() {
    site_copy_ = store_.site_copy();
    if (site_copy_) report_.site_copy = site_copy_->site;
    auto head = store_.chain_head();
    report_.head = Anchor{head.first, head.second};
    if (options_.chain) {
      for (std::string& change : store_.schema_changes()) add(FindingKind::kSchemaChanged, 0, "", std::move(change));
    }
    chain_pass(head.first);
    if (options_.anchor) check_anchor(head.first);
    registry_pass();
    judge_held_gaps();
    if (options_.replay) {
      registry_actor_pass();
      compiled_pass();
      replay_pass();
    }
    damaged_elsewhere();
    std::stable_sort(report_.findings.begin(), report_.findings.end(),
                     [](const Finding& a, const Finding& b) {
                       if ((a.seq == 0) != (b.seq == 0)) return a.seq != 0;
                       return a.seq < b.seq;
                     });
    return std::move(report_);
  }

 private:
  void add(FindingKind kind, int64_t seq, const std::string& case_id, std::string message) {
    report_.findings.push_back(Finding{kind, seq, case_id, std::move(message)});
  }

  void tick(VerifyPhase phase, int64_t done, int64_t total) {
    if (progress_ && (done % 4096 == 0 || done == total)) progress_(VerifyProgress{phase, done, total});
  }

  // One pass in seq order over the stored bytes (Store::scan_chain): the
  // chain checks (ChainChecker, hashing on a second thread) and the case ids
  // for the replay.
  void chain_pass(int64_t total) {
    ChainRules rules;
    rules.per_chain_from = store_.per_chain_from();
    rules.seq_gaps_allowed = store_.seq_gaps_allowed();
    // A file that says its numbers may skip (a copy of a server's log) is
    // held to what its checkpoints committed (a copy of one site leaves
    // other sites' rows out everywhere; a server's numbers skip by nature).
    rules.checkpoints_commit_gaps = !site_copy_ && !store_.session_identity().server;
    if (options_.anchor) rules.root_at = options_.anchor->seq;
    if (site_copy_) rules.site_copy = &*site_copy_;
    ChainChecker checker(
        [this](Finding f) {
          if (options_.chain) report_.findings.push_back(std::move(f));
        },
        rules);
    store_.scan_chain([&](const ChainRow& r) {
      ++report_.rows;
      if (options_.replay && !r.case_id.empty()) {
        // Rows of one case usually come together: skip the set lookup then.
        if (r.case_id != last_case_) {
          last_case_.assign(r.case_id.data(), r.case_id.size());
          log_cases_.insert(last_case_);
        }
      }
      if (options_.chain || options_.anchor) checker.add(r);
      tick(VerifyPhase::kChain, report_.rows, total);
      return true;
    });
    checker.finish();
    anchor_hash_ = checker.hash_at();
    anchor_root_ = checker.root_at();
    proven_ = checker.proven();
    if (proven_ && site_copy_) report_.proven_checkpoint = site_copy_->checkpoint_seq;
    report_.checkpoints_elsewhere = checker.checkpoints_elsewhere();
    held_gaps_ = checker.held_gaps();
    gap_commitments_ = checker.gap_commitments();
  }

  // The gaps of a file that says its numbers may skip, against what its
  // checkpoints committed: a gap after a checkpoint that says they do not,
  // with none saying they may after it, is a finding. A checkpoint among
  // the rows of an office moved in (registry_pass) was written in that
  // office's file and commits nothing about this log's numbers; the rows a
  // move keeps aside (moved_registry: its checkpoints, a publish the target
  // held) leave gaps among its numbers, checked with the move.
  void judge_held_gaps() {
    if (!options_.chain) return;
    std::optional<int64_t> no_gaps_from;
    for (const auto& [seq, may_skip] : gap_commitments_) {
      if (move_of(seq)) continue;
      if (may_skip)
        no_gaps_from.reset();
      else if (!no_gaps_from)
        no_gaps_from = seq;
    }
    if (!no_gaps_from) return;
    for (const auto& [before, after] : held_gaps_) {
      const MovedIn* among = move_of(before + 1);
      if (among && among == move_of(after - 1)) continue;
      if (before >= *no_gaps_from) report_.findings.push_back(ChainChecker::seq_gap(before, after));
    }
  }

  // The registry against the tables it records: every published version's
  // source against its SHA-256 and its publish row, and the staff table
  // against the staff rows (which replay checks actors by).
  void registry_pass() {
    std::map<std::string, LogEntry> published;  // sha256 -> its publish row
    LogFilter filter;
    filter.damaged = damaged_scanned_.hook();
    filter.kind = LogKind::kPublish;
    filter.registry = true;
    store_.scan_log(filter, [&](const LogEntry& e) {
      published.emplace(e.sha256, e);
      return true;
    });
    std::set<std::string> in_table;
    for (const PublishedProcedure& p : store_.procedures()) {
      in_table.insert(p.sha256);
      const std::string name = tr(msg::audit_procedure_version, {p.sop_id, std::to_string(p.version)});
      const std::string actual = sha256_hex(p.source);
      if (actual != p.sha256)
        add(FindingKind::kProcedureChanged, 0, "",
            tr(msg::audit_source_edited, {name, short_hash(p.sha256), short_hash(actual)}));
      const auto row = published.find(p.sha256);
      if (row == published.end()) {
        add(FindingKind::kProcedureUnlogged, 0, "",
            tr(msg::audit_unlogged, {name, short_hash(p.sha256)}));
        continue;
      }
      const std::string sop = logged_input(row->second, "sop_id"),
                        version = logged_input(row->second, "version");
      if (sop != p.sop_id || version != std::to_string(p.version))
        add(FindingKind::kProcedureChanged, row->second.seq, "",
            tr(msg::audit_table_differs, {short_hash(p.sha256), name, log_row(row->second.seq), sop, version}));
      // Who published it and when: the row's actor and time, or, on a row
      // the schema 4 upgrade wrote for an earlier version, its inputs.
      const LogEntry& e = row->second;
      std::string by = e.actor, at = format_datetime(e.occurred_at);
      if (e.event == registry_event::kExisting) {
        by = logged_input(e, "published_by");
        at = logged_input(e, "published_at");
      }
      if (p.published_by != by || format_datetime(p.published_at) != at)
        add(FindingKind::kProcedureChanged, e.seq, "",
            tr(msg::audit_published_by_differs,
               {name, p.published_by, format_datetime(p.published_at), log_row(e.seq), by, at}));
    }
    for (const auto& [sha256, e] : published) {
      if (in_table.count(sha256)) continue;
      add(FindingKind::kProcedureChanged, e.seq, "",
          tr(msg::audit_procedure_row_missing,
             {logged_input(e, "sop_id"), logged_input(e, "version"), short_hash(sha256), e.actor}));
    }
    for (PlanStatus& plan : migration_plans(store_, damaged_scanned_.hook()))
      plans_.emplace(plan.sha256, std::move(plan));
    // Every site but the default one (the schema makes it) is added by a
    // site row of the log.
    std::set<std::string> logged_sites{kDefaultSite};
    LogFilter sites;
    sites.damaged = damaged_scanned_.hook();
    sites.kind = LogKind::kSite;
    sites.registry = true;
    std::vector<LogEntry> copied;  // site copies taken ("copied" rows)
    store_.scan_log(sites, [&](const LogEntry& e) {
      for (const auto& [key, value] : e.inputs)
        if (key == "site") logged_sites.insert(value);
      if (e.event == registry_event::kCopied) copied.push_back(e);
      if (auto move = registry::moved_in_of(e)) moves_.push_back(std::move(*move));
      return true;
    });
    check_moves();
    links_.set_moves(&moves_);
    check_site_copy(copied);
    for (const Site& site : store_.sites())
      if (!logged_sites.count(site.id))
        add(FindingKind::kStaffRow, 0, "", tr(msg::audit_site_unlogged, {site.id, site.name}));
    staff_ = StaffTimeline(store_, damaged_scanned_.hook());
    const bool logins = store_.session_identity().server;
    std::set<std::string> staff_rows;
    for (const StaffMember& m : store_.all_staff()) {
      staff_rows.insert(m.id);
      std::string problem = staff_.differs(m, logins);
      if (!problem.empty())
        add(FindingKind::kStaffRow, 0, "",
            tr(msg::audit_staff_row, {m.id, problem}));
    }
    for (const auto& [id, seq] : staff_.added())
      if (!staff_rows.count(id))
        add(FindingKind::kStaffRow, seq, "", tr(msg::audit_staff_row_missing, {id, log_row(seq)}));
  }

  // In a copy of one site (Store::site_copy): the source's checkpoint its
  // proof is for is in the log, and the chains the proof places are exactly
  // those the source's "copied" row before it committed to (the row is in
  // the registry chain, whose head that checkpoint covers): none of them
  // can go missing, none be added.
  void check_site_copy(const std::vector<LogEntry>& copied) {
    if (!site_copy_) return;
    const SiteCopy& c = *site_copy_;
    if (!proven_) {
      add(FindingKind::kCheckpointMismatch, c.checkpoint_seq, "",
          tr(msg::audit_site_copy_no_checkpoint, {c.site, log_row(c.checkpoint_seq)}));
      return;
    }
    const LogEntry* row = nullptr;
    for (const LogEntry& e : copied)
      if (e.seq < c.checkpoint_seq) row = &e;
    std::map<std::string, std::string> logged;
    if (row)
      for (const auto& [key, value] : row->inputs) logged[key] = value;
    if (!row || logged["site"] != c.site) {
      add(FindingKind::kCheckpointMismatch, c.checkpoint_seq, "",
          tr(msg::audit_site_copy_unlogged, {c.site, log_row(c.checkpoint_seq)}));
      return;
    }
    std::vector<std::string> keys;
    for (const auto& [key, position] : c.proof.positions) keys.push_back(key);
    if (logged["chains"] != std::to_string(keys.size()) || logged["chains_sha256"] != merkle::chains_digest(keys))
      add(FindingKind::kCheckpointMismatch, row->seq, "",
          tr(msg::audit_site_copy_differs, {log_row(row->seq), c.site, logged["chains"], std::to_string(keys.size())}));
  }

  // The database a row belongs to when it came with a move; null for the
  // rows written here.
  const MovedIn* move_of(int64_t seq) const {
    for (const MovedIn& m : moves_)
      if (m.holds(seq)) return &m;
    return nullptr;
  }

  // Each moved-in database's kept registry (Store::scan_moved_registry):
  // a chain of its own from its first row, ending where its moved-in row
  // says, and every row of it issued again on this registry chain at its
  // number with the same facts (registry::moved_row), but its checkpoints
  // (whose roots cover its chains only) and the publish rows of versions
  // this database published itself. No other registry row lies among a
  // move's rows.
  void check_moves() {
    std::map<int64_t, LogEntry> here;  // registry rows among moved rows, by seq
    if (!moves_.empty()) {
      LogFilter registry;
      registry.damaged = damaged_scanned_.hook();
      registry.registry = true;
      store_.scan_log(registry, [&](const LogEntry& e) {
        if (e.case_id.empty() && move_of(e.seq)) here.emplace(e.seq, e);
        return true;
      });
    }
    // Each version's first publish row here (its own, or issued again by an
    // earlier move): a move does not issue again the publishing of a
    // version published before its rows.
    std::map<std::string, int64_t> first_published;
    {
      LogFilter publish;
      publish.damaged = damaged_scanned_.hook();
      publish.kind = LogKind::kPublish;
      publish.registry = true;
      store_.scan_log(publish, [&](const LogEntry& e) {
        first_published.emplace(e.sha256, e.seq);
        return true;
      });
    }
    struct Kept {
      int64_t rows = 0;
      std::string head;
    };
    std::map<int64_t, Kept> kept;  // by the move's row
    std::map<int64_t, std::string> kept_hashes;  // every kept row's hash, by seq
    std::set<int64_t> matched;
    const record_rows::PersonalLookup no_text = [](StoredValue&) {};
    store_.scan_moved_registry([&](const ChainRow& row) {
      const MovedIn* move = move_of(row.seq);
      if (!move) {
        add(FindingKind::kMovedRegistry, row.seq, "", tr(msg::audit_moved_outside, {std::to_string(row.seq)}));
        return true;
      }
      const std::string at = log_row(move->seq);
      Kept& k = kept[move->seq];
      if (row.prev_hash != k.head)
        add(FindingKind::kMovedRegistry, row.seq, "",
            tr(msg::audit_moved_link, {std::to_string(row.seq), at, short_hash(row.prev_hash), short_hash(k.head)}));
      Sha256 hash;
      hash.update(row.prev_hash);
      hash.update(row.record);
      const std::string recomputed = hash.hex_digest();
      if (recomputed != row.hash)
        add(FindingKind::kMovedRegistry, row.seq, "",
            tr(msg::audit_moved_hash, {std::to_string(row.seq), at, short_hash(row.hash), short_hash(recomputed)}));
      ++k.rows;
      k.head = std::string(row.hash);
      kept_hashes[row.seq] = k.head;
      LogEntry there;
      try {
        there = record_rows::read_record(row.record, row.seq, no_text);
      } catch (const std::exception&) {
        return true;  // its hash finding says it was changed
      }
      const auto published = first_published.find(there.sha256);
      const bool not_issued =
          there.kind == LogKind::kCheckpoint ||
          (there.kind == LogKind::kPublish && published != first_published.end() && published->second < move->first_seq);
      const auto issued = here.find(row.seq);
      if (issued == here.end()) {
        if (!not_issued)
          add(FindingKind::kMovedRegistry, row.seq, "",
              tr(msg::audit_moved_missing, {log_row(row.seq), to_string(there.kind), there.event}));
        return true;
      }
      matched.insert(row.seq);
      LogEntry expected = registry::moved_row(there, *move);
      expected.case_seq = issued->second.case_seq;
      if (not_issued || log_record(expected) != log_record(issued->second))
        add(FindingKind::kMovedRegistry, row.seq, "",
            tr(msg::audit_moved_differs, {log_row(row.seq), at, to_string(there.kind), there.event}));
      return true;
    });
    for (const auto& [seq, e] : here)
      if (!matched.count(seq))
        add(FindingKind::kMovedRegistry, seq, "", tr(msg::audit_moved_extra, {log_row(seq), log_row(move_of(seq)->seq)}));
    const MovedIn* before = nullptr;
    for (const MovedIn& m : moves_) {  // in the order of their rows
      const Kept& k = kept[m.seq];
      if (k.rows != m.registry_rows || k.head != m.registry_head)
        add(FindingKind::kMovedRegistry, m.seq, "",
            tr(msg::audit_moved_head, {log_row(m.seq), std::to_string(k.rows), short_hash(k.head),
                                       std::to_string(m.registry_rows), short_hash(m.registry_head)}));
      // Its rows: from the offset on, right before the row that records
      // them (a move writes them in one transaction, holding off every
      // other writer), after those of the move before it. So no row written
      // here before the newest checkpoint can be claimed as moved.
      if (m.first_seq != m.offset + 1 || m.last_seq < m.first_seq || m.last_seq + 1 != m.seq ||
          (before && m.first_seq <= before->seq))
        add(FindingKind::kMovedRegistry, m.seq, "",
            tr(msg::audit_moved_range, {log_row(m.seq), std::to_string(m.first_seq), std::to_string(m.last_seq),
                                        std::to_string(m.offset)}));
      else
        check_move_end(m, kept_hashes);
      before = &m;
    }
  }

  // The moved database's newest row, as its moved-in row names it ("SEQ:
  // HASH" there), is the move's last row here: a kept registry row, or a
  // case row of the log.
  void check_move_end(const MovedIn& m, const std::map<int64_t, std::string>& kept_hashes) {
    std::string hash;
    if (const auto kept = kept_hashes.find(m.last_seq); kept != kept_hashes.end()) {
      hash = kept->second;
    } else {
      LogFilter last;
      last.damaged = damaged_scanned_.hook();
      last.after_seq = m.last_seq - 1;
      store_.scan_log(last, [&](const LogEntry& e) {
        if (e.seq == m.last_seq) hash = e.hash;
        return false;
      });
    }
    if (hash.empty() && site_copy_) return;  // another site's row, not in a copy of one site
    const std::string expected = std::to_string(m.last_seq - m.offset) + ":" + hash;
    if (expected != m.head)
      add(FindingKind::kMovedRegistry, m.last_seq, "",
          tr(msg::audit_moved_end, {log_row(m.seq), m.head, log_row(m.last_seq), short_hash(hash)}));
  }

  // Who wrote each staff and publish row, checked like a step's actor: the
  // live engine lets only an administrator change staff (a member may set
  // their own passphrase), and an
  // administrator or policy officer publish. The log's first row, the
  // first administrator adding themselves at init, and the rows the schema
  // 4 upgrade wrote for what existed stand on their own.
  void registry_actor_pass() {
    LogFilter filter;
    filter.damaged = damaged_scanned_.hook();
    filter.registry = true;
    bool first = true;
    store_.scan_log(filter, [&](const LogEntry& row) {
      const bool was_first = first;
      first = false;
      if (!row.case_id.empty() || row.event == registry_event::kExisting) return true;
      if (row.actor.empty() && row.note == registry::kSitesUpgradeNote) return true;
      if (row.kind == LogKind::kStaff) {
        if (was_first && row.event == registry_event::kAdded) return true;
        // A moved database's first row, issued again here, stands on its own as there.
        const MovedIn* move = move_of(row.seq);
        if (move && row.seq == move->first_seq && row.event == registry_event::kAdded) return true;
        // Anyone in force may set their own passphrase; another's is an
        // administrator's reset.
        bool own = false;
        if (row.event == registry_event::kPassphraseSet) {
          for (const auto& [key, value] : row.inputs) own = own || (key == "staff" && value == row.actor);
        }
        const StaffCheck c = staff_.check(row.actor, own ? "" : "admin", row.seq);
        if (!c.problem.empty())
          add(FindingKind::kStepRefused, row.seq, "",
              tr(msg::audit_staff_change_by, {log_row(row.seq), row.event, row.actor, c.problem}));
      } else if (row.kind == LogKind::kMigrationPlan) {
        check_plan_row(row);
      } else if (row.kind == LogKind::kSite) {
        const StaffCheck c = staff_.check(row.actor, "admin", row.seq);
        if (!c.problem.empty())
          add(FindingKind::kStepRefused, row.seq, "",
              tr(msg::audit_site_change_by, {log_row(row.seq), row.event, row.actor, c.problem}));
      } else if (row.kind == LogKind::kPublish) {
        const StaffCheck admin = staff_.check(row.actor, "admin", row.seq);
        const StaffCheck policy = staff_.check(row.actor, "policy", row.seq);
        if (!admin.problem.empty() && !policy.problem.empty())
          add(FindingKind::kStepRefused, row.seq, "",
              tr(msg::audit_publish_by, {log_row(row.seq), row.actor, policy.problem}));
      }
      return true;
    });
  }

  // A plan proposed or approved: by policy staff in force; an approval of
  // a plan proposed before it, by someone other than its proposer.
  void check_plan_row(const LogEntry& row) {
    const std::string plan = logged_input(row, "plan");
    const StaffCheck c = staff_.check(row.actor, kMigrationRole, row.seq);
    if (!c.problem.empty())
      add(FindingKind::kStepRefused, row.seq, "",
          tr(msg::audit_plan_by, {log_row(row.seq), short_hash(plan), row.event, row.actor, c.problem}));
    if (row.event != registry_event::kApproved) return;
    auto it = plans_.find(plan);
    if (it == plans_.end() || it->second.proposed_seq >= row.seq) {
      add(FindingKind::kStepRefused, row.seq, "", tr(msg::audit_plan_unproposed, {log_row(row.seq), short_hash(plan)}));
    } else if (it->second.proposed_by == row.actor) {
      add(FindingKind::kStepRefused, row.seq, "",
          tr(msg::audit_plan_own, {log_row(row.seq), short_hash(plan), row.actor}));
    }
  }

  // The compiled forms saved at publishing (which the engine runs cases
  // by) against their sources (which replay and auditors read). Forms this
  // build does not read are not used, so not checked.
  void compiled_pass() {
    for (const PublishedProcedure& p : store_.procedures()) {
      std::map<std::string, CalendarSource> pinned;
      for (auto& c : store_.pinned_calendars(p.sha256)) pinned[c.name] = c;
      if (p.compiled.empty() || !decode_procedure(p.compiled, p.source, p.file, pinned)) continue;
      ProcedurePtr from_source = procedures_.get(p.sha256, nullptr);
      if (!from_source) continue;  // the replay reports procedure-missing
      if (encode_procedure(*from_source) != p.compiled)
        add(FindingKind::kCompiledDiffers, 0, "",
            tr(msg::audit_compiled_differs, {p.sop_id, std::to_string(p.version)}));
    }
  }

  void check_anchor(int64_t head_seq) {
    const Anchor& a = *options_.anchor;
    if (site_copy_ && !(head_seq >= a.seq && anchor_root_ && *anchor_root_ == a.hash)) {
      // A copy of one site holds the source's root through the proof at
      // the checkpoint it was proven against (checked in the chain pass),
      // and no other root of the source's: those are checked on the source.
      if (proven_ && proven_->upto_seq == a.seq && proven_->root == a.hash) return;
      if (a.seq <= site_copy_->copied_upto) {
        add(FindingKind::kAnchorMissing, a.seq, "",
            tr(msg::audit_anchor_site_copy, {site_copy_->site, std::to_string(site_copy_->copied_upto),
                                             std::to_string(a.seq),
                                             proven_ ? std::to_string(proven_->upto_seq) : tr(msg::audit_none)}));
        return;
      }
    }
    if (head_seq < a.seq) {
      add(FindingKind::kAnchorTruncated, a.seq, "",
          tr(msg::audit_anchor_truncated, {std::to_string(head_seq), std::to_string(a.seq), std::to_string(a.seq - head_seq)}));
    } else if (anchor_root_ && *anchor_root_ == a.hash) {
      return;  // the chain heads as of the anchor are what the witness holds
    } else if (!anchor_hash_) {
      add(FindingKind::kAnchorMissing, a.seq, "",
          tr(msg::audit_anchor_missing, {log_row(a.seq), short_hash(anchor_root_.value_or("")), short_hash(a.hash)}));
    } else if (*anchor_hash_ != a.hash) {
      add(FindingKind::kAnchorMismatch, a.seq, "",
          tr(msg::audit_anchor_mismatch, {log_row(a.seq), short_hash(*anchor_hash_),
                                          short_hash(anchor_root_.value_or("")), short_hash(a.hash)}));
    }
  }

  void replay_pass() {
    // Who opened whom, from the hashed log (the open rows), not from the
    // case rows, which anyone with the file could change.
    LogFilter opens;
    opens.damaged = damaged_scanned_.hook();
    opens.kind = LogKind::kOpen;
    store_.scan_log(opens, [&](const LogEntry& e) {
      if (e.linked_case.empty()) return true;
      const PublishedProcedure* pub = procedures_.published(e.sha256);
      children_[e.linked_case].push_back(linked_case(e.case_id, pub ? pub->sop_id : "", Status::kActive, "", ""));
      return true;
    });
    // The case rows a page at a time (a national database's would not fit
    // in memory at once), each replayed against its log and then taken out
    // of `log_cases_`: what is left there has log rows and no case row.
    const int64_t total = store_.count_cases(CaseFilter{});
    int64_t done = 0;
    store_.each_case(CaseFilter{}, [&](const CaseRecord& record) {
      replay_one(record.id, &record);
      log_cases_.erase(record.id);
      tick(VerifyPhase::kReplay, ++done, total);
    });
    for (const std::string& id : log_cases_) replay_one(id, nullptr);
    for (Finding& f : links_.findings()) report_.findings.push_back(std::move(f));
    for (const MovedIn& m : moves_)
      if (moved_cases_[m.seq] != m.cases)
        add(FindingKind::kMovedRegistry, m.seq, "",
            tr(msg::audit_moved_cases, {log_row(m.seq), std::to_string(m.cases), std::to_string(moved_cases_[m.seq])}));
  }

  // A row that does not read as a record, in the case's log or in a log
  // its guards read (a child's): named, and the case's other checks left
  // out (they would all follow from it); the other cases are read on.
  void replay_one(const std::string& id, const CaseRecord* record) {
    try {
      replay_readable(id, record);
    } catch (const Error& e) {
      if (!e.damaged_row()) throw;
      damaged_row(e, id);
      links_.add_unreplayed(record, {});
    }
  }

  // A kRecordDamaged finding for each case a damaged row kept from being
  // replayed: the case whose row it is and each case whose guards read
  // that case's log (a parent reading its child's), whichever comes first.
  void damaged_row(const Error& e, const std::string& id) {
    if (!damaged_cases_[e.damaged_row()].insert(id).second) return;
    add(FindingKind::kRecordDamaged, e.damaged_row(), id,
        tr(msg::audit_case_not_replayed, {e.message(), id}));
  }

  // The damaged rows the log scans met that no case's replay reported: the
  // registry's, or those of a case not replayed.
  void damaged_elsewhere() {
    for (const auto& [seq, message] : damaged_scanned_.rows())
      if (!damaged_cases_.count(seq)) add(FindingKind::kRecordDamaged, seq, "", message);
  }

  void replay_readable(const std::string& id, const CaseRecord* record) {
    std::vector<LogEntry> history;
    if (!record || log_cases_.count(id)) history = store_.history(id);
    if (history.empty()) {
      add(FindingKind::kCaseRow, 0, id, tr(msg::audit_case_no_log, {id}));
      links_.add_unreplayed(record, history);
      return;
    }
    if (!record)
      add(FindingKind::kCaseRow, history.front().seq, id,
          tr(msg::audit_case_no_row, {id}));
    check_personal_kept(history);  // needs no procedure
    // A moved case's rows name the sites of the database it came from. A
    // move brings whole chains: a case with rows among a move's began there.
    const MovedIn* moved = move_of(history.front().seq);
    if (moved) ++moved_cases_[moved->seq];
    for (const LogEntry& e : history) {
      const MovedIn* among = move_of(e.seq);
      if (among && among != moved) {
        add(FindingKind::kMovedRegistry, e.seq, id,
            tr(msg::audit_moved_chain, {log_row(e.seq), log_row(among->seq), id, log_row(history.front().seq)}));
        break;
      }
    }
    if (moved) {
      for (LogEntry& e : history) {
        if (!moved->holds(e.seq)) continue;
        if (!e.site.empty()) e.site = moved->here(e.site);
        for (auto& [key, value] : e.inputs)
          if (e.kind == LogKind::kTransfer && (key == "from_site" || key == "to_site")) value = moved->here(value);
      }
    }
    // A case moved by migration rows starts under the version it was
    // opened under; each migration row switches it (replay_case).
    const bool migrated = std::any_of(history.begin(), history.end(),
                                      [](const LogEntry& e) { return e.kind == LogKind::kMigration; });
    const std::string pinned = record && !migrated ? record->sha256 : history.front().sha256;
    std::string why;
    ProcedurePtr p = procedures_.get(pinned, &why);
    if (!p) {
      add(FindingKind::kProcedureMissing, history.front().seq, id,
          tr(msg::audit_cannot_replay, {id, why}));
      links_.add_unreplayed(record, history);
      return;
    }
    // The children's logs its guards read, before the case is counted as
    // replayed: a damaged row there stops its replay (replay_one()).
    std::vector<ChildTimeline> children;
    if (auto it = children_.find(id); it != children_.end() && reads_children(*p))
      children = child_timelines(store_, it->second);
    ++report_.cases;
    std::string in_force = pinned;
    for (const LogEntry& e : history) {
      if (e.kind == LogKind::kMigration) {
        in_force = e.sha256;
        check_migration_plan(e);
      }
      if (e.sha256 != in_force)
        add(FindingKind::kStepDiffers, e.seq, id,
            tr(msg::audit_other_version, {step_name(e), short_hash(e.sha256), short_hash(in_force)}));
    }
    if (migrated && record && record->sha256 != in_force)
      add(FindingKind::kCaseRow, history.back().seq, id,
          tr(msg::audit_row_differs, {id, tr(msg::audit_case_version_moved,
                                             {short_hash(record->sha256), short_hash(in_force)})}));
    const VersionLookup versions = [this](const std::string& sha256, std::string* why) {
      return procedures_.get(sha256, why);
    };
    const CaseReplay replay = replay_case(*p, history, children, &staff_, &versions);
    links_.add_case(record, history, p, replay);
    for (size_t i = 0; i < history.size(); ++i) {
      const LogEntry& e = history[i];
      const StepReplay& s = replay.steps[i];
      if (e.kind != LogKind::kOpen) ++report_.steps;  // opening a case is not a step
      if (s.sequence_gap)
        add(FindingKind::kCaseSeqGap, e.seq, id,
            tr(msg::audit_seq_gap, {id, std::to_string(s.expected_case_seq - 1), std::to_string(e.case_seq),
                                    log_row(e.seq)}));
      switch (s.verdict) {
        case Verdict::kAllowed: break;
        case Verdict::kUnverifiable: ++report_.unverifiable_steps; break;
        case Verdict::kRefused:
          add(FindingKind::kStepRefused, e.seq, id,
              tr(msg::audit_step_refused, {step_name(e), p->id, std::to_string((s.under ? s.under : p)->version), s.message}));
          break;
        case Verdict::kDiffers:
          add(FindingKind::kStepDiffers, e.seq, id,
              tr(msg::audit_step_differs, {step_name(e), s.message}));
          break;
      }
    }
    if (record)
      compare_case_row(*record, replay.end, history.back().seq, p->id,
                       history.front().kind == LogKind::kOpen
                           ? std::optional(history.front().occurred_at)
                           : std::nullopt);
    check_sites(history);
    if (record) {
      // Where the log leaves the case: the site of its open row or of its
      // newest transfer; the default site for a case opened before sites.
      std::string site = moved ? moved->site : kDefaultSite;
      for (const LogEntry& e : history)
        if (!e.site.empty()) site = e.site;
      if (record->site != site)
        add(FindingKind::kCaseRow, history.back().seq, id, tr(msg::audit_case_site, {id, record->site, site}));
    }
  }

  // Personal text leaves only by an erasure (`case erase`, `retention
  // apply`), which writes an `erased` row in the case's chain after the rows
  // whose values it erased. A value a row wrote that reads as erased (its
  // text, or its case's key, deleted) with no such row after it was removed
  // behind the engine's back: the evidence a step rests on, gone unrecorded.
  // A row's `before` values are an earlier row's `after`, checked there.
  void check_personal_kept(const std::vector<LogEntry>& history) {
    bool erased_after = false;
    for (auto e = history.rbegin(); e != history.rend(); ++e) {
      if (e->kind == LogKind::kErasure && e->event == erasure_event::kErased) erased_after = true;
      if (erased_after) continue;
      for (const LogEntry::Change& c : e->changes)
        if (c.after.pii && !c.after.missing && c.after.erased_since_keys)
          add(FindingKind::kPiiGone, e->seq, e->case_id,
              tr(msg::audit_pii_gone, {c.after.field, log_row(e->seq), e->case_id}));
    }
  }

  // Every staff member who acted on a case belonged to the site it was at
  // (a transfer: to both sites, or an administrator). Cases opened before
  // sites (no site on their open row) are checked from their first
  // transfer on: who belonged where before then was not logged.
  void check_sites(const std::vector<LogEntry>& history) {
    std::string site;
    for (const LogEntry& e : history) {
      if (e.kind == LogKind::kOpen) site = e.site;
      // A hand-off may open its case at another site: its open row's actor
      // acted at the parent's site (checked there), and the link check
      // compares the site with the hand-off's rule.
      if (e.kind == LogKind::kOpen && !e.linked_case.empty()) continue;
      const bool staff_row = !e.actor.empty() && e.kind != LogKind::kTimer && e.kind != LogKind::kMigration;
      if (e.kind == LogKind::kTransfer) {
        const bool admin = staff_.check(e.actor, "admin", e.seq).problem.empty();
        const std::string from = logged_input(e, "from_site");
        if (!site.empty() && from != site)
          add(FindingKind::kStepDiffers, e.seq, e.case_id, tr(msg::audit_transfer_from, {step_name(e), from, site}));
        if (!site.empty() && !admin &&
            (!staff_.belonged(e.actor, site, e.seq) || !staff_.belonged(e.actor, e.site, e.seq)))
          add(FindingKind::kStepRefused, e.seq, e.case_id,
              tr(msg::audit_transfer_by, {step_name(e), e.actor, site, e.site}));
        site = e.site;
        continue;
      }
      if (site.empty() || !staff_row) continue;
      // An actor who was no staff member in force is reported by replay.
      if (!staff_.check(e.actor, "", e.seq).problem.empty()) continue;
      if (!staff_.belonged(e.actor, site, e.seq))
        add(FindingKind::kStepRefused, e.seq, e.case_id, tr(msg::audit_other_site, {step_name(e), e.actor, site}));
    }
  }

  // A migration row applies a plan proposed and approved before it.
  void check_migration_plan(const LogEntry& e) {
    auto it = plans_.find(logged_input(e, "plan"));
    if (it == plans_.end() || it->second.approved_seq == 0 || it->second.approved_seq > e.seq)
      add(FindingKind::kStepRefused, e.seq, e.case_id,
          tr(msg::audit_migration_unapproved, {step_name(e), short_hash(logged_input(e, "plan"))}));
  }

  static std::string step_name(const LogEntry& e) {
    return tr(msg::audit_step_name, {log_row(e.seq), e.case_id, std::to_string(e.case_seq), e.event, e.actor,
                                     e.role.empty() ? tr(msg::audit_no_role) : e.role});
  }

  // `sop_id`: the procedure its log runs; `opened`: its open row's time
  // (unset when its first row is not one).
  void compare_case_row(const CaseRecord& c, const ReplayedCase& end, int64_t last_seq,
                        const std::string& sop_id, std::optional<DateTime> opened) {
    if (std::string problems = case_row_problems(c, end, sop_id, opened); !problems.empty())
      add(FindingKind::kCaseRow, last_seq, c.id, tr(msg::audit_row_differs, {c.id, problems}));
  }

  Store& store_;
  const VerifyOptions& options_;
  const ProgressFn& progress_;
  ProcedureCache procedures_;
  VerifyReport report_;
  std::unordered_set<std::string> log_cases_;
  std::string last_case_;
  std::optional<std::string> anchor_hash_, anchor_root_;
  std::optional<SiteCopy> site_copy_;     // Store::site_copy
  std::vector<MovedIn> moves_;            // databases moved in (site "moved-in" rows), in order
  // ChainChecker::held_gaps() and gap_commitments(), for judge_held_gaps().
  std::vector<std::pair<int64_t, int64_t>> held_gaps_;
  std::vector<std::pair<int64_t, bool>> gap_commitments_;
  std::map<int64_t, int64_t> moved_cases_;  // cases each move brought (by its row), as replayed
  std::optional<Checkpoint> proven_;      // the checkpoint its proof is for
  std::map<std::string, std::vector<LinkedCase>> children_;  // parent id -> the cases it opened
  LinkChecker links_;
  StaffTimeline staff_;
  // Rows found damaged (kRecordDamaged). Replay reports a row once for each
  // case it kept from being replayed (damaged_cases_: row -> those cases);
  // the log scans hand theirs to damaged_scanned_ (LogFilter::damaged),
  // and damaged_elsewhere() reports those no replay did (a registry row's).
  std::map<int64_t, std::set<std::string>> damaged_cases_;
  DamagedRows damaged_scanned_;
  std::map<std::string, PlanStatus> plans_;  // migration plans proposed, by hash
};

}  // namespace

VerifyReport verify(Store& store, const VerifyOptions& options, const ProgressFn& progress) {
  // One snapshot: on a database in use, a step written while verify reads
  // would otherwise show a case row ahead of the log rows already read.
  VerifyReport report;
  store.read_snapshot([&] { report = Verifier(store, options, progress).run(); });
  return report;
}

ReplayReport replay_proposed(Store& store, const Procedure& proposed) {
  ReplayReport report;
  report.sop_id = proposed.id;
  CaseFilter filter;
  filter.sop_id = proposed.id;
  for (const CaseRecord& record : store.cases(filter)) {
    const std::vector<LogEntry> history = store.history(record.id);
    ++report.cases;
    std::vector<ChildTimeline> children;
    if (reads_children(proposed)) children = child_timelines(store, children_of(store, record.id));
    const CaseReplay replay = replay_case(proposed, history, children);
    for (size_t i = 0; i < history.size(); ++i) {
      const LogEntry& e = history[i];
      const StepReplay& s = replay.steps[i];
      if (e.kind != LogKind::kOpen) ++report.steps;
      if (s.verdict == Verdict::kUnverifiable) ++report.unverifiable_steps;
      if (s.verdict != Verdict::kRefused && s.verdict != Verdict::kDiffers) continue;
      // Differences in due times or set values alone are not a different route.
      if (s.verdict == Verdict::kDiffers && s.decided_to == e.to_state) continue;
      ReplayDifference d;
      d.case_id = record.id;
      d.seq = e.seq;
      d.case_seq = e.case_seq;
      d.event = e.event;
      d.recorded_to = e.to_state;
      d.refused = s.verdict == Verdict::kRefused;
      d.proposed_to = d.refused ? "" : s.decided_to;
      d.message = d.refused ? s.message : tr(msg::audit_would_go, {s.decided_to, e.to_state});
      report.differences.push_back(std::move(d));
    }
  }
  return report;
}

}  // namespace sopir::audit
