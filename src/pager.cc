// Long listings on a terminal go through a pager; to a pipe or a file they
// are written as they are.
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli.h"
#include "output.h"

namespace sopir::cli {
namespace {

int terminal_height() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
  return 24;
}

// The pager command, or "" for none.
std::string pager_command() {
  const char* pager = std::getenv("PAGER");
  if (pager == nullptr) return "less -FRX";
  return pager;
}

// Writes `text` into `command`'s stdin. False when the pager could not be
// started (the caller then prints the text itself).
bool run_pager(const std::string& command, const std::string& text) {
  std::cout.flush();
  FILE* pipe = ::popen(command.c_str(), "w");
  if (pipe == nullptr) return false;
  // Quitting the pager early closes the pipe: that is not an error.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &previous);
  std::fwrite(text.data(), 1, text.size(), pipe);
  const int status = ::pclose(pipe);
  sigaction(SIGPIPE, &previous, nullptr);
  // The shell says 127 when it cannot find the command.
  return !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
}

}  // namespace

int64_t listing_limit(const Context& ctx, const Args& args) {
  if (args.limit.empty()) return ctx.options.json ? 0 : kPageRows;
  const bool digits = args.limit.size() <= 9 &&
                      std::all_of(args.limit.begin(), args.limit.end(),
                                  [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) {
    throw usage_error(tr(msg::cli_limit_value, {args.limit}));
  }
  return std::stoll(args.limit);
}

std::string more_line(Context&, int64_t more) {
  if (more <= 0) return "";
  return tr(msg::cli_more_rows, {std::to_string(more)}) + "\n";
}

void print_paged(Context& ctx, const std::string& text) {
  const bool to_terminal = &ctx.out == &std::cout && stdout_is_terminal();
  if (to_terminal) {
    const long lines = std::count(text.begin(), text.end(), '\n');
    const std::string command = pager_command();
    if (!command.empty() && lines >= terminal_height() && run_pager(command, text)) return;
  }
  ctx.out << text;
}

}  // namespace sopir::cli
