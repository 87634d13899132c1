// migrate plan: moving running cases to a newer version of their procedure
// (the planning is sopir/migration_plan.h; this prints or saves it).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/messages/migrate.h"
#include "sopir/migration_apply.h"
#include "sopir/migration_plan.h"

namespace sopir::cli {

void def_migrate_plan(CLI::App& app, Args& a) {
  app.add_option("sop", a.positional, tr(msg::cli_opt_published_sop))->required();
  app.add_option("--to", a.to_version, tr(msg::cli_opt_migrate_to))->required();
  app.add_option("--format", a.format, tr(msg::cli_opt_plan_format));
  app.add_option("--output", a.output, tr(msg::cli_opt_plan_output));
}

namespace {

int version_arg(const std::string& text) {
  auto v = parse_int(text);
  if (!v || *v < 1 || *v > 1000000) throw usage_error(tr(msg::cli_plan_bad_to, {text}));
  return static_cast<int>(*v);
}

// table, csv or json: --format, else --json, else the output file's
// extension, else a table.
std::string plan_format(const Context& ctx, const Args& a) {
  std::string format = a.format;
  if (format.empty() && ctx.options.json) format = "json";
  if (format.empty() && !a.output.empty()) {
    const size_t dot = a.output.rfind('.');
    if (dot != std::string::npos && a.output.find('/', dot) == std::string::npos) format = a.output.substr(dot + 1);
    if (format != "csv" && format != "json") throw usage_error(tr(msg::cli_plan_table_file));
  }
  if (format.empty()) format = "table";
  if (format != "table" && format != "csv" && format != "json") throw usage_error(tr(msg::cli_plan_bad_format, {format}));
  if (format == "table" && !a.output.empty()) throw usage_error(tr(msg::cli_plan_table_file));
  return format;
}

std::string what_changes(const PlannedCase& c) {
  if (!c.moves) return c.reason;
  std::vector<std::string> parts;
  for (const auto& ch : c.changes) {
    const std::string name = ch.field.empty() ? ch.from_field : ch.field;
    const std::string source = ch.from_field.empty() || ch.from_field == name ? "" : " <- " + ch.from_field;
    parts.push_back(name + source + ": " + (ch.before.empty() ? "-" : ch.before) + " -> " +
                    (ch.after.empty() ? "-" : ch.after));
  }
  if (c.due_after || c.due_before)
    parts.push_back(tr(msg::cli_w_plan_due, {c.due_after ? format_datetime(*c.due_after) : "-"}));
  return join(parts, "; ");
}

void print_table(Context& ctx, const MigrationPlan& plan) {
  Table table({tr(msg::cli_w_case), tr(msg::cli_w_plan_version), tr(msg::cli_w_plan_from), tr(msg::cli_w_plan_to),
               tr(msg::cli_w_plan_what)});
  for (const auto& c : plan.cases)
    table.add({c.case_id, std::to_string(c.from_version), c.from_state,
               c.moves ? c.to_state : "(" + tr(msg::cli_w_plan_stays) + ")", what_changes(c)});
  if (!table.empty()) table.print(ctx.out, ctx.options.width, ctx.options.color);
}

}  // namespace

int run_migrate_plan(Context& ctx, Args& a) {
  // Options are checked before the database is opened.
  const int to = version_arg(a.to_version);
  const std::string format = plan_format(ctx, a);
  const std::string& sop = a.positional.at(0);
  // The plan lists every running case of the procedure, at every site.
  if (!ctx.options.actor.empty())
    require_every_site(ctx.engine().store(), ctx.engine().actor(ctx.actor_id()), "migrate plan");
  const MigrationPlan plan = plan_migration(ctx.engine(), sop, to, ctx.options.lang);
  const std::string summary = tr(msg::cli_plan_summary, {std::to_string(plan.cases.size()), sop, std::to_string(to),
                                                         std::to_string(plan.moving()), std::to_string(plan.staying())});
  if (format == "table") {
    print_table(ctx, plan);
    ctx.out << summary << "\n";
    return 0;
  }
  const std::string text = format == "json" ? plan_json(plan) : plan_csv(plan);
  if (a.output.empty()) {
    ctx.out << text;
    return 0;
  }
  create_private_file(a.output);
  std::ofstream file(a.output, std::ios::binary | std::ios::trunc);
  if (!file) throw storage_error(tr(msg::cli_cannot_write, {a.output}));
  file << text;
  file.close();
  if (!file) throw storage_error(tr(msg::cli_cannot_write, {a.output}));
  ctx.out << tr(msg::cli_plan_wrote, {a.output, std::to_string(plan.cases.size()), std::to_string(plan.moving()),
                                      std::to_string(plan.staying()), plan_sha256(text)})
          << "\n";
  return 0;
}

void def_migrate_propose(CLI::App& app, Args& a) {
  app.add_option("plan", a.positional, tr(msg::cli_opt_plan_file))->required();
}

void def_migrate_approve(CLI::App& app, Args& a) {
  app.add_option("hash", a.positional, tr(msg::cli_opt_plan_hash))->required();
}

void def_migrate_apply(CLI::App& app, Args& a) {
  app.add_option("plan", a.positional, tr(msg::cli_opt_plan_file))->required();
  app.add_option("--batch-size", a.batch_size, tr(msg::cli_opt_batch_size));
}

namespace {

// The plan file's bytes exactly as saved (they are what is hashed).
std::string read_plan_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw not_found(tr(msg::cli_no_file, {path}));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw storage_error(tr(msg::cli_cannot_read, {path}));
  return text.str();
}

// A plan's hash as migrate list's first column shows it.
std::string list_hash(const std::string& sha256) { return sha256.substr(0, 16); }

nlohmann::json status_json(const PlanStatus& p) {
  return {{"plan", p.sha256},
          {"sop", p.sop_id},
          {"from_versions", p.from_versions},
          {"to_version", p.to_version},
          {"made_at", p.made_at},
          {"cases", p.cases},
          {"moving", p.moving},
          {"proposed_by", p.proposed_by},
          {"proposed_at", format_datetime(p.proposed_at)},
          {"approved_by", p.approved_by.empty() ? nlohmann::json() : nlohmann::json(p.approved_by)},
          {"approved_at", p.approved_at ? nlohmann::json(format_datetime(*p.approved_at)) : nlohmann::json()}};
}

}  // namespace

int run_migrate_propose(Context& ctx, Args& a) {
  const std::string document = read_plan_file(a.positional.at(0));
  const PlanStatus p = propose_migration(ctx.engine(), ctx.actor_id(), document);
  if (ctx.options.json) {
    ctx.out << status_json(p).dump(2) << "\n";
    return 0;
  }
  ctx.out << tr(msg::cli_migrate_proposed, {p.sha256, p.sop_id, p.from_versions, std::to_string(p.to_version),
                                            std::to_string(p.cases), std::to_string(p.moving)})
          << "\n";
  return 0;
}

int run_migrate_approve(Context& ctx, Args& a) {
  const PlanStatus p = approve_migration(ctx.engine(), ctx.actor_id(), a.positional.at(0));
  if (ctx.options.json) {
    ctx.out << status_json(p).dump(2) << "\n";
    return 0;
  }
  // The record keeps the plan's hash, not the file's name: the file is
  // named by what it holds, as migrate list shows it.
  ctx.out << tr(msg::cli_migrate_approved,
                {p.sha256, p.sop_id, p.from_versions, std::to_string(p.to_version), p.proposed_by,
                 p.made_at, std::to_string(p.moving), std::to_string(p.cases), list_hash(p.sha256)})
          << "\n";
  return 0;
}

int run_migrate_apply(Context& ctx, Args& a) {
  ApplyOptions options;
  if (!a.batch_size.empty()) {
    auto n = parse_int(a.batch_size);
    if (!n || *n < 1 || *n > 100000) throw usage_error(tr(msg::cli_migrate_bad_batch_size, {a.batch_size}));
    options.batch = static_cast<size_t>(*n);
  }
  const std::string document = read_plan_file(a.positional.at(0));
  // A test hook: a pause after each committed batch, so a test can kill
  // the process between batches (tests/e2e/test_cli_migrate_apply.py).
  int pause_ms = 0;
  if (const char* pause = std::getenv("SOPIR_TEST_MIGRATE_PAUSE_MS")) pause_ms = std::atoi(pause);
  const bool terminal = stderr_is_terminal();
  options.progress = [&](int64_t done, int64_t total) {
    if (terminal)
      ctx.err << "\r" << tr(msg::cli_migrate_progress, {std::to_string(done), std::to_string(total)})
              << (done == total ? "\n" : "") << std::flush;
    if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  };
  const ApplyReport r = apply_migration(ctx.engine(), ctx.actor_id(), document, options);
  if (ctx.options.json) {
    nlohmann::json skipped = nlohmann::json::array();
    for (const auto& s : r.skipped) skipped.push_back({{"case", s.case_id}, {"reason", s.reason}});
    ctx.out << nlohmann::json{{"plan", r.plan_sha256}, {"migrated", r.migrated}, {"already", r.already},
                              {"stale", r.stale},       {"cannot", r.cannot},     {"stays", r.stays},
                              {"batches", r.batches},   {"skipped", skipped}}
                   .dump(2)
            << "\n";
    return 0;
  }
  for (const auto& s : r.skipped) ctx.err << tr(msg::cli_migrate_skipped, {s.case_id, s.reason}) << "\n";
  ctx.out << tr(msg::cli_migrate_summary,
                {r.plan_sha256, std::to_string(r.migrated), std::to_string(r.batches), std::to_string(r.already),
                 std::to_string(r.stale), std::to_string(r.cannot), std::to_string(r.stays)})
          << "\n";
  return 0;
}

int run_migrate_list(Context& ctx, Args&) {
  const std::vector<PlanStatus> plans = migration_plans(ctx.engine().store());
  if (ctx.options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : plans) out.push_back(status_json(p));
    ctx.out << out.dump(2) << "\n";
    return 0;
  }
  if (plans.empty()) {
    ctx.out << tr(msg::cli_migrate_none) << "\n";
    return 0;
  }
  Table table({tr(msg::cli_w_plan_hash), tr(msg::cli_w_procedure), tr(msg::cli_w_plan_versions), tr(msg::cli_w_plan_moving),
               tr(msg::cli_w_plan_proposed), tr(msg::cli_w_plan_approved)});
  for (const auto& p : plans)
    table.add({list_hash(p.sha256), p.sop_id,
               p.from_versions + " -> " + std::to_string(p.to_version),
               std::to_string(p.moving) + "/" + std::to_string(p.cases),
               p.proposed_by + " " + format_datetime(p.proposed_at),
               p.approved_by.empty() ? tr(msg::cli_w_plan_not_yet)
                                     : p.approved_by + " " + format_datetime(*p.approved_at)});
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

}  // namespace sopir::cli
