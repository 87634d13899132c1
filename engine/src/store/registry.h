// The registry rows a store writes beside a change to procedures or staff
// (internal to the stores): one builder per event, so every Store writes
// the same records (store.h lists the events and their inputs).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sopir/store.h"

namespace sopir::registry {

LogEntry published(const PublishedProcedure& p, const RegistryStamp& by);
LogEntry staff_added(const StaffMember& member, const RegistryStamp& by);
LogEntry staff_role(const std::string& id, const std::string& role, bool held, const RegistryStamp& by);
LogEntry staff_active(const std::string& id, bool active, const RegistryStamp& by);
// staff "passphrase-set" of `id` (what changed, never the passphrase).
LogEntry staff_passphrase(const std::string& id, const RegistryStamp& by);
LogEntry staff_login(const std::string& id, const std::string& login, const RegistryStamp& by);
// site "added"; staff "site-joined" / "site-left".
LogEntry site_added(const Site& site, const RegistryStamp& by);
// site "copied": a copy of `site`'s cases is being taken into `to`; it
// takes `chains` chains (the registry chain among them), whose keys give
// `chains_sha256` (merkle::chains_digest). A checkpoint follows it.
LogEntry site_copied(const std::string& site, const std::string& to, int64_t chains,
                     const std::string& chains_sha256, const RegistryStamp& by);
LogEntry staff_site(const std::string& id, const std::string& site, bool held, const RegistryStamp& by);
// site "moved-in" (store.h MovedIn), by the administrator who moved it.
LogEntry moved_in(const MovedIn& move, const RegistryStamp& by);
// The move a site "moved-in" row records; nullopt for any other row.
std::optional<MovedIn> moved_in_of(const LogEntry& row);
// A moved database's registry row `there` as it is issued again here: the
// same facts, every site it names as it is here (MovedIn::here). Its
// case_seq, seq and hashes are this registry chain's (the caller's).
LogEntry moved_row(const LogEntry& there, const MovedIn& move);
// The sites upgrade's rows (actor "", note kSitesUpgradeNote) for a
// database that already had a log: the default site, and each member in it.
LogEntry existing_site(const Site& site, DateTime upgraded_at);
LogEntry existing_staff_site(const std::string& id, const std::string& site, DateTime upgraded_at);
extern const char kSitesUpgradeNote[];

// The schema 4 upgrade's rows for what existed before changes were logged.
LogEntry existing_procedure(const PublishedProcedure& p, DateTime upgraded_at);
LogEntry existing_staff(const StaffMember& member, DateTime upgraded_at);

// The note on an "existing" row.
extern const char kExistingNote[];

}  // namespace sopir::registry
