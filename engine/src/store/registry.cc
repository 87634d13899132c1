// Registry row builders (see registry.h).
#include "store/registry.h"

namespace sopir::registry {

const char kExistingNote[] =
    "written by the schema 4 upgrade for what existed before publishing and staff changes were "
    "logged; dated at the upgrade, not when it happened";

const char kSitesUpgradeNote[] =
    "written by the sites upgrade (SQLite schema 10, PostgreSQL schema 8): every case and staff member "
    "of the database before it belongs to the default site";

namespace {

LogEntry row(LogKind kind, const char* event, const std::string& actor, DateTime at) {
  LogEntry e;
  e.kind = kind;
  e.event = event;
  e.actor = actor;
  e.occurred_at = at;
  e.recorded_at = at;
  return e;
}

void add_member(LogEntry& e, const StaffMember& member) {
  e.inputs.emplace_back("staff", member.id);
  e.inputs.emplace_back("name", member.name);
  for (const auto& role : member.roles) e.inputs.emplace_back("role", role);
  for (const auto& site : member.sites) e.inputs.emplace_back("site", site);
}

void add_procedure(LogEntry& e, const PublishedProcedure& p) {
  e.sha256 = p.sha256;
  e.inputs.emplace_back("sop_id", p.sop_id);
  e.inputs.emplace_back("version", std::to_string(p.version));
  e.inputs.emplace_back("file", p.file);
}

}  // namespace

LogEntry published(const PublishedProcedure& p, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kPublish, registry_event::kPublished, by.actor, by.at);
  add_procedure(e, p);
  return e;
}

LogEntry staff_added(const StaffMember& member, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kStaff, registry_event::kAdded, by.actor, by.at);
  add_member(e, member);
  if (!member.active) e.inputs.emplace_back("active", "no");
  return e;
}

LogEntry staff_role(const std::string& id, const std::string& role, bool held, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kStaff, held ? registry_event::kRoleGranted : registry_event::kRoleRemoved,
                   by.actor, by.at);
  e.inputs.emplace_back("staff", id);
  e.inputs.emplace_back("role", role);
  return e;
}

LogEntry staff_active(const std::string& id, bool active, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kStaff, active ? registry_event::kReactivated : registry_event::kDeactivated,
                   by.actor, by.at);
  e.inputs.emplace_back("staff", id);
  return e;
}

LogEntry staff_passphrase(const std::string& id, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kStaff, registry_event::kPassphraseSet, by.actor, by.at);
  e.inputs.emplace_back("staff", id);
  return e;
}

LogEntry staff_login(const std::string& id, const std::string& login, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kStaff, registry_event::kLoginSet, by.actor, by.at);
  e.inputs.emplace_back("staff", id);
  e.inputs.emplace_back("login", login);
  return e;
}

LogEntry site_added(const Site& site, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kSite, registry_event::kAdded, by.actor, by.at);
  e.inputs.emplace_back("site", site.id);
  e.inputs.emplace_back("name", site.name);
  return e;
}

LogEntry site_copied(const std::string& site, const std::string& to, int64_t chains,
                     const std::string& chains_sha256, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kSite, registry_event::kCopied, by.actor, by.at);
  e.inputs.emplace_back("site", site);
  e.inputs.emplace_back("to", to);
  e.inputs.emplace_back("chains", std::to_string(chains));
  e.inputs.emplace_back("chains_sha256", chains_sha256);
  return e;
}

LogEntry moved_in(const MovedIn& move, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kSite, registry_event::kMovedIn, by.actor, by.at);
  e.inputs.emplace_back("site", move.site);
  e.inputs.emplace_back("from", move.from);
  e.inputs.emplace_back("first_seq", std::to_string(move.first_seq));
  e.inputs.emplace_back("last_seq", std::to_string(move.last_seq));
  e.inputs.emplace_back("offset", std::to_string(move.offset));
  e.inputs.emplace_back("registry_rows", std::to_string(move.registry_rows));
  e.inputs.emplace_back("registry_head", move.registry_head);
  e.inputs.emplace_back("head", move.head);
  e.inputs.emplace_back("cases", std::to_string(move.cases));
  return e;
}

std::optional<MovedIn> moved_in_of(const LogEntry& row) {
  if (row.kind != LogKind::kSite || row.event != registry_event::kMovedIn || !row.case_id.empty()) return std::nullopt;
  MovedIn move;
  move.seq = row.seq;
  auto number = [](const std::string& text) -> int64_t {
    try {
      size_t used = 0;
      const long long n = std::stoll(text, &used);
      return used == text.size() ? n : -1;
    } catch (const std::exception&) {
      return -1;
    }
  };
  for (const auto& [key, value] : row.inputs) {
    if (key == "site") move.site = value;
    else if (key == "from") move.from = value;
    else if (key == "first_seq") move.first_seq = number(value);
    else if (key == "last_seq") move.last_seq = number(value);
    else if (key == "offset") move.offset = number(value);
    else if (key == "registry_rows") move.registry_rows = number(value);
    else if (key == "registry_head") move.registry_head = value;
    else if (key == "head") move.head = value;
    else if (key == "cases") move.cases = number(value);
  }
  return move;
}

LogEntry moved_row(const LogEntry& there, const MovedIn& move) {
  LogEntry e = there;
  e.seq = 0;
  e.prev_hash.clear();
  e.hash.clear();
  if (!e.site.empty()) e.site = move.here(e.site);
  for (auto& [key, value] : e.inputs)
    if (key == "site" || key == "from_site" || key == "to_site") value = move.here(value);
  return e;
}

LogEntry staff_site(const std::string& id, const std::string& site, bool held, const RegistryStamp& by) {
  LogEntry e = row(LogKind::kStaff, held ? registry_event::kSiteJoined : registry_event::kSiteLeft, by.actor, by.at);
  e.inputs.emplace_back("staff", id);
  e.inputs.emplace_back("site", site);
  return e;
}

LogEntry existing_site(const Site& site, DateTime upgraded_at) {
  LogEntry e = row(LogKind::kSite, registry_event::kExisting, "", upgraded_at);
  e.inputs.emplace_back("site", site.id);
  e.inputs.emplace_back("name", site.name);
  e.note = kSitesUpgradeNote;
  return e;
}

LogEntry existing_staff_site(const std::string& id, const std::string& site, DateTime upgraded_at) {
  LogEntry e = row(LogKind::kStaff, registry_event::kSiteJoined, "", upgraded_at);
  e.inputs.emplace_back("staff", id);
  e.inputs.emplace_back("site", site);
  e.note = kSitesUpgradeNote;
  return e;
}

LogEntry existing_procedure(const PublishedProcedure& p, DateTime upgraded_at) {
  LogEntry e = row(LogKind::kPublish, registry_event::kExisting, "", upgraded_at);
  add_procedure(e, p);
  e.inputs.emplace_back("published_by", p.published_by);
  e.inputs.emplace_back("published_at", format_datetime(p.published_at));
  e.note = kExistingNote;
  return e;
}

LogEntry existing_staff(const StaffMember& member, DateTime upgraded_at) {
  LogEntry e = row(LogKind::kStaff, registry_event::kExisting, "", upgraded_at);
  add_member(e, member);
  if (!member.active) e.inputs.emplace_back("active", "no");
  e.note = kExistingNote;
  return e;
}

}  // namespace sopir::registry
