// site add / site list, staff site, case transfer, and which sites' cases
// a list shows (docs/DEPLOY.md "Sites").
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/messages/cli.h"

namespace sopir::cli {

using nlohmann::json;

int run_site_add(Context& ctx, Args& a) {
  if (a.positional.size() != 1) throw usage_error(tr(msg::cli_site_add_one_id));
  const Site site{a.positional[0], a.name};
  const std::string& admin = ctx.actor_id();
  ctx.engine().add_site(admin, site);
  spdlog::info("site add {} by {}", site.id, admin);
  if (ctx.options.json) {
    ctx.out << json{{"site", {{"id", site.id}, {"name", site.name}}}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_site_added, {site.id, site.name}) << "\n";
  }
  return 0;
}

int run_site_list(Context& ctx, Args&) {
  const std::vector<Site> sites = ctx.engine().sites();
  const std::vector<StaffMember> staff = ctx.engine().staff();
  auto members = [&](const Site& site) {
    int64_t n = 0;
    for (const StaffMember& m : staff)
      if (m.active && std::find(m.sites.begin(), m.sites.end(), site.id) != m.sites.end()) ++n;
    return n;
  };
  if (ctx.options.json) {
    json list = json::array();
    for (const Site& s : sites) list.push_back({{"id", s.id}, {"name", s.name}, {"staff", members(s)}});
    ctx.out << json{{"sites", list}}.dump(2) << "\n";
    return 0;
  }
  Table table({tr(msg::cli_w_id), tr(msg::cli_w_name), tr(msg::cli_w_site_staff)});
  for (const Site& s : sites) table.add({s.id, s.name, std::to_string(members(s))});
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

int run_staff_site(Context& ctx, Args& a) {
  if (a.positional.size() != 2) throw usage_error(tr(msg::cli_staff_site_args));
  const std::string& id = a.positional[0];
  const std::string& site = a.positional[1];
  ctx.engine().set_staff_site(ctx.actor_id(), id, site, !a.remove);
  spdlog::info("staff site {} {} {} by {}", id, a.remove ? "left" : "joined", site, ctx.options.actor);
  const StaffMember member = ctx.engine().staff_member(id);
  if (ctx.options.json) {
    ctx.out << json{{"staff", id}, {"sites", member.sites}}.dump(2) << "\n";
  } else {
    ctx.out << tr(a.remove ? msg::cli_staff_site_left : msg::cli_staff_site_joined,
                  {id, site, sites_word(member.sites)})
            << "\n";
  }
  return 0;
}

int run_case_transfer(Context& ctx, Args& a) {
  if (a.positional.size() != 1) throw usage_error(tr(msg::cli_case_transfer_args));
  if (a.to_site.empty()) throw usage_error(tr(msg::cli_case_transfer_to));
  TransferRequest request;
  request.case_id = a.positional[0];
  request.actor = ctx.actor_id();
  request.to_site = a.to_site;
  request.reason = a.reason;
  request.note = a.note;
  const StepResult r = ctx.engine().transfer_case(request);
  spdlog::info("case {} transferred to {} by {}", r.after.id, r.after.site, request.actor);
  if (ctx.options.json) {
    ctx.out << json{{"case", r.after.id}, {"from_site", r.entry.inputs.at(0).second}, {"site", r.after.site},
                    {"seq", r.entry.seq}}
                   .dump(2)
            << "\n";
  } else {
    ctx.out << tr(msg::cli_case_transferred, {r.after.id, r.entry.inputs.at(0).second, r.after.site}) << "\n";
  }
  return 0;
}

std::optional<std::vector<std::string>> listed_sites(Context& ctx, const std::string& only) {
  Engine& engine = ctx.engine();
  bool named = !ctx.options.actor.empty();
  if (!named && is_server_url(ctx.options.db)) named = engine.session_identity().enforced;
  if (!named) {
    const std::vector<Site> sites = engine.sites();
    if (!only.empty()) {
      if (std::none_of(sites.begin(), sites.end(), [&](const Site& s) { return s.id == only; })) {
        std::vector<std::string> ids;
        for (const Site& s : sites) ids.push_back(s.id);
        throw not_found(tr(msg::cli_unknown_site, {only, join(ids)}));
      }
      return std::vector<std::string>{only};
    }
    if (sites.size() > 1) throw usage_error(tr(msg::cli_list_who_reads));
    return std::nullopt;
  }
  const Actor who = engine.actor(ctx.actor_id());
  const auto readable = readable_sites(who);
  if (only.empty()) return readable;
  if (readable && std::find(readable->begin(), readable->end(), only) == readable->end())
    throw refused(tr(msg::cli_site_not_readable, {who.id, only, sites_word(who.sites)}));
  return std::vector<std::string>{only};
}

std::optional<std::vector<std::string>> named_reader_sites(Context& ctx) {
  if (ctx.options.actor.empty()) return std::nullopt;
  Engine& engine = ctx.engine();
  return sites_held_to(engine.store(), engine.actor(ctx.actor_id()));
}

std::string sites_word(const std::vector<std::string>& sites) {
  return sites.empty() ? tr(msg::cli_w_no_site) : join(sites);
}

}  // namespace sopir::cli
