// libpq behind the PostgreSQL store (pg_connection.h).
#include "store/pg_connection.h"

#include <charconv>
#include <optional>

#include "sopir/error.h"

namespace sopir::pg {

namespace {

std::string trimmed(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

int64_t Result::integer(int row, int column) const {
  const std::string_view t = text(row, column);
  int64_t value = 0;
  std::from_chars(t.data(), t.data() + t.size(), value);
  return value;
}

int64_t Result::affected() const {
  const char* count = libpq().PQcmdTuples(result_.get());
  return count && *count ? std::stoll(count) : 0;
}

Connection::Connection(const std::string& url, int connect_timeout_s) {
  // Keywords before dbname are defaults the URL may override; those after
  // it are sopir's own. Keepalives notice a server that vanished without
  // closing the connection within about 25 s.
  const std::string timeout = std::to_string(connect_timeout_s);
  const char* keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "application_name", "dbname", "client_encoding", nullptr};
  const char* values[] = {timeout.c_str(), "10", "5", "3", "sopir", url.c_str(), "UTF8", nullptr};
  conn_ = libpq().PQconnectdbParams(keys, values, 1);
  if (!conn_) throw PgFailure("", "out of memory", true);
  if (libpq().PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = trimmed(libpq().PQerrorMessage(conn_));
    libpq().PQfinish(conn_);
    conn_ = nullptr;
    throw PgFailure("", message, true);
  }
}

Connection::~Connection() {
  if (conn_) libpq().PQfinish(conn_);
}

void Connection::reset() {
  prepared_.clear();
  deferred_.clear();
  libpq().PQreset(conn_);
  if (libpq().PQstatus(conn_) != CONNECTION_OK) throw PgFailure("", trimmed(libpq().PQerrorMessage(conn_)), true);
  // A pipeline cut short by the lost connection leaves nothing to read on
  // the new one: make sure the connection is out of pipeline mode.
  libpq().PQexitPipelineMode(conn_);
}

bool Connection::take_back(std::string_view sql) {
  if (deferred_.empty() || deferred_.back() != sql) return false;
  deferred_.pop_back();
  return true;
}

std::string Connection::describe() const {
  std::string host = libpq().PQhost(conn_) ? libpq().PQhost(conn_) : "";
  if (!host.empty() && host[0] == '/') host = "socket " + host;
  return "postgresql://" + std::string(libpq().PQuser(conn_)) + "@" + host + ":" + libpq().PQport(conn_) + "/" + libpq().PQdb(conn_);
}

Result Connection::check(PGresult* result) {
  const ExecStatusType status = result ? libpq().PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(result);
  throw failure(result);
}

PgFailure Connection::failure(PGresult* result) {
  std::string sqlstate, message;
  if (result) {
    const char* state = libpq().PQresultErrorField(result, PG_DIAG_SQLSTATE);
    sqlstate = state ? state : "";
    const char* primary = libpq().PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    message = primary ? primary : trimmed(libpq().PQresultErrorMessage(result));
    libpq().PQclear(result);
  }
  if (message.empty()) message = trimmed(libpq().PQerrorMessage(conn_));
  // Class 08 is a connection exception; 57P01-57P03: the server is shutting
  // down, crashed or is starting; a bad status: the socket is gone.
  const bool lost = libpq().PQstatus(conn_) != CONNECTION_OK || sqlstate.rfind("08", 0) == 0 ||
                    sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
  return PgFailure(sqlstate, message, lost);
}

Result Connection::exec(const std::string& sql) {
  if (deferred_.empty()) return check(libpq().PQexec(conn_, sql.c_str()));
  // Statements without parameters go as one text; the answer is the last
  // one's, or the first failure's.
  std::string all;
  for (const auto& d : deferred_) all += d + "; ";
  deferred_.clear();
  return check(libpq().PQexec(conn_, (all + sql).c_str()));
}

namespace {

struct Params {
  explicit Params(const std::vector<Param>& params) {
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  }
  int count() const { return static_cast<int>(values.size()); }
  std::vector<const char*> values;
};

}  // namespace

Result Connection::exec(const std::string& sql, const std::vector<Param>& params) {
  if (!deferred_.empty()) return pipeline(nullptr, sql.c_str(), params);
  const Params p(params);
  return check(libpq().PQexecParams(conn_, sql.c_str(), p.count(), nullptr, p.values.data(), nullptr, nullptr, 0));
}

Result Connection::run(const char* name, const char* sql, const std::vector<Param>& params) {
  if (!deferred_.empty() || !prepared_.count(name)) return pipeline(name, sql, params);
  const Params p(params);
  return check(libpq().PQexecPrepared(conn_, name, p.count(), p.values.data(), nullptr, nullptr, 0));
}

Result Connection::pipeline(const char* name, const char* sql, const std::vector<Param>& params) {
  const LibPq& pq = libpq();
  std::vector<std::string> deferred;
  deferred.swap(deferred_);
  const bool prepare = name && !prepared_.count(name);
  if (pq.PQenterPipelineMode(conn_) != 1) throw failure(nullptr);
  // Everything is queued, then one sync: the server answers it all at once.
  // Without BEGIN before them the queued statements would form one implicit
  // transaction; only a prepare (not transactional) ever goes with an
  // autocommit statement.
  const Params p(params);
  bool sent = true;
  for (const auto& d : deferred)
    sent = sent && pq.PQsendQueryParams(conn_, d.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  if (prepare) sent = sent && pq.PQsendPrepare(conn_, name, sql, 0, nullptr) == 1;
  if (name)
    sent = sent && pq.PQsendQueryPrepared(conn_, name, p.count(), p.values.data(), nullptr, nullptr, 0) == 1;
  else
    sent = sent && pq.PQsendQueryParams(conn_, sql, p.count(), nullptr, p.values.data(), nullptr, nullptr, 0) == 1;
  sent = sent && pq.PQpipelineSync(conn_) == 1;
  if (!sent) {
    PgFailure why = failure(nullptr);
    // Nothing can be read back reliably from a half-sent pipeline: start
    // over on a new connection (as after a lost one: the server undid the
    // open transaction).
    if (pq.PQstatus(conn_) == CONNECTION_OK) reset();
    throw PgFailure(why.sqlstate, why.what(), true);
  }
  // One result per statement, each followed by a null; then the sync's.
  const size_t statements = deferred.size() + (prepare ? 1 : 0) + 1;
  std::optional<PgFailure> failed;
  PGresult* last = nullptr;
  bool gone = false;
  for (size_t i = 0; i < statements && !gone; ++i) {
    PGresult* r = pq.PQgetResult(conn_);
    if (!r) {
      gone = true;
      break;
    }
    const ExecStatusType status = pq.PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      if (prepare && i == deferred.size()) prepared_.insert(name);
      if (i + 1 == statements) {
        last = r;
      } else {
        pq.PQclear(r);
      }
    } else if (status == PGRES_PIPELINE_ABORTED) {
      pq.PQclear(r);  // skipped after an earlier failure
    } else if (!failed) {
      failed = failure(r);
    } else {
      pq.PQclear(r);
    }
    if (pq.PQstatus(conn_) != CONNECTION_OK) {
      gone = true;
      break;
    }
    // The null ending this statement's results.
    if (PGresult* extra = pq.PQgetResult(conn_)) {
      pq.PQclear(extra);
      gone = true;
    }
  }
  if (!gone) {
    PGresult* sync = pq.PQgetResult(conn_);
    if (!sync || pq.PQresultStatus(sync) != PGRES_PIPELINE_SYNC) gone = true;
    if (sync) pq.PQclear(sync);
  }
  if (gone || pq.PQexitPipelineMode(conn_) != 1) {
    if (last) pq.PQclear(last);
    PgFailure why = failed ? *failed : failure(nullptr);
    // An answer out of order: start over on a new connection.
    if (pq.PQstatus(conn_) == CONNECTION_OK) reset();
    throw PgFailure(why.sqlstate, why.what(), true);
  }
  if (failed) {
    if (last) pq.PQclear(last);
    throw *failed;
  }
  if (!last) throw failure(nullptr);
  return Result(last);
}

std::string redact(const std::string& url) {
  const LibPq* lib = nullptr;
  try {
    lib = &libpq();
  } catch (const Error&) {
    // Without the library, keep only what follows the credentials.
    const std::string bare = url.substr(0, url.find('?'));  // a query may carry a password
    const auto at = bare.rfind('@');
    const auto scheme = bare.find("://");
    if (at == std::string::npos || scheme == std::string::npos || at < scheme) return bare;
    return bare.substr(0, scheme + 3) + bare.substr(at + 1);
  }
  char* error = nullptr;
  PQconninfoOption* options = lib->PQconninfoParse(url.c_str(), &error);
  if (!options) {
    if (error) libpq().PQfreemem(error);
    return "(an unreadable connection string)";
  }
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string key = o->keyword;
    if (key == "user") user = o->val;
    if (key == "host" || (key == "hostaddr" && host.empty())) host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
  }
  libpq().PQconninfoFree(options);
  return "postgresql://" + (user.empty() ? "" : user + "@") + host + (port.empty() ? "" : ":" + port) + "/" + dbname;
}

}  // namespace sopir::pg
