// sopir: the command-line front end. Only this program prints and exits.
//
// real_main reads the global options, then dispatches through the command
// table (commands.cc). Errors end here: the message goes to stderr and the
// error's kind becomes the exit code (0 done, 1 refused, 2 usage,
// 3 not found, 4 conflict, 5 storage, 6 log-in refused).
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "cli.h"
#include "sanitizers.h"
#include "sopir/error.h"
#include "sopir/text.h"


namespace {

// Personal values are decrypted in this process's memory: it writes no core
// file (docs/PRIVACY.md "Files"), and, unless a sanitizer build needs to
// inspect itself, is not dumpable at all (no dump through a core_pattern
// pipe such as systemd-coredump, no ptrace by other processes of the user).
void keep_out_of_crash_dumps() {
  const rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
  // LeakSanitizer stops the process's threads with ptrace at exit, which a
  // process that is not dumpable refuses to users without CAP_SYS_PTRACE.
#if !defined(SOPIR_UNDER_ASAN)
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

// A one-shot command's procedures are left to the end of the process
// instead of freed one node at a time (a procedure is only memory: its
// destructor frees and does nothing else; victim care's took about 4% of a
// `case advance` process's instructions). The engine, the store (SQLite
// closes its database there) and any key material are still destroyed
// as before. Reachable through this pointer, so no leak checker reports it.
std::vector<sopir::ProcedurePtr>* kept_at_exit = nullptr;

void keep_procedures_to_exit(sopir::cli::Context& ctx) {
  if (!ctx.has_engine()) return;
  if (!kept_at_exit) kept_at_exit = new std::vector<sopir::ProcedurePtr>;
  for (auto& p : ctx.engine().cached_procedures()) kept_at_exit->push_back(std::move(p));
}

int real_main(int argc, char** argv) {
  using namespace sopir::cli;
  keep_out_of_crash_dumps();
  std::vector<std::string> words(argv + 1, argv + argc);
  Options options;
  // The locale's language first, so that a bad --lang (or any other error
  // before the options are read) is reported in it; --lang then overrides.
  sopir::set_message_language(locale_language());
  try {
    extract_global_options(words, options);
    finish_options(options);
  } catch (const sopir::Error& e) {
    std::cerr << "sopir: " << sopir::tr(sopir::msg::cli_error_prefix) << ": "
              << sopir::escape_for_display(e.message(), true) << "\n";
    return sopir::exit_code(e.kind());
  }
  if (words.size() == 1 && words[0] == "--version") {
    std::cout << "sopir " << SOPIR_VERSION << "\n";
    return 0;
  }
  Context ctx(options, std::cout, std::cerr);
  try {
    if (words.empty()) return run_shell_loop(ctx, "");
    const int code = dispatch(ctx, words);
    keep_procedures_to_exit(ctx);
    return code;
  } catch (const sopir::Error& e) {
    std::cout.flush();
    std::cerr << "sopir: " << error_prefix(e) << sopir::escape_for_display(error_message(e), true) << "\n";
    return sopir::exit_code(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "sopir: " << sopir::tr(sopir::msg::cli_error_prefix) << ": " << e.what() << "\n";
    return sopir::exit_code(sopir::ErrorKind::kStorage);
  }
}

}  // namespace

int main(int argc, char** argv) { return real_main(argc, argv); }
