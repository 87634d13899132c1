// `sopir db copy FROM TO`: a whole database into a new one (sopir/copy.h,
// docs/DEPLOY.md "Moving an office onto the server").
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "sopir/audit.h"
#include "sopir/copy.h"
#include "sopir/error.h"
#include "sopir/key_file.h"
#include "sopir/login.h"
#include "sopir/messages/base.h"
#include "sopir/messages/cli.h"
#include "sopir/messages/runtime.h"

namespace sopir::cli {
namespace {

// A new database file for the copy, removed again (with its companions)
// when the copy does not commit, so a refusal leaves nothing behind.
class NewFile {
 public:
  explicit NewFile(std::string path) : path_(std::move(path)) {}
  ~NewFile() {
    if (keep_) return;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path_ + suffix).c_str());
  }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// Wipes a string that held a passphrase when the command ends, however it ends.
class Wiped {
 public:
  explicit Wiped(std::string& secret) : secret_(secret) {}
  ~Wiped() { wipe(secret_); }
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;

 private:
  std::string& secret_;
};

// The findings of a verify, as an Error (the copy is then undone).
Error unclean(const std::string& location, const audit::VerifyReport& report, const Message& which) {
  std::string first;
  for (size_t i = 0; i < report.findings.size() && i < 3; ++i)
    first += std::string(i ? "; " : "") + audit::to_string(report.findings[i].kind) + ": " +
             report.findings[i].message;
  const auto findings = static_cast<int64_t>(report.findings.size());
  return refused(
      tr(which, {location, counted(findings, msg::base_n_finding, msg::base_n_findings), first}));
}

// The check a copy or a move runs on its target before COMMIT: `audit
// verify` clean, its report kept in `after`, or the whole copy refused.
std::function<void(Store&)> verify_target(const std::string& to_shown, audit::VerifyReport& after) {
  return [&to_shown, &after](Store& target) {
    after = audit::verify(target, audit::VerifyOptions{});
    if (!after.clean()) throw unclean(to_shown, after, msg::cli_copy_target_unclean);
  };
}

nlohmann::json counts_json(const DatabaseCounts& c) {
  return {{"log_rows", c.log_rows},       {"registry_rows", c.registry_rows}, {"cases", c.cases},
          {"staff", c.staff},             {"sites", c.sites},                 {"procedures", c.procedures},
          {"access_records", c.access_records}, {"head", std::to_string(c.head_seq) + ":" + c.head_hash},
          {"case_heads", c.case_heads}};
}

// `db copy FROM SERVER --into-site SITE` (copy.h move_in), after FROM
// verified clean and the sealing was chosen: the move, verified on the
// server before it commits, and what it did.
int move_office(Context& ctx, const Args& a, Engine& source, const std::string& actor, const CopySealing& sealing,
                const std::string& from_shown, const std::string& to_shown) {
  StoreOptions options;
  std::unique_ptr<Store> target = open_store(a.positional[1], options);
  // On a server that logs staff in, its administrator is the session's
  // member; before it does, FROM's administrator moving the office.
  const SessionIdentity identity = target->session_identity();
  const std::string mover = identity.enforced ? identity.staff_id : actor;
  if (identity.enforced) {
    const std::optional<StaffMember> member = target->staff(mover);
    if (!member || std::find(member->roles.begin(), member->roles.end(), "admin") == member->roles.end())
      throw refused(tr(msg::cli_move_target_admin, {identity.login, to_shown}));
  }
  audit::VerifyReport after;
  const MoveResult result = move_in(
      source.store(), *target, sealing,
      verify_target(to_shown, after),
      MoveIn{a.into_site, from_shown, mover, DateTime{static_cast<int64_t>(std::time(nullptr))}});
  const MovedIn& m = result.move;
  spdlog::info("{} moved into {} at site {} by {}: {} cases, rows {}-{}", from_shown, to_shown, m.site, mover, m.cases,
               m.first_seq, m.last_seq);
  const std::string anchor = std::to_string(result.closing.upto_seq) + ":" + result.closing.root;
  std::string admins;
  for (const std::string& id : result.admins_removed) admins += (admins.empty() ? "" : ", ") + id;
  if (ctx.options.json) {
    nlohmann::json out = {{"from", from_shown},
                          {"to", to_shown},
                          {"site", m.site},
                          {"cases", m.cases},
                          {"first_seq", m.first_seq},
                          {"last_seq", m.last_seq},
                          {"offset", m.offset},
                          {"moved_in_row", m.seq},
                          {"registry_rows", m.registry_rows},
                          {"reissued", result.reissued},
                          {"staff", result.staff},
                          {"sites", result.sites},
                          {"procedures_added", result.procedures_added},
                          {"procedures_shared", result.procedures_shared},
                          {"admins_removed", result.admins_removed},
                          {"anchor", anchor},
                          {"verify", {{"from", "clean"}, {"to", "clean"}}}};
    ctx.out << out.dump(2) << "\n";
    return 0;
  }
  ctx.out << tr(msg::cli_move_done,
                {from_shown, to_shown, m.site,
                 counted(m.cases, msg::base_n_case, msg::base_n_cases), std::to_string(m.first_seq),
                 std::to_string(m.last_seq), std::to_string(m.offset)})
          << "\n";
  ctx.out << tr(msg::cli_move_registry,
                {counted(m.registry_rows, msg::base_n_registry_row, msg::base_n_registry_rows),
                 std::to_string(result.reissued), std::to_string(result.procedures_shared),
                 std::to_string(m.seq)})
          << "\n";
  ctx.out << tr(msg::cli_move_staff,
                {counted(result.staff, msg::base_n_staff_member, msg::base_n_staff_members),
                 admins.empty() ? "-" : admins})
          << "\n";
  if (sealing.mode == CopySealing::Mode::kKeyFile) ctx.out << tr(msg::cli_copy_sealed_key_file) << "\n";
  ctx.out << tr(msg::cli_move_anchor, {anchor, from_shown}) << "\n";
  ctx.out << tr(msg::cli_move_verified,
                {counted(after.rows, msg::base_n_log_row, msg::base_n_log_rows),
                 counted(after.cases, msg::base_n_case, msg::base_n_cases)})
          << "\n";
  return 0;
}

}  // namespace

void def_db_copy(CLI::App& app, Args& a) {
  app.add_option("from", a.positional, tr(msg::cli_opt_copy_from_to))->required()->expected(2);
  app.add_option("--site", a.to_site, tr(msg::cli_opt_copy_site));
  app.add_option("--into-site", a.into_site, tr(msg::cli_opt_copy_into_site));
}

int run_db_copy(Context& ctx, Args& a) {
  if (a.positional.size() != 2) throw usage_error(tr(msg::cli_copy_two_places));
  const std::string from = a.positional[0], to = a.positional[1];
  const std::string from_shown = display_location(from), to_shown = display_location(to);
  if (from == to) throw usage_error(tr(msg::cli_copy_same, {from_shown}));
  const bool to_server = is_server_url(to);
  if (!a.into_site.empty() && !a.to_site.empty()) throw usage_error(tr(msg::cli_move_not_both));
  if (!a.into_site.empty() && !to_server) throw usage_error(tr(msg::cli_move_into_server, {to_shown}));
  if (to_server && !a.to_site.empty()) throw usage_error(tr(msg::runtime_copy_site_into_file, {a.to_site}));
  if (!to_server && file_exists(to)) throw conflict(tr(msg::cli_copy_file_exists, {to}));

  // The source: opened as every command opens its database, and the actor
  // logged in there (which unlocks its personal text).
  ctx.options.db = from;
  Engine& source = ctx.engine();
  const std::string actor = ctx.actor_id();
  const Actor who = source.actor(actor);
  if (std::find(who.roles.begin(), who.roles.end(), "admin") == who.roles.end())
    throw refused(tr(msg::cli_copy_needs_admin, {actor}));
  const audit::VerifyReport before = audit::verify(source.store(), audit::VerifyOptions{});
  if (!before.clean()) throw unclean(from_shown, before, msg::cli_copy_source_unclean);

  CopySealing sealing;
  const Wiped wiped(sealing.passphrase);
  if (to_server && !ctx.options.key_file.empty()) {
    sealing.mode = CopySealing::Mode::kKeyFile;
    sealing.key_file_id = load_key_file(ctx.options.key_file);
  } else if (!to_server && source.store().encrypts_personal_data()) {
    std::optional<std::string> given = new_passphrase(actor, false);
    if (!given) throw usage_error(tr(msg::cli_copy_passphrase_needed, {actor}));
    sealing.passphrase = *given;
    wipe(*given);
    check_new_passphrase(sealing.passphrase);
    sealing.mode = CopySealing::Mode::kPassphrase;
    sealing.staff_id = actor;
    sealing.hash = hash_passphrase(sealing.passphrase, kdf_cost());
    sealing.at = DateTime{static_cast<int64_t>(std::time(nullptr))};
  } else if (source.store().encrypts_personal_data()) {
    throw usage_error(tr(msg::runtime_copy_keep_sealed));  // before TO is touched
  }

  if (!a.into_site.empty()) return move_office(ctx, a, source, actor, sealing, from_shown, to_shown);

  StoreOptions options;
  options.create = true;
  NewFile made(to_server ? std::string() : to);
  if (to_server) made.keep();  // a server database is the administrator's; only its rows are ours
  std::unique_ptr<Store> target = open_store(to, options);
  std::optional<SiteScope> site;
  if (!a.to_site.empty())
    site = SiteScope{a.to_site, to_shown, actor, DateTime{static_cast<int64_t>(std::time(nullptr))}};
  audit::VerifyReport after;
  const CopyResult result = copy_database(
      source.store(), *target, sealing,
      verify_target(to_shown, after),
      site);
  made.keep();
  spdlog::info("database copied by {} into {}: {} log rows, {} cases", actor, to_shown, result.to.log_rows,
               result.to.cases);

  const DatabaseCounts& c = result.to;
  auto anchor_text = [](const std::optional<Checkpoint>& c) {
    return c ? std::to_string(c->upto_seq) + ":" + c->root : std::string();
  };
  if (ctx.options.json) {
    nlohmann::json out = {{"from", from_shown}, {"to", to_shown}, {"copied", counts_json(c)},
                          {"verify", {{"from", "clean"}, {"to", "clean"}}}};
    if (result.passphrase_row) out["passphrase_set"] = actor;
    if (site)
      out["site"] = {{"site", site->site},
                     {"linked_cases", result.linked_cases},
                     {"proven_checkpoint_row", result.proven_checkpoint_row},
                     {"proven_anchor", anchor_text(result.proven)},
                     {"checkpoints_elsewhere", after.checkpoints_elsewhere},
                     {"anchor", anchor_text(result.closing)}};
    ctx.out << out.dump(2) << "\n";
    return 0;
  }
  ctx.out
      << tr(msg::cli_copy_done,
            {from_shown, to_shown, counted(c.log_rows, msg::base_n_log_row, msg::base_n_log_rows),
             counted(c.registry_rows, msg::base_n_registry_row, msg::base_n_registry_rows),
             counted(c.cases, msg::base_n_case, msg::base_n_cases),
             counted(c.staff, msg::base_n_staff_member, msg::base_n_staff_members),
             counted(c.sites, msg::base_n_site, msg::base_n_sites),
             counted(c.procedures, msg::base_n_procedure_version, msg::base_n_procedure_versions),
             counted(c.access_records, msg::base_n_access_record, msg::base_n_access_records)})
      << "\n";
  ctx.out << tr(msg::cli_copy_heads, {std::to_string(c.head_seq) + ":" + c.head_hash, c.case_heads.substr(0, 16)})
          << "\n";
  if (site) {
    ctx.out << tr(msg::cli_copy_site, {site->site, std::to_string(c.cases - result.linked_cases),
                                      std::to_string(result.linked_cases)})
            << "\n";
    ctx.out << tr(msg::cli_copy_site_proof,
                  {counted(c.cases + 1, msg::base_n_chain, msg::base_n_chains),
                   std::to_string(result.proven_checkpoint_row), anchor_text(result.proven),
                   std::to_string(after.checkpoints_elsewhere)})
            << "\n";
    ctx.out << tr(msg::cli_copy_site_anchor, {anchor_text(result.closing)}) << "\n";
  }
  if (result.passphrase_row) ctx.out << tr(msg::cli_copy_sealed_passphrase, {actor}) << "\n";
  if (sealing.mode == CopySealing::Mode::kKeyFile) ctx.out << tr(msg::cli_copy_sealed_key_file) << "\n";
  ctx.out << tr(msg::cli_copy_verified,
                {counted(after.rows, msg::base_n_log_row, msg::base_n_log_rows),
                 counted(after.cases, msg::base_n_case, msg::base_n_cases)})
          << "\n";
  return 0;
}

}  // namespace sopir::cli
