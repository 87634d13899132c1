// The sopir program's shared pieces: global options, the parsed arguments of
// one command, the per-invocation context, and the command table.
//
// Only src/ prints or exits. Command functions write to Context::out / err
// and report failure by throwing sopir::Error (its kind gives the exit code)
// or by returning a non-zero exit code after printing what went wrong.
#pragma once

#include <iosfwd>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sopir/engine.h"
#include "sopir/loader.h"
#include "sopir/messages/cli.h"

namespace CLI {
class App;
}

namespace sopir::cli {

// Options that apply to every command (ninja's BuildConfig/Options).
struct Options {
  std::string db;        // --db, else $SOPIR_DB, else ./sopir.db
  std::string actor;     // --as, else $SOPIR_ACTOR
  bool json = false;     // --json: one JSON document on stdout
  std::string lang;      // --lang id|en, else from the locale (locale_language)
  bool color = false;    // stdout is a terminal and NO_COLOR is unset
  int width = 100;       // terminal width for tables
  std::string key_file;  // --key-file, else $SOPIR_KEY_FILE (server databases, sopir/key_file.h)
};

// Everything any command can be given; each command's `define` binds the
// options it takes to these members.
struct Args {
  std::vector<std::string> positional;
  std::vector<std::string> sets;   // --set FIELD=VALUE
  std::vector<std::string> roles;  // --role
  std::string note, reason, at, sop, state, status, due_within, linked_to, format, name, admin,
      batch, prefix;
  bool strict = false, override = false, overdue = false, partial = false, man = false;
  std::string limit;  // --limit N (case list, todo), checked by listing_limit()
  // audit (cmd_audit.cc)
  std::string case_id, actor_filter, event, kind, since, until, anchor, html;
  bool reveal = false, with_linked = false;
  std::string output;  // audit export --output FILE
  bool csv = false;    // audit export --csv
  // sop test / sop paths (cmd_sop_scenarios.cc)
  std::optional<std::string> min_coverage;  // as typed, checked by run_sop_test
  bool as_tests = false;
  // case erase --confirm (cmd_erase.cc)
  bool confirm = false;
  // retention apply --dry-run (cmd_retention.cc)
  bool dry_run = false;
  // sop validate --from OLD.yaml (migrate: checked against older versions)
  std::vector<std::string> from_files;
  // migrate plan --to VERSION, migrate apply --batch-size N (cmd_migrate.cc)
  std::string to_version, batch_size;
  // staff add --login ROLE (a server login, cmd_admin.cc)
  std::string login;
  // sites: staff add --site, case open/list --site, staff site --remove,
  // case transfer --to (cmd_site.cc)
  std::vector<std::string> sites;
  std::string to_site;
  std::string into_site;  // db copy --into-site
  bool remove = false;
};

// Per-invocation state. In the shell one Context lives for the session.
class Context {
 public:
  Context(Options options, std::ostream& out, std::ostream& err);
  ~Context();

  Options options;
  std::ostream& out;
  std::ostream& err;
  std::string current_case;  // shell: `use CASE`
  bool in_shell = false;

  // Opens the database on first use (kNotFound with a hint to run `sopir
  // init` when it does not exist) and starts logging beside it.
  Engine& engine();
  bool has_engine() const { return engine_ != nullptr; }
  void close_engine() { engine_.reset(); }
  // Who is acting: the one place that decides it. Usage error when no one
  // was named (--as, SOPIR_ACTOR). On a database file that needs a log-in
  // (sopir/login.h) the staff member named logs in with their passphrase,
  // once per Context (once per shell session; again after `as OTHER`);
  // kDenied when refused. On a server database the server authenticated
  // the connection, and the actor is the one named (issue #13 will take it
  // from the server session here, and nowhere else).
  const std::string& actor_id();
  // actor_id() when someone is named (--as, SOPIR_ACTOR), else "": for a
  // pass that anyone may start (tick, retention due), which the engine
  // holds to the sites of whoever is named.
  std::string named_actor_id() { return options.actor.empty() ? std::string() : actor_id(); }
  // Whether the actor named has been through actor_id() in this Context.
  bool logged_in() const { return !logged_in_.empty() && logged_in_ == options.actor; }
  // On a server database with a key file named (--key-file,
  // SOPIR_KEY_FILE): loads it once (sopir/key_file.h) and checks it is
  // the one `store`'s database key is sealed under (kDenied otherwise).
  // Nothing on a database file. Returns the key file's id, "" when none.
  std::string use_key_file(Store& store);
  const std::string& key_file_id() const { return key_file_id_; }

 private:
  std::unique_ptr<Engine> engine_;
  std::string logged_in_;  // the actor authenticated in this Context, if any
  std::string key_file_id_;  // the key file loaded, if any
};

// --reveal's request (through `what`) with the reason given by --reason,
// or asked for on a terminal when none was given (empty when there is no
// terminal: the engine refuses, saying how to give one); nullopt without
// --reveal. Usage error for --reason without --reveal.
std::optional<RevealRequest> reveal_request(Context& ctx, const Args& a, const std::string& what);
// The reason for seeing personal data: --reason's text, else asked for on
// a terminal, else "".
std::string reveal_reason(Context& ctx, const Args& a);

// kRefused, naming `command`, for a reader held to some sites: `command`
// reads every site's cases.
void require_every_site(Store& store, const Actor& who, const char* command);

// Case ids starting with `prefix` (as typed), at most `limit`, of the
// sites `case list` reads (listed_sites: kUsage with no reader on a
// database of several sites); none for a reader not logged in yet (`case
// ids`, the shell's Tab completion).
std::vector<std::string> readable_case_ids(Context& ctx, const std::string& prefix, int64_t limit);

// Refuses (kUsage) a --state no published version of `sop` (of any
// procedure, when empty) has, naming those there are.
void check_listed_state(Store& store, const std::string& sop, const std::string& state);

using DefineFn = void (*)(CLI::App& app, Args& args);
using RunFn = int (*)(Context& ctx, Args& args);

struct Command {
  const char* path;     // "case open"
  const Message* summary;  // one line, from the catalogue (cli.def)
  const char* usage;    // "case open SOP [--set F=V ...]"
  const char* example;  // a runnable example
  DefineFn define;
  RunFn run;
  bool needs_db;
  bool hidden;  // helpers for completion scripts
};

// key (cmd_key.cc)
void def_key_new(CLI::App& app, Args& a);
int run_key_new(Context& ctx, Args& a);
int run_key_set(Context& ctx, Args& a);
void def_key_rotate(CLI::App& app, Args& a);
int run_key_rotate(Context& ctx, Args& a);

// migrate (cmd_migrate.cc)
void def_migrate_plan(CLI::App& app, Args& a);
int run_migrate_plan(Context& ctx, Args& a);
void def_migrate_propose(CLI::App& app, Args& a);
int run_migrate_propose(Context& ctx, Args& a);
void def_migrate_approve(CLI::App& app, Args& a);
int run_migrate_approve(Context& ctx, Args& a);
void def_migrate_apply(CLI::App& app, Args& a);
int run_migrate_apply(Context& ctx, Args& a);
int run_migrate_list(Context& ctx, Args& a);

// The one command table (commands.cc).
const std::vector<Command>& commands();
// Runs one command line (without the program name; global options already
// removed). Throws sopir::Error; returns the exit code otherwise.
int dispatch(Context& ctx, std::vector<std::string> words);

// Whether something exists at `path` (a file, a directory).
bool file_exists(const std::string& path);
// Creates `path` empty, readable and writable by its owner only (0600),
// when it does not exist yet, so a file sopir then writes (the log beside
// the database, shell history, an export) is private from the start; an
// existing file keeps its mode (the user may have chosen it). Quiet when it
// cannot be created: the writer that follows reports that.
void create_private_file(const std::string& path);

// Splits global options (--db, --as, --json, --lang) out of `words`.
void extract_global_options(std::vector<std::string>& words, Options& options);
// Fills defaults from the environment and the terminal, and sets the
// process's message language (--lang, else the locale).
void finish_options(Options& options);
// The message language of the locale: the first set of LC_ALL, LC_MESSAGES
// and LANG (as POSIX orders them), "id" for id_ID.UTF-8 and the like, else
// "en".
std::string locale_language();

// Passphrases (passphrase.cc).
// The acting staff member's passphrase: from the file named by
// $SOPIR_PASSPHRASE_FILE, else typed on the terminal (no echo); kDenied
// when there is neither, or the file cannot be read.
std::string login_passphrase(const std::string& staff_id);
// Whether login_passphrase() has a file to read (else it asks on a terminal).
bool passphrase_at_hand();
// A new passphrase for `staff_id`: from the file named by
// $SOPIR_NEW_PASSPHRASE_FILE (with `also_login_file`, else by
// $SOPIR_PASSPHRASE_FILE), else typed twice on the terminal; nullopt when
// there is no file and no terminal. kUsage when unreadable or the two
// typed differ.
std::optional<std::string> new_passphrase(const std::string& staff_id, bool also_login_file);
// The cost of passphrases set now: $SOPIR_KDF_COST=test for tests only
// (kUsage for another value), else the default.
KdfCost kdf_cost();
// Overwrites and empties a string that held a passphrase.
void wipe(std::string& secret);

// Command implementations (cmd_*.cc).
int run_init(Context&, Args&);
int run_tick(Context&, Args&);
int run_checkpoint(Context&, Args&);
int run_staff_add(Context&, Args&);
int run_staff_list(Context&, Args&);
int run_staff_deactivate(Context&, Args&);
int run_staff_grant(Context&, Args&);
int run_staff_revoke(Context&, Args&);
int run_staff_passwd(Context&, Args&);
int run_staff_login(Context&, Args&);
int run_db_copy(Context&, Args&);      // cmd_db.cc
void def_db_copy(CLI::App&, Args&);
int run_site_add(Context&, Args&);     // cmd_site.cc
int run_site_list(Context&, Args&);    // cmd_site.cc
int run_staff_site(Context&, Args&);   // cmd_site.cc
int run_case_transfer(Context&, Args&);  // cmd_site.cc
// The sites whose cases a list shows its reader (cmd_site.cc): the
// reader's (nullopt: every site, for national and auditor staff, or a
// database with one site read without --as), narrowed to `only` when
// given. kUsage when several sites and no reader; kRefused for a site the
// reader may not read.
std::optional<std::vector<std::string>> listed_sites(Context& ctx, const std::string& only);
// The sites a pass over the database (tick, retention due) is held to for
// the reader named with --as (sites_held_to); nullopt when none is named
// (on a server the session's login is held by row-level security).
std::optional<std::vector<std::string>> named_reader_sites(Context& ctx);
// Site ids joined for a message, or the word for none.
std::string sites_word(const std::vector<std::string>& sites);
int run_sop_validate(Context&, Args&);
int run_sop_show(Context&, Args&);
// sop show's migrate: sections (sop_show_migrate.cc): as a table per
// section (nothing when the procedure has none), and for --json.
void print_migrations(Context& ctx, const Procedure& p);
nlohmann::json migrations_json(const Procedure& p);
int run_sop_diagram(Context&, Args&);
int run_sop_publish(Context&, Args&);
int run_sop_list(Context&, Args&);
int run_sop_test(Context&, Args&);   // cmd_sop_scenarios.cc
int run_sop_paths(Context&, Args&);  // cmd_sop_scenarios.cc
void define_sop_test(CLI::App& app, Args& args);
void define_sop_paths(CLI::App& app, Args& args);
int run_case_open(Context&, Args&);
int run_case_list(Context&, Args&);
int run_case_show(Context&, Args&);
int run_case_why(Context&, Args&);
int run_case_advance(Context&, Args&);
int run_case_hold(Context&, Args&);
int run_case_resume(Context&, Args&);
int run_case_close(Context&, Args&);
int run_case_reopen(Context&, Args&);
int run_case_history(Context&, Args&);
void def_case_export_personal(CLI::App&, Args&);
int run_case_export_personal(Context&, Args&);
void def_audit_access(CLI::App&, Args&);
int run_audit_access(Context&, Args&);
int run_case_ids(Context&, Args&);
int run_case_import(Context&, Args&);
int run_case_erase(Context&, Args&);  // cmd_erase.cc
void def_case_erase(CLI::App&, Args&);
void def_retention_due(CLI::App&, Args&);  // cmd_retention.cc
int run_retention_due(Context&, Args&);
void def_retention_apply(CLI::App&, Args&);
int run_retention_apply(Context&, Args&);
int run_todo(Context&, Args&);  // cmd_todo.cc
void def_todo(CLI::App&, Args&);
int run_advance_batch(Context&, Args&);
int run_help(Context&, Args&);
int run_completion(Context&, Args&);
int run_shell(Context&, Args&);
// audit commands (cmd_audit.cc): their own option definitions and runners;
// they open the database read-only themselves (needs_db is false).
void def_audit_log(CLI::App&, Args&);
void def_audit_case(CLI::App&, Args&);
void def_audit_verify(CLI::App&, Args&);
void def_audit_replay(CLI::App&, Args&);
void def_audit_report(CLI::App&, Args&);
int run_audit_log(Context&, Args&);
int run_audit_case(Context&, Args&);
int run_audit_verify(Context&, Args&);
int run_audit_anchor(Context&, Args&);
int run_audit_replay(Context&, Args&);
int run_audit_report(Context&, Args&);
void def_audit_export(CLI::App&, Args&);
int run_audit_export(Context&, Args&);

// Help text of one command (its options from the table's define function).
std::string command_help(const Command& command);
std::string man_page();
std::string bash_completion();
// Options a command takes ("--set", "--note", ...), for completion.
std::vector<std::string> command_options(const Command& command);
const Command* find_command(const std::string& path);

// Shared helpers (util.cc).
std::optional<DateTime> parse_at(const std::string& text);  // usage error when bad
std::vector<std::pair<std::string, std::string>> parse_sets(const std::vector<std::string>& sets);
// The case a command is about, as typed: the given word, else the shell's
// current case (the engine resolves it, once).
std::string case_arg(Context& ctx, const std::string& given);
// A refusal's message and the options that act on it ("--set FIELD=VALUE",
// "--reason TEXT", ...): the engine's messages name none.
std::string refusal_text(const Refusal& refusal, const std::string& case_id);
// An error's message as printed (refusal_text for refusals).
std::string error_message(const Error& error);
// "refused: " for a refusal, else "error: " (in the message language).
std::string error_prefix(const Error& error);
std::string status_label(Context& ctx, Status status);
// The label of `event` as fired from `state` (first matching transition).
std::string event_label(const Procedure& p, int state, const std::string& event, const std::string& lang);

// The rows a listing shows: --limit N when given (0: all), else
// `kPageRows` for a table and all of them for --json.
constexpr int64_t kPageRows = 50;
int64_t listing_limit(const Context& ctx, const Args& args);
// "(12 more; show them with --limit 0, or narrow the list)\n" when rows
// were left out, else "".
std::string more_line(Context& ctx, int64_t more);
// Sends `text` to stdout through a pager ($PAGER, else `less -FRX`; an
// empty $PAGER means none) when stdout is a terminal and the text is taller
// than it; otherwise writes it to ctx.out (pager.cc).
void print_paged(Context& ctx, const std::string& text);

// The procedure in `file`, loaded with `options`; kRefused when it has
// errors: one message, "FILE: N error(s) in procedure:" and then each error
// located, for the CLI to print once (nothing printed here).
ProcedurePtr load_procedure_or_refuse(const std::string& file, const LoadOptions& options = {});

// Runs Graphviz (/usr/bin/dot -Tsvg) on dot text and returns the SVG;
// kUsage when it cannot be run (graphviz.cc).
std::string dot_to_svg(const std::string& dot);

// The shell (shell.cc): interactive when stdin is a terminal, else a script.
int run_shell_loop(Context& ctx, const std::string& script_name);

}  // namespace sopir::cli
