// The command table, each command's options, and dispatch through the
// table; help, the man page and the bash completion script are generated
// from the same table.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/messages/cli.h"
#include "sopir/value.h"

namespace sopir::cli {
namespace {

void def_none(CLI::App&, Args&) {}

void add_json_note(CLI::App& app) {
  app.footer(tr(msg::cli_help_footer));
}

void def_init(CLI::App& app, Args& a) {
  app.add_option("--admin", a.admin, tr(msg::cli_opt_init_admin));
  app.add_option("--name", a.name, tr(msg::cli_opt_init_name));
}
void def_staff_add(CLI::App& app, Args& a) {
  app.add_option("id", a.positional, tr(msg::cli_opt_staff_id))->required();
  app.add_option("--name", a.name, tr(msg::cli_opt_full_name))->required();
  app.add_option("--role", a.roles, tr(msg::cli_opt_roles))
      ->required()->delimiter(',');
  app.add_option("--login", a.login, tr(msg::cli_opt_staff_login));
  app.add_option("--site", a.sites, tr(msg::cli_opt_staff_sites))->delimiter(',');
}
void def_site_add(CLI::App& app, Args& a) {
  app.add_option("id", a.positional, tr(msg::cli_opt_site_id))->required();
  app.add_option("--name", a.name, tr(msg::cli_opt_site_name))->required();
}
void def_staff_site(CLI::App& app, Args& a) {
  app.add_option("args", a.positional, tr(msg::cli_opt_staff_site_args))->required()->expected(2);
  app.add_flag("--remove", a.remove, tr(msg::cli_opt_site_remove));
}
void def_case_transfer(CLI::App& app, Args& a) {
  app.add_option("case", a.positional, tr(msg::cli_opt_case))->required();
  app.add_option("--to", a.to_site, tr(msg::cli_opt_transfer_to))->required();
  app.add_option("--reason", a.reason, tr(msg::cli_opt_transfer_reason))->required();
  app.add_option("--note", a.note, tr(msg::cli_opt_note));
}
void def_staff_login(CLI::App& app, Args& a) {
  app.add_option("args", a.positional, tr(msg::cli_opt_id_login))->required()->expected(2);
}
void def_staff_role(CLI::App& app, Args& a) {
  app.add_option("args", a.positional, tr(msg::cli_opt_id_role))->required()->expected(2);
}
void def_one_id(CLI::App& app, Args& a) {
  app.add_option("id", a.positional, tr(msg::cli_opt_the_id));
}
void def_passwd(CLI::App& app, Args& a) {
  app.add_option("id", a.positional, tr(msg::cli_opt_staff_passwd_id));
}
void def_files(CLI::App& app, Args& a) {
  app.add_option("files", a.positional, tr(msg::cli_opt_sop_files))->required();
}
void def_validate(CLI::App& app, Args& a) {
  def_files(app, a);
  app.add_flag("--strict", a.strict, tr(msg::cli_opt_strict));
  app.add_option("--from", a.from_files, tr(msg::cli_opt_migrate_from));
}
void def_show_sop(CLI::App& app, Args& a) {
  app.add_option("file", a.positional, tr(msg::cli_opt_sop_file_or_id))
      ->required();
}
void def_diagram(CLI::App& app, Args& a) {
  def_show_sop(app, a);
  app.add_option("--format", a.format, tr(msg::cli_opt_diagram_format));
}
void def_case_open(CLI::App& app, Args& a) {
  app.add_option("sop", a.positional, tr(msg::cli_opt_published_sop))->required();
  app.add_option("--set", a.sets, tr(msg::cli_opt_set));
  app.add_option("--note", a.note, tr(msg::cli_opt_note));
  app.add_option("--at", a.at, tr(msg::cli_opt_at_example));
  app.add_option("--site", a.to_site, tr(msg::cli_opt_site_open));
}
void def_case_list(CLI::App& app, Args& a) {
  app.add_option("--site", a.to_site, tr(msg::cli_opt_site_list));
  app.add_option("--sop", a.sop, tr(msg::cli_opt_only_sop_cases));
  app.add_option("--state", a.state, tr(msg::cli_opt_only_state));
  app.add_option("--status", a.status, tr(msg::cli_opt_status));
  app.add_flag("--overdue", a.overdue, tr(msg::cli_opt_overdue));
  app.add_option("--due-within", a.due_within, tr(msg::cli_opt_due_within));
  app.add_option("--linked-to", a.linked_to, tr(msg::cli_opt_linked_to));
  app.add_option("--limit", a.limit, tr(msg::cli_opt_limit));
}
void def_case_id(CLI::App& app, Args& a) {
  app.add_option("case", a.positional, tr(msg::cli_opt_case));
}
void def_case_reveal(CLI::App& app, Args& a) {
  def_case_id(app, a);
  app.add_flag("--reveal", a.reveal, tr(msg::cli_opt_reveal_case));
  app.add_option("--reason", a.reason, tr(msg::cli_opt_reveal_reason));
}
void def_case_why(CLI::App& app, Args& a) {
  app.add_option("args", a.positional, tr(msg::cli_opt_why_args));
}
void def_case_advance(CLI::App& app, Args& a) {
  app.add_option("args", a.positional, tr(msg::cli_opt_advance_args));
  app.add_option("--set", a.sets, tr(msg::cli_opt_set));
  app.add_option("--note", a.note, tr(msg::cli_opt_note));
  app.add_option("--reason", a.reason, tr(msg::cli_opt_reason));
  app.add_option("--at", a.at, tr(msg::cli_opt_at));
  app.add_flag("--override", a.override, tr(msg::cli_opt_override));
  app.add_option("--batch", a.batch, tr(msg::cli_opt_batch));
  app.add_flag("--partial", a.partial, tr(msg::cli_opt_batch_partial));
}
void def_case_lifecycle(CLI::App& app, Args& a) {
  def_case_id(app, a);
  app.add_option("--reason", a.reason, tr(msg::cli_opt_why));
  app.add_option("--note", a.note, tr(msg::cli_opt_note));
  app.add_option("--at", a.at, tr(msg::cli_opt_at));
}
void def_case_import(CLI::App& app, Args& a) {
  app.add_option("file", a.positional, tr(msg::cli_opt_import_file))
      ->required();
  app.add_option("--sop", a.sop, tr(msg::cli_opt_import_sop))->required();
  app.add_flag("--partial", a.partial, tr(msg::cli_opt_import_partial));
}
void def_case_ids(CLI::App& app, Args& a) {
  app.add_option("--prefix", a.prefix, tr(msg::cli_opt_prefix));
}
void def_help(CLI::App& app, Args& a) {
  app.add_option("command", a.positional, tr(msg::cli_opt_help_command));
  app.add_flag("--man", a.man, tr(msg::cli_opt_man));
}
void def_completion(CLI::App& app, Args& a) {
  app.add_option("shell", a.positional, tr(msg::cli_opt_completion_shell))->required();
}
void def_shell(CLI::App& app, Args& a) {
  app.add_option("script", a.positional, tr(msg::cli_opt_script));
}

int run_advance_or_batch(Context& ctx, Args& a) {
  if (!a.batch.empty()) return run_advance_batch(ctx, a);
  if (a.partial) throw usage_error(tr(msg::cli_partial_needs_batch));
  return run_case_advance(ctx, a);
}

const std::vector<Command> kCommands = {
    {"init", &msg::cli_cmd_init, "init [--admin ID --name NAME]",
     "sopir --db shelter.db init --admin rina --name 'Rina Wulandari'", def_init, run_init, false,
     false},
    {"db copy", &msg::cli_cmd_db_copy, "db copy FROM TO [--site SITE | --into-site SITE]",
     "sopir --as rina --key-file /etc/sopir/national.key db copy shelter.db postgresql://rina@db.example/sopir",
     def_db_copy, run_db_copy, false, false},
    {"key new", &msg::cli_cmd_key_new, "key new FILE", "sopir key new /etc/sopir/national.key", def_key_new,
     run_key_new, false, false},
    {"key set", &msg::cli_cmd_key_set, "key set",
     "SOPIR_KEY_FILE=/etc/sopir/national.key sopir --as rina key set", def_none, run_key_set, true, false},
    {"key rotate", &msg::cli_cmd_key_rotate, "key rotate NEW_FILE",
     "sopir --as rina --key-file old.key key rotate /etc/sopir/national-2027.key", def_key_rotate, run_key_rotate,
     true, false},
    {"migrate plan", &msg::cli_cmd_migrate_plan, "migrate plan SOP --to VERSION [--format table|csv|json] [--output FILE]",
     "sopir migrate plan tppo-victim-care --to 3 --output tvc-v3.plan.json", def_migrate_plan, run_migrate_plan,
     true, false},
    {"migrate propose", &msg::cli_cmd_migrate_propose, "migrate propose PLANFILE",
     "sopir --as rina migrate propose tvc-v3.plan.json", def_migrate_propose, run_migrate_propose, true, false},
    {"migrate approve", &msg::cli_cmd_migrate_approve, "migrate approve HASH",
     "sopir --as dewi migrate approve 3f9a0c1e", def_migrate_approve, run_migrate_approve, true, false},
    {"migrate apply", &msg::cli_cmd_migrate_apply, "migrate apply PLANFILE [--batch-size N]",
     "sopir --as rina migrate apply tvc-v3.plan.json", def_migrate_apply, run_migrate_apply, true, false},
    {"migrate list", &msg::cli_cmd_migrate_list, "migrate list", "sopir migrate list", def_none, run_migrate_list,
     true, false},
    {"sop validate", &msg::cli_cmd_sop_validate, "sop validate FILE... [--strict] [--from OLDER_FILE...]",
     "sopir sop validate workflows/*.yaml --strict", def_validate, run_sop_validate, false, false},
    {"sop show", &msg::cli_cmd_sop_show, "sop show FILE|SOP",
     "sopir sop show workflows/aid-distribution.yaml --lang id", def_show_sop, run_sop_show, false,
     false},
    {"sop diagram", &msg::cli_cmd_sop_diagram,
     "sop diagram FILE|SOP [--format mermaid|dot|svg]",
     "sopir sop diagram aid.yaml --format svg > aid.svg", def_diagram, run_sop_diagram, false,
     false},
    {"sop publish", &msg::cli_cmd_sop_publish, "sop publish FILE...",
     "sopir --as rina sop publish workflows/aid-handout.yaml workflows/aid-distribution.yaml", def_files, run_sop_publish,
     true, false},
    {"sop list", &msg::cli_cmd_sop_list, "sop list", "sopir sop list --json",
     def_none, run_sop_list, true, false},
    {"sop test", &msg::cli_cmd_sop_test,
     "sop test FILE... [--min-coverage N]",
     "sopir sop test workflows/*.test.yaml --min-coverage 100", define_sop_test, run_sop_test,
     false, false},
    {"sop paths", &msg::cli_cmd_sop_paths,
     "sop paths FILE [--as-tests]",
     "sopir sop paths workflows/aid-distribution.yaml --as-tests > aid.test.yaml",
     define_sop_paths, run_sop_paths, false, false},
    {"staff add", &msg::cli_cmd_staff_add, "staff add ID --name NAME --role R[,R...] [--login ROLE]",
     "sopir --as rina staff add budi --name 'Budi Santoso' --role case_worker", def_staff_add,
     run_staff_add, true, false},
    {"staff list", &msg::cli_cmd_staff_list, "staff list", "sopir staff list", def_none,
     run_staff_list, true, false},
    {"staff deactivate", &msg::cli_cmd_staff_deactivate, "staff deactivate ID",
     "sopir --as rina staff deactivate budi", def_one_id, run_staff_deactivate, true, false},
    {"staff grant", &msg::cli_cmd_staff_grant, "staff grant ID ROLE",
     "sopir --as rina staff grant budi supervisor", def_staff_role, run_staff_grant, true, false},
    {"staff revoke", &msg::cli_cmd_staff_revoke, "staff revoke ID ROLE",
     "sopir --as rina staff revoke budi supervisor", def_staff_role, run_staff_revoke, true, false},
    {"staff passwd", &msg::cli_cmd_staff_passwd, "staff passwd [ID]",
     "sopir --as rina staff passwd budi", def_passwd, run_staff_passwd, true, false},
    {"staff login", &msg::cli_cmd_staff_login, "staff login ID ROLE",
     "sopir --db postgresql://rina@db.example/sopir staff login budi budi", def_staff_login, run_staff_login, true,
     false},
    {"site add", &msg::cli_cmd_site_add, "site add ID --name NAME",
     "sopir --as rina site add nunukan --name 'Pos Debarkasi Nunukan'", def_site_add, run_site_add, true, false},
    {"site list", &msg::cli_cmd_site_list, "site list", "sopir site list", def_none, run_site_list, true, false},
    {"staff site", &msg::cli_cmd_staff_site, "staff site ID SITE [--remove]",
     "sopir --as rina staff site budi nunukan", def_staff_site, run_staff_site, true, false},
    {"case open", &msg::cli_cmd_case_open,
     "case open SOP [--set FIELD=VALUE ...] [--note TEXT] [--at TIME]",
     "sopir --as budi case open aid-distribution --set item=hygiene_kit --set quantity_requested=2",
     def_case_open, run_case_open, true, false},
    {"case list", &msg::cli_cmd_case_list,
     "case list [--sop ID] [--state S] [--status active|on_hold|closed] [--overdue] "
     "[--due-within 7d] [--linked-to CASE] [--limit N]",
     "sopir case list --overdue", def_case_list, run_case_list, true, false},
    {"case show", &msg::cli_cmd_case_show, "case show CASE [--reveal --reason TEXT]",
     "sopir --as budi case show K7F-3QX", def_case_reveal, run_case_show, true, false},
    {"case why", &msg::cli_cmd_case_why, "case why CASE [EVENT]",
     "sopir --as budi case why K7F-3QX approve", def_case_why, run_case_why, true, false},
    {"case advance", &msg::cli_cmd_case_advance,
     "case advance CASE EVENT [--set F=V ...] [--note T] [--reason T] [--at TIME] [--override]\n"
     "case advance --batch FILE.csv [--partial]",
     "sopir --as siti case advance K7F-3QX approve --set approved_quantity=2",
     def_case_advance, run_advance_or_batch, true, false},
    {"case hold", &msg::cli_cmd_case_hold, "case hold CASE --reason TEXT",
     "sopir --as siti case hold K7F-3QX --reason 'waiting for documents'", def_case_lifecycle,
     run_case_hold, true, false},
    {"case resume", &msg::cli_cmd_case_resume, "case resume CASE",
     "sopir --as siti case resume K7F-3QX", def_case_lifecycle, run_case_resume, true, false},
    {"case close", &msg::cli_cmd_case_close, "case close CASE --reason CLOSURE_REASON",
     "sopir --as siti case close K7F-3QX --reason needs_met", def_case_lifecycle, run_case_close,
     true, false},
    {"case reopen", &msg::cli_cmd_case_reopen, "case reopen CASE --reason TEXT",
     "sopir --as siti case reopen K7F-3QX --reason 'new request'", def_case_lifecycle,
     run_case_reopen, true, false},
    {"case erase", &msg::cli_cmd_case_erase, "case erase CASE --reason TEXT\ncase erase CASE --confirm",
     "sopir --as dewi case erase K7F-3QX --reason 'request of the person, form DP-12'", def_case_erase,
     run_case_erase, true, false},
    {"case transfer", &msg::cli_cmd_case_transfer, "case transfer CASE --to SITE --reason TEXT",
     "sopir --as budi case transfer K7F-3QX --to nunukan --reason 'survivor moved to Nunukan'", def_case_transfer,
     run_case_transfer, true, false},
    {"case history", &msg::cli_cmd_case_history, "case history CASE [--reveal --reason TEXT]",
     "sopir --as budi case history K7F-3QX", def_case_reveal, run_case_history, true, false},
    {"case export-personal", &msg::cli_cmd_case_export_personal,
     "case export-personal CASE --reason TEXT [--output FILE] [--format json|text]",
     "sopir --as rina case export-personal K7F-3QX --reason 'access request of 2026-12-01' --output k7f.json",
     def_case_export_personal, run_case_export_personal, true, false},
    {"case import", &msg::cli_cmd_case_import,
     "case import FILE.csv --sop SOP [--partial]",
     "sopir --as budi case import arrivals.csv --sop aid-distribution", def_case_import,
     run_case_import, true, false},
    {"case ids", &msg::cli_cmd_case_ids, "case ids [--prefix P]",
     "sopir case ids --prefix K7", def_case_ids, run_case_ids, true, true},
    {"todo", &msg::cli_cmd_todo, "todo [--limit N]",
     "sopir --as budi todo", def_todo, run_todo, true, false},
    {"tick", &msg::cli_cmd_tick, "tick", "sopir tick",
     def_none, run_tick, true, false},
    {"retention due", &msg::cli_cmd_retention_due, "retention due",
     "sopir retention due --json", def_retention_due, run_retention_due, true, false},
    {"retention apply", &msg::cli_cmd_retention_apply, "retention apply [--dry-run]",
     "sopir --as dewi retention apply --dry-run", def_retention_apply, run_retention_apply, true, false},
    {"checkpoint", &msg::cli_cmd_checkpoint,
     "checkpoint", "sopir --as rina checkpoint", def_none, run_checkpoint, true, false},
    {"audit log", &msg::cli_cmd_audit_log,
     "audit log [--case ID] [--sop ID] [--actor STAFF] [--event E] [--state S] [--kind K] "
     "[--since TIME] [--until TIME] [--format table|csv|jsonl] [--reveal --reason TEXT]",
     "sopir audit log --sop aid-distribution --format csv > log.csv", def_audit_log, run_audit_log,
     false, false},
    {"audit case", &msg::cli_cmd_audit_case,
     "audit case ID [--with-linked] [--format table|csv|jsonl] [--reveal --reason TEXT]", "sopir audit case K7F-3QX --with-linked",
     def_audit_case, run_audit_case, false, false},
    {"audit access", &msg::cli_cmd_audit_access,
     "audit access [--case CASE] [--actor STAFF] [--since TIME] [--until TIME] [--csv]",
     "sopir audit access --case K7F-3QX", def_audit_access, run_audit_access, false, false},
    {"audit verify", &msg::cli_cmd_audit_verify,
     "audit verify [--anchor SEQ:HASH]", "sopir audit verify --anchor 1523:3f1a...",
     def_audit_verify, run_audit_verify, false, false},
    {"audit anchor", &msg::cli_cmd_audit_anchor, "audit anchor",
     "sopir audit anchor", def_none, run_audit_anchor, false, false},
    {"audit replay", &msg::cli_cmd_audit_replay, "audit replay --sop FILE",
     "sopir audit replay --sop aid-v2.yaml", def_audit_replay, run_audit_replay, false, false},
    {"audit report", &msg::cli_cmd_audit_report,
     "audit report [--sop ID] [--html FILE]", "sopir audit report --html report.html",
     def_audit_report, run_audit_report, false, false},
    {"audit export", &msg::cli_cmd_audit_export,
     "audit export --format htcds [--sop ID] [--csv|--json] [--output FILE.csv|FILE.json] [--reveal --reason TEXT]",
     "sopir audit export --format htcds --sop tppo-victim-care --output cases.csv",
     def_audit_export, run_audit_export, false, false},
    {"help", &msg::cli_cmd_help, "help [COMMAND] [--man]", "sopir help case advance",
     def_help, run_help, false, false},
    {"completion", &msg::cli_cmd_completion, "completion bash",
     "sopir completion bash > /etc/bash_completion.d/sopir", def_completion, run_completion,
     false, false},
    {"shell", &msg::cli_cmd_shell, "shell [SCRIPT]",
     "sopir shell < morning.txt", def_shell, run_shell, false, false},
};

// A command's path split at spaces (without a stream each: every command
// process matches its words against the whole table).
std::vector<std::string> split_words(const std::string& path) {
  std::vector<std::string> words;
  size_t at = 0;
  while (at < path.size()) {
    const size_t start = path.find_first_not_of(' ', at);
    if (start == std::string::npos) break;
    const size_t end = std::min(path.find(' ', start), path.size());
    words.emplace_back(path, start, end - start);
    at = end;
  }
  return words;
}

std::unique_ptr<CLI::App> make_app(const Command& command, Args& args) {
  auto app = std::make_unique<CLI::App>(tr(*command.summary), std::string("sopir ") + command.path);
  // CLI11's own words in the message language: its headings and the help
  // flag (options take the group given before they are added).
  app->get_formatter()->label("Positionals", tr(msg::cli_help_positionals));
  app->get_formatter()->label("REQUIRED", tr(msg::cli_help_required));
  app->option_defaults()->group(tr(msg::cli_help_options));
  app->set_help_flag("-h,--help", tr(msg::cli_help_flag));
  app->allow_extras(true);
  command.define(*app, args);
  add_json_note(*app);
  return app;
}

std::vector<std::string> option_names(CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    for (const auto& s : opt->get_snames()) names.push_back("-" + s);
  }
  return names;
}

// The option or argument a CLI11 parse error names, read from its message
// ("--to is required", "files is required", "--min-coverage: 1 required N
// missing", "Could not convert: --strict = maybe"); nullptr when it names
// none of `app`'s.
const CLI::Option* option_of(const std::string& what, CLI::App& app) {
  std::vector<std::string> names;
  const size_t required = what.find(" is required");
  if (required != std::string::npos) names.push_back(what.substr(0, required));
  const size_t colon = what.find(':');
  if (colon != std::string::npos) names.push_back(what.substr(0, colon));
  const std::string convert = "Could not convert: ";
  if (what.rfind(convert, 0) == 0)
    names.push_back(what.substr(convert.size(), what.find(" = ") - convert.size()));
  for (const std::string& name : names) {
    if (const CLI::Option* opt = app.get_option_no_throw(name)) return opt;
  }
  return nullptr;
}

// How the command's usage writes what `opt` takes: its bare words for the
// positional arguments ("FILE...", "FROM TO"), the word after an option's
// name for its value ("VERSION" after "--to"); `fallback` when it says none.
std::string usage_words(const Command& command, const CLI::Option& opt,
                        const std::string& fallback) {
  std::string usage = command.usage;
  usage = usage.substr(0, usage.find('\n'));
  std::vector<std::string> words = split_words(usage);
  const size_t path_words = std::min(words.size(), split_words(command.path).size());
  words.erase(words.begin(), words.begin() + static_cast<long>(path_words));
  std::string shown;
  if (opt.get_positional()) {
    for (const std::string& w : words) {
      if (w[0] == '[' || w[0] == '-') break;
      shown += (shown.empty() ? "" : " ") + w;
    }
  } else {
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i].substr(words[i][0] == '[' ? 1 : 0) != "--" + opt.get_single_name()) continue;
      shown = words[i + 1];
      if (shown.back() == ']' && shown.find('[') == std::string::npos) shown.pop_back();
      break;
    }
  }
  return shown.empty() ? fallback : shown;
}

// A CLI11 parse error in sopir's words, in the message language: what the
// command needs and was not given, an option given without its value or a
// flag given one, then what it takes ("  --to VERSION: the published
// version ..."); CLI11's own sentence only for kinds this table never meets.
std::string parse_error_text(const CLI::ParseError& e, CLI::App& app, const Command& command) {
  const std::string what = e.what();
  const CLI::Option* opt = option_of(what, app);
  if (opt == nullptr) return tr(msg::cli_parse_error, {command.path, what});
  const std::string name = opt->get_positional() ? std::string() : "--" + opt->get_single_name();
  if (dynamic_cast<const CLI::ConversionError*>(&e) && opt->get_expected_max() == 0) {
    const size_t equals = what.find(" = ");
    return tr(msg::cli_parse_flag_value,
              {name, equals == std::string::npos ? "" : what.substr(equals + 3)});
  }
  std::string takes;  // as the usage writes it: "FILE...", "--to VERSION"
  std::string sentence;
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && !opt->get_positional()) {
    const std::string type = opt->get_type_name();
    takes = name + " " + usage_words(command, *opt, type.empty() ? "VALUE" : type);
    sentence = tr(msg::cli_parse_no_value, {name});
  } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) ||
             dynamic_cast<const CLI::RequiredError*>(&e)) {
    const std::string words =
        usage_words(command, *opt, opt->get_positional() ? opt->get_name() : "");
    takes = name.empty() ? words : words.empty() ? name : name + " " + words;
    sentence = tr(msg::cli_parse_missing, {command.path, takes});
  } else {
    return tr(msg::cli_parse_error, {command.path, what});
  }
  const std::string& description = opt->get_description();
  if (!description.empty() && description != takes) sentence += "\n  " + takes + ": " + description;
  return sentence;
}

// Parses `words` into `args`; unknown options get a "did you mean".
// Returns false when help was asked for (and printed).
bool parse_args(Context& ctx, const Command& command, std::vector<std::string> words, Args& args) {
  auto app = make_app(command, args);
  std::reverse(words.begin(), words.end());
  try {
    app->parse(words);
  } catch (const CLI::CallForHelp&) {
    ctx.out << command_help(command);
    return false;
  } catch (const CLI::ParseError& e) {
    throw usage_error(parse_error_text(e, *app, command) + "\n" +
                      tr(msg::cli_usage_line, {command.usage}) + "\n" +
                      tr(msg::cli_see_help, {command.path}));
  }
  for (const std::string& extra : app->remaining()) {
    if (!extra.empty() && extra[0] == '-') {
      std::string message = tr(msg::cli_unknown_option, {extra, command.path});
      std::string name = extra.substr(0, extra.find('='));
      message += did_you_mean(name, option_names(*app), "");
      message += "\n" + tr(msg::cli_usage_line, {command.usage});
      throw usage_error(message);
    }
    throw usage_error(tr(msg::cli_unexpected_argument, {extra, command.path}) + "\n" +
                      tr(msg::cli_usage_line, {command.usage}));
  }
  return true;
}

bool is_help_flag(const std::string& word) { return word == "--help" || word == "-h"; }

// The commands of a group ("case", "audit"), or false when no command
// starts with `group`.
bool print_group_help(Context& ctx, const std::string& group) {
  Table table({tr(msg::cli_w_command), tr(msg::cli_w_what_it_does)});
  for (const Command& c : kCommands) {
    const auto path = split_words(c.path);
    if (!c.hidden && path.size() > 1 && path[0] == group) table.add({c.path, tr(*c.summary)});
  }
  if (table.empty()) return false;
  ctx.out << tr(msg::cli_usage_line, {group + " COMMAND ..."}) << "\n\n";
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  ctx.out << "\n" << tr(msg::cli_group_help_hint, {group}) << "\n";
  return true;
}

}  // namespace

const std::vector<Command>& commands() { return kCommands; }

const Command* find_command(const std::string& path) {
  for (const Command& c : kCommands) {
    if (path == c.path) return &c;
  }
  return nullptr;
}

std::vector<std::string> command_options(const Command& command) {
  Args args;
  auto app = make_app(command, args);
  std::vector<std::string> names;
  for (const std::string& n : option_names(*app)) {
    if (n.rfind("--", 0) == 0) names.push_back(n);
  }
  return names;
}

std::string command_help(const Command& command) {
  Args args;
  auto app = make_app(command, args);
  std::ostringstream out;
  out << tr(msg::cli_usage_line, {command.usage}) << "\n\n" << tr(*command.summary) << "\n\n";
  std::string formatted = app->help();
  // CLI11's help starts with the description and a Usage line we already gave.
  size_t options = formatted.find(tr(msg::cli_help_positionals) + ":");
  if (options == std::string::npos) options = formatted.find(tr(msg::cli_help_options) + ":");
  if (options != std::string::npos) out << formatted.substr(options);
  out << "\n" << tr(msg::cli_help_example) << ":\n  " << command.example << "\n";
  return out.str();
}

int dispatch(Context& ctx, std::vector<std::string> words) {
  if (words.empty()) throw usage_error(tr(msg::cli_no_command));
  if (is_help_flag(words[0])) {
    Args args;
    return run_help(ctx, args);
  }
  // Longest table path matching the leading words.
  const Command* best = nullptr;
  size_t best_len = 0;
  for (const Command& c : kCommands) {
    auto path = split_words(c.path);
    if (path.size() > words.size() || path.size() <= best_len) continue;
    if (std::equal(path.begin(), path.end(), words.begin())) {
      best = &c;
      best_len = path.size();
    }
  }
  if (best == nullptr) {
    // `sopir case --help`: the group's commands.
    if (words.size() == 2 && is_help_flag(words[1]) && print_group_help(ctx, words[0])) return 0;
    std::vector<std::string> groups, subs;
    for (const Command& c : kCommands) {
      if (c.hidden) continue;
      auto path = split_words(c.path);
      groups.push_back(path[0]);
      if (path.size() > 1 && path[0] == words[0]) subs.push_back(path[1]);
    }
    if (!subs.empty()) {
      std::string what = words.size() > 1 ? tr(msg::cli_unknown_command, {words[0] + " " + words[1]})
                                          : tr(msg::cli_needs_subcommand, {words[0]});
      if (words.size() > 1) {
        if (auto near = nearest(words[1], subs)) what += tr(msg::cli_did_you_mean, {words[0] + " " + *near});
      }
      throw usage_error(what + "\n" + tr(msg::cli_group_commands, {words[0], join(subs)}));
    }
    std::string what = tr(msg::cli_unknown_command, {words[0]});
    what += did_you_mean(words[0], groups, "`");
    throw usage_error(what + "\n" + tr(msg::cli_help_lists_commands));
  }
  words.erase(words.begin(), words.begin() + static_cast<long>(best_len));
  Args args;
  if (!parse_args(ctx, *best, words, args)) return 0;
  // An actor named (--as, SOPIR_ACTOR) must be staff, reads included, with
  // the engine's message. Batch commands refuse each row with it instead.
  const std::string path = best->path;
  const bool checks_per_row = path == "case import" || (path == "case advance" && !args.batch.empty());
  if (best->needs_db && !ctx.options.actor.empty() && !checks_per_row) {
    ctx.engine().actor(ctx.options.actor);
    // A completion helper (hidden) never asks for a passphrase: bash runs
    // it while one types; without a passphrase file it reads as a reader not
    // logged in (readable_case_ids offers such a reader nothing).
    const bool would_ask =
        !is_server_url(ctx.options.db) && ctx.engine().login_required() && !passphrase_at_hand();
    if (!(best->hidden && would_ask))
      ctx.actor_id();  // logs in where the database needs it (Context::actor_id)
  } else if (best->needs_db && ctx.options.actor.empty() && is_server_url(ctx.options.db) &&
             ctx.engine().session_identity().enforced) {
    ctx.actor_id();  // the server names the actor: the member its session is logged in as
  }
  return best->run(ctx, args);
}

std::string locale_language() {
  // POSIX: the first of LC_ALL, LC_MESSAGES and LANG that is set and not
  // empty names the locale of messages.
  for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return language_from_locale(value);
  }
  return "en";
}

void extract_global_options(std::vector<std::string>& words, Options& options) {
  std::vector<std::string> rest;
  bool lang_given = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto take = [&](const std::string& name, std::string& into) {
      if (w == name) {
        if (i + 1 >= words.size()) throw usage_error(tr(msg::cli_option_needs_value, {name}));
        into = words[++i];
        return true;
      }
      if (w.rfind(name + "=", 0) == 0) {
        into = w.substr(name.size() + 1);
        return true;
      }
      return false;
    };
    if (w == "--") {
      rest.insert(rest.end(), words.begin() + static_cast<long>(i), words.end());
      break;
    }
    if (take("--lang", options.lang)) {
      lang_given = true;
      continue;
    }
    if (take("--db", options.db) || take("--as", options.actor) || take("--key-file", options.key_file)) continue;
    if (w == "--json") {
      options.json = true;
      continue;
    }
    rest.push_back(w);
  }
  words = rest;
  if (lang_given && options.lang != "id" && options.lang != "en") {
    throw usage_error(tr(msg::cli_lang_value, {options.lang}));
  }
}

void finish_options(Options& options) {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  if (options.db.empty()) options.db = env("SOPIR_DB");
  if (options.db.empty()) options.db = "sopir.db";
  if (options.actor.empty()) options.actor = env("SOPIR_ACTOR");
  if (options.key_file.empty()) options.key_file = env("SOPIR_KEY_FILE");
  if (options.lang.empty()) options.lang = locale_language();
  set_message_language(options.lang);
  options.color = !options.json && want_color();
  options.width = terminal_width();
}

std::string man_page() {
  std::ostringstream m;
  auto esc = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '\\') out += "\\e";
      else if (c == '-') out += "\\-";
      else out += c;
    }
    if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
    return out;
  };
  m << ".TH SOPIR 1 \"\" \"sopir " SOPIR_VERSION "\" \"User Commands\"\n"
    << ".SH NAME\nsopir \\- run shelter standard operating procedures case by case\n"
    << ".SH SYNOPSIS\n.B sopir\n[\\-\\-db PATH] [\\-\\-as STAFF] [\\-\\-json] [\\-\\-lang id|en] "
       "COMMAND [ARGS...]\n.br\n.B sopir \\-\\-version\n"
    << ".SH DESCRIPTION\nsopir keeps cases moving through published SOPs and records every step "
       "in an append\\-only, hash\\-chained log. With no command on a terminal it starts an "
       "interactive shell.\n"
    << ".SH COMMANDS\n";
  for (const Command& c : kCommands) {
    if (c.hidden) continue;
    m << ".SS " << esc(c.path) << "\n" << esc(tr(*c.summary)) << ".\n.PP\n.B sopir " << esc(c.usage)
      << "\n";
    Args args;
    auto app = make_app(c, args);
    for (const CLI::Option* opt : app->get_options()) {
      if (opt->get_lnames().empty() || opt->get_lnames()[0] == "help") continue;
      m << ".TP\n.B \\-\\-" << esc(opt->get_lnames()[0]) << "\n" << esc(opt->get_description())
        << "\n";
    }
    m << ".PP\nExample:\n.nf\n" << esc(c.example) << "\n.fi\n";
  }
  m << ".SH GLOBAL OPTIONS\n"
    << ".TP\n.B \\-\\-db PATH\nthe database (else $SOPIR_DB, else ./sopir.db)\n"
    << ".TP\n.B \\-\\-as STAFF\nwho is acting (else $SOPIR_ACTOR)\n"
    << ".TP\n.B \\-\\-json\none JSON document on stdout\n"
    << ".TP\n.B \\-\\-lang id|en\nlanguage of labels (else from $LANG)\n"
    << ".SH EXIT STATUS\n0 done; 1 refused by the procedure's rules or invalid input; 2 usage "
       "error; 3 not found; 4 conflict; 5 storage problem; 6 log\\-in refused (a wrong or missing "
       "passphrase).\n"
    << ".SH ENVIRONMENT\nSOPIR_DB, SOPIR_ACTOR, SOPIR_PASSPHRASE_FILE (a file holding the acting staff "
       "member's passphrase, when there is no terminal), SOPIR_NEW_PASSPHRASE_FILE (a passphrase being set), "
       "SOPIR_KDF_COST (test: a cheap passphrase cost, for tests only), SOPIR_LOG (off|error|warn|info|debug), LANG, "
       "NO_COLOR, PAGER (for long listings on a terminal; default: less \\-FRX; empty: none).\n"
    << ".SH FILES\n"
    << ".TP\n" << esc(SOPIR_WORKFLOWS_DIR) << "\nthe shipped procedures and their scenario tests\n"
    << ".TP\n" << esc(SOPIR_STATE_DIR) << "/\\fINAME\\fP.db\na database the deadline timer "
       "sopir\\-tick@\\fINAME\\fP.timer serves (systemctl enable \\-\\-now "
       "sopir\\-tick@\\fINAME\\fP.timer); the timer runs \\fBsopir tick\\fP hourly as "
       "the user sopir\n";
  return m.str();
}

std::string bash_completion() {
  std::ostringstream s;
  std::vector<std::string> groups;
  s << "# bash completion for sopir (generated by `sopir completion bash`)\n"
    << "_sopir() {\n"
    << "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    << "  local words=() w i=1\n"
    << "  while [ $i -lt $COMP_CWORD ]; do w=${COMP_WORDS[i]}\n"
    << "    case $w in --db|--as|--lang) i=$((i+2)); continue;; -*) ;; *) words+=(\"$w\");; esac\n"
    << "    i=$((i+1)); done\n"
    << "  local cmd=\"${words[0]} ${words[1]}\" opts=\"\"\n"
    << "  case \"${words[0]}\" in\n";
  for (const Command& c : kCommands) {
    auto path = split_words(c.path);
    if (std::find(groups.begin(), groups.end(), path[0]) == groups.end()) groups.push_back(path[0]);
  }
  for (const std::string& g : groups) {
    std::string subs, cases;
    for (const Command& c : kCommands) {
      auto path = split_words(c.path);
      if (path[0] != g) continue;
      std::string opts;
      for (const auto& o : command_options(c)) opts += o + " ";
      if (path.size() > 1) {
        if (!c.hidden) subs += path[1] + " ";
        cases += "      " + path[1] + ") opts=\"" + opts + "\";;\n";
      } else {
        cases += "      *) opts=\"" + opts + "\";;\n";
      }
    }
    s << "    " << g << ")\n";
    if (!subs.empty()) {
      s << "      if [ ${#words[@]} -lt 2 ]; then COMPREPLY=($(compgen -W \"" << subs
        << "\" -- \"$cur\")); return; fi\n";
    }
    s << "      case \"${words[1]}\" in\n" << cases << "      esac;;\n";
  }
  std::string all;
  for (const auto& g : groups) all += g + " ";
  s << "    *) COMPREPLY=($(compgen -W \"" << all << "--db --as --key-file --json --lang\" -- \"$cur\")); return;;\n"
    << "  esac\n"
    << "  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts --json --db --as --key-file --lang --help\" -- \"$cur\")); return; fi\n"
    << "  case \"$cmd\" in\n"
    << "    \"case show\"|\"case why\"|\"case advance\"|\"case hold\"|\"case resume\"|\"case close\"|"
       "\"case reopen\"|\"case history\"|\"case erase\"|\"case transfer\")\n"
    << "      COMPREPLY=($(sopir case ids --prefix \"$cur\" 2>/dev/null));;\n"
    << "    *) COMPREPLY=($(compgen -f -- \"$cur\"));;\n"
    << "  esac\n"
    << "}\ncomplete -F _sopir sopir\n";
  return s.str();
}

int run_help(Context& ctx, Args& args) {
  if (args.man) {
    // The man page is English (it is generated at build time, whatever the
    // builder's locale).
    const std::string lang = message_language();
    set_message_language("en");
    ctx.out << man_page();
    set_message_language(lang);
    return 0;
  }
  if (!args.positional.empty()) {
    std::string path;
    for (const auto& w : args.positional) path += (path.empty() ? "" : " ") + w;
    if (const Command* c = find_command(path)) {
      ctx.out << command_help(*c);
      return 0;
    }
    if (args.positional.size() == 1 && print_group_help(ctx, path)) return 0;
    std::vector<std::string> names;
    for (const Command& c : kCommands) names.push_back(c.path);
    std::string message = tr(msg::cli_no_such_command, {path});
    message += did_you_mean(path, names, "`");
    throw usage_error(message + "\n" + tr(msg::cli_help_lists_commands));
  }
  Table table({tr(msg::cli_w_command), tr(msg::cli_w_what_it_does)});
  for (const Command& c : kCommands) {
    if (!c.hidden) table.add({c.path, tr(*c.summary)});
  }
  ctx.out << tr(msg::cli_usage_line, {"[--db PATH] [--as STAFF] [--key-file FILE] [--json] [--lang id|en] COMMAND ..."}) << "\n\n";
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  if (ctx.in_shell) ctx.out << "\n" << tr(msg::cli_help_shell_words) << "\n";
  ctx.out << "\n" << tr(msg::cli_help_tail) << "\n";
  return 0;
}

int run_completion(Context& ctx, Args& args) {
  if (args.positional[0] != "bash") {
    throw usage_error(tr(msg::cli_completion_shells, {args.positional[0]}));
  }
  ctx.out << bash_completion();
  return 0;
}

}  // namespace sopir::cli
