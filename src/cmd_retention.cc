// `sopir retention due` and `sopir retention apply`: the retention rule of
// the procedures (`retention:`; Engine::retention_due, apply_retention;
// docs/PRIVACY.md "Retention").
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

json item_json(const RetentionItem& item) {
  json out = {{"case", item.record.id},
              {"sop", item.record.sop_id},
              {"version", item.procedure->version},
              {"closed_at", format_datetime(item.closed_at)},
              {"retention", item.procedure->retention->text()},
              {"due_at", format_datetime(item.due_at)}};
  if (item.erased) {
    out["erased_at"] = format_datetime(item.erased->occurred_at);
    out["erased_by"] = item.erased->actor;
    out["erased_seq"] = item.erased->seq;
  }
  return out;
}

json report_json(const RetentionReport& r, const char* mode) {
  json due = json::array(), skipped = json::array(), erased = json::array();
  for (const RetentionItem& item : r.due) due.push_back(item_json(item));
  for (const RetentionItem& item : r.already_erased) skipped.push_back(item_json(item));
  for (const StepResult& s : r.erased)
    erased.push_back({{"case", s.entry.case_id}, {"seq", s.entry.seq}, {"case_seq", s.entry.case_seq},
                      {"actor", s.entry.actor}, {"at", format_datetime(s.entry.occurred_at)}});
  json out = {{"mode", mode},
              {"now", format_datetime(r.now)},
              {"due", due},
              {"already_erased", skipped},
              {"not_yet_due", r.not_yet}};
  if (std::string(mode) != "due") {
    json other = json::array();
    for (const RetentionItem& item : r.other_sites) {
      json j = item_json(item);
      j["site"] = item.record.site;
      other.push_back(std::move(j));
    }
    out["other_sites"] = other;
  }
  if (std::string(mode) == "apply") {
    out["erased"] = erased;
    out["failures"] = r.failures;
    out["wal_emptied"] = r.cleaned;
  }
  return out;
}

// The due cases; `seq_of` adds the log row that erased each (apply).
void print_due(Context& ctx, const std::vector<RetentionItem>& items, const std::vector<StepResult>* erased) {
  if (items.empty()) return;
  std::vector<std::string> headers = {tr(msg::cli_w_case), tr(msg::cli_w_procedure), tr(msg::cli_w_version),
                                      tr(msg::cli_w_closed_at), tr(msg::cli_w_retention), tr(msg::cli_w_due_since)};
  if (erased) headers.push_back(tr(msg::cli_w_log_row));
  Table t(headers);
  for (const RetentionItem& item : items) {
    std::vector<std::string> row = {item.record.id, item.record.sop_id, std::to_string(item.procedure->version),
                                    format_datetime(item.closed_at), item.procedure->retention->text(),
                                    format_datetime(item.due_at)};
    if (erased) {
      std::string seq;
      for (const StepResult& s : *erased)
        if (s.entry.case_id == item.record.id) seq = std::to_string(s.entry.seq);
      if (seq.empty()) continue;  // left: among the failures
      row.push_back(seq);
    }
    t.add(row);
  }
  t.print(ctx.out, ctx.options.width, ctx.options.color);
}

void print_skipped(Context& ctx, const RetentionReport& r) {
  if (r.already_erased.empty()) return;
  ctx.out << tr(msg::cli_retention_already_erased, {std::to_string(r.already_erased.size())}) << "\n";
  Table t({tr(msg::cli_w_case), tr(msg::cli_w_procedure), tr(msg::cli_w_due_since), tr(msg::cli_w_erased_at),
           tr(msg::cli_w_actor)});
  for (const RetentionItem& item : r.already_erased)
    t.add({item.record.id, item.record.sop_id, format_datetime(item.due_at),
           format_datetime(item.erased->occurred_at), item.erased->actor});
  t.print(ctx.out, ctx.options.width, ctx.options.color);
}

void print_other_sites(Context& ctx, const RetentionReport& r, const std::string& actor) {
  if (r.other_sites.empty()) return;
  ctx.out << tr(msg::cli_retention_other_sites, {std::to_string(r.other_sites.size()), actor}) << "\n";
  Table t({tr(msg::cli_w_case), tr(msg::cli_w_procedure), tr(msg::cli_w_site), tr(msg::cli_w_due_since)});
  for (const RetentionItem& item : r.other_sites)
    t.add({item.record.id, item.record.sop_id, item.record.site, format_datetime(item.due_at)});
  t.print(ctx.out, ctx.options.width, ctx.options.color);
}

void print_not_yet(Context& ctx, const RetentionReport& r) {
  ctx.out << tr(msg::cli_retention_not_yet, {std::to_string(r.not_yet)}) << "\n";
}

}  // namespace

void def_retention_due(CLI::App&, Args&) {}

void def_retention_apply(CLI::App& app, Args& a) {
  app.add_flag("--dry-run", a.dry_run, tr(msg::cli_opt_retention_dry_run));
}

int run_retention_due(Context& ctx, Args&) {
  // A reader held to some sites is shown their sites' cases only.
  const RetentionReport r = ctx.engine().retention_due(ctx.named_actor_id());
  if (r.sites)
    ctx.err << "sopir: " << tr(msg::cli_held_to_sites, {ctx.options.actor, sites_word(*r.sites)})
            << "\n";
  if (ctx.options.json) {
    json doc = report_json(r, "due");
    doc["sites"] = r.sites ? json(*r.sites) : json(nullptr);  // the sites read, null for every site
    ctx.out << doc.dump(2) << "\n";
    return 0;
  }
  ctx.out << tr(msg::cli_retention_due, {std::to_string(r.due.size()), format_datetime(r.now)}) << "\n";
  print_due(ctx, r.due, nullptr);
  print_skipped(ctx, r);
  print_not_yet(ctx, r);
  return 0;
}

int run_retention_apply(Context& ctx, Args& a) {
  const std::string actor = ctx.actor_id();
  const RetentionReport r = ctx.engine().apply_retention(actor, a.dry_run);
  // An officer held to some sites is shown (and erases) their sites' cases only.
  if (r.sites)
    ctx.err << "sopir: " << tr(msg::cli_held_to_sites, {actor, sites_word(*r.sites)}) << "\n";
  spdlog::info("retention {} by {}: {} due, {} erased, {} already erased, {} failed", a.dry_run ? "dry run" : "apply",
               actor, r.due.size(), r.erased.size(), r.already_erased.size(), r.failures.size());
  const int code = r.failures.empty() ? 0 : exit_code(ErrorKind::kConflict);
  if (ctx.options.json) {
    ctx.out << report_json(r, a.dry_run ? "dry-run" : "apply").dump(2) << "\n";
    return code;
  }
  if (a.dry_run) {
    ctx.out << tr(msg::cli_retention_would_erase, {std::to_string(r.due.size()), format_datetime(r.now)}) << "\n";
    print_due(ctx, r.due, nullptr);
  } else if (r.due.empty()) {
    ctx.out << tr(msg::cli_retention_nothing, {format_datetime(r.now)}) << "\n";
  } else {
    ctx.out << tr(msg::cli_retention_erased, {std::to_string(r.erased.size()), format_datetime(r.now), actor}) << "\n";
    print_due(ctx, r.due, &r.erased);
  }
  print_other_sites(ctx, r, actor);
  print_skipped(ctx, r);
  print_not_yet(ctx, r);
  for (const std::string& f : r.failures) ctx.err << "sopir: " << f << "\n";
  if (!r.cleaned) ctx.err << "sopir: " << tr(msg::cli_erase_wal_busy) << "\n";
  return code;
}

}  // namespace sopir::cli
