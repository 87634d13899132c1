// `sopir audit ...`: the auditors' commands. Every one opens the database
// read-only (an auditor's copy on a read-only medium works, and nothing can
// be written). The one exception is --reveal, which must record who saw
// personal data: it opens a second, writable connection for that access row
// only, and is refused on a read-only copy.
#include <CLI/CLI.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli.h"
#include "sopir/audit.h"
#include "sopir/error.h"
#include "sopir/loader.h"

namespace sopir::cli {
namespace {

std::unique_ptr<Store> open_read_only(Context& ctx) {
  StoreOptions options;
  options.read_only = true;
  auto store = open_store(ctx.options.db, options);
  // An actor named (--as, SOPIR_ACTOR) must be staff, as for every command.
  if (!ctx.options.actor.empty()) acting_staff(*store, ctx.options.actor);
  return store;
}

std::optional<DateTime> time_option(const std::string& name, const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto t = parse_datetime(text);
  if (!t) throw usage_error(name + " '" + text + "' is not a time; give e.g. 2026-03-01 or 2026-03-01T09:30");
  return t;
}

DateTime now() {
  return DateTime{static_cast<int64_t>(std::time(nullptr))};
}

// Reveal: the actor must be known, and the database writable so the access
// can be recorded before anything is shown.
struct Reveal {
  std::unique_ptr<Store> writer;
  audit::RevealAccess access;
};

std::unique_ptr<Reveal> prepare_reveal(Context& ctx, Store& reader, const std::string& what) {
  const Actor member = acting_staff(reader, ctx.actor_id());
  auto reveal = std::make_unique<Reveal>();
  if (is_server_url(ctx.options.db)) {
    // The server decides whether this login may write the access row.
    reveal->writer = open_store(ctx.options.db, StoreOptions{});
    reveal->access = audit::RevealAccess{member, reveal->writer.get(), now(), what};
    return reveal;
  }
  std::string dir = ctx.options.db;
  const size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : dir.substr(0, slash == 0 ? 1 : slash);
  // The mode bits as well as access(): root may write anything, but a copy
  // marked read-only (chmod 0444) is meant to stay unchanged.
  struct stat info {};
  const bool marked_read_only =
      ::stat(ctx.options.db.c_str(), &info) == 0 && (info.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0;
  if (marked_read_only || ::access(ctx.options.db.c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK) != 0)
    throw refused("--reveal records who looked at personal data in the database's access log, so it needs a "
                  "writable database; " + ctx.options.db +
                  " is read-only. Run without --reveal (personal data stays masked), or ask the data "
                  "controller to reveal it on the live database");
  reveal->writer = open_sqlite_store(ctx.options.db, StoreOptions{});
  reveal->access = audit::RevealAccess{member, reveal->writer.get(), now(), what};
  return reveal;
}

}  // namespace

void def_audit_log(CLI::App& app, Args& a) {
  app.add_option("--case", a.case_id, "only this case");
  app.add_option("--sop", a.sop, "only cases of this SOP");
  app.add_option("--actor", a.actor_filter, "only steps by this staff member");
  app.add_option("--event", a.event, "only this event");
  app.add_option("--state", a.state, "only steps from or to this state");
  app.add_option("--kind", a.kind, "open, procedure, override, lifecycle or timer");
  app.add_option("--since", a.since, "only steps that happened at or after this time");
  app.add_option("--until", a.until, "only steps that happened before this time");
  app.add_option("--format", a.format, "table (default), csv or jsonl");
  app.add_flag("--reveal", a.reveal, "show personal data (allowed roles only; recorded)");
}

void def_audit_case(CLI::App& app, Args& a) {
  app.add_option("case", a.positional, "case id")->required();
  app.add_option("--format", a.format, "table (default), csv or jsonl");
  app.add_flag("--with-linked", a.with_linked,
               "also the cases linked by hand-offs (its parents, the cases it opened), in time order");
  app.add_flag("--reveal", a.reveal, "show personal data (allowed roles only; recorded)");
}

void def_audit_verify(CLI::App& app, Args& a) {
  app.add_option("--anchor", a.anchor, "SEQ:HASH written down earlier (`sopir audit anchor`)");
}

void def_audit_replay(CLI::App& app, Args& a) {
  app.add_option("--sop", a.sop, "the proposed SOP YAML file")->required();
}

void def_audit_report(CLI::App& app, Args& a) {
  app.add_option("--sop", a.sop, "only this SOP");
  app.add_option("--html", a.html, "write a self-contained HTML page to this file");
}

int run_audit_log(Context& ctx, Args& a) {
  auto store = open_read_only(ctx);
  LogFilter filter;
  if (!a.case_id.empty()) {
    auto id = normalize_case_id(a.case_id);
    filter.case_id = id.value_or(a.case_id);
  }
  if (!a.sop.empty()) filter.sop_id = a.sop;
  if (!a.actor_filter.empty()) filter.actor = a.actor_filter;
  if (!a.event.empty()) filter.event = a.event;
  if (!a.state.empty()) filter.state = a.state;
  if (!a.kind.empty()) {
    filter.kind = log_kind_from_string(a.kind);
    if (!filter.kind)
      throw usage_error("--kind '" + a.kind + "' is not known; use open, procedure, override, lifecycle or timer");
  }
  filter.since = time_option("--since", a.since);
  filter.until = time_option("--until", a.until);
  audit::ExportOptions options;
  options.format = audit::parse_format(a.format);
  options.lang = ctx.options.lang;
  std::unique_ptr<Reveal> reveal;
  if (a.reveal) {
    reveal = prepare_reveal(ctx, *store, "audit log --reveal");
    options.reveal = &reveal->access;
  }
  audit::export_log(*store, filter, options, ctx.out);
  return 0;
}

int run_audit_case(Context& ctx, Args& a) {
  auto store = open_read_only(ctx);
  const std::string typed = a.positional.empty() ? "" : a.positional[0];
  auto id = normalize_case_id(typed);
  if (!id || !store->case_exists(*id)) throw not_found("no case '" + typed + "' in " + display_location(ctx.options.db));
  audit::ExportOptions options;
  options.format = audit::parse_format(a.format);
  options.lang = ctx.options.lang;
  options.with_linked = a.with_linked;
  std::unique_ptr<Reveal> reveal;
  if (a.reveal) {
    reveal = prepare_reveal(ctx, *store, a.with_linked ? "audit case --with-linked --reveal" : "audit case --reveal");
    options.reveal = &reveal->access;
  }
  audit::export_case(*store, *id, options, ctx.out);
  return 0;
}

int run_audit_verify(Context& ctx, Args& a) {
  auto store = open_read_only(ctx);
  audit::VerifyOptions options;
  if (!a.anchor.empty()) options.anchor = audit::parse_anchor(a.anchor);
  const bool bar = &ctx.err == &std::cerr && ::isatty(STDERR_FILENO);
  audit::ProgressFn progress;
  if (bar) {
    progress = [&](const audit::VerifyProgress& p) {
      const int64_t percent = p.total > 0 ? std::min<int64_t>(100, p.done * 100 / p.total) : 0;
      ctx.err << "\r" << p.phase << ": " << p.done << (p.total ? "/" + std::to_string(p.total) : "") << " ("
              << percent << "%)   " << std::flush;
    };
  }
  const audit::VerifyReport report = audit::verify(*store, options, progress);
  if (bar) ctx.err << "\r" << std::string(60, ' ') << "\r";
  for (const auto& f : report.findings) {
    ctx.out << audit::to_string(f.kind);
    if (f.seq) ctx.out << " at row " << f.seq;
    if (!f.case_id.empty()) ctx.out << " (case " << f.case_id << ")";
    ctx.out << ": " << f.message << "\n";
  }
  ctx.out << (report.clean() ? "clean: " : std::to_string(report.findings.size()) + " finding(s): ") << report.rows
          << " log rows, chain head " << audit::format_anchor(report.head) << "; " << report.cases
          << " cases and " << report.steps << " steps replayed";
  if (report.unverifiable_steps)
    ctx.out << " (" << report.unverifiable_steps << " steps not re-decided: their personal data was erased)";
  if (options.anchor) ctx.out << "; anchor " << options.anchor->seq << (report.clean() ? " holds" : " checked");
  ctx.out << "\n";
  return report.clean() ? 0 : 1;
}

int run_audit_anchor(Context& ctx, Args&) {
  auto store = open_read_only(ctx);
  const audit::Anchor a = audit::anchor(*store);
  if (a.seq == 0) throw not_found("the log of " + display_location(ctx.options.db) + " is empty: nothing to anchor");
  ctx.out << audit::format_anchor(a) << "\n";
  return 0;
}

int run_audit_replay(Context& ctx, Args& a) {
  auto store = open_read_only(ctx);
  ProcedurePtr proposed = expect_procedure(load_procedure_file(a.sop));
  const audit::ReplayReport r = audit::replay_proposed(*store, *proposed);
  for (const auto& d : r.differences) {
    ctx.out << "case " << d.case_id << " step " << d.case_seq << " (row " << d.seq << ") '" << d.event << "': ";
    if (d.refused) {
      ctx.out << "refused: " << d.message << "\n";
    } else {
      ctx.out << d.message << "\n";
    }
  }
  ctx.out << r.cases << " case(s) of " << r.sop_id << ", " << r.steps << " steps replayed through " << a.sop
          << ": " << r.differences.size() << " step(s) would be refused or routed differently";
  if (r.unverifiable_steps) ctx.out << " (" << r.unverifiable_steps << " not re-decided: personal data erased)";
  ctx.out << "\n";
  return 0;
}

int run_audit_report(Context& ctx, Args& a) {
  auto store = open_read_only(ctx);
  audit::ReportOptions options;
  options.now = now();
  if (!a.sop.empty()) options.sop_id = a.sop;
  options.draw_svg = dot_to_svg;
  if (a.html.empty()) {
    audit::report_text(*store, options, ctx.out);
    return 0;
  }
  create_private_file(a.html);
  std::ofstream file(a.html, std::ios::binary | std::ios::trunc);
  if (!file) throw storage_error("cannot write " + a.html);
  audit::report_html(*store, options, file);
  file.close();
  if (!file) throw storage_error("cannot write " + a.html);
  ctx.out << "wrote " << a.html << "\n";
  return 0;
}

}  // namespace sopir::cli
