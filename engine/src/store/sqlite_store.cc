// The SQLite Store (open_sqlite_store): schema checks on open, the write
// transaction discipline, and the mapping between rows and store.h types.
// Every SQLiteCpp or JSON exception is caught here and rethrown as
// sopir::Error naming the database file and the case or procedure.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sopir/error.h"
#include "sopir/messages/store.h"
#include "sopir/store.h"
#include "store/case_order.h"
#include "store/log_json.h"
#include "store/merkle.h"
#include "store/nesting.h"
#include "store/procedure_columns.h"
#include "store/record_rows.h"
#include "store/registry.h"
#include "store/schema.h"
#include "store/sealing.h"

namespace sopir {

namespace {

using json = nlohmann::json;
using record_rows::Assigned;
using record_rows::PersonalTexts;
using record_rows::check_utf8;
using record_rows::claim_case_id;
using record_rows::has_personal;
using record_rows::prepare_value;
using record_rows::record_head;

Status status_from_text(const std::string& text) {
  if (auto status = status_from_string(text)) return *status;
  throw storage_error(tr(msg::store_unknown_status, {text}));
}

// Reads an optional int64 column (NULL -> nullopt).
std::optional<DateTime> time_column(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return DateTime{column.getInt64()};
}

void bind_time(SQLite::Statement& stmt, int index, const std::optional<DateTime>& time) {
  if (time) {
    stmt.bind(index, static_cast<int64_t>(time->seconds));
  } else {
    stmt.bind(index);
  }
}

void bind_text_or_null(SQLite::Statement& stmt, int index, const std::string& text) {
  if (text.empty()) {
    stmt.bind(index);
  } else {
    stmt.bind(index, text);
  }
}

// A statement prepared on first use: a one-shot command (one step) uses a
// few of the store's statements, and preparing costs as much as running.
class Lazy {
 public:
  Lazy(SQLite::Database& db, std::string sql) : db_(db), sql_(std::move(sql)) {}
  SQLite::Statement& get() {
    if (!stmt_) stmt_ = std::make_unique<SQLite::Statement>(db_, sql_);
    return *stmt_;
  }

 private:
  SQLite::Database& db_;
  std::string sql_;
  std::unique_ptr<SQLite::Statement> stmt_;
};

// Resets a cached statement on entry and on every way out, so a statement
// is never left mid-query holding a read snapshot.
class Use {
 public:
  explicit Use(Lazy& lazy) : Use(lazy.get()) {}
  explicit Use(SQLite::Statement& stmt) : stmt_(stmt) { stmt_.tryReset(); }
  ~Use() { stmt_.tryReset(); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;
  SQLite::Statement* operator->() { return &stmt_; }
  SQLite::Statement& operator*() { return stmt_; }

 private:
  SQLite::Statement& stmt_;
};

// A prepared statement used through the C API (SQLiteCpp hides its
// sqlite3_stmt), for scan_chain's column access without copies. Failures
// throw SQLite::Exception like SQLiteCpp's own.
class RawStatement {
 public:
  RawStatement(sqlite3* db, const char* query) : db_(db) {
    if (sqlite3_prepare_v2(db, query, -1, &stmt_, nullptr) != SQLITE_OK) throw SQLite::Exception(db);
  }
  ~RawStatement() { sqlite3_finalize(stmt_); }
  RawStatement(const RawStatement&) = delete;
  RawStatement& operator=(const RawStatement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  // True while there is a row.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SQLite::Exception(db_, rc);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Reads of many pages map the file rather than copy each page (up to 1 GiB
// of it; the rest is read as before): audits on the read-only store, and
// the read snapshots of the read-write one.
constexpr const char* kMapSize = "PRAGMA mmap_size = 1073741824";

// A case row as written; read_case() reads these and then head_row, the
// case's newest log row, which append_held() takes from the held row.
constexpr const char* kCaseColumns =
    "id, sop_id, sha256, state, status, data, version, last_seq, opened_at, due_at, "
    "hold_started, closure_reason, parent_case, head_hash, site";
// A log row is its record and its hashes (case_id and case_seq are generated
// from the record; prev_row, the link, is read where a history is).
constexpr const char* kLogColumns = "seq, record, prev_hash, hash";

std::string sql(const std::string& head, const char* columns, const std::string& tail) {
  return head + columns + tail;
}

// A description of an SQLite failure a person can act on.
std::string describe(const SQLite::Exception& e, int busy_timeout_ms) {
  switch (e.getErrorCode()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return tr(msg::store_sqlite_busy, {std::to_string(busy_timeout_ms)});
    case SQLITE_READONLY: return tr(msg::store_sqlite_read_only, {e.what()});
    case SQLITE_FULL: return tr(msg::store_sqlite_full);
    case SQLITE_NOTADB: return tr(msg::store_sqlite_not_a_db, {e.what()});
    case SQLITE_CORRUPT: return tr(msg::store_sqlite_corrupt, {e.what()});
    case SQLITE_CANTOPEN: return tr(msg::store_sqlite_cantopen, {e.what()});
    default: return e.what();
  }
}

// The WHERE clause of a case filter (empty when it filters nothing); its
// parameters are bound in the same order by bind_case_filter().
std::string case_where(const CaseFilter& filter) {
  std::string where;
  auto add = [&](const char* clause) { where += (where.empty() ? " WHERE " : " AND ") + std::string(clause); };
  if (filter.sop_id) add("sop_id = ?");
  if (filter.sha256) add("sha256 = ?");
  if (filter.state) add("state = ?");
  if (filter.status) add("status = ?");
  if (filter.due_before) add("due_at IS NOT NULL AND due_at < ?");
  if (filter.linked_to) add("(parent_case = ? OR id = (SELECT parent_case FROM cases WHERE id = ?))");
  if (filter.sites) {
    // A pass a page at a time walks the primary key (`id > ?` in id order):
    // the site index would find every case of the site again for each page
    // and sort them (`+site` keeps the planner off it).
    std::string in = filter.after_id ? "+site IN (" : "site IN (";
    for (size_t i = 0; i < filter.sites->size(); ++i) in += i ? ", ?" : "?";
    add(filter.sites->empty() ? "0" : (in + ")").c_str());
  }
  if (filter.after_id) add("id > ?");
  return where;
}

void bind_case_filter(SQLite::Statement& stmt, const CaseFilter& filter) {
  int index = 0;
  if (filter.sop_id) stmt.bind(++index, *filter.sop_id);
  if (filter.sha256) stmt.bind(++index, *filter.sha256);
  if (filter.state) stmt.bind(++index, *filter.state);
  if (filter.status) stmt.bind(++index, std::string(to_string(*filter.status)));
  if (filter.due_before) stmt.bind(++index, static_cast<int64_t>(filter.due_before->seconds));
  if (filter.linked_to) {
    stmt.bind(++index, *filter.linked_to);
    stmt.bind(++index, *filter.linked_to);
  }
  if (filter.sites) {
    for (const auto& site : *filter.sites) stmt.bind(++index, site);
  }
  if (filter.after_id) stmt.bind(++index, *filter.after_id);
}

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, std::unique_ptr<SQLite::Database> db, bool read_only,
              int busy_timeout_ms)
      : path_(std::move(path)),
        db_(std::move(db)),
        read_only_(read_only),
        busy_timeout_ms_(busy_timeout_ms),
        begin_(*db_, "BEGIN IMMEDIATE"),
        commit_(*db_, "COMMIT"),
        savepoint_(*db_, "SAVEPOINT sopir_nested"),
        release_(*db_, "RELEASE sopir_nested"),
        head_stmt_(*db_, "SELECT seq, hash FROM transitions ORDER BY seq DESC LIMIT 1"),
        case_version_(*db_,
                      "SELECT version, last_seq, head_hash, head_row FROM cases WHERE id = ?"),
        case_exists_(*db_, "SELECT 1 FROM cases WHERE id = ?"),
        find_case_(*db_, sql("SELECT ", kCaseColumns, ", head_row FROM cases WHERE id = ?")),
        history_(*db_, sql("SELECT ", kLogColumns,
                           " FROM transitions WHERE case_id = ? ORDER BY case_seq")),
        case_head_row_(*db_, "SELECT head_row, last_seq FROM cases WHERE id = ?"),
        // From row ?1 back along the links, at most ?2 rows (so a loop of
        // wrong links ends), newest first.
        linked_rows_(*db_,
                     "WITH RECURSIVE h(seq, record, prev_hash, hash, prev_row, n) AS ("
                     "SELECT seq, record, prev_hash, hash, prev_row, 1 FROM transitions WHERE seq "
                     "= ?1 UNION ALL "
                     "SELECT t.seq, t.record, t.prev_hash, t.hash, t.prev_row, h.n + 1 FROM h "
                     "JOIN transitions t ON t.seq = h.prev_row WHERE h.n < ?2) "
                     "SELECT seq, record, prev_hash, hash, prev_row FROM h"),
        insert_log_(
            *db_,
            "INSERT INTO transitions (record, prev_hash, hash, prev_row) VALUES (?, ?, ?, ?)"),
        // append_held's row, linked to the case's newest row.
        insert_held_log_(*db_,
                         "INSERT INTO transitions (record, prev_hash, hash, prev_row) VALUES "
                         "(?1, ?2, ?3, (SELECT head_row FROM cases WHERE id = ?4))"),
        set_head_row_(*db_, "UPDATE cases SET head_row = ? WHERE id = ?"),
        insert_case_(*db_, sql("INSERT INTO cases (", kCaseColumns,
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
        update_case_(
            *db_,
            "UPDATE cases SET sop_id = ?2, sha256 = ?3, state = ?4, status = ?5, data = ?6, "
            "version = ?7, last_seq = ?8, opened_at = ?9, due_at = ?10, hold_started = ?11, "
            "closure_reason = ?12, parent_case = ?13, head_hash = ?14, site = ?15, head_row = ?16 "
            "WHERE id = ?1"),
        insert_text_(*db_,
                     "INSERT OR IGNORE INTO personal_text (digest, text, case_id, sealed) VALUES "
                     "(?, ?, ?, ?)"),
        personal_text_(*db_, "SELECT text, case_id, sealed FROM personal_text WHERE digest = ?"),
        text_exists_(*db_, "SELECT 1 FROM personal_text WHERE digest = ?"),
        key_id_stmt_(*db_, "SELECT key_id FROM database_key WHERE id = 1"),
        case_key_(*db_, "SELECT sealed FROM case_keys WHERE case_id = ?"),
        staff_(*db_, "SELECT id, name, roles, active, sites FROM staff WHERE id = ?"),
        procedure_exists_(*db_, "SELECT 1 FROM procedures WHERE sha256 = ?"),
        procedure_by_hash_(*db_, sql("SELECT ", procedure_columns::kWhole,
                                     " FROM procedures p WHERE p.sha256 = ?")),
        procedure_form_by_hash_(*db_, sql("SELECT ", procedure_columns::kForm,
                                          " FROM procedures p WHERE p.sha256 = ?")),
        current_procedure_(*db_, sql("SELECT ", procedure_columns::kWhole,
                                     " FROM procedures p WHERE p.sop_id = ? AND p.current = 1")),
        registry_head_(*db_,
                       "SELECT case_seq, hash FROM transitions WHERE case_id IS NULL ORDER BY "
                       "case_seq DESC LIMIT 1") {}

  void transaction(const std::function<void()>& body) override {
    guard(msg::store_op_transaction, {}, [&] { write(msg::store_w_a_transaction, body); });
  }

  void transaction_all_or_nothing(const std::function<void()>& body) override {
    guard(msg::store_op_transaction, {}, [&] { write(msg::store_w_a_transaction, [&] { nesting_.all_or_nothing(body, path_); }); });
  }

  // A deferred transaction: in WAL mode its first read fixes the snapshot
  // every later read of this connection sees until COMMIT. The passes that
  // read many cases (todo, the clock and retention lists) run in one: for
  // its length the file is mapped (kMapSize), as the read-only store maps
  // it for audits, so that pages read out of order are not each copied by
  // a pread; steps, outside it, read as before.
  void read_snapshot(const std::function<void()>& body) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      // The file is mapped for the snapshot only (kMapSize), however it ends.
      const auto unmap = [&] {
        if (!read_only_) db_->tryExec("PRAGMA mmap_size = 0");
      };
      const auto abandon = [&] {
        db_->tryExec("ROLLBACK");
        unmap();
      };
      nesting_.read_snapshot(
          !sqlite3_get_autocommit(db_->getHandle()), body,
          [&] {
            if (!read_only_) db_->exec(kMapSize);
            try {
              db_->exec("BEGIN DEFERRED");
            } catch (...) {
              unmap();
              throw;
            }
          },
          [&] {
            try {
              db_->exec("COMMIT");
            } catch (...) {
              abandon();
              throw;
            }
            unmap();
          },
          abandon);
    });
  }

  PublishedProcedure publish(const std::string& sop_id, const std::string& sha256,
                             const std::string& source, const std::string& file,
                             const std::string& actor, DateTime at, int requested = 0) override {
    return guard(msg::store_op_publish_procedure, sop_id, [&] {
      if (sop_id.empty() || sha256.empty()) throw usage_error(tr(msg::store_internal, {"publish needs a sop id and a sha256"}));
      std::optional<PublishedProcedure> result;
      write(msg::store_w_publishing_a_procedure, [&] {
        if (auto existing = procedure_by_hash_locked(sha256)) {
          if (existing->sop_id != sop_id)
            throw conflict(tr(msg::store_already_published, {sha256, existing->sop_id, std::to_string(existing->version), sop_id}));
          result = std::move(existing);
          result->already_published = true;
          return;
        }
        SQLite::Statement max(*db_, "SELECT coalesce(max(version), 0) FROM procedures WHERE sop_id = ?");
        max.bind(1, sop_id);
        max.executeStep();
        const int64_t version = publication_number(sop_id, max.getColumn(0).getInt64(), requested);
        SQLite::Statement demote(*db_, "UPDATE procedures SET current = 0 WHERE sop_id = ? AND current = 1");
        demote.bind(1, sop_id);
        demote.exec();
        SQLite::Statement insert(*db_,
                                 "INSERT INTO procedures (sop_id, version, sha256, source, file, "
                                 "published_at, published_by, current) VALUES (?, ?, ?, ?, ?, ?, ?, 1)");
        insert.bind(1, sop_id);
        insert.bind(2, version);
        insert.bind(3, sha256);
        insert.bind(4, source);
        insert.bind(5, file);
        insert.bind(6, static_cast<int64_t>(at.seconds));
        insert.bind(7, actor);
        insert.exec();
        result = procedure_by_hash_locked(sha256);
        LogEntry entry = registry::published(*result, RegistryStamp{actor, at});
        insert_registry(entry);
      });
      return *result;
    });
  }

  std::optional<PublishedProcedure> procedure_by_hash(const std::string& sha256) override {
    return guard(msg::store_op_read_procedure, sha256, [&] { return procedure_by_hash_locked(sha256); });
  }

  std::optional<PublishedProcedure> procedure_form_by_hash(const std::string& sha256) override {
    return guard(msg::store_op_read_procedure, sha256, [&]() -> std::optional<PublishedProcedure> {
      Use stmt(procedure_form_by_hash_);
      stmt->bind(1, sha256);
      if (!stmt->executeStep()) return std::nullopt;
      return read_procedure(*stmt);
    });
  }

  std::optional<PublishedProcedure> current_procedure(const std::string& sop_id) override {
    return guard(msg::store_op_read_procedure, sop_id, [&]() -> std::optional<PublishedProcedure> {
      Use stmt(current_procedure_);
      stmt->bind(1, sop_id);
      if (!stmt->executeStep()) return std::nullopt;
      return read_procedure(*stmt);
    });
  }

  void set_compiled(const std::string& sha256, const std::string& compiled) override {
    guard(msg::store_op_save_the_compiled_procedure, sha256, [&] {
      write(msg::store_w_saving_a_compiled_procedure, [&] {
        SQLite::Statement update(*db_, "UPDATE procedures SET compiled = ? WHERE sha256 = ?");
        update.bind(1, compiled);
        update.bind(2, sha256);
        if (update.exec() != 1) throw not_found(tr(msg::store_no_procedure_hash, {sha256}));
      });
    });
  }

  void pin_calendars(const std::string& procedure_sha256,
                     const std::vector<CalendarSource>& calendars) override {
    guard(msg::store_op_pin_the_calendars_of_procedure, procedure_sha256, [&] {
      write(msg::store_w_pinning_calendars, [&] {
        SQLite::Statement pinned(*db_, "SELECT count(*) FROM procedure_calendars WHERE procedure_sha256 = ?");
        pinned.bind(1, procedure_sha256);
        if (pinned.executeStep() && pinned.getColumn(0).getInt64() > 0) return;
        SQLite::Statement keep(*db_, "INSERT OR IGNORE INTO calendars (sha256, source) VALUES (?, ?)");
        SQLite::Statement link(*db_,
                               "INSERT INTO procedure_calendars (procedure_sha256, position, name, file, "
                               "calendar_sha256) VALUES (?, ?, ?, ?, ?)");
        for (size_t i = 0; i < calendars.size(); ++i) {
          const CalendarSource& c = calendars[i];
          keep.reset();
          keep.bind(1, c.sha256);
          keep.bind(2, c.text);
          keep.exec();
          link.reset();
          link.bind(1, procedure_sha256);
          link.bind(2, static_cast<int64_t>(i));
          link.bind(3, c.name);
          link.bind(4, c.file);
          link.bind(5, c.sha256);
          link.exec();
        }
      });
    });
  }

  std::vector<CalendarSource> pinned_calendars(const std::string& procedure_sha256) override {
    return guard(msg::store_op_read_the_calendars_of_procedure, procedure_sha256, [&] {
      SQLite::Statement q(*db_,
                          "SELECT l.name, l.file, c.source, c.sha256 FROM procedure_calendars l JOIN calendars c "
                          "ON c.sha256 = l.calendar_sha256 WHERE l.procedure_sha256 = ? ORDER BY l.position");
      q.bind(1, procedure_sha256);
      std::vector<CalendarSource> out;
      while (q.executeStep()) {
        out.push_back(CalendarSource{q.getColumn(0).getString(), q.getColumn(1).getString(),
                                     q.getColumn(2).getString(), q.getColumn(3).getString()});
      }
      return out;
    });
  }

  std::vector<PublishedProcedure> procedures() override {
    return every_procedure(procedure_columns::kCounted);
  }

  std::vector<PublishedProcedure> versions_of(const std::string& sop_id) override {
    return guard(msg::store_op_read_procedure, sop_id, [&] {
      SQLite::Statement stmt(*db_, sql("SELECT ", procedure_columns::kVersion,
                                       " FROM procedures p WHERE p.sop_id = ? ORDER BY p.version"));
      stmt.bind(1, sop_id);
      std::vector<PublishedProcedure> out;
      while (stmt.executeStep()) out.push_back(read_procedure(stmt));
      return out;
    });
  }

  std::vector<PublishedProcedure> versions() override {
    return every_procedure(procedure_columns::kVersion);
  }

  // Every version of every procedure, by sop_id then version, read by
  // `columns` (procedure_columns.h).
  std::vector<PublishedProcedure> every_procedure(const char* columns) {
    return guard(msg::store_op_list_procedures, {}, [&] {
      SQLite::Statement stmt(
          *db_, sql("SELECT ", columns, " FROM procedures p ORDER BY p.sop_id, p.version"));
      std::vector<PublishedProcedure> out;
      while (stmt.executeStep()) out.push_back(read_procedure(stmt));
      return out;
    });
  }

  void add_staff(const StaffMember& member, const RegistryStamp& by) override {
    guard(msg::store_op_add_staff_member, member.id, [&] {
      if (member.id.empty()) throw usage_error(tr(msg::store_staff_needs_id));
      write(msg::store_w_adding_a_staff_member, [&] {
        SQLite::Statement exists(*db_, "SELECT 1 FROM staff WHERE id = ?");
        exists.bind(1, member.id);
        if (exists.executeStep()) throw conflict(tr(msg::store_staff_id_taken, {member.id}));
        const StaffMember added = with_sites(member);
        insert_staff_row(added);
        LogEntry entry = registry::staff_added(added, by);
        insert_registry(entry);
      });
    });
  }

  void set_staff_role(const std::string& id, const std::string& role, bool held,
                      const RegistryStamp& by) override {
    guard(msg::store_op_update_staff_member, id, [&] {
      if (role.empty()) throw usage_error(tr(msg::store_no_role));
      write(msg::store_w_updating_a_staff_member, [&] {
        std::optional<StaffMember> member = staff_locked(id);
        if (!member) throw not_found(tr(msg::store_no_staff, {id}));
        auto it = std::find(member->roles.begin(), member->roles.end(), role);
        if ((it != member->roles.end()) == held) return;
        if (held) {
          member->roles.push_back(role);
        } else {
          member->roles.erase(it);
        }
        SQLite::Statement update(*db_, "UPDATE staff SET roles = ? WHERE id = ?");
        update.bind(1, json(member->roles).dump());
        update.bind(2, id);
        update.exec();
        LogEntry entry = registry::staff_role(id, role, held, by);
        insert_registry(entry);
      });
    });
  }

  std::optional<StaffMember> staff(const std::string& id) override {
    return guard(msg::store_op_read_staff_member, id, [&] { return staff_locked(id); });
  }

  void add_site(const Site& site, const RegistryStamp& by) override {
    guard(msg::store_op_add_site, site.id, [&] {
      if (site.id.empty()) throw usage_error(tr(msg::store_internal, {"a site needs an id"}));
      write(msg::store_w_adding_a_site, [&] {
        SQLite::Statement exists(*db_, "SELECT name FROM sites WHERE id = ?");
        exists.bind(1, site.id);
        if (exists.executeStep()) throw conflict(tr(msg::store_site_id_taken, {site.id, exists.getColumn(0).getString()}));
        SQLite::Statement insert(*db_, "INSERT INTO sites (id, name) VALUES (?, ?)");
        insert.bind(1, site.id);
        insert.bind(2, site.name);
        insert.exec();
        LogEntry entry = registry::site_added(site, by);
        insert_registry(entry);
      });
    });
  }

  std::vector<Site> sites() override {
    return guard(msg::store_op_list_sites, {}, [&] {
      SQLite::Statement stmt(*db_, "SELECT id, name FROM sites ORDER BY id");
      std::vector<Site> out;
      while (stmt.executeStep()) out.push_back(Site{stmt.getColumn(0).getString(), stmt.getColumn(1).getString()});
      return out;
    });
  }

  void set_staff_site(const std::string& id, const std::string& site, bool held, const RegistryStamp& by) override {
    guard(msg::store_op_update_staff_member, id, [&] {
      write(msg::store_w_updating_a_staff_member, [&] {
        std::optional<StaffMember> member = staff_locked(id);
        if (!member) throw not_found(tr(msg::store_no_staff, {id}));
        require_site(site);
        auto it = std::find(member->sites.begin(), member->sites.end(), site);
        if ((it != member->sites.end()) == held) return;
        if (held) {
          member->sites.push_back(site);
          std::sort(member->sites.begin(), member->sites.end());
        } else {
          member->sites.erase(it);
        }
        SQLite::Statement update(*db_, "UPDATE staff SET sites = ? WHERE id = ?");
        update.bind(1, json(member->sites).dump());
        update.bind(2, id);
        update.exec();
        LogEntry entry = registry::staff_site(id, site, held, by);
        insert_registry(entry);
      });
    });
  }

  std::vector<StaffMember> all_staff() override {
    return guard(msg::store_op_list_staff, {}, [&] {
      SQLite::Statement stmt(*db_, "SELECT id, name, roles, active, sites FROM staff ORDER BY id");
      std::vector<StaffMember> out;
      while (stmt.executeStep()) out.push_back(read_staff(stmt));
      return out;
    });
  }

  void set_staff_active(const std::string& id, bool active, const RegistryStamp& by) override {
    guard(msg::store_op_update_staff_member, id, [&] {
      write(msg::store_w_updating_a_staff_member, [&] {
        std::optional<StaffMember> member = staff_locked(id);
        if (!member) throw not_found(tr(msg::store_no_staff, {id}));
        if (member->active == active) return;
        SQLite::Statement update(*db_, "UPDATE staff SET active = ? WHERE id = ?");
        update.bind(1, active ? 1 : 0);
        update.bind(2, id);
        update.exec();
        if (!active) drop_key_wrap(id);  // docs/PRIVACY.md: a deactivated member unlocks nothing
        LogEntry entry = registry::staff_active(id, active, by);
        insert_registry(entry);
      });
    });
  }

  std::optional<std::string> passphrase_hash(const std::string& id) override {
    return guard(msg::store_op_read_staff_member, id, [&]() -> std::optional<std::string> {
      SQLite::Statement q(*db_, "SELECT hash FROM staff_passphrases WHERE staff_id = ?");
      q.bind(1, id);
      if (!q.executeStep()) return std::nullopt;
      return q.getColumn(0).getString();
    });
  }

  bool admin_passphrase_set() override {
    return guard(msg::store_op_list_staff, {}, [&] {
      // `roles` is a JSON list: the text test only narrows (json_each
      // costs more to prepare than the query takes); each row is read.
      SQLite::Statement q(*db_,
                          "SELECT s.roles FROM staff_passphrases p JOIN staff s ON s.id = p.staff_id "
                          "WHERE s.active = 1 AND instr(s.roles, '\"admin\"') > 0");
      while (q.executeStep()) {
        const auto roles = json::parse(q.getColumn(0).getString()).get<std::vector<std::string>>();
        if (std::find(roles.begin(), roles.end(), "admin") != roles.end()) return true;
      }
      return false;
    });
  }

  void set_passphrase_hash(const std::string& id, const std::string& hash, const RegistryStamp& by) override {
    guard(msg::store_op_update_staff_member, id, [&] {
      write(msg::store_w_updating_a_staff_member, [&] {
        if (!staff_locked(id)) throw not_found(tr(msg::store_no_staff, {id}));
        SQLite::Statement upsert(*db_,
                                 "INSERT INTO staff_passphrases (staff_id, hash, set_at) VALUES (?, ?, ?) "
                                 "ON CONFLICT (staff_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at");
        upsert.bind(1, id);
        upsert.bind(2, hash);
        upsert.bind(3, static_cast<int64_t>(by.at.seconds));
        upsert.exec();
        // The old passphrase must not unlock the key any more: the caller
        // wraps it again under the new one when it can (wrap_database_key).
        drop_key_wrap(id);
        LogEntry entry = registry::staff_passphrase(id, by);
        insert_registry(entry);
      });
    });
  }

  void record_login_failure(const std::string& id, DateTime at) override {
    if (read_only_) return;
    guard(msg::store_op_update_staff_member, id, [&] {
      write(msg::store_w_updating_a_staff_member, [&] {
        SQLite::Statement insert(*db_, "INSERT INTO login_failures (staff_id, at) VALUES (?, ?)");
        insert.bind(1, id);
        insert.bind(2, static_cast<int64_t>(at.seconds));
        insert.exec();
      });
    });
  }

  int64_t login_failures_since(const std::string& id, DateTime since) override {
    return guard(msg::store_op_read_staff_member, id, [&] {
      SQLite::Statement q(*db_, "SELECT count(*) FROM login_failures WHERE staff_id = ? AND at >= ?");
      q.bind(1, id);
      q.bind(2, static_cast<int64_t>(since.seconds));
      q.executeStep();
      return q.getColumn(0).getInt64();
    });
  }

  bool read_only() const override { return read_only_; }

  bool encrypts_personal_data() override {
    return guard(msg::store_op_read_staff_member, {}, [&] { return !current_key_id().empty(); });
  }

  bool personal_data_unlocked() override {
    return guard(msg::store_op_read_staff_member, {}, [&] { return database_key() != nullptr; });
  }

  Unlock unlock_personal_data(const std::string& id, std::string_view passphrase) override {
    return guard(msg::store_op_read_staff_member, id, [&] {
      if (current_key_id().empty()) return Unlock::kNoKey;
      SQLite::Statement q(*db_, "SELECT salt, ops, mem, sealed FROM key_wraps WHERE staff_id = ?");
      q.bind(1, id);
      if (!q.executeStep()) return Unlock::kNoKey;
      const sealing::KdfCost cost{static_cast<unsigned long long>(q.getColumn(1).getInt64()),
                                  static_cast<size_t>(q.getColumn(2).getInt64())};
      auto kek = sealing::derive_key(passphrase, q.getColumn(0).getString(), cost);
      if (!kek) return Unlock::kWrong;
      auto key = sealing::open_key(*kek, q.getColumn(3).getString(), id);
      if (!key) return Unlock::kWrong;
      sealing::remember_database_key(key_id_, std::move(key));
      return Unlock::kUnlocked;
    });
  }

  bool wrap_database_key(const std::string& id, std::string_view passphrase, const std::string& hash) override {
    return guard(msg::store_op_update_staff_member, id, [&] {
      bool done = false;
      write(msg::store_w_updating_a_staff_member, [&] {
        if (current_key_id().empty()) {
          start_encryption();
        } else if (!database_key()) {
          return;
        }
        // A member's key costs what their log-in hash costs.
        const sealing::KdfCost cost = sealing::cost_of_hash(hash).value_or(sealing::KdfCost{3, size_t{96} << 20});
        const std::string salt = sealing::new_salt();
        auto kek = sealing::derive_key(passphrase, salt, cost);
        const std::string sealed = sealing::seal_key(*kek, *database_key(), id);
        SQLite::Statement upsert(*db_,
                                 "INSERT INTO key_wraps (staff_id, salt, ops, mem, sealed) VALUES (?, ?, ?, ?, ?) "
                                 "ON CONFLICT (staff_id) DO UPDATE SET salt = excluded.salt, ops = excluded.ops, "
                                 "mem = excluded.mem, sealed = excluded.sealed");
        upsert.bind(1, id);
        upsert.bind(2, salt.data(), static_cast<int>(salt.size()));
        upsert.bind(3, static_cast<int64_t>(cost.ops));
        upsert.bind(4, static_cast<int64_t>(cost.mem));
        upsert.bind(5, sealed.data(), static_cast<int>(sealed.size()));
        upsert.exec();
        done = true;
      });
      return done;
    });
  }

  bool supports_erasure() override { return true; }

  void erase_personal_data(const std::string& case_id, const std::vector<std::string>& digests) override {
    guard(msg::store_op_append_to_case, case_id, [&] {
      write(msg::store_w_appending_to_the_log, [&] {
        // Freed cells and pages are overwritten with zeros, not just unlinked.
        db_->exec("PRAGMA secure_delete = ON");
        SQLite::Statement by_case(*db_, "UPDATE personal_text SET text = NULL, sealed = NULL WHERE case_id = ?");
        by_case.bind(1, case_id);
        by_case.exec();
        SQLite::Statement by_digest(*db_, "UPDATE personal_text SET text = NULL, sealed = NULL WHERE digest = ?");
        for (const std::string& digest : digests) {
          by_digest.reset();
          by_digest.bind(1, digest);
          by_digest.exec();
        }
        SQLite::Statement drop(*db_, "DELETE FROM case_keys WHERE case_id = ?");
        drop.bind(1, case_id);
        drop.exec();
        case_keys_.drop(case_id);
        if (keyless_case_ == case_id) keyless_case_.clear();
      });
    });
  }

  bool erased_cleanup() override {
    return guard(msg::store_op_transaction, {}, [&] {
      // The write-ahead log still holds the pages as they were before the
      // erasure: copy the new ones into the file and cut the log to nothing.
      SQLite::Statement cp(*db_, "PRAGMA wal_checkpoint(TRUNCATE)");
      if (!cp.executeStep()) return true;
      return cp.getColumn(0).getInt() == 0 && cp.getColumn(1).getInt() == cp.getColumn(2).getInt();
    });
  }

  bool case_exists(const std::string& id) override {
    return guard(msg::store_op_look_up_case, id, [&] { return case_exists_locked(id); });
  }

  std::optional<CaseRecord> find_case(const std::string& id) override {
    return guard(msg::store_op_read_case, id, [&]() -> std::optional<CaseRecord> {
      Use stmt(find_case_);
      stmt->bind(1, id);
      if (!stmt->executeStep()) return std::nullopt;
      return read_case(*stmt);
    });
  }

  std::vector<CaseRecord> cases(const CaseFilter& filter) override {
    return guard(msg::store_op_list_cases, {}, [&] {
      std::string query =
          sql("SELECT ", kCaseColumns, ", head_row FROM cases") + case_where(filter) + case_order_by(filter);
      if (filter.limit > 0) query += " LIMIT " + std::to_string(filter.limit);
      Use stmt(shaped(query));
      bind_case_filter(*stmt, filter);
      std::vector<CaseRecord> out;
      while (stmt->executeStep()) out.push_back(read_case(*stmt));
      return out;
    });
  }

  int64_t count_cases(const CaseFilter& filter) override {
    return guard(msg::store_op_count_cases, {}, [&] {
      Use stmt(shaped("SELECT count(*) FROM cases" + case_where(filter)));
      bind_case_filter(*stmt, filter);
      stmt->executeStep();
      return stmt->getColumn(0).getInt64();
    });
  }

  std::vector<CaseHead> case_heads() override {
    return guard(msg::store_op_list_cases, {}, [&] {
      SQLite::Statement stmt(*db_, "SELECT id, last_seq, head_hash FROM cases ORDER BY id");
      std::vector<CaseHead> out;
      while (stmt.executeStep())
        out.push_back(CaseHead{stmt.getColumn(0).getString(), stmt.getColumn(1).getInt64(), stmt.getColumn(2).getString()});
      return out;
    });
  }

  std::vector<std::string> case_ids(const std::string& prefix, int64_t limit,
                                    const std::optional<std::vector<std::string>>& sites) override {
    return guard(msg::store_op_list_case_ids, {}, [&] {
      // A range scan on the primary key: ids >= prefix and below the next
      // prefix (byte 0xFF follows every UTF-8 byte), so that other sites'
      // ids past the range are not read (`+site` keeps the planner off the
      // site index, which would find every case of the site).
      std::string query = "SELECT id FROM cases WHERE id >= ?1";
      if (!prefix.empty()) query += " AND id < ?2";
      if (sites) {
        query += " AND +site IN (";
        for (size_t i = 0; i < sites->size(); ++i)
          query += "?" + std::to_string(i + 3) + (i + 1 < sites->size() ? ", " : "");
        query += sites->empty() ? "NULL)" : ")";
      }
      SQLite::Statement stmt(*db_, query + " ORDER BY id");
      stmt.bind(1, prefix);
      if (!prefix.empty()) stmt.bind(2, prefix + "\xff");
      if (sites)
        for (size_t i = 0; i < sites->size(); ++i) stmt.bind(static_cast<int>(i) + 3, (*sites)[i]);
      std::vector<std::string> out;
      while ((limit <= 0 || static_cast<int64_t>(out.size()) < limit) && stmt.executeStep()) {
        std::string id = stmt.getColumn(0).getString();
        if (id.compare(0, prefix.size(), prefix) != 0) break;
        out.push_back(std::move(id));
      }
      return out;
    });
  }

  void create_case(const CaseRecord& record, LogEntry& entry) override {
    guard(msg::store_op_open_case, record.id, [&] {
      if (record.id.empty()) throw usage_error(tr(msg::store_internal, {"a new case needs an id"}));
      if (entry.kind != LogKind::kOpen)
        throw usage_error(std::string("the first log row of a case must be of kind open, not ") +
                          to_string(entry.kind));
      claim_case_id(record, entry);
      Assigned saved(entry);
      try {
        write(msg::store_w_opening_a_case, [&] {
          if (case_exists_locked(record.id)) throw conflict(tr(msg::store_case_id_taken, {record.id}));
          if (!procedure_exists_locked(record.sha256))
            throw not_found(tr(msg::store_no_procedure_hash, {record.sha256}));
          if (!record.parent_case.empty() && !case_exists_locked(record.parent_case))
            throw not_found(tr(msg::store_no_parent, {record.parent_case}));
          if (!record.site.empty()) require_site(record.site);
          entry.case_seq = 1;
          const PreparedLog stored = prepare_log(entry, "");
          write_case(insert_case_, record, 1, entry.hash);
          insert_log(stored, entry, std::nullopt);
          set_head_row(record.id, entry.seq);
        });
      } catch (...) {
        saved.restore(entry);
        throw;
      }
    });
  }

  void append(const CaseRecord& record, int64_t expected_version, LogEntry& entry) override {
    guard(msg::store_op_append_to_case, record.id, [&] {
      if (record.version != expected_version + 1)
        throw usage_error(tr(msg::store_internal, {"the new case row must have version " + std::to_string(expected_version + 1) + " (expected version + 1), not " + std::to_string(record.version)}));
      if (is_registry(entry.kind))
        throw usage_error(tr(msg::store_internal, {std::string("a ") + to_string(entry.kind) + " row changes no case: use append_registry"}));
      claim_case_id(record, entry);
      Assigned saved(entry);
      try {
        write(msg::store_w_appending_to_the_log, [&] {
          int64_t last_seq = 0;
          std::string head;
          std::optional<int64_t> head_row;
          {
            Use stmt(case_version_);
            stmt->bind(1, record.id);
            if (!stmt->executeStep()) throw not_found(tr(msg::store_no_case, {record.id}));
            const int64_t version = stmt->getColumn(0).getInt64();
            last_seq = stmt->getColumn(1).getInt64();
            head = stmt->getColumn(2).getString();
            if (!stmt->getColumn(3).isNull()) head_row = stmt->getColumn(3).getInt64();
            if (version != expected_version) throw changed(record.id, version, expected_version);
          }
          entry.case_seq = last_seq + 1;
          const PreparedLog stored = prepare_log(entry, head);
          insert_log(stored, entry, head_row);
          write_case(update_case_, record, entry.case_seq, entry.hash, entry.seq);
        });
      } catch (...) {
        saved.restore(entry);
        throw;
      }
    });
  }

  void append_held(const CaseRecord& held, const CaseRecord& after, LogEntry& entry) override {
    guard(msg::store_op_append_to_case, after.id, [&] {
      if (after.version != held.version + 1 || after.id != held.id)
        throw usage_error(tr(msg::store_internal, {"the new case row must be the held case's (" + held.id + ") with version " + std::to_string(held.version + 1) + ", not " + after.id + " version " + std::to_string(after.version)}));
      claim_case_id(after, entry);
      Assigned saved(entry);
      try {
        write(msg::store_w_appending_to_the_log, [&] {
          entry.case_seq = held.last_seq + 1;
          const PreparedLog stored = prepare_log(entry, held.head_hash);
          insert_held_log(stored, held, entry);
          update_changed(held, after, entry.case_seq, entry.hash, entry.seq);
        });
      } catch (...) {
        saved.restore(entry);
        throw;
      }
    });
  }

  void append_registry(LogEntry& entry) override {
    guard(msg::store_op_append_to_the_registry_chain, {}, [&] {
      record_rows::check_registry_row(entry);
      Assigned saved(entry);
      try {
        write(msg::store_w_appending_to_the_log, [&] { append_registry_locked(entry); });
      } catch (...) {
        saved.restore(entry);
        throw;
      }
    });
  }

  LogEntry checkpoint(const std::string& actor, DateTime at) override {
    return guard(msg::store_op_write_a_checkpoint, {}, [&] {
      LogEntry entry;
      write(msg::store_w_writing_a_checkpoint, [&] {
        SQLite::Statement newest(*db_, "SELECT seq, case_id, json_extract(record, '$.kind') FROM transitions ORDER BY seq DESC LIMIT 1");
        if (!newest.executeStep()) {
          // An empty log: nothing to commit to, nothing written.
          entry.kind = LogKind::kCheckpoint;
          entry.checkpoint = Checkpoint{0, 0, merkle::root({})};
          return;
        }
        const int64_t upto = newest.getColumn(0).getInt64();
        if (newest.getColumn(1).isNull() && newest.getColumn(2).getString() == "checkpoint") {
          entry = *newest_checkpoint_locked();
          return;
        }
        // One writer holds the database: every row up to `upto` is
        // committed and no other is. Each case row holds its chain's head.
        std::vector<merkle::ChainHead> heads;
        if (auto registry = registry_head()) heads.push_back({"", registry->first, registry->second});
        SQLite::Statement cases(*db_, "SELECT id, last_seq, head_hash FROM cases ORDER BY id");
        while (cases.executeStep())
          heads.push_back({cases.getColumn(0).getString(), cases.getColumn(1).getInt64(),
                           cases.getColumn(2).getString()});
        entry.kind = LogKind::kCheckpoint;
        entry.event = "checkpoint";
        entry.actor = actor;
        entry.occurred_at = entry.recorded_at = at;
        Checkpoint c;
        c.upto_seq = upto;
        c.chains = static_cast<int64_t>(heads.size());
        c.root = merkle::root(std::move(heads));
        // The setting as this file says it, but a checkpoint never undoes
        // what the one before it committed: once one said the numbers do not
        // skip, so does every later one (the setting turned on behind
        // sopir's back is no copy of a server's log). A copy of one site
        // leaves rows out everywhere: its setting stands.
        c.seq_gaps = db_->execAndGet("SELECT seq_gaps FROM chain_rule").getInt() != 0;
        if (*c.seq_gaps && db_->execAndGet("SELECT count(*) FROM site_copy").getInt() == 0) {
          const std::optional<LogEntry> before = newest_checkpoint_locked();
          if (before && before->checkpoint && before->checkpoint->seq_gaps == false)
            c.seq_gaps = false;
        }
        entry.checkpoint = std::move(c);
        append_registry_locked(entry);
      });
      return entry;
    });
  }

  std::optional<LogEntry> newest_checkpoint() override {
    return guard(msg::store_op_read_the_newest_checkpoint, {}, [&] { return newest_checkpoint_locked(); });
  }

  int64_t per_chain_from() override {
    return guard(msg::store_op_read_the_chain_rule, {}, [&] {
      return db_->execAndGet("SELECT per_chain_from FROM chain_rule").getInt64();
    });
  }

  // A copy of a server's log keeps its seq numbers, which may skip
  // (schema 11: chain_rule.seq_gaps, set by import_finish).
  bool seq_gaps_allowed() override {
    return guard(msg::store_op_read_the_chain_rule, {}, [&] {
      return db_->execAndGet("SELECT seq_gaps FROM chain_rule").getInt() != 0;
    });
  }

  void scan_log(const LogFilter& filter, const std::function<bool(const LogEntry&)>& visit) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      std::string where;
      std::vector<std::pair<bool, std::string>> params;
      auto add = [&](const std::string& clause) { where += (where.empty() ? " WHERE " : " AND ") + clause; };
      auto text = [&](const std::string& value) { params.emplace_back(false, value); };
      auto number = [&](int64_t value) { params.emplace_back(true, std::to_string(value)); };
      if (filter.case_id) {
        // The case's rows by their links (linked_history), else by a scan.
        if (auto linked = linked_history(*filter.case_id)) {
          std::string seqs = "[";
          for (const LogEntry& e : *linked) seqs += (seqs.size() > 1 ? "," : "") + std::to_string(e.seq);
          add("seq IN (SELECT value FROM json_each(?))"), text(seqs + "]");
        } else {
          add("case_id = ?"), text(*filter.case_id);
        }
      }
      // A row of no case is a registry row only when its kind is one; any
      // other (a record damaged so that it names no case) is read, so that
      // the reader meets it as damaged rather than never sees it.
      if (!filter.case_id && !filter.registry)
        add("(case_id IS NOT NULL OR " + not_registry_kind() + ")");
      // Rows of a registry kind are registry rows: their partial index
      // (transitions_registry) finds them without reading every record
      // (verify's registry passes ask for publish, site and migration-plan
      // rows).
      const bool registry_only = filter.kind && is_registry(*filter.kind) && !filter.case_id;
      if (registry_only) add("case_id IS NULL");
      // The record's fields (schema 13 keeps no columns for them).
      auto field = [](const char* name) { return std::string("json_extract(record, '$.") + name + "')"; };
      if (filter.sop_id)
        add(field("sha256") + " IN (SELECT sha256 FROM procedures WHERE sop_id = ?)"), text(*filter.sop_id);
      if (filter.actor) add(field("actor") + " = ?"), text(*filter.actor);
      if (filter.event) add(field("event") + " = ?"), text(*filter.event);
      if (filter.state)
        add("(" + field("from_state") + " = ? OR " + field("to_state") + " = ?)"), text(*filter.state),
            text(*filter.state);
      if (filter.kind) add(field("kind") + " = ?"), text(to_string(*filter.kind));
      if (filter.since) add(field("occurred_at") + " >= ?"), number(filter.since->seconds);
      if (filter.until) add(field("occurred_at") + " < ?"), number(filter.until->seconds);
      if (filter.after_seq) add("seq > ?"), number(*filter.after_seq);
      // Named, or the planner reads the whole log in seq order rather than
      // sort the few registry rows it finds by the index.
      const std::string from = registry_only ? " FROM transitions INDEXED BY transitions_registry" : " FROM transitions";
      SQLite::Statement stmt(*db_, sql("SELECT ", kLogColumns, from) + where + " ORDER BY seq");
      for (size_t i = 0; i < params.size(); ++i) {
        const int index = static_cast<int>(i + 1);
        if (params[i].first) {
          stmt.bind(index, static_cast<int64_t>(std::stoll(params[i].second)));
        } else {
          stmt.bind(index, params[i].second);
        }
      }
      while (stmt.executeStep())
        if (!record_rows::visit_log_row(
                filter, [&] { return read_log(stmt); }, visit))
          break;
    });
  }

  void scan_chain(const std::function<bool(const ChainRow&)>& visit) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      // Raw column access to the stored record: no copies, no JSON decoding
      // (except for rows holding personal values).
      RawStatement stmt(db_->getHandle(), "SELECT seq, record, prev_hash, hash FROM transitions ORDER BY seq");
      sqlite3_stmt* raw = stmt.get();
      auto text = [raw](int column) {
        const auto* bytes = static_cast<const char*>(sqlite3_column_blob(raw, column));
        const int size = sqlite3_column_bytes(raw, column);
        return bytes ? std::string_view(bytes, static_cast<size_t>(size)) : std::string_view();
      };
      std::vector<StoredValue> personal;
      std::string case_id;
      ChainRow row;
      row.personal = &personal;
      while (stmt.step()) {
        row.seq = sqlite3_column_int64(raw, 0);
        row.record = text(1);
        row.prev_hash = text(2);
        row.hash = text(3);
        personal.clear();
        row.checkpoint.reset();
        if (!record_head(row.record, row.case_id, row.case_seq) || has_personal(row.record)) {
          // The slow path: decode the record (JSON the fast path does not
          // recognise, or personal values to check).
          record_rows::chain_row_details(row.record, case_id, row.case_seq, personal, lookup_);
          row.case_id = case_id;
        }
        if (row.case_id.empty()) row.checkpoint = record_rows::checkpoint_of(row.record);
        if (!visit(row)) break;
      }
    });
  }

  std::vector<LogEntry> history(const std::string& case_id) override {
    return guard(msg::store_op_read_the_history_of_case, case_id, [&] {
      if (auto linked = linked_history(case_id)) return std::move(*linked);
      std::vector<LogEntry> out;
      {
        Use stmt(history_);
        stmt->bind(1, case_id);
        while (stmt->executeStep()) out.push_back(read_log(*stmt));
      }
      if (out.empty() && !case_exists_locked(case_id)) throw not_found(tr(msg::store_no_case, {case_id}));
      return out;
    });
  }

  std::pair<int64_t, std::string> chain_head() override {
    return guard(msg::store_op_read_the_chain_head, {}, [&] { return read_head(); });
  }

  std::vector<std::string> schema_changes() override {
    return guard(msg::store_op_compare_the_schema, {}, [&] { return schema::differences(*db_); });
  }

  void record_access(const std::string& actor, const std::string& case_id, const std::string& what,
                     const std::string& reason, DateTime at) override {
    guard(msg::store_op_record_access_to_case, case_id, [&] {
      if (reason.empty()) throw usage_error(tr(msg::store_access_needs_reason));
      write(msg::store_w_recording_an_access, [&] {
        SQLite::Statement insert(*db_, "INSERT INTO access_log (actor, case_id, what, reason, at) VALUES (?, ?, ?, ?, ?)");
        insert.bind(1, actor);
        insert.bind(2, case_id);
        insert.bind(3, what);
        insert.bind(4, reason);
        insert.bind(5, static_cast<int64_t>(at.seconds));
        insert.exec();
      });
    });
  }

  std::vector<AccessRecord> access_records(const AccessFilter& filter) override {
    return guard(msg::store_op_read_the_access_log, {}, [&] {
      std::string where;
      auto add = [&](const std::string& clause) { where += (where.empty() ? " WHERE " : " AND ") + clause; };
      if (!filter.case_ids.empty()) {
        std::string marks;
        for (size_t i = 0; i < filter.case_ids.size(); ++i) marks += i ? ", ?" : "?";
        add("case_id IN (" + marks + ")");
      }
      if (filter.actor) add("actor = ?");
      if (filter.since) add("at >= ?");
      if (filter.until) add("at < ?");
      SQLite::Statement q(*db_, "SELECT id, actor, case_id, what, reason, at FROM access_log" + where + " ORDER BY id");
      int index = 0;
      for (const auto& id : filter.case_ids) q.bind(++index, id);
      if (filter.actor) q.bind(++index, *filter.actor);
      if (filter.since) q.bind(++index, static_cast<int64_t>(filter.since->seconds));
      if (filter.until) q.bind(++index, static_cast<int64_t>(filter.until->seconds));
      std::vector<AccessRecord> out;
      while (q.executeStep()) {
        AccessRecord r;
        r.id = q.getColumn(0).getInt64();
        r.actor = q.getColumn(1).getString();
        r.case_id = q.getColumn(2).getString();
        r.what = q.getColumn(3).getString();
        r.reason = q.getColumn(4).getString();
        r.at = DateTime{q.getColumn(5).getInt64()};
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  // Copying a database in (store.h "Copying a whole database"): the rows
  // as they are, inside the caller's transaction.
  void import_site(const Site& site) override {
    guard(msg::store_op_add_site, site.id, [&] {
      write(msg::store_w_adding_a_site, [&] {
        SQLite::Statement insert(*db_, "INSERT INTO sites (id, name) VALUES (?, ?) "
                                       "ON CONFLICT (id) DO UPDATE SET name = excluded.name");
        insert.bind(1, site.id);
        insert.bind(2, site.name);
        insert.exec();
      });
    });
  }

  // A server login has no place in a file (its staff log in with a
  // passphrase): the member is kept without it, and verify compares logins
  // only on a server.
  void import_staff(const StaffMember& member, const std::optional<std::string>& passphrase_hash) override {
    guard(msg::store_op_add_staff_member, member.id, [&] {
      write(msg::store_w_adding_a_staff_member, [&] {
        insert_staff_row(member);
        if (!passphrase_hash) return;
        SQLite::Statement hash(*db_, "INSERT INTO staff_passphrases (staff_id, hash, set_at) VALUES (?, ?, 0)");
        hash.bind(1, member.id);
        hash.bind(2, *passphrase_hash);
        hash.exec();
      });
    });
  }

  void import_procedure(const PublishedProcedure& p, const std::vector<CalendarSource>& calendars) override {
    guard(msg::store_op_publish_procedure, p.sop_id, [&] {
      write(msg::store_w_publishing_a_procedure, [&] {
        SQLite::Statement insert(*db_,
                                 "INSERT INTO procedures (sop_id, version, sha256, source, file, published_at, "
                                 "published_by, current, compiled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        insert.bind(1, p.sop_id);
        insert.bind(2, p.version);
        insert.bind(3, p.sha256);
        insert.bind(4, p.source);
        insert.bind(5, p.file);
        insert.bind(6, static_cast<int64_t>(p.published_at.seconds));
        insert.bind(7, p.published_by);
        insert.bind(8, p.current ? 1 : 0);
        insert.bind(9, p.compiled);
        insert.exec();
        if (!calendars.empty()) pin_calendars(p.sha256, calendars);
      });
    });
  }

  void import_case(const CaseRecord& record) override {
    guard(msg::store_op_open_case, record.id, [&] {
      write(msg::store_w_opening_a_case, [&] { write_case(insert_case_, record, record.last_seq, record.head_hash); });
    });
  }

  void import_log_row(const ChainRow& row) override {
    guard(msg::store_op_copy_log_row, std::to_string(row.seq), [&] {
      write(msg::store_w_appending_to_the_log, [&] {
        // Rows come in seq order, each after its case's row: a case row
        // links to the case's newest row so far and becomes it.
        SQLite::Statement insert(*db_, "INSERT INTO transitions (seq, record, prev_hash, hash, prev_row) VALUES "
                                       "(?1, ?2, ?3, ?4, (SELECT head_row FROM cases WHERE id = nullif(?5, '')))");
        insert.bind(1, static_cast<int64_t>(row.seq));
        // Text (not blobs, which a view of "" would bind as NULL), as insert_log binds it.
        insert.bind(2, std::string(row.record));
        insert.bind(3, std::string(row.prev_hash));
        insert.bind(4, std::string(row.hash));
        insert.bind(5, std::string(row.case_id));
        insert.exec();
        if (!row.case_id.empty()) set_head_row(std::string(row.case_id), row.seq);
        if (!row.personal) return;
        PersonalTexts texts;
        for (const StoredValue& value : *row.personal) record_rows::prepare_value(value, &texts);
        store_texts(std::string(row.case_id), texts);
      });
    });
  }

  void import_access(const AccessRecord& r) override {
    guard(msg::store_op_record_access_to_case, r.case_id, [&] {
      write(msg::store_w_recording_an_access, [&] {
        SQLite::Statement insert(*db_,
                                 "INSERT INTO access_log (id, actor, case_id, what, reason, at) VALUES (?, ?, ?, ?, ?, ?)");
        insert.bind(1, static_cast<int64_t>(r.id));
        insert.bind(2, r.actor);
        insert.bind(3, r.case_id);
        insert.bind(4, r.what);
        insert.bind(5, r.reason);
        insert.bind(6, static_cast<int64_t>(r.at.seconds));
        insert.exec();
      });
    });
  }

  void import_finish(int64_t per_chain_from, bool seq_gaps_allowed) override {
    guard(msg::store_op_transaction, {}, [&] {
      write(msg::store_w_a_transaction, [&] {
        SQLite::Statement update(*db_, "UPDATE chain_rule SET per_chain_from = ?, seq_gaps = ?");
        update.bind(1, static_cast<int64_t>(per_chain_from));
        update.bind(2, seq_gaps_allowed ? 1 : 0);
        update.exec();
      });
    });
  }

  void import_moved_registry_row(const ChainRow& row) override {
    guard(msg::store_op_copy_log_row, std::to_string(row.seq), [&] {
      write(msg::store_w_appending_to_the_log, [&] {
        SQLite::Statement insert(*db_, "INSERT INTO moved_registry (seq, record, prev_hash, hash) VALUES (?, ?, ?, ?)");
        insert.bind(1, static_cast<int64_t>(row.seq));
        insert.bind(2, std::string(row.record));
        insert.bind(3, std::string(row.prev_hash));
        insert.bind(4, std::string(row.hash));
        insert.exec();
      });
    });
  }

  void scan_moved_registry(const std::function<bool(const ChainRow&)>& visit) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      SQLite::Statement stmt(*db_, "SELECT seq, record, prev_hash, hash FROM moved_registry ORDER BY seq");
      std::string record, prev_hash, hash;
      ChainRow row;
      while (stmt.executeStep()) {
        row.seq = stmt.getColumn(0).getInt64();
        record = stmt.getColumn(1).getString();
        prev_hash = stmt.getColumn(2).getString();
        hash = stmt.getColumn(3).getString();
        row.record = record;
        row.prev_hash = prev_hash;
        row.hash = hash;
        if (!record_head(row.record, row.case_id, row.case_seq)) row.case_id = {};
        row.checkpoint = record_rows::checkpoint_of(row.record);
        if (!visit(row)) break;
      }
    });
  }

  void import_site_copy(const SiteCopy& copy) override {
    guard(msg::store_op_transaction, {}, [&] {
      write(msg::store_w_a_transaction, [&] {
        SQLite::Statement head(*db_, "INSERT INTO site_copy (id, site, checkpoint_seq, copied_upto, leaves) VALUES (1, ?, ?, ?, ?)");
        head.bind(1, copy.site);
        head.bind(2, static_cast<int64_t>(copy.checkpoint_seq));
        head.bind(3, static_cast<int64_t>(copy.copied_upto));
        head.bind(4, static_cast<int64_t>(copy.proof.leaves));
        head.exec();
        SQLite::Statement chain(*db_, "INSERT INTO site_copy_chains (chain, position) VALUES (?, ?)");
        for (const auto& [key, position] : copy.proof.positions) {
          chain.reset();
          chain.bind(1, key);
          chain.bind(2, static_cast<int64_t>(position));
          chain.exec();
        }
        SQLite::Statement node(*db_, "INSERT INTO site_copy_nodes (level, idx, hash) VALUES (?, ?, ?)");
        for (const ChainProof::Node& n : copy.proof.nodes) {
          node.reset();
          node.bind(1, n.level);
          node.bind(2, static_cast<int64_t>(n.index));
          node.bind(3, sealing::to_hex(n.hash));
          node.exec();
        }
      });
    });
  }

  std::optional<SiteCopy> site_copy() override {
    return guard(msg::store_op_read_the_site_copy, {}, [&]() -> std::optional<SiteCopy> {
      SQLite::Statement head(*db_, "SELECT site, checkpoint_seq, copied_upto, leaves FROM site_copy");
      if (!head.executeStep()) return std::nullopt;
      SiteCopy copy;
      copy.site = head.getColumn(0).getString();
      copy.checkpoint_seq = head.getColumn(1).getInt64();
      copy.copied_upto = head.getColumn(2).getInt64();
      copy.proof.leaves = head.getColumn(3).getInt64();
      SQLite::Statement chains(*db_, "SELECT chain, position FROM site_copy_chains");
      while (chains.executeStep()) copy.proof.positions.emplace(chains.getColumn(0).getString(), chains.getColumn(1).getInt64());
      SQLite::Statement nodes(*db_, "SELECT level, idx, hash FROM site_copy_nodes ORDER BY level, idx");
      while (nodes.executeStep()) {
        // A hash that is not hex is kept as it is: verify then finds the root does not hold.
        const std::string text = nodes.getColumn(2).getString();
        copy.proof.nodes.push_back(
            ChainProof::Node{nodes.getColumn(0).getInt(), nodes.getColumn(1).getInt64(), sealing::from_hex(text).value_or(text)});
      }
      return copy;
    });
  }

  // Runs `f`, turning SQLite and JSON failures into Error with context:
  // what the call was doing (`op`, a catalogue entry about `subject`), in
  // the message language, put together only when something failed.
  template <typename F>
  auto guard(const Message& op, std::string_view subject, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const SQLite::Exception& e) {
      throw storage_error(tr(msg::store_failed, {path_, tr(op, {subject}), describe(e, busy_timeout_ms_)}));
    } catch (const json::exception& e) {
      throw storage_error(tr(msg::store_damaged_json, {path_, tr(op, {subject}), e.what()}));
    }
  }

  // Runs `body` as a write transaction: BEGIN IMMEDIATE (so writers of
  // several processes take turns) at the outermost level, a savepoint when
  // nested, so an exception undoes exactly the writes of the level it
  // leaves.
  template <typename F>
  void write(const Message& what, F&& body) {
    if (read_only_)
      throw storage_error(tr(msg::store_read_only, {path_, tr(what)}));
    if (nesting_.reading())
      throw storage_error(tr(msg::store_internal, {tr(what) + " inside a read snapshot"}));
    if (nesting_.depth() > 0) {
      // Not cached on rollback: on this path SQLite may already have rolled back.
      nesting_.nested(body, [&] { Use(savepoint_)->exec(); }, [&] { Use(release_)->exec(); },
                      [&] { db_->tryExec("ROLLBACK TO sopir_nested; RELEASE sopir_nested"); });
      return;
    }
    nesting_.outermost([&] {
      Use(begin_)->exec();
      try {
        body();
        Use(commit_)->exec();
      } catch (...) {
        db_->tryExec("ROLLBACK");  // SQLite may have rolled back already
        throw;
      }
    });
  }

  // kNotFound, naming the sites there are, for an unknown site.
  void require_site(const std::string& site) {
    SQLite::Statement q(*db_, "SELECT 1 FROM sites WHERE id = ?");
    q.bind(1, site);
    if (q.executeStep()) return;
    std::string known;
    SQLite::Statement all(*db_, "SELECT id FROM sites ORDER BY id");
    while (all.executeStep()) known += (known.empty() ? "" : ", ") + all.getColumn(0).getString();
    throw not_found(tr(msg::store_no_site, {site, known}));
  }

  // `member` with its sites checked and sorted; none given: the only site
  // when the database has exactly one.
  StaffMember with_sites(const StaffMember& member) {
    StaffMember out = member;
    if (out.sites.empty()) {
      SQLite::Statement q(*db_, "SELECT id FROM sites LIMIT 2");
      std::vector<std::string> found;
      while (q.executeStep()) found.push_back(q.getColumn(0).getString());
      if (found.size() == 1) out.sites = found;
    }
    for (const auto& site : out.sites) require_site(site);
    std::sort(out.sites.begin(), out.sites.end());
    out.sites.erase(std::unique(out.sites.begin(), out.sites.end()), out.sites.end());
    return out;
  }

  // The staff row of `member` as it is (its registry row is the caller's).
  void insert_staff_row(const StaffMember& member) {
    SQLite::Statement insert(*db_, "INSERT INTO staff (id, name, roles, active, sites) VALUES (?, ?, ?, ?, ?)");
    insert.bind(1, member.id);
    insert.bind(2, member.name);
    insert.bind(3, json(member.roles).dump());
    insert.bind(4, member.active ? 1 : 0);
    insert.bind(5, json(member.sites).dump());
    insert.exec();
  }

  std::optional<StaffMember> staff_locked(const std::string& id) {
    Use stmt(staff_);
    stmt->bind(1, id);
    if (!stmt->executeStep()) return std::nullopt;
    return read_staff(*stmt);
  }

  // Writes a registry row inside the caller's write transaction: its place
  // among the registry rows (case_seq) and the chain fields.
  void insert_registry(LogEntry& entry) {
    record_rows::check_registry_row(entry);
    append_registry_locked(entry);
  }

  bool case_exists_locked(const std::string& id) {
    Use stmt(case_exists_);
    stmt->bind(1, id);
    return stmt->executeStep();
  }

  bool procedure_exists_locked(const std::string& sha256) {
    Use stmt(procedure_exists_);
    stmt->bind(1, sha256);
    return stmt->executeStep();
  }

  std::optional<PublishedProcedure> procedure_by_hash_locked(const std::string& sha256) {
    Use stmt(procedure_by_hash_);
    stmt->bind(1, sha256);
    if (!stmt->executeStep()) return std::nullopt;
    return read_procedure(*stmt);
  }

  std::pair<int64_t, std::string> read_head() {
    Use stmt(head_stmt_);
    if (!stmt->executeStep()) return {0, ""};
    return {stmt->getColumn(0).getInt64(), stmt->getColumn(1).getString()};
  }

  // A log row ready to insert: its record (the bytes hashed) and the
  // personal texts to store beside it.
  struct PreparedLog {
    std::string record;
    PersonalTexts texts;
  };

  // Checks the entry's texts and chains it: prev_hash = `prev` (the head of
  // its chain), hash = SHA-256(prev || record) over the very record that
  // will be stored, so the row verifies from its stored bytes. Writes
  // nothing: a refusal here leaves the database as it was.
  PreparedLog prepare_log(LogEntry& entry, const std::string& prev) {
    PreparedLog out;
    out.record = record_rows::prepare_entry(entry, &out.texts);
    entry.prev_hash = prev;
    entry.hash = record_rows::hash(entry.prev_hash, out.record);
    return out;
  }

  // Inserts a prepared row linked to `prev_row` (the seq of its case's
  // previous row; none for a case's first row and for registry rows);
  // assigns seq into `entry`.
  void insert_log(const PreparedLog& prepared, LogEntry& entry, std::optional<int64_t> prev_row) {
    Use stmt(insert_log_);
    stmt->bindNoCopy(1, prepared.record);
    stmt->bindNoCopy(2, entry.prev_hash);
    stmt->bindNoCopy(3, entry.hash);
    if (prev_row) {
      stmt->bind(4, static_cast<int64_t>(*prev_row));
    } else {
      stmt->bind(4);
    }
    stmt->exec();
    entry.seq = db_->getLastInsertRowid();
    store_texts(entry.case_id, prepared.texts);
  }

  // append_held's insert: the row linked to the case's newest row, as the
  // held row names it (update_changed() then writes only where the case
  // row still names it) or, when it does not, as the case row names it (a
  // subquery; update_changed() then checks the row is as held). When the
  // check fails, the caller's transaction or savepoint takes the row back.
  // Assigns seq into `entry`.
  void insert_held_log(const PreparedLog& prepared, const CaseRecord& held, LogEntry& entry) {
    try {
      if (held.head_row > 0) {
        insert_log(prepared, entry, held.head_row);
        return;
      }
      Use stmt(insert_held_log_);
      stmt->bindNoCopy(1, prepared.record);
      stmt->bindNoCopy(2, entry.prev_hash);
      stmt->bindNoCopy(3, entry.hash);
      stmt->bind(4, held.id);
      stmt->exec();
    } catch (const SQLite::Exception& e) {
      // No case row for the row's case_id: say so as update_changed would.
      if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_FOREIGNKEY) not_as_held(held);
      throw;
    }
    entry.seq = db_->getLastInsertRowid();
    store_texts(entry.case_id, prepared.texts);
  }

  // Points case `id`'s row at its newest log row (a case just opened).
  void set_head_row(const std::string& id, int64_t seq) {
    Use stmt(set_head_row_);
    stmt->bind(1, static_cast<int64_t>(seq));
    stmt->bind(2, id);
    stmt->exec();
  }

  // Case `id`'s rows, oldest first, read by the links from its case row's
  // head_row back through each row's prev_row. nullopt when there is no
  // case row or the links do not lead through the case's own rows numbered
  // last_seq down to 1, as when rows were written by something other than
  // sopir: the caller then reads the rows by case_id, so a wrong link costs
  // a scan, never a wrong answer. So does a row that is not a record sopir
  // writes: the scan meets it again, and a LogFilter::damaged there reads
  // on past it.
  std::optional<std::vector<LogEntry>> linked_history(const std::string& id) {
    int64_t row = 0, last_seq = 0;
    {
      Use head(case_head_row_);
      head->bind(1, id);
      if (!head->executeStep() || head->getColumn(0).isNull()) return std::nullopt;
      row = head->getColumn(0).getInt64();
      last_seq = head->getColumn(1).getInt64();
    }
    if (last_seq < 1) return std::nullopt;
    std::vector<LogEntry> out;
    out.reserve(static_cast<size_t>(std::min<int64_t>(last_seq, 4096)));
    Use stmt(linked_rows_);
    stmt->bind(1, static_cast<int64_t>(row));
    stmt->bind(2, static_cast<int64_t>(last_seq));
    for (int64_t expected = last_seq; expected >= 1; --expected) {
      if (!stmt->executeStep()) return std::nullopt;
      LogEntry entry;
      try {
        entry = read_log(*stmt);
      } catch (const Error& e) {
        if (!e.damaged_row()) throw;
        return std::nullopt;
      }
      if (entry.case_id != id || entry.case_seq != expected) return std::nullopt;
      // The first row links to nothing, every other to the one before.
      if (stmt->getColumn(4).isNull() != (expected == 1)) return std::nullopt;
      out.push_back(std::move(entry));
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  // (case_seq, hash) of the registry chain's newest row.
  std::optional<std::pair<int64_t, std::string>> registry_head() {
    Use stmt(registry_head_);
    if (!stmt->executeStep()) return std::nullopt;
    return std::make_pair(stmt->getColumn(0).getInt64(), stmt->getColumn(1).getString());
  }

  void append_registry_locked(LogEntry& entry) {
    const auto head = registry_head();
    entry.case_seq = head ? head->first + 1 : 1;
    const PreparedLog prepared = prepare_log(entry, head ? head->second : "");
    insert_log(prepared, entry, std::nullopt);
  }

  // SQL true for a row whose record's kind is no registry kind (is_registry).
  static const std::string& not_registry_kind() {
    static const std::string sql = [] {
      std::string kinds;
      for (LogKind kind : registry_kinds())
        kinds += std::string(kinds.empty() ? "'" : ", '") + to_string(kind) + "'";
      return "coalesce(json_extract(record, '$.kind'), '') NOT IN (" + kinds + ")";
    }();
    return sql;
  }

  std::optional<LogEntry> newest_checkpoint_locked() {
    SQLite::Statement stmt(*db_, sql("SELECT ", kLogColumns,
                                     " FROM transitions WHERE case_id IS NULL AND json_extract(record, '$.kind') = 'checkpoint' "
                                     "ORDER BY case_seq DESC LIMIT 1"));
    if (!stmt.executeStep()) return std::nullopt;
    return read_log(stmt);
  }

  Error changed(const std::string& id, int64_t version, int64_t expected) {
    return conflict(tr(msg::store_case_changed, {id, std::to_string(version), std::to_string(expected)}));
  }

  // Inserts or updates (by the statement given) the whole case row;
  // last_seq and head_hash are those of the log row written with it, and
  // so is head_row, its seq, for the update (an insert leaves it to
  // set_head_row() or to the rows imported after it).
  void write_case(Lazy& statement, const CaseRecord& record, int64_t last_seq,
                  const std::string& head_hash, std::optional<int64_t> head_row = std::nullopt) {
    PersonalTexts texts;
    const std::string data = record_rows::prepare_values(record.data, &texts);
    Use stmt(statement);
    stmt->bind(1, record.id);
    stmt->bind(2, record.sop_id);
    stmt->bind(3, record.sha256);
    stmt->bind(4, record.state);
    stmt->bind(5, to_string(record.status));
    stmt->bindNoCopy(6, data);
    stmt->bind(7, static_cast<int64_t>(record.version));
    stmt->bind(8, static_cast<int64_t>(last_seq));
    stmt->bind(9, static_cast<int64_t>(record.opened_at.seconds));
    bind_time(*stmt, 10, record.due_at);
    bind_time(*stmt, 11, record.hold_started);
    stmt->bind(12, record.closure_reason);
    bind_text_or_null(*stmt, 13, record.parent_case);
    stmt->bind(14, head_hash);
    stmt->bind(15, record.site.empty() ? std::string(kDefaultSite) : record.site);
    if (head_row) stmt->bind(16, static_cast<int64_t>(*head_row));
    stmt->exec();
    store_texts(record.id, texts);
  }

  // The case row's columns a step may change, as bits of a changed-set.
  enum Column : unsigned {
    kSopId = 1, kSha = 2, kState = 4, kStatus = 8, kData = 16, kOpenedAt = 32, kDueAt = 64,
    kHoldStarted = 128, kClosureReason = 256, kParent = 512, kSite = 1024,
  };
  // Not a column: the update's guard also names the held row's head_row.
  static constexpr unsigned kHeldHeadRow = 2048;

  static bool same_values(const std::vector<StoredValue>& a, const std::vector<StoredValue>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      const StoredValue &x = a[i], &y = b[i];
      if (x.field != y.field || x.missing != y.missing || x.text != y.text || x.pii != y.pii ||
          x.salt != y.salt || x.digest != y.digest)
        return false;
    }
    return true;
  }

  static unsigned changed_columns(const CaseRecord& held, const CaseRecord& after) {
    unsigned bits = 0;
    if (held.sop_id != after.sop_id) bits |= kSopId;
    if (held.sha256 != after.sha256) bits |= kSha;
    if (held.state != after.state) bits |= kState;
    if (held.status != after.status) bits |= kStatus;
    if (!same_values(held.data, after.data)) bits |= kData;
    if (held.opened_at.seconds != after.opened_at.seconds) bits |= kOpenedAt;
    if (held.due_at != after.due_at) bits |= kDueAt;
    if (held.hold_started != after.hold_started) bits |= kHoldStarted;
    if (held.closure_reason != after.closure_reason) bits |= kClosureReason;
    if (held.parent_case != after.parent_case) bits |= kParent;
    if (held.site != after.site) bits |= kSite;
    return bits;
  }

  // The UPDATE of exactly the columns in `bits` (plus version, last_seq,
  // head_hash and head_row), only where the row is still as held: prepared
  // once per changed-set. Parameters: ?1 id, ?2 held version, ?3 held
  // last_seq, ?4 held head_hash, ?5 version, ?6 last_seq, ?7 head_hash,
  // ?8 head_row, then one per changed column in the order of Column, then,
  // with kHeldHeadRow, the held head_row the row must still name.
  SQLite::Statement& update_for(unsigned bits) {
    auto& slot = updates_[bits];
    if (slot) return *slot;
    static const char* const kNames[] = {"sop_id", "sha256", "state", "status", "data", "opened_at",
                                         "due_at", "hold_started", "closure_reason", "parent_case", "site"};
    std::string text = "UPDATE cases SET version = ?5, last_seq = ?6, head_hash = ?7, head_row = ?8";
    int param = 9;
    for (unsigned i = 0; i < std::size(kNames); ++i) {
      if (bits & (1u << i)) text += std::string(", ") + kNames[i] + " = ?" + std::to_string(param++);
    }
    text += " WHERE id = ?1 AND version = ?2 AND last_seq = ?3 AND head_hash = ?4";
    if (bits & kHeldHeadRow) text += " AND head_row = ?" + std::to_string(param);
    slot = std::make_unique<SQLite::Statement>(*db_, text);
    return *slot;
  }

  // A cases() or count_cases() statement, prepared once per text: its text
  // follows the filter's shape (which fields, how many sites, the limit),
  // and `todo` and `tick` ask once per case for its children, where
  // preparing cost more than the query. Each caller has finished with its
  // statement before it returns, so dropping them all when there are many
  // leaves none in use.
  SQLite::Statement& shaped(const std::string& text) {
    auto found = shaped_.find(text);
    if (found != shaped_.end()) return *found->second;
    if (shaped_.size() >= 64) shaped_.clear();
    return *shaped_.emplace(text, std::make_unique<SQLite::Statement>(*db_, text)).first->second;
  }

  // Writes `after` over `held` (changed columns only); kConflict or
  // kNotFound when the stored row is no longer as held.
  void update_changed(const CaseRecord& held, const CaseRecord& after, int64_t last_seq,
                      const std::string& head_hash, int64_t head_row) {
    const unsigned bits = changed_columns(held, after);
    PersonalTexts texts;
    std::string data;
    if (bits & kData) {
      data = record_rows::prepare_values(after.data, &texts);
      // Personal texts the held row already has are stored already.
      texts.erase(std::remove_if(texts.begin(), texts.end(),
                                 [&](const auto& text) {
                                   return std::any_of(held.data.begin(), held.data.end(), [&](const StoredValue& h) {
                                     return h.pii && !h.missing && h.digest == text.first;
                                   });
                                 }),
                  texts.end());
    }
    Use stmt(update_for(held.head_row > 0 ? bits | kHeldHeadRow : bits));
    stmt->bind(1, after.id);
    stmt->bind(2, static_cast<int64_t>(held.version));
    stmt->bind(3, static_cast<int64_t>(held.last_seq));
    stmt->bindNoCopy(4, held.head_hash);
    stmt->bind(5, static_cast<int64_t>(after.version));
    stmt->bind(6, static_cast<int64_t>(last_seq));
    stmt->bindNoCopy(7, head_hash);
    stmt->bind(8, static_cast<int64_t>(head_row));
    int param = 9;
    if (bits & kSopId) stmt->bind(param++, after.sop_id);
    if (bits & kSha) stmt->bind(param++, after.sha256);
    if (bits & kState) stmt->bind(param++, after.state);
    if (bits & kStatus) stmt->bind(param++, to_string(after.status));
    if (bits & kData) stmt->bindNoCopy(param++, data);
    if (bits & kOpenedAt) stmt->bind(param++, static_cast<int64_t>(after.opened_at.seconds));
    if (bits & kDueAt) bind_time(*stmt, param++, after.due_at);
    if (bits & kHoldStarted) bind_time(*stmt, param++, after.hold_started);
    if (bits & kClosureReason) stmt->bind(param++, after.closure_reason);
    if (bits & kParent) bind_text_or_null(*stmt, param++, after.parent_case);
    if (bits & kSite) stmt->bind(param++, after.site);
    if (held.head_row > 0) stmt->bind(param, static_cast<int64_t>(held.head_row));
    if (stmt->exec() == 1) {
      store_texts(after.id, texts);
      return;
    }
    not_as_held(held);
  }

  // Case row `held` is no longer as held: says why. Nothing was written.
  [[noreturn]] void not_as_held(const CaseRecord& held) {
    Use check(case_version_);
    check->bind(1, held.id);
    if (!check->executeStep()) throw not_found(tr(msg::store_no_case, {held.id}));
    const int64_t version = check->getColumn(0).getInt64();
    if (version != held.version) throw changed(held.id, version, held.version);
    throw conflict(tr(msg::store_held_changed, {held.id, std::to_string(version)}));
  }

  // Keeps the text of new personal values of case `case_id`: encrypted
  // under the case's key once the database has a key (kDenied when this
  // process has not unlocked it), in clear before.
  void store_texts(const std::string& case_id, const PersonalTexts& texts) {
    if (texts.empty()) return;
    if (current_key_id().empty()) {
      for (const auto& [digest, text] : texts) {
        Use stmt(insert_text_);
        stmt->bind(1, digest);
        stmt->bind(2, text);
        bind_text_or_null(*stmt, 3, case_id);
        stmt->bind(4);
        stmt->exec();
      }
      return;
    }
    const sealing::SecretKey* key = nullptr;
    for (const auto& [digest, text] : texts) {
      {
        Use exists(text_exists_);
        exists->bind(1, digest);
        if (exists->executeStep()) continue;  // kept already (a value carried over)
      }
      if (!key) key = &case_key_for_writing(case_id);
      const std::string sealed = sealing::seal(*key, text, digest);
      Use stmt(insert_text_);
      stmt->bind(1, digest);
      stmt->bind(2);
      stmt->bind(3, case_id);
      stmt->bind(4, sealed.data(), static_cast<int>(sealed.size()));
      stmt->exec();
    }
  }

  void drop_key_wrap(const std::string& id) {
    SQLite::Statement drop(*db_, "DELETE FROM key_wraps WHERE staff_id = ?");
    drop.bind(1, id);
    drop.exec();
  }

  // Makes the database key (inside a write) and encrypts every personal
  // text kept in clear under its case's key: the one-time upgrade of a
  // database from before encryption. The clear text's cells are zeroed
  // (secure_delete); erased_cleanup() after the commit empties the WAL.
  void start_encryption() {
    const std::string id = sealing::new_key_id();
    SQLite::Statement insert(*db_, "INSERT INTO database_key (id, key_id, created_at) VALUES (1, ?, strftime('%s', 'now'))");
    insert.bind(1, id);
    insert.exec();
    key_id_ = id;
    sealing::remember_database_key(id, std::make_unique<sealing::SecretKey>());
    db_->exec("PRAGMA secure_delete = ON");
    // Each clear text's case, from the log rows that changed it.
    std::map<std::string, std::string> case_of;
    SQLite::Statement owners(*db_,
                             "SELECT t.case_id, json_extract(c.value, '$.after.digest') FROM transitions t, "
                             "json_each(t.record, '$.changes') c WHERE t.case_id IS NOT NULL AND "
                             "json_extract(c.value, '$.after.pii') = 1");
    while (owners.executeStep()) {
      if (owners.getColumn(1).isNull()) continue;
      case_of.emplace(owners.getColumn(1).getString(), owners.getColumn(0).getString());
    }
    std::vector<std::pair<std::string, std::string>> clear;
    {
      SQLite::Statement q(*db_, "SELECT digest, text FROM personal_text WHERE text IS NOT NULL");
      while (q.executeStep()) clear.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
    }
    SQLite::Statement update(*db_, "UPDATE personal_text SET text = NULL, case_id = ?, sealed = ? WHERE digest = ?");
    for (auto& [digest, text] : clear) {
      const auto owner = case_of.find(digest);
      // A text no log row names belongs to no case: it cannot be read
      // through sopir, so it is dropped rather than kept in clear.
      if (owner == case_of.end()) {
        SQLite::Statement drop(*db_, "UPDATE personal_text SET text = NULL WHERE digest = ?");
        drop.bind(1, digest);
        drop.exec();
        sealing::wipe(text);
        continue;
      }
      const std::string sealed = sealing::seal(case_key_for_writing(owner->second), text, digest);
      sealing::wipe(text);
      update.reset();
      update.bind(1, owner->second);
      update.bind(2, sealed.data(), static_cast<int>(sealed.size()));
      update.bind(3, digest);
      update.exec();
    }
  }

  // The database key's id as stored now, "" when there is none. Read each
  // time (cheap): another process may have made the key, and a key made in
  // a transaction that rolled back never was.
  std::string current_key_id() {
    Use stmt(key_id_stmt_);
    key_id_ = stmt->executeStep() ? stmt->getColumn(0).getString() : std::string();
    return key_id_;
  }

  // The unlocked database key, or null.
  const sealing::SecretKey* database_key() {
    if (key_id_.empty()) current_key_id();
    return key_id_.empty() ? nullptr : sealing::database_key(key_id_);
  }

  // The key of case `case_id` for new text: the stored one, or a new one
  // stored now (sealed by the database key). Read from the table each
  // time, so a key made in a rolled-back transaction is never used.
  const sealing::SecretKey& case_key_for_writing(const std::string& case_id) {
    const sealing::SecretKey* db = sealing::database_key(key_id_);
    if (!db) throw denied(tr(msg::store_personal_locked, {case_id}));
    std::string sealed;
    {
      Use stmt(case_key_);
      stmt->bind(1, case_id);
      if (stmt->executeStep()) sealed = stmt->getColumn(0).getString();
    }
    if (!sealed.empty()) {
      if (const sealing::SecretKey* held = case_keys_.find(case_id)) return *held;
      return cache_case_key(case_id, sealing::open_case_key(*db, sealed, case_id));
    }
    auto key = std::make_unique<sealing::SecretKey>();
    const std::string wrapped = sealing::seal_key(*db, *key, case_id);
    SQLite::Statement insert(*db_, "INSERT INTO case_keys (case_id, sealed) VALUES (?, ?)");
    insert.bind(1, case_id);
    insert.bind(2, wrapped.data(), static_cast<int>(wrapped.size()));
    insert.exec();
    return cache_case_key(case_id, std::move(key));
  }

  // Keeps an opened case key for the next step of the case.
  const sealing::SecretKey& cache_case_key(const std::string& case_id, std::unique_ptr<sealing::SecretKey> key) {
    return case_keys_.keep(case_id, std::move(key));
  }

  // The key of case `case_id` for reading: null when the case's key is gone
  // (erased), or when this process holds no database key (`locked` set).
  // Whether the key is gone is told with or without the database key, so
  // that a keyless verify sees a key deleted behind the engine's back.
  const sealing::SecretKey* case_key_for_reading(const std::string& case_id, bool& locked) {
    if (const sealing::SecretKey* held = case_keys_.find(case_id)) return held;
    const sealing::SecretKey* db = database_key();
    if (!db && case_id == keyless_case_) {  // the case whose key row was just looked up
      locked = keyless_case_kept_;
      return nullptr;
    }
    std::string sealed;
    bool kept = false;
    {
      Use stmt(case_key_);
      stmt->bind(1, case_id);
      kept = stmt->executeStep();
      if (kept && db) sealed = stmt->getColumn(0).getString();
    }
    if (!db) {
      keyless_case_ = case_id;
      keyless_case_kept_ = kept;
      locked = kept;
      return nullptr;
    }
    if (!kept) return nullptr;
    return &cache_case_key(case_id, sealing::open_case_key(*db, sealed, case_id));
  }

  // A personal value's text from personal_text by its digest (decrypted
  // with its case's key), `erased` when it is gone, `locked` when it is
  // encrypted and this process holds no key. Other values are left as they are.
  void add_personal_text(StoredValue& value) {
    if (!value.pii || value.missing) return;
    std::string case_id, sealed;
    {
      Use stmt(personal_text_);
      stmt->bind(1, value.digest);
      if (!stmt->executeStep() || (stmt->getColumn(0).isNull() && stmt->getColumn(2).isNull())) {
        value.erased = true;
        // Text cleared on a row naming no case: erased as before schema 7.
        value.erased_since_keys = !stmt->hasRow() || !stmt->getColumn(1).isNull();
        return;
      }
      if (!stmt->getColumn(0).isNull()) {
        value.text = stmt->getColumn(0).getString();
        return;
      }
      case_id = stmt->getColumn(1).getString();
      sealed = stmt->getColumn(2).getString();
    }
    bool locked = false;
    try {
      const sealing::SecretKey* key = case_key_for_reading(case_id, locked);
      if (!key) {
        (locked ? value.locked : value.erased_since_keys) = true;
        value.erased = !locked;
        return;
      }
      value.text = sealing::open_personal_text(*key, sealed, value.digest, case_id);
    } catch (const Error& e) {
      // A text or case key that does not open: an audit reads on and reports it.
      if (!read_only_ || e.kind() != ErrorKind::kStorage) throw;
      value.locked = value.damaged = true;
    }
  }

  CaseRecord read_case(SQLite::Statement& stmt) {
    CaseRecord record;
    record.id = stmt.getColumn(0).getString();
    record.sop_id = stmt.getColumn(1).getString();
    record.sha256 = stmt.getColumn(2).getString();
    record.state = stmt.getColumn(3).getString();
    record.status = status_from_text(stmt.getColumn(4).getString());
    const SQLite::Column data = stmt.getColumn(5);
    record.data =
        record_rows::read_values(std::string_view(static_cast<const char*>(data.getBlob()),
                                                  static_cast<size_t>(data.getBytes())),
                                 lookup_);
    record.version = stmt.getColumn(6).getInt64();
    record.last_seq = stmt.getColumn(7).getInt64();
    record.opened_at = DateTime{stmt.getColumn(8).getInt64()};
    record.due_at = time_column(stmt.getColumn(9));
    record.hold_started = time_column(stmt.getColumn(10));
    record.closure_reason = stmt.getColumn(11).getString();
    record.parent_case = stmt.getColumn(12).getString();  // NULL reads as ""
    record.head_hash = stmt.getColumn(13).getString();
    record.site = stmt.getColumn(14).getString();
    record.head_row = stmt.getColumn(15).getInt64();  // NULL (no row yet) reads as 0
    return record;
  }

  // A log row from its stored record (columns: kLogColumns): the fast
  // reader for the layout sopir writes, general JSON for anything else.
  LogEntry read_log(SQLite::Statement& stmt) {
    const SQLite::Column record = stmt.getColumn(1);
    const std::string_view text(static_cast<const char*>(record.getBlob()), static_cast<size_t>(record.getBytes()));
    LogEntry entry = record_rows::read_record(text, stmt.getColumn(0).getInt64(), lookup_);
    entry.prev_hash = stmt.getColumn(2).getString();
    entry.hash = stmt.getColumn(3).getString();
    return entry;
  }

  static PublishedProcedure read_procedure(SQLite::Statement& stmt) {
    PublishedProcedure p;
    p.sop_id = stmt.getColumn(0).getString();
    p.version = stmt.getColumn(1).getInt();
    p.sha256 = stmt.getColumn(2).getString();
    p.source = stmt.getColumn(3).getString();
    p.file = stmt.getColumn(4).getString();
    p.published_at = DateTime{stmt.getColumn(5).getInt64()};
    p.published_by = stmt.getColumn(6).getString();
    p.current = stmt.getColumn(7).getInt() != 0;
    p.cases = stmt.getColumn(8).getInt64();
    p.compiled = stmt.getColumn(9).getString();
    return p;
  }

  static StaffMember read_staff(SQLite::Statement& stmt) {
    StaffMember m;
    m.id = stmt.getColumn(0).getString();
    m.name = stmt.getColumn(1).getString();
    m.roles = json::parse(stmt.getColumn(2).getString()).get<std::vector<std::string>>();
    m.active = stmt.getColumn(3).getInt() != 0;
    m.sites = json::parse(stmt.getColumn(4).getString()).get<std::vector<std::string>>();
    return m;
  }

  std::string path_;
  std::unique_ptr<SQLite::Database> db_;  // declared first: outlives the statements
  bool read_only_;
  int busy_timeout_ms_;
  WriteNesting nesting_;  // nesting of write transactions
  // Fills a personal value's text (add_personal_text), for record_rows.
  const record_rows::PersonalLookup lookup_ = [this](StoredValue& value) { add_personal_text(value); };
  Lazy begin_, commit_, savepoint_, release_;
  Lazy head_stmt_, case_version_, case_exists_, find_case_, history_, case_head_row_, linked_rows_;
  Lazy insert_log_, insert_held_log_, set_head_row_, insert_case_, update_case_, insert_text_, personal_text_, text_exists_, key_id_stmt_, case_key_;
  Lazy staff_, procedure_exists_;
  Lazy procedure_by_hash_, procedure_form_by_hash_, current_procedure_, registry_head_;
  // The database key's id ("" while none is known) and the case keys this
  // process has opened (wiped when dropped).
  std::string key_id_;
  sealing::CaseKeys case_keys_;
  // Without the database key: the case whose key row was looked up last,
  // and whether it had one (values of one case are mostly read together).
  std::string keyless_case_;
  bool keyless_case_kept_ = false;
  // append_held's UPDATE per set of changed columns (update_for).
  std::map<unsigned, std::unique_ptr<SQLite::Statement>> updates_;
  // cases() and count_cases() statements by their text (shaped()).
  std::map<std::string, std::unique_ptr<SQLite::Statement>> shaped_;
};

// ---------------------------------------------------------------------------
// Opening.

// Creates an empty file readable and writable by its owner only; SQLite
// gives its -wal and -shm files the same mode.
void create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;  // another process created it first
    throw storage_error(tr(msg::store_cannot_create, {path, std::strerror(errno)}));
  }
  ::close(fd);
}

// file: URI of a path, for the immutable read-only fallback.
std::string immutable_uri(const std::string& path) {
  std::string out = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 15];
      out += kHex[static_cast<unsigned char>(c) & 15];
    } else {
      out += c;
    }
  }
  return out + "?immutable=1";
}

// A Store is used by one thread at a time (store.h), so SQLite need not
// lock its connection mutex on every call (a column read included).
const int kNoMutex = SQLite::OPEN_NOMUTEX;

struct Identity {
  int application_id = 0;
  int user_version = 0;
  int64_t objects = 0;
};

Identity read_identity(SQLite::Database& db) {
  Identity id;
  id.application_id = db.execAndGet("PRAGMA application_id").getInt();
  id.user_version = db.execAndGet("PRAGMA user_version").getInt();
  id.objects = db.execAndGet("SELECT count(*) FROM sqlite_master").getInt64();
  return id;
}

// Checks the file is a sopir database this build can use. Returns true for
// an empty database that should get the schema.
bool check_identity(const Identity& id, const std::string& path, const StoreOptions& options,
                    bool memory) {
  if (id.application_id == 0 && id.user_version == 0 && id.objects == 0) {
    if (memory || (options.create && !options.read_only)) return true;
    throw storage_error(tr(options.read_only ? msg::store_empty_sqlite : msg::store_empty_sqlite_create, {path}));
  }
  if (id.application_id != schema::kApplicationId)
    throw storage_error(tr(msg::store_other_application, {path, std::to_string(id.application_id), std::to_string(schema::kApplicationId)}));
  if (id.user_version > schema::latest_version())
    throw storage_error(tr(msg::store_newer_sopir, {path, std::to_string(id.user_version), std::to_string(schema::latest_version())}));
  if (id.user_version < schema::latest_version() && options.read_only)
    throw storage_error(tr(msg::store_needs_upgrade, {path, std::to_string(id.user_version), std::to_string(schema::latest_version())}));
  return id.user_version < schema::latest_version();
}

// Opens read-only. A WAL database needs its -shm file; when that cannot be
// created (a read-only directory), fall back to SQLite's immutable mode,
// which reads the main file only, takes no locks and writes nothing.
std::unique_ptr<SQLite::Database> open_read_only(const std::string& path, int busy_timeout_ms,
                                                 Identity* identity) {
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READONLY | kNoMutex, busy_timeout_ms);
    *identity = read_identity(*db);
    return db;
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() != SQLITE_CANTOPEN && e.getErrorCode() != SQLITE_READONLY) throw;
  }
  // Immutable mode ignores the -wal file: refuse rather than show a stale log.
  struct stat wal;
  if (::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0)
    throw storage_error(tr(msg::store_wal_read_only, {path}));
  auto db = std::make_unique<SQLite::Database>(immutable_uri(path), SQLite::OPEN_READONLY | SQLite::OPEN_URI | kNoMutex,
                                               busy_timeout_ms);
  *identity = read_identity(*db);
  return db;
}

// SQLite counts every allocation under a global mutex for sqlite3_status(),
// which sopir never reads: about 60 instructions on each of the dozens of
// allocations of a step. Off before SQLite's first use in this process; when
// an embedding program started SQLite already, its setting stays.
void skip_memory_statistics() {
  static const int once = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)once;
}

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, const StoreOptions& options) {
  if (path.empty()) throw usage_error(tr(msg::store_no_path));
  skip_memory_statistics();
  const bool memory = path == ":memory:";
  if (!memory) {
    struct stat info;
    if (::stat(path.c_str(), &info) != 0) {
      if (errno != ENOENT) throw storage_error(tr(msg::store_cannot_open, {path, std::strerror(errno)}));
      if (!options.create || options.read_only) throw not_found(tr(msg::store_no_sopir_database, {path}));
      create_private_file(path);
    } else if (S_ISDIR(info.st_mode)) {
      throw storage_error(tr(msg::store_is_directory, {path}));
    }
  }
  try {
    std::unique_ptr<SQLite::Database> db;
    Identity identity;
    if (options.read_only) {
      db = open_read_only(path, options.busy_timeout_ms, &identity);
    } else {
      db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | kNoMutex,
                                              options.busy_timeout_ms);
      identity = read_identity(*db);
    }
    const bool needs_schema = check_identity(identity, path, options, memory);
    if (options.read_only) {
      db->exec("PRAGMA query_only = ON");
      // Audits read the whole log: map the file rather than copy each page.
      db->exec(kMapSize);
    } else {
      db->exec("PRAGMA foreign_keys = ON");
      // Savepoint journals (one per nested transaction, e.g. per imported
      // row) in memory: in a temporary file they cost ~30 writes per row.
      db->exec("PRAGMA temp_store = MEMORY");
      db->exec(options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
      const std::string mode = db->execAndGet("PRAGMA journal_mode = WAL").getString();
      if (mode != "wal" && !memory)
        throw storage_error(tr(msg::store_wal_mode, {path, mode}));
      if (needs_schema) schema::migrate(*db);
    }
    return std::make_unique<SqliteStore>(path, std::move(db), options.read_only, options.busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() == SQLITE_NOTADB)
      throw storage_error(tr(msg::store_not_sqlite, {path}));
    throw storage_error(tr(msg::store_cannot_open, {path, describe(e, options.busy_timeout_ms)}));
  }
}

}  // namespace sopir
