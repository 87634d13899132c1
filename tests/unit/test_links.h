// The SQLite log's links (schema 15, docs/SCHEMA.md "transitions"): each
// case row of the log names the seq of its case's previous row (prev_row),
// registry rows name none, and each case row names its newest log row
// (cases.head_row). Worked out here from case_id and case_seq, without the
// links, so a test can check that whatever wrote a database kept them.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdint>
#include <string>

namespace sopir::testing {

// How many log and case rows break the links (0 when they hold).
inline constexpr const char* kBrokenLinks =
    "SELECT (SELECT count(*) FROM transitions t WHERE t.prev_row IS NOT "
    "(SELECT p.seq FROM transitions p WHERE t.case_id IS NOT NULL AND p.case_id = t.case_id AND "
    "p.case_seq = t.case_seq - 1)) + (SELECT count(*) FROM cases c WHERE c.head_row IS NOT "
    "(SELECT t.seq FROM transitions t WHERE t.case_id = c.id AND t.case_seq = c.last_seq))";

inline int64_t broken_links(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet(kBrokenLinks).getInt64();
}

}  // namespace sopir::testing
