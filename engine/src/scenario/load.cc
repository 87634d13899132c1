// Reading a scenario test file (NAME.test.yaml) and checking it against its
// procedure. Problems in the test file become located diagnostics through
// the loader's DiagnosticSink, so they read like the loader's own.
#include <algorithm>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "rules/handoff.h"
#include "sopir/error.h"
#include "sopir/scenario.h"
#include "sopir/messages/scenario.h"
#include "base/source_text.h"
#include "lang/yaml_reader.h"
#include "sopir/messages/scenario.h"

namespace sopir {

std::vector<std::string> refusal_kind_names() {
  std::vector<std::string> out;
  for (int k = static_cast<int>(RefusalKind::kUnknownEvent); k <= static_cast<int>(RefusalKind::kLifecycle);
       ++k) {
    out.push_back(to_string(static_cast<RefusalKind>(k)));
  }
  return out;
}

std::optional<RefusalKind> refusal_kind_from_string(std::string_view name) {
  for (int k = static_cast<int>(RefusalKind::kUnknownEvent); k <= static_cast<int>(RefusalKind::kLifecycle);
       ++k) {
    if (name == to_string(static_cast<RefusalKind>(k))) return static_cast<RefusalKind>(k);
  }
  return std::nullopt;
}

namespace {

using Keys = std::vector<std::string>;


std::string suggestion(const std::string& word, const Keys& candidates) {
  return suggest_name(word, candidates, 15);
}

// The node on one line, for messages ("the step as written").
std::string one_line(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  std::string text = out.c_str();
  std::string flat;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !flat.empty()) flat += ' ';
    space = false;
    flat += c;
  }
  return flat;
}

class Reader {
 public:
  Reader(DiagnosticSink& sink) : sink_(sink) {}

  void error(const YAML::Node& at, const std::string& message) {
    sink_.error("scenario", position_of(at.Mark()), message);
  }

  // The entries of a map as (key node, value node), with unknown keys and
  // missing required keys reported. nullopt when `node` is not a map.
  std::optional<std::map<std::string, std::pair<YAML::Node, YAML::Node>>> map(
      const YAML::Node& node, const std::string& where, const Keys& allowed, const Keys& required) {
    if (!node.IsMap()) {
      error(node, required.empty() ? tr(msg::scen_must_be_map, {where})
                                   : tr(msg::scen_must_be_map_with, {where, join(required)}));
      return std::nullopt;
    }
    std::map<std::string, std::pair<YAML::Node, YAML::Node>> out;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(it->first, tr(msg::scen_unknown_key, {key, where, suggestion(key, allowed)}));
        continue;
      }
      out.emplace(key, std::make_pair(it->first, it->second));
    }
    for (const auto& key : required) {
      if (!out.count(key)) error(node, tr(msg::scen_needs_key, {where, key}));
    }
    return out;
  }

  std::optional<std::string> scalar(const YAML::Node& node, const std::string& what) {
    if (!node.IsScalar()) {
      error(node, tr(msg::scen_single_value, {what}));
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<DateTime> datetime(const YAML::Node& node, const std::string& what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    auto value = parse_datetime(*text);
    if (!value)
      error(node, tr(msg::scen_not_accepted, {what, *text, accepted_forms(Type::kDateTime, {})}));
    return value;
  }

 private:
  DiagnosticSink& sink_;
};

bool is_null(const YAML::Node& node) { return node.IsNull(); }

struct FileContext {
  const Procedure* procedure = nullptr;  // null when it did not load
  // The procedure under test and those its hand-offs open, by id.
  std::map<std::string, const Procedure*> procedures;
  Keys linked_ids;  // the hand-off targets only
  // Hand-off targets that did not load (already reported): steps naming
  // them, and staff roles, are not checked further.
  std::set<std::string> unloaded;
  std::map<std::string, const StaffMember*> staff;
  Keys staff_ids;
  std::string test_file;  // as given, for paths relative to it (migrate:)
  // The version a `migrate:` step of the scenario being read moved its
  // case to: later steps and expectations are typed against it.
  ProcedurePtr migrated;
};

std::string resolve_procedure(const std::string& test_file, const std::string& ref);
LoadResult load_strict(const std::string& file, const std::map<std::string, CalendarSource>& calendars = {});

class ScenarioParser {
 public:
  ScenarioParser(Reader& reader, FileContext& context) : r_(reader), c_(context) {}

  void actor(const YAML::Node& node, std::string* out) {
    auto id = r_.scalar(node, "as");
    if (!id) return;
    if (!c_.staff.count(*id)) {
      r_.error(node, tr(msg::scen_unknown_staff, {*id, suggestion(*id, c_.staff_ids)}));
      return;
    }
    *out = *id;
  }

  // The value given for a set field `f`: a YAML list [a, b] (or []) or
  // text "a, b"; every member checked where it is written. The canonical
  // text, or nullopt after reporting.
  std::optional<std::string> set_value(const YAML::Node& node, const FieldDef& f) {
    std::vector<std::pair<std::string, YAML::Node>> members;
    if (node.IsSequence()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        auto m = r_.scalar(*it, "a member of " + f.id);
        if (!m) return std::nullopt;
        members.emplace_back(*m, *it);
      }
    } else {
      auto text = r_.scalar(node, "the value of " + f.id);
      if (!text) return std::nullopt;
      std::string accepted;
      if (auto v = parse_typed(Type::kSet, f.values, *text, &accepted)) return std::get<std::string>(*v);
      for (const auto& m : set_members(*text)) members.emplace_back(m, node);
    }
    std::vector<std::string> ids;
    bool ok = true;
    for (const auto& [m, at] : members) {
      if (std::find(f.values.begin(), f.values.end(), m) == f.values.end()) {
        r_.error(at, tr(msg::scen_not_set_value, {m, f.id, suggest_name(m, f.values, 12)}));
        ok = false;
      }
      ids.push_back(m);
    }
    if (!ok) return std::nullopt;
    return canonical_set(f.values, ids);
  }

  // `p`: the procedure the values are for (null: not known, not checked).
  void inputs(const YAML::Node& node, const Procedure* p,
              std::vector<std::pair<std::string, std::string>>* out) {
    if (!node.IsMap()) {
      r_.error(node, tr(msg::scen_set_map));
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      auto name = r_.scalar(it->first, "a field name");
      if (!name) continue;
      if (is_null(it->second)) {
        r_.error(it->second, tr(msg::scen_set_no_value, {*name}));
        continue;
      }
      const int index = p ? p->field_index(*name) : -1;
      if (index >= 0 && p->fields[index].type == Type::kSet) {
        if (auto set = set_value(it->second, p->fields[index])) out->emplace_back(*name, *set);
        continue;
      }
      auto text = r_.scalar(it->second, "the value of " + *name);
      if (text) out->emplace_back(*name, *text);
    }
  }

  // `expect:`; `kind` says which keys are allowed.
  // `p` is the procedure of the case the expectation is about.
  enum class ExpectKind { kStep, kTick, kOpen, kFinal };
  void expect(const YAML::Node& node, ExpectKind kind, const Procedure* p, ScenarioExpect* out) {
    Keys allowed = {"state", "status", "fields", "due", "clocks"};
    if (kind != ExpectKind::kFinal) allowed.insert(allowed.begin(), "refused");
    if (kind == ExpectKind::kTick) allowed.push_back("fired");
    if (kind == ExpectKind::kStep || kind == ExpectKind::kTick) allowed.push_back("opened");
    const std::string where = kind == ExpectKind::kFinal ? "a scenario's expect" : "expect";
    auto keys = r_.map(node, where, allowed, {});
    if (!keys) return;
    for (const auto& [key, entry] : *keys) {
      const YAML::Node& v = entry.second;
      if (key == "refused") {
        auto text = r_.scalar(v, "refused");
        if (!text) continue;
        out->refused = refusal_kind_from_string(*text);
        if (!out->refused)
          r_.error(v, tr(msg::scen_unknown_refusal, {*text, suggestion(*text, refusal_kind_names())}));
      } else if (key == "state") {
        auto text = r_.scalar(v, "state");
        if (!text) continue;
        if (p && p->state_index(*text) < 0) {
          r_.error(v, tr(msg::scen_no_state, {p->id, *text, suggestion(*text, p->state_ids())}));
          continue;
        }
        out->state = *text;
      } else if (key == "status") {
        auto text = r_.scalar(v, "status");
        if (!text) continue;
        out->status = status_from_string(*text);
        if (!out->status)
          r_.error(v, tr(msg::scen_unknown_status, {*text}));
      } else if (key == "due") {
        out->check_due = true;
        if (!is_null(v)) out->due = r_.datetime(v, "due");
      } else if (key == "fired") {
        out->check_fired = true;
        if (is_null(v)) continue;
        auto text = r_.scalar(v, "fired");
        if (!text) continue;
        if (p && p->event_index(*text) < 0) {
          r_.error(v, tr(msg::scen_no_event, {p->id, *text, suggestion(*text, p->events)}));
          continue;
        }
        out->fired = *text;
      } else if (key == "opened") {
        out->check_opened = true;
        if (is_null(v)) continue;
        if (v.IsSequence()) {
          for (const YAML::Node& item : v) opened_id(item, out);
        } else {
          opened_id(v, out);
        }
      } else if (key == "fields") {
        fields(v, p, out);
      } else if (key == "clocks") {
        clocks(v, p, out);
      }
    }
    if (out->refused && keys->count("opened"))
      r_.error(keys->at("opened").first, tr(msg::scen_refused_opens));
  }

  // `expect: {clocks: {ID: STATUS}}`: case-level clocks (sopir/clocks.h).
  void clocks(const YAML::Node& v, const Procedure* p, ScenarioExpect* out) {
    if (!v.IsMap()) {
      r_.error(v, tr(msg::scenario_clocks_not_map));
      return;
    }
    static const Keys statuses = {"not_started", "running", "paused", "stopped", "overdue", "stopped_late"};
    for (auto it = v.begin(); it != v.end(); ++it) {
      auto id = r_.scalar(it->first, "a clock id");
      auto status = r_.scalar(it->second, "a clock status");
      if (!id || !status) continue;
      int index = -1;
      Keys ids;
      if (p) {
        for (size_t i = 0; i < p->clocks.size(); ++i) {
          ids.push_back(p->clocks[i].id);
          if (p->clocks[i].id == *id) index = static_cast<int>(i);
        }
        if (index < 0) {
          r_.error(it->first, tr(msg::scenario_clock_unknown, {p->id, *id, suggestion(*id, ids)}));
          continue;
        }
      }
      if (std::find(statuses.begin(), statuses.end(), *status) == statuses.end()) {
        r_.error(it->second, tr(msg::scenario_clock_bad_status, {*status}) + suggestion(*status, statuses));
        continue;
      }
      out->clocks.emplace_back(index, *status);
    }
  }

  // One procedure id of `expect: {opened: ...}`.
  void opened_id(const YAML::Node& v, ScenarioExpect* out) {
    auto text = r_.scalar(v, "opened");
    if (!text) return;
    if (c_.unloaded.count(*text)) return;
    if (std::find(c_.linked_ids.begin(), c_.linked_ids.end(), *text) == c_.linked_ids.end()) {
      r_.error(v, tr(msg::scen_no_handoff_opens,
                     {*text, c_.linked_ids.empty() ? tr(msg::scen_no_handoffs) : suggestion(*text, c_.linked_ids)}));
      return;
    }
    out->opened.push_back(*text);
  }

  void fields(const YAML::Node& node, const Procedure* p, ScenarioExpect* out) {
    if (!node.IsMap()) {
      r_.error(node, tr(msg::scen_fields_map));
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      auto name = r_.scalar(it->first, "a field name");
      if (!name || !p) continue;
      const int index = p->field_index(*name);
      if (index < 0) {
        r_.error(it->first, tr(msg::scen_no_field, {p->id, *name, suggestion(*name, p->field_ids())}));
        continue;
      }
      if (is_null(it->second)) {
        out->fields.emplace_back(index, Value{});
        continue;
      }
      const FieldDef& field = p->fields[index];
      if (field.type == Type::kSet) {
        if (auto set = set_value(it->second, field)) out->fields.emplace_back(index, Value{*set});
        continue;
      }
      auto text = r_.scalar(it->second, "the value of " + *name);
      if (!text) continue;
      std::string accepted;
      auto value = parse_typed(field.type, field.values, *text, &accepted);
      if (!value) {
        r_.error(it->second, tr(msg::scen_not_accepted, {*name, *text, accepted}));
        continue;
      }
      out->fields.emplace_back(index, std::move(*value));
    }
  }

  // `case: ID`: the procedure under test or one its hand-offs open. Returns
  // the procedure (the one under test when `node` names none we know).
  const Procedure* case_of(const YAML::Node& node, std::string* out) {
    auto id = r_.scalar(node, "case");
    if (!id) return c_.procedure;
    auto it = c_.procedures.find(*id);
    if (c_.unloaded.count(*id)) return nullptr;
    if (it == c_.procedures.end()) {
      Keys known;
      for (const auto& entry : c_.procedures) known.push_back(entry.first);
      if (c_.procedure)
        r_.error(node, tr(msg::scen_case_unknown, {*id, suggestion(*id, known)}));
      return c_.procedure;
    }
    if (c_.procedure && *id != c_.procedure->id) *out = *id;
    return it->second;
  }

  // A lifecycle step's inner map: {as: P, reason: ...}.
  void lifecycle(const YAML::Node& node, const std::string& verb, bool reason_allowed,
                 ScenarioStep* step) {
    Keys allowed = {"as"};
    if (reason_allowed) allowed.push_back("reason");
    auto keys = r_.map(node, "`" + verb + "`", allowed, {"as"});
    if (!keys) return;
    if (keys->count("as")) actor(keys->at("as").second, &step->actor);
    if (keys->count("reason")) {
      if (auto text = r_.scalar(keys->at("reason").second, "reason")) step->reason = *text;
    }
  }

  // Reads one step; `clock` is the time before it and moves with `at`/`tick`.
  void step(const YAML::Node& node, DateTime* clock, ScenarioStep* out) {
    out->line = position_of(node.Mark()).line;
    out->text = one_line(node);
    static const Keys kinds = {"event", "hold", "resume", "close", "reopen", "tick", "migrate"};
    auto keys = r_.map(node, "a step",
                       {"event", "as", "set", "reason", "override", "hold", "resume", "close",
                        "reopen", "tick", "migrate", "at", "case", "expect"},
                       {});
    if (!keys) return;
    const Procedure* target = c_.migrated ? c_.migrated.get() : c_.procedure;
    if (keys->count("case")) target = case_of(keys->at("case").second, &out->case_sop);
    Keys present;
    for (const auto& k : kinds)
      if (keys->count(k)) present.push_back(k);
    if (present.size() != 1) {
      r_.error(node, present.empty() ? tr(msg::scen_step_none) : tr(msg::scen_step_several, {join(present)}));
      return;
    }
    const std::string kind = present[0];
    for (const char* k : {"as", "set", "reason", "override"}) {
      if (kind != "event" && keys->count(k)) {
        r_.error(keys->at(k).first, kind == "tick" || kind == "migrate" ? tr(msg::scen_event_only, {k})
                                                   : tr(msg::scen_event_only_hint, {k, kind}));
      }
    }
    const YAML::Node& body = keys->at(kind).second;
    if (kind == "event") {
      out->kind = StepKind::kEvent;
      if (auto text = r_.scalar(body, "event")) out->event = *text;
      if (!keys->count("as"))
        r_.error(node, tr(msg::scen_event_needs_as));
      else
        actor(keys->at("as").second, &out->actor);
      if (keys->count("set")) inputs(keys->at("set").second, target, &out->inputs);
      if (keys->count("reason")) {
        if (auto text = r_.scalar(keys->at("reason").second, "reason")) out->reason = *text;
      }
      if (keys->count("override")) {
        const YAML::Node& v = keys->at("override").second;
        auto text = r_.scalar(v, "override");
        auto flag = text ? parse_bool(*text) : std::nullopt;
        if (text && !flag) r_.error(v, tr(msg::scen_override_bool, {*text}));
        out->override = flag.value_or(false);
      }
    } else if (kind == "migrate") {
      out->kind = StepKind::kMigrate;
      if (keys->count("case")) r_.error(keys->at("case").first, tr(msg::scen_migrate_own_case));
      if (auto ref = r_.scalar(body, "migrate")) {
        const std::string file = resolve_procedure(c_.test_file, *ref);
        try {
          LoadResult loaded = load_procedure_file(file);
          if (!loaded.ok() || !c_.procedure || loaded.procedure->id != c_.procedure->id ||
              loaded.procedure->version <= target->version) {
            r_.error(body, tr(msg::scen_migrate_file, {file, c_.procedure ? c_.procedure->id : "?",
                                                       std::to_string(target ? target->version : 0)}));
          } else {
            out->migrate_to = loaded.procedure;
            c_.migrated = loaded.procedure;
            // Its hand-off targets the file's procedures do not include.
            std::set<std::string> seen;
            std::function<void(const Procedure&)> walk = [&](const Procedure& from) {
              for (const auto& t : from.transitions)
                for (const HandOff& h : t.opens) {
                  if (c_.procedures.count(h.sop) || !seen.insert(h.sop).second) continue;
                  const std::string beside =
                      (std::filesystem::path(from.file).parent_path() / (h.sop + ".yaml")).string();
                  LoadResult target = load_strict(beside);
                  if (!target.ok()) {
                    r_.error(body, tr(msg::scen_cannot_read_procedure, {beside}));
                    continue;
                  }
                  walk(*target.procedure);
                  out->migrate_linked.push_back(target.procedure);
                }
            };
            walk(*loaded.procedure);
            target = loaded.procedure.get();
          }
        } catch (const Error&) {
          r_.error(body, tr(msg::scen_cannot_read_procedure, {file}));
        }
      }
    } else if (kind == "tick") {
      out->kind = StepKind::kTick;
      out->at = r_.datetime(body, "tick");
      if (keys->count("at"))
        r_.error(keys->at("at").first, tr(msg::scen_tick_at));
    } else {
      out->kind = kind == "hold"     ? StepKind::kHold
                  : kind == "resume" ? StepKind::kResume
                  : kind == "close"  ? StepKind::kClose
                                     : StepKind::kReopen;
      // A missing reason is allowed: it is a refusal a scenario may test.
      lifecycle(body, kind, kind != "resume", out);
    }
    if (keys->count("at")) {
      if (kind != "tick") out->at = r_.datetime(keys->at("at").second, "at");
    }
    const YAML::Node& time_node = kind == "tick" ? body : (keys->count("at") ? keys->at("at").second : node);
    advance_clock(time_node, out->at, clock);
    if (keys->count("expect")) {
      expect(keys->at("expect").second, kind == "tick" ? ExpectKind::kTick : ExpectKind::kStep,
             target, &out->expect);
      if (kind == "tick" && out->expect.refused)
        r_.error(keys->at("expect").second,
                 tr(msg::scen_tick_refused));
    }
  }

  void advance_clock(const YAML::Node& at_node, const std::optional<DateTime>& at, DateTime* clock) {
    if (!at) return;
    if (at->seconds < clock->seconds) {
      r_.error(at_node, tr(msg::scen_clock_back, {format_datetime(*at), format_datetime(*clock)}));
      return;
    }
    *clock = *at;
  }

  void scenario(const YAML::Node& node, DateTime file_clock, Scenario* out) {
    out->line = position_of(node.Mark()).line;
    auto keys = r_.map(node, "a scenario", {"name", "clock", "open", "steps", "expect"},
                       {"name", "open"});
    if (!keys) return;
    if (keys->count("name")) {
      if (auto text = r_.scalar(keys->at("name").second, "name")) out->name = *text;
    }
    out->clock = file_clock;
    if (keys->count("clock")) {
      if (auto t = r_.datetime(keys->at("clock").second, "clock")) out->clock = *t;
    }
    DateTime clock = out->clock;
    c_.migrated.reset();
    if (keys->count("open")) {
      const YAML::Node& open = keys->at("open").second;
      out->open.kind = StepKind::kOpen;
      out->open.line = position_of(open.Mark()).line;
      out->open.text = "open: " + one_line(open);
      if (auto k = r_.map(open, "`open`", {"as", "set", "at", "expect"}, {"as"})) {
        if (k->count("as")) actor(k->at("as").second, &out->open.actor);
        if (k->count("set")) inputs(k->at("set").second, c_.procedure, &out->open.inputs);
        if (k->count("at")) {
          out->open.at = r_.datetime(k->at("at").second, "at");
          advance_clock(k->at("at").second, out->open.at, &clock);
        }
        if (k->count("expect")) {
          expect(k->at("expect").second, ExpectKind::kOpen, c_.procedure, &out->open.expect);
          const ScenarioExpect& e = out->open.expect;
          if (e.refused && (e.state || e.status || e.check_due || !e.fields.empty()))
            r_.error(k->at("expect").second,
                     tr(msg::scen_refused_open_only));
        }
      }
    }
    if (keys->count("steps")) {
      const YAML::Node& steps = keys->at("steps").second;
      if (!steps.IsSequence()) {
        if (!is_null(steps)) r_.error(steps, tr(msg::scen_steps_list));
      } else {
        if (out->open.expect.refused && steps.size() > 0)
          r_.error(steps, tr(msg::scen_refused_no_steps));
        for (const auto& s : steps) {
          out->steps.emplace_back();
          step(s, &clock, &out->steps.back());
        }
      }
    }
    if (keys->count("expect")) {
      const YAML::Node& e = keys->at("expect").second;
      out->has_final = true;
      out->final_line = position_of(e.Mark()).line;
      out->final_text = "expect: " + one_line(e);
      expect(e, ExpectKind::kFinal, c_.migrated ? c_.migrated.get() : c_.procedure, &out->final_expect);
      if (out->open.expect.refused)
        r_.error(e, tr(msg::scen_refused_no_end));
    }
  }

 private:
  Reader& r_;
  FileContext& c_;
};

std::string resolve_procedure(const std::string& test_file, const std::string& ref) {
  std::filesystem::path path(ref);
  if (path.is_absolute()) return ref;
  const auto dir = std::filesystem::path(test_file).parent_path();
  return dir.empty() ? ref : (dir / path).lexically_normal().string();
}

bool has_role(const FileContext& c, const std::string& role) {
  return std::any_of(c.procedures.begin(), c.procedures.end(),
                     [&](const auto& entry) { return entry.second->role_index(role) >= 0; });
}

std::string no_role_message(const FileContext& c, const std::string& role) {
  if (c.procedures.size() <= 1)
    return tr(msg::scen_no_role, {c.procedure->id, role, suggestion(role, c.procedure->roles)});
  Keys roles;
  std::string ids;
  for (const auto& [id, p] : c.procedures) {
    ids += (ids.empty() ? "" : ", ") + id;
    for (const auto& r : p->roles)
      if (std::find(roles.begin(), roles.end(), r) == roles.end()) roles.push_back(r);
  }
  return tr(msg::scen_no_role_any, {ids, role, suggestion(role, roles)});
}

std::map<std::string, CalendarSource> scenario_calendars(Reader& r, const YAML::Node& node,
                                                         const std::string& test_file) {
  std::map<std::string, CalendarSource> out;
  if (!node.IsMap()) {
    r.error(node, tr(msg::scen_calendars_map));
    return out;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string calendar = it->first.Scalar();
    const std::string file = resolve_procedure(test_file, it->second.IsScalar() ? it->second.Scalar() : "");
    std::ifstream in(file, std::ios::binary);
    if (!it->second.IsScalar() || !in) {
      r.error(it->second, tr(msg::scen_cannot_read_calendar, {file}));
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    out[calendar] = CalendarSource{calendar, file, text.str(), ""};
  }
  return out;
}

LoadResult load_strict(const std::string& file, const std::map<std::string, CalendarSource>& calendars) {
  LoadOptions strict;
  strict.strict = true;
  strict.calendars = calendars;
  return load_procedure_file(file, strict);
}

// The procedures the one under test hands cases on to, transitively: each
// named under `procedures:` (matched by its id) or found as <id>.yaml beside
// the procedure that hands off. Problems are reported at the `procedures:`
// entry, or at the `procedure:` value for files found beside.
class LinkedProcedures {
 public:
  LinkedProcedures(Reader& r, const YAML::Node& procedure_node, const std::string& test_file,
                   std::vector<Diagnostic>* diagnostics)
      : r_(r), at_(procedure_node), test_file_(test_file), diagnostics_(diagnostics) {}

  // `procedures: [file, ...]`, relative to the test file.
  void add_listed(const YAML::Node& list, const Procedure& main) {
    if (!list.IsSequence()) {
      r_.error(list, tr(msg::scen_procedures_list));
      return;
    }
    for (const auto& entry : list) {
      auto ref = r_.scalar(entry, "a procedure file");
      if (!ref) continue;
      ProcedurePtr p = load(resolve_procedure(test_file_, *ref), entry);
      if (!p) continue;
      if (p->id == main.id) {
        r_.error(entry, tr(msg::scen_is_main, {*ref, p->id}));
      } else if (listed_.count(p->id)) {
        r_.error(entry, tr(msg::scen_listed_twice, {*ref, p->id, listed_.at(p->id).procedure->file}));
      } else {
        listed_.emplace(p->id, Listed{p, entry, false});
      }
    }
  }

  // Follows the hand-offs of `from`, depth first; a target comes before the
  // procedure that opens it.
  void walk(const Procedure& from, const std::string& main_id) {
    for (const auto& t : from.transitions) {
      for (const HandOff& h : t.opens) walk_to(from, h, main_id);
    }
  }

  void walk_to(const Procedure& from, const HandOff& h, const std::string& main_id) {
    const std::string& id = h.sop;
    if (id == main_id || !visited_.insert(id).second) return;  // a loop: the publish check says so
    ProcedurePtr target;
    const std::string where = tr(msg::scen_hands_on, {from.id, id, from.file, std::to_string(h.pos.line)});
    if (auto it = listed_.find(id); it != listed_.end()) {
      it->second.used = true;
      target = it->second.procedure;
    } else {
      const auto dir = std::filesystem::path(from.file).parent_path();
      const std::string beside = (dir / (id + ".yaml")).lexically_normal().string();
      std::error_code ignored;
      if (!std::filesystem::exists(beside, ignored)) {
        r_.error(at_, tr(msg::scen_no_beside, {where, beside, id}));
        unloaded_.insert(id);
        return;
      }
      target = load(beside, at_);
      if (target && target->id != id) {
        r_.error(at_, tr(msg::scen_wrong_beside, {where, beside, target->id}));
        target = nullptr;
      }
      if (!target) {
        unloaded_.insert(id);
        return;
      }
    }
    walk(*target, main_id);
    order_.push_back(target);
  }

  // Reports listed procedures no hand-off opens, and, once every target
  // loaded, hand-offs that would not pass the publishing checks (publishing
  // targets first, as the runner does).
  void check(const Procedure& main) {
    for (const auto& [id, listed] : listed_) {
      if (!listed.used)
        r_.error(listed.node, tr(msg::scen_not_opened, {id, main.id}));
    }
    if (!unloaded_.empty()) return;
    std::map<std::string, ProcedurePtr> published;
    const ProcedureLookup lookup = [&](const std::string& id) -> ProcedurePtr {
      auto it = published.find(id);
      return it == published.end() ? nullptr : it->second;
    };
    auto check_one = [&](const Procedure& p, const YAML::Node& node) {
      for (const auto& problem : check_handoffs(p, lookup))
        r_.error(node, tr(msg::scen_cannot_publish, {p.id, problem}));
    };
    for (const auto& p : order_) {
      auto it = listed_.find(p->id);
      check_one(*p, it == listed_.end() ? at_ : it->second.node);
      published[p->id] = p;
    }
    check_one(main, at_);
  }

  const std::vector<ProcedurePtr>& order() const { return order_; }
  const std::set<std::string>& unloaded() const { return unloaded_; }

 private:
  struct Listed {
    ProcedurePtr procedure;
    YAML::Node node;
    bool used = false;
  };

  ProcedurePtr load(const std::string& file, const YAML::Node& node) {
    try {
      LoadResult loaded = load_strict(file);
      diagnostics_->insert(diagnostics_->end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
      if (!loaded.ok())
        r_.error(node, tr(msg::scen_strict_problems, {file, std::to_string(loaded.error_count())}));
      return loaded.procedure;
    } catch (const Error&) {
      r_.error(node, tr(msg::scen_cannot_read_procedure, {file}));
      return nullptr;
    }
  }

  Reader& r_;
  YAML::Node at_;
  std::string test_file_;
  std::vector<Diagnostic>* diagnostics_;
  std::map<std::string, Listed> listed_;
  std::set<std::string> visited_;
  std::set<std::string> unloaded_;
  std::vector<ProcedurePtr> order_;
};

// The `sop:` key of a map that is a procedure rather than a test file (it
// has `sop:` and no `procedure:`): given to `sop test` by mistake, it is
// told as that, once, not as one unknown key after another.
std::optional<YAML::Node> procedure_key(const YAML::Node& root) {
  std::optional<YAML::Node> sop;
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) continue;
    if (entry.first.Scalar() == "procedure") return std::nullopt;
    if (entry.first.Scalar() == "sop") sop = entry.first;
  }
  return sop;
}

// "; the test file beside it is DIR/NAME.test.yaml" when the procedure file
// `name` (NAME.yaml or NAME.yml) has one, else "".
std::string tests_beside(const std::string& name) {
  std::filesystem::path path(name);
  const std::string extension = path.extension().string();
  if (extension != ".yaml" && extension != ".yml") return "";
  path.replace_filename(path.stem().string() + ".test.yaml");
  std::error_code ignored;
  if (!std::filesystem::is_regular_file(path, ignored)) return "";
  return tr(msg::scen_is_procedure_tests_beside, {path.string()});
}

}  // namespace

ScenarioLoad load_scenario_string(std::string_view text, const std::string& name) {
  ScenarioLoad result;
  if (text.size() > kMaxProcedureBytes) {
    DiagnosticSink sink(name, nullptr);
    sink.error("too-large", SourcePos{}, tr(msg::scen_too_large, {std::to_string(text.size())}));
    result.diagnostics = sink.take(false);
    return result;
  }
  const SourceText source(text);
  DiagnosticSink sink(name, &source);
  Reader r(sink);
  ScenarioFile file;
  file.file = name;
  std::vector<Diagnostic> procedure_diagnostics;
  FileContext context;
  context.test_file = name;
  std::vector<StaffMember> staff;

  auto root = read_yaml(source, sink, YamlDocument::kScenarios);
  if (root) {
    if (const std::optional<YAML::Node> sop = procedure_key(*root)) {
      r.error(*sop, tr(msg::scen_is_procedure, {tests_beside(name)}));
      result.diagnostics = sink.take(false);
      return result;
    }
  }
  std::optional<std::map<std::string, std::pair<YAML::Node, YAML::Node>>> keys;
  if (root)
    keys = r.map(*root, "a scenario file", {"procedure", "procedures", "clock", "staff", "scenarios", "calendars"},
                 {"procedure", "clock", "staff", "scenarios"});
  if (keys && keys->count("procedure")) {
    const YAML::Node& v = keys->at("procedure").second;
    if (auto ref = r.scalar(v, "procedure")) {
      file.procedure_file = resolve_procedure(name, *ref);
      // `calendars: {NAME: FILE}` pins the procedure's calendar to a file
      // of the test's own (relative to the test file).
      std::map<std::string, CalendarSource> calendars;
      if (keys->count("calendars")) calendars = scenario_calendars(r, keys->at("calendars").second, name);
      try {
        LoadResult loaded = load_strict(file.procedure_file, calendars);
        procedure_diagnostics = loaded.diagnostics;
        if (loaded.ok()) {
          file.procedure = loaded.procedure;
          context.procedure = file.procedure.get();
          context.procedures[file.procedure->id] = file.procedure.get();
        } else {
          r.error(v, tr(msg::scen_strict_problems, {file.procedure_file, std::to_string(loaded.error_count())}));
        }
      } catch (const Error& e) {
        r.error(v, tr(msg::scen_cannot_read_procedure, {file.procedure_file}));
      }
    }
  }
  if (file.procedure) {
    LinkedProcedures linked(r, keys->at("procedure").second, name, &procedure_diagnostics);
    if (keys->count("procedures")) linked.add_listed(keys->at("procedures").second, *file.procedure);
    linked.walk(*file.procedure, file.procedure->id);
    linked.check(*file.procedure);
    file.linked = linked.order();
    context.unloaded = linked.unloaded();
    for (const auto& p : file.linked) {
      context.procedures[p->id] = p.get();
      context.linked_ids.push_back(p->id);
    }
  } else if (keys && keys->count("procedures") && !keys->at("procedures").second.IsSequence()) {
    r.error(keys->at("procedures").second,
            tr(msg::scen_procedures_list));
  }
  if (keys && keys->count("clock")) {
    if (auto t = r.datetime(keys->at("clock").second, "clock")) file.clock = *t;
  }
  if (keys && keys->count("staff")) {
    const YAML::Node& list = keys->at("staff").second;
    if (!list.IsSequence()) {
      r.error(list, tr(msg::scen_staff_list));
    } else {
      for (const auto& member : list) {
        auto k = r.map(member, "a staff member", {"id", "name", "roles"}, {"id", "name", "roles"});
        if (!k) continue;
        StaffMember m;
        if (k->count("id")) {
          const YAML::Node& v = k->at("id").second;
          if (auto id = r.scalar(v, "id")) {
            if (*id == "system") {
              r.error(v, tr(msg::scen_system_staff));
            } else if (id->empty()) {
              r.error(v, tr(msg::scen_empty_staff_id));
            } else if (std::find(context.staff_ids.begin(), context.staff_ids.end(), *id) !=
                       context.staff_ids.end()) {
              r.error(v, tr(msg::scen_staff_twice, {*id}));
            } else {
              m.id = *id;
            }
          }
        }
        if (k->count("name")) {
          if (auto n = r.scalar(k->at("name").second, "name")) m.name = *n;
        }
        if (k->count("roles")) {
          const YAML::Node& roles = k->at("roles").second;
          if (!roles.IsSequence()) {
            r.error(roles, tr(msg::scen_roles_list));
          } else {
            for (const auto& role : roles) {
              auto text = r.scalar(role, "a role");
              if (!text) continue;
              if (context.procedure && context.unloaded.empty() && !has_role(context, *text)) {
                r.error(role, no_role_message(context, *text));
                continue;
              }
              m.roles.push_back(*text);
            }
          }
        }
        if (!m.id.empty()) {
          context.staff_ids.push_back(m.id);
          staff.push_back(std::move(m));
        }
      }
    }
  }
  file.staff = staff;
  for (const auto& m : file.staff) context.staff[m.id] = &m;
  if (keys && keys->count("scenarios")) {
    const YAML::Node& list = keys->at("scenarios").second;
    if (!list.IsSequence() || list.size() == 0) {
      r.error(list, tr(msg::scen_scenarios_list));
    } else {
      ScenarioParser parser(r, context);
      std::set<std::string> names;
      for (const auto& node : list) {
        file.scenarios.emplace_back();
        parser.scenario(node, file.clock, &file.scenarios.back());
        const std::string& n = file.scenarios.back().name;
        if (!n.empty() && !names.insert(n).second)
          r.error(node["name"] ? node["name"] : node, tr(msg::scen_name_twice, {n}));
      }
    }
  }
  result.diagnostics = sink.take(false);
  result.diagnostics.insert(result.diagnostics.end(), procedure_diagnostics.begin(),
                            procedure_diagnostics.end());
  const bool errors = std::any_of(result.diagnostics.begin(), result.diagnostics.end(),
                                  [](const Diagnostic& d) { return d.severity == Severity::kError; });
  if (!errors && file.procedure) result.file = std::move(file);
  return result;
}

ScenarioLoad load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw not_found(tr(msg::scen_cannot_read_file, {path}));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw not_found(tr(msg::scen_cannot_read_file, {path}));
  return load_scenario_string(text, path);
}

}  // namespace sopir
