// Context: the database opened on first use, logging beside it, the actor,
// and the shared little parsers every command uses.
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <cstdlib>
#include <ostream>

#include "cli.h"
#include "heap.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/key_file.h"
#include "sopir/messages/cli.h"

namespace sopir::cli {
namespace {

// Logging goes to <db>.log only, never stdout, and never holds field values.
void start_logging(const std::string& db) {
  const char* env = std::getenv("SOPIR_LOG");
  std::string level = env && *env ? env : "info";
  auto parsed = spdlog::level::from_str(level);
  if (level != "off" && parsed == spdlog::level::off) {
    throw usage_error(tr(msg::cli_sopir_log_value, {level}));
  }
  if (parsed == spdlog::level::off || db == ":memory:") {
    spdlog::set_level(spdlog::level::off);
    return;
  }
  try {
    auto logger = spdlog::get("sopir");
    if (!logger) {
      create_private_file(db + ".log");
      logger = spdlog::basic_logger_mt("sopir", db + ".log");
    }
    logger->set_level(parsed);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex&) {
    // A read-only directory must not stop staff from working; run unlogged.
    spdlog::set_level(spdlog::level::off);
  }
}

}  // namespace

bool file_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

void create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
}

Context::Context(Options opts, std::ostream& o, std::ostream& e)
    : options(std::move(opts)), out(o), err(e) {}
Context::~Context() = default;

Engine& Context::engine() {
  if (engine_) return *engine_;
  // What a command that opens a database uses of the heap: a `case
  // advance` on victim care peaks at about 630 KB. With the heap mapped at
  // once, SQLite's page cache (on that heap) reads the file faster than a
  // memory map of it, which took a page fault for each page first touched
  // (docs/PERFORMANCE.md, 2026-12-05b); read-only opens still map it.
  prefault_heap(768u << 10);
  const bool server = is_server_url(options.db);
  if (!server && options.db != ":memory:" && !file_exists(options.db)) {
    throw not_found(tr(msg::cli_no_database, {options.db}));
  }
  // A server database has no directory to log beside: its commands log
  // nothing (the log itself records every step).
  if (server) {
    spdlog::set_level(spdlog::level::off);
  } else {
    start_logging(options.db);
  }
  try {
    auto store = open_store(options.db, StoreOptions{});
    use_key_file(*store);
    engine_ = std::make_unique<Engine>(std::move(store));
    engine_->set_language(options.lang);
  } catch (const Error& e) {
    if (!server || e.kind() != ErrorKind::kNotFound) throw;
    throw not_found(tr(msg::cli_no_server_database, {e.message()}));
  }
  return *engine_;
}

std::string Context::use_key_file(Store& store) {
  if (!is_server_url(options.db) || options.key_file.empty()) return {};
  if (key_file_id_.empty()) key_file_id_ = load_key_file(options.key_file);
  check_key_file(store, options.key_file, key_file_id_);
  return key_file_id_;
}

const std::string& Context::actor_id() {
  if (!options.actor.empty() && logged_in_ == options.actor) return options.actor;
  // A server database authenticates its connections itself. Once an
  // administrator has a server login, the session's login names the actor
  // (--as may only repeat it); before that, --as names them as on a file
  // that needs no log-in.
  if (is_server_url(options.db)) {
    const SessionIdentity who = engine().session_identity();
    if (who.enforced) {
      if (who.staff_id.empty()) throw denied(tr(msg::cli_server_login_unmapped, {who.login}));
      if (!options.actor.empty() && options.actor != who.staff_id)
        throw denied(tr(msg::cli_server_as_other, {options.actor, who.login, who.staff_id}));
      options.actor = who.staff_id;
    }
    if (options.actor.empty()) throw usage_error(tr(msg::cli_who_is_acting));
    logged_in_ = options.actor;
    return options.actor;
  }
  if (options.actor.empty()) {
    throw usage_error(tr(msg::cli_who_is_acting));
  }
  Engine& e = engine();
  if (!e.login_required()) {
    // A database from before log-in, where no administrator has set a
    // passphrase yet: as before, the engine checks the actor per call.
    logged_in_ = options.actor;
    return options.actor;
  }
  try {
    e.actor(options.actor);
  } catch (const Error&) {
    // Unknown or deactivated: no passphrase is asked for; the engine
    // refuses every call by them with its own message (a batch, each row).
    return options.actor;
  }
  std::string passphrase = login_passphrase(options.actor);
  // After repeated failures every attempt waits, the right passphrase too.
  const int64_t wait = e.login_delay(options.actor);
  if (wait > 0) {
    spdlog::warn("log-in of {} delayed {} s after repeated failures", options.actor, wait);
    err << "sopir: " << tr(msg::cli_login_wait, {options.actor, std::to_string(wait)}) << std::endl;
    ::sleep(static_cast<unsigned>(wait));
  }
  try {
    e.log_in(options.actor, passphrase);
  } catch (const Error& failure) {
    wipe(passphrase);
    if (failure.kind() == ErrorKind::kDenied) spdlog::warn("log-in of {} refused", options.actor);
    throw;
  }
  wipe(passphrase);
  spdlog::info("log-in of {}", options.actor);
  logged_in_ = options.actor;
  return options.actor;
}

std::optional<DateTime> parse_at(const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto at = parse_datetime(text);
  if (!at) {
    throw usage_error(tr(msg::cli_at_value, {text}));
  }
  return at;
}

std::vector<std::pair<std::string, std::string>> parse_sets(const std::vector<std::string>& sets) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& s : sets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw usage_error(tr(msg::cli_set_form, {s}));
    }
    std::string field = s.substr(0, eq);
    // Given twice, one value would be dropped without a word: say so.
    for (const auto& given : out)
      if (given.first == field) throw usage_error(tr(msg::cli_set_twice, {field}));
    out.emplace_back(std::move(field), s.substr(eq + 1));
  }
  return out;
}

std::string case_arg(Context& ctx, const std::string& given) {
  std::string typed = given.empty() ? ctx.current_case : given;
  if (typed.empty()) {
    throw usage_error(tr(ctx.in_shell ? msg::cli_which_case_shell : msg::cli_which_case));
  }
  return typed;
}

std::string refusal_text(const Refusal& refusal, const std::string& case_id) {
  const std::string& text = refusal.message;
  const std::string the_case = case_id.empty() ? "CASE" : case_id;
  switch (refusal.kind) {
    case RefusalKind::kMissingField:
      return text + " " + tr(msg::cli_how_give_field);
    case RefusalKind::kReasonRequired:
      return text + " " + tr(msg::cli_how_give_reason);
    case RefusalKind::kRole:
    case RefusalKind::kGuard:
      return refusal.may_override ? text + " " + tr(msg::cli_how_override) : text;
    case RefusalKind::kClosed:
      return text + " " + tr(msg::cli_how_reopen, {the_case});
    case RefusalKind::kOnHold:
      return text + " " + tr(msg::cli_how_resume, {the_case});
    default:
      return text;
  }
}

std::string error_message(const Error& error) {
  auto* refusal = dynamic_cast<const RefusedError*>(&error);
  if (!refusal) return error.message();
  // The engine's message with the options that act on it.
  Refusal shown = refusal->refusal();
  shown.message = error.message();
  return refusal_text(shown, refusal->case_id());
}

std::string error_prefix(const Error& error) {
  return tr(error.kind() == ErrorKind::kRefused ? msg::cli_refused_prefix : msg::cli_error_prefix) + ": ";
}

std::string status_label(Context&, Status status) {
  switch (status) {
    case Status::kActive:
      return tr(msg::cli_status_active);
    case Status::kOnHold:
      return tr(msg::cli_status_on_hold);
    case Status::kClosed:
      return tr(msg::cli_status_closed);
  }
  return to_string(status);
}

}  // namespace sopir::cli
