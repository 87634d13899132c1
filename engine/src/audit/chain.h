// The chain part of verify (internal): every row's hash, its link to the
// row before it in its chain, gaps in seq, the salted digests of personal
// values, and every checkpoint's root recomputed from the rows.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "store/merkle.h"
#include "sopir/audit.h"
#include "sopir/store.h"

namespace sopir::audit_internal {

using audit::Finding;
using audit::FindingKind;

// Takes the rows of Store::scan_chain in seq order. Rows are copied into
// batches and each full batch is checked on a second thread while the
// caller reads the next one, so hashing overlaps reading from the
// database. Findings reach `sink` on the caller's thread, in seq order.
struct ChainRules {
  // Rows with a lower seq are chained in seq order (Store::per_chain_from);
  // the default treats every row so.
  int64_t per_chain_from = std::numeric_limits<int64_t>::max();
  // seq may skip numbers (Store::seq_gaps_allowed): no seq-gap findings;
  // a removed row still shows in its chain (case_seq, prev_hash, the head).
  bool seq_gaps_allowed = false;
  // Even so, the checkpoints' word counts (a database file that says it is
  // a copy of a server's log): the gaps and what each checkpoint committed
  // (Checkpoint::seq_gaps) are kept for the caller to judge (held_gaps(),
  // gap_commitments()), once it knows which rows came from offices moved in.
  bool checkpoints_commit_gaps = false;
  // Compute the Merkle root over the chain heads as of this row (an anchor).
  std::optional<int64_t> root_at;
  // A copy of one site (Store::site_copy): checkpoints before the one its
  // proof is for cover other sites' chains too and are counted, not
  // checked; that one is checked through the proof.
  const SiteCopy* site_copy = nullptr;
};

class ChainChecker {
 public:
  explicit ChainChecker(std::function<void(Finding)> sink, ChainRules rules = {});
  ~ChainChecker();
  ChainChecker(const ChainChecker&) = delete;
  ChainChecker& operator=(const ChainChecker&) = delete;

  void add(const ChainRow& row);
  // Checks what is left and waits: every finding has reached the sink.
  void finish();
  // After finish(): the root over the chain heads as of rules.root_at, and
  // the hash of that very row; nullopt when the log does not reach it.
  const std::optional<std::string>& root_at() const { return root_at_; }
  const std::optional<std::string>& hash_at() const { return hash_at_; }
  // After finish(), in a site copy: the checkpoints left unchecked (they
  // come before the proven one).
  int64_t checkpoints_elsewhere() const { return checkpoints_elsewhere_; }
  // The checkpoint the site copy's proof is for, when the log holds it.
  const std::optional<Checkpoint>& proven() const { return proven_; }
  // ChainRules::checkpoints_commit_gaps: each gap met (the row before it,
  // the row after), and each checkpoint's commitment (its row, whether its
  // log's numbers may skip), in seq order.
  const std::vector<std::pair<int64_t, int64_t>>& held_gaps() const { return held_gaps_; }
  const std::vector<std::pair<int64_t, bool>>& gap_commitments() const { return gap_commitments_; }
  static Finding seq_gap(int64_t before, int64_t after);  // the kSeqGap finding

 private:
  // Spans into Batch::bytes.
  struct Span {
    size_t offset = 0, size = 0;
  };
  struct Row {
    int64_t seq = 0, case_seq = 0;
    int64_t expected_prev_seq = 0;  // the row it must follow; 0: none (a chain's first)
    bool per_chain = false;
    Span case_id, prev_hash, hash, record, expected_prev;
    size_t personal_begin = 0, personal_end = 0;  // into Batch::personal
  };
  struct Batch {
    int64_t previous_seq = 0;   // the row before the batch's first
    std::string previous_hash;  // its hash
    bool seq_gaps_allowed = false;  // ChainRules::seq_gaps_allowed
    std::string bytes;
    std::vector<Row> rows;
    std::vector<StoredValue> personal;
  };

  static std::vector<Finding> check(const Batch& batch);
  void start_batch();
  void collect();  // waits for the batch in flight and passes its findings on
  void check_checkpoint(const ChainRow& row);

  std::function<void(Finding)> sink_;
  // Two batches by turns: one filled here while the other is checked on the
  // second thread, each keeping its buffers' capacity (a new batch's buffers
  // were allocated, grown and faulted in again every 4,096 rows).
  Batch filling_, checking_;
  std::future<std::vector<Finding>> in_flight_;
  int64_t last_seq_ = 0;
  std::string last_hash_;
  ChainRules rules_;
  merkle::Heads heads_;
  std::string previous_head_;  // advance()'s buffer: the hash a row's chain had
  std::optional<std::string> root_at_, hash_at_;
  int64_t checkpoints_elsewhere_ = 0;
  std::optional<Checkpoint> proven_;
  std::vector<std::pair<int64_t, int64_t>> held_gaps_;
  std::vector<std::pair<int64_t, bool>> gap_commitments_;
};

}  // namespace sopir::audit_internal
