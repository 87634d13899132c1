// verify's chain part: batches of copied rows checked on a second thread
// (see audit_chain.h).
#include "audit/chain.h"

#include <string_view>
#include <utility>

#include "audit/common.h"
#include "base/sha256.h"
#include "sopir/messages/audit.h"

namespace sopir::audit_internal {

namespace {

constexpr size_t kBatchRows = 4096;

}  // namespace

ChainChecker::ChainChecker(std::function<void(Finding)> sink, ChainRules rules)
    : sink_(std::move(sink)), rules_(rules) {
  start_batch();
}

ChainChecker::~ChainChecker() {
  if (in_flight_.valid()) in_flight_.wait();
}

void ChainChecker::start_batch() {
  filling_.previous_seq = last_seq_;
  filling_.previous_hash = last_hash_;
  filling_.seq_gaps_allowed = rules_.seq_gaps_allowed;
  filling_.bytes.clear();
  filling_.rows.clear();
  filling_.personal.clear();
  filling_.rows.reserve(kBatchRows);
}

void ChainChecker::add(const ChainRow& r) {
  Batch& b = filling_;
  auto copy = [&b](std::string_view text) {
    Span span{b.bytes.size(), text.size()};
    b.bytes.append(text.data(), text.size());
    return span;
  };
  // The anchor's root: the heads as of the last row at or before it.
  if (rules_.root_at && !root_at_ && r.seq > *rules_.root_at && last_seq_ <= *rules_.root_at && last_seq_ > 0)
    root_at_ = heads_.root();
  if (rules_.root_at && r.seq == *rules_.root_at) hash_at_ = std::string(r.hash);
  if (r.checkpoint) check_checkpoint(r);
  if (rules_.seq_gaps_allowed && rules_.checkpoints_commit_gaps) {
    if (r.seq != last_seq_ + 1) held_gaps_.emplace_back(last_seq_, r.seq);
    if (r.checkpoint && r.checkpoint->seq_gaps)
      gap_commitments_.emplace_back(r.seq, *r.checkpoint->seq_gaps);
  }
  Row row;
  row.seq = r.seq;
  row.case_seq = r.case_seq;
  row.case_id = copy(r.case_id);
  // The row it must follow: the row before it in seq order (rows from
  // before chains per case), else its chain's previous row.
  row.per_chain = r.seq >= rules_.per_chain_from;
  if (row.per_chain) {
    row.expected_prev_seq = heads_.advance(r.case_id, r.case_seq, r.hash, r.seq, previous_head_);
    row.expected_prev = copy(previous_head_);
  } else {
    row.expected_prev = copy(last_hash_);
    row.expected_prev_seq = last_seq_;
    heads_.set(r.case_id, r.case_seq, r.hash, r.seq);
  }
  row.prev_hash = copy(r.prev_hash);
  row.hash = copy(r.hash);
  row.record = copy(r.record);
  row.personal_begin = b.personal.size();
  if (r.personal) b.personal.insert(b.personal.end(), r.personal->begin(), r.personal->end());
  row.personal_end = b.personal.size();
  b.rows.push_back(row);
  last_seq_ = r.seq;
  last_hash_.assign(r.hash.data(), r.hash.size());
  if (b.rows.size() < kBatchRows) return;
  collect();
  std::swap(filling_, checking_);
  in_flight_ = std::async(std::launch::async, [this] { return check(checking_); });
  start_batch();
}

void ChainChecker::check_checkpoint(const ChainRow& r) {
  const Checkpoint& c = *r.checkpoint;
  if (rules_.site_copy && r.seq < rules_.site_copy->checkpoint_seq) {
    ++checkpoints_elsewhere_;  // its root covers chains this copy does not hold
    return;
  }
  const bool proven = rules_.site_copy && r.seq == rules_.site_copy->checkpoint_seq;
  std::string problem;
  if (c.upto_seq >= r.seq) {
    problem = tr(msg::audit_cp_after, {std::to_string(c.upto_seq)});
  } else if (c.upto_seq != last_seq_ && !(proven && c.upto_seq > last_seq_)) {
    // SQLite and PostgreSQL both take a checkpoint with nothing between the
    // rows it covers and its own row (a site copy may lack those: other sites').
    problem = tr(msg::audit_cp_gap, {std::to_string(c.upto_seq), std::to_string(last_seq_)});
  } else if (proven) {
    // One site's chains and the other sites' subtrees give the root.
    const SiteCopy& copy = *rules_.site_copy;
    proven_ = c;
    // The registry chain is always one of the copy's: it holds the
    // source's commitment to the others.
    std::optional<std::string> root;
    if (copy.proof.positions.count("")) root = merkle::root_with(copy.proof, heads_.leaves());
    if (!root || *root != c.root || copy.proof.leaves != c.chains)
      problem = tr(msg::audit_cp_proof, {short_hash(c.root), std::to_string(c.chains), copy.site,
                                         std::to_string(c.upto_seq),
                                         root ? short_hash(*root) : tr(msg::audit_cp_proof_unfit)});
  } else {
    const std::string root = heads_.root();
    const auto chains = static_cast<int64_t>(heads_.size());
    if (root != c.root || chains != c.chains)
      problem = tr(msg::audit_cp_root, {short_hash(c.root), std::to_string(c.chains), std::to_string(c.upto_seq),
                                        short_hash(root), std::to_string(chains)});
  }
  if (!problem.empty())
    sink_(Finding{FindingKind::kCheckpointMismatch, r.seq, "", tr(msg::audit_cp_fails, {log_row(r.seq), problem})});
}

void ChainChecker::finish() {
  if (rules_.root_at && !root_at_ && last_seq_ >= *rules_.root_at && last_seq_ > 0) root_at_ = heads_.root();
  collect();
  if (!filling_.rows.empty()) {
    for (Finding& f : check(filling_)) sink_(std::move(f));
  }
  start_batch();
}

Finding ChainChecker::seq_gap(int64_t before, int64_t after) {
  const int64_t first = before + 1, last = after - 1;
  // Of no case: the rows missing are not known; the next row's case is as
  // innocent as any.
  return Finding{
      FindingKind::kSeqGap, after, "",
      first == last ? tr(msg::audit_row_missing,
                         {std::to_string(first), std::to_string(before), std::to_string(after)})
                    : tr(msg::audit_rows_missing, {std::to_string(first), std::to_string(last),
                                                   std::to_string(before), std::to_string(after)})};
}

void ChainChecker::collect() {
  if (!in_flight_.valid()) return;
  for (Finding& f : in_flight_.get()) sink_(std::move(f));
}

std::vector<Finding> ChainChecker::check(const Batch& batch) {
  std::vector<Finding> findings;
  auto view = [&batch](Span s) { return std::string_view(batch.bytes).substr(s.offset, s.size); };
  auto add = [&findings](FindingKind kind, int64_t seq, std::string_view case_id, std::string message) {
    findings.push_back(Finding{kind, seq, std::string(case_id), std::move(message)});
  };
  int64_t previous_seq = batch.previous_seq;
  Sha256 hasher;
  for (const Row& r : batch.rows) {
    const std::string_view case_id = view(r.case_id), prev_hash = view(r.prev_hash), hash = view(r.hash);
    const std::string in_case = case_id.empty() ? "" : tr(msg::audit_in_case, {case_id});
    if (r.seq != previous_seq + 1 && !batch.seq_gaps_allowed)
      findings.push_back(seq_gap(previous_seq, r.seq));
    const std::string_view expected = view(r.expected_prev);
    if (prev_hash != expected) {
      const std::string but =
          r.expected_prev_seq == 0
              ? tr(r.per_chain ? msg::audit_first_of_chain : msg::audit_first_row)
              : tr(msg::audit_has_hash, {log_row(r.expected_prev_seq), short_hash(expected)});
      add(FindingKind::kChainLink, r.seq, case_id,
          tr(r.per_chain ? msg::audit_link_previous_chain : msg::audit_link_previous_row,
             {log_row(r.seq), in_case, short_hash(prev_hash), but}));
    }
    hasher.reset();
    hasher.update(prev_hash);
    hasher.update(view(r.record));
    const std::string recomputed = hasher.hex_digest();
    if (recomputed != hash) {
      add(FindingKind::kChainHash, r.seq, case_id,
          tr(msg::audit_row_changed,
             {log_row(r.seq),
              case_id.empty() ? "" : tr(msg::audit_in_case_step, {case_id, std::to_string(r.case_seq)}),
              short_hash(hash), short_hash(recomputed)}));
    }
    for (size_t i = r.personal_begin; i < r.personal_end; ++i) {
      const StoredValue& v = batch.personal[i];
      if (v.damaged) {
        add(FindingKind::kPiiDigest, r.seq, case_id,
            tr(msg::audit_pii_damaged, {v.field, log_row(r.seq), in_case}));
        continue;
      }
      if (!v.pii || v.missing || v.erased || v.locked) continue;  // locked: encrypted, no key held
      if (sha256_hex(v.salt + v.text) != v.digest)
        add(FindingKind::kPiiDigest, r.seq, case_id,
            tr(msg::audit_pii_digest, {v.field, log_row(r.seq), in_case}));
    }
    previous_seq = r.seq;
  }
  return findings;
}

}  // namespace sopir::audit_internal
