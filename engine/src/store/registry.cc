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
