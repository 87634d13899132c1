// `sopir case erase`: erasing a case's personal data in two steps by two
// data protection officers (Engine::request_erasure, confirm_erasure;
// docs/PRIVACY.md).
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "sopir/error.h"

namespace sopir::cli {

void def_case_erase(CLI::App& app, Args& a) {
  app.add_option("case", a.positional, tr(msg::cli_opt_case));
  app.add_option("--reason", a.reason, tr(msg::cli_opt_erase_reason));
  app.add_flag("--confirm", a.confirm, tr(msg::cli_opt_erase_confirm));
}

int run_case_erase(Context& ctx, Args& a) {
  if (a.positional.size() > 1) throw usage_error(tr(msg::cli_takes_one_case, {"case erase"}));
  if (a.confirm && !a.reason.empty()) throw usage_error(tr(msg::cli_erase_confirm_reason));
  const std::string actor = ctx.actor_id();
  const std::string typed = case_arg(ctx, a.positional.empty() ? "" : a.positional[0]);
  Engine& engine = ctx.engine();
  bool cleaned = true;
  const StepResult r = a.confirm ? engine.confirm_erasure(typed, actor, &cleaned)
                                 : engine.request_erasure(typed, actor, a.reason);
  spdlog::info("case {} {} by {}", r.after.id, r.entry.event, actor);
  if (ctx.options.json) {
    ctx.out << nlohmann::json{{"case", r.after.id},
                              {"event", r.entry.event},
                              {"kind", to_string(r.entry.kind)},
                              {"actor", actor},
                              {"seq", r.entry.seq},
                              {"case_seq", r.entry.case_seq},
                              {"wal_emptied", cleaned}}
                   .dump(2)
            << "\n";
    return 0;
  }
  if (a.confirm) {
    ctx.out << tr(msg::cli_erased, {r.after.id, std::to_string(r.entry.seq)}) << "\n";
    if (!cleaned) ctx.err << "sopir: " << tr(msg::cli_erase_wal_busy) << "\n";
  } else {
    ctx.out << tr(msg::cli_erase_requested, {r.after.id, std::to_string(r.entry.seq)}) << "\n";
  }
  return 0;
}

}  // namespace sopir::cli
