// encode_procedure / decode_procedure (see procedure_codec.h).
#include "lang/procedure_codec.h"

#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>
#include <variant>

#include "lang/calendar_loader.h"
#include "lang/expr/expr.h"
#include "base/json_view.h"
#include "base/sha256.h"

namespace sopir {

namespace {

using json = nlohmann::json;
// Written with nlohmann::json, read back in place (base/json_view.h): every
// one-shot command decodes its procedure, and building nlohmann's tree of
// maps and strings was most of that.
using json_view::Node;

// A list: anything else (an object's values included) is a damaged form.
Node list(Node n) {
  if (n.kind() != json_view::Kind::kArray) throw std::runtime_error("not a list");
  return n;
}

std::vector<int> ints(Node n) {
  std::vector<int> out;
  out.reserve(n.size());
  for (Node e : list(n)) out.push_back(e.integer32());
  return out;
}

std::vector<std::string> strings(Node n) {
  std::vector<std::string> out;
  out.reserve(n.size());
  for (Node e : list(n)) out.push_back(e.str());
  return out;
}

json text(const Text& t) {
  json out = json::object();
  for (const auto& [lang, value] : t.entries()) out[std::string(lang)] = value;
  return out;
}

// Read in place: a Text takes one allocation (procedure.h), sized first.
Text text_from(Node j) {
  if (j.kind() != json_view::Kind::kObject) throw std::runtime_error("bad text");
  size_t bytes = 0;
  for (Node value : j) {
    if (value.kind() != json_view::Kind::kString) throw std::runtime_error("bad text");
    bytes += 5 + 8 + value.written_size();  // the sizes, and a code's usual length
  }
  Text t;
  t.reserve(bytes);
  std::string key_scratch, value_scratch;
  for (Node value : j) {
    t.set(value.key_view(key_scratch), value.str_view(value_scratch));  // a code past 255 bytes throws
  }
  return t;
}

json pos(const SourcePos& p) { return json::array({p.line, p.column}); }

SourcePos pos_from(Node j) {
  if (list(j).size() != 2) throw std::runtime_error("bad position");
  return SourcePos{j.at(size_t{0}).integer32(), j.at(1).integer32()};
}

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

std::optional<Value> value_from(Node j) {
  if (j.is_null()) return std::nullopt;
  if (list(j).size() != 2) throw std::runtime_error("bad bound");
  const auto index = j.at(size_t{0}).integer();
  const std::string t = j.at(1).str();
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

Sources sources_from(Node j, std::string_view key = "sources") {
  auto sources = j.find(key);
  return sources ? strings(*sources) : Sources{};
}

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

FieldDef field_from(Node j) {
  FieldDef f;
  f.id = j.at("id").str();
  const auto type = type_from_name(j.at("type").str());
  if (!type) throw std::runtime_error("bad type");
  f.type = *type;
  f.values = strings(j.at("values"));
  f.pii = j.at("pii").boolean();
  f.min = value_from(j.at("min"));
  f.max = value_from(j.at("max"));
  if (!j.at("pattern").is_null()) f.pattern = j.at("pattern").str();
  f.label = text_from(j.at("label"));
  for (Node t : list(j.at("value_labels"))) f.value_labels.push_back(text_from(t));
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

StateDef state_from(Node j) {
  StateDef s;
  s.id = j.at("id").str();
  s.label = text_from(j.at("label"));
  s.description = text_from(j.at("description"));
  s.initial = j.at("initial").boolean();
  s.terminal = j.at("terminal").boolean();
  if (!j.at("deadline").is_null()) s.deadline = Duration{j.at("deadline").integer()};
  s.on_deadline = j.at("on_deadline").integer32();
  s.working_days = j.at("working_days").integer();
  s.deadline_from = j.at("deadline_from").integer32();
  s.deadline_text = j.at("deadline_text").str();
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

ClockDef clock_from(Node j) {
  ClockDef c;
  c.id = j.at("id").str();
  c.label = text_from(j.at("label"));
  c.description = text_from(j.at("description"));
  c.start = ints(j.at("start"));
  c.start_at_open = j.at("start_at_open").boolean();
  c.stop = ints(j.at("stop"));
  if (!j.at("limit").is_null()) c.limit = Duration{j.at("limit").integer()};
  c.working_days = j.at("working_days").integer();
  c.limit_from = j.at("limit_from").integer32();
  c.limit_text = j.at("limit_text").str();
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

TransitionDef transition_from(Node j, const std::vector<FieldDef>& fields) {
  TransitionDef t;
  t.index = j.at("index").integer32();
  t.event = j.at("event").integer32();
  t.from = ints(j.at("from"));
  t.to = j.at("to").integer32();
  if (auto stays = j.find("stays")) t.stays = stays->boolean();
  t.guard_text = j.at("guard_text").str();
  // "guard" repeats guard_text when there is one (transition() above).
  if (j.at("guard").is_null() != t.guard_text.empty()) throw std::runtime_error("guard and its text disagree");
  if (!j.at("guard").is_null()) {
    if (j.at("guard").str() != t.guard_text) throw std::runtime_error("guard and its text disagree");
    ParsedExpr parsed = parse_expr(t.guard_text, fields, Type::kBool);
    if (!parsed.expr) throw std::runtime_error("guard no longer parses");
    t.guard = parsed.expr;
  }
  t.roles = ints(j.at("roles"));
  t.requires_fields = ints(j.at("requires"));
  t.accepts_fields = ints(j.at("accepts"));
  for (Node a : list(j.at("set"))) {
    Assignment assignment;
    assignment.field = a.at("field").integer32();
    assignment.text = a.at("text").str();
    assignment.constant = a.at("constant").boolean();
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
  t.reason_required = j.at("reason_required").boolean();
  t.distinct_from = ints(j.at("distinct_from"));
  t.override_roles = ints(j.at("override_roles"));
  // One hand-off is an object, several a list (transition() above).
  auto hand_off = [&](Node o) {
    HandOff h;
    h.sop = o.at("sop").str();
    for (Node pair : list(o.at("copy"))) {
      if (list(pair).size() != 2) throw std::runtime_error("bad hand-off copy");
      h.copy.emplace_back(pair.at(size_t{0}).str(), pair.at(1).integer32());
    }
    for (Node pair : list(o.at("set"))) {
      if (list(pair).size() != 2) throw std::runtime_error("bad hand-off set");
      h.set.emplace_back(pair.at(size_t{0}).str(), pair.at(1).str());
    }
    h.pos = pos_from(o.at("pos"));
    if (auto site = o.find("site")) h.site = site->str();
    if (auto site_field = o.find("site_field")) h.site_field = site_field->integer32();
    t.opens.push_back(std::move(h));
  };
  const Node opens = j.at("opens");
  if (opens.kind() == json_view::Kind::kArray) {
    for (Node o : opens) hand_off(o);
  } else if (!opens.is_null()) {
    hand_off(opens);
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
MigrationDef migration_from(Node j, const Procedure& p) {
  auto in = [](int i, size_t n) { return i >= 0 && static_cast<size_t>(i) < n; };
  MigrationDef m;
  m.from_versions = ints(j.at("from_versions"));
  for (Node s : list(j.at("states"))) {
    MigrationState state;
    state.from = s.at("from").str();
    state.stays = s.at("stays").boolean();
    state.stays_reason = s.at("stays_reason").str();
    state.pos = pos_from(s.at("pos"));
    for (Node b : list(s.at("branches"))) {
      MigrationBranch branch;
      branch.to = b.at("to").integer32();
      if (!in(branch.to, p.states.size())) throw std::runtime_error("bad migration state");
      if (!b.at("when").is_null()) {
        branch.when_text = b.at("when").str();
        ParsedExpr parsed = parse_expr(branch.when_text, p.fields, Type::kBool);
        if (!parsed.expr) throw std::runtime_error("migration guard no longer parses");
        branch.when = parsed.expr;
      }
      branch.pos = pos_from(b.at("pos"));
      state.branches.push_back(std::move(branch));
    }
    m.states.push_back(std::move(state));
  }
  for (Node f : list(j.at("fields"))) {
    MigrationField field;
    field.field = f.at("field").integer32();
    if (!in(field.field, p.fields.size())) throw std::runtime_error("bad migration field");
    field.from = f.at("from").str();
    if (!f.at("default").is_null()) {
      const FieldDef& def = p.fields[static_cast<size_t>(field.field)];
      field.default_text = f.at("default").str();
      std::string accepted;
      field.default_value = parse_typed(def.type, def.values, field.default_text, &accepted);
      if (!field.default_value) throw std::runtime_error("migration default no longer parses");
    }
    field.pos = pos_from(f.at("pos"));
    m.fields.push_back(std::move(field));
  }
  m.drop = strings(j.at("drop"));
  for (Node d : list(j.at("drop_pos"))) m.drop_pos.push_back(pos_from(d));
  if (m.drop_pos.size() != m.drop.size()) throw std::runtime_error("bad migration drop");
  for (Node e : list(j.at("events"))) {
    MigrationEvent event{e.at("from").str(), e.at("to").integer32(), pos_from(e.at("pos"))};
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

namespace {

// decode_procedure's body: the form is read only when it names `sha256`;
// `source`, when given, is kept in the procedure (decode_pinned_procedure
// gives none); the pinned calendars are asked for only when the form names
// one.
ProcedurePtr decode(std::string_view text_in, const std::string& sha256, const std::string* source,
                    const std::string& file, const PinnedCalendars& pinned) {
  try {
    json_view::Document document;
    if (!document.parse(text_in)) return nullptr;
    const Node j = document.root();
    if (j.kind() != json_view::Kind::kObject || j.at("format").str() != kCompiledFormat) return nullptr;
    if (j.at("sha256").str() != sha256) return nullptr;
    auto p = std::make_shared<Procedure>();
    p->sha256 = sha256;
    p->file = file;
    p->id = j.at("id").str();
    p->version = j.at("version").integer32();
    p->title = text_from(j.at("title"));
    p->description = text_from(j.at("description"));
    p->roles = strings(j.at("roles"));
    p->fields.reserve(j.at("fields").size());
    for (Node f : list(j.at("fields"))) p->fields.push_back(field_from(f));
    p->states.reserve(j.at("states").size());
    for (Node s : list(j.at("states"))) p->states.push_back(state_from(s));
    p->events = strings(j.at("events"));
    p->transitions.reserve(j.at("transitions").size());
    for (Node t : list(j.at("transitions"))) p->transitions.push_back(transition_from(t, p->fields));
    for (Node r : list(j.at("closure_reasons")))
      p->closure_reasons.push_back({r.at("id").str(), text_from(r.at("label"))});
    p->initial_state = j.at("initial_state").integer32();
    p->open_declared = j.at("open_declared").boolean();
    p->open_requires = ints(j.at("open_requires"));
    p->open_accepts = ints(j.at("open_accepts"));
    if (auto g = j.find("open_guard"); g && !g->is_null()) {
      p->open_guard_text = g->str();
      ParsedExpr parsed = parse_expr(p->open_guard_text, p->fields, Type::kBool);
      if (!parsed.expr) throw std::runtime_error("open guard no longer parses");
      p->open_guard = parsed.expr;
    }
    p->hold_roles = ints(j.at("hold_roles"));
    p->resume_roles = ints(j.at("resume_roles"));
    p->close_roles = ints(j.at("close_roles"));
    p->reopen_roles = ints(j.at("reopen_roles"));
    p->reopen_to = j.at("reopen_to").integer32();
    p->pii_roles = ints(j.at("pii_roles"));
    p->sources = sources_from(j);
    p->open_sources = sources_from(j, "open_sources");
    for (Node from : list(j.at("transitions_from"))) p->transitions_from.push_back(ints(from));
    p->calendar_names = strings(j.at("calendar"));
    if (!p->calendar_names.empty()) {
      // Counted on the calendar bytes pinned when it was published.
      p->calendar = pinned_calendar(p->calendar_names, pinned());
      if (!p->calendar) return nullptr;
    }
    for (Node c : list(j.at("clocks"))) p->clocks.push_back(clock_from(c));
    if (auto m = j.find("migration")) p->migration = migration_from(*m, *p);
    if (auto r = j.find("retention")) {
      Retention retention;
      retention.count = r->at("count").integer();
      const int unit = r->at("unit").integer32();
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
        if (h.site_field != -1 && !in(h.site_field, fields)) return nullptr;
      }
      for (const Assignment& a : t.set)
        if (!in(a.field, fields)) return nullptr;
    }
    p->build_name_tables();
    p->build_candidate_table();
    p->build_field_checks();
    if (source) p->source = *source;
    return p;
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

ProcedurePtr decode_procedure(std::string_view text, const std::string& source, const std::string& file,
                              const std::map<std::string, CalendarSource>& pinned_calendars) {
  return decode(text, sha256_hex(source), &source, file, [&] { return pinned_calendars; });
}

ProcedurePtr decode_pinned_procedure(std::string_view text, const std::string& sha256, const std::string& file,
                                     const PinnedCalendars& pinned_calendars) {
  return decode(text, sha256, nullptr, file, pinned_calendars);
}

}  // namespace sopir
