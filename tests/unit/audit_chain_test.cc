// verify's chain checker on its own: rows handed over in seq order are
// checked in batches on a second thread; findings must not depend on where
// the batch boundaries fall, and they come out in seq order.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "audit/chain.h"
#include "base/sha256.h"

using namespace sopir;
using audit::Finding;
using audit::FindingKind;

namespace {

struct Stored {
  int64_t seq;
  std::string case_id, record, prev_hash, hash;
};

// `n` rows, correctly chained, spread over a few cases.
std::vector<Stored> chain(int n) {
  std::vector<Stored> rows;
  std::string prev;
  for (int i = 1; i <= n; ++i) {
    Stored r;
    r.seq = i;
    r.case_id = "C" + std::to_string(i % 7);
    r.record = "{\"case_id\":\"" + r.case_id + "\",\"n\":" + std::to_string(i) + "}";
    r.prev_hash = prev;
    r.hash = sha256_hex(prev + r.record);
    prev = r.hash;
    rows.push_back(r);
  }
  return rows;
}

std::vector<Finding> check(const std::vector<Stored>& rows) {
  std::vector<Finding> findings;
  audit_internal::ChainChecker checker([&](Finding f) { findings.push_back(std::move(f)); });
  std::vector<StoredValue> none;
  for (const Stored& s : rows) {
    ChainRow r;
    r.seq = s.seq;
    r.case_id = s.case_id;
    r.case_seq = 1;
    r.prev_hash = s.prev_hash;
    r.hash = s.hash;
    r.record = s.record;
    r.personal = &none;
    checker.add(r);
  }
  checker.finish();
  return findings;
}

}  // namespace

TEST_CASE("a clean chain of many batches has no findings", "[audit][chain]") {
  CHECK(check(chain(10000)).empty());
  CHECK(check(chain(1)).empty());
  CHECK(check({}).empty());
}

TEST_CASE("a changed row is found wherever the batches split", "[audit][chain]") {
  // 4096 rows to a batch: the last of the first, the first of the second,
  // and one in the unfinished tail.
  for (int64_t seq : {int64_t{1}, int64_t{4096}, int64_t{4097}, int64_t{9999}}) {
    INFO("row " << seq);
    auto rows = chain(10000);
    rows[static_cast<size_t>(seq - 1)].record += " ";
    const auto findings = check(rows);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].kind == FindingKind::kChainHash);
    CHECK(findings[0].seq == seq);
    CHECK(findings[0].case_id == rows[static_cast<size_t>(seq - 1)].case_id);
  }
}

TEST_CASE("a deleted row at a batch boundary is a gap and a broken link", "[audit][chain]") {
  auto rows = chain(9000);
  rows.erase(rows.begin() + 4095);  // row 4096: the batch now ends at 4097
  rows.erase(rows.begin() + 8000);  // row 8002
  const auto findings = check(rows);
  REQUIRE(findings.size() == 4);
  CHECK(findings[0].kind == FindingKind::kSeqGap);
  CHECK(findings[0].seq == 4097);
  CHECK(findings[0].message.find("log row 4096 is missing") != std::string::npos);
  CHECK(findings[1].kind == FindingKind::kChainLink);
  CHECK(findings[1].seq == 4097);
  CHECK(findings[2].kind == FindingKind::kSeqGap);
  CHECK(findings[2].seq == 8003);
  CHECK(findings[3].kind == FindingKind::kChainLink);
  CHECK(findings[3].seq == 8003);
}
