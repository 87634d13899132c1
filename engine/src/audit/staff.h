// Who was staff, active and holding which roles at each point of the log,
// rebuilt from the registry's staff rows (internal to audit). Replay checks
// every recorded step's actor and role against it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sopir/store.h"

namespace sopir::audit_internal {

struct StaffCheck {
  std::string problem;  // why the actor could not act so; "" when they could
  // Set when the answer rests on a row the schema 4 upgrade wrote (dated
  // then; what was before it is not in the log): says so.
  std::string caveat;
};

class StaffTimeline {
 public:
  StaffTimeline() = default;
  // Reads the staff rows of the log (kind staff), oldest first.
  // `damaged`: as LogFilter::damaged (null: a damaged staff row stops it).
  explicit StaffTimeline(Store& store, const std::function<void(const Error&)>* damaged = nullptr);
  // Adds one staff row; rows must come in seq order.
  void add(const LogEntry& row);

  // Whether `actor` could act as `role` ("" for no role) just before log
  // row `seq`.
  StaffCheck check(const std::string& actor, const std::string& role, int64_t seq) const;
  // Whether `actor` belonged to `site` just before log row `seq`.
  bool belonged(const std::string& actor, const std::string& site, int64_t seq) const;
  // How a staff table row differs from where the log leaves that member
  // (roles, active, sites, the server login when `logins`, or no row at
  // all), one clause; "" when it agrees. A database file keeps no logins
  // (a copy of a server's log keeps its login-set rows: sopir/copy.h).
  std::string differs(const StaffMember& member, bool logins) const;
  // Every member the log adds, with the row that added them, by id.
  std::vector<std::pair<std::string, int64_t>> added() const;

 private:
  struct State {
    int64_t seq = 0;  // the row that left the member so
    std::string event;
    std::vector<std::string> roles;
    bool active = true;
    std::string login;  // server login role (staff "login-set"); "" when none
    std::vector<std::string> sites;  // sorted (staff "added" ["site",S], "site-joined", "site-left")
    bool upgrade = false;  // written by the sites upgrade (no actor): stands for the time before it
  };
  std::map<std::string, std::vector<State>> members_;
};

}  // namespace sopir::audit_internal
