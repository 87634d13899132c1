// encode_procedure / decode_procedure (see procedure_codec.h).
#include "lang/procedure_codec.h"

#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>
#include <variant>

#include "lang/calendar_loader.h"
#include "lang/expr/expr.h"
#include "base/sha256.h"

namespace sopir {

namespace {

using json = nlohmann::json;

json text(const Text& t) { return json(t.by_lang); }

Text text_from(const json& j) {
  Text t;
  t.by_lang = j.get<std::map<std::string, std::string>>();
  return t;
}

json pos(const SourcePos& p) { return json::array({p.line, p.column}); }

SourcePos pos_from(const json& j) { return SourcePos{j.at(0).get<int>(), j.at(1).get<int>()}; }

// A bound: [alternative index, canonical text]. The indices are Value's
// (value.h); the cases in value_from rely on this order.
static_assert(std::variant_size_v<Value> == 7);
static_assert(std::is_same_v<std::variant_alternative_t<1, Value>, bool> &&
              std::is_same_v<std::variant_alternative_t<2, Value>, int64_t> &&
              std::is_same_v<std::variant_alternative_t<3, Value>, std::string> &&
              std::is_same_v<std::variant_alternative_t<4, Value>, Date> &&
              std::is_same_v<std::variant_alternative_t<5, Value>, DateTime> &&
              std::is_same_v<std::variant_alternative_t<6, Value>, Duration>);
json value(const std::optional<Value>& v) {
  if (!v) return nullptr;
  return json::array({v->index(), format_value(*v)});
}

std::optional<Value> value_from(const json& j) {
  if (j.is_null()) return std::nullopt;
  const auto index = j.at(0).get<size_t>();
  const std::string t = j.at(1).get<std::string>();
  std::optional<Value> out;
  switch (index) {
    case 1:
      if (auto b = parse_bool(t)) out = *b;
      break;
    case 2:
      if (auto i = parse_int(t)) out = *i;
      break;
    case 3: out = t; break;
    case 4:
      if (auto d = parse_date(t)) out = *d;
      break;
    case 5:
      if (auto d = parse_datetime(t)) out = *d;
      break;
    case 6:
      if (auto d = parse_duration(t)) out = *d;
      break;
    default: break;
  }
  if (!out) throw std::runtime_error("bad bound");
  return out;
}

// `source:` citations, written only when there are some (so compiled forms
// of procedures without them stay as they were).
json with_sources(json j, const Sources& sources) {
  if (!sources.empty()) j["sources"] = sources;
  return j;
}

Sources sources_from(const json& j) { return j.value("sources", Sources{}); }

json value_labels(const FieldDef& f) {
  json out = json::array();
  for (const Text& t : f.value_labels) out.push_back(text(t));
  return out;
}

json field(const FieldDef& f) {
  return with_sources(
      {{"id", f.id},       {"type", type_name(f.type)}, {"values", f.values}, {"pii", f.pii},
       {"min", value(f.min)}, {"max", value(f.max)},   {"pattern", f.pattern ? json(*f.pattern) : json()},
       {"label", text(f.label)}, {"value_labels", value_labels(f)}, {"pos", pos(f.pos)}},
      f.sources);
}

FieldDef field_from(const json& j) {
  FieldDef f;
  f.id = j.at("id").get<std::string>();
  const auto type = type_from_name(j.at("type").get<std::string>());
  if (!type) throw std::runtime_error("bad type");
  f.type = *type;
  f.values = j.at("values").get<std::vector<std::string>>();
  f.pii = j.at("pii").get<bool>();
  f.min = value_from(j.at("min"));
  f.max = value_from(j.at("max"));
  if (!j.at("pattern").is_null()) f.pattern = j.at("pattern").get<std::string>();
  f.label = text_from(j.at("label"));
  for (const json& t : j.at("value_labels")) f.value_labels.push_back(text_from(t));
  if (f.value_labels.size() != f.values.size()) throw std::runtime_error("bad value labels");
  f.pos = pos_from(j.at("pos"));
  f.sources = sources_from(j);
  return f;
}

json state(const StateDef& s) {
  return with_sources({{"id", s.id},
          {"label", text(s.label)},
          {"description", text(s.description)},
          {"initial", s.initial},
          {"terminal", s.terminal},
          {"deadline", s.deadline ? json(s.deadline->seconds) : json()},
          {"on_deadline", s.on_deadline},
          {"working_days", s.working_days},
          {"deadline_from", s.deadline_from},
          {"deadline_text", s.deadline_text},
          {"pos", pos(s.pos)}}, s.sources);
}

StateDef state_from(const json& j) {
  StateDef s;
  s.id = j.at("id").get<std::string>();
  s.label = text_from(j.at("label"));
  s.description = text_from(j.at("description"));
  s.initial = j.at("initial").get<bool>();
  s.terminal = j.at("terminal").get<bool>();
  if (!j.at("deadline").is_null()) s.deadline = Duration{j.at("deadline").get<int64_t>()};
  s.on_deadline = j.at("on_deadline").get<int>();
  s.working_days = j.at("working_days").get<int64_t>();
  s.deadline_from = j.at("deadline_from").get<int>();
  s.deadline_text = j.at("deadline_text").get<std::string>();
  s.pos = pos_from(j.at("pos"));
  s.sources = sources_from(j);
  return s;
}

json clock(const ClockDef& c) {
  return with_sources({{"id", c.id},
                       {"label", text(c.label)},
                       {"description", text(c.description)},
                       {"start", c.start},
                       {"start_at_open", c.start_at_open},
                       {"stop", c.stop},
                       {"limit", c.limit ? json(c.limit->seconds) : json()},
                       {"working_days", c.working_days},
                       {"limit_from", c.limit_from},
                       {"limit_text", c.limit_text},
                       {"pos", pos(c.pos)}},
                      c.sources);
}

ClockDef clock_from(const json& j) {
  ClockDef c;
  c.id = j.at("id").get<std::string>();
  c.label = text_from(j.at("label"));
  c.description = text_from(j.at("description"));
  c.start = j.at("start").get<std::vector<int>>();
  c.start_at_open = j.at("start_at_open").get<bool>();
  c.stop = j.at("stop").get<std::vector<int>>();
  if (!j.at("limit").is_null()) c.limit = Duration{j.at("limit").get<int64_t>()};
  c.working_days = j.at("working_days").get<int64_t>();
  c.limit_from = j.at("limit_from").get<int>();
  c.limit_text = j.at("limit_text").get<std::string>();
  c.pos = pos_from(j.at("pos"));
  c.sources = sources_from(j);
  return c;
}

json transition(const TransitionDef& t) {
  json set = json::array();
  for (const Assignment& a : t.set) set.push_back({{"field", a.field}, {"text", a.text}, {"constant", a.constant}});
  // One hand-off is written as an object (as before tracks), several as a list.
  json opens;
  for (const HandOff& h : t.opens) {
    json one = {{"sop", h.sop}, {"copy", h.copy}, {"set", h.set}, {"pos", pos(h.pos)}};
    // Written only when set, so forms saved before sites read the same.
    if (!h.site.empty()) one["site"] = h.site;
    if (h.site_field >= 0) one["site_field"] = h.site_field;
    if (t.opens.size() == 1) opens = std::move(one);
    else opens.push_back(std::move(one));
  }
  return with_sources({{"index", t.index},
          {"event", t.event},
          {"from", t.from},
          {"to", t.to},
          {"stays", t.stays},
          {"guard", t.guard ? json(t.guard_text) : json()},
          {"guard_text", t.guard_text},
          {"roles", t.roles},
          {"requires", t.requires_fields},
          {"accepts", t.accepts_fields},
          {"set", set},
          {"reason_required", t.reason_required},
          {"distinct_from", t.distinct_from},
          {"override_roles", t.override_roles},
          {"opens", opens},
          {"label", text(t.label)},
          {"description", text(t.description)},
          {"pos", pos(t.pos)}}, t.sources);
}

TransitionDef transition_from(const json& j, const std::vector<FieldDef>& fields) {
  TransitionDef t;
  t.index = j.at("index").get<int>();
  t.event = j.at("event").get<int>();
  t.from = j.at("from").get<std::vector<int>>();
  t.to = j.at("to").get<int>();
  t.stays = j.value("stays", false);
  t.guard_text = j.at("guard_text").get<std::string>();
  if (!j.at("guard").is_null()) {
    ParsedExpr parsed = parse_expr(j.at("guard").get<std::string>(), fields, Type::kBool);
    if (!parsed.expr) throw std::runtime_error("guard no longer parses");
    t.guard = parsed.expr;
  }
  t.roles = j.at("roles").get<std::vector<int>>();
  t.requires_fields = j.at("requires").get<std::vector<int>>();
  t.accepts_fields = j.at("accepts").get<std::vector<int>>();
  for (const json& a : j.at("set")) {
    Assignment assignment;
    assignment.field = a.at("field").get<int>();
    assignment.text = a.at("text").get<std::string>();
    assignment.constant = a.at("constant").get<bool>();
    const FieldDef& f = fields.at(static_cast<size_t>(assignment.field));
    if (assignment.constant) {
      std::string accepted;
      auto literal = parse_typed(f.type, f.values, assignment.text, &accepted);
      if (!literal) throw std::runtime_error("set value no longer parses");
      assignment.expr = constant_expr(*literal, f.type);
    } else {
      ParsedExpr parsed = parse_expr(assignment.text, fields, f.type, f.values);
      if (!parsed.expr) throw std::runtime_error("set expression no longer parses");
      assignment.expr = parsed.expr;
    }
    t.set.push_back(std::move(assignment));
  }
  t.reason_required = j.at("reason_required").get<bool>();
  t.distinct_from = j.at("distinct_from").get<std::vector<int>>();
  t.override_roles = j.at("override_roles").get<std::vector<int>>();
  const json& opens = j.at("opens");
  for (const json& o : opens.is_array() ? opens : (opens.is_null() ? json::array() : json::array({opens}))) {
    HandOff h;
    h.sop = o.at("sop").get<std::string>();
    h.copy = o.at("copy").get<std::vector<std::pair<std::string, int>>>();
    h.set = o.at("set").get<std::vector<std::pair<std::string, std::string>>>();
    h.pos = pos_from(o.at("pos"));
    h.site = o.value("site", std::string());
    h.site_field = o.value("site_field", -1);
    t.opens.push_back(std::move(h));
  }
  t.label = text_from(j.at("label"));
  t.description = text_from(j.at("description"));
  t.pos = pos_from(j.at("pos"));
  t.sources = sources_from(j);
  return t;
}

json migration(const MigrationDef& m) {
  json states = json::array(), fields = json::array(), events = json::array(), drop_pos = json::array();
  for (const auto& s : m.states) {
    json branches = json::array();
    for (const auto& b : s.branches)
      branches.push_back({{"to", b.to}, {"when", b.when ? json(b.when_text) : json()}, {"pos", pos(b.pos)}});
    states.push_back({{"from", s.from}, {"branches", branches}, {"stays", s.stays},
                      {"stays_reason", s.stays_reason}, {"pos", pos(s.pos)}});
  }
  for (const auto& f : m.fields)
    fields.push_back({{"field", f.field}, {"from", f.from},
                      {"default", f.default_value ? json(f.default_text) : json()}, {"pos", pos(f.pos)}});
  for (const auto& e : m.events) events.push_back({{"from", e.from}, {"to", e.to}, {"pos", pos(e.pos)}});
  for (const auto& p : m.drop_pos) drop_pos.push_back(pos(p));
  return {{"from_versions", m.from_versions}, {"states", states}, {"fields", fields}, {"drop", m.drop},
          {"drop_pos", drop_pos}, {"events", events}, {"pos", pos(m.pos)}};
}

// Indices are checked here: decide() and the planner trust them.
MigrationDef migration_from(const json& j, const Procedure& p) {
  auto in = [](int i, size_t n) { return i >= 0 && static_cast<size_t>(i) < n; };
  MigrationDef m;
  m.from_versions = j.at("from_versions").get<std::vector<int>>();
  for (const json& s : j.at("states")) {
    MigrationState state;
    state.from = s.at("from").get<std::string>();
    state.stays = s.at("stays").get<bool>();
    state.stays_reason = s.at("stays_reason").get<std::string>();
    state.pos = pos_from(s.at("pos"));
    for (const json& b : s.at("branches")) {
      MigrationBranch branch;
      branch.to = b.at("to").get<int>();
      if (!in(branch.to, p.states.size())) throw std::runtime_error("bad migration state");
      if (!b.at("when").is_null()) {
        branch.when_text = b.at("when").get<std::string>();
        ParsedExpr parsed = parse_expr(branch.when_text, p.fields, Type::kBool);
        if (!parsed.expr) throw std::runtime_error("migration guard no longer parses");
        branch.when = parsed.expr;
      }
      branch.pos = pos_from(b.at("pos"));
      state.branches.push_back(std::move(branch));
    }
    m.states.push_back(std::move(state));
  }
  for (const json& f : j.at("fields")) {
    MigrationField field;
    field.field = f.at("field").get<int>();
    if (!in(field.field, p.fields.size())) throw std::runtime_error("bad migration field");
    field.from = f.at("from").get<std::string>();
    if (!f.at("default").is_null()) {
      const FieldDef& def = p.fields[static_cast<size_t>(field.field)];
      field.default_text = f.at("default").get<std::string>();
      std::string accepted;
      field.default_value = parse_typed(def.type, def.values, field.default_text, &accepted);
      if (!field.default_value) throw std::runtime_error("migration default no longer parses");
    }
    field.pos = pos_from(f.at("pos"));
    m.fields.push_back(std::move(field));
  }
  m.drop = j.at("drop").get<std::vector<std::string>>();
  for (const json& d : j.at("drop_pos")) m.drop_pos.push_back(pos_from(d));
  if (m.drop_pos.size() != m.drop.size()) throw std::runtime_error("bad migration drop");
  for (const json& e : j.at("events")) {
    MigrationEvent event{e.at("from").get<std::string>(), e.at("to").get<int>(), pos_from(e.at("pos"))};
    if (!in(event.to, p.events.size())) throw std::runtime_error("bad migration event");
    m.events.push_back(std::move(event));
  }
  m.pos = pos_from(j.at("pos"));
  return m;
}

}  // namespace

std::string encode_procedure(const Procedure& p) {
  json fields = json::array(), states = json::array(), transitions = json::array(), reasons = json::array(),
       clocks = json::array();
  for (const auto& c : p.clocks) clocks.push_back(clock(c));
  for (const auto& f : p.fields) fields.push_back(field(f));
  for (const auto& s : p.states) states.push_back(state(s));
  for (const auto& t : p.transitions) transitions.push_back(transition(t));
  for (const auto& r : p.closure_reasons) reasons.push_back({{"id", r.id}, {"label", text(r.label)}});
  const json j = {{"format", kCompiledFormat},
                  {"sha256", p.sha256},
                  {"id", p.id},
                  {"version", p.version},
                  {"title", text(p.title)},
                  {"description", text(p.description)},
                  {"roles", p.roles},
                  {"fields", fields},
                  {"states", states},
                  {"events", p.events},
                  {"transitions", transitions},
                  {"closure_reasons", reasons},
                  {"initial_state", p.initial_state},
                  {"open_declared", p.open_declared},
                  {"open_requires", p.open_requires},
                  {"open_accepts", p.open_accepts},
                  {"open_guard", p.open_guard ? json(p.open_guard_text) : json()},
                  {"hold_roles", p.hold_roles},
                  {"resume_roles", p.resume_roles},
                  {"close_roles", p.close_roles},
                  {"reopen_roles", p.reopen_roles},
                  {"reopen_to", p.reopen_to},
                  {"pii_roles", p.pii_roles},
                  {"transitions_from", p.transitions_from},
                  {"calendar", p.calendar_names},
                  {"clocks", clocks}};
  json out = with_sources(j, p.sources);
  if (!p.open_sources.empty()) out["open_sources"] = p.open_sources;
  if (p.migration) out["migration"] = migration(*p.migration);
  if (p.retention)
    out["retention"] = {{"count", p.retention->count},
                        {"unit", static_cast<int>(p.retention->unit)},
                        {"pos", pos(p.retention->pos)}};
  return out.dump();
}

ProcedurePtr decode_procedure(std::string_view text_in, const std::string& source, const std::string& file,
                              const std::map<std::string, CalendarSource>& pinned_calendars) {
  try {
    const json j = json::parse(text_in);
    if (j.at("format") != kCompiledFormat) return nullptr;
    auto p = std::make_shared<Procedure>();
    p->sha256 = sha256_hex(source);
    if (j.at("sha256") != p->sha256) return nullptr;
    p->source = source;
    p->file = file;
    p->id = j.at("id").get<std::string>();
    p->version = j.at("version").get<int>();
    p->title = text_from(j.at("title"));
    p->description = text_from(j.at("description"));
    p->roles = j.at("roles").get<std::vector<std::string>>();
    for (const json& f : j.at("fields")) p->fields.push_back(field_from(f));
    for (const json& s : j.at("states")) p->states.push_back(state_from(s));
    p->events = j.at("events").get<std::vector<std::string>>();
    for (const json& t : j.at("transitions")) p->transitions.push_back(transition_from(t, p->fields));
    for (const json& r : j.at("closure_reasons"))
      p->closure_reasons.push_back({r.at("id").get<std::string>(), text_from(r.at("label"))});
    p->initial_state = j.at("initial_state").get<int>();
    p->open_declared = j.at("open_declared").get<bool>();
    p->open_requires = j.at("open_requires").get<std::vector<int>>();
    p->open_accepts = j.at("open_accepts").get<std::vector<int>>();
    if (auto g = j.find("open_guard"); g != j.end() && !g->is_null()) {
      ParsedExpr parsed = parse_expr(g->get<std::string>(), p->fields, Type::kBool);
      if (!parsed.expr) throw std::runtime_error("open guard no longer parses");
      p->open_guard_text = g->get<std::string>();
      p->open_guard = parsed.expr;
    }
    p->hold_roles = j.at("hold_roles").get<std::vector<int>>();
    p->resume_roles = j.at("resume_roles").get<std::vector<int>>();
    p->close_roles = j.at("close_roles").get<std::vector<int>>();
    p->reopen_roles = j.at("reopen_roles").get<std::vector<int>>();
    p->reopen_to = j.at("reopen_to").get<int>();
    p->pii_roles = j.at("pii_roles").get<std::vector<int>>();
    p->sources = sources_from(j);
    p->open_sources = j.value("open_sources", Sources{});
    p->transitions_from = j.at("transitions_from").get<std::vector<std::vector<int>>>();
    p->calendar_names = j.at("calendar").get<std::vector<std::string>>();
    if (!p->calendar_names.empty()) {
      // Counted on the calendar bytes pinned when it was published.
      p->calendar = pinned_calendar(p->calendar_names, pinned_calendars);
      if (!p->calendar) return nullptr;
    }
    for (const json& c : j.at("clocks")) p->clocks.push_back(clock_from(c));
    if (auto m = j.find("migration"); m != j.end()) p->migration = migration_from(*m, *p);
    if (auto r = j.find("retention"); r != j.end()) {
      Retention retention;
      retention.count = r->at("count").get<int64_t>();
      const int unit = r->at("unit").get<int>();
      if (unit < 0 || unit > static_cast<int>(Retention::Unit::kYears) || retention.count < 1) return nullptr;
      retention.unit = static_cast<Retention::Unit>(unit);
      retention.pos = pos_from(r->at("pos"));
      p->retention = retention;
    }
    // Indices must stay inside the procedure: decide() trusts them.
    const auto states = static_cast<int>(p->states.size()), events = static_cast<int>(p->events.size());
    const auto fields = static_cast<int>(p->fields.size()), roles = static_cast<int>(p->roles.size());
    const auto transitions = static_cast<int>(p->transitions.size());
    auto in = [](int i, int n) { return i >= 0 && i < n; };
    auto all_in = [&](const std::vector<int>& v, int n) {
      for (int i : v)
        if (!in(i, n)) return false;
      return true;
    };
    if (!in(p->initial_state, states) || (p->reopen_to != -1 && !in(p->reopen_to, states)) ||
        p->transitions_from.size() != p->states.size() || !all_in(p->open_requires, fields) ||
        !all_in(p->open_accepts, fields) || !all_in(p->hold_roles, roles) || !all_in(p->resume_roles, roles) ||
        !all_in(p->close_roles, roles) || !all_in(p->reopen_roles, roles) || !all_in(p->pii_roles, roles))
      return nullptr;
    for (const auto& from : p->transitions_from)
      if (!all_in(from, transitions)) return nullptr;
    for (const auto& s : p->states)
      if ((s.on_deadline != -1 && !in(s.on_deadline, events)) ||
          (s.deadline_from != -1 && !in(s.deadline_from, fields)))
        return nullptr;
    for (const ClockDef& c : p->clocks)
      if (!all_in(c.start, states) || !all_in(c.stop, states) || (c.limit_from != -1 && !in(c.limit_from, fields)))
        return nullptr;
    for (int i = 0; i < transitions; ++i) {
      const TransitionDef& t = p->transitions[static_cast<size_t>(i)];
      if (t.index != i || !in(t.event, events) || !(t.stays ? t.to == -1 : in(t.to, states)) || !all_in(t.from, states) ||
          !all_in(t.roles, roles) || !all_in(t.requires_fields, fields) || !all_in(t.accepts_fields, fields) ||
          !all_in(t.distinct_from, events) || !all_in(t.override_roles, roles))
        return nullptr;
      for (const HandOff& h : t.opens) {
        for (const auto& [theirs, ours] : h.copy)
          if (!in(ours, fields)) return nullptr;
      }
      for (const Assignment& a : t.set)
        if (!in(a.field, fields)) return nullptr;
    }
    p->build_name_tables();
    return p;
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace sopir
