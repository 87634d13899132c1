// The chain part of verify (internal): every row's hash, its link to the
// row before, gaps in seq, and the salted digests of personal values.
#pragma once

#include <functional>
#include <future>
#include <string>
#include <vector>

#include "sopir/audit.h"
#include "sopir/store.h"

namespace sopir::audit_internal {

using audit::Finding;
using audit::FindingKind;

// Takes the rows of Store::scan_chain in seq order. Rows are copied into
// batches and each full batch is checked on a second thread while the
// caller reads the next one, so hashing overlaps reading from the
// database. Findings reach `sink` on the caller's thread, in seq order.
class ChainChecker {
 public:
  explicit ChainChecker(std::function<void(Finding)> sink);
  ~ChainChecker();
  ChainChecker(const ChainChecker&) = delete;
  ChainChecker& operator=(const ChainChecker&) = delete;

  void add(const ChainRow& row);
  // Checks what is left and waits: every finding has reached the sink.
  void finish();

 private:
  // Spans into Batch::bytes.
  struct Span {
    size_t offset = 0, size = 0;
  };
  struct Row {
    int64_t seq = 0, case_seq = 0;
    Span case_id, prev_hash, hash, record;
    size_t personal_begin = 0, personal_end = 0;  // into Batch::personal
  };
  struct Batch {
    int64_t previous_seq = 0;   // the row before the batch's first
    std::string previous_hash;  // its hash
    std::string bytes;
    std::vector<Row> rows;
    std::vector<StoredValue> personal;
  };

  static std::vector<Finding> check(const Batch& batch);
  void start_batch();
  void collect();  // waits for the batch in flight and passes its findings on

  std::function<void(Finding)> sink_;
  Batch filling_;
  std::future<std::vector<Finding>> in_flight_;
  int64_t last_seq_ = 0;
  std::string last_hash_;
};

}  // namespace sopir::audit_internal
