// `sop show`'s migrate: part: how cases of older versions move to the one
// shown, section by section, as text and in --json.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli.h"
#include "output.h"
#include "sopir/messages.h"

namespace sopir::cli {

using nlohmann::json;

json migrations_json(const Procedure& p) {
  json out = json::array();
  for (const MigrationDef& m : p.migrations) {
    json states = json::array(), fields = json::array(), events = json::array();
    for (const MigrationState& s : m.states) {
      json to = json::array();
      for (const MigrationBranch& b : s.branches)
        to.push_back({{"state", p.states[static_cast<size_t>(b.to)].id},
                      {"when", b.when_text.empty() ? json() : json(b.when_text)}});
      states.push_back({{"from", s.from},
                        {"to", to},
                        {"stays", s.stays},
                        {"stays_reason", s.stays ? json(s.stays_reason) : json()}});
    }
    for (const MigrationField& f : m.fields)
      fields.push_back({{"field", p.fields[static_cast<size_t>(f.field)].id},
                        {"from", f.from.empty() ? json() : json(f.from)},
                        {"default", f.default_value ? json(f.default_text) : json()}});
    for (const MigrationEvent& e : m.events)
      events.push_back({{"from", e.from}, {"to", p.events[static_cast<size_t>(e.to)]}});
    out.push_back({{"from", m.from_versions},
                   {"states", states},
                   {"fields", fields},
                   {"drop", m.drop},
                   {"events", events}});
  }
  return out;
}

void print_migrations(Context& ctx, const Procedure& p) {
  if (p.migrations.empty()) return;
  const bool color = ctx.options.color;
  ctx.out << "\n" << paint(color, Tone::kBold, tr(msg::cli_w_migrations)) << "\n";
  const std::string state = tr(msg::cli_w_source_state) + " ",
                    field = tr(msg::cli_w_source_field) + " ",
                    event = tr(msg::cli_w_source_event) + " ";
  for (const MigrationDef& m : p.migrations) {
    std::vector<std::string> versions;
    for (int v : m.from_versions) versions.push_back(std::to_string(v));
    Table table({tr(msg::cli_w_older_version), tr(msg::cli_w_this_version)});
    for (const MigrationState& s : m.states) {
      std::string to;
      if (s.stays) {
        to = tr(msg::cli_w_plan_stays) + (s.stays_reason.empty() ? "" : ": " + s.stays_reason);
      } else {
        for (const MigrationBranch& b : s.branches) {
          const std::string& id = p.states[static_cast<size_t>(b.to)].id;
          if (!to.empty()) to += "; ";
          to += b.when_text.empty()
                    ? (s.branches.size() > 1 ? tr(msg::cli_migrate_otherwise, {id}) : id)
                    : tr(msg::cli_migrate_if, {id, b.when_text});
        }
      }
      table.add({state + s.from, s.stays ? to : state + to});
    }
    for (const MigrationField& f : m.fields) {
      std::string here = field + p.fields[static_cast<size_t>(f.field)].id;
      if (f.default_value) here = tr(msg::cli_migrate_default, {here, f.default_text});
      table.add({f.from.empty() ? "-" : field + f.from, here});
    }
    for (const std::string& dropped : m.drop)
      table.add({field + dropped, tr(msg::cli_migrate_dropped)});
    for (const MigrationEvent& e : m.events)
      table.add({event + e.from, event + p.events[static_cast<size_t>(e.to)]});
    if (table.empty()) {
      ctx.out << tr(msg::cli_migrate_all_by_name, {join(versions)}) << "\n";
      continue;
    }
    ctx.out << tr(msg::cli_migrate_from_versions, {join(versions)}) << "\n";
    table.print(ctx.out, ctx.options.width, color);
  }
  ctx.out << tr(msg::cli_migrate_rest_by_name) << "\n";
}

}  // namespace sopir::cli
