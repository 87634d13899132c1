// init, staff and tick: setting up a database, managing who may act, and
// the timer pass.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli.h"
#include "sopir/messages/cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/key_file.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

json staff_json(const StaffMember& m) {
  json out{{"id", m.id}, {"name", m.name}, {"roles", m.roles}, {"active", m.active}};
  if (!m.login.empty()) out["login"] = m.login;
  out["sites"] = m.sites;
  return out;
}

}  // namespace

int run_init(Context& ctx, Args& a) {
  const std::string& db = ctx.options.db;
  struct stat st {};
  const bool server = is_server_url(db);
  if (!server && db != ":memory:" && stat(db.c_str(), &st) == 0) {
    throw conflict(tr(msg::cli_init_exists, {db}));
  }
  std::string admin = a.admin.empty() ? "admin" : a.admin;
  if (!valid_staff_id(admin)) {
    throw usage_error(tr(msg::cli_init_admin_id, {admin}));
  }
  // A server database's personal data is encrypted from the start under
  // the key file given (sopir/key_file.h), read before anything is made.
  std::string key_id;
  if (server) {
    if (ctx.options.key_file.empty()) throw usage_error(tr(msg::cli_key_file_needed));
    key_id = load_key_file(ctx.options.key_file);
  }
  if (server) {
    // The server's database exists already (its administrator made it);
    // refuse when it holds a sopir database.
    try {
      open_store(db, StoreOptions{});
      throw conflict(tr(msg::cli_init_server_exists, {display_location(db)}));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kNotFound) throw;
    }
  }
  // A new database file always gets the first administrator's passphrase,
  // so it needs a log-in from the start (sopir/login.h); a server
  // database's server logs its staff in.
  std::optional<std::string> passphrase;
  KdfCost cost = KdfCost::kDefault;
  if (!server && db != ":memory:") {
    cost = kdf_cost();
    passphrase = new_passphrase(admin, true);
    if (!passphrase) throw usage_error(tr(msg::cli_new_passphrase_needed, {admin}));
    try {
      check_new_passphrase(*passphrase);
    } catch (...) {
      wipe(*passphrase);
      throw;
    }
  }
  StoreOptions options;
  options.create = true;
  auto store = open_store(db, options);
  const StaffMember member = passphrase ? Engine::add_first_administrator(*store, admin, a.name, *passphrase, cost)
                            : server     ? Engine::add_first_administrator_on_server(*store, admin, a.name)
                                         : Engine::add_first_administrator(*store, admin, a.name);
  if (passphrase) wipe(*passphrase);
  if (!key_id.empty()) store->seal_database_key(key_id);
  // On a server: the administrator's login is the session's role, or (a
  // superuser's session) none yet, and --as names the actor until one is given.
  std::string superuser;
  if (server && member.login.empty()) superuser = store->session_identity().login;
  store.reset();
  if (!superuser.empty()) ctx.err << "sopir: " << tr(msg::cli_init_superuser, {superuser, admin}) << "\n";
  if (ctx.options.json) {
    ctx.out << json{{"database", display_location(db)}, {"admin", staff_json(member)}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_init_created, {display_location(db), admin, join(member.roles)}) << "\n";
    if (!member.login.empty()) ctx.out << tr(msg::cli_init_login, {admin, member.login}) << "\n";
  }
  return 0;
}

namespace {

// What a new server login prints: its first password once, or that an
// existing role (certificate or peer authentication) is used.
void print_login(Context& ctx, const StaffMember& member, const std::string& password) {
  if (ctx.options.json) {
    json out{{"staff", staff_json(member)}, {"login_created", !password.empty()}};
    if (!password.empty()) out["first_password"] = password;
    ctx.out << out.dump(2) << "\n";
  } else if (!password.empty()) {
    ctx.out << tr(msg::cli_staff_login_created, {member.login, member.id, password}) << "\n";
  } else {
    ctx.out << tr(msg::cli_staff_login_existing, {member.login, member.id}) << "\n";
  }
}

int add_with_login(Context& ctx, const std::string& admin, const StaffMember& member) {
  std::string password = ctx.engine().add_staff(admin, member, member.login);
  spdlog::info("staff add {} with server login {} by {}", member.id, member.login, admin);
  print_login(ctx, member, password);
  wipe(password);
  return 0;
}

}  // namespace

int run_staff_login(Context& ctx, Args& a) {
  const std::string& id = a.positional.at(0);
  const std::string& login = a.positional.at(1);
  if (!is_server_url(ctx.options.db)) throw usage_error(tr(msg::cli_login_needs_server));
  const std::string admin = ctx.actor_id();
  std::string password = ctx.engine().set_staff_login(admin, id, login);
  spdlog::info("staff login {} {} by {}", id, login, admin);
  print_login(ctx, ctx.engine().staff_member(id), password);
  wipe(password);
  return 0;
}

int run_staff_add(Context& ctx, Args& a) {
  const std::string& id = a.positional.at(0);
  if (a.positional.size() > 1) throw usage_error(tr(msg::cli_staff_add_one_id));
  if (a.name.empty()) throw usage_error(tr(msg::cli_staff_add_name));
  if (a.roles.empty()) throw usage_error(tr(msg::cli_staff_add_role));
  StaffMember member{id, a.name, a.roles, true, a.login, a.sites};
  if (!a.login.empty() && !is_server_url(ctx.options.db)) throw usage_error(tr(msg::cli_login_needs_server));
  const std::string& admin = ctx.actor_id();
  if (!a.login.empty()) return add_with_login(ctx, admin, member);
  // The new member's first passphrase, when one is given (a file, or typed
  // by the administrator on the terminal); a server logs its staff in.
  std::optional<std::string> passphrase;
  const KdfCost cost = kdf_cost();
  if (!is_server_url(ctx.options.db)) passphrase = new_passphrase(id, false);
  try {
    if (passphrase) {
      ctx.engine().add_staff(admin, member, *passphrase, cost);
    } else {
      ctx.engine().add_staff(admin, member);
    }
  } catch (...) {
    if (passphrase) wipe(*passphrase);
    throw;
  }
  spdlog::info("staff add {} by {}", id, ctx.options.actor);
  if (passphrase) {
    wipe(*passphrase);
  } else if (!is_server_url(ctx.options.db) && ctx.engine().login_required()) {
    ctx.err << "sopir: " << tr(msg::cli_staff_no_passphrase_yet, {id, admin}) << "\n";
  }
  if (ctx.options.json) {
    ctx.out << json{{"staff", staff_json(member)}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_staff_added, {id}) << "\n";
  }
  return 0;
}

int run_staff_list(Context& ctx, Args&) {
  auto staff = ctx.engine().staff();
  if (ctx.options.json) {
    json list = json::array();
    for (const auto& m : staff) list.push_back(staff_json(m));
    ctx.out << json{{"staff", list}}.dump(2) << "\n";
    return 0;
  }
  Table table({tr(msg::cli_w_id), tr(msg::cli_w_name), tr(msg::cli_w_roles), tr(msg::cli_w_sites),
               tr(msg::cli_w_active_heading)});
  for (const auto& m : staff) {
    table.add({m.id, m.name, join(m.roles), join(m.sites), tr(m.active ? msg::cli_w_yes : msg::cli_w_no)});
  }
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

int run_staff_deactivate(Context& ctx, Args& a) {
  if (a.positional.size() != 1) throw usage_error(tr(msg::cli_staff_deactivate_one_id));
  const std::string& id = a.positional[0];
  ctx.engine().deactivate_staff(ctx.actor_id(), id);
  spdlog::info("staff deactivate {} by {}", id, ctx.options.actor);
  if (ctx.options.json) {
    ctx.out << json{{"staff", staff_json(ctx.engine().staff_member(id))}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_staff_deactivated, {id}) << "\n";
  }
  return 0;
}

namespace {
int set_role(Context& ctx, Args& a, bool held) {
  if (a.positional.size() != 2) throw usage_error(tr(msg::cli_staff_role_args));
  const std::string& id = a.positional[0];
  const std::string& role = a.positional[1];
  ctx.engine().set_staff_role(ctx.actor_id(), id, role, held);
  spdlog::info("staff {} {} {} by {}", held ? "grant" : "revoke", id, role, ctx.options.actor);
  if (ctx.options.json) {
    ctx.out << json{{"staff", staff_json(*ctx.engine().store().staff(id))}}.dump(2) << "\n";
  } else {
    ctx.out << tr(held ? msg::cli_staff_granted : msg::cli_staff_removed, {role, id}) << "\n";
  }
  return 0;
}
}  // namespace

int run_staff_grant(Context& ctx, Args& a) { return set_role(ctx, a, true); }
int run_staff_revoke(Context& ctx, Args& a) { return set_role(ctx, a, false); }

int run_staff_passwd(Context& ctx, Args& a) {
  if (a.positional.size() > 1) throw usage_error(tr(msg::cli_staff_passwd_args));
  const std::string by = ctx.actor_id();
  const std::string id = a.positional.empty() ? by : a.positional[0];
  if (id != by) ctx.engine().staff_member(id);  // kNotFound (did you mean) before asking anything
  const KdfCost cost = kdf_cost();
  std::optional<std::string> passphrase = new_passphrase(id, false);
  if (!passphrase) throw usage_error(tr(msg::cli_new_passphrase_needed, {id}));
  try {
    ctx.engine().set_passphrase(by, id, *passphrase, cost);
  } catch (...) {
    wipe(*passphrase);
    throw;
  }
  wipe(*passphrase);
  spdlog::info("staff passwd {} by {}", id, by);
  if (ctx.options.json) {
    ctx.out << json{{"staff", id}, {"passphrase_set", true}, {"by", by}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_passphrase_set, {id}) << "\n";
  }
  return 0;
}

int run_checkpoint(Context& ctx, Args&) {
  const LogEntry c = ctx.engine().checkpoint(ctx.actor_id());
  if (c.seq == 0) throw not_found(tr(msg::cli_log_empty_checkpoint, {ctx.options.db}));
  if (ctx.options.json) {
    ctx.out << json{{"seq", c.seq}, {"upto_seq", c.checkpoint->upto_seq}, {"chains", c.checkpoint->chains},
                    {"root", c.checkpoint->root}}.dump(2)
            << "\n";
    return 0;
  }
  ctx.out << c.checkpoint->upto_seq << ":" << c.checkpoint->root << "\n";
  return 0;
}

namespace {

// A pass where an event could not fire exits non-zero, so that the job
// running it on a schedule sees it; everything else that was due fired and
// was written all the same. Of several failures, the code of the one most in
// need of someone: 6 (a log-in or key file would fire it), 5 (storage), 1
// (refused by the rules), then 4 (changed meanwhile: the next pass retries).
int tick_exit(const TickReport& report) {
  int code = 0, rank = 0;
  for (const TickFailure& f : report.failures) {
    const int r = f.kind == ErrorKind::kDenied     ? 5
                  : f.kind == ErrorKind::kStorage  ? 4
                  : f.kind == ErrorKind::kRefused  ? 3
                  : f.kind == ErrorKind::kConflict ? 1
                                                   : 2;
    if (r > rank) rank = r, code = exit_code(f.kind);
  }
  return code;
}

}  // namespace

int run_tick(Context& ctx, Args&) {
  // The timer runs as "system", which holds no key: a deadline event of a
  // case whose personal data it must read fails (reported) unless a staff
  // member named with --as logs in, unlocking it (docs/PRIVACY.md).
  // A member held to some sites fires, lists and counts their sites' cases
  // only, as their login does on a server: the others wait for a pass that
  // covers them (docs/DEPLOY.md "Sites").
  // An auditor is refused: auditors write nothing (docs/DEPLOY.md "Sites").
  TickReport report = ctx.engine().tick({}, ctx.named_actor_id());
  const std::optional<std::vector<std::string>>& sites = report.sites;
  if (sites)
    ctx.err << "sopir: " << tr(msg::cli_tick_sites_only, {ctx.options.actor, sites_word(*sites)})
            << "\n";
  // The hourly timer also commits to the whole log (docs/SCHEMA.md
  // "Checkpoints"): a checkpoint when anything was written since the last.
  // A session row-level security keeps to some sites (a member's login on
  // a server) fires their deadlines but cannot commit to every chain: the
  // administrator's timer writes the checkpoint (docs/DEPLOY.md "Sites").
  LogEntry checkpoint;
  if (ctx.engine().session_identity().sees_every_site) {
    checkpoint = ctx.engine().checkpoint("system");
  } else {
    ctx.err << "sopir: " << tr(msg::cli_tick_no_checkpoint) << "\n";
  }
  spdlog::info("tick: {} fired, {} overdue, {} failed", report.fired.size(), report.overdue.size(),
               report.failures.size());
  if (ctx.options.json) {
    json fired = json::array(), overdue = json::array();
    for (const auto& f : report.fired) {
      fired.push_back(
          {{"case", f.case_id}, {"event", f.event}, {"from", f.from_state}, {"to", f.to_state}});
    }
    for (const auto& c : report.overdue) {
      overdue.push_back({{"case", c.id},
                         {"sop", c.sop_id},
                         {"state", c.state},
                         {"due_at", format_datetime(c.due_at)}});
    }
    json c;
    if (checkpoint.seq > 0)
      c = {{"seq", checkpoint.seq}, {"upto_seq", checkpoint.checkpoint->upto_seq},
           {"root", checkpoint.checkpoint->root}};
    json clocks = json::array();
    for (const ClockOverdue& o : report.clocks_overdue) {
      clocks.push_back({{"case", o.record.id},
                        {"sop", o.record.sop_id},
                        {"clock", o.procedure->clocks[static_cast<size_t>(o.clock.clock)].id},
                        {"due_at", format_datetime(*o.clock.due_at)}});
    }
    json failures = json::array();
    for (const TickFailure& f : report.failures) failures.push_back(f.message);
    ctx.out << json{{"fired", fired},
                    {"overdue", overdue},
                    {"clocks_overdue", clocks},
                    {"retention_due", report.retention_due},
                    {"failures", failures},
                    {"checkpoint", c},
                    {"sites", sites ? json(*sites) : json(nullptr)}}
                   .dump(2)
            << "\n";
    return tick_exit(report);
  }
  ctx.out << tr(msg::cli_w_fired) << ": " << report.fired.size() << "\n";
  if (!report.fired.empty()) {
    Table t({tr(msg::cli_w_case), tr(msg::cli_w_event), tr(msg::cli_w_from), tr(msg::cli_w_to)});
    for (const auto& f : report.fired) {
      t.add({f.case_id, f.event, f.from_state, f.to_state});
    }
    t.print(ctx.out, ctx.options.width, ctx.options.color);
  }
  ctx.out << tr(msg::cli_w_overdue_heading) << ": " << report.overdue.size() << "\n";
  if (!report.overdue.empty()) {
    Table t({tr(msg::cli_w_case), tr(msg::cli_w_procedure), tr(msg::cli_w_state), tr(msg::cli_w_due)});
    for (const auto& c : report.overdue) {
      t.add({c.id, c.sop_id, c.state, format_datetime(c.due_at)});
    }
    t.print(ctx.out, ctx.options.width, ctx.options.color);
  }
  if (!report.clocks_overdue.empty()) {
    const std::string& lang = ctx.options.lang;
    ctx.out << tr(msg::cli_clocks_overdue_count, lang, {std::to_string(report.clocks_overdue.size())}) << "\n";
    Table t({tr(msg::cli_w_case), tr(msg::cli_w_procedure), tr(msg::cli_clock_column, lang), tr(msg::cli_w_due)});
    for (const ClockOverdue& o : report.clocks_overdue)
      t.add({o.record.id, o.record.sop_id, o.procedure->clocks[static_cast<size_t>(o.clock.clock)].id,
             format_datetime(*o.clock.due_at)});
    t.print(ctx.out, ctx.options.width, ctx.options.color);
  }
  if (report.retention_due > 0)
    ctx.out << tr(msg::cli_tick_retention_due, {std::to_string(report.retention_due)}) << "\n";
  for (const TickFailure& f : report.failures) ctx.err << "sopir: tick: " << f.message << "\n";
  return tick_exit(report);
}

}  // namespace sopir::cli
