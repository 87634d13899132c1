// The SQLite schema of a sopir database and its forward migrations.
//
// A sopir database carries PRAGMA application_id = kApplicationId and
// PRAGMA user_version = the number of migrations applied. docs/SCHEMA.md
// documents the result for auditors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace sopir::schema {

// "SOPR" in ASCII: marks an SQLite file as a sopir database.
constexpr int32_t kApplicationId = 0x534F5052;

// Views an auditor adds for their own queries: differences() accepts them.
constexpr char kAuditorViewPrefix[] = "audit_";

// The newest schema version this build knows (the number of migrations).
int latest_version();

// Brings `db` from its user_version up to latest_version(), each step in
// order, all inside one BEGIN IMMEDIATE transaction that also sets
// application_id and user_version. A no-op when already current (checked
// again under the write lock, so concurrent openers migrate once). Throws
// SQLite::Exception; the caller adds context.
// `up_to` stops at an older version (tests build old databases with it).
void migrate(SQLite::Database& db, int up_to = latest_version());

// How `db`'s tables, columns, indexes, triggers and views differ from the
// ones migrate() creates at db's user_version, one sentence each; empty when
// they match. Every added object counts, except views whose name starts
// with kAuditorViewPrefix (an auditor's own). Catches removed append-only triggers and redefined columns
// (e.g. a generated log column made to say something its record does not).
// Reads only; throws SQLite::Exception.
std::vector<std::string> differences(SQLite::Database& db);

}  // namespace sopir::schema
