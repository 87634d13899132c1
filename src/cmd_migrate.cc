// migrate plan: moving running cases to a newer version of their procedure
// (the planning is sopir/migration_plan.h; this prints or saves it).
#include <CLI/CLI.hpp>

#include <fstream>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"
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

}  // namespace sopir::cli
