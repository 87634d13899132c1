// A PostgreSQL connection through libpq, for the PostgreSQL store: connect
// with sopir's settings, run statements (text parameters, prepared by name
// for the hot paths), and turn failures into PgFailure carrying the
// server's SQLSTATE and whether the connection was lost.
#pragma once

#include "store/libpq.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sopir::pg {

// A failed statement or connection. `lost`: the connection is gone (the
// server stopped, the backend was terminated, the network failed), so the
// open transaction, if any, was rolled back by the server.
struct PgFailure : std::runtime_error {
  PgFailure(std::string sqlstate, std::string message, bool lost)
      : std::runtime_error(message), sqlstate(std::move(sqlstate)), lost(lost) {}
  std::string sqlstate;  // "" when the server sent none
  bool lost;
};

// NULL is std::nullopt.
using Param = std::optional<std::string>;

class Result {
 public:
  explicit Result(PGresult* result) : result_(result, libpq().PQclear) {}
  int rows() const { return libpq().PQntuples(result_.get()); }
  bool null(int row, int column) const { return libpq().PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view text(int row, int column) const {
    return {libpq().PQgetvalue(result_.get(), row, column),
            static_cast<size_t>(libpq().PQgetlength(result_.get(), row, column))};
  }
  std::string str(int row, int column) const { return std::string(text(row, column)); }
  int64_t integer(int row, int column) const;
  bool boolean(int row, int column) const { return text(row, column) == "t"; }
  int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class Connection {
 public:
  // Connects to `url` (a postgresql:// URL or key=value string) with
  // client_encoding UTF8 and a connect timeout (unless the URL sets one).
  // Throws PgFailure (sqlstate from the server when it sent one).
  Connection(const std::string& url, int connect_timeout_s);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters.
  Result exec(const std::string& sql);
  Result exec(const std::string& sql, const std::vector<Param>& params);
  // Prepares `sql` under `name` on first use on this connection; the
  // preparing goes in the same round trip as the first execution.
  Result run(const char* name, const char* sql, const std::vector<Param>& params);

  // Statements without parameters or rows (BEGIN, SAVEPOINT, RELEASE) held
  // back until the next statement, and sent in its round trip, in order
  // before it (libpq's pipeline mode); a failure of one of them is that
  // statement's failure. exec, exec with parameters and run all send them.
  void defer(std::string sql) { deferred_.push_back(std::move(sql)); }
  // Takes the newest held-back statement back unsent when it is `sql`.
  bool take_back(std::string_view sql);
  // Forgets every held-back statement.
  void drop_deferred() { deferred_.clear(); }
  const std::vector<std::string>& deferred() const { return deferred_; }
  // Whether the server has a transaction open on this connection (as of the
  // last answer it sent).
  bool in_transaction() const { return libpq().PQtransactionStatus(conn_) != PQTRANS_IDLE; }

  bool ok() const { return libpq().PQstatus(conn_) == CONNECTION_OK; }
  // Reconnects with the same settings (after a lost connection).
  void reset();
  // "postgresql://user@host:port/dbname", never the password.
  std::string describe() const;
  int backend_pid() const { return libpq().PQbackendPID(conn_); }

 private:
  Result check(PGresult* result);
  // The failure `result` reports (cleared here; null: the connection's).
  PgFailure failure(PGresult* result);
  // Sends the held-back statements and then one statement (prepared as
  // `name` when given, else unnamed with `sql`) in one round trip.
  Result pipeline(const char* name, const char* sql, const std::vector<Param>& params);
  PGconn* conn_ = nullptr;
  std::set<std::string> prepared_;
  std::vector<std::string> deferred_;
};

// A URL or connection string with its password replaced by "***", for
// messages about a server that could not be reached.
std::string redact(const std::string& url);

}  // namespace sopir::pg
