// sop validate / show / diagram / publish / list: working with procedure
// files and the versions published in the database.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <nlohmann/json.hpp>
#include <ostream>

#include "sopir/display.h"
#include "cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/diagram.h"
#include "sopir/loader.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

std::vector<std::string> names(const std::vector<int>& indices,
                               const std::vector<std::string>& table) {
  std::vector<std::string> out;
  for (int i : indices) out.push_back(table[static_cast<size_t>(i)]);
  return out;
}

std::vector<std::string> field_names(const Procedure& p, const std::vector<int>& indices) {
  std::vector<std::string> out;
  for (int i : indices) out.push_back(p.fields[static_cast<size_t>(i)].id);
  return out;
}

std::vector<std::string> state_names(const Procedure& p, const std::vector<int>& indices) {
  std::vector<std::string> out;
  for (int i : indices) out.push_back(p.states[static_cast<size_t>(i)].id);
  return out;
}

// A transition's hand-off as JSON: the procedure it opens, the fields it
// copies (new case's field -> this case's field) and the values it sets;
// null when none, a list when it opens several tracks.
json handoff_json(const Procedure& p, const TransitionDef& t) {
  json out;
  for (const HandOff& h : t.opens) {
    json copy = json::object(), set = json::object();
    for (const auto& [to, from] : h.copy) copy[to] = p.fields[static_cast<size_t>(from)].id;
    for (const auto& [to, value] : h.set) set[to] = value;
    json one = {{"sop", h.sop}, {"copy", copy}, {"set", set}};
    if (t.opens.size() == 1) return one;
    out.push_back(std::move(one));
  }
  return out;
}

// The same in words, one line each:
//   refer (screening -> referred) opens tppo-victim-care
//     copies full_name, age <- age_years
//     sets referral_source = debarkation_shelter
std::vector<std::string> handoff_lines(Context& ctx, const Procedure& p, const TransitionDef& t) {
  std::vector<std::string> out;
  std::string from = join(state_names(p, t.from));
  if (p.from_every_state(t)) from = "*";
  for (const HandOff& h : t.opens) {
    out.push_back(p.events[static_cast<size_t>(t.event)] + " (" + from + " -> " +
                  p.to_id(t) + ") " + ctx.tr("opens") + " " + h.sop);
    std::vector<std::string> copies, sets;
    for (const auto& [to, from_field] : h.copy) {
      const std::string& mine = p.fields[static_cast<size_t>(from_field)].id;
      copies.push_back(mine == to ? to : to + " <- " + mine);
    }
    for (const auto& [to, value] : h.set) sets.push_back(to + " = " + value);
    if (!copies.empty()) out.push_back("  " + ctx.tr("copies") + " " + join(copies));
    if (!sets.empty()) out.push_back("  " + ctx.tr("sets") + " " + join(sets));
  }
  return out;
}

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A file on disk, else the current published version of that SOP id.
ProcedurePtr procedure_arg(Context& ctx, const std::string& what) {
  if (is_file(what)) {
    LoadResult result = load_procedure_file(what);
    if (!result.ok()) {
      for (const auto& d : result.diagnostics) ctx.err << d.format() << "\n";
    }
    return expect_procedure(result);
  }
  if (what.find('/') != std::string::npos || what.find(".y") != std::string::npos) {
    throw not_found("no file " + what);
  }
  return ctx.engine().current_procedure(what);
}

json diagnostic_json(const Diagnostic& d) {
  return {{"severity", d.severity == Severity::kError ? "error" : "warning"},
          {"code", d.code},
          {"file", d.file},
          {"line", d.line},
          {"column", d.column},
          {"message", d.message}};
}

}  // namespace

int run_sop_validate(Context& ctx, Args& a) {
  LoadOptions options;
  options.strict = a.strict;
  // Calendar coverage (lint calendar-range) is measured from today.
  options.today = Date{static_cast<int64_t>(std::time(nullptr)) / 86400};
  json files = json::array();
  size_t errors = 0, warnings = 0;
  for (const std::string& file : a.positional) {
    LoadResult result = load_procedure_file(file, options);
    errors += result.error_count();
    warnings += result.warning_count();
    if (ctx.options.json) {
      json diags = json::array();
      for (const auto& d : result.diagnostics) diags.push_back(diagnostic_json(d));
      files.push_back({{"file", file},
                       {"ok", result.ok()},
                       {"sop", result.ok() ? json(result.procedure->id) : json()},
                       {"errors", result.error_count()},
                       {"warnings", result.warning_count()},
                       {"diagnostics", diags}});
    } else {
      for (const auto& d : result.diagnostics) ctx.err << d.format() << "\n";
      if (result.ok()) ctx.out << file << ": ok (" << result.procedure->id << ")\n";
    }
  }
  if (ctx.options.json) {
    ctx.out << json{{"ok", errors == 0}, {"errors", errors}, {"warnings", warnings},
                    {"files", files}}.dump(2)
            << "\n";
    if (errors > 0) ctx.err << errors << " error(s), " << warnings << " warning(s)\n";
  } else if (errors > 0 || warnings > 0) {
    ctx.err << errors << " error(s), " << warnings << " warning(s)\n";
  }
  return errors == 0 ? 0 : exit_code(ErrorKind::kRefused);
}

int run_sop_show(Context& ctx, Args& a) {
  ProcedurePtr p = procedure_arg(ctx, a.positional.at(0));
  const std::string& lang = ctx.options.lang;
  auto deadline = [](const StateDef& s) {
    if (s.working_days > 0 || s.deadline_from >= 0) return s.deadline_text;
    return s.deadline ? format_duration(*s.deadline) : std::string();
  };
  auto on_deadline = [&](const StateDef& s) {
    return s.on_deadline >= 0 ? p->events[static_cast<size_t>(s.on_deadline)] : std::string();
  };
  if (ctx.options.json) {
    json states = json::array(), transitions = json::array(), fields = json::array(),
         reasons = json::array();
    for (const auto& s : p->states) {
      states.push_back({{"id", s.id},
                        {"label", s.label.get(lang)},
                        {"description", s.description.get(lang)},
                        {"initial", s.initial},
                        {"terminal", s.terminal},
                        {"deadline", s.has_deadline() ? json(deadline(s)) : json()},
                        {"on_deadline", s.on_deadline >= 0 ? json(on_deadline(s)) : json()}});
    }
    for (const auto& t : p->transitions) {
      transitions.push_back({{"event", p->events[static_cast<size_t>(t.event)]},
                             {"label", t.label.get(lang)},
                             {"from", state_names(*p, t.from)},
                             {"to", p->to_id(t)},
                             {"when", t.guard_text.empty() ? json() : json(t.guard_text)},
                             {"roles", names(t.roles, p->roles)},
                             {"requires", field_names(*p, t.requires_fields)},
                             {"accepts", field_names(*p, t.accepts_fields)},
                             {"reason_required", t.reason_required},
                             {"distinct_from", names(t.distinct_from, p->events)},
                             {"override_roles", names(t.override_roles, p->roles)},
                             {"opens", handoff_json(*p, t)}});
    }
    for (const auto& f : p->fields) {
      json value_labels = json::object();
      for (const auto& v : f.values) value_labels[v] = value_label(f, v, lang);
      fields.push_back({{"id", f.id},
                        {"type", type_name(f.type)},
                        {"values", f.values},
                        {"value_labels", value_labels},
                        {"pii", f.pii},
                        {"label", f.label.get(lang)}});
    }
    for (const auto& r : p->closure_reasons) {
      reasons.push_back({{"id", r.id}, {"label", r.label.get(lang)}});
    }
    ctx.out << json{{"sop", p->id},
                    {"version", p->version},
                    {"title", p->title.get(lang)},
                    {"sha256", p->sha256},
                    {"roles", p->roles},
                    {"states", states},
                    {"transitions", transitions},
                    {"fields", fields},
                    {"closure_reasons", reasons},
                    {"pii_visible_to", names(p->pii_roles, p->roles)}}
                   .dump(2)
            << "\n";
    return 0;
  }
  const bool color = ctx.options.color;
  const int width = ctx.options.width;
  ctx.out << paint(color, Tone::kBold, p->title.get(lang)) << "  (" << p->id << " v" << p->version
          << ", sha256 " << p->sha256.substr(0, 12) << ")\n";
  if (!p->description.empty()) ctx.out << p->description.get(lang) << "\n";
  ctx.out << "\n" << paint(color, Tone::kBold, ctx.tr("States")) << "\n";
  Table states({ctx.tr("Id"), ctx.tr("Label"), ctx.tr("Deadline"), ctx.tr("Guidance")});
  for (const auto& s : p->states) {
    std::string id = s.id;
    if (s.initial) id += " (" + ctx.tr("Initial") + ")";
    if (s.terminal) id += " (" + ctx.tr("Terminal") + ")";
    std::string dl = deadline(s);
    if (!on_deadline(s).empty()) dl += " -> " + on_deadline(s);
    states.add({id, s.label.get(lang), dl, s.description.get(lang)});
  }
  states.print(ctx.out, width, color);
  ctx.out << "\n" << paint(color, Tone::kBold, ctx.tr("Transitions")) << "\n";
  Table trans({ctx.tr("Event"), ctx.tr("From"), ctx.tr("To"), ctx.tr("Roles"), ctx.tr("Guard"),
               ctx.tr("Requires")});
  for (const auto& t : p->transitions) {
    std::string ev = p->events[static_cast<size_t>(t.event)];
    if (t.reason_required) ev += " (" + ctx.tr("Reason") + ")";
    std::string from = p->from_every_state(t) ? "*" : join(state_names(*p, t.from));
    trans.add({ev, from, p->to_id(t), join(names(t.roles, p->roles)),
               t.guard_text, join(field_names(*p, t.requires_fields))});
  }
  trans.print(ctx.out, width, color);
  std::vector<std::string> handoffs;
  for (const auto& t : p->transitions) {
    for (auto& line : handoff_lines(ctx, *p, t)) handoffs.push_back(std::move(line));
  }
  if (!handoffs.empty()) {
    ctx.out << "\n" << paint(color, Tone::kBold, ctx.tr("Hand-offs")) << "\n";
    for (const auto& line : handoffs) ctx.out << line << "\n";
  }
  ctx.out << "\n" << paint(color, Tone::kBold, ctx.tr("Fields")) << "\n";
  Table fields({ctx.tr("Id"), ctx.tr("Type"), ctx.tr("Label")});
  for (const auto& f : p->fields) {
    std::string type = type_name(f.type);
    if (!f.values.empty()) {
      std::vector<std::string> values;
      for (const auto& v : f.values) {
        const std::string label = value_label(f, v, lang);
        values.push_back(label == v ? v : v + " (" + label + ")");
      }
      type += ": " + join(values, " | ");
    }
    if (f.pii) type += " (" + ctx.tr("personal data") + ")";
    fields.add({f.id, type, f.label.get(lang)});
  }
  fields.print(ctx.out, width, color);
  ctx.out << "\n" << ctx.tr("Roles") << ": " << join(p->roles) << "\n";
  if (!p->closure_reasons.empty()) {
    std::vector<std::string> ids;
    for (const auto& r : p->closure_reasons) ids.push_back(r.id);
    ctx.out << ctx.tr("Closure reasons") << ": " << join(ids) << "\n";
  }
  return 0;
}

int run_sop_diagram(Context& ctx, Args& a) {
  const std::string format = a.format.empty() ? "mermaid" : a.format;
  if (format != "mermaid" && format != "dot" && format != "svg") {
    throw usage_error("--format '" + format + "' is not known; give mermaid, dot or svg");
  }
  ProcedurePtr p = procedure_arg(ctx, a.positional.at(0));
  const std::string& lang = ctx.options.lang;
  if (format == "mermaid") {
    ctx.out << to_mermaid(*p, lang);
  } else if (format == "dot") {
    ctx.out << to_dot(*p, lang);
  } else {
    try {
      ctx.out << dot_to_svg(to_dot(*p, lang));
    } catch (const Error& e) {
      throw usage_error(e.message() + "; --format dot or mermaid print the text instead");
    }
  }
  return 0;
}

int run_sop_publish(Context& ctx, Args& a) {
  const std::string& actor = ctx.actor_id();
  // All files or none; every error names its file.
  const std::vector<PublishedProcedure> published = ctx.engine().publish_all(a.positional, actor);
  for (const auto& p : published) {
    spdlog::info("sop publish {} v{} {} by {}", p.sop_id, p.version, p.sha256, actor);
  }
  if (ctx.options.json) {
    json list = json::array();
    for (const auto& p : published) {
      list.push_back({{"sop", p.sop_id}, {"version", p.version}, {"sha256", p.sha256},
                      {"file", p.file}, {"current", p.current}});
    }
    ctx.out << json{{"published", list}}.dump(2) << "\n";
  } else {
    for (const auto& p : published) {
      ctx.out << "published " << p.sop_id << " version " << p.version << " (sha256 "
              << p.sha256.substr(0, 12) << ")\n";
    }
  }
  return 0;
}

int run_sop_list(Context& ctx, Args&) {
  auto all = ctx.engine().procedures();
  if (ctx.options.json) {
    json list = json::array();
    for (const auto& p : all) {
      list.push_back({{"sop", p.sop_id},
                      {"version", p.version},
                      {"sha256", p.sha256},
                      {"current", p.current},
                      {"cases", p.cases},
                      {"file", p.file},
                      {"published_at", format_datetime(p.published_at)},
                      {"published_by", p.published_by}});
    }
    ctx.out << json{{"procedures", list}}.dump(2) << "\n";
    return 0;
  }
  Table table({ctx.tr("Procedure"), ctx.tr("Version"), ctx.tr("Current"), ctx.tr("Cases"),
               ctx.tr("Published"), "sha256"});
  for (const auto& p : all) {
    table.add({p.sop_id, std::to_string(p.version), ctx.tr(p.current ? "yes" : "no"),
               std::to_string(p.cases), format_datetime(p.published_at) + " " + p.published_by,
               p.sha256.substr(0, 12)});
  }
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

}  // namespace sopir::cli
