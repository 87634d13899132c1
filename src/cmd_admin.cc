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

namespace sopir::cli {
namespace {

using nlohmann::json;

json staff_json(const StaffMember& m) {
  return {{"id", m.id}, {"name", m.name}, {"roles", m.roles}, {"active", m.active}};
}

}  // namespace

int run_init(Context& ctx, Args& a) {
  const std::string& db = ctx.options.db;
  struct stat st {};
  const bool server = is_server_url(db);
  if (!server && db != ":memory:" && stat(db.c_str(), &st) == 0) {
    throw conflict("a database already exists at " + db + "; nothing was changed");
  }
  std::string admin = a.admin.empty() ? "admin" : a.admin;
  if (!valid_staff_id(admin)) {
    throw usage_error("--admin '" + admin + "' is not a staff id; use letters a-z, digits, _ . -");
  }
  if (server) {
    // The server's database exists already (its administrator made it);
    // refuse when it holds a sopir database.
    try {
      open_store(db, StoreOptions{});
      throw conflict("a sopir database already exists at " + display_location(db) + "; nothing was changed");
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kNotFound) throw;
    }
  }
  StoreOptions options;
  options.create = true;
  auto store = open_store(db, options);
  const StaffMember member = Engine::add_first_administrator(*store, admin, a.name);
  store.reset();
  if (ctx.options.json) {
    ctx.out << json{{"database", display_location(db)}, {"admin", staff_json(member)}}.dump(2) << "\n";
  } else {
    ctx.out << "created " << display_location(db) << " with administrator " << admin << " (roles "
            << join(member.roles) << ")\n";
  }
  return 0;
}

int run_staff_add(Context& ctx, Args& a) {
  const std::string& id = a.positional.at(0);
  if (a.positional.size() > 1) throw usage_error("staff add takes one id; give roles with --role");
  if (a.name.empty()) throw usage_error("give the staff member's name (--name NAME)");
  if (a.roles.empty()) throw usage_error("give at least one role (--role R[,R...])");
  StaffMember member{id, a.name, a.roles, true};
  ctx.engine().add_staff(ctx.actor_id(), member);
  spdlog::info("staff add {} by {}", id, ctx.options.actor);
  if (ctx.options.json) {
    ctx.out << json{{"staff", staff_json(member)}}.dump(2) << "\n";
  } else {
    ctx.out << "added " << id << "\n";
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
  Table table({ctx.tr("Id"), ctx.tr("Name"), ctx.tr("Roles"), ctx.tr("Active")});
  for (const auto& m : staff) {
    table.add({m.id, m.name, join(m.roles), ctx.tr(m.active ? "yes" : "no")});
  }
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

int run_staff_deactivate(Context& ctx, Args& a) {
  if (a.positional.size() != 1) throw usage_error("staff deactivate takes one staff id");
  const std::string& id = a.positional[0];
  ctx.engine().deactivate_staff(ctx.actor_id(), id);
  spdlog::info("staff deactivate {} by {}", id, ctx.options.actor);
  if (ctx.options.json) {
    ctx.out << json{{"staff", staff_json(ctx.engine().staff_member(id))}}.dump(2) << "\n";
  } else {
    ctx.out << "deactivated " << id << "\n";
  }
  return 0;
}

namespace {
int set_role(Context& ctx, Args& a, bool held) {
  if (a.positional.size() != 2) throw usage_error("give a staff id and one role, e.g. budi supervisor");
  const std::string& id = a.positional[0];
  const std::string& role = a.positional[1];
  ctx.engine().set_staff_role(ctx.actor_id(), id, role, held);
  spdlog::info("staff {} {} {} by {}", held ? "grant" : "revoke", id, role, ctx.options.actor);
  if (ctx.options.json) {
    ctx.out << json{{"staff", staff_json(*ctx.engine().store().staff(id))}}.dump(2) << "\n";
  } else {
    ctx.out << (held ? "granted " : "removed ") << role << (held ? " to " : " from ") << id << "\n";
  }
  return 0;
}
}  // namespace

int run_staff_grant(Context& ctx, Args& a) { return set_role(ctx, a, true); }
int run_staff_revoke(Context& ctx, Args& a) { return set_role(ctx, a, false); }

int run_checkpoint(Context& ctx, Args&) {
  const LogEntry c = ctx.engine().checkpoint(ctx.actor_id());
  if (c.seq == 0) throw not_found("the log of " + ctx.options.db + " is empty: nothing to checkpoint");
  if (ctx.options.json) {
    ctx.out << json{{"seq", c.seq}, {"upto_seq", c.checkpoint->upto_seq}, {"chains", c.checkpoint->chains},
                    {"root", c.checkpoint->root}}.dump(2)
            << "\n";
    return 0;
  }
  ctx.out << c.checkpoint->upto_seq << ":" << c.checkpoint->root << "\n";
  return 0;
}

int run_tick(Context& ctx, Args&) {
  TickReport report = ctx.engine().tick();
  // The hourly timer also commits to the whole log (docs/SCHEMA.md
  // "Checkpoints"): a checkpoint when anything was written since the last.
  const LogEntry checkpoint = ctx.engine().checkpoint("system");
  spdlog::info("tick: {} fired, {} overdue, {} failed", report.fired.size(), report.overdue.size(),
               report.failures.size());
  if (ctx.options.json) {
    json fired = json::array(), overdue = json::array();
    for (const auto& f : report.fired) {
      fired.push_back({{"case", f.entry.case_id},
                       {"event", f.entry.event},
                       {"from", f.entry.from_state},
                       {"to", f.entry.to_state}});
    }
    for (const auto& c : report.overdue) {
      overdue.push_back({{"case", c.id},
                         {"sop", c.sop_id},
                         {"state", c.state},
                         {"due_at", c.due_at ? json(format_datetime(*c.due_at)) : json()}});
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
    ctx.out << json{{"fired", fired}, {"overdue", overdue}, {"clocks_overdue", clocks},
                    {"failures", report.failures}, {"checkpoint", c}}.dump(2)
            << "\n";
    return 0;
  }
  ctx.out << ctx.tr("Fired") << ": " << report.fired.size() << "\n";
  if (!report.fired.empty()) {
    Table t({ctx.tr("Case"), ctx.tr("Event"), ctx.tr("From"), ctx.tr("To")});
    for (const auto& f : report.fired) {
      t.add({f.entry.case_id, f.entry.event, f.entry.from_state, f.entry.to_state});
    }
    t.print(ctx.out, ctx.options.width, ctx.options.color);
  }
  ctx.out << ctx.tr("Overdue") << ": " << report.overdue.size() << "\n";
  if (!report.overdue.empty()) {
    Table t({ctx.tr("Case"), ctx.tr("Procedure"), ctx.tr("State"), ctx.tr("Due")});
    for (const auto& c : report.overdue) {
      t.add({c.id, c.sop_id, c.state, c.due_at ? format_datetime(*c.due_at) : ""});
    }
    t.print(ctx.out, ctx.options.width, ctx.options.color);
  }
  if (!report.clocks_overdue.empty()) {
    const std::string& lang = ctx.options.lang;
    ctx.out << tr(msg::cli_clocks_overdue_count, lang, {std::to_string(report.clocks_overdue.size())}) << "\n";
    Table t({ctx.tr("Case"), ctx.tr("Procedure"), tr(msg::cli_clock_column, lang), ctx.tr("Due")});
    for (const ClockOverdue& o : report.clocks_overdue)
      t.add({o.record.id, o.record.sop_id, o.procedure->clocks[static_cast<size_t>(o.clock.clock)].id,
             format_datetime(*o.clock.due_at)});
    t.print(ctx.out, ctx.options.width, ctx.options.color);
  }
  for (const auto& f : report.failures) ctx.err << "sopir: tick: " << f << "\n";
  return 0;
}

}  // namespace sopir::cli
