// sop test / sop paths: running a procedure's scenario tests with coverage,
// and listing the paths a case can take (or writing them as a starting
// scenario file). The work is done by engine/include/sopir/scenario.h; this
// file only formats it.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "sopir/messages/cli.h"
#include "sopir/scenario.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

std::string percent_text(double percent) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", percent);
  return buffer;
}

std::string step_label(const ScenarioResult& r) {
  const std::string line = std::to_string(r.step_line);
  if (r.at_end) return tr(msg::cli_test_at_end, {line});
  if (r.step == 0) return tr(msg::cli_test_step_open, {line});
  return tr(msg::cli_test_step, {std::to_string(r.step), line});
}

json transition_json(const Procedure& p, const Coverage::Item& item) {
  const TransitionDef& t = p.transitions[static_cast<size_t>(item.transition)];
  json from = json::array();
  for (int s : t.from) from.push_back(p.states[static_cast<size_t>(s)].id);
  json out = {{"event", p.events[static_cast<size_t>(t.event)]},
              {"from", from},
              {"to", p.to_id(t)},
              {"line", t.pos.line},
              {"fired", item.fired}};
  if (item.guarded) {
    out["when"] = t.guard_text;
    out["guard_true"] = item.guard_true;
    out["guard_false"] = item.guard_false;
  }
  return out;
}

json report_json(const ScenarioReport& report, double min_coverage) {
  json scenarios = json::array();
  for (const auto& r : report.results) {
    json s = {{"name", r.name}, {"line", r.line}, {"ok", r.passed}};
    if (!r.passed) {
      s["step"] = r.step;
      s["at_end"] = r.at_end;
      s["step_text"] = r.step_text;
      s["step_line"] = r.step_line;
      s["differences"] = r.differences;
    }
    scenarios.push_back(s);
  }
  const Procedure& p = *report.procedure;
  json transitions = json::array();
  for (const auto& item : report.coverage.transitions) transitions.push_back(transition_json(p, item));
  const Coverage& c = report.coverage;
  return {{"file", report.file},
          {"sop", p.id},
          {"ok", report.all_passed() && c.percent() >= min_coverage},
          {"passed", static_cast<int>(report.results.size()) - report.failed()},
          {"failed", report.failed()},
          {"scenarios", scenarios},
          {"coverage",
           {{"covered", c.covered}, {"total", c.total}, {"percent", c.percent()},
            {"transitions", transitions}}}};
}

void print_report(Context& ctx, const ScenarioReport& report, double min_coverage) {
  const bool color = ctx.options.color;
  std::ostream& out = ctx.out;
  out << paint(color, Tone::kBold, report.file) << " (" << report.procedure->id << ")\n";
  for (const auto& r : report.results) {
    if (r.passed) {
      out << "  " << paint(color, Tone::kGood, tr(msg::cli_test_ok)) << "  " << r.name << "\n";
      continue;
    }
    out << "  " << paint(color, Tone::kBad, tr(msg::cli_test_fail)) << "  " << r.name << " "
        << tr(msg::cli_test_line, {std::to_string(r.line)}) << "\n";
    out << "        " << step_label(r) << ": " << r.step_text << "\n";
    for (const auto& d : r.differences) out << "          " << d << "\n";
  }
  const int total = static_cast<int>(report.results.size());
  out << tr(msg::cli_test_counts, {std::to_string(total), std::to_string(total - report.failed()),
                                   std::to_string(report.failed())})
      << "\n";

  const Procedure& p = *report.procedure;
  const Coverage& c = report.coverage;
  out << tr(msg::cli_test_coverage, {std::to_string(c.covered), std::to_string(c.total), percent_text(c.percent())});
  // Coverage below the minimum is said once, on stderr, with the other failures.
  if (min_coverage > 0 && c.percent() >= min_coverage)
    out << tr(msg::cli_test_at_least, {percent_text(min_coverage)});
  out << "\n";
  bool heading = false;
  for (const auto& item : c.transitions) {
    if (item.fired) continue;
    if (!heading) out << "  " << tr(msg::cli_test_unfired) << "\n";
    heading = true;
    out << "    " << describe_transition(p, item.transition) << "\n";
  }
  heading = false;
  for (const auto& item : c.transitions) {
    if (!item.guarded || (item.guard_true && item.guard_false)) continue;
    if (!heading) out << "  " << tr(msg::cli_test_unseen_guards) << "\n";
    heading = true;
    const TransitionDef& t = p.transitions[static_cast<size_t>(item.transition)];
    const Message& missing = !item.guard_true && !item.guard_false
                                 ? msg::cli_test_guard_never_either
                                 : (item.guard_true ? msg::cli_test_guard_never_false : msg::cli_test_guard_never_true);
    out << "    " << describe_transition(p, item.transition) << ": " << tr(missing, {t.guard_text}) << "\n";
  }
}

}  // namespace

void define_sop_test(CLI::App& app, Args& a) {
  app.add_option("files", a.positional, tr(msg::cli_opt_test_files))->required();
  app.add_option_function<std::string>(
         "--min-coverage", [&a](const std::string& text) { a.min_coverage = text; },
         tr(msg::cli_opt_min_coverage))
      ->type_name("N");
}

namespace {

// --min-coverage's percentage: a number from 0 to 100 (a '%' after it is
// allowed); kUsage otherwise. 0 when not given.
double parse_min_coverage(const std::optional<std::string>& given) {
  if (!given) return 0;
  const std::string& text = *given;
  std::string number = text;
  if (!number.empty() && number.back() == '%') number.pop_back();
  const bool plain = !number.empty() && number.size() <= 16 &&
                     number.find_first_not_of("0123456789.") == std::string::npos &&
                     std::count(number.begin(), number.end(), '.') <= 1 && number != ".";
  const double value = plain ? std::strtod(number.c_str(), nullptr) : -1;
  if (value < 0 || value > 100) throw usage_error(tr(msg::cli_min_coverage_value, {text}));
  return value;
}

}  // namespace

void define_sop_paths(CLI::App& app, Args& a) {
  app.add_option("file", a.positional, tr(msg::cli_opt_sop_file))->required();
  app.add_flag("--as-tests", a.as_tests, tr(msg::cli_opt_as_tests));
}

int run_sop_test(Context& ctx, Args& a) {
  const double least = parse_min_coverage(a.min_coverage);
  bool ok = true;
  json files = json::array();
  int scenarios = 0, failed = 0;
  std::vector<std::string> problems;  // said on stderr at the end
  for (const std::string& file : a.positional) {
    ScenarioLoad load;
    try {
      load = load_scenario_file(file);
    } catch (const Error& e) {
      Diagnostic d;
      d.file = file;
      d.message = e.message();
      load.diagnostics.push_back(d);
    }
    if (!load.ok()) {
      ok = false;
      if (ctx.options.json) {
        json diags = json::array();
        for (const auto& d : load.diagnostics) {
          diags.push_back({{"severity", d.severity == Severity::kError ? "error" : "warning"},
                           {"file", d.file}, {"line", d.line}, {"column", d.column},
                           {"message", d.message}});
        }
        files.push_back({{"file", file}, {"ok", false}, {"diagnostics", diags}});
      } else {
        // Said on stderr: its errors now, that it has errors at the end.
        ctx.err << format_diagnostics(load.diagnostics);
      }
      problems.push_back(file + ": " + tr(msg::cli_test_file_has_errors));
      continue;
    }
    ScenarioReport report = run_scenarios(*load.file);
    scenarios += static_cast<int>(report.results.size());
    failed += report.failed();
    if (!report.all_passed()) {
      ok = false;
      problems.push_back(file + ": " + tr(msg::cli_test_failed_count, {std::to_string(report.failed())}));
    }
    if (report.coverage.percent() < least) {
      ok = false;
      problems.push_back(file + ": " +
                         tr(msg::cli_test_coverage_below,
                            {percent_text(report.coverage.percent()), percent_text(least)}));
    }
    if (ctx.options.json) {
      files.push_back(report_json(report, least));
    } else {
      print_report(ctx, report, least);
    }
  }
  if (ctx.options.json) {
    ctx.out << json{{"ok", ok}, {"scenarios", scenarios}, {"failed", failed}, {"files", files}}.dump(2)
            << "\n";
  } else if (a.positional.size() > 1) {
    ctx.out << tr(ok ? msg::cli_test_total : msg::cli_test_total_not_ok,
                  {std::to_string(scenarios), std::to_string(failed)})
            << "\n";
  }
  for (const auto& problem : problems) ctx.err << problem << "\n";
  return ok ? 0 : exit_code(ErrorKind::kRefused);
}

int run_sop_paths(Context& ctx, Args& a) {
  const std::string& file = a.positional.at(0);
  ProcedurePtr p = load_procedure_or_refuse(file);
  PathList paths = procedure_paths(*p);
  if (a.as_tests) {
    // Written to stand next to the procedure: NAME.test.yaml.
    ctx.out << "# Written by `sopir sop paths --as-tests`.\n";
    ctx.out << paths_as_tests(*p, paths, std::filesystem::path(file).filename().string());
    if (paths.truncated)
      ctx.err << tr(msg::cli_paths_truncated_tests, {std::to_string(paths.paths.size())}) << "\n";
    return 0;
  }
  auto state = [&](int s) { return p->states[static_cast<size_t>(s)].id; };
  if (ctx.options.json) {
    json list = json::array();
    for (const auto& path : paths.paths) {
      json steps = json::array();
      for (const auto& s : path.steps) {
        steps.push_back({{"event", p->events[static_cast<size_t>(s.event)]},
                         {"state", state(s.state)},
                         {"again", s.again},
                         {"opens", s.opens}});
      }
      list.push_back({{"loop", path.has_loop}, {"steps", steps}});
    }
    ctx.out << json{{"sop", p->id},
                    {"initial", state(p->initial_state)},
                    {"truncated", paths.truncated},
                    {"paths", list}}
                   .dump(2)
            << "\n";
    return 0;
  }
  ctx.out << p->id << ": "
          << tr(msg::cli_paths_heading, {std::to_string(paths.paths.size()), state(p->initial_state)}) << "\n";
  int number = 0;
  for (const auto& path : paths.paths) {
    std::string line = std::to_string(++number) + ". " + state(p->initial_state);
    for (const auto& s : path.steps) {
      line += " --" + p->events[static_cast<size_t>(s.event)] + "--> " + state(s.state);
      if (s.again) line += " " + tr(msg::cli_paths_again);
      if (!s.opens.empty()) line += " " + tr(msg::cli_path_opens, ctx.options.lang, {join(s.opens)});
    }
    if (path.has_loop) line += "  " + tr(msg::cli_paths_loop);
    ctx.out << line << "\n";
  }
  if (paths.truncated)
    ctx.out << tr(msg::cli_paths_truncated, {std::to_string(paths.paths.size())}) << "\n";
  return 0;
}

}  // namespace sopir::cli
