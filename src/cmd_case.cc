// case open / list / show / why / advance / hold / resume / close / reopen /
// history / ids: what shelter staff do all day.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/messages/cli.h"
#include "values.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

json time_json(const std::optional<DateTime>& t) {
  return t ? json(format_datetime(*t)) : json();
}

bool overdue(const CaseRecord& c, DateTime now) {
  return c.status == Status::kActive && c.due_at && *c.due_at < now;
}

json case_json(const CaseRecord& c, DateTime now) {
  return {{"id", c.id},
          {"sop", c.sop_id},
          {"sha256", c.sha256},
          {"state", c.state},
          {"status", to_string(c.status)},
          {"opened_at", format_datetime(c.opened_at)},
          {"due_at", time_json(c.due_at)},
          {"overdue", overdue(c, now)},
          {"closure_reason", c.closure_reason.empty() ? json() : json(c.closure_reason)},
          {"parent_case", c.parent_case.empty() ? json() : json(c.parent_case)},
          {"site", c.site}};
}

// Case-level clocks (sopir/clocks.h) for case show.
json clocks_json(const Procedure& p, const std::vector<ClockStatus>& clocks, DateTime now) {
  json out = json::array();
  for (const ClockStatus& c : clocks) {
    const ClockDef& def = p.clocks[static_cast<size_t>(c.clock)];
    out.push_back({{"clock", def.id},
                   {"status", c.status(now)},
                   {"limit", def.limit_text},
                   {"started_at", time_json(c.started_at)},
                   {"stopped_at", time_json(c.stopped_at)},
                   {"due_at", time_json(c.due_at)},
                   {"overdue", c.overdue(now)}});
  }
  return out;
}

void print_clocks(Context& ctx, const Procedure& p, const std::vector<ClockStatus>& clocks, DateTime now) {
  if (clocks.empty()) return;
  const std::string& lang = ctx.options.lang;
  ctx.out << tr(msg::cli_clocks_heading, lang) << ":\n";
  for (const ClockStatus& c : clocks) {
    const ClockDef& def = p.clocks[static_cast<size_t>(c.clock)];
    const std::string label = def.label.get(lang);
    const std::string started = c.started_at ? format_datetime(*c.started_at) : "";
    std::string line;
    switch (c.phase) {
      case ClockPhase::kNotStarted: line = tr(msg::cli_clock_not_started, lang, {def.limit_text}); break;
      case ClockPhase::kRunning:
        line = c.due_at ? tr(msg::cli_clock_running, lang, {started, def.limit_text, format_datetime(*c.due_at)})
                        : tr(msg::cli_clock_running_no_due, lang, {started, def.limit_text});
        break;
      case ClockPhase::kPaused: line = tr(msg::cli_clock_paused, lang, {started, def.limit_text}); break;
      case ClockPhase::kStopped:
        line = tr(msg::cli_clock_stopped, lang, {format_datetime(*c.stopped_at), started, def.limit_text});
        break;
    }
    ctx.out << "  " << (label.empty() ? def.id : label + " [" + def.id + "]") << ": " << line;
    if (c.overdue(now)) ctx.out << " " << paint(ctx.options.color, Tone::kBad, "(" + tr(msg::cli_clock_past_limit, lang) + ")");
    if (c.stopped_late()) ctx.out << " (" << tr(msg::cli_clock_stopped_late, lang) << ")";
    ctx.out << "\n";
  }
}

const StateDef& state_of(const Procedure& p, const std::string& id) {
  int i = p.state_index(id);
  if (i < 0) throw storage_error(tr(msg::cli_state_not_in_procedure, {id, p.id}));
  return p.states[static_cast<size_t>(i)];
}

}  // namespace

std::string event_label(const Procedure& p, int state, const std::string& event, const std::string& lang) {
  if (state >= 0) {
    for (int t : p.transitions_from[static_cast<size_t>(state)]) {
      const auto& def = p.transitions[static_cast<size_t>(t)];
      if (p.events[static_cast<size_t>(def.event)] == event) return def.label.get(lang);
    }
  }
  return "";
}

namespace {

// What a possible event still needs ("a value for x (--set FIELD=VALUE)"),
// or "" when nothing.
std::string to_give_text(Context&, const EventCheck& check) {
  if (!check.possible || !check.refusal) return "";
  const Refusal& r = *check.refusal;
  if (r.kind == RefusalKind::kMissingField && !r.missing.empty())
    return tr(r.missing.size() == 1 ? msg::cli_give_value_for : msg::cli_give_values_for, {join(r.missing)});
  if (r.kind == RefusalKind::kReasonRequired)
    return tr(msg::cli_give_written_reason);
  return "";
}

// "yes", or "yes, once you give a value for x ..." when something is still
// to be given: one answer, not a yes beside a refusal.
std::string can_fire_text(Context& ctx, const EventCheck& check) {
  if (!check.possible) return tr(msg::cli_w_no);
  const std::string to_give = to_give_text(ctx, check);
  return to_give.empty() ? tr(msg::cli_w_yes) : tr(msg::cli_yes_once_you_give, {to_give});
}

// Why an event cannot be fired: "" when it can (possibly once values are given).
std::string why_not_text(const EventCheck& check, const std::string& case_id) {
  if (check.possible || !check.refusal) return "";
  return refusal_text(*check.refusal, case_id);
}

// "departed" or "departed (Departed)": the label only when there is one.
std::string state_with_label(const StateDef& state, const std::string& lang) {
  const std::string label = state.label.get(lang);
  return label.empty() ? state.id : state.id + " (" + label + ")";
}

// Prints a finished step in one line, or its JSON document.
void report_step(Context& ctx, const StepResult& r) {
  if (ctx.options.json) {
    // null unless a hand-off opened a case; a list when it opened several (tracks)
    json opened;
    for (const auto& o : r.opened) {
      const CaseRecord& c = o.record;
      json one = {{"case", c.id}, {"sop", c.sop_id}, {"state", c.state}, {"status", to_string(c.status)},
                  {"seq", o.entry.seq}, {"site", c.site}};
      if (r.opened.size() == 1) opened = std::move(one);
      else opened.push_back(std::move(one));
    }
    ctx.out << json{{"case", r.after.id},
                    {"event", r.entry.event},
                    {"kind", to_string(r.entry.kind)},
                    {"from", r.entry.from_state},
                    {"to", r.entry.to_state},
                    {"from_status", r.entry.from_status},
                    {"status", to_string(r.after.status)},
                    {"due_at", time_json(r.after.due_at)},
                    {"seq", r.entry.seq},
                    {"case_seq", r.entry.case_seq},
                    {"opened", opened}}
                   .dump(2)
            << "\n";
    return;
  }
  ProcedurePtr p = ctx.engine().procedure(r.after.sha256);
  const StateDef& to = state_of(*p, r.after.state);
  ctx.out << r.after.id << ": " << r.entry.event << ": ";
  if (!r.entry.from_state.empty() && r.entry.from_state != r.entry.to_state) {
    ctx.out << r.entry.from_state << " -> ";
  }
  ctx.out << state_with_label(to, ctx.options.lang) << ", " << status_label(ctx, r.after.status);
  if (r.after.due_at && r.after.status == Status::kActive) {
    ctx.out << ", " << tr(msg::cli_w_due) << " " << format_datetime(*r.after.due_at);
  }
  ctx.out << "\n";
  for (const auto& o : r.opened) {
    // A hand-off opened a case in the same step: say which.
    const CaseRecord& c = o.record;
    if (c.site != r.after.site)
      ctx.out << tr(msg::cli_opened_case_at_site_line, {c.id, c.sop_id, c.state, c.site}) << "\n";
    else
      ctx.out << tr(msg::cli_opened_case_line, {c.id, c.sop_id, c.state}) << "\n";
  }
}

// The parent and the children of a case among the cases linked to it.
struct Links {
  const CaseRecord* parent = nullptr;
  std::vector<const CaseRecord*> children;
};
Links split_links(const CaseRecord& c, const std::vector<CaseRecord>& linked) {
  Links out;
  for (const auto& other : linked) {
    if (other.id == c.parent_case) out.parent = &other;
    else if (other.parent_case == c.id) out.children.push_back(&other);
  }
  return out;
}

json linked_json(const CaseRecord& c) {
  return {{"id", c.id},
          {"sop", c.sop_id},
          {"state", c.state},
          {"status", to_string(c.status)},
          {"opened_at", format_datetime(c.opened_at)}};
}

// "ABC-DEF  child-care  admitted  active"
std::string linked_line(Context& ctx, const CaseRecord& c) {
  return c.id + "  " + c.sop_id + "  " + c.state + "  " + status_label(ctx, c.status);
}

// A word written back as a shell takes it: in single quotes when it holds
// anything but letters, digits and -_.,:=/+ (a value with a space).
std::string as_typed(const std::string& word) {
  const bool plain =
      word.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:=/+") ==
      std::string::npos;
  if (plain && !word.empty()) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// An option and its value written back: NAME=VALUE when the value starts
// with '-', which after a space the command line would take for an option
// ("--note -x" is --note without its value and an option -x).
std::string option_typed(const std::string& name, const std::string& value) {
  return name + (!value.empty() && value[0] == '-' ? "=" : " ") + as_typed(value);
}

// Whether `word` is a FIELD=VALUE typed without --set: no SOP, case or event
// id holds an '='.
bool is_value_word(const std::string& word) {
  const size_t eq = word.find('=');
  return eq != std::string::npos && eq > 0;
}

// The words of `words` that are not FIELD=VALUE: what the command's form
// is checked against, so that the command written out below is one it takes.
std::vector<std::string> without_values(const std::vector<std::string>& words) {
  std::vector<std::string> kept;
  for (const std::string& word : words)
    if (!is_value_word(word)) kept.push_back(word);
  return kept;
}

// A field value typed without --set ("case advance K7F arrive age=30"), a
// mistake easily made: told how to give it, with the command written out
// (its words, the options given with it, and each such word after --set),
// rather than the usage line. `command` is what comes before the words
// (e.g. "case advance"). Call it once the other words fit the command.
void refuse_values_without_set(const std::string& command, const Args& a) {
  std::string written = command, values;
  for (const std::string& word : a.positional) {
    if (is_value_word(word))
      values += " " + option_typed("--set", word);
    else
      written += " " + as_typed(word);
  }
  if (values.empty()) return;
  for (const std::string& set : a.sets) written += " " + option_typed("--set", set);
  written += values;
  const std::pair<const char*, const std::string*> options[] = {
      {"--note", &a.note}, {"--reason", &a.reason}, {"--at", &a.at}, {"--site", &a.to_site}};
  for (const auto& [name, value] : options)
    if (!value->empty()) written += " " + option_typed(name, *value);
  if (a.override) written += " --override";
  throw usage_error(tr(msg::cli_value_without_set, {written}));
}

// "opened case X" / "opened by case X" for a log row with a link.
std::string link_words(Context&, const LogEntry& e) {
  if (e.linked_case.empty()) return "";
  return tr(e.kind == LogKind::kOpen ? msg::cli_opened_by_case_x : msg::cli_opened_case_x, {e.linked_case});
}

}  // namespace

int run_case_open(Context& ctx, Args& a) {
  if (without_values(a.positional).size() != 1) throw usage_error(tr(msg::cli_case_open_one_sop));
  refuse_values_without_set("case open", a);
  OpenRequest request;
  request.sop_id = a.positional[0];
  request.actor = ctx.actor_id();
  request.inputs = parse_sets(a.sets);
  request.note = a.note;
  request.at = parse_at(a.at);
  request.site = a.to_site;
  StepResult r = ctx.engine().open_case(request);
  spdlog::info("case {} opened ({}) by {}", r.after.id, r.after.sop_id, request.actor);
  if (ctx.in_shell) ctx.current_case = r.after.id;
  if (ctx.options.json) {
    ctx.out << json{{"case", r.after.id},
                    {"sop", r.after.sop_id},
                    {"state", r.after.state},
                    {"status", to_string(r.after.status)},
                    {"due_at", time_json(r.after.due_at)}}
                   .dump(2)
            << "\n";
  } else {
    ctx.out << r.after.id << "\n";
  }
  return 0;
}

// --state of `case list` and `audit log`: a state of the procedure named
// with --sop (any of its published versions), or of any published one. A
// name none has would list nothing without a word; refused with the states
// there are.
void check_listed_state(Store& store, const std::string& sop, const std::string& state) {
  const std::vector<std::string> known = published_states(store, sop);
  if (std::binary_search(known.begin(), known.end(), state)) return;
  const std::string whose =
      sop.empty() ? tr(msg::cli_state_any_procedure) : tr(msg::cli_state_procedure, {sop});
  throw usage_error(tr(msg::cli_state_value, {state, whose, join(known)}) +
                    did_you_mean(state, known));
}

int run_case_list(Context& ctx, Args& a) {
  if (!a.positional.empty()) throw usage_error(tr(msg::cli_only_options, {"case list"}));
  Engine& engine = ctx.engine();
  CaseFilter filter;
  const DateTime now = engine.clock().now();
  if (!a.sop.empty()) {
    require_procedure(engine.store(), a.sop);  // not found: names the published ones
    filter.sop_id = a.sop;
  }
  if (!a.state.empty()) {
    check_listed_state(engine.store(), a.sop, a.state);
    filter.state = a.state;
  }
  if (!a.status.empty()) {
    filter.status = status_from_string(a.status);
    if (!filter.status) {
      throw usage_error(tr(msg::cli_status_value, {a.status}));
    }
  }
  if (a.overdue) {
    filter.due_before = now;
    if (!filter.status) filter.status = Status::kActive;
  }
  if (!a.due_within.empty()) {
    auto within = parse_duration(a.due_within);
    if (!within) throw usage_error(tr(msg::cli_due_within_value, {a.due_within}));
    DateTime limit{now.seconds + within->seconds};
    if (!filter.due_before || limit < *filter.due_before) filter.due_before = limit;
    if (!filter.status) filter.status = Status::kActive;
  }
  if (!a.linked_to.empty()) {
    filter.linked_to = engine.resolve_case_id(a.linked_to, ctx.options.actor);
    // Another site's case is refused, as `case show` refuses it.
    if (!ctx.options.actor.empty())
      check_site_access(engine.store(), engine.actor(ctx.actor_id()), *filter.linked_to);
  }
  filter.sites = listed_sites(ctx, a.to_site);
  filter.limit = listing_limit(ctx, a);
  auto cases = engine.cases(filter);
  int64_t more = 0;
  if (filter.limit > 0 && static_cast<int64_t>(cases.size()) == filter.limit) {
    more = engine.count_cases(filter) - filter.limit;
  }
  // --overdue also lists cases past a case-level clock's limit.
  std::map<std::string, std::vector<std::string>> clocks_past;
  if (a.overdue && filter.linked_to == std::nullopt) {
    for (const ClockOverdue& o : engine.overdue_clocks(filter.sites)) {
      const CaseRecord& c = o.record;
      if ((filter.sop_id && *filter.sop_id != c.sop_id) || (filter.state && *filter.state != c.state)) continue;
      if ((filter.status && *filter.status != c.status)) continue;
      clocks_past[c.id].push_back(o.procedure->clocks[static_cast<size_t>(o.clock.clock)].id);
      const bool listed = std::any_of(cases.begin(), cases.end(), [&](const CaseRecord& x) { return x.id == c.id; });
      if (listed) continue;
      if (filter.limit > 0 && static_cast<int64_t>(cases.size()) >= filter.limit) {
        ++more;
        continue;
      }
      cases.push_back(c);
    }
  }
  if (ctx.options.json) {
    json list = json::array();
    for (const auto& c : cases) {
      json doc = case_json(c, now);
      if (a.overdue) {
        auto it = clocks_past.find(c.id);
        doc["clocks_overdue"] = it == clocks_past.end() ? json::array() : json(it->second);
        if (it != clocks_past.end()) doc["overdue"] = true;
      }
      list.push_back(doc);
    }
    ctx.out << json{{"count", cases.size()}, {"more", more}, {"cases", list}}.dump(2) << "\n";
    return 0;
  }
  if (cases.empty()) {
    ctx.out << tr(msg::cli_w_no_cases) << "\n";
    return 0;
  }
  Table table({tr(msg::cli_w_case), tr(msg::cli_w_procedure), tr(msg::cli_w_state), tr(msg::cli_w_status),
               tr(msg::cli_w_due), tr(msg::cli_w_opened)});
  for (const auto& c : cases) {
    std::string due = c.due_at ? format_datetime(*c.due_at) : "";
    if (overdue(c, now)) due += " (" + tr(msg::cli_w_overdue) + ")";
    if (auto it = clocks_past.find(c.id); it != clocks_past.end()) {
      for (const std::string& clock : it->second)
        due += (due.empty() ? "" : "; ") + tr(msg::cli_clock_due_cell, ctx.options.lang, {clock});
    }
    table.add({c.id, c.sop_id, c.state, status_label(ctx, c.status), due,
               format_date(date_of(c.opened_at))});
  }
  std::ostringstream text;
  table.print(text, ctx.options.width, ctx.options.color);
  text << more_line(ctx, more);
  print_paged(ctx, text.str());
  return 0;
}

int run_case_show(Context& ctx, Args& a) {
  if (a.positional.size() > 1) throw usage_error(tr(msg::cli_takes_one_case, {"case show"}));
  const std::string actor_id = ctx.actor_id();
  Engine& engine = ctx.engine();
  // Personal values come back masked, or with --reveal shown (a reason
  // given, the access recorded).
  const std::string typed = case_arg(ctx, a.positional.empty() ? "" : a.positional[0]);
  const std::optional<RevealRequest> reveal = reveal_request(ctx, a, "case show --reveal");
  CaseView view = engine.show(typed, actor_id, reveal ? &*reveal : nullptr);
  const Procedure& p = *view.procedure;
  const CaseRecord& c = view.record;
  const DateTime now = engine.clock().now();
  const std::string& lang = ctx.options.lang;
  const StateDef& state = state_of(p, c.state);
  const Links links = split_links(c, view.linked);
  spdlog::info("case {} shown to {}", c.id, actor_id);

  if (ctx.options.json) {
    json doc = case_json(c, now);
    doc["state_label"] = state.label.get(lang);
    doc["guidance"] = state.description.get(lang);
    doc["sop_version"] = p.version;
    doc["sop_title"] = p.title.get(lang);
    json data = json::object(), masked = json::array();
    for (const auto& f : p.fields) {
      auto it = std::find_if(c.data.begin(), c.data.end(),
                             [&](const StoredValue& v) { return v.field == f.id; });
      if (it == c.data.end() || it->missing) continue;
      if (it->pii && !view.personal_data_shown && !it->erased) masked.push_back(f.id);
      data[f.id] = it->erased ? json() : value_json(p, *it);
    }
    doc["data"] = data;
    doc["masked"] = masked;
    json events = json::array();
    for (const auto& check : view.checks) {
      events.push_back({{"event", check.event},
                        {"label", event_label(p, view.snapshot.state, check.event, lang)},
                        {"possible", check.possible},
                        {"refusal_kind", check.refusal ? json(to_string(check.refusal->kind)) : json()},
                        {"message", check.refusal ? json(check.refusal->message) : json()},
                        {"source", check.refusal ? json(check.refusal->sources) : json()}});
    }
    doc["events"] = events;
    doc["parent"] = links.parent ? linked_json(*links.parent) : json();
    json children = json::array();
    for (const CaseRecord* child : links.children) children.push_back(linked_json(*child));
    doc["children"] = children;
    doc["clocks"] = clocks_json(p, view.clocks, now);
    ctx.out << doc.dump(2) << "\n";
    return 0;
  }
  const bool color = ctx.options.color;
  ctx.out << paint(color, Tone::kBold, tr(msg::cli_w_case) + " " + c.id) << "  " << p.title.get(lang)
          << " (" << p.id << " v" << p.version << ")\n";
  const std::string label = state.label.get(lang);
  ctx.out << tr(msg::cli_w_state) << ": " << (label.empty() ? state.id : label + " [" + state.id + "]")
          << "\n";
  ctx.out << tr(msg::cli_w_status) << ": " << status_label(ctx, c.status);
  if (!c.closure_reason.empty()) ctx.out << " (" << c.closure_reason << ")";
  ctx.out << "\n";
  if (c.due_at && c.status != Status::kClosed) {
    ctx.out << tr(msg::cli_w_due) << ": " << format_datetime(*c.due_at);
    if (overdue(c, now)) ctx.out << " " << paint(color, Tone::kBad, "(" + tr(msg::cli_w_overdue) + ")");
    ctx.out << "\n";
  }
  if (links.parent) ctx.out << tr(msg::cli_w_opened_by_case) << ": " << linked_line(ctx, *links.parent) << "\n";
  if (!c.parent_case.empty() && !links.parent)
    ctx.out << tr(msg::cli_w_opened_by_case) << ": " << c.parent_case << "\n";
  if (!links.children.empty()) {
    ctx.out << tr(msg::cli_w_cases_it_opened) << ":\n";
    for (const CaseRecord* child : links.children) ctx.out << "  " << linked_line(ctx, *child) << "\n";
  }
  print_clocks(ctx, p, view.clocks, now);
  std::string guidance = state.description.get(lang);
  if (!guidance.empty()) {
    ctx.out << "\n" << tr(msg::cli_w_guidance) << ":\n";
    for (const auto& line : wrap(guidance, static_cast<size_t>(std::max(ctx.options.width, 40))))
      ctx.out << line << "\n";
  }
  Table data({tr(msg::cli_w_field), tr(msg::cli_w_value)});
  for (const auto& f : p.fields) {
    auto it = std::find_if(c.data.begin(), c.data.end(),
                           [&](const StoredValue& v) { return v.field == f.id; });
    if (it == c.data.end() || it->missing) continue;
    std::string label = f.label.get(lang);
    data.add({label.empty() ? f.id : label + " (" + f.id + ")", shown_value(p, *it, lang)});
  }
  if (!data.empty()) {
    ctx.out << "\n";
    data.print(ctx.out, ctx.options.width, color);
  }
  ctx.out << "\n" << tr(msg::cli_w_events_you_can_fire_now) << ":";
  bool any = false;
  for (const auto& check : view.checks) {
    if (!check.possible) continue;
    any = true;
    ctx.out << "\n  " << paint(color, Tone::kGood, check.event);
    std::string label = event_label(p, view.snapshot.state, check.event, lang);
    if (!label.empty()) ctx.out << " - " << label;
    const std::string to_give = to_give_text(ctx, check);
    if (!to_give.empty())
      ctx.out << paint(color, Tone::kDim, " (" + tr(msg::cli_once_you_give, {to_give}) + ")");
  }
  if (!any) ctx.out << " " << tr(msg::cli_w_none);
  ctx.out << "\n";
  return 0;
}

int run_case_why(Context& ctx, Args& a) {
  // With a current case in the shell, one word is the event; otherwise the
  // first word is the case.
  std::string typed_case, event;
  const auto& pos = a.positional;
  if (pos.size() > 2) throw usage_error(tr(msg::cli_case_why_args));
  if (pos.size() == 2) {
    typed_case = pos[0];
    event = pos[1];
  } else if (pos.size() == 1 && !ctx.current_case.empty()) {
    event = pos[0];
  } else if (pos.size() == 1) {
    typed_case = pos[0];
  }
  const std::string actor_id = ctx.actor_id();
  Engine& engine = ctx.engine();
  CaseView view = engine.view(case_arg(ctx, typed_case), actor_id);
  const std::string& id = view.record.id;
  std::vector<EventCheck> checks = view.checks;
  if (!event.empty()) checks = {engine.check_event(view, event)};
  if (ctx.options.json) {
    json events = json::array();
    for (const auto& c : checks) {
      events.push_back({{"event", c.event},
                        {"possible", c.possible},
                        {"refusal_kind", c.refusal ? json(to_string(c.refusal->kind)) : json()},
                        {"message", c.refusal ? json(c.refusal->message) : json()},
                        {"source", c.refusal ? json(c.refusal->sources) : json()}});
    }
    ctx.out << json{{"case", id},
                    {"state", view.record.state},
                    {"status", to_string(view.record.status)},
                    {"actor", actor_id},
                    {"events", events}}
                   .dump(2)
            << "\n";
    return 0;
  }
  if (checks.empty()) {
    ctx.out << id << ": " << tr(msg::cli_w_none) << " (" << view.record.state << ", "
            << status_label(ctx, view.record.status) << ")\n";
    return 0;
  }
  Table table({tr(msg::cli_w_event), tr(msg::cli_w_can_fire), tr(msg::cli_w_why_not)});
  for (const auto& c : checks) table.add({c.event, can_fire_text(ctx, c), why_not_text(c, id)});
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

int run_case_advance(Context& ctx, Args& a) {
  std::string typed_case, event;
  const std::vector<std::string> pos = without_values(a.positional);
  if (pos.size() == 2) {
    typed_case = pos[0];
    event = pos[1];
  } else if (pos.size() == 1 && !ctx.current_case.empty()) {
    event = pos[0];
  } else {
    throw usage_error(tr(ctx.in_shell ? msg::cli_case_advance_args_shell : msg::cli_case_advance_args));
  }
  refuse_values_without_set("case advance", a);
  StepRequest request;
  request.actor = ctx.actor_id();
  request.case_id = case_arg(ctx, typed_case);
  request.event = event;
  request.inputs = parse_sets(a.sets);
  request.note = a.note;
  request.reason = a.reason;
  request.at = parse_at(a.at);
  request.override = a.override;
  StepResult r = ctx.engine().advance(request);
  spdlog::info("case {} {} {} -> {} by {}{}", r.after.id, r.entry.event, r.entry.from_state,
               r.entry.to_state, request.actor, request.override ? " (override)" : "");
  report_step(ctx, r);
  return 0;
}

namespace {

int lifecycle(Context& ctx, Args& a, LifecycleEvent event) {
  if (a.positional.size() > 1) {
    throw usage_error(tr(msg::cli_takes_one_case, {std::string("case ") + to_string(event)}));
  }
  LifecycleRequest request;
  request.actor = ctx.actor_id();
  request.case_id = case_arg(ctx, a.positional.empty() ? "" : a.positional[0]);
  request.event = event;
  request.reason = a.reason;
  request.note = a.note;
  request.at = parse_at(a.at);
  StepResult r = ctx.engine().lifecycle(request);
  spdlog::info("case {} {} by {}", r.after.id, to_string(event), request.actor);
  report_step(ctx, r);
  return 0;
}

}  // namespace

int run_case_hold(Context& ctx, Args& a) { return lifecycle(ctx, a, LifecycleEvent::kHold); }
int run_case_resume(Context& ctx, Args& a) { return lifecycle(ctx, a, LifecycleEvent::kResume); }
int run_case_close(Context& ctx, Args& a) { return lifecycle(ctx, a, LifecycleEvent::kClose); }
int run_case_reopen(Context& ctx, Args& a) { return lifecycle(ctx, a, LifecycleEvent::kReopen); }

int run_case_history(Context& ctx, Args& a) {
  if (a.positional.size() > 1) throw usage_error(tr(msg::cli_takes_one_case, {"case history"}));
  const std::string actor_id = ctx.actor_id();
  Engine& engine = ctx.engine();
  // Personal values come back masked, or with --reveal shown (a reason
  // given, the access recorded).
  const std::string typed = case_arg(ctx, a.positional.empty() ? "" : a.positional[0]);
  const std::optional<RevealRequest> reveal = reveal_request(ctx, a, "case history --reveal");
  const CaseHistory history = engine.history(typed, actor_id, reveal ? &*reveal : nullptr);
  const std::string& id = history.record.id;
  const std::vector<LogEntry>& entries = history.entries;
  if (ctx.options.json) {
    json list = json::array();
    for (const auto& e : entries) list.push_back(history_entry_json(*history.procedure, e));
    ctx.out << json{{"case", id}, {"entries", list}}.dump(2) << "\n";
    return 0;
  }
  Table table({"#", tr(msg::cli_w_when), tr(msg::cli_w_actor), tr(msg::cli_w_event), tr(msg::cli_w_state),
               tr(msg::cli_w_note)});
  for (const auto& e : entries) {
    std::string move = e.from_state.empty() || e.from_state == e.to_state
                           ? e.to_state
                           : e.from_state + " -> " + e.to_state;
    if (e.from_status != e.to_status && !e.from_status.empty()) {
      if (auto s = status_from_string(e.to_status)) move += " (" + status_label(ctx, *s) + ")";
      else move += " (" + e.to_status + ")";
    }
    std::string text = link_words(ctx, e);
    if (!e.note.empty()) text += (text.empty() ? "" : "; ") + e.note;
    if (!e.reason.empty()) text += (text.empty() ? "" : "; ") + tr(msg::cli_w_reason) + ": " + e.reason;
    for (const auto& ch : e.changes) {
      const StoredValue& after = ch.after;
      text += (text.empty() ? "" : "; ") + after.field + "=" +
              shown_value(*history.procedure, after, ctx.options.lang);
    }
    std::string event = e.event;
    if (e.kind == LogKind::kOverride) event += " (override)";
    if (e.kind == LogKind::kTimer) event += " (timer)";
    table.add({std::to_string(e.case_seq), format_datetime(e.occurred_at), e.actor, event, move,
               text});
  }
  table.print(ctx.out, ctx.options.width, ctx.options.color);
  return 0;
}

std::vector<std::string> readable_case_ids(Context& ctx, const std::string& prefix, int64_t limit) {
  // A reader named but not logged in yet is offered nothing: completion
  // never prompts for a passphrase (the command line logged in before it ran).
  if (!ctx.options.actor.empty() && !ctx.logged_in()) return {};
  // The sites `case list` reads (kUsage with no reader on a database of
  // several sites); on a server, row-level security holds the session too.
  return ctx.engine().case_ids(prefix, limit, listed_sites(ctx, ""));
}

int run_case_ids(Context& ctx, Args& a) {
  for (const auto& id : readable_case_ids(ctx, a.prefix, 200)) ctx.out << id << "\n";
  return 0;
}

}  // namespace sopir::cli
