// Passphrases at the keyboard: read from the file an environment variable
// names, else typed on the terminal without echo; and the reason for seeing
// personal data, typed on the terminal when --reason is missing. The one
// place that decides who is acting (Context::actor_id) is in context.cc.
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli.h"
#include "sopir/error.h"
#include "sopir/login.h"

namespace sopir::cli {
namespace {

// Reads the passphrase from `path`: the whole file, one trailing newline
// (\n or \r\n) dropped. kDenied when it cannot be read (`denied_kind`) or
// is too long for any passphrase.
std::string read_file(const std::string& path, const char* variable, ErrorKind kind) {
  // As libpq does with ~/.pgpass: a passphrase others can read is no longer
  // a secret, and one others can write lets them choose it.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error(kind, tr(msg::cli_passphrase_file_open, {path, variable, mode}));
  }
  // A directory opens as a stream that reads nothing: it would be tried as
  // an empty passphrase (and counted as a failed log-in).
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error(kind,
                tr(msg::cli_passphrase_file_unreadable, {path, variable, std::strerror(EISDIR)}));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(kind, tr(msg::cli_passphrase_file_unreadable, {path, variable, std::strerror(errno)}));
  std::string text;
  char c;
  while (in.get(c)) {
    text += c;
    if (text.size() > kMaxPassphrase + 2) {
      wipe(text);
      throw Error(kind, tr(msg::cli_passphrase_file_long, {path, variable, std::to_string(kMaxPassphrase)}));
    }
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.size() > kMaxPassphrase) {
    wipe(text);
    throw Error(kind, tr(msg::cli_passphrase_file_long, {path, variable, std::to_string(kMaxPassphrase)}));
  }
  return text;
}

// Reads one line from the terminal on stdin with echo off, the prompt on
// stderr.
std::string read_terminal(const std::string& prompt, ErrorKind kind) {
  std::cerr << prompt << std::flush;
  termios old {};
  const bool have = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (have) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  while (::read(STDIN_FILENO, &c, 1) == 1 && c != '\n') {
    if (line.size() <= kMaxPassphrase) line += c;
  }
  if (have) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > kMaxPassphrase) {
    wipe(line);
    throw Error(kind, tr(msg::cli_passphrase_typed_long, {std::to_string(kMaxPassphrase)}));
  }
  return line;
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

void wipe(std::string& secret) {
  volatile char* p = secret.empty() ? nullptr : &secret[0];
  for (size_t i = 0; i < secret.size(); ++i) p[i] = 0;
  secret.clear();
}

bool passphrase_at_hand() { return env("SOPIR_PASSPHRASE_FILE") != nullptr; }

std::string login_passphrase(const std::string& staff_id) {
  if (const char* file = env("SOPIR_PASSPHRASE_FILE")) return read_file(file, "SOPIR_PASSPHRASE_FILE", ErrorKind::kDenied);
  if (!::isatty(STDIN_FILENO)) throw denied(tr(msg::cli_passphrase_needed, {staff_id}));
  return read_terminal(tr(msg::cli_passphrase_prompt, {staff_id}), ErrorKind::kDenied);
}

std::optional<std::string> new_passphrase(const std::string& staff_id, bool also_login_file) {
  if (const char* file = env("SOPIR_NEW_PASSPHRASE_FILE"))
    return read_file(file, "SOPIR_NEW_PASSPHRASE_FILE", ErrorKind::kUsage);
  if (also_login_file) {
    if (const char* file = env("SOPIR_PASSPHRASE_FILE")) return read_file(file, "SOPIR_PASSPHRASE_FILE", ErrorKind::kUsage);
  }
  if (!::isatty(STDIN_FILENO)) return std::nullopt;
  std::string first = read_terminal(tr(msg::cli_new_passphrase_prompt, {staff_id}), ErrorKind::kUsage);
  check_new_passphrase(first);
  std::string second = read_terminal(tr(msg::cli_new_passphrase_again), ErrorKind::kUsage);
  const bool same = first == second;
  wipe(second);
  if (!same) {
    wipe(first);
    throw usage_error(tr(msg::cli_passphrases_differ));
  }
  return first;
}

std::string reveal_reason(Context&, const Args& a) {
  if (!a.reason.empty() || !::isatty(STDIN_FILENO)) return a.reason;
  std::cerr << tr(msg::cli_reveal_reason_prompt) << std::flush;
  // Byte by byte from the descriptor, as the shell's line editor reads it,
  // so no buffer keeps what is typed after the reason.
  std::string line;
  char c;
  while (::read(STDIN_FILENO, &c, 1) == 1 && c != '\n') line += c;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::optional<RevealRequest> reveal_request(Context& ctx, const Args& a, const std::string& what) {
  if (!a.reveal) {
    if (!a.reason.empty()) throw usage_error(tr(msg::cli_reason_needs_reveal));
    return std::nullopt;
  }
  return RevealRequest{what, reveal_reason(ctx, a)};
}

KdfCost kdf_cost() {
  const char* cost = env("SOPIR_KDF_COST");
  if (!cost) return KdfCost::kDefault;
  if (std::string(cost) == "test") return KdfCost::kTest;
  throw usage_error(tr(msg::cli_kdf_cost_value, {cost}));
}

}  // namespace sopir::cli
