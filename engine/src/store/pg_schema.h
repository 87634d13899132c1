// The PostgreSQL schema of a sopir database and its forward migrations.
//
// A sopir database on PostgreSQL holds the table sopir_schema with one row:
// application 'sopir' and the number of migrations applied. docs/SCHEMA.md
// documents the result for auditors.
#pragma once

#include <string>
#include <vector>

namespace sopir::pg {

class Connection;

// The newest schema version this build knows (the number of migrations).
int latest_schema_version();

// The database's schema version: 0 when it has no sopir schema (an empty
// database or, with `other_tables` set, one holding tables of something
// else); -1 when sopir_schema names another application.
struct SchemaState {
  int version = 0;
  bool other_tables = false;
};
SchemaState schema_state(Connection& conn);
// The same in parts, for a caller that asks more in the same round trip:
// kSchemaTables selects two counts (sopir_schema tables, all tables of
// the public schema); schema_state_of reads the schema row when needed.
extern const char* const kSchemaTables;
SchemaState schema_state_of(Connection& conn, int64_t schema_tables, int64_t tables);

// Brings the database up to latest_schema_version(), each step in order,
// in one transaction that holds an advisory lock, so concurrent openers
// migrate once. A no-op when current. Throws PgFailure.
void migrate(Connection& conn, int up_to);

// How the database's triggers, their functions and the log's generated
// columns differ from the ones migrate() creates, one sentence each; empty
// when they match. Reads only; throws PgFailure.
std::vector<std::string> schema_differences(Connection& conn);

}  // namespace sopir::pg
