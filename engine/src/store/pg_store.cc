// The PostgreSQL Store (open_postgres_store): the same Store as SQLite on a
// server database many offices share. Follows the shared log design: a hash
// chain per case, whose head the case row holds (head_hash beside last_seq),
// so a step writes only its own case row, where it is still as read (one
// statement: see write_step), and writers of different cases never queue
// on one row. The records and hashes
// are the very bytes the SQLite store writes (store/record_rows.h).
//
// Every libpq failure is caught here and rethrown as sopir::Error naming the
// server (user@host:port/database, never the password) and the case or
// procedure. A lost connection is kStorage and says whether the write
// landed: the server rolls back a transaction whose connection drops, and a
// commit whose answer was lost is looked up again after reconnecting.
#include <algorithm>
#include <array>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sopir/error.h"
#include "sopir/messages/store.h"
#include "sopir/store.h"
#include "store/case_order.h"
#include "store/log_json.h"
#include "store/merkle.h"
#include "store/nesting.h"
#include "store/pg_connection.h"
#include "store/pg_schema.h"
#include "store/procedure_columns.h"
#include "store/record_rows.h"
#include "store/registry.h"
#include "store/sealing.h"

namespace sopir {

namespace {

using json = nlohmann::json;
using pg::Connection;
using pg::Param;
using pg::PgFailure;
using pg::Result;
using record_rows::Assigned;
using record_rows::PersonalTexts;

Param text(const std::string& value) { return value; }
Param number(int64_t value) { return std::to_string(value); }
Param time_param(const std::optional<DateTime>& time) {
  if (!time) return std::nullopt;
  return std::to_string(time->seconds);
}
Param text_or_null(const std::string& value) {
  if (value.empty()) return std::nullopt;
  return value;
}

Status status_from_text(const std::string& value) {
  if (auto status = status_from_string(value)) return *status;
  throw storage_error(tr(msg::store_unknown_status, {value}));
}

constexpr const char* kCaseColumns =
    "id, sop_id, sha256, state, status, data, version, last_seq, opened_at, due_at, "
    "hold_started, closure_reason, parent_case, head_hash, site";
constexpr int kCaseDataColumn = 5;  // of kCaseColumns
constexpr const char* kLogColumns = "seq, record, prev_hash, hash";
constexpr int kRecordColumn = 1;  // of kLogColumns and of scan_chain's query

std::string sql(const std::string& head, const char* columns, const std::string& tail) {
  return head + columns + tail;
}

// `text` escaped for a LIKE pattern (with ESCAPE '\').
std::string like_prefix(const std::string& prefix) {
  std::string out;
  for (const char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

// What a transaction whose connection was lost before COMMIT left behind.
std::string nothing_written() { return tr(msg::store_pg_nothing_written); }

// Rows fetched per round trip by the scans.
constexpr int kFetchRows = 2000;

// A chain row's columns as `SELECT seq, record, prev_hash, hash` gives them
// (the log and the moved registry alike); what its record says is read apart.
void read_chain_columns(const Result& r, int i, ChainRow& row) {
  row.seq = r.integer(i, 0);
  row.record = r.text(i, 1);
  row.prev_hash = r.text(i, 2);
  row.hash = r.text(i, 3);
}

class PgStore final : public Store {
 public:
  // `standby`: the server is a hot standby (read-only replica); the store is
  // then read-only whatever was asked, and says why.
  PgStore(std::unique_ptr<Connection> conn, bool read_only, bool standby, int busy_timeout_ms)
      : conn_(std::move(conn)), server_(conn_->describe()), read_only_(read_only || standby), standby_(standby),
        busy_timeout_ms_(busy_timeout_ms) {}

  void transaction(const std::function<void()>& body) override {
    guard(msg::store_op_transaction, {}, [&] { write(msg::store_w_a_transaction, body); });
  }

  void transaction_all_or_nothing(const std::function<void()>& body) override {
    guard(msg::store_op_transaction, {}, [&] { write(msg::store_w_a_transaction, [&] { nesting_.all_or_nothing(body, server_); }); });
  }

  // One REPEATABLE READ transaction, read only: every statement in it,
  // the scans' cursors too (each_row joins an open transaction), sees the
  // snapshot its first statement took.
  void read_snapshot(const std::function<void()>& body) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      nesting_.read_snapshot(
          false, body, [&] { conn_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); },
          [&] { conn_->run("commit", "COMMIT", {}); }, [&] { rollback(); });
    });
  }

  PublishedProcedure publish(const std::string& sop_id, const std::string& sha256,
                             const std::string& source, const std::string& file,
                             const std::string& actor, DateTime at, int requested = 0) override {
    return guard(msg::store_op_publish_procedure, sop_id, [&] {
      if (sop_id.empty() || sha256.empty()) throw usage_error(tr(msg::store_internal, {"publish needs a sop id and a sha256"}));
      std::optional<PublishedProcedure> result;
      write(msg::store_w_publishing_a_procedure, [&] {
        // Publishing is rare: one at a time, so versions are numbered once.
        conn_->exec("LOCK TABLE procedures IN SHARE ROW EXCLUSIVE MODE");
        if (auto existing = procedure_by_hash_now(sha256)) {
          if (existing->sop_id != sop_id)
            throw conflict(tr(msg::store_already_published, {sha256, existing->sop_id, std::to_string(existing->version), sop_id}));
          result = std::move(existing);
          result->already_published = true;
          return;
        }
        const Result max = conn_->exec("SELECT coalesce(max(version), 0) FROM procedures WHERE sop_id = $1",
                                       {text(sop_id)});
        const int64_t version = publication_number(sop_id, max.integer(0, 0), requested);
        conn_->exec("UPDATE procedures SET current = false WHERE sop_id = $1 AND current", {text(sop_id)});
        conn_->exec(
            "INSERT INTO procedures (sop_id, version, sha256, source, file, published_at, published_by, current) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, true)",
            {text(sop_id), number(version), text(sha256), text(source), text(file), number(at.seconds),
             text(actor)});
        result = procedure_by_hash_now(sha256);
        LogEntry entry = registry::published(*result, RegistryStamp{actor, at});
        append_registry_now(entry);
      });
      return *result;
    });
  }

  void set_compiled(const std::string& sha256, const std::string& compiled) override {
    guard(msg::store_op_save_the_compiled_procedure, sha256, [&] {
      write(msg::store_w_saving_a_compiled_procedure, [&] {
        const Result r =
            conn_->exec("UPDATE procedures SET compiled = $1 WHERE sha256 = $2", {text(compiled), text(sha256)});
        if (r.affected() != 1) throw not_found(tr(msg::store_no_procedure_hash, {sha256}));
      });
    });
  }

  void pin_calendars(const std::string& procedure_sha256,
                     const std::vector<CalendarSource>& calendars) override {
    guard(msg::store_op_pin_the_calendars_of_procedure, procedure_sha256, [&] {
      write(msg::store_w_pinning_calendars, [&] {
        const Result pinned = conn_->exec("SELECT count(*) FROM procedure_calendars WHERE procedure_sha256 = $1",
                                          {text(procedure_sha256)});
        if (pinned.integer(0, 0) > 0) return;
        for (size_t i = 0; i < calendars.size(); ++i) {
          const CalendarSource& c = calendars[i];
          conn_->exec("INSERT INTO calendars (sha256, source) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
                      {text(c.sha256), text(c.text)});
          conn_->exec("INSERT INTO procedure_calendars (procedure_sha256, position, name, file, calendar_sha256) "
                      "VALUES ($1, $2, $3, $4, $5)",
                      {text(procedure_sha256), number(static_cast<int64_t>(i)), text(c.name), text(c.file),
                       text(c.sha256)});
        }
      });
    });
  }

  std::vector<CalendarSource> pinned_calendars(const std::string& procedure_sha256) override {
    return guard(msg::store_op_read_the_calendars_of_procedure, procedure_sha256, [&] {
      const Result r = conn_->exec(
          "SELECT l.name, l.file, c.source, c.sha256 FROM procedure_calendars l JOIN calendars c "
          "ON c.sha256 = l.calendar_sha256 WHERE l.procedure_sha256 = $1 ORDER BY l.position",
          {text(procedure_sha256)});
      std::vector<CalendarSource> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(CalendarSource{r.str(i, 0), r.str(i, 1), r.str(i, 2), r.str(i, 3)});
      return out;
    });
  }

  std::optional<PublishedProcedure> procedure_by_hash(const std::string& sha256) override {
    return guard(msg::store_op_read_procedure, sha256, [&] { return procedure_by_hash_now(sha256); });
  }

  std::optional<PublishedProcedure> procedure_form_by_hash(const std::string& sha256) override {
    return guard(msg::store_op_read_procedure, sha256, [&]() -> std::optional<PublishedProcedure> {
      static const std::string kQuery =
          sql("SELECT ", procedure_columns::kForm, " FROM procedures p WHERE p.sha256 = $1");
      const Result r = conn_->run("procedure_form_by_hash", kQuery.c_str(), {text(sha256)});
      if (r.rows() == 0) return std::nullopt;
      return read_procedure(r, 0);
    });
  }

  std::optional<PublishedProcedure> current_procedure(const std::string& sop_id) override {
    return guard(msg::store_op_read_procedure, sop_id, [&]() -> std::optional<PublishedProcedure> {
      static const std::string kQuery = sql("SELECT ", procedure_columns::kWhole,
                                            " FROM procedures p WHERE p.sop_id = $1 AND p.current");
      const Result r = conn_->run("current_procedure", kQuery.c_str(), {text(sop_id)});
      if (r.rows() == 0) return std::nullopt;
      return read_procedure(r, 0);
    });
  }

  std::vector<PublishedProcedure> procedures() override {
    return guard(msg::store_op_list_procedures, {}, [&] {
      const Result r = conn_->exec(sql("SELECT ", procedure_columns::kCounted,
                                       " FROM procedures p ORDER BY p.sop_id, p.version"));
      std::vector<PublishedProcedure> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_procedure(r, i));
      return out;
    });
  }

  std::vector<PublishedProcedure> versions_of(const std::string& sop_id) override {
    return guard(msg::store_op_read_procedure, sop_id, [&] {
      static const std::string kQuery =
          sql("SELECT ", procedure_columns::kVersion,
              " FROM procedures p WHERE p.sop_id = $1 ORDER BY p.version");
      const Result r = conn_->run("versions_of", kQuery.c_str(), {text(sop_id)});
      std::vector<PublishedProcedure> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_procedure(r, i));
      return out;
    });
  }

  std::vector<PublishedProcedure> versions() override {
    return guard(msg::store_op_list_procedures, {}, [&] {
      static const std::string kQuery = sql("SELECT ", procedure_columns::kVersion,
                                            " FROM procedures p ORDER BY p.sop_id, p.version");
      const Result r = conn_->run("versions", kQuery.c_str(), {});
      std::vector<PublishedProcedure> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_procedure(r, i));
      return out;
    });
  }

  void add_staff(const StaffMember& member, const RegistryStamp& by) override {
    guard(msg::store_op_add_staff_member, member.id, [&] {
      if (member.id.empty()) throw usage_error(tr(msg::store_staff_needs_id));
      write(msg::store_w_adding_a_staff_member, [&] {
        const StaffMember added = with_sites(member);
        const Result r = conn_->exec(
            "INSERT INTO staff (id, name, roles, active, sites) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            {text(added.id), text(added.name), text(json(added.roles).dump()),
             text(added.active ? "true" : "false"), text(json(added.sites).dump())});
        if (r.affected() == 0) throw conflict(tr(msg::store_staff_id_taken, {member.id}));
        LogEntry entry = registry::staff_added(added, by);
        append_registry_now(entry);
      });
    });
  }

  void set_staff_role(const std::string& id, const std::string& role, bool held,
                      const RegistryStamp& by) override {
    guard(msg::store_op_update_staff_member, id, [&] {
      if (role.empty()) throw usage_error(tr(msg::store_no_role));
      write(msg::store_w_updating_a_staff_member, [&] {
        const Result r = conn_->exec("SELECT id, name, roles, active, login, sites FROM staff WHERE id = $1 FOR UPDATE", {text(id)});
        if (r.rows() == 0) throw not_found(tr(msg::store_no_staff, {id}));
        StaffMember member = read_staff(r, 0);
        auto it = std::find(member.roles.begin(), member.roles.end(), role);
        if ((it != member.roles.end()) == held) return;
        if (held) {
          member.roles.push_back(role);
        } else {
          member.roles.erase(it);
        }
        conn_->exec("UPDATE staff SET roles = $1 WHERE id = $2", {text(json(member.roles).dump()), text(id)});
        if ((role == "admin" || role == "auditor") && !member.login.empty()) member_rights(member.login, member.roles);
        LogEntry entry = registry::staff_role(id, role, held, by);
        append_registry_now(entry);
      });
    });
  }

  void add_site(const Site& site, const RegistryStamp& by) override {
    guard(msg::store_op_add_site, site.id, [&] {
      if (site.id.empty()) throw usage_error(tr(msg::store_internal, {"a site needs an id"}));
      write(msg::store_w_adding_a_site, [&] {
        const Result r = conn_->exec("INSERT INTO sites (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                                     {text(site.id), text(site.name)});
        if (r.affected() == 0) {
          const Result other = conn_->exec("SELECT name FROM sites WHERE id = $1", {text(site.id)});
          throw conflict(tr(msg::store_site_id_taken, {site.id, other.rows() ? other.str(0, 0) : std::string()}));
        }
        LogEntry entry = registry::site_added(site, by);
        append_registry_now(entry);
      });
    });
  }

  std::vector<Site> sites() override {
    return guard(msg::store_op_list_sites, {}, [&] {
      const Result r = conn_->exec("SELECT id, name FROM sites ORDER BY id");
      std::vector<Site> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(Site{r.str(i, 0), r.str(i, 1)});
      return out;
    });
  }

  void set_staff_site(const std::string& id, const std::string& site, bool held, const RegistryStamp& by) override {
    guard(msg::store_op_update_staff_member, id, [&] {
      write(msg::store_w_updating_a_staff_member, [&] {
        const Result r = conn_->exec("SELECT id, name, roles, active, login, sites FROM staff WHERE id = $1 FOR UPDATE", {text(id)});
        if (r.rows() == 0) throw not_found(tr(msg::store_no_staff, {id}));
        StaffMember member = read_staff(r, 0);
        require_site(site);
        auto it = std::find(member.sites.begin(), member.sites.end(), site);
        if ((it != member.sites.end()) == held) return;
        if (held) {
          member.sites.push_back(site);
          std::sort(member.sites.begin(), member.sites.end());
        } else {
          member.sites.erase(it);
        }
        conn_->exec("UPDATE staff SET sites = $1 WHERE id = $2", {text(json(member.sites).dump()), text(id)});
        LogEntry entry = registry::staff_site(id, site, held, by);
        append_registry_now(entry);
      });
    });
  }

  std::optional<StaffMember> staff(const std::string& id) override {
    return guard(msg::store_op_read_staff_member, id, [&]() -> std::optional<StaffMember> {
      const Result r = conn_->run("staff", "SELECT id, name, roles, active, login, sites FROM staff WHERE id = $1", {text(id)});
      if (r.rows() == 0) return std::nullopt;
      return read_staff(r, 0);
    });
  }

  std::vector<StaffMember> all_staff() override {
    return guard(msg::store_op_list_staff, {}, [&] {
      const Result r = conn_->exec("SELECT id, name, roles, active, login, sites FROM staff ORDER BY id");
      std::vector<StaffMember> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_staff(r, i));
      return out;
    });
  }

  void set_staff_active(const std::string& id, bool active, const RegistryStamp& by) override {
    guard(msg::store_op_update_staff_member, id, [&] {
      write(msg::store_w_updating_a_staff_member, [&] {
        const Result r = conn_->exec("SELECT id, name, roles, active, login, sites FROM staff WHERE id = $1 FOR UPDATE", {text(id)});
        if (r.rows() == 0) throw not_found(tr(msg::store_no_staff, {id}));
        const StaffMember member = read_staff(r, 0);
        if (member.active == active) return;
        conn_->exec("UPDATE staff SET active = $1 WHERE id = $2", {text(active ? "true" : "false"), text(id)});
        // A deactivated member's role can no longer log in; reactivation
        // gives it back. Not for a superuser or this session's own role
        // (sopir does not lock the server's administrators out).
        if (!member.login.empty() && !is_superuser(member.login) && !is_session_user(member.login))
          conn_->exec("ALTER ROLE " + quoted_role(member.login) + (active ? " LOGIN" : " NOLOGIN"));
        LogEntry entry = registry::staff_active(id, active, by);
        append_registry_now(entry);
      });
    });
  }

  SessionIdentity session_identity() override {
    return guard(msg::store_op_read_staff_member, {}, [&] {
      // Who the session is and what row-level security shows it: one round trip.
      const Result r = conn_->exec(std::string(kSessionQuery) + ", " + kSeesEverySite);
      SessionIdentity who = session_of(r);
      who.sees_every_site = r.boolean(0, 4);
      return who;
    });
  }

  bool set_staff_login(const std::string& id, const std::string& login, const std::string& new_password,
                       const RegistryStamp& by) override {
    return guard(msg::store_op_update_staff_member, id, [&] {
      if (!valid_role_name(login)) throw usage_error(tr(msg::store_login_name, {login}));
      bool created = false;
      write(msg::store_w_updating_a_staff_member, [&] {
        conn_->exec("LOCK TABLE staff IN SHARE ROW EXCLUSIVE MODE");
        const Result r = conn_->exec("SELECT id, name, roles, active, login, sites FROM staff WHERE id = $1", {text(id)});
        if (r.rows() == 0) throw not_found(tr(msg::store_no_staff, {id}));
        const StaffMember member = read_staff(r, 0);
        if (member.login == login) return;
        const Result other = conn_->exec("SELECT id FROM staff WHERE login = $1", {text(login)});
        if (other.rows() > 0) throw conflict(tr(msg::store_login_taken, {login, other.str(0, 0)}));
        const std::optional<bool> superuser = role_superuser(login);
        if (superuser.value_or(false)) throw usage_error(tr(msg::store_login_superuser, {login}));
        // Once an active administrator has a login the server takes every
        // step's actor from the session: whoever maps this login must still
        // be the session's member afterwards.
        const SessionIdentity who = read_session();
        const bool admin = member.active && std::find(member.roles.begin(), member.roles.end(), "admin") !=
                                                member.roles.end();
        const bool enforced_after = who.enforced || admin;
        std::string session_member = who.staff_id;
        if (login == who.login) session_member = id;
        if (session_member == id && login != who.login) session_member.clear();
        if (enforced_after && session_member != by.actor)
          throw denied(tr(msg::store_login_not_session, {by.actor, who.login}));
        if (!superuser) {
          conn_->exec("CREATE ROLE " + quoted_role(login) + " LOGIN PASSWORD '" + new_password + "'");
          created = true;
        }
        // What a member's sessions need: the tables sopir reads and writes.
        // The log's triggers keep it append-only and its actors honest.
        const std::string role_name = quoted_role(login);
        const std::string database = conn_->exec("SELECT current_database()").str(0, 0);
        conn_->exec("GRANT CONNECT ON DATABASE " + quoted_role(database) + " TO " + role_name);
        conn_->exec("GRANT USAGE ON SCHEMA public TO " + role_name);
        conn_->exec("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + role_name);
        member_rights(login, member.roles);
        conn_->exec("UPDATE staff SET login = $1 WHERE id = $2", {text(login), text(id)});
        LogEntry entry = registry::staff_login(id, login, by);
        append_registry_now(entry);
      });
      return created;
    });
  }

  // Personal text at rest (docs/PRIVACY.md): the database key is sealed by a
  // key file's key (sopir/key_file.h), found in this process's ring of key
  // files; case keys and sealed texts as on a database file.
  bool read_only() const override { return read_only_; }

  bool encrypts_personal_data() override {
    return guard(msg::store_op_read_staff_member, {}, [&] { return key_row() != nullptr; });
  }

  bool personal_data_unlocked() override {
    return guard(msg::store_op_read_staff_member, {}, [&] { return database_key() != nullptr; });
  }

  std::string key_file_id() override {
    return guard(msg::store_op_read_staff_member, {}, [&] {
      const KeyRow* row = key_row();
      return row ? row->key_file_id : std::string();
    });
  }

  bool seal_database_key(const std::string& key_file_id) override {
    return guard(msg::store_op_seal_the_database_key, {}, [&] {
      const sealing::SecretKey* file_key = sealing::key_file_key(key_file_id);
      if (!file_key) throw not_found(tr(msg::store_key_file_not_loaded, {key_file_id}));
      bool made = false;
      write(msg::store_w_a_transaction, [&] {
        // No personal text is written while this runs, and none in clear
        // after (the trigger sopir_personal_sealed).
        conn_->exec("LOCK TABLE personal_text IN SHARE ROW EXCLUSIVE MODE");
        key_row_.reset();
        no_key_ = false;
        const KeyRow* row = key_row();
        if (row) {
          const sealing::SecretKey* db = database_key();
          if (!db) throw denied(tr(msg::store_key_rotate_locked, {row->key_file_id}));
          const std::string sealed = sealing::seal_key(*file_key, *db, row->key_id);
          conn_->exec("UPDATE database_key SET key_file_id = $1, sealed = $2::bytea, sealed_at = "
                      "extract(epoch FROM now())::bigint WHERE id = 1",
                      {text(key_file_id), bytea(sealed)});
          key_row_.reset();
          return;
        }
        const std::string key_id = sealing::new_key_id();
        auto fresh = std::make_unique<sealing::SecretKey>();
        const std::string sealed = sealing::seal_key(*file_key, *fresh, key_id);
        conn_->exec("INSERT INTO database_key (id, key_id, key_file_id, sealed, created_at, sealed_at) "
                    "VALUES (1, $1, $2, $3::bytea, extract(epoch FROM now())::bigint, "
                    "extract(epoch FROM now())::bigint)",
                    {text(key_id), text(key_file_id), bytea(sealed)});
        sealing::remember_database_key(key_id, std::move(fresh));
        key_row_.reset();
        no_key_ = false;
        encrypt_clear_texts();
        made = true;
      });
      return made;
    });
  }

  bool supports_erasure() override { return true; }

  void erase_personal_data(const std::string& case_id, const std::vector<std::string>& digests) override {
    guard(msg::store_op_erase_case, case_id, [&] {
      write(msg::store_w_appending_to_the_log, [&] {
        conn_->exec("UPDATE personal_text SET text = NULL, sealed = NULL WHERE case_id = $1 OR digest = ANY($2::text[])",
                    {text(case_id), text(array_literal(digests))});
        conn_->exec("DELETE FROM case_keys WHERE case_id = $1", {text(case_id)});
        case_keys_.drop(case_id);
      });
    });
  }

  bool erased_cleanup() override {
    // The deleted rows stay in the tables' pages until vacuumed: vacuum
    // both (the small key table rewritten whole). Only the tables' owner
    // may; for anyone else the server skips it with a warning, and its
    // autovacuum does it later. The server's WAL and backups keep the old
    // rows until they expire (docs/PRIVACY.md).
    // Best effort: the erasure has committed; a vacuum that waits too long
    // on a reader's lock is left to autovacuum rather than reported.
    return guard(msg::store_op_transaction, {}, [&] {
      if (read_only_ || nesting_.depth() > 0) return true;
      try {
        conn_->exec("VACUUM (FULL) case_keys");
        conn_->exec("VACUUM personal_text");
      } catch (const PgFailure& e) {
        if (e.lost) throw;
      }
      return true;
    });
  }

  bool case_exists(const std::string& id) override {
    return guard(msg::store_op_look_up_case, id, [&] { return case_exists_now(id); });
  }

  std::optional<CaseRecord> find_case(const std::string& id) override {
    return guard(msg::store_op_read_case, id, [&]() -> std::optional<CaseRecord> {
      const Result r = conn_->run("find_case",
                                  "SELECT id, sop_id, sha256, state, status, data, version, last_seq, opened_at, "
                                  "due_at, hold_started, closure_reason, parent_case, head_hash, site FROM cases WHERE id = $1",
                                  {text(id)});
      if (r.rows() == 0) return std::nullopt;
      return read_case(r, 0);
    });
  }

  std::vector<CaseRecord> cases(const CaseFilter& filter) override {
    return guard(msg::store_op_list_cases, {}, [&] {
      std::vector<Param> params;
      std::string query = sql("SELECT ", kCaseColumns, " FROM cases") + case_where(filter, params) +
                          case_order_by(filter);
      std::vector<CaseRecord> out;
      auto keep = [&](const Result& r, int i) {
        out.push_back(read_case(r, i));
        return true;
      };
      if (filter.limit > 0 && filter.limit <= kFetchRows) {
        // A page: one statement (one snapshot, one round trip), no cursor.
        query += " LIMIT " + std::to_string(filter.limit);
        const Result r = conn_->exec(query, params);
        each_in_page(r, kCaseDataColumn, [&](int i) { keep(r, i); });
        return out;
      }
      if (filter.limit > 0) query += " LIMIT " + std::to_string(filter.limit);
      each_row(query, params, keep, kCaseDataColumn);
      return out;
    });
  }

  std::vector<CaseHead> case_heads() override {
    return guard(msg::store_op_list_cases, {}, [&] {
      std::vector<CaseHead> out;
      // COLLATE "C": bytewise, as SQLite orders text.
      each_row("SELECT id, last_seq, head_hash FROM cases ORDER BY id COLLATE \"C\"", {},
               [&](const Result& r, int i) {
                 out.push_back(CaseHead{r.str(i, 0), r.integer(i, 1), r.str(i, 2)});
                 return true;
               });
      return out;
    });
  }

  int64_t count_cases(const CaseFilter& filter) override {
    return guard(msg::store_op_count_cases, {}, [&] {
      std::vector<Param> params;
      const std::string where = case_where(filter, params);
      return conn_->exec("SELECT count(*) FROM cases" + where, params).integer(0, 0);
    });
  }

  std::vector<std::string> case_ids(const std::string& prefix, int64_t limit,
                                    const std::optional<std::vector<std::string>>& sites) override {
    return guard(msg::store_op_list_case_ids, {}, [&] {
      std::string query = "SELECT id FROM cases WHERE id LIKE $1 ESCAPE '\\'";
      std::vector<Param> params{text(like_prefix(prefix))};
      if (sites) {
        query += " AND site = ANY ($2::text[])";
        params.push_back(text(array_literal(*sites)));
      }
      query += " ORDER BY id";
      if (limit > 0) query += " LIMIT " + std::to_string(limit);
      const Result r = conn_->exec(query, params);
      std::vector<std::string> out;
      for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
      return out;
    });
  }

  // Through sopir_child_cases (schema 10), which shows a member's session
  // the state and status of the cases a case of its sites opened, at any
  // site; row-level security keeps the rest of them hidden.
  std::vector<ChildCase> child_cases(const std::string& parent_id) override {
    return guard(msg::store_op_list_cases, {}, [&] {
      const Result r = conn_->run("child_cases",
                                  "SELECT id, sop_id, state, status, closure_reason, opened_at "
                                  "FROM sopir_child_cases($1) ORDER BY opened_at, id",
                                  {text(parent_id)});
      std::vector<ChildCase> out;
      for (int i = 0; i < r.rows(); ++i)
        out.push_back(ChildCase{r.str(i, 0), r.str(i, 1), r.str(i, 2), status_from_text(r.str(i, 3)), r.str(i, 4),
                                DateTime{r.integer(i, 5)}});
      return out;
    });
  }

  std::vector<std::vector<ChildCase>> children_of(
      const std::vector<std::string>& parent_ids) override {
    return guard(msg::store_op_list_cases, {}, [&] {
      std::vector<std::vector<ChildCase>> out(parent_ids.size());
      if (parent_ids.empty()) return out;
      const Result r = conn_->run(
          "children_of",
          "SELECT p.at, c.id, c.sop_id, c.state, c.status, c.closure_reason, c.opened_at "
          "FROM unnest($1::text[]) WITH ORDINALITY AS p(id, at), "
          "LATERAL sopir_child_cases(p.id) c ORDER BY p.at, c.opened_at, c.id",
          {text(array_literal(parent_ids))});
      for (int i = 0; i < r.rows(); ++i) {
        const int64_t at = r.integer(i, 0) - 1;
        if (at < 0 || at >= static_cast<int64_t>(out.size())) continue;
        out[static_cast<size_t>(at)].push_back(ChildCase{r.str(i, 1), r.str(i, 2), r.str(i, 3),
                                                         status_from_text(r.str(i, 4)), r.str(i, 5),
                                                         DateTime{r.integer(i, 6)}});
      }
      return out;
    });
  }

  void create_case(const CaseRecord& record, LogEntry& entry) override {
    guard(msg::store_op_open_case, record.id, [&] {
      if (record.id.empty()) throw usage_error(tr(msg::store_internal, {"a new case needs an id"}));
      if (entry.kind != LogKind::kOpen)
        throw usage_error(tr(msg::store_internal, {std::string("the first log row of a case must be of kind open, not ") + to_string(entry.kind)}));
      record_rows::claim_case_id(record, entry);
      Assigned saved(entry);
      try {
        // Checked before any SQL, so a refused row sends nothing.
        PersonalTexts texts;
        entry.case_seq = 1;
        const std::string row = record_rows::prepare_entry(entry, &texts);
        for (const auto& value : record.data) record_rows::prepare_value(value, &texts);
        const std::string hash = record_rows::hash("", row);
        write(
            msg::store_w_opening_a_case,
            [&] {
              if (case_exists_now(record.id)) throw conflict(tr(msg::store_case_id_taken, {record.id}));
              if (!conn_->run("procedure_exists", "SELECT 1 FROM procedures WHERE sha256 = $1", {text(record.sha256)})
                       .rows())
                throw not_found(tr(msg::store_no_procedure_hash, {record.sha256}));
              if (!record.parent_case.empty() && !case_exists_now(record.parent_case))
                throw not_found(tr(msg::store_no_parent, {record.parent_case}));
              if (!record.site.empty()) require_site(record.site);
              // The case row first: a concurrent opener of the same id waits
              // on it and then fails on the primary key (kConflict).
              entry.seq = *write_step(true, record, 1, row, "", hash, texts);
              entry.prev_hash.clear();
              entry.hash = hash;
            },
            [&] { return landed(record.id, 1, hash); });
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
      record_rows::claim_case_id(record, entry);
      // The stored version and chain head, read without a lock: the write
      // (append_held's statement) lands only where the row is still so, so
      // an append in between makes this one kConflict, as a lock would.
      const Result head = conn_->run("case_head", "SELECT version, last_seq, head_hash FROM cases WHERE id = $1",
                                     {text(record.id)});
      if (head.rows() == 0) throw not_found(tr(msg::store_no_case, {record.id}));
      const int64_t version = head.integer(0, 0);
      if (version != expected_version)
        throw conflict(tr(msg::store_case_changed, {record.id, std::to_string(version), std::to_string(expected_version)}));
      // append_held() writes only the row's columns; the rest of `held`
      // is not read.
      CaseRecord held = record;
      held.version = version;
      held.last_seq = head.integer(0, 1);
      held.head_hash = head.str(0, 2);
      append_held_now(held, record, entry);
    });
  }

  void append_held(const CaseRecord& held, const CaseRecord& after, LogEntry& entry) override {
    guard(msg::store_op_append_to_case, after.id, [&] {
      if (after.version != held.version + 1 || after.id != held.id)
        throw usage_error(tr(msg::store_internal, {"the new case row must be the held case's (" + held.id + ") with version " + std::to_string(held.version + 1) + ", not " + after.id + " version " + std::to_string(after.version)}));
      record_rows::claim_case_id(after, entry);
      append_held_now(held, after, entry);
    });
  }

  void append_registry(LogEntry& entry) override {
    guard(msg::store_op_append_to_the_registry_chain, {}, [&] {
      record_rows::check_registry_row(entry);
      Assigned saved(entry);
      try {
        write(msg::store_w_appending_to_the_log, [&] { append_registry_now(entry); });
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
        // No row commits while the heads are read: exactly the rows up to
        // upto_seq are in (readers go on).
        // The root covers every chain: a session row-level security limits
        // to some sites would leave the others out.
        if (!sees_every_site()) throw denied(tr(msg::store_checkpoint_every_site));
        conn_->exec("LOCK TABLE transitions IN EXCLUSIVE MODE");
        const Result newest = conn_->exec("SELECT seq, case_id, kind FROM transitions ORDER BY seq DESC LIMIT 1");
        if (newest.rows() == 0) {
          entry.kind = LogKind::kCheckpoint;
          entry.checkpoint = Checkpoint{0, 0, merkle::root({})};
          return;
        }
        if (newest.text(0, 1).empty() && newest.text(0, 2) == "checkpoint") {
          entry = *newest_checkpoint_now();
          return;
        }
        std::vector<merkle::ChainHead> heads;
        const Result registry = conn_->exec("SELECT last_seq, head_hash FROM registry_head WHERE id = 1");
        if (registry.rows() && registry.integer(0, 0) > 0)
          heads.push_back({"", registry.integer(0, 0), registry.str(0, 1)});
        each_row("SELECT id, last_seq, head_hash FROM cases ORDER BY id", {}, [&](const Result& r, int i) {
          heads.push_back({r.str(i, 0), r.integer(i, 1), r.str(i, 2)});
          return true;
        });
        entry.kind = LogKind::kCheckpoint;
        entry.event = "checkpoint";
        entry.actor = actor;
        entry.occurred_at = entry.recorded_at = at;
        Checkpoint c;
        c.upto_seq = newest.integer(0, 0);
        c.chains = static_cast<int64_t>(heads.size());
        c.root = merkle::root(std::move(heads));
        c.seq_gaps = true;  // an identity column's numbers may skip
        entry.checkpoint = std::move(c);
        append_registry_now(entry);
      });
      return entry;
    });
  }

  std::optional<LogEntry> newest_checkpoint() override {
    return guard(msg::store_op_read_the_newest_checkpoint, {}, [&] { return newest_checkpoint_now(); });
  }

  // A PostgreSQL database keeps a chain per case from its first row.
  int64_t per_chain_from() override { return 1; }
  bool seq_gaps_allowed() override { return true; }

  void scan_log(const LogFilter& filter, const std::function<bool(const LogEntry&)>& visit) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      std::string where;
      std::vector<Param> params;
      auto add = [&](std::string clause, std::initializer_list<Param> values) {
        for (const Param& value : values) {
          params.push_back(value);
          clause.replace(clause.find('?'), 1, "$" + std::to_string(params.size()));
        }
        where += (where.empty() ? " WHERE " : " AND ") + clause;
      };
      if (filter.case_id) add("case_id = ?", {text(*filter.case_id)});
      if (!filter.case_id && !filter.registry) where += where.empty() ? " WHERE case_id <> ''" : " AND case_id <> ''";
      // Rows of a registry kind are registry rows (the (case_id, case_seq) index finds them).
      if (filter.kind && is_registry(*filter.kind) && !filter.case_id) add("case_id = ''", {});
      if (filter.sop_id) add("sha256 IN (SELECT sha256 FROM procedures WHERE sop_id = ?)", {text(*filter.sop_id)});
      if (filter.actor) add("actor = ?", {text(*filter.actor)});
      if (filter.event) add("event = ?", {text(*filter.event)});
      if (filter.state) add("(from_state = ? OR to_state = ?)", {text(*filter.state), text(*filter.state)});
      if (filter.kind) add("kind = ?", {text(to_string(*filter.kind))});
      if (filter.since) add("occurred_at >= ?", {number(filter.since->seconds)});
      if (filter.until) add("occurred_at < ?", {number(filter.until->seconds)});
      if (filter.after_seq) add("seq > ?", {number(*filter.after_seq)});
      each_row(
          sql("SELECT ", kLogColumns, " FROM transitions") + where + " ORDER BY seq", params,
          [&](const Result& r, int i) {
            return record_rows::visit_log_row(
                filter, [&] { return read_log(r, i); }, visit);
          },
          kRecordColumn);
    });
  }

  void scan_chain(const std::function<bool(const ChainRow&)>& visit) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      std::vector<StoredValue> personal;
      std::string case_id;
      ChainRow row;
      row.personal = &personal;
      each_row("SELECT seq, record, prev_hash, hash FROM transitions ORDER BY seq", {},
               [&](const Result& r, int i) {
                 read_chain_columns(r, i, row);
                 personal.clear();
                 row.checkpoint.reset();
                 if (!record_rows::record_head(row.record, row.case_id, row.case_seq) ||
                     record_rows::has_personal(row.record)) {
                   record_rows::chain_row_details(row.record, case_id, row.case_seq, personal, lookup_);
                   row.case_id = case_id;
                 }
                 if (row.case_id.empty()) row.checkpoint = record_rows::checkpoint_of(row.record);
                 return visit(row);
               }, kRecordColumn);
    });
  }

  std::vector<LogEntry> history(const std::string& case_id) override {
    return guard(msg::store_op_read_the_history_of_case, case_id, [&] {
      // Most logs fit one page: one prepared statement, one round trip
      // (`case show`, a step's guards). A longer log is read again, whole,
      // as histories() reads logs (as is one exactly a page long).
      static const std::string page =
          sql("SELECT ", kLogColumns,
              " FROM transitions WHERE case_id = $1 ORDER BY case_seq LIMIT ") +
          std::to_string(kFetchRows);
      const Result r = conn_->run("history_page", page.c_str(), {text(case_id)});
      if (r.rows() >= kFetchRows) return std::move(logs_of({case_id}).front());
      std::vector<LogEntry> out;
      each_in_page(r, kRecordColumn, [&](int i) { out.push_back(read_log(r, i)); });
      if (out.empty() && !case_exists_now(case_id))
        throw not_found(tr(msg::store_no_case, {case_id}));
      return out;
    });
  }

  std::vector<std::vector<LogEntry>> histories(const std::vector<std::string>& case_ids) override {
    return guard(msg::store_op_read_the_log, {}, [&] { return logs_of(case_ids); });
  }

  std::pair<int64_t, std::string> chain_head() override {
    return guard(msg::store_op_read_the_chain_head, {}, [&]() -> std::pair<int64_t, std::string> {
      const Result r = conn_->exec("SELECT seq, hash FROM transitions ORDER BY seq DESC LIMIT 1");
      if (r.rows() == 0) return {0, ""};
      return {r.integer(0, 0), r.str(0, 1)};
    });
  }

  std::vector<std::string> schema_changes() override {
    return guard(msg::store_op_compare_the_schema, {}, [&] { return pg::schema_differences(*conn_); });
  }

  void record_access(const std::string& actor, const std::string& case_id, const std::string& what,
                     const std::string& reason, DateTime at) override {
    guard(msg::store_op_record_access_to_case, case_id, [&] {
      if (reason.empty()) throw usage_error(tr(msg::store_access_needs_reason));
      write(msg::store_w_recording_an_access, [&] {
        conn_->run("record_access",
                   "INSERT INTO access_log (actor, case_id, what, reason, at) VALUES ($1, $2, $3, $4, $5)",
                   {text(actor), text(case_id), text(what), text(reason), number(at.seconds)});
      });
    });
  }

  std::vector<AccessRecord> access_records(const AccessFilter& filter) override {
    return guard(msg::store_op_read_the_access_log, {}, [&] {
      std::string where;
      std::vector<Param> params;
      auto add = [&](const std::string& clause) { where += (where.empty() ? " WHERE " : " AND ") + clause; };
      auto mark = [&](Param value) {
        params.push_back(std::move(value));
        return "$" + std::to_string(params.size());
      };
      if (!filter.case_ids.empty()) {
        std::string marks;
        for (const auto& id : filter.case_ids) marks += (marks.empty() ? "" : ", ") + mark(text(id));
        add("case_id IN (" + marks + ")");
      }
      if (filter.actor) add("actor = " + mark(text(*filter.actor)));
      if (filter.since) add("at >= " + mark(number(filter.since->seconds)));
      if (filter.until) add("at < " + mark(number(filter.until->seconds)));
      std::vector<AccessRecord> out;
      each_row("SELECT id, actor, case_id, what, reason, at FROM access_log" + where + " ORDER BY id", params,
               [&](const Result& r, int i) {
                 AccessRecord a;
                 a.id = r.integer(i, 0);
                 a.actor = r.str(i, 1);
                 a.case_id = r.str(i, 2);
                 a.what = r.str(i, 3);
                 a.reason = r.str(i, 4);
                 a.at = DateTime{r.integer(i, 5)};
                 out.push_back(std::move(a));
                 return true;
               });
      return out;
    });
  }

  // Copying a database in (store.h "Copying a whole database"): the rows
  // as they are, inside the caller's transaction. Identity columns take the
  // copied numbers (OVERRIDING SYSTEM VALUE); import_finish moves their
  // sequences past them.
  void import_site(const Site& site) override {
    guard(msg::store_op_add_site, site.id, [&] {
      write(msg::store_w_adding_a_site, [&] {
        conn_->exec("INSERT INTO sites (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                    {text(site.id), text(site.name)});
      });
    });
  }

  // Server logins name roles of the source's server: not carried to
  // another server (store_import_server_login). A database file has none.
  void import_staff(const StaffMember& member, const std::optional<std::string>& passphrase_hash) override {
    (void)passphrase_hash;  // the server authenticates its connections: no passphrases here
    guard(msg::store_op_add_staff_member, member.id, [&] {
      if (!member.login.empty()) throw usage_error(tr(msg::store_import_server_login, {member.id, member.login}));
      write(msg::store_w_adding_a_staff_member, [&] {
        conn_->exec("INSERT INTO staff (id, name, roles, active, sites) VALUES ($1, $2, $3, $4, $5)",
                    {text(member.id), text(member.name), text(json(member.roles).dump()),
                     text(member.active ? "true" : "false"), text(json(member.sites).dump())});
      });
    });
  }

  void import_procedure(const PublishedProcedure& p, const std::vector<CalendarSource>& calendars) override {
    guard(msg::store_op_publish_procedure, p.sop_id, [&] {
      write(msg::store_w_publishing_a_procedure, [&] {
        conn_->exec("INSERT INTO procedures (sop_id, version, sha256, source, file, published_at, published_by, "
                    "current, compiled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    {text(p.sop_id), number(p.version), text(p.sha256), text(p.source), text(p.file),
                     number(p.published_at.seconds), text(p.published_by), text(p.current ? "true" : "false"),
                     text(p.compiled)});
        if (!calendars.empty()) pin_calendars(p.sha256, calendars);
      });
    });
  }

  // Cases, log rows and their personal texts are sent a batch at a time
  // (one statement per table for up to kImportBatch rows): a statement per
  // row cost a round trip each. A batch goes before any other write.
  void import_case(const CaseRecord& record) override {
    guard(msg::store_op_open_case, record.id, [&] {
      PersonalTexts texts;
      for (const auto& value : record.data) record_rows::prepare_value(value, &texts);
      write(msg::store_w_opening_a_case, [&] {
        if (!import_.log.empty()) flush_import();
        const auto time = [](const std::optional<DateTime>& t) -> Nullable {
          return t ? Nullable(std::to_string(t->seconds)) : std::nullopt;
        };
        import_.cases.push_back({record.id, record.sop_id, record.sha256, record.state, to_string(record.status),
                                 log_json::values(record.data), std::to_string(record.version),
                                 std::to_string(record.last_seq), record.head_hash,
                                 std::to_string(record.opened_at.seconds), time(record.due_at),
                                 time(record.hold_started), record.closure_reason,
                                 record.parent_case.empty() ? Nullable() : Nullable(record.parent_case),
                                 record.site.empty() ? std::string(kDefaultSite) : record.site});
        import_texts(record.id, texts);
        if (import_.cases.size() >= kImportBatch) flush_import();
      });
    });
  }

  void import_log_row(const ChainRow& row) override {
    guard(msg::store_op_copy_log_row, std::to_string(row.seq), [&] {
      PersonalTexts texts;
      if (row.personal)
        for (const StoredValue& value : *row.personal) record_rows::prepare_value(value, &texts);
      write(msg::store_w_appending_to_the_log, [&] {
        if (!import_.cases.empty()) flush_import();
        import_.log.push_back({std::to_string(row.seq), std::string(row.record), std::string(row.prev_hash),
                               std::string(row.hash)});
        import_texts(std::string(row.case_id), texts);
        if (import_.log.size() >= kImportBatch) flush_import();
      });
    });
  }

  void import_access(const AccessRecord& r) override {
    guard(msg::store_op_record_access_to_case, r.case_id, [&] {
      write(msg::store_w_recording_an_access, [&] {
        flush_import();
        conn_->exec("INSERT INTO access_log (id, actor, case_id, what, reason, at) OVERRIDING SYSTEM VALUE "
                    "VALUES ($1, $2, $3, $4, $5, $6)",
                    {number(r.id), text(r.actor), text(r.case_id), text(r.what), text(r.reason), number(r.at.seconds)});
      });
    });
  }

  void import_moved_registry_row(const ChainRow& row) override {
    guard(msg::store_op_copy_log_row, std::to_string(row.seq), [&] {
      write(msg::store_w_appending_to_the_log, [&] {
        flush_import();
        conn_->exec("INSERT INTO moved_registry (seq, record, prev_hash, hash) VALUES ($1, $2, $3, $4)",
                    {number(row.seq), text(std::string(row.record)), text(std::string(row.prev_hash)),
                     text(std::string(row.hash))});
      });
    });
  }

  void scan_moved_registry(const std::function<bool(const ChainRow&)>& visit) override {
    guard(msg::store_op_read_the_log, {}, [&] {
      ChainRow row;
      each_row("SELECT seq, record, prev_hash, hash FROM moved_registry ORDER BY seq", {},
               [&](const Result& r, int i) {
                 read_chain_columns(r, i, row);
                 if (!record_rows::record_head(row.record, row.case_id, row.case_seq)) row.case_id = {};
                 row.checkpoint = record_rows::checkpoint_of(row.record);
                 return visit(row);
               });
    });
  }

  // The log, the registry head and the access log locked against every
  // other writer (readers go on) until the transaction ends, the registry
  // head first (a registry writer holds it before it writes the log); the
  // actor trigger (schema 11) lets this administrator's session write the
  // moved office's rows meanwhile, in the names of the members it added.
  void begin_move_in() override {
    guard(msg::store_op_transaction, {}, [&] {
      write(msg::store_w_a_transaction, [&] {
        conn_->exec("LOCK TABLE registry_head, transitions, access_log IN EXCLUSIVE MODE");
        conn_->exec("SELECT set_config('sopir.move_in', 'on', true)");
      });
    });
  }

  // The server's chain is per case from its first row, and its seq may
  // skip numbers: a copied log chained in seq order before some row (an
  // old database file) cannot be kept as it is.
  void import_finish(int64_t per_chain_from, bool seq_gaps_allowed) override {
    (void)seq_gaps_allowed;
    guard(msg::store_op_transaction, {}, [&] {
      if (per_chain_from > 1) throw usage_error(tr(msg::store_import_chain_rule, {std::to_string(per_chain_from)}));
      write(msg::store_w_a_transaction, [&] {
        flush_import();
        conn_->exec("UPDATE registry_head SET last_seq = r.case_seq, head_hash = r.hash "
                    "FROM (SELECT case_seq, hash FROM transitions WHERE case_id = '' "
                    "ORDER BY case_seq DESC LIMIT 1) r WHERE registry_head.id = 1");
        // Moved on by taking numbers (a member's login may use a sequence,
        // not set it): as many as the copied rows went past it.
        for (const char* table : {"transitions", "access_log"}) {
          const std::string column = std::string(table) == "transitions" ? "seq" : "id";
          const std::string sequence = "pg_get_serial_sequence('" + std::string(table) + "', '" + column + "')";
          const Result at = conn_->exec("SELECT coalesce((SELECT max(" + column + ") FROM " + table + "), 0), "
                                        "pg_sequence_last_value(" + sequence + ")");
          const int64_t behind = at.integer(0, 0) - (at.null(0, 1) ? 0 : at.integer(0, 1));
          if (behind > 0)
            conn_->exec("SELECT count(nextval(" + sequence + ")) FROM generate_series(1, " +
                        std::to_string(behind) + ")");
        }
      });
    });
  }

 private:
  // The logs of `case_ids` (distinct), each whole and in order: one scan
  // for them all, a fetch (and its personal texts) at a time. kNotFound
  // names an id with no log and no case.
  std::vector<std::vector<LogEntry>> logs_of(const std::vector<std::string>& case_ids) {
    std::vector<std::vector<LogEntry>> out(case_ids.size());
    if (case_ids.empty()) return out;
    std::map<std::string, size_t> at;
    for (size_t i = 0; i < case_ids.size(); ++i) at.emplace(case_ids[i], i);
    each_row(
        sql("SELECT ", kLogColumns,
            ", case_id FROM transitions WHERE case_id = ANY ($1::text[]) ORDER BY case_id, "
            "case_seq"),
        {text(array_literal(case_ids))},
        [&](const Result& r, int i) {
          const auto found = at.find(r.str(i, 4));
          if (found != at.end()) out[found->second].push_back(read_log(r, i));
          return true;
        },
        kRecordColumn);
    for (size_t i = 0; i < case_ids.size(); ++i)
      if (out[i].empty() && !case_exists_now(case_ids[i]))
        throw not_found(tr(msg::store_no_case, {case_ids[i]}));
    return out;
  }

  // Runs `f`, turning libpq and JSON failures into Error with context. At
  // the outermost call a connection lost earlier is re-established first.
  template <typename F>
  // What the call was doing (`op`, a catalogue entry about `subject`) is
  // put into words only when something failed.
  auto guard(const Message& op, std::string_view subject, F&& f) -> decltype(f()) {
    try {
      if (nesting_.depth() == 0 && !conn_->ok()) conn_->reset();
      return f();
    } catch (const PgFailure& e) {
      throw describe(e, tr(op, {subject}));
    } catch (const json::exception& e) {
      throw storage_error(tr(msg::store_damaged_json, {server_, tr(op, {subject}), e.what()}));
    }
  }

  Error describe(const PgFailure& e, const std::string& what) const {
    auto failed = [&](const std::string& detail) { return tr(msg::store_failed, {server_, what, detail}); };
    if (e.lost) return storage_error(failed(tr(msg::store_pg_lost, {e.what()})));
    const std::string& state = e.sqlstate;
    if (state == "55P03")
      return storage_error(failed(tr(msg::store_pg_busy, {std::to_string(busy_timeout_ms_)})));
    if (state == "57014")
      return storage_error(failed(tr(msg::store_pg_cancelled, {e.what()})));
    if (state == "40001" || state == "40P01")
      return conflict(failed(tr(msg::store_pg_serialization, {e.what()})));
    if (state == "23505") return conflict(failed(e.what()));
    if (state == "25006" && standby_) return storage_error(tr(msg::store_pg_standby_write, {server_, what}));
    if (state == "25006")
      return storage_error(failed(tr(msg::store_pg_read_only, {e.what()})));
    if (state == "42501")
      return storage_error(failed(tr(msg::store_pg_rights, {e.what()})));
    if (state == "SP006") return denied(tr(msg::store_personal_clear_refused, {server_}));
    return storage_error(failed(e.what()));
  }

  // Runs `body` as a write transaction: BEGIN at the outermost level, a
  // savepoint when nested, so an exception undoes exactly the writes of the
  // level it leaves. `landed`, when given, tells after a lost connection
  // during COMMIT whether the transaction committed (looked up again on a
  // new connection); the call then returns normally when it did.
  //
  // BEGIN, SAVEPOINT and RELEASE are held back and go to the server in the
  // round trip of the next statement (Connection::defer): a level that sent
  // nothing costs nothing, and COMMIT, which releases every savepoint, goes
  // alone. `alone`: `body` sends exactly one statement, which is the whole
  // write (atomic by itself): outside any transaction it runs without
  // BEGIN and COMMIT, in autocommit, so the statement is the commit (a
  // connection lost during it is looked up as one lost during COMMIT).
  void write(const Message& what, const std::function<void()>& body,
             const std::function<bool()>& landed = nullptr, bool alone = false) {
    prefetched_.clear();  // texts read before a write may be erased by it
    try {
      write_now(what, body, landed, alone);
    } catch (...) {
      // Keys read or made in the transaction that failed may not be stored.
      case_keys_.clear();
      key_row_.reset();
      no_key_ = false;
      throw;
    }
  }

  static constexpr const char* kBegin = "BEGIN";
  static constexpr const char* kSavepoint = "SAVEPOINT sopir_nested";
  static constexpr const char* kRelease = "RELEASE sopir_nested";

  void write_now(const Message& what, const std::function<void()>& body, const std::function<bool()>& landed,
                 bool alone) {
    if (standby_) throw storage_error(tr(msg::store_pg_standby_write, {server_, tr(what)}));
    if (read_only_)
      throw storage_error(tr(msg::store_read_only, {server_, tr(what)}));
    if (nesting_.reading())
      throw storage_error(tr(msg::store_internal, {tr(what) + " inside a read snapshot"}));
    if (nesting_.depth() > 0) {
      // The savepoint goes with this level's first statement; a level that
      // sent none takes it back unsent and has nothing to release or undo.
      nesting_.nested(body, [&] { conn_->defer(kSavepoint); },
                      [&] {
                        if (!conn_->take_back(kSavepoint)) conn_->defer(kRelease);
                      },
                      [&] {
                        if (conn_->take_back(kSavepoint) || !conn_->ok()) return;
                        try {
                          conn_->exec("ROLLBACK TO sopir_nested; RELEASE sopir_nested");
                        } catch (const PgFailure&) {
                        }
                      });
      return;
    }
    alone = alone && landed != nullptr;
    bool committing = alone;
    try {
      nesting_.outermost([&] {
        if (!alone) conn_->defer(kBegin);
        body();
        if (alone || conn_->take_back(kBegin)) return;  // autocommit, or nothing was sent
        while (conn_->take_back(kRelease)) {
        }
        committing = true;
        conn_->run("commit", "COMMIT", {});
      });
    } catch (const PgFailure& e) {
      if (!e.lost) {
        rollback();
        throw;
      }
      if (!committing) throw PgFailure(e.sqlstate, std::string(e.what()) + nothing_written(), true);
      // The answer to COMMIT was lost: ask again on a new connection.
      std::optional<bool> did_land;
      if (landed) {
        try {
          conn_->reset();
          did_land = landed();
        } catch (const PgFailure&) {
        }
      }
      if (did_land && *did_land) return;
      if (did_land)
        throw PgFailure(e.sqlstate, std::string(e.what()) + tr(msg::store_pg_commit_lost_not_written), true);
      throw PgFailure(e.sqlstate, std::string(e.what()) + tr(msg::store_pg_commit_lost_unknown), true);
    } catch (const Error& e) {
      // A nested call already described the failure; when it was the
      // connection, say what became of the transaction.
      if (!conn_->ok()) throw Error(e.kind(), e.message() + nothing_written());
      rollback();
      throw;
    } catch (...) {
      rollback();
      throw;
    }
  }

  // Ends the open transaction, if the server has one, undoing it; held-back
  // statements are dropped unsent.
  void rollback() {
    conn_->drop_deferred();
    if (!conn_->ok() || !conn_->in_transaction()) return;
    try {
      conn_->exec("ROLLBACK");
    } catch (const PgFailure&) {
    }
  }

  // append_held's write, in the caller's guard: one statement. Outside a
  // transaction of the caller's it is the whole transaction (autocommit,
  // one round trip) unless a new case key must be stored with it first.
  void append_held_now(const CaseRecord& held, const CaseRecord& after, LogEntry& entry) {
    Assigned saved(entry);
    try {
      PersonalTexts texts;
      for (const auto& value : after.data) record_rows::prepare_value(value, &texts);
      entry.case_seq = held.last_seq + 1;
      const std::string row = record_rows::prepare_entry(entry, &texts);
      const std::string hash = record_rows::hash(held.head_hash, row);
      const bool alone = texts.empty() || key_row() == nullptr || case_keys_.find(after.id) != nullptr;
      write(
          msg::store_w_appending_to_the_log,
          [&] {
            // Written only where the row is still as held: no read first.
            const auto seq = write_step(false, after, entry.case_seq, row, held.head_hash, hash, texts, &held);
            if (!seq) {
              const Result now = conn_->run("case_version", "SELECT version FROM cases WHERE id = $1", {text(held.id)});
              if (now.rows() == 0) throw not_found(tr(msg::store_no_case, {held.id}));
              throw conflict(tr(msg::store_case_changed, {held.id, now.str(0, 0), std::to_string(held.version)}));
            }
            entry.seq = *seq;
            entry.prev_hash = held.head_hash;
            entry.hash = hash;
          },
          [&] { return landed(after.id, entry.case_seq, hash); }, alone);
    } catch (...) {
      saved.restore(entry);
      throw;
    }
  }

  // Writes a registry row inside the caller's transaction: locks the
  // registry chain's head, assigns case_seq, prev_hash, hash and seq.
  void append_registry_now(LogEntry& entry) {
    PersonalTexts texts;
    const Result head =
        conn_->exec("SELECT last_seq, head_hash FROM registry_head WHERE id = 1 FOR UPDATE");
    entry.case_seq = head.integer(0, 0) + 1;
    const std::string prev = head.str(0, 1);
    const std::string row = record_rows::prepare_entry(entry, &texts);
    const std::string hash = record_rows::hash(prev, row);
    const Result r = conn_->exec(
        "WITH l AS (INSERT INTO transitions (record, prev_hash, hash) VALUES ($1, $2, $3) RETURNING seq) "
        "UPDATE registry_head SET last_seq = $4, head_hash = $3 WHERE id = 1 RETURNING (SELECT seq FROM l)",
        {text(row), text(prev), text(hash), number(entry.case_seq)});
    entry.seq = r.integer(0, 0);
    entry.prev_hash = prev;
    entry.hash = hash;
  }

  std::optional<LogEntry> newest_checkpoint_now() {
    const Result r = conn_->exec(
        "SELECT seq, record, prev_hash, hash FROM transitions WHERE case_id = '' AND kind = 'checkpoint' "
        "ORDER BY seq DESC LIMIT 1");
    if (r.rows() == 0) return std::nullopt;
    return read_log(r, 0);
  }

  // Whether the log row (case_id, case_seq) with this hash is stored.
  bool landed(const std::string& case_id, int64_t case_seq, const std::string& hash) {
    const Result r = conn_->exec("SELECT hash FROM transitions WHERE case_id = $1 AND case_seq = $2",
                                 {text(case_id), number(case_seq)});
    return r.rows() == 1 && r.text(0, 0) == hash;
  }

  // Runs a query and visits its rows in batches through a cursor, so a
  // large log is never held whole and `visit` may use the store between
  // batches. Inside a transaction of ours when one is open, else in a
  // transaction of its own (one snapshot for the whole scan).
  // `texts`: the column whose JSON names personal values, read a batch at
  // a time before the batch's rows are visited (prefetch_texts); -1: none.
  void each_row(const std::string& query, const std::vector<Param>& params,
                const std::function<bool(const Result&, int)>& visit, int texts = -1) {
    if (nesting_.depth() == 0) {
      // A transaction of its own: one snapshot for the whole scan.
      nesting_.outermost([&] {
        conn_->defer(kBegin);  // sent with the cursor's DECLARE
        try {
          scan_rows(query, params, visit, texts);
        } catch (...) {
          rollback();
          throw;
        }
        if (!conn_->take_back(kBegin)) conn_->run("commit", "COMMIT", {});
      });
      return;
    }
    scan_rows(query, params, visit, texts);
  }

  // Each row of a page read by one statement, its personal texts read first
  // (prefetch_texts, `texts` its JSON column) and forgotten after.
  void each_in_page(const Result& page, int texts, const std::function<void(int)>& visit) {
    try {
      prefetch_texts(page, texts);
      for (int i = 0; i < page.rows(); ++i) visit(i);
    } catch (...) {
      prefetched_.clear();
      throw;
    }
    prefetched_.clear();
  }

  // each_row's work inside a transaction.
  void scan_rows(const std::string& query, const std::vector<Param>& params,
                 const std::function<bool(const Result&, int)>& visit, int texts) {
    const std::string cursor = "sopir_scan_" + std::to_string(++cursors_);
    try {
      conn_->exec("DECLARE " + cursor + " NO SCROLL CURSOR FOR " + query, params);
      const std::string fetch = "FETCH " + std::to_string(kFetchRows) + " FROM " + cursor;
      bool more = true;
      while (more) {
        const Result batch = conn_->exec(fetch);
        if (texts >= 0) prefetch_texts(batch, texts);
        for (int i = 0; i < batch.rows() && more; ++i) more = visit(batch, i);
        if (batch.rows() < kFetchRows) break;
      }
      conn_->exec("CLOSE " + cursor);
    } catch (...) {
      --cursors_;
      prefetched_.clear();
      throw;
    }
    --cursors_;
    prefetched_.clear();
  }

  bool case_exists_now(const std::string& id) {
    return conn_->run("case_exists", "SELECT 1 FROM cases WHERE id = $1", {text(id)}).rows() > 0;
  }

  std::optional<PublishedProcedure> procedure_by_hash_now(const std::string& sha256) {
    static const std::string kQuery =
        sql("SELECT ", procedure_columns::kWhole, " FROM procedures p WHERE p.sha256 = $1");
    const Result r = conn_->run("procedure_by_hash", kQuery.c_str(), {text(sha256)});
    if (r.rows() == 0) return std::nullopt;
    return read_procedure(r, 0);
  }

  // kNotFound, naming the sites there are, for an unknown site.
  void require_site(const std::string& site) {
    if (conn_->exec("SELECT 1 FROM sites WHERE id = $1", {text(site)}).rows() > 0) return;
    const Result all = conn_->exec("SELECT id FROM sites ORDER BY id");
    std::string known;
    for (int i = 0; i < all.rows(); ++i) known += (known.empty() ? "" : ", ") + all.str(i, 0);
    throw not_found(tr(msg::store_no_site, {site, known}));
  }

  // `member` with its sites checked and sorted; none given: the only site
  // when the database has exactly one.
  StaffMember with_sites(const StaffMember& member) {
    StaffMember out = member;
    if (out.sites.empty()) {
      const Result r = conn_->exec("SELECT id FROM sites LIMIT 2");
      if (r.rows() == 1) out.sites.push_back(r.str(0, 0));
    }
    for (const auto& site : out.sites) require_site(site);
    std::sort(out.sites.begin(), out.sites.end());
    out.sites.erase(std::unique(out.sites.begin(), out.sites.end()), out.sites.end());
    return out;
  }

  // Writes a step in one statement (one round trip; opening a case: two): the case row (inserted
  // when `create`, else updated where it still has `held`'s version,
  // last_seq and head_hash; last_seq and head_hash those of the log row),
  // the log row, and the personal texts. Returns the log row's seq; nullopt
  // when the held row had changed (then nothing is written).
  std::optional<int64_t> write_step(bool create, const CaseRecord& record, int64_t last_seq, const std::string& row,
                                    const std::string& prev, const std::string& hash, const PersonalTexts& texts,
                                    const CaseRecord* held = nullptr) {
    std::vector<std::string> digests, values;
    // Sealed under the case's key once the database has a key (kDenied
    // when this process cannot unlock it), in clear before.
    const bool sealed = !texts.empty() && key_row() != nullptr;
    const sealing::SecretKey* case_key = sealed ? &case_key_for_writing(record.id) : nullptr;
    for (const auto& [digest, value] : texts) {
      digests.push_back(digest);
      values.push_back(sealed ? sealing::to_hex(sealing::seal(*case_key, value, digest)) : value);
    }
    std::vector<Param> params = {text(record.id),
                                       text(record.sop_id),
                                       text(record.sha256),
                                       text(record.state),
                                       text(to_string(record.status)),
                                       text(log_json::values(record.data)),
                                       number(record.version),
                                       number(last_seq),
                                       text(hash),
                                       number(record.opened_at.seconds),
                                       time_param(record.due_at),
                                       time_param(record.hold_started),
                                       text(record.closure_reason),
                                       text_or_null(record.parent_case),
                                       text(row),
                                       text(prev),
                                       text(array_literal(digests)),
                                       text(array_literal(values)),
                                       text(record.site.empty() ? std::string(kDefaultSite) : record.site)};
    if (held) {
      params.push_back(number(held->version));
      params.push_back(number(held->last_seq));
      params.push_back(text(held->head_hash));
      // The texts are kept only where the case row was written (`c`): a
      // step that lost the race writes nothing, also when this statement
      // is its own transaction (autocommit, see append_held_now).
      const char* kHeldTexts =
          sealed ? "texts AS (INSERT INTO personal_text (digest, case_id, sealed) "
                   "SELECT d, $1, decode(s, 'hex') FROM unnest($17::text[], $18::text[]) AS u(d, s) CROSS JOIN c "
                   "ON CONFLICT DO NOTHING) "
                 : "texts AS (INSERT INTO personal_text (digest, text, case_id) "
                   "SELECT d, t, $1 FROM unnest($17::text[], $18::text[]) AS u(d, t) CROSS JOIN c "
                   "ON CONFLICT DO NOTHING) ";
      const Result r = conn_->run(
          (sealed ? "held_step_sealed" : "held_step"),
          (std::string("WITH c AS (UPDATE cases SET sop_id = $2, sha256 = $3, state = $4, status = $5, data = $6, "
                       "version = $7, last_seq = $8, head_hash = $9, opened_at = $10, due_at = $11, hold_started = $12, "
                       "closure_reason = $13, parent_case = $14, site = $19 WHERE id = $1 AND version = $20 AND "
                       "last_seq = $21 AND head_hash = $22 RETURNING id), ") +
           kHeldTexts + "INSERT INTO transitions (record, prev_hash, hash) SELECT $15, $16, $9 FROM c RETURNING seq")
              .c_str(),
          params);
      if (r.rows() != 1) return std::nullopt;
      return r.integer(0, 0);
    }
    if (create) {
      // Two statements: row-level security (docs/DEPLOY.md "Sites") checks
      // the log row against the case rows its statement's snapshot sees,
      // which holds the new case only after its own statement.
      conn_->run("create_case_row",
                 "INSERT INTO cases (id, sop_id, sha256, state, status, data, version, last_seq, head_hash, "
                 "opened_at, due_at, hold_started, closure_reason, parent_case, site) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                 {params[0], params[1], params[2], params[3], params[4], params[5], params[6], params[7], params[8],
                  params[9], params[10], params[11], params[12], params[13], params[18]});
      const Result opened = conn_->run(
          sealed ? "create_log_row_sealed" : "create_log_row",
          sealed ? "WITH texts AS (INSERT INTO personal_text (digest, case_id, sealed) "
                   "SELECT d, $1, decode(s, 'hex') FROM unnest($2::text[], $3::text[]) AS u(d, s) "
                   "ON CONFLICT DO NOTHING) "
                   "INSERT INTO transitions (record, prev_hash, hash) VALUES ($4, $5, $6) RETURNING seq"
                 : "WITH texts AS (INSERT INTO personal_text (digest, text, case_id) "
                   "SELECT d, t, $1 FROM unnest($2::text[], $3::text[]) AS u(d, t) ON CONFLICT DO NOTHING) "
                   "INSERT INTO transitions (record, prev_hash, hash) VALUES ($4, $5, $6) RETURNING seq",
          {params[0], params[16], params[17], params[14], params[15], params[8]});
      if (opened.rows() != 1) throw storage_error(tr(msg::store_internal, {"the log row of " + record.id + " was not written"}));
      return opened.integer(0, 0);
    }
    throw usage_error(tr(msg::store_internal, {"a step's write needs the held case row"}));
  }

  // Keeps copied personal texts of case `case_id` for the next batch
  // (sealed under its key once the database has a key), as write_step
  // keeps a step's.
  void import_texts(const std::string& case_id, const PersonalTexts& texts) {
    if (texts.empty()) return;
    import_.sealed = key_row() != nullptr;
    const sealing::SecretKey* case_key = import_.sealed ? &case_key_for_writing(case_id) : nullptr;
    for (const auto& [digest, value] : texts)
      import_.texts.push_back({digest, case_id,
                               import_.sealed ? sealing::to_hex(sealing::seal(*case_key, value, digest)) : value});
  }

  // Sends the batched rows: cases first (log rows and texts name them).
  void flush_import() {
    ImportBatch batch = std::move(import_);
    import_ = ImportBatch{};
    if (!batch.cases.empty()) {
      std::vector<Param> columns;
      for (size_t c = 0; c < batch.cases.front().size(); ++c) columns.push_back(column_literal(batch.cases, c));
      conn_->exec("INSERT INTO cases (id, sop_id, sha256, state, status, data, version, last_seq, head_hash, "
                  "opened_at, due_at, hold_started, closure_reason, parent_case, site) "
                  "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
                  "$7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], "
                  "$13::text[], $14::text[], $15::text[])",
                  columns);
    }
    if (!batch.log.empty()) {
      std::vector<Param> columns;
      for (size_t c = 0; c < 4; ++c) columns.push_back(column_literal(batch.log, c));
      conn_->exec("INSERT INTO transitions (seq, record, prev_hash, hash) OVERRIDING SYSTEM VALUE "
                  "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[])",
                  columns);
    }
    if (!batch.texts.empty()) {
      std::vector<Param> columns;
      for (size_t c = 0; c < 3; ++c) columns.push_back(column_literal(batch.texts, c));
      conn_->exec(batch.sealed ? "INSERT INTO personal_text (digest, case_id, sealed) SELECT d, c, decode(v, 'hex') "
                                 "FROM unnest($1::text[], $2::text[], $3::text[]) AS u(d, c, v) ON CONFLICT DO NOTHING"
                               : "INSERT INTO personal_text (digest, case_id, text) SELECT d, c, v "
                                 "FROM unnest($1::text[], $2::text[], $3::text[]) AS u(d, c, v) ON CONFLICT DO NOTHING",
                  columns);
    }
  }

  // Column `c` of `rows` as a PostgreSQL array literal (NULL for nullopt).
  template <typename Rows>
  static std::string column_literal(const Rows& rows, size_t c) {
    std::string out = "{";
    for (const auto& row : rows) {
      if (out.size() > 1) out += ',';
      const Nullable item = row[c];
      if (!item) {
        out += "NULL";
        continue;
      }
      out += '"';
      for (const char ch : *item) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
      }
      out += '"';
    }
    return out + "}";
  }

  // A PostgreSQL text[] literal: {"a","b"}, with " and \ escaped.
  static std::string array_literal(const std::vector<std::string>& items) {
    std::string out = "{";
    for (const auto& item : items) {
      if (out.size() > 1) out += ',';
      out += '"';
      for (const char c : item) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
    return out + "}";
  }

  // A personal value's text from personal_text by its digest (decrypted
  // with its case's key, read in the same query), `erased` when it or the
  // case's key is gone, `locked` when it is encrypted and this process
  // holds no key file for the database key.
  // A scan reads the texts of a fetched batch's values in one query first
  // (prefetch_texts); a value not among them is asked for on its own.
  void add_personal_text(StoredValue& value) {
    if (const auto held = prefetched_.find(value.digest); held != prefetched_.end()) {
      open_text(value, held->second);
      return;
    }
    const Result r = conn_->run("personal_text",
                                "SELECT p.text, p.case_id, p.sealed, k.sealed FROM personal_text p "
                                "LEFT JOIN case_keys k ON k.case_id = p.case_id WHERE p.digest = $1",
                                {text(value.digest)});
    TextRow row;
    if (r.rows() == 0) {
      row.hidden = !gone({value.digest}).count(value.digest);
    } else {
      row = text_row(r, 0, 0);
    }
    open_text(value, row);
  }

  // Which of `digests` have no text left (sopir_personal_gone, schema 12):
  // the rows a session does not read may be hidden from it by the
  // policies (an auditor reads no personal text) rather than gone.
  std::set<std::string> gone(const std::vector<std::string>& digests) {
    const Result r =
        conn_->run("personal_gone", "SELECT d FROM sopir_personal_gone($1::text[]) AS d",
                   {text(array_literal(digests))});
    std::set<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.insert(r.str(i, 0));
    return out;
  }

  // A personal_text row as read with its case's sealed key; `found` false
  // when the server has no row for the digest.
  struct TextRow {
    bool found = false;
    bool hidden = false;  // not found, but there: the policies do not show it to this session
    std::optional<std::string> text, sealed, case_key;
    std::string case_id;
  };
  // The row at `r`'s row `i`, its four columns (text, case_id, sealed,
  // the case's sealed key) from column `first` on.
  static TextRow text_row(const Result& r, int i, int first) {
    TextRow row;
    row.found = true;
    if (!r.null(i, first)) row.text = r.str(i, first);
    row.case_id = r.str(i, first + 1);
    if (!r.null(i, first + 2)) row.sealed = bytes_of(r, i, first + 2);
    if (!r.null(i, first + 3)) row.case_key = bytes_of(r, i, first + 3);
    return row;
  }

  void open_text(StoredValue& value, const TextRow& row) {
    if (row.hidden) {  // as a text sealed by a key this process does not hold
      value.locked = true;
      return;
    }
    if (!row.found || (!row.text && !row.sealed)) {
      value.erased = true;
      // Text cleared on a row naming no case: erased as before version 6.
      value.erased_since_keys = !row.found || !row.case_id.empty();
      return;
    }
    if (row.text) {
      value.text = *row.text;
      return;
    }
    no_key_ = false;  // a sealed text: the database has a key
    const sealing::SecretKey* key = case_keys_.find(row.case_id);
    if (!key) {
      if (!row.case_key) {
        value.erased = value.erased_since_keys = true;
        return;
      }
      const sealing::SecretKey* db = database_key();
      if (!db) {
        value.locked = true;
        return;
      }
    }
    try {
      if (!key)
        key = &case_keys_.keep(row.case_id,
                               sealing::open_case_key(*database_key(), *row.case_key, row.case_id));
      value.text = sealing::open_personal_text(*key, *row.sealed, value.digest, row.case_id);
    } catch (const Error& e) {
      // A text or case key that does not open: an audit reads on and reports it.
      if (!read_only_ || e.kind() != ErrorKind::kStorage) throw;
      value.locked = value.damaged = true;
    }
  }

  // The texts of every personal value named in column `column` of the
  // fetched rows (JSON holding `"digest":"..."`, as log_json writes a
  // personal value), read in one query and held until the next batch. A
  // digest with no row is held as not found, so no query asks again.
  void prefetch_texts(const Result& batch, int column) {
    prefetched_.clear();
    std::vector<std::string> digests;
    constexpr std::string_view kDigest = "\"digest\":\"";
    for (int i = 0; i < batch.rows(); ++i) {
      const std::string_view json = batch.text(i, column);
      for (size_t at = json.find(kDigest); at != std::string_view::npos; at = json.find(kDigest, at)) {
        at += kDigest.size();
        const size_t end = json.find('"', at);
        if (end == std::string_view::npos) break;
        const std::string digest(json.substr(at, end - at));
        if (prefetched_.emplace(digest, TextRow{}).second) digests.push_back(digest);
      }
    }
    if (digests.empty()) return;
    const Result r = conn_->run("personal_texts",
                                "SELECT p.digest, p.text, p.case_id, p.sealed, k.sealed FROM personal_text p "
                                "LEFT JOIN case_keys k ON k.case_id = p.case_id WHERE p.digest = ANY ($1::text[])",
                                {text(array_literal(digests))});
    for (int i = 0; i < r.rows(); ++i) prefetched_[r.str(i, 0)] = text_row(r, i, 1);
    if (r.rows() == static_cast<int>(digests.size())) return;
    std::vector<std::string> unseen;
    for (const std::string& digest : digests)
      if (!prefetched_[digest].found) unseen.push_back(digest);
    const std::set<std::string> left = gone(unseen);
    for (const std::string& digest : unseen) prefetched_[digest].hidden = !left.count(digest);
  }

  // The database key's row, read once it exists (a key once made is never
  // removed; seal_database_key reads it again); null when there is none.
  struct KeyRow {
    std::string key_id, key_file_id, sealed;
  };
  // Its absence is remembered too (a step's write need not ask each time):
  // should another process set the key meanwhile, the server refuses this
  // one's clear text (sopir_personal_sealed) and the failed write forgets
  // what was remembered; a sealed text read says so as well.
  const KeyRow* key_row() {
    if (key_row_) return &*key_row_;
    if (no_key_) return nullptr;
    const Result r = conn_->run("database_key", "SELECT key_id, key_file_id, sealed FROM database_key WHERE id = 1", {});
    if (r.rows() == 0) {
      no_key_ = true;
      return nullptr;
    }
    key_row_ = KeyRow{r.str(0, 0), r.str(0, 1), bytes_of(r, 0, 2)};
    return &*key_row_;
  }

  // The unlocked database key, or null: from the process's ring, or opened
  // now with a key file this process loaded.
  const sealing::SecretKey* database_key() {
    const KeyRow* row = key_row();
    if (!row) return nullptr;
    if (const sealing::SecretKey* held = sealing::database_key(row->key_id)) return held;
    const sealing::SecretKey* file_key = sealing::key_file_key(row->key_file_id);
    if (!file_key) return nullptr;
    auto key = sealing::open_key(*file_key, row->sealed, row->key_id);
    if (!key) throw storage_error(tr(msg::store_database_key_bad, {server_}));
    sealing::remember_database_key(row->key_id, std::move(key));
    return sealing::database_key(row->key_id);
  }

  // The key of case `case_id` for new text: the one held, the stored one,
  // or a new one stored now (sealed by the database key), in one statement.
  // Held keys are forgotten when a transaction rolls back (write()), so a
  // key made in a transaction that did not commit is never used.
  const sealing::SecretKey& case_key_for_writing(const std::string& case_id) {
    const sealing::SecretKey* db = database_key();
    if (!db) throw denied(tr(msg::store_personal_locked_server, {case_id}));
    if (const sealing::SecretKey* held = case_keys_.find(case_id)) return *held;
    auto fresh = std::make_unique<sealing::SecretKey>();
    const std::string wrapped = sealing::seal_key(*db, *fresh, case_id);
    Result r = conn_->run("case_key",
                          "WITH made AS (INSERT INTO case_keys (case_id, sealed) VALUES ($1, $2::bytea) "
                          "ON CONFLICT DO NOTHING RETURNING sealed) "
                          "SELECT sealed, true FROM made UNION ALL SELECT sealed, false FROM case_keys WHERE case_id = $1",
                          {text(case_id), bytea(wrapped)});
    // Another transaction stored one after this statement's snapshot.
    if (r.rows() == 0)
      r = conn_->run("case_key_again", "SELECT sealed, false FROM case_keys WHERE case_id = $1", {text(case_id)});
    if (r.rows() == 0) throw storage_error(tr(msg::store_case_key_bad, {case_id}));
    if (r.boolean(0, 1)) return case_keys_.keep(case_id, std::move(fresh));
    return case_keys_.keep(case_id, sealing::open_case_key(*db, bytes_of(r, 0, 0), case_id));
  }

  // The one-time encryption of a database from before its key (in
  // seal_database_key's transaction): every clear text sealed under its
  // case's key; a text no log row names belongs to no case and cannot be
  // read through sopir, so it is dropped rather than kept in clear.
  void encrypt_clear_texts() {
    conn_->exec("UPDATE personal_text SET text = NULL WHERE text IS NOT NULL AND case_id IS NULL");
    std::vector<std::string> digests, sealed;
    each_row("SELECT digest, case_id, text FROM personal_text WHERE text IS NOT NULL ORDER BY case_id", {},
             [&](const Result& r, int i) {
               std::string clear = r.str(i, 2);
               digests.push_back(r.str(i, 0));
               sealed.push_back(sealing::to_hex(sealing::seal(case_key_for_writing(r.str(i, 1)), clear, digests.back())));
               sealing::wipe(clear);
               return true;
             });
    if (digests.empty()) return;
    conn_->exec("UPDATE personal_text p SET text = NULL, sealed = decode(u.s, 'hex') "
                "FROM unnest($1::text[], $2::text[]) AS u(d, s) WHERE p.digest = u.d",
                {text(array_literal(digests)), text(array_literal(sealed))});
  }

  static Param bytea(const std::string& bytes) { return "\\x" + sealing::to_hex(bytes); }
  static std::string bytes_of(const Result& r, int row, int column) {
    std::string_view hex = r.text(row, column);
    if (hex.rfind("\\x", 0) == 0) hex.remove_prefix(2);
    auto raw = sealing::from_hex(hex);
    if (!raw) throw storage_error(tr(msg::store_internal, {"a bytea value the server sent is not hex"}));
    return std::move(*raw);
  }

  // The WHERE clause of cases() and count_cases(), its values appended to
  // `params`. One site is compared by equality, so that the index on
  // (site, opened_at, id) gives a site's cases in listing order (with
  // `= ANY` the planner cannot use it for the order and walks the whole
  // opened_at index instead, filtering).
  static std::string case_where(const CaseFilter& filter, std::vector<Param>& params) {
    std::string where;
    auto add = [&](std::string clause, std::initializer_list<Param> values) {
      for (const Param& value : values) {
        params.push_back(value);
        clause.replace(clause.find('?'), 1, "$" + std::to_string(params.size()));
      }
      where += (where.empty() ? " WHERE " : " AND ") + clause;
    };
    if (filter.sop_id) add("sop_id = ?", {text(*filter.sop_id)});
    if (filter.sha256) add("sha256 = ?", {text(*filter.sha256)});
    if (filter.state) add("state = ?", {text(*filter.state)});
    if (filter.status) add("status = ?", {text(to_string(*filter.status))});
    if (filter.due_before) add("due_at IS NOT NULL AND due_at < ?", {number(filter.due_before->seconds)});
    if (filter.linked_to)
      add("(parent_case = ? OR id = (SELECT parent_case FROM cases WHERE id = ?))",
          {text(*filter.linked_to), text(*filter.linked_to)});
    if (filter.sites && filter.sites->size() == 1) add("site = ?", {text(filter.sites->front())});
    else if (filter.sites) add("site = ANY (?::text[])", {text(array_literal(*filter.sites))});
    if (filter.after_id) add("id > ?", {text(*filter.after_id)});
    return where;
  }

  CaseRecord read_case(const Result& r, int i) {
    CaseRecord record;
    record.id = r.str(i, 0);
    record.sop_id = r.str(i, 1);
    record.sha256 = r.str(i, 2);
    record.state = r.str(i, 3);
    record.status = status_from_text(r.str(i, 4));
    record.data = record_rows::read_values(r.text(i, 5), lookup_);
    record.version = r.integer(i, 6);
    record.last_seq = r.integer(i, 7);
    record.opened_at = DateTime{r.integer(i, 8)};
    if (!r.null(i, 9)) record.due_at = DateTime{r.integer(i, 9)};
    if (!r.null(i, 10)) record.hold_started = DateTime{r.integer(i, 10)};
    record.site = r.str(i, 14);
    record.closure_reason = r.str(i, 11);
    record.parent_case = r.str(i, 12);  // NULL reads as ""
    record.head_hash = r.str(i, 13);
    return record;
  }

  LogEntry read_log(const Result& r, int i) {
    LogEntry entry = record_rows::read_record(r.text(i, 1), r.integer(i, 0), lookup_);
    entry.prev_hash = r.str(i, 2);
    entry.hash = r.str(i, 3);
    return entry;
  }

  static PublishedProcedure read_procedure(const Result& r, int i) {
    PublishedProcedure p;
    p.sop_id = r.str(i, 0);
    p.version = static_cast<int>(r.integer(i, 1));
    p.sha256 = r.str(i, 2);
    p.source = r.str(i, 3);
    p.file = r.str(i, 4);
    p.published_at = DateTime{r.integer(i, 5)};
    p.published_by = r.str(i, 6);
    p.current = r.boolean(i, 7);
    p.cases = r.integer(i, 8);
    p.compiled = r.str(i, 9);
    return p;
  }

  // A role name sopir creates or maps: lower-case letters, digits and '_'
  // (no quoting surprises, no upper-case folding).
  static bool valid_role_name(const std::string& name) {
    if (name.empty() || name.size() > 63 || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
  }
  static std::string quoted_role(const std::string& name) {
    std::string out = "\"";
    for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
  }
  // What a member's login may do with the tables: read them all (row-level
  // security shows it its sites' rows), write them unless it is an
  // auditor's (auditors read everything and write nothing), and change the
  // staff and sites tables only when it is an administrator's.
  void member_rights(const std::string& login, const std::vector<std::string>& roles) {
    const bool auditor = std::find(roles.begin(), roles.end(), "auditor") != roles.end();
    const bool admin = std::find(roles.begin(), roles.end(), "admin") != roles.end();
    const std::string role = quoted_role(login);
    conn_->exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role);
    conn_->exec(std::string(auditor ? "REVOKE" : "GRANT") + " INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public " +
                (auditor ? "FROM " : "TO ") + role);
    staff_table_rights(login, admin && !auditor);
  }
  // Only an administrator's login may change the staff table (who is who,
  // which login is whose), the sites, and add a moved office's registry;
  // every member's may read them.
  void staff_table_rights(const std::string& login, bool admin) {
    conn_->exec(std::string(admin ? "GRANT" : "REVOKE") + " INSERT, UPDATE, DELETE ON staff, sites, moved_registry " +
                (admin ? "TO " : "FROM ") + quoted_role(login));
  }
  // Whether row-level security lets this session read every site's case
  // rows (pg_schema.cc, version 8).
  static constexpr const char* kSeesEverySite =
      "(SELECT sopir_rls_claim_mode()) OR (SELECT sopir_session_roles() && "
      "'{admin,national,auditor}') OR (SELECT rolsuper OR rolbypassrls FROM pg_roles "
      "WHERE rolname = session_user)";
  bool sees_every_site() { return conn_->exec(std::string("SELECT ") + kSeesEverySite).boolean(0, 0); }
  // Whether server role `role` is a superuser; nullopt when no such role.
  std::optional<bool> role_superuser(const std::string& role) {
    const Result r = conn_->exec("SELECT rolsuper FROM pg_roles WHERE rolname = $1", {text(role)});
    if (r.rows() == 0) return std::nullopt;
    return r.boolean(0, 0);
  }
  bool is_superuser(const std::string& role) { return role_superuser(role).value_or(false); }
  // Who the session is (Store::session_identity), in the caller's guard.
  static constexpr const char* kSessionQuery =
      "SELECT session_user, (SELECT id FROM staff WHERE login = session_user AND active), "
      "EXISTS (SELECT 1 FROM staff WHERE login IS NOT NULL AND active AND roles::jsonb ? 'admin'), "
      "(SELECT rolsuper FROM pg_roles WHERE rolname = session_user)";
  SessionIdentity read_session() { return session_of(conn_->exec(kSessionQuery)); }
  static SessionIdentity session_of(const Result& r) {
    SessionIdentity who;
    who.server = true;
    who.login = r.str(0, 0);
    who.staff_id = r.str(0, 1);
    who.enforced = r.boolean(0, 2);
    who.superuser = r.boolean(0, 3);
    return who;
  }
  bool is_session_user(const std::string& role) {
    return conn_->exec("SELECT session_user = $1", {text(role)}).boolean(0, 0);
  }

  static StaffMember read_staff(const Result& r, int i) {
    StaffMember m;
    m.id = r.str(i, 0);
    m.name = r.str(i, 1);
    m.roles = json::parse(r.text(i, 2)).get<std::vector<std::string>>();
    m.active = r.boolean(i, 3);
    m.login = r.str(i, 4);
    m.sites = json::parse(r.text(i, 5)).get<std::vector<std::string>>();
    return m;
  }

  std::unique_ptr<Connection> conn_;
  // The rows of a copy waiting to be sent (import_case, import_log_row).
  using Nullable = std::optional<std::string>;
  static constexpr size_t kImportBatch = 1000;
  struct ImportBatch {
    std::vector<std::array<Nullable, 15>> cases;
    std::vector<std::array<Nullable, 4>> log;
    std::vector<std::array<Nullable, 3>> texts;  // digest, case id, text (hex when sealed)
    bool sealed = false;
  };
  ImportBatch import_;
  std::string server_;  // user@host:port/database, for messages
  bool read_only_;
  bool standby_;
  int busy_timeout_ms_;
  WriteNesting nesting_;  // nesting of transactions (writes and scans)
  std::optional<KeyRow> key_row_;  // the database key's row, once read
  bool no_key_ = false;             // the database had no key when last asked
  sealing::CaseKeys case_keys_;    // case keys opened or made
  std::unordered_map<std::string, TextRow> prefetched_;  // a fetched batch's personal texts
  int cursors_ = 0;      // open scan cursors, for unique names
  record_rows::PersonalLookup lookup_ = [this](StoredValue& value) { add_personal_text(value); };
};

// ---------------------------------------------------------------------------
// Opening.

bool contains(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// The connection failure as an Error a person can act on.
Error connect_error(const PgFailure& e, const std::string& url) {
  const std::string server = pg::redact(url);
  const std::string message = e.what();
  // libpq checks some settings' values only when connecting.
  if (message.rfind("invalid ", 0) == 0)
    return usage_error(tr(msg::store_pg_not_url, {message}));
  if (contains(message, "password authentication failed") || contains(message, "no password supplied"))
    return storage_error(tr(msg::store_pg_login, {server, message}));
  if (e.sqlstate == "3D000" || (contains(message, "database \"") && contains(message, "does not exist")))
    return not_found(tr(msg::store_pg_no_database, {server, message}));
  if (contains(message, "Connection refused") || contains(message, "could not connect") ||
      contains(message, "timeout expired") || contains(message, "could not translate host name") ||
      contains(message, "No such file or directory") || contains(message, "Network is unreachable"))
    return storage_error(tr(msg::store_pg_unreachable, {server, message}));
  return storage_error(tr(msg::store_pg_cannot_connect, {server, message}));
}

}  // namespace

bool is_server_url(const std::string& location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::unique_ptr<Store> open_postgres_store(const std::string& url, const StoreOptions& options) {
  {
    char* error = nullptr;
    PQconninfoOption* parsed = pg::libpq().PQconninfoParse(url.c_str(), &error);
    if (!parsed) {
      std::string message = error ? error : "unreadable";
      if (error) pg::libpq().PQfreemem(error);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      throw usage_error(tr(msg::store_pg_not_url, {message}));
    }
    pg::libpq().PQconninfoFree(parsed);
  }
  std::unique_ptr<Connection> conn;
  const int connect_timeout_s = std::max(2, options.busy_timeout_ms / 1000);
  try {
    conn = std::make_unique<Connection>(url, connect_timeout_s);
  } catch (const PgFailure& e) {
    throw connect_error(e, url);
  }
  const std::string server = conn->describe();
  bool standby = false;
  try {
    // The settings and what is asked of the server on opening go in one
    // round trip (the answer is the last statement's).
    const Result opened = conn->exec(
        "SET lock_timeout = " + std::to_string(options.busy_timeout_ms) +
        "; SET synchronous_commit = " + (options.synchronous_full ? "on" : "off") +
        (options.read_only ? "; SET default_transaction_read_only = on" : "") +
        "; SELECT current_setting('server_encoding'), pg_is_in_recovery(), t.* FROM (" + pg::kSchemaTables + ") t");
    if (opened.text(0, 0) != "UTF8")
      throw storage_error(tr(msg::store_pg_encoding, {server, opened.str(0, 0)}));
    // A hot standby serves the read-only work; every write is refused
    // before it reaches the server, naming the standby.
    standby = opened.boolean(0, 1);
    if (standby) conn->exec("SET default_transaction_read_only = on");
    const pg::SchemaState state = pg::schema_state_of(*conn, opened.integer(0, 2), opened.integer(0, 3));
    const int latest = pg::latest_schema_version();
    if (state.version < 0)
      throw storage_error(tr(msg::store_pg_other_application, {server}));
    if (state.version == 0) {
      if (state.other_tables)
        throw storage_error(tr(msg::store_pg_other_tables, {server}));
      if (standby && options.create && !options.read_only)
        throw storage_error(tr(msg::store_pg_standby_create, {server}));
      if (!options.create || options.read_only) throw not_found(tr(msg::store_pg_empty, {server}));
    }
    if (state.version > latest)
      throw storage_error(tr(msg::store_newer_sopir_use, {tr(msg::store_pg_database, {server}), std::to_string(state.version), std::to_string(latest)}));
    if (state.version < latest) {
      if (standby)
        throw storage_error(tr(msg::store_pg_standby_upgrade, {server, std::to_string(state.version), std::to_string(latest)}));
      if (options.read_only)
        throw storage_error(tr(msg::store_needs_upgrade, {tr(msg::store_pg_database, {server}), std::to_string(state.version), std::to_string(latest)}));
      pg::migrate(*conn, latest);
    }
  } catch (const PgFailure& e) {
    if (e.sqlstate == "42501")
      throw storage_error(tr(msg::store_pg_refused_open, {server, e.what()}));
    throw storage_error(tr(msg::store_cannot_open, {server, e.what()}));
  }
  return std::make_unique<PgStore>(std::move(conn), options.read_only, standby, options.busy_timeout_ms);
}

std::string display_location(const std::string& location) {
  return is_server_url(location) ? pg::redact(location) : location;
}

std::unique_ptr<Store> open_store(const std::string& location, const StoreOptions& options) {
  if (is_server_url(location)) return open_postgres_store(location, options);
  return open_sqlite_store(location, options);
}

}  // namespace sopir
