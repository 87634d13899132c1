// sop validate / show / diagram / publish / list: working with procedure
// files and the versions published in the database.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
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
#include "sopir/migration.h"

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
std::vector<std::string> handoff_lines(Context&, const Procedure& p, const TransitionDef& t) {
  std::vector<std::string> out;
  std::string from = join(state_names(p, t.from));
  if (p.from_every_state(t)) from = "*";
  for (const HandOff& h : t.opens) {
    out.push_back(p.events[static_cast<size_t>(t.event)] + " (" + from + " -> " +
                  p.to_id(t) + ") " + tr(msg::cli_w_opens) + " " + h.sop);
    std::vector<std::string> copies, sets;
    for (const auto& [to, from_field] : h.copy) {
      const std::string& mine = p.fields[static_cast<size_t>(from_field)].id;
      copies.push_back(mine == to ? to : to + " <- " + mine);
    }
    for (const auto& [to, value] : h.set) sets.push_back(to + " = " + value);
    if (!copies.empty()) out.push_back("  " + tr(msg::cli_w_copies) + " " + join(copies));
    if (!sets.empty()) out.push_back("  " + tr(msg::cli_w_sets) + " " + join(sets));
  }
  return out;
}

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// A file on disk, else the current published version of that SOP id.
ProcedurePtr procedure_arg(Context& ctx, const std::string& what) {
  if (is_file(what)) return load_procedure_or_refuse(what);
  if (what.find('/') != std::string::npos || what.find(".y") != std::string::npos) {
    throw not_found(tr(msg::cli_no_file, {what}));
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

ProcedurePtr load_procedure_or_refuse(const std::string& file, const LoadOptions& options) {
  const LoadResult result = load_procedure_file(file, options);
  try {
    return expect_procedure(result);
  } catch (const Error& e) {
    throw e.with_context(file);
  }
}

int run_sop_validate(Context& ctx, Args& a) {
  LoadOptions options;
  options.strict = a.strict;
  // Calendar coverage (lint calendar-range) is measured from today.
  options.today = Date{static_cast<int64_t>(std::time(nullptr)) / 86400};
  // Older versions to check migrate: sections against (--from).
  std::vector<ProcedurePtr> older;
  for (const std::string& file : a.from_files)
    older.push_back(load_procedure_or_refuse(file, options));
  std::vector<LoadResult> results;
  for (const std::string& file : a.positional) results.push_back(load_procedure_file(file, options));
  // Each --from must be a version of a procedure validated here. A file
  // with errors may be one: its errors are what to report, not the pairing.
  const bool all_loaded =
      std::all_of(results.begin(), results.end(), [](const LoadResult& r) { return r.ok(); });
  for (size_t i = 0; all_loaded && i < older.size(); ++i) {
    const bool used = std::any_of(results.begin(), results.end(), [&](const LoadResult& r) {
      return r.procedure->id == older[i]->id;
    });
    if (used) continue;
    std::vector<std::string> validated;
    for (size_t n = 0; n < results.size(); ++n)
      validated.push_back("'" + results[n].procedure->id + "' (" + a.positional[n] + ")");
    throw usage_error(
        tr(msg::cli_validate_from_unused, {a.from_files[i], older[i]->id, join(validated)}));
  }
  json files = json::array();
  size_t errors = 0, warnings = 0;
  for (size_t n = 0; n < results.size(); ++n) {
    const std::string& file = a.positional[n];
    LoadResult& result = results[n];
    for (size_t i = 0; result.ok() && i < older.size(); ++i) {
      if (older[i]->id != result.procedure->id) continue;
      for (auto& d : check_migration(*older[i], *result.procedure, options.strict))
        result.diagnostics.push_back(std::move(d));
    }
    if (result.error_count() > 0) result.procedure = nullptr;
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
      if (result.ok()) ctx.out << file << ": " << tr(msg::cli_validate_ok, {result.procedure->id}) << "\n";
    }
  }
  if (ctx.options.json) {
    ctx.out << json{{"ok", errors == 0}, {"errors", errors}, {"warnings", warnings},
                    {"files", files}}.dump(2)
            << "\n";
    if (errors > 0) ctx.err << tr(msg::cli_validate_counts, {std::to_string(errors), std::to_string(warnings)}) << "\n";
  } else if (errors > 0 || warnings > 0) {
    ctx.err << tr(msg::cli_validate_counts, {std::to_string(errors), std::to_string(warnings)}) << "\n";
  }
  return errors == 0 ? 0 : exit_code(ErrorKind::kRefused);
}

// The procedure's clocks for `sop show --json`.
json clocks_json(const Procedure& p, const std::string& lang) {
  json out = json::array();
  for (const auto& c : p.clocks) {
    std::vector<std::string> start = state_names(p, c.start), stop = state_names(p, c.stop);
    if (c.start_at_open) start.insert(start.begin(), "open");
    out.push_back({{"id", c.id},
                   {"label", c.label.get(lang)},
                   {"start", start},
                   {"stop", stop},
                   {"limit", c.limit_text},
                   {"source", c.sources}});
  }
  return out;
}

// `sop show`'s last section: which rule cites which regulation (`source:`).
void print_sources(Context& ctx, const Procedure& p) {
  Table table({tr(msg::cli_w_rule), tr(msg::cli_w_source)});
  auto add = [&](const std::string& rule, const Sources& sources) {
    if (!sources.empty()) table.add({rule, join(sources, "; ")});
  };
  add(tr(msg::cli_w_the_procedure), p.sources);
  add(tr(msg::cli_w_opening), p.open_sources);
  for (const auto& f : p.fields) add(tr(msg::cli_w_source_field) + " " + f.id, f.sources);
  for (const auto& s : p.states) add(tr(msg::cli_w_source_state) + " " + s.id, s.sources);
  for (const auto& t : p.transitions) {
    const std::string from = p.from_every_state(t) ? "*" : join(state_names(p, t.from));
    add(p.events[static_cast<size_t>(t.event)] + " (" + from + " -> " + p.to_id(t) + ")", t.sources);
  }
  for (const auto& c : p.clocks) add(tr(msg::cli_w_clock) + " " + c.id, c.sources);
  if (table.empty()) return;
  ctx.out << "\n" << paint(ctx.options.color, Tone::kBold, tr(msg::cli_w_sources)) << "\n";
  table.print(ctx.out, ctx.options.width, ctx.options.color);
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
                        {"on_deadline", s.on_deadline >= 0 ? json(on_deadline(s)) : json()},
                        {"source", s.sources}});
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
                             {"opens", handoff_json(*p, t)},
                             {"source", t.sources}});
    }
    for (const auto& f : p->fields) {
      json value_labels = json::object();
      for (const auto& v : f.values) value_labels[v] = value_label(f, v, lang);
      fields.push_back({{"id", f.id},
                        {"type", type_name(f.type)},
                        {"values", f.values},
                        {"value_labels", value_labels},
                        {"pii", f.pii},
                        {"label", f.label.get(lang)},
                        {"source", f.sources}});
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
                    {"pii_visible_to", names(p->pii_roles, p->roles)},
                    {"source", p->sources},
                    {"open_source", p->open_sources},
                    {"clocks", clocks_json(*p, lang)},
                    {"retention", p->retention ? json(p->retention->text()) : json()},
                    {"migrate", migrations_json(*p)}}
                   .dump(2)
            << "\n";
    return 0;
  }
  const bool color = ctx.options.color;
  const int width = ctx.options.width;
  ctx.out << paint(color, Tone::kBold, p->title.get(lang)) << "  (" << p->id << " v" << p->version
          << ", sha256 " << p->sha256.substr(0, 12) << ")\n";
  if (!p->description.empty()) ctx.out << p->description.get(lang) << "\n";
  if (p->retention) ctx.out << tr(msg::cli_sop_retention, {p->retention->text()}) << "\n";
  ctx.out << "\n" << paint(color, Tone::kBold, tr(msg::cli_w_states)) << "\n";
  Table states({tr(msg::cli_w_id), tr(msg::cli_w_label), tr(msg::cli_w_deadline), tr(msg::cli_w_guidance)});
  for (const auto& s : p->states) {
    std::string id = s.id;
    if (s.initial) id += " (" + tr(msg::cli_w_initial) + ")";
    if (s.terminal) id += " (" + tr(msg::cli_w_terminal) + ")";
    std::string dl = deadline(s);
    if (!on_deadline(s).empty()) dl += " -> " + on_deadline(s);
    states.add({id, s.label.get(lang), dl, s.description.get(lang)});
  }
  states.print(ctx.out, width, color);
  ctx.out << "\n" << paint(color, Tone::kBold, tr(msg::cli_w_transitions)) << "\n";
  Table trans({tr(msg::cli_w_event), tr(msg::cli_w_from), tr(msg::cli_w_to), tr(msg::cli_w_roles), tr(msg::cli_w_guard),
               tr(msg::cli_w_requires)});
  for (const auto& t : p->transitions) {
    std::string ev = p->events[static_cast<size_t>(t.event)];
    if (t.reason_required) ev += " (" + tr(msg::cli_w_reason) + ")";
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
    ctx.out << "\n" << paint(color, Tone::kBold, tr(msg::cli_w_hand_offs)) << "\n";
    for (const auto& line : handoffs) ctx.out << line << "\n";
  }
  ctx.out << "\n" << paint(color, Tone::kBold, tr(msg::cli_w_fields)) << "\n";
  Table fields({tr(msg::cli_w_id), tr(msg::cli_w_type), tr(msg::cli_w_label)});
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
    if (f.pii) type += " (" + tr(msg::cli_w_personal_data) + ")";
    fields.add({f.id, type, f.label.get(lang)});
  }
  fields.print(ctx.out, width, color);
  ctx.out << "\n" << tr(msg::cli_w_roles) << ": " << join(p->roles) << "\n";
  if (!p->closure_reasons.empty()) {
    std::vector<std::string> ids;
    for (const auto& r : p->closure_reasons) ids.push_back(r.id);
    ctx.out << tr(msg::cli_w_closure_reasons) << ": " << join(ids) << "\n";
  }
  print_migrations(ctx, *p);
  print_sources(ctx, *p);
  return 0;
}

int run_sop_diagram(Context& ctx, Args& a) {
  const std::string format = a.format.empty() ? "mermaid" : a.format;
  if (format != "mermaid" && format != "dot" && format != "svg") {
    throw usage_error(tr(msg::cli_diagram_format, {format}));
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
      throw usage_error(e.message() + tr(msg::cli_diagram_svg_failed));
    }
  }
  return 0;
}

namespace {

// What publishing one file did: a new version, or none because its text
// was published already (saying whether that version is the current one).
std::string published_line(Context& ctx, const PublishedProcedure& p) {
  const std::string version = std::to_string(p.version), sha = p.sha256.substr(0, 12);
  if (!p.already_published) return tr(msg::cli_published, {p.sop_id, version, sha});
  if (p.current) return tr(msg::cli_publish_already_current, {p.sop_id, version, sha});
  // One row read, not every version of every procedure with its case count.
  const std::optional<PublishedProcedure> current =
      ctx.engine().store().current_procedure(p.sop_id);
  return tr(msg::cli_publish_already_old,
            {p.sop_id, version, sha, current ? std::to_string(current->version) : "?"});
}

// What a published text's migrate: from: names that this database never
// published, one line each (none when from: names only published versions).
std::vector<std::string> migrate_from_notices(const PublishedProcedure& p) {
  std::vector<std::string> published, lines;
  for (int v : p.migrate_from_published) published.push_back(std::to_string(v));
  const std::string version = std::to_string(p.version), listed = join(published);
  for (int named : p.migrate_from_unpublished) {
    const std::string from = std::to_string(named);
    lines.push_back(
        tr(msg::cli_publish_migrate_from_unpublished, {p.sop_id, version, from, listed}));
  }
  return lines;
}

}  // namespace

int run_sop_publish(Context& ctx, Args& a) {
  const std::string& actor = ctx.actor_id();
  // All files or none; every error names its file.
  const std::vector<PublishedProcedure> published = ctx.engine().publish_all(a.positional, actor);
  for (const auto& p : published) {
    if (!p.already_published)
      spdlog::info("sop publish {} v{} {} by {}", p.sop_id, p.version, p.sha256, actor);
    // Published all the same: a national file may name versions an office
    // never had. Said on stderr, so that --json output stays one document.
    for (const std::string& notice : migrate_from_notices(p))
      ctx.err << "sopir: " << notice << "\n";
  }
  if (ctx.options.json) {
    json list = json::array();
    for (const auto& p : published) {
      list.push_back({{"sop", p.sop_id},
                      {"version", p.version},
                      {"sha256", p.sha256},
                      {"file", p.file},
                      {"current", p.current},
                      {"already_published", p.already_published},
                      {"migrate_from_unpublished", p.migrate_from_unpublished}});
    }
    ctx.out << json{{"published", list}}.dump(2) << "\n";
  } else {
    for (const auto& p : published) ctx.out << published_line(ctx, p) << "\n";
  }
  return 0;
}

int run_sop_list(Context& ctx, Args&) {
  auto all = ctx.engine().procedures();
  // A reader held to some sites counts their sites' cases only.
  if (const std::optional<std::vector<std::string>> sites = named_reader_sites(ctx)) {
    for (PublishedProcedure& p : all) {
      CaseFilter filter;
      filter.sha256 = p.sha256;
      filter.sites = sites;
      p.cases = ctx.engine().count_cases(filter);
    }
  }
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
  Table table({tr(msg::cli_w_procedure), tr(msg::cli_w_version), tr(msg::cli_w_current), tr(msg::cli_w_cases),
               tr(msg::cli_w_published), "sha256"});
  for (const auto& p : all) {
    table.add({p.sop_id, std::to_string(p.version), tr(p.current ? msg::cli_w_yes : msg::cli_w_no),
               std::to_string(p.cases), format_datetime(p.published_at) + " " + p.published_by,
               p.sha256.substr(0, 12)});
  }
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

}  // namespace sopir::cli
