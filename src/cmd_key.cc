// `sopir key`: the key file of a server database (sopir/key_file.h,
// docs/PRIVACY.md, docs/DEPLOY.md): made, set as the first key, rotated.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "sopir/error.h"
#include "sopir/key_file.h"

namespace sopir::cli {
namespace {

// The key file named for this run, loaded and checked against the
// database (Context::use_key_file); kUsage on a database file or without one.
std::string current_key_file(Context& ctx) {
  if (!is_server_url(ctx.options.db)) throw usage_error(tr(msg::cli_key_needs_server));
  if (ctx.options.key_file.empty()) throw usage_error(tr(msg::cli_key_file_needed));
  ctx.engine();  // opens the database and loads the key file
  return ctx.key_file_id();
}

}  // namespace

void def_key_new(CLI::App& app, Args& a) {
  app.add_option("file", a.positional, tr(msg::cli_opt_key_file_new))->required();
}

int run_key_new(Context& ctx, Args& a) {
  if (a.positional.size() != 1) throw usage_error(tr(msg::cli_opt_key_file_new));
  const std::string& path = a.positional[0];
  const std::string id = create_key_file(path);
  if (ctx.options.json) {
    ctx.out << nlohmann::json{{"key_file", path}, {"key_id", id}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_key_made, {path, id}) << "\n";
  }
  return 0;
}

int run_key_set(Context& ctx, Args&) {
  const std::string id = current_key_file(ctx);
  const std::string admin = ctx.actor_id();
  ctx.engine().seal_database_key(admin, id, false);
  spdlog::info("key set by {}", admin);
  const std::string where = display_location(ctx.options.db);
  if (ctx.options.json) {
    ctx.out << nlohmann::json{{"database", where}, {"key_id", id}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_key_set_done, {where, id}) << "\n";
  }
  return 0;
}

void def_key_rotate(CLI::App& app, Args& a) {
  app.add_option("new_file", a.positional, tr(msg::cli_opt_key_file_next))->required();
}

int run_key_rotate(Context& ctx, Args& a) {
  if (a.positional.size() != 1) throw usage_error(tr(msg::cli_opt_key_file_next));
  const std::string old_id = current_key_file(ctx);
  const std::string admin = ctx.actor_id();
  const std::string new_id = load_key_file(a.positional[0]);
  ctx.engine().seal_database_key(admin, new_id, true);
  spdlog::info("key rotated by {}", admin);
  const std::string where = display_location(ctx.options.db);
  if (ctx.options.json) {
    ctx.out << nlohmann::json{{"database", where}, {"key_id", new_id}, {"previous_key_id", old_id}}.dump(2) << "\n";
  } else {
    ctx.out << tr(msg::cli_key_rotated, {where, a.positional[0], new_id, old_id}) << "\n";
  }
  return 0;
}

}  // namespace sopir::cli
