// The sopir shell: `sopir` with no command on a terminal (or `sopir shell`).
//
// Interactive: libedit line editing, history beside the database, Tab
// completion of commands, options, case ids, field names and the events the
// acting staff member can fire now. An error never ends the session; Ctrl-D
// does. As a script (stdin not a terminal, or `sopir shell FILE`): lines run
// in order, nothing extra is echoed, and the first error stops the run with
// "FILE:LINE: ..." and that error's exit code. The loop follows the SQLite
// shell's process_input: count lines, count errors, dispatch through the
// command table.
#include <editline/readline.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "sopir/text.h"
#include "output.h"
#include "sopir/error.h"

namespace sopir::cli {
namespace {

// Splits a line like a POSIX shell would for simple cases: whitespace
// separates words; '...' and "..." quote; a backslash escapes the next
// character outside single quotes.
std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < line.size()) {
        word += line[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) throw usage_error(tr(msg::cli_shell_unclosed_quote, {std::string(1, quote)}));
  if (in_word) words.push_back(word);
  return words;
}

std::string base_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Sets the message language, and the engine's, to `lang`. A line's --lang
// holds for that line: run_line sets it after reading the line's options and
// sets the session's back when the line is done. After an error it stays
// until the next line, so that the error is printed in the line's language.
void use_language(Context& ctx, const std::string& lang) {
  if (message_language() == lang) return;
  set_message_language(lang);
  if (ctx.has_engine()) ctx.engine().set_language(lang);
}

// Runs one line. Shell-only words (as, use, exit) are handled here;
// everything else goes through the command table. Returns the exit code;
// throws sopir::Error.
int run_line(Context& ctx, const std::vector<std::string>& line_words, bool* quit) {
  use_language(ctx, ctx.options.lang);  // the session's, after a line that failed
  std::vector<std::string> words = line_words;
  if (words.empty()) return 0;
  if (words[0] == "sopir") words.erase(words.begin());
  if (words.empty()) return 0;
  if (words[0] == "exit" || words[0] == "quit") {
    *quit = true;
    return 0;
  }
  if (words[0] == "as") {
    if (words.size() != 2) throw usage_error(tr(msg::cli_shell_as_args));
    ctx.engine().actor(words[1]);  // unknown or inactive: refuse now, not later
    const std::string before = ctx.options.actor;
    ctx.options.actor = words[1];
    try {
      ctx.actor_id();  // logs in as them where the database needs it
    } catch (...) {
      ctx.options.actor = before;
      throw;
    }
    // A case in use that they may not read is put down, and they are told.
    if (!ctx.current_case.empty()) {
      try {
        check_site_access(ctx.engine().store(), ctx.engine().actor(ctx.options.actor),
                          ctx.current_case);
      } catch (const Error&) {
        ctx.err << "sopir: "
                << tr(msg::cli_shell_case_put_down, {ctx.current_case, ctx.options.actor}) << "\n";
        ctx.current_case.clear();
      }
    }
    return 0;
  }
  if (words[0] == "use") {
    if (words.size() == 1) {
      ctx.out << (ctx.current_case.empty() ? tr(msg::cli_shell_no_case_in_use) : ctx.current_case) << "\n";
      return 0;
    }
    if (words.size() != 2) throw usage_error(tr(msg::cli_shell_use_args));
    if (words[1] == "-") {
      ctx.current_case.clear();
      return 0;
    }
    const std::string id = ctx.engine().resolve_case_id(words[1], ctx.options.actor);
    // A staff member named uses only a case they may read (as `case show`).
    if (!ctx.options.actor.empty())
      check_site_access(ctx.engine().store(), ctx.engine().actor(ctx.actor_id()), id);
    ctx.current_case = id;
    return 0;
  }
  if (words[0] == "shell") throw usage_error(tr(msg::cli_shell_already));
  Options saved = ctx.options;
  Options line = ctx.options;
  extract_global_options(words, line);  // a bad option leaves the session's as they were
  ctx.options = line;
  use_language(ctx, ctx.options.lang);
  if (ctx.options.db != saved.db) ctx.close_engine();
  if (ctx.options.json) ctx.options.color = false;
  int code = 0;
  try {
    code = dispatch(ctx, words);
  } catch (...) {
    if (ctx.options.db != saved.db) ctx.close_engine();
    ctx.options = saved;
    throw;
  }
  if (ctx.options.db != saved.db) ctx.close_engine();
  ctx.options = saved;
  use_language(ctx, saved.lang);
  return code;
}

std::string error_text(const Error& e) {
  return error_prefix(e) + escape_for_display(error_message(e), true);
}

// --- script mode -----------------------------------------------------------

int run_script(Context& ctx, std::istream& in, const std::string& name) {
  std::string line;
  int line_number = 0;
  bool quit = false;
  while (!quit && std::getline(in, line)) {
    ++line_number;
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    try {
      int code = run_line(ctx, split_line(line), &quit);
      if (code != 0) {
        ctx.out.flush();
        ctx.err << name << ":" << line_number << ": " << tr(msg::cli_shell_command_failed, {std::to_string(code)})
                << "\n";
        return code;
      }
    } catch (const Error& e) {
      ctx.out.flush();
      ctx.err << name << ":" << line_number << ": " << error_text(e) << "\n";
      return exit_code(e.kind());
    }
  }
  return 0;
}

// The name of a script given on stdin: the file's path when stdin is a
// regular file (sopir < script.txt), else "<stdin>".
std::string stdin_name() {
  char target[PATH_MAX];
  ssize_t n = readlink("/proc/self/fd/0", target, sizeof target - 1);
  if (n <= 0) return "<stdin>";
  std::string path(target, static_cast<size_t>(n));
  if (path.empty() || path[0] != '/') return "<stdin>";
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof cwd)) {
    std::string dir = std::string(cwd) + "/";
    if (path.rfind(dir, 0) == 0) return path.substr(dir.size());
  }
  return path;
}

// --- completion ------------------------------------------------------------

Context* g_ctx = nullptr;
std::vector<std::string> g_matches;
// Case ids come back already matched to what was typed ("k7f" finds
// K7F-3QX): every one is a match, and it replaces the typed word.
bool g_matched = false;

char* next_match(const char* text, int state) {
  static size_t index;
  if (state == 0) index = 0;
  const size_t len = std::strlen(text);
  while (index < g_matches.size()) {
    const std::string& m = g_matches[index++];
    if (g_matched || m.compare(0, len, text) == 0) return strdup(m.c_str());
  }
  return nullptr;
}

std::vector<std::string> groups_and_shell_words() {
  std::vector<std::string> out = {"as", "use", "exit", "quit"};
  for (const Command& c : commands()) {
    std::string first = std::string(c.path).substr(0, std::string(c.path).find(' '));
    if (first == "shell") continue;
    if (std::find(out.begin(), out.end(), first) == out.end()) out.push_back(first);
  }
  return out;
}

std::vector<std::string> case_ids(Context& ctx, const std::string& prefix) {
  g_matched = true;
  return readable_case_ids(ctx, prefix, 200);
}

// Whether `word` names a case: `case advance OTHER-ID EVENT` with a case in use.
bool names_case(Context& ctx, const std::string& word) {
  auto id = normalize_case_id(word);
  return id && !ctx.engine().case_ids(*id, 1).empty();
}

// Events the actor can fire now on `typed_case`.
std::vector<std::string> possible_events(Context& ctx, const std::string& typed_case) {
  std::vector<std::string> out;
  // Only for someone logged in: completion reads the case as them.
  if (ctx.options.actor.empty() || !ctx.logged_in()) return out;
  CaseView view = ctx.engine().view(typed_case, ctx.options.actor);
  for (const auto& check : view.checks) {
    if (check.possible) out.push_back(check.event);
  }
  return out;
}

std::vector<std::string> fields_of(const Procedure& p) {
  std::vector<std::string> out;
  for (const auto& f : p.fields) out.push_back(f.id + "=");
  return out;
}

// Candidates for the word being typed, given the words before it.
std::vector<std::string> candidates(Context& ctx, std::vector<std::string> before,
                                    const std::string& text, bool* no_space) {
  if (!before.empty() && before[0] == "sopir") before.erase(before.begin());
  if (before.empty()) return groups_and_shell_words();
  const std::string& first = before[0];
  if (first == "use") return before.size() == 1 ? case_ids(ctx, text) : std::vector<std::string>{};
  if (first == "as") {
    std::vector<std::string> ids;
    for (const auto& m : ctx.engine().staff()) {
      if (m.active) ids.push_back(m.id);
    }
    return ids;
  }
  if (first == "help") {
    std::vector<std::string> out;
    for (const Command& c : commands()) out.push_back(std::string(c.path).substr(0, std::string(c.path).find(' ')));
    return out;
  }
  std::vector<std::string> subs;
  for (const Command& c : commands()) {
    std::string path = c.path;
    size_t space = path.find(' ');
    if (space != std::string::npos && path.substr(0, space) == first && !c.hidden) {
      subs.push_back(path.substr(space + 1));
    }
  }
  if (before.size() == 1 && !subs.empty()) return subs;
  std::string path = subs.empty() ? first : first + " " + before[1];
  const Command* command = find_command(path);
  if (!command) return {};
  const size_t consumed = subs.empty() ? 1 : 2;
  if (!text.empty() && text[0] == '-') {
    auto opts = command_options(*command);
    for (const char* g : {"--json", "--lang", "--as", "--db"}) opts.push_back(g);
    return opts;
  }
  std::vector<std::string> positional;
  bool after_set = false;
  for (size_t i = consumed; i < before.size(); ++i) {
    const std::string& w = before[i];
    if (w.rfind("--", 0) == 0) {
      // Options that take a value swallow the next word.
      bool flag = w == "--override" || w == "--overdue" || w == "--partial" || w == "--strict" ||
                  w == "--json" || w == "--man";
      if (!flag && w.find('=') == std::string::npos) ++i;
      after_set = false;
      if (i == before.size()) after_set = w == "--set";
      continue;
    }
    positional.push_back(w);
  }
  // The case a command is about, for field and event completion.
  std::string the_case = ctx.current_case;
  const bool takes_case = path == "case show" || path == "case why" || path == "case advance" ||
                          path == "case hold" || path == "case resume" || path == "case close" ||
                          path == "case reopen" || path == "case history";
  const bool two_words = path == "case advance" || path == "case why";
  // With a case in use the case may still be given: the first word then
  // names a case (`case advance OTHER-ID <Tab>`).
  const bool case_given =
      takes_case && !positional.empty() &&
      (the_case.empty() || positional.size() >= 2 || names_case(ctx, positional[0]));
  if (case_given) the_case = positional[0];
  if (before.back() == "--set") {
    *no_space = true;
    if (path == "case open" && !positional.empty()) {
      return fields_of(*ctx.engine().current_procedure(positional[0]));
    }
    if (!the_case.empty()) {
      CaseView view = ctx.engine().view(the_case, "");
      return fields_of(*view.procedure);
    }
    return {};
  }
  if (after_set) return {};
  if (path == "case open" && positional.empty()) {
    std::vector<std::string> sops;
    for (const auto& p : ctx.engine().procedures()) {
      if (p.current) sops.push_back(p.sop_id);
    }
    return sops;
  }
  if (takes_case) {
    // The case's slot: case ids; with a case in use, its events first.
    if (positional.empty() && (ctx.current_case.empty() || !text.empty())) {
      if (two_words && !ctx.current_case.empty()) {
        std::vector<std::string> events;
        for (auto& e : possible_events(ctx, the_case)) {
          if (e.compare(0, text.size(), text) == 0) events.push_back(std::move(e));
        }
        if (!events.empty()) return events;
      }
      return case_ids(ctx, text);
    }
    if (two_words) {
      const size_t event_slot = case_given ? 1 : 0;
      if (positional.size() == event_slot) return possible_events(ctx, the_case);
    }
  }
  return {};
}

char** complete(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;
  g_matches.clear();
  g_matched = false;
  bool no_space = false;
  try {
    std::vector<std::string> before = split_line(std::string(rl_line_buffer, static_cast<size_t>(start)));
    g_matches = candidates(*g_ctx, before, text, &no_space);
  } catch (const std::exception&) {
    g_matches.clear();  // completion must never break the line being typed
  }
  rl_completion_append_character = no_space ? '\0' : ' ';
  if (g_matches.empty()) return nullptr;
  return rl_completion_matches(text, next_match);
}

std::string prompt(const Context& ctx) {
  std::string p = "sopir " + base_name(display_location(ctx.options.db)) + " " +
                  (ctx.options.actor.empty() ? "-" : ctx.options.actor);
  if (!ctx.current_case.empty()) p += " " + ctx.current_case;
  return escape_for_display(p) + "> ";
}

int run_interactive(Context& ctx) {
  g_ctx = &ctx;
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"'";
  // Beside a database file; a server database has no directory of ours.
  const std::string history = is_server_url(ctx.options.db) ? "" : ctx.options.db + ".history";
  using_history();
  if (!history.empty()) read_history(history.c_str());
  ctx.out << tr(msg::cli_shell_banner) << "\n";
  // The session's one log-in, when it starts as someone (--as, SOPIR_ACTOR):
  // a session that cannot log in does not start.
  if (!ctx.options.actor.empty()) {
    try {
      ctx.actor_id();
    } catch (const Error& e) {
      ctx.err << error_text(e) << "\n";
      return exit_code(e.kind());
    }
  }
  int errors = 0;
  bool quit = false;
  while (!quit) {
    char* raw = readline(prompt(ctx).c_str());
    if (raw == nullptr) {
      ctx.out << "\n";
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.c_str());
    try {
      int code = run_line(ctx, split_line(line), &quit);
      if (code != 0) ++errors;
    } catch (const Error& e) {
      ++errors;
      ctx.out.flush();
      ctx.err << error_text(e) << "\n";
    } catch (const std::exception& e) {
      ++errors;
      ctx.err << tr(msg::cli_error_prefix) << ": " << e.what() << "\n";
    }
    ctx.out.flush();
  }
  if (!history.empty()) {
    create_private_file(history);
    write_history(history.c_str());
  }
  g_ctx = nullptr;
  return 0;
}

}  // namespace

int run_shell_loop(Context& ctx, const std::string& script_name) {
  ctx.in_shell = true;
  if (!script_name.empty()) {
    std::ifstream in(script_name);
    if (!in) throw not_found(tr(msg::cli_shell_cannot_read_script, {script_name}));
    return run_script(ctx, in, script_name);
  }
  if (isatty(STDIN_FILENO)) return run_interactive(ctx);
  return run_script(ctx, std::cin, stdin_name());
}

int run_shell(Context& ctx, Args& args) {
  if (ctx.in_shell) throw usage_error(tr(msg::cli_shell_already));
  if (args.positional.size() > 1) throw usage_error(tr(msg::cli_shell_one_script));
  return run_shell_loop(ctx, args.positional.empty() ? "" : args.positional[0]);
}

}  // namespace sopir::cli
