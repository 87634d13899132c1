// libpq behind the PostgreSQL store (pg_connection.h).
#include "store/pg_connection.h"

#include <charconv>

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
  libpq().PQreset(conn_);
  if (libpq().PQstatus(conn_) != CONNECTION_OK) throw PgFailure("", trimmed(libpq().PQerrorMessage(conn_)), true);
}

std::string Connection::describe() const {
  std::string host = libpq().PQhost(conn_) ? libpq().PQhost(conn_) : "";
  if (!host.empty() && host[0] == '/') host = "socket " + host;
  return "postgresql://" + std::string(libpq().PQuser(conn_)) + "@" + host + ":" + libpq().PQport(conn_) + "/" + libpq().PQdb(conn_);
}

Result Connection::check(PGresult* result) {
  const ExecStatusType status = result ? libpq().PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(result);
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
  throw PgFailure(sqlstate, message, lost);
}

Result Connection::exec(const std::string& sql) { return check(libpq().PQexec(conn_, sql.c_str())); }

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
  const Params p(params);
  return check(libpq().PQexecParams(conn_, sql.c_str(), p.count(), nullptr, p.values.data(), nullptr, nullptr, 0));
}

Result Connection::run(const char* name, const char* sql, const std::vector<Param>& params) {
  if (!prepared_.count(name)) {
    check(libpq().PQprepare(conn_, name, sql, 0, nullptr));
    prepared_.insert(name);
  }
  const Params p(params);
  return check(libpq().PQexecPrepared(conn_, name, p.count(), p.values.data(), nullptr, nullptr, 0));
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
