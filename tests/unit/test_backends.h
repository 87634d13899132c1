// Store tests on both backends (header-only): a test asks for
// GENERATE(from_range(store_backends())) and opens a TestDatabase of each,
// an SQLite file in a temporary directory or a fresh database on the
// PostgreSQL test server (scripts/pg-server.sh; its URL in SOPIR_TEST_PG).
//
// Without SOPIR_TEST_PG the PostgreSQL runs are left out with a warning; in
// CI (CI=true) that is a failure: the server must be there.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <SQLiteCpp/SQLiteCpp.h>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <chrono>
#include <vector>

#include "sopir/store.h"
#include "store/pg_connection.h"
#include "test_values.h"

namespace sopir::testing {

enum class Backend { kSqlite, kPostgres };

inline const char* backend_name(Backend backend) {
  return backend == Backend::kSqlite ? "sqlite" : "postgresql";
}

// The test server's administrator URL, or "" when there is none (a FAIL in
// CI, a warning elsewhere).
inline std::string test_server_url() {
  const char* url = std::getenv("SOPIR_TEST_PG");
  if (url && *url) return url;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true")
    FAIL("SOPIR_TEST_PG is not set: in CI the PostgreSQL tests need the test server "
         "(scripts/test.sh starts it with scripts/pg-server.sh)");
  WARN("SOPIR_TEST_PG is not set: the PostgreSQL runs of this test are left out "
       "(eval \"$(scripts/pg-server.sh start)\" starts a test server)");
  return "";
}

// The backends a store test runs on.
inline std::vector<Backend> store_backends() {
  std::vector<Backend> out = {Backend::kSqlite};
  if (!test_server_url().empty()) out.push_back(Backend::kPostgres);
  return out;
}

// `url` with its database name replaced.
inline std::string with_database(const std::string& url, const std::string& name) {
  const size_t slash = url.rfind('/');
  const size_t query = url.find('?', slash);
  return url.substr(0, slash + 1) + name + (query == std::string::npos ? "" : url.substr(query));
}

// Store options that create the database (a test's new file or schema).
inline StoreOptions creating() {
  StoreOptions options;
  options.create = true;
  return options;
}

// A fresh, empty database on the test server, dropped at the end.
class PgTestDatabase {
 public:
  PgTestDatabase() : admin_url_(test_server_url()) {
    REQUIRE(!admin_url_.empty());
    static std::atomic<int> counter{0};
    name_ = "sopir_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" + random_hex(4);
    pg::Connection admin(admin_url_, 10);
    admin.exec("CREATE DATABASE " + name_);
    url_ = with_database(admin_url_, name_);
  }
  ~PgTestDatabase() {
    try {
      pg::Connection admin(admin_url_, 10);
      admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
      // A stopped server is removed whole by pg-server.sh stop.
    }
  }
  PgTestDatabase(const PgTestDatabase&) = delete;
  PgTestDatabase& operator=(const PgTestDatabase&) = delete;
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  const std::string& admin_url() const { return admin_url_; }

 private:
  std::string admin_url_, name_, url_;
};

// A database for a store test on either backend: `location` is what
// open_store takes (a path or a URL).
class TestDatabase {
 public:
  explicit TestDatabase(Backend backend) : backend_(backend) {
    UNSCOPED_INFO("backend: " << backend_name(backend));
    if (backend == Backend::kSqlite) {
      file_.emplace("store");
      location_ = file_->path();
    } else {
      server_.emplace();
      location_ = server_->url();
    }
  }
  Backend backend() const { return backend_; }
  const std::string& location() const { return location_; }

  // Runs SQL on a connection of its own; throws on failure (SQLite::Exception
  // or pg::PgFailure).
  void exec(const std::string& sql) {
    if (backend_ == Backend::kSqlite) {
      SQLite::Database raw(location_, SQLite::OPEN_READWRITE);
      raw.exec(sql);
    } else {
      pg::Connection raw(location_, 10);
      raw.exec(sql);
    }
  }
  // The first column of the first row as text.
  std::string query(const std::string& sql) {
    if (backend_ == Backend::kSqlite) {
      SQLite::Database raw(location_, SQLite::OPEN_READONLY);
      return raw.execAndGet(sql).getString();
    }
    pg::Connection raw(location_, 10);
    const pg::Result r = raw.exec(sql);
    return r.rows() ? r.str(0, 0) : "";
  }
  // Waits until no other session works on the database. A killed client's
  // server process may still be finishing a COMMIT it had received; reading
  // before it ends could see the log and the cases at different moments.
  // SQLite has no such process: a dead writer's lock is gone with it.
  void wait_for_no_other_sessions() {
    if (backend_ == Backend::kSqlite) return;
    pg::Connection raw(server_->admin_url(), 10);
    for (int i = 0; i < 600; ++i) {
      const pg::Result r = raw.exec(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", {server_->name()});
      if (r.integer(0, 0) == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("sessions on " << server_->name() << " still open after 30 s");
  }
  // Everything stored, to check that a refused write changed nothing: the
  // file and its WAL (SQLite), every table's rows (PostgreSQL).
  std::string snapshot() {
    if (backend_ == Backend::kSqlite) {
      std::string out;
      for (const char* suffix : {"", "-wal"}) {
        std::FILE* f = std::fopen((location_ + suffix).c_str(), "rb");
        if (!f) continue;
        char buffer[65536];
        size_t n;
        while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) out.append(buffer, n);
        std::fclose(f);
        out += "|";
      }
      return out;
    }
    pg::Connection raw(location_, 10);
    std::string out;
    for (const char* table : {"procedures", "staff", "sites", "personal_text", "cases", "registry_head", "transitions",
                              "access_log", "sopir_schema", "case_keys", "database_key"}) {
      if (raw.exec(std::string("SELECT to_regclass('public.") + table + "') IS NULL").boolean(0, 0)) continue;
      const pg::Result r = raw.exec(std::string("SELECT t::text FROM ") + table + " t ORDER BY 1");
      out += std::string(table) + ":";
      for (int i = 0; i < r.rows(); ++i) out += r.str(i, 0) + "\n";
    }
    return out;
  }

 private:
  Backend backend_;
  std::string location_;
  std::optional<TempDb> file_;
  std::optional<PgTestDatabase> server_;
};

}  // namespace sopir::testing
