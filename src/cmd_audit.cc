// `sopir audit ...`: the auditors' commands. Every one opens the database
// read-only (an auditor's copy on a read-only medium works, and nothing can
// be written). The one exception is --reveal, which must record who saw
// personal data: it opens a second, writable connection for that access row
// only, and is refused on a read-only copy.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli.h"
#include "output.h"
#include "sopir/audit.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "sopir/login.h"
#include "sopir/messages/base.h"
#include "sopir/messages/runtime.h"

namespace sopir::cli {

void require_every_site(Store& store, const Actor& who, const char* command) {
  if (!sites_held_to(store, who)) return;
  throw refused(tr(msg::cli_audit_every_site, {command, who.id, sites_word(who.sites)}));
}

namespace {

// An audit command's database, opened read-only, and who reads it.
struct Reader {
  std::unique_ptr<Store> store;
  std::optional<Actor> who;  // the actor named (--as, SOPIR_ACTOR), if any
};

Reader open_read_only(Context& ctx) {
  StoreOptions options;
  options.read_only = true;
  Reader reader{open_store(ctx.options.db, options), std::nullopt};
  ctx.use_key_file(*reader.store);
  // An actor named must be staff, as for every command.
  if (!ctx.options.actor.empty()) reader.who = acting_staff(*reader.store, ctx.options.actor);
  return reader;
}

// The sites whose cases the reader may read (sites_held_to): unset when no
// reader is named or they read every site.
std::optional<std::vector<std::string>> reader_sites(Reader& reader) {
  if (!reader.who) return std::nullopt;
  return sites_held_to(*reader.store, *reader.who);
}

void require_every_site(Reader& reader, const char* command) {
  if (reader.who) cli::require_every_site(*reader.store, *reader.who, command);
}

DateTime now() { return DateTime{static_cast<int64_t>(std::time(nullptr))}; }

// Whether the database file cannot be written here: marked read-only
// (chmod 0444: root may write anything, but such a copy is meant to stay
// unchanged, so the mode bits count as well as access()), or the file or
// its directory is not writable.
bool file_read_only(const std::string& path) {
  std::string dir = path;
  const size_t slash = dir.rfind('/');
  dir = slash == std::string::npos ? "." : dir.substr(0, slash == 0 ? 1 : slash);
  struct stat info {};
  const bool marked =
      ::stat(path.c_str(), &info) == 0 && (info.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0;
  return marked || ::access(path.c_str(), W_OK) != 0 || ::access(dir.c_str(), W_OK) != 0;
}

// Verify and replay decide every recorded step again, and a step given
// personal values (an opening with a name) needs their text. On a database
// file that text is encrypted: a reader named with --as logs in, as every
// acting member does, which unlocks it in this process's memory only. The
// text is decided on and compared, never shown (findings show a personal
// value as "personal data"), so no access row is written. True when
// encrypted personal text stays locked, for the hint after the summary.
//
// On a writable database the log-in is the usual one, a wrong passphrase
// recorded and later attempts delayed. A copy that cannot be written (an
// archive handed to an auditor) records nothing, so its reader logs in
// through the read-only store: whoever holds such a copy holds its key
// wrappings too, and could try passphrases against them anyway.
bool unlock_for_replay(Context& ctx, Reader& reader) {
  Store& store = *reader.store;
  if (!store.encrypts_personal_data() || store.personal_data_unlocked()) return false;
  if (!reader.who) return true;
  if (is_server_url(ctx.options.db) || !file_read_only(ctx.options.db)) {
    ctx.actor_id();
  } else {
    std::string passphrase = login_passphrase(reader.who->id);
    try {
      log_in(store, reader.who->id, passphrase, now());
    } catch (const Error&) {
      wipe(passphrase);
      throw;
    }
    wipe(passphrase);
  }
  return !store.personal_data_unlocked();
}

// After a summary that counts steps not re-decided: how to re-decide the
// encrypted ones, when personal text stayed locked: a log-in, or for a
// reader who logged in without a wrapping of the key, a passphrase set
// again by someone who holds it.
std::string log_in_hint(const Reader& reader, bool locked, int64_t unverifiable) {
  if (!locked || unverifiable == 0) return "";
  if (reader.who) return tr(msg::cli_replay_no_key_hint, {reader.who->id});
  return tr(msg::cli_replay_log_in_hint);
}

// Names on stderr the log rows an audit read left out because they cannot
// be read (audit::UnreadRows), after what it wrote; 1 when there are any
// (the code of verify's findings: the output is not the whole log), else 0.
int left_out(Context& ctx, const audit::UnreadRows& unread) {
  if (unread.empty()) return 0;
  ctx.out.flush();
  for (const auto& [seq, message] : unread)
    ctx.err << "sopir: " << escape_for_display(tr(msg::cli_unread_row, {message})) << "\n";
  ctx.err << "sopir: " << tr(msg::cli_unread_end, {std::to_string(unread.size())}) << "\n";
  return 1;
}

std::optional<DateTime> time_option(const std::string& name, const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto t = parse_datetime(text);
  if (!t) throw usage_error(tr(msg::cli_audit_time_value, {name, text}));
  return t;
}

// The global --json on a command that writes no single JSON document
// (`message` says what it writes instead): a usage error, before anything
// is opened.
void refuse_json(const Context& ctx, const Message& message, const char* command) {
  if (ctx.options.json) throw usage_error(tr(message, {command}));
}

nlohmann::json id_or_null(const std::string& id) {
  return id.empty() ? nlohmann::json() : nlohmann::json(id);
}

// Reveal: the actor must be known, and the database writable so the access
// can be recorded before anything is shown.
struct Reveal {
  std::unique_ptr<Store> writer;
  audit::RevealAccess access;
};

std::unique_ptr<Reveal> prepare_reveal(Context& ctx, Store& reader, const std::string& what, const Args& a) {
  auto reveal = std::make_unique<Reveal>();
  const std::string reason = reveal_reason(ctx, a);
  if (is_server_url(ctx.options.db)) {
    const Actor member = acting_staff(reader, ctx.actor_id());
    // The server decides whether this login may write the access row.
    reveal->writer = open_store(ctx.options.db, StoreOptions{});
    reveal->access = audit::RevealAccess{member, reveal->writer.get(), now(), what, reason};
    return reveal;
  }
  if (file_read_only(ctx.options.db))
    throw refused(tr(msg::cli_reveal_read_only, {ctx.options.db}));
  // Revealing needs a log-in where the database asks for one (Context::actor_id).
  const Actor member = acting_staff(reader, ctx.actor_id());
  reveal->writer = open_sqlite_store(ctx.options.db, StoreOptions{});
  reveal->access = audit::RevealAccess{member, reveal->writer.get(), now(), what, reason};
  return reveal;
}

}  // namespace

void def_audit_log(CLI::App& app, Args& a) {
  app.add_option("--case", a.case_id, tr(msg::cli_opt_only_case));
  app.add_option("--sop", a.sop, tr(msg::cli_opt_only_sop_cases));
  app.add_option("--actor", a.actor_filter, tr(msg::cli_opt_only_actor));
  app.add_option("--event", a.event, tr(msg::cli_opt_only_event));
  app.add_option("--state", a.state, tr(msg::cli_opt_only_state_steps));
  app.add_option("--kind", a.kind, tr(msg::cli_opt_kind));
  app.add_option("--since", a.since, tr(msg::cli_opt_since));
  app.add_option("--until", a.until, tr(msg::cli_opt_until));
  app.add_option("--format", a.format, tr(msg::cli_opt_audit_format));
  app.add_flag("--reveal", a.reveal, tr(msg::cli_opt_reveal));
  app.add_option("--reason", a.reason, tr(msg::cli_opt_reveal_reason));
}

void def_audit_case(CLI::App& app, Args& a) {
  app.add_option("case", a.positional, tr(msg::cli_opt_case_id))->required();
  app.add_option("--format", a.format, tr(msg::cli_opt_audit_format));
  app.add_flag("--with-linked", a.with_linked, tr(msg::cli_opt_with_linked));
  app.add_flag("--reveal", a.reveal, tr(msg::cli_opt_reveal));
  app.add_option("--reason", a.reason, tr(msg::cli_opt_reveal_reason));
}

void def_audit_verify(CLI::App& app, Args& a) {
  app.add_option("--anchor", a.anchor, tr(msg::cli_opt_anchor));
}

void def_audit_replay(CLI::App& app, Args& a) {
  app.add_option("--sop", a.sop, tr(msg::cli_opt_replay_sop))->required();
}

void def_audit_report(CLI::App& app, Args& a) {
  app.add_option("--sop", a.sop, tr(msg::cli_opt_only_sop));
  app.add_option("--html", a.html, tr(msg::cli_opt_html));
}

int run_audit_log(Context& ctx, Args& a) {
  refuse_json(ctx, msg::cli_audit_json_lines, "audit log");
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  LogFilter filter;
  if (!a.case_id.empty()) {
    auto id = normalize_case_id(a.case_id);
    filter.case_id = id.value_or(a.case_id);
    const std::optional<CaseRecord> record = store->find_case(*filter.case_id);
    // A case with neither a row nor a log row is unknown (exit 3, as for
    // `audit access --case`); one whose row is gone still shows its log.
    if (!record) {
      try {
        store->history(*filter.case_id);  // kNotFound: no row of it at all
      } catch (const Error& e) {
        // A row that cannot be read is a row: the export names it.
        if (e.kind() != ErrorKind::kNotFound && !e.damaged_row()) throw;
        if (e.kind() == ErrorKind::kNotFound)
          throw not_found(tr(msg::cli_no_case_in, {a.case_id, display_location(ctx.options.db)}));
      }
    }
    // Another site's case is refused, as `audit case` refuses it, rather
    // than shown as if it had no rows.
    if (reader.who && record) check_site_access(*reader.who, *record, false);
  }
  if (!a.sop.empty()) {
    require_procedure(*store, a.sop);
    filter.sop_id = a.sop;
  }
  if (!a.actor_filter.empty()) filter.actor = a.actor_filter;
  if (!a.event.empty()) filter.event = a.event;
  if (!a.state.empty()) {
    check_listed_state(*store, a.sop, a.state);
    filter.state = a.state;
  }
  if (!a.kind.empty()) {
    // The log of cases: the registry's rows (publishing, staff, sites,
    // checkpoints, migration plans) are not among them.
    filter.kind = log_kind_from_string(a.kind);
    if (!filter.kind || is_registry(*filter.kind))
      throw usage_error(tr(msg::cli_kind_value, {a.kind}));
  }
  filter.since = time_option("--since", a.since);
  filter.until = time_option("--until", a.until);
  audit::ExportOptions options;
  options.format = audit::parse_format(a.format);
  options.lang = ctx.options.lang;
  options.width = ctx.options.width;
  options.split_long_words = stdout_is_terminal();
  options.sites = reader_sites(reader);
  if (!a.reveal && !a.reason.empty()) throw usage_error(tr(msg::cli_reason_needs_reveal));
  std::unique_ptr<Reveal> reveal;
  if (a.reveal) {
    reveal = prepare_reveal(ctx, *store, "audit log --reveal", a);
    options.reveal = &reveal->access;
  }
  return left_out(ctx, audit::export_log(*store, filter, options, ctx.out).unread);
}

int run_audit_case(Context& ctx, Args& a) {
  refuse_json(ctx, msg::cli_audit_json_lines, "audit case");
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  const std::string typed = a.positional.empty() ? "" : a.positional[0];
  auto id = normalize_case_id(typed);
  if (!id || !store->case_exists(*id)) throw not_found(tr(msg::cli_no_case_in, {typed, display_location(ctx.options.db)}));
  // A staff member named reads only their sites' cases (docs/DEPLOY.md
  // "Sites"); on a server the session's own rows are all it can read.
  if (reader.who) check_site_access(*store, *reader.who, *id);
  audit::ExportOptions options;
  options.format = audit::parse_format(a.format);
  options.lang = ctx.options.lang;
  options.with_linked = a.with_linked;
  options.sites = reader_sites(reader);  // the linked cases it shows
  if (!a.reveal && !a.reason.empty()) throw usage_error(tr(msg::cli_reason_needs_reveal));
  std::unique_ptr<Reveal> reveal;
  if (a.reveal) {
    reveal = prepare_reveal(ctx, *store, a.with_linked ? "audit case --with-linked --reveal" : "audit case --reveal", a);
    const CaseRecord record = *store->find_case(*id);
    if (!belongs_to_site(reveal->access.actor, record.site))
      throw refused(tr(msg::runtime_reveal_other_site, {reveal->access.actor.id, record.id, record.site}));
    options.reveal = &reveal->access;
  }
  const audit::CaseExport told = audit::export_case(*store, *id, options, ctx.out);
  const int unread = left_out(ctx, told.unread);
  if (told.warnings.empty()) return unread;
  // Findings of verify: the output is not a clean story (exit 1, as verify).
  ctx.out.flush();
  ctx.err << "sopir: " << tr(msg::cli_case_findings, {std::to_string(told.warnings.size())})
          << "\n";
  return 1;
}

namespace {

// `audit verify --json` (docs/AUDIT.md): the summary's figures and every
// finding; an anchor given holds when no finding is about it.
nlohmann::json verify_json(const audit::VerifyReport& report,
                           const std::optional<audit::Anchor>& anchor) {
  using nlohmann::json;
  json findings = json::array();
  bool anchor_holds = true;
  for (const auto& f : report.findings) {
    findings.push_back({{"kind", audit::to_string(f.kind)},
                        {"row", f.seq ? json(f.seq) : json()},
                        {"case", id_or_null(f.case_id)},
                        {"message", f.message}});
    if (f.kind == audit::FindingKind::kAnchorMissing ||
        f.kind == audit::FindingKind::kAnchorMismatch ||
        f.kind == audit::FindingKind::kAnchorTruncated)
      anchor_holds = false;
  }
  json out = {
      {"clean", report.clean()},
      {"rows", report.rows},
      {"head", audit::format_anchor(report.head)},
      {"cases", report.cases},
      {"steps", report.steps},
      {"unverifiable_steps", report.unverifiable_steps},
      {"findings", findings},
      {"anchor",
       anchor ? json{{"anchor", audit::format_anchor(*anchor)}, {"holds", anchor_holds}} : json()}};
  if (!report.site_copy.empty())
    out["site_copy"] = {{"site", report.site_copy},
                        {"proven_checkpoint", report.proven_checkpoint},
                        {"checkpoints_elsewhere", report.checkpoints_elsewhere}};
  else
    out["site_copy"] = nullptr;
  return out;
}

}  // namespace

int run_audit_verify(Context& ctx, Args& a) {
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  // The whole log: a server session row-level security keeps to some sites
  // would miss chains and report them as broken.
  if (!store->session_identity().sees_every_site)
    throw refused(tr(msg::cli_verify_every_site, {store->session_identity().login}));
  require_every_site(reader, "audit verify");
  const bool locked = unlock_for_replay(ctx, reader);
  audit::VerifyOptions options;
  if (!a.anchor.empty()) options.anchor = audit::parse_anchor(a.anchor);
  const bool bar = &ctx.err == &std::cerr && ::isatty(STDERR_FILENO);
  audit::ProgressFn progress;
  if (bar) {
    progress = [&](const audit::VerifyProgress& p) {
      const int64_t percent = p.total > 0 ? std::min<int64_t>(100, p.done * 100 / p.total) : 0;
      const bool chain = p.phase == audit::VerifyPhase::kChain;
      ctx.err << "\r" << tr(chain ? msg::cli_verify_phase_chain : msg::cli_verify_phase_replay)
              << ": " << p.done << (p.total ? "/" + std::to_string(p.total) : "") << " (" << percent
              << "%)   " << std::flush;
    };
  }
  const audit::VerifyReport report = audit::verify(*store, options, progress);
  if (bar) ctx.err << "\r" << std::string(60, ' ') << "\r";
  if (ctx.options.json) {
    ctx.out << verify_json(report, options.anchor).dump(2) << "\n";
    return report.clean() ? 0 : 1;
  }
  for (const auto& f : report.findings) {
    ctx.out << audit::to_string(f.kind);
    if (f.seq) ctx.out << " " << tr(msg::cli_verify_at_row, {std::to_string(f.seq)});
    if (!f.case_id.empty()) ctx.out << " " << tr(msg::cli_verify_of_case, {f.case_id});
    ctx.out << ": " << f.message << "\n";
  }
  const std::vector<std::string> figures = {
      counted(report.rows, msg::base_n_log_row, msg::base_n_log_rows),
      audit::format_anchor(report.head), counted(report.cases, msg::base_n_case, msg::base_n_cases),
      counted(report.steps, msg::base_n_step, msg::base_n_steps)};
  if (report.clean()) {
    ctx.out << tr(msg::cli_verify_clean, {figures[0], figures[1], figures[2], figures[3]});
  } else {
    ctx.out << tr(msg::cli_verify_findings, {counted(static_cast<int64_t>(report.findings.size()),
                                                     msg::base_n_finding, msg::base_n_findings),
                                             figures[0], figures[1], figures[2], figures[3]});
  }
  if (report.unverifiable_steps)
    ctx.out << " " << tr(msg::cli_verify_unverifiable, {std::to_string(report.unverifiable_steps)})
            << log_in_hint(reader, locked, report.unverifiable_steps);
  if (!report.site_copy.empty() && report.proven_checkpoint) {
    ctx.out << "; "
            << tr(msg::cli_verify_site_copy,
                  {report.site_copy, std::to_string(report.proven_checkpoint),
                   counted(report.checkpoints_elsewhere, msg::base_n_checkpoint,
                           msg::base_n_checkpoints)});
  }
  if (options.anchor) {
    ctx.out << "; " << tr(report.clean() ? msg::cli_verify_anchor_holds : msg::cli_verify_anchor_checked,
                          {std::to_string(options.anchor->seq)});
  }
  ctx.out << "\n";
  return report.clean() ? 0 : 1;
}

int run_audit_anchor(Context& ctx, Args&) {
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  const audit::Anchor a = audit::anchor(*store);
  if (a.seq == 0) throw not_found(tr(msg::cli_log_empty_anchor, {display_location(ctx.options.db)}));
  if (ctx.options.json) {
    ctx.out << nlohmann::json{{"anchor", audit::format_anchor(a)}, {"seq", a.seq}, {"root", a.hash}}
                   .dump(2)
            << "\n";
    return 0;
  }
  ctx.out << audit::format_anchor(a) << "\n";
  return 0;
}

int run_audit_replay(Context& ctx, Args& a) {
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  require_every_site(reader, "audit replay");
  ProcedurePtr proposed = load_procedure_or_refuse(a.sop);
  const bool locked = unlock_for_replay(ctx, reader);
  const audit::ReplayReport r = audit::replay_proposed(*store, *proposed);
  // A recorded step the proposal would refuse is a finding (exit 1, as
  // verify's); one it would only send elsewhere is what a new version may mean.
  const auto refused = std::count_if(r.differences.begin(), r.differences.end(),
                                     [](const audit::ReplayDifference& d) { return d.refused; });
  const int status = refused > 0 ? 1 : 0;
  if (ctx.options.json) {
    using nlohmann::json;
    json differences = json::array();
    for (const auto& d : r.differences)
      differences.push_back({{"case", d.case_id},
                             {"step", d.case_seq},
                             {"row", d.seq},
                             {"event", d.event},
                             {"recorded_to", d.recorded_to},
                             {"proposed_to", d.refused ? json() : json(d.proposed_to)},
                             {"refused", d.refused},
                             {"message", d.message}});
    ctx.out << json{{"sop", r.sop_id},
                    {"file", a.sop},
                    {"cases", r.cases},
                    {"steps", r.steps},
                    {"unverifiable_steps", r.unverifiable_steps},
                    {"refused_steps", refused},
                    {"differences", differences}}
                   .dump(2)
            << "\n";
    return status;
  }
  for (const auto& d : r.differences) {
    ctx.out << tr(msg::cli_replay_step, {d.case_id, std::to_string(d.case_seq), std::to_string(d.seq), d.event})
            << ": ";
    if (d.refused) {
      ctx.out << tr(msg::cli_refused_prefix) << ": " << d.message << "\n";
    } else {
      ctx.out << d.message << "\n";
    }
  }
  ctx.out << tr(msg::cli_replay_summary, {std::to_string(r.cases), r.sop_id, std::to_string(r.steps), a.sop,
                                          std::to_string(r.differences.size())});
  if (!r.differences.empty())
    ctx.out << " "
            << tr(msg::cli_replay_refused,
                  {std::to_string(refused), std::to_string(r.differences.size() - refused)});
  if (r.unverifiable_steps)
    ctx.out << " " << tr(msg::cli_replay_unverifiable, {std::to_string(r.unverifiable_steps)})
            << log_in_hint(reader, locked, r.unverifiable_steps);
  ctx.out << "\n";
  return status;
}

int run_audit_report(Context& ctx, Args& a) {
  refuse_json(ctx, msg::cli_audit_report_json, "audit report");
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  audit::ReportOptions options;
  options.sites = reader_sites(reader);
  options.now = now();
  if (!a.sop.empty()) {
    require_procedure(*store, a.sop);
    options.sop_id = a.sop;
  }
  options.draw_svg = dot_to_svg;
  if (a.html.empty()) return left_out(ctx, audit::report_text(*store, options, ctx.out));
  create_private_file(a.html);
  std::ofstream file(a.html, std::ios::binary | std::ios::trunc);
  if (!file) throw storage_error(tr(msg::cli_cannot_write, {a.html}));
  const audit::UnreadRows unread = audit::report_html(*store, options, file);
  file.close();
  if (!file) throw storage_error(tr(msg::cli_cannot_write, {a.html}));
  ctx.out << tr(msg::cli_wrote, {a.html}) << "\n";
  return left_out(ctx, unread);
}

// audit export --format htcds: records of a case data standard.
void def_audit_export(CLI::App& app, Args& a) {
  app.add_option("--format", a.format, tr(msg::cli_opt_export_standard))->required();
  app.add_option("--sop", a.sop, tr(msg::cli_opt_export_sop));
  app.add_flag("--csv", a.csv, tr(msg::cli_opt_export_csv));
  app.add_option("--output", a.output, tr(msg::cli_opt_output));
  app.add_flag("--reveal", a.reveal, tr(msg::cli_opt_reveal));
  app.add_option("--reason", a.reason, tr(msg::cli_opt_reveal_reason));
}

int run_audit_export(Context& ctx, Args& a) {
  // Every option is checked before the database is opened: a bad one
  // writes nothing, not even an access row.
  audit::check_export_standard(a.format);
  if (a.csv && ctx.options.json) throw usage_error(tr(msg::cli_export_csv_and_json));
  std::string kind = a.csv ? "csv" : ctx.options.json ? "json" : "";
  if (kind.empty() && !a.output.empty()) {
    const size_t dot = a.output.rfind('.');
    if (dot == std::string::npos || a.output.find('/', dot) != std::string::npos)
      throw usage_error(tr(msg::cli_export_no_extension, {a.output}));
    kind = a.output.substr(dot + 1);
  }
  audit::HtcdsOptions options;
  options.format = audit::parse_file_format(kind.empty() ? "csv" : kind);
  if (!a.sop.empty()) options.sop_id = a.sop;
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  require_every_site(reader, "audit export");
  if (!a.reveal && !a.reason.empty()) throw usage_error(tr(msg::cli_reason_needs_reveal));
  std::unique_ptr<Reveal> reveal;
  if (a.reveal) {
    reveal = prepare_reveal(ctx, *store, "audit export --format htcds --reveal", a);
    options.reveal = &reveal->access;
  }
  // The export writes nothing until it has worked everything out, so
  // standard output takes it directly; a file is made only once it has.
  if (a.output.empty()) {
    audit::export_htcds(*store, options, ctx.out);
    return 0;
  }
  std::stringstream text;
  const int64_t records = audit::export_htcds(*store, options, text);
  create_private_file(a.output);
  std::ofstream file(a.output, std::ios::binary | std::ios::trunc);
  if (!file) throw storage_error(tr(msg::cli_cannot_write, {a.output}));
  file << text.rdbuf();  // never empty: the header at least
  file.close();
  if (!file) throw storage_error(tr(msg::cli_cannot_write, {a.output}));
  ctx.out << tr(msg::cli_wrote_records, {a.output, std::to_string(records)}) << "\n";
  return 0;
}

// audit access: every recorded view of personal data.
void def_audit_access(CLI::App& app, Args& a) {
  app.add_option("--case", a.case_id, tr(msg::cli_opt_access_case));
  app.add_option("--actor", a.actor_filter, tr(msg::cli_opt_access_actor));
  app.add_option("--since", a.since, tr(msg::cli_opt_access_since));
  app.add_option("--until", a.until, tr(msg::cli_opt_access_until));
  app.add_flag("--csv", a.csv, tr(msg::cli_opt_access_csv));
}

namespace {

// CSV columns are ids, the same in every language (docs/CLI.md).
constexpr const char* kAccessCsvHeader = "id,at,actor,case_id,what,reason\r\n";

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int run_audit_access(Context& ctx, Args& a) {
  if (a.csv && ctx.options.json) throw usage_error(tr(msg::cli_export_csv_and_json));
  AccessFilter filter;
  filter.since = time_option("--since", a.since);
  filter.until = time_option("--until", a.until);
  Reader reader = open_read_only(ctx);
  auto& store = reader.store;
  if (!a.case_id.empty()) {
    auto id = normalize_case_id(a.case_id);
    if (!id || !store->case_exists(*id))
      throw not_found(tr(msg::cli_no_case_in, {a.case_id, display_location(ctx.options.db)}));
    if (reader.who) check_site_access(*store, *reader.who, *id);
    filter.case_ids.push_back(*id);
  }
  if (!a.actor_filter.empty()) {
    // Unknown staff: exit 3, with a suggestion; a deactivated member is a
    // fine filter.
    if (!store->staff(a.actor_filter)) acting_staff(*store, a.actor_filter);
    filter.actor = a.actor_filter;
  }
  std::vector<AccessRecord> records = store->access_records(filter);
  if (const auto sites = reader_sites(reader)) {
    // A reader held to some sites sees the views of their cases only.
    CaseFilter at_sites;
    at_sites.sites = sites;
    std::set<std::string> readable;
    for (const CaseRecord& c : store->cases(at_sites)) readable.insert(c.id);
    records.erase(std::remove_if(records.begin(), records.end(),
                                 [&](const AccessRecord& r) { return !readable.count(r.case_id); }),
                  records.end());
  }
  if (ctx.options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : records)
      list.push_back({{"id", r.id}, {"at", format_datetime(r.at)}, {"actor", r.actor}, {"case_id", r.case_id},
                      {"what", r.what}, {"reason", r.reason}});
    ctx.out << nlohmann::json{{"count", records.size()}, {"accesses", list}}.dump(2) << "\n";
    return 0;
  }
  if (a.csv) {
    ctx.out << kAccessCsvHeader;
    for (const auto& r : records)
      ctx.out << r.id << "," << format_datetime(r.at) << "," << csv_cell(r.actor) << "," << csv_cell(r.case_id)
              << "," << csv_cell(r.what) << "," << csv_cell(r.reason) << "\r\n";
    return 0;
  }
  if (records.empty()) {
    ctx.out << tr(msg::cli_no_accesses) << "\n";
    return 0;
  }
  Table table({tr(msg::cli_w_when), tr(msg::cli_w_actor), tr(msg::cli_w_case), tr(msg::cli_w_seen_through),
               tr(msg::cli_w_reason)});
  for (const auto& r : records) table.add({format_datetime(r.at), r.actor, r.case_id, r.what, r.reason});
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

}  // namespace sopir::cli

