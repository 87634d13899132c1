// The columns both stores read a published procedure by, in the order their
// read_procedure() takes them: sop_id, version, sha256, source, file,
// published_at, published_by, current, case count, compiled form. The same
// SQL text serves SQLite and PostgreSQL; each list leaves out what its
// readers do not need.
#pragma once

namespace sopir::procedure_columns {

// Everything but the case count: single-procedure lookups are on every
// step's path, and counting walks an index entry per case.
constexpr const char* kWhole =
    "p.sop_id, p.version, p.sha256, p.source, p.file, p.published_at, p.published_by, p.current, "
    "0, "
    "p.compiled";
// Without the source: a step runs by the compiled form.
constexpr const char* kForm =
    "p.sop_id, p.version, p.sha256, '', p.file, p.published_at, p.published_by, p.current, 0, "
    "p.compiled";
// Neither source nor compiled form (Store::versions_of).
constexpr const char* kVersion =
    "p.sop_id, p.version, p.sha256, '', p.file, p.published_at, p.published_by, p.current, 0, ''";
// Everything, with how many cases run by each version (Store::procedures).
constexpr const char* kCounted =
    "p.sop_id, p.version, p.sha256, p.source, p.file, p.published_at, p.published_by, p.current, "
    "(SELECT count(*) FROM cases c WHERE c.sha256 = p.sha256), p.compiled";

}  // namespace sopir::procedure_columns
