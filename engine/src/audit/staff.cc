// StaffTimeline: the staff registry replayed (see staff.h).
#include "audit/staff.h"

#include <algorithm>

#include "audit/common.h"
#include "store/registry.h"
#include "sopir/messages/audit.h"

namespace sopir::audit_internal {

namespace {

std::string roles_text(const std::vector<std::string>& roles) {
  if (roles.empty()) return tr(msg::audit_roles_none);
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ", ") + r;
  return tr(msg::audit_roles, {out});
}

bool holds(const std::vector<std::string>& roles, const std::string& role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

}  // namespace

StaffTimeline::StaffTimeline(Store& store, const std::function<void(const Error&)>* damaged) {
  LogFilter filter;
  filter.damaged = damaged;
  filter.kind = LogKind::kStaff;
  filter.registry = true;
  store.scan_log(filter, [&](const LogEntry& row) {
    add(row);
    return true;
  });
}

void StaffTimeline::add(const LogEntry& row) {
  const std::string id = logged_input(row, "staff");
  if (row.kind != LogKind::kStaff || id.empty()) return;
  std::vector<State>& history = members_[id];
  State state = history.empty() ? State{} : history.back();
  state.seq = row.seq;
  state.event = row.event;
  state.upgrade = row.actor.empty() && row.note == registry::kSitesUpgradeNote;
  if (row.event == registry_event::kAdded || row.event == registry_event::kExisting) {
    state.roles.clear();
    state.sites.clear();
    for (const auto& [key, value] : row.inputs) {
      if (key == "role") state.roles.push_back(value);
      if (key == "site") state.sites.push_back(value);
    }
    std::sort(state.sites.begin(), state.sites.end());
    state.active = logged_input(row, "active") != "no";
  } else if (row.event == registry_event::kRoleGranted) {
    const std::string role = logged_input(row, "role");
    if (!holds(state.roles, role)) state.roles.push_back(role);
  } else if (row.event == registry_event::kRoleRemoved) {
    const std::string role = logged_input(row, "role");
    state.roles.erase(std::remove(state.roles.begin(), state.roles.end(), role), state.roles.end());
  } else if (row.event == registry_event::kSiteJoined) {
    const std::string site = logged_input(row, "site");
    if (!holds(state.sites, site)) state.sites.push_back(site);
    std::sort(state.sites.begin(), state.sites.end());
  } else if (row.event == registry_event::kSiteLeft) {
    const std::string site = logged_input(row, "site");
    state.sites.erase(std::remove(state.sites.begin(), state.sites.end(), site), state.sites.end());
  } else if (row.event == registry_event::kLoginSet) {
    state.login = logged_input(row, "login");
  } else if (row.event == registry_event::kDeactivated) {
    state.active = false;
  } else if (row.event == registry_event::kReactivated) {
    state.active = true;
  } else {
    return;  // an event this build does not know changes nothing it checks
  }
  history.push_back(std::move(state));
}

StaffCheck StaffTimeline::check(const std::string& actor, const std::string& role, int64_t seq) const {
  StaffCheck out;
  const auto member = members_.find(actor);
  if (member == members_.end()) {
    out.problem = tr(msg::audit_never_staff, {actor});
    return out;
  }
  const std::vector<State>& history = member->second;
  // The newest state from before the step.
  auto after = std::find_if(history.begin(), history.end(), [&](const State& s) { return s.seq >= seq; });
  const State* state = nullptr;
  if (after != history.begin()) {
    state = &*std::prev(after);
  } else if (history.front().event == registry_event::kExisting) {
    // Staff from before the upgrade: their row stands for the time before it.
    state = &history.front();
    out.caveat = tr(msg::audit_staff_caveat, {log_row(state->seq)});
  } else {
    out.problem = tr(msg::audit_not_yet_staff, {actor, log_row(history.front().seq)});
    return out;
  }
  if (!state->active) {
    out.problem = tr(msg::audit_deactivated, {actor, log_row(state->seq)});
    return out;
  }
  if (!role.empty() && !holds(state->roles, role)) {
    out.problem = tr(msg::audit_lacked_role, {actor, role, roles_text(state->roles)});
    const auto granted = std::find_if(after, history.end(), [&](const State& s) { return holds(s.roles, role); });
    if (granted != history.end()) out.problem += tr(msg::audit_granted_later, {log_row(granted->seq)});
  }
  return out;
}

bool StaffTimeline::belonged(const std::string& actor, const std::string& site, int64_t seq) const {
  const auto member = members_.find(actor);
  if (member == members_.end()) return false;
  const std::vector<State>& history = member->second;
  auto after = std::find_if(history.begin(), history.end(), [&](const State& s) { return s.seq >= seq; });
  if (after != history.begin() && holds(std::prev(after)->sites, site)) return true;
  // A membership the sites upgrade recorded stands for the time before it.
  return std::any_of(after, history.end(), [&](const State& s) { return s.upgrade && holds(s.sites, site); });
}

std::vector<std::pair<std::string, int64_t>> StaffTimeline::added() const {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [id, states] : members_)
    if (!states.empty()) out.emplace_back(id, states.front().seq);
  return out;
}

std::string StaffTimeline::differs(const StaffMember& member, bool logins) const {
  const auto it = members_.find(member.id);
  if (it == members_.end()) return tr(msg::audit_log_never_adds, {member.id});
  const State& last = it->second.back();
  std::vector<std::string> logged = last.roles, table = member.roles;
  std::sort(logged.begin(), logged.end());
  std::sort(table.begin(), table.end());
  std::string out;
  if (logged != table) out = tr(msg::audit_table_roles, {roles_text(table), roles_text(logged)});
  auto active = [](bool a) { return tr(a ? msg::audit_active : msg::audit_deactivated_word); };
  if (last.active != member.active)
    out += std::string(out.empty() ? "" : "; ") + tr(msg::audit_table_active, {active(member.active), active(last.active)});
  std::vector<std::string> sites = member.sites;
  std::sort(sites.begin(), sites.end());
  if (last.sites != sites) {
    auto list = [](const std::vector<std::string>& l) { return l.empty() ? tr(msg::audit_sites_none) : join(l); };
    out += std::string(out.empty() ? "" : "; ") + tr(msg::audit_table_sites, {list(sites), list(last.sites)});
  }
  if (logins && last.login != member.login) {
    auto login = [](const std::string& l) { return l.empty() ? tr(msg::audit_login_none) : l; };
    out += std::string(out.empty() ? "" : "; ") + tr(msg::audit_table_login, {login(member.login), login(last.login)});
  }
  return out;
}

}  // namespace sopir::audit_internal
