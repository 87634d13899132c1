// Walking a procedure's YAML into the compiled form, reporting every hard
// error on the way (FORMAT.md: unknown keys, unknown names, bad values,
// type errors in guards and `set`). Each section is read even when an
// earlier one had errors, so one pass finds everything.
#include <algorithm>
#include <regex>
#include <set>
#include <unordered_map>

#include "lang/expr/expr.h"
#include "lang/deadline_spec.h"
#include "lang/loader_internal.h"
#include "lang/yaml_reader.h"
#include "sopir/messages/lang.h"

namespace sopir {

namespace {

using Keys = std::vector<std::string>;

const Keys kTopKeys = {"sop",         "version",         "title", "description", "roles",
                       "fields",      "states",          "transitions", "closure_reasons",
                       "open",        "lifecycle",       "pii_visible_to", "calendar",
                       "clocks"};
const Keys kRequiredTopKeys = {"sop", "version", "title", "roles", "states", "transitions"};
const Keys kFieldKeys = {"type", "values", "label", "min", "max", "pii", "pattern"};
const Keys kStateKeys = {"label", "description", "initial", "terminal", "deadline", "on_deadline"};
const Keys kTransitionKeys = {"event",         "from",     "to",       "when",  "roles",
                              "requires",      "accepts",  "set",      "reason",
                              "distinct_from", "override", "label",    "description",
                              "opens"};
const Keys kOverrideKeys = {"roles"};
const Keys kOpensKeys = {"sop", "copy", "set"};
const Keys kOpenKeys = {"requires", "accepts", "when"};
const Keys kLifecycleKeys = {"hold", "resume", "close", "reopen", "reopen_to"};
const Keys kClosureKeys = {"id", "label"};
const Keys kValueKeys = {"id", "label"};
// The languages labels may be written in: those sopir shows (--lang).
const Keys kLanguages = {"en", "id"};
// Words an expression reads as something else: not usable as field ids or
// enum values.
const Keys kReservedWords = {"and", "or", "not", "in", "true", "false", "null"};
const Keys kFunctionNames = {"has", "today", "now", "days_since", "len"};

const std::regex& sop_slug() {
  static const std::regex re("[a-z0-9]+(-[a-z0-9]+)*");
  return re;
}
const std::regex& name_slug() {  // roles, fields
  static const std::regex re("[a-z][a-z0-9_]*");
  return re;
}
const std::regex& step_slug() {  // states, events, closure reasons
  static const std::regex re("[a-z][a-z0-9_-]*");
  return re;
}
const std::regex& enum_value_re() {
  static const std::regex re("[A-Za-z][A-Za-z0-9_]*");
  return re;
}
const std::regex& lang_re() {
  static const std::regex re("[a-z]{2,3}(-[A-Za-z0-9]{2,8})*");
  return re;
}

bool contains(const Keys& keys, const std::string& word) {
  return std::find(keys.begin(), keys.end(), word) != keys.end();
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// "; did you mean 'x'?" when a candidate is close, else "; expected one
// of: ..." (or `none` when there are no candidates).
std::string suggestion(const std::string& word, const Keys& candidates, const std::string& none) {
  if (candidates.empty()) return none.empty() ? "" : "; " + none;
  return suggest_name(word, candidates, 16);
}

struct Entry {
  YAML::Node key;
  YAML::Node value;
};

class Builder {
 public:
  Builder(const SourceText& source, DiagnosticSink& sink, Procedure* p, SourceMap* map)
      : source_(source), sink_(sink), p_(*p), map_(*map) {}

  void build(const YAML::Node& root);

 private:
  // --- positions and reporting
  SourcePos pos(const YAML::Node& node) const { return position_of(node.Mark()); }
  // A null value's mark points past it; point at its key instead.
  SourcePos value_pos(const Entry& e) const {
    return e.value.IsNull() || !e.value.IsDefined() ? pos(e.key) : pos(e.value);
  }
  void error(const std::string& code, SourcePos at, const std::string& message) {
    sink_.error(code, at, message);
  }

  // --- generic readers
  std::vector<Entry> entries(const YAML::Node& map, const std::string& where);
  std::unordered_map<std::string, Entry> keyed(const Entry& owner, const Keys& allowed,
                                               const std::string& where);
  std::optional<std::string> scalar(const Entry& e, const std::string& what);
  std::optional<bool> boolean(const Entry& e, const std::string& what);
  Text text(const Entry& e, const std::string& what);
  // A name or a list of names; each with its node.
  std::vector<std::pair<std::string, YAML::Node>> names(const Entry& e, const std::string& what);
  bool check_slug(const std::string& id, const YAML::Node& at, const std::regex& re,
                  const std::string& what, const std::string& accepted);
  std::vector<int> resolve(const Entry& e, const std::string& what, const std::string& kind,
                           const Keys& known, const std::string& code);

  // --- sections
  void read_header(const std::unordered_map<std::string, Entry>& top);
  void read_roles(const Entry& e);
  void read_fields(const Entry& e);
  void read_field(const Entry& e);
  void read_bounds(FieldDef& f, const std::unordered_map<std::string, Entry>& keys);
  void read_values(FieldDef& f, const Entry& e, const std::string& where);
  void add_value(FieldDef& f, const std::string& value, const YAML::Node& node, Text label,
                 const std::string& where);
  void read_states(const Entry& e);
  void read_state(const Entry& e);
  void read_deadline(const Entry& e, StateDef& s, const std::string& where);
  void collect_events(const Entry& e);
  void read_transitions(const Entry& e);
  void read_transition(const Entry& e, int index);
  void read_opens(const Entry& e, TransitionDef& t, const std::string& where);
  std::optional<HandOff> read_handoff(const Entry& e, const std::string& what);
  void read_guard(const Entry& e, TransitionDef& t);
  // A `when:` condition: its text and parsed form (null on errors, reported).
  bool read_condition(const Entry& e, std::string& text, std::shared_ptr<const Expr>& out);
  void read_set(const Entry& e, TransitionDef& t);
  bool read_set_members(const Entry& a, int field, TransitionDef& t);
  void read_state_timers();
  void read_closure_reasons(const Entry& e);
  void read_open(const Entry& e);
  void read_lifecycle(const Entry* e);  // null: no lifecycle section
  void read_clocks(const Entry& e);
  void read_clock(const Entry& e);
  std::vector<int> clock_states(const Entry& e, const std::string& clock, const char* key,
                                const char* word, bool* word_given);
  void read_clock_limit(const Entry& e, ClockDef& c);
  void finish();

  Keys role_ids() const { return p_.roles; }
  Keys state_ids() const { return p_.state_ids(); }
  Keys field_ids() const { return p_.field_ids(); }

  const SourceText& source_;
  DiagnosticSink& sink_;
  Procedure& p_;
  SourceMap& map_;
  Entry states_entry_;
  std::vector<std::optional<Entry>> on_deadline_;  // by state index: the `on_deadline:` entry
};

std::vector<Entry> Builder::entries(const YAML::Node& map, const std::string& where) {
  std::vector<Entry> out;
  std::set<std::string> seen;  // duplicates are reported by the reader; the first wins
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      error("bad-key", pos(it->first), "keys in " + where + " must be plain names, not lists or maps");
      continue;
    }
    if (!seen.insert(it->first.Scalar()).second) continue;
    out.push_back(Entry{it->first, it->second});
  }
  return out;
}

std::unordered_map<std::string, Entry> Builder::keyed(const Entry& owner, const Keys& allowed,
                                                      const std::string& where) {
  std::unordered_map<std::string, Entry> out;
  if (owner.value.IsNull()) return out;
  if (!owner.value.IsMap()) {
    error("bad-value", value_pos(owner),
          where + " must be a map of keys (" + join(allowed) + ")");
    return out;
  }
  for (auto& e : entries(owner.value, where)) {
    const std::string& key = e.key.Scalar();
    if (!contains(allowed, key)) {
      error("unknown-key", pos(e.key),
            "unknown key " + quoted(key) + " in " + where + suggestion(key, allowed, ""));
      continue;
    }
    out.emplace(key, e);
  }
  return out;
}

std::optional<std::string> Builder::scalar(const Entry& e, const std::string& what) {
  if (e.value.IsScalar()) return e.value.Scalar();
  if (e.value.IsNull()) {
    error("bad-value", value_pos(e), what + " has no value");
  } else {
    error("bad-value", value_pos(e),
          what + " must be a single value, not a " + (e.value.IsMap() ? "map" : "list"));
  }
  return std::nullopt;
}

std::optional<bool> Builder::boolean(const Entry& e, const std::string& what) {
  auto s = scalar(e, what);
  if (!s) return std::nullopt;
  if (auto b = parse_bool(*s)) return b;
  error("bad-value", value_pos(e), what + " must be true or false, not " + quoted(*s));
  return std::nullopt;
}

Text Builder::text(const Entry& e, const std::string& what) {
  Text out;
  if (e.value.IsScalar()) {
    out.by_lang[""] = e.value.Scalar();
  } else if (e.value.IsMap()) {
    for (auto& lang : entries(e.value, what)) {
      const std::string& code = lang.key.Scalar();
      if (!std::regex_match(code, lang_re())) {
        error("bad-value", pos(lang.key),
              quoted(code) + " in " + what + " is not a language code; use codes like en, id");
        continue;
      }
      if (!contains(kLanguages, code)) {
        error("bad-value", pos(lang.key),
              "unknown language " + quoted(code) + " in " + what + "; labels are written in " +
                  join(kLanguages, " and "));
        continue;
      }
      if (!lang.value.IsScalar()) {
        error("bad-value", value_pos(lang), what + " in " + code + " must be text");
        continue;
      }
      out.by_lang[code] = lang.value.Scalar();
    }
  } else {
    error("bad-value", value_pos(e),
          what + " must be text, or a map of language to text like {en: ..., id: ...}");
  }
  if (!out.empty()) map_.texts.push_back(SourceMap::TextSite{out, value_pos(e), what});
  return out;
}

std::vector<std::pair<std::string, YAML::Node>> Builder::names(const Entry& e,
                                                               const std::string& what) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  if (e.value.IsNull()) return out;
  if (e.value.IsScalar()) {
    out.emplace_back(e.value.Scalar(), e.value);
    return out;
  }
  if (e.value.IsMap()) {
    error("bad-value", value_pos(e), what + " must be a name or a list of names, not a map");
    return out;
  }
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    if (!it->IsScalar()) {
      error("bad-value", pos(*it), "each entry of " + what + " must be a plain name");
      continue;
    }
    out.emplace_back(it->Scalar(), *it);
  }
  return out;
}

bool Builder::check_slug(const std::string& id, const YAML::Node& at, const std::regex& re,
                         const std::string& what, const std::string& accepted) {
  if (std::regex_match(id, re)) return true;
  error("bad-id", pos(at), quoted(id) + " is not a valid " + what + " id; use " + accepted);
  return false;
}

// Resolves names against `known`, reporting unknown and repeated ones.
std::vector<int> Builder::resolve(const Entry& e, const std::string& what, const std::string& kind,
                                  const Keys& known, const std::string& code) {
  std::vector<int> out;
  for (auto& [name, node] : names(e, what)) {
    auto it = std::find(known.begin(), known.end(), name);
    if (it == known.end()) {
      error(code, pos(node),
            "unknown " + kind + " " + quoted(name) + " in " + what +
                suggestion(name, known, "no " + kind + "s are declared"));
      continue;
    }
    const int index = static_cast<int>(it - known.begin());
    if (std::find(out.begin(), out.end(), index) != out.end()) {
      error("duplicate-id", pos(node), kind + " " + quoted(name) + " is listed twice in " + what);
      continue;
    }
    out.push_back(index);
  }
  return out;
}

void Builder::build(const YAML::Node& root) {
  Entry whole{YAML::Node(), root};
  auto top = keyed(whole, kTopKeys, "the procedure");
  for (const auto& key : kRequiredTopKeys) {
    if (!top.count(key)) error("missing-key", SourcePos{}, "missing key " + quoted(key) + " in the procedure");
  }
  auto section = [&](const char* key) -> const Entry* {
    auto it = top.find(key);
    return it == top.end() ? nullptr : &it->second;
  };
  read_header(top);
  if (auto* e = section("roles")) read_roles(*e);
  if (auto* e = section("fields")) read_fields(*e);
  if (auto* e = section("calendar")) {
    for (auto& [name, node] : names(*e, "calendar")) {
      p_.calendar_names.push_back(name);
      map_.calendar_pos.push_back(pos(node));
    }
  }
  if (auto* e = section("states")) read_states(*e);
  if (auto* e = section("transitions")) {
    collect_events(*e);
    read_transitions(*e);
  }
  read_state_timers();
  if (auto* e = section("closure_reasons")) read_closure_reasons(*e);
  if (auto* e = section("open")) read_open(*e);
  read_lifecycle(section("lifecycle"));
  if (auto* e = section("pii_visible_to")) {
    p_.pii_roles = resolve(*e, "pii_visible_to", "role", role_ids(), "unknown-role");
  }
  if (auto* e = section("clocks")) read_clocks(*e);
  finish();
}

void Builder::read_header(const std::unordered_map<std::string, Entry>& top) {
  if (auto it = top.find("sop"); it != top.end()) {
    if (auto id = scalar(it->second, "sop")) {
      if (check_slug(*id, it->second.value, sop_slug(), "procedure",
                     "lowercase letters and digits in words joined by '-', like aid-distribution")) {
        p_.id = *id;
      }
    }
  }
  if (auto it = top.find("version"); it != top.end()) {
    if (auto v = scalar(it->second, "version")) {
      auto n = parse_int(*v);
      if (!n || *n < 1 || *n > 2147483647) {
        error("bad-value", value_pos(it->second),
              "version " + quoted(*v) + " must be a whole number from 1 to 2147483647");
      } else {
        p_.version = static_cast<int>(*n);
      }
    }
  }
  if (auto it = top.find("title"); it != top.end()) p_.title = text(it->second, "title");
  if (auto it = top.find("description"); it != top.end()) {
    p_.description = text(it->second, "description of the procedure");
  }
}

void Builder::read_roles(const Entry& e) {
  for (auto& [name, node] : names(e, "roles")) {
    if (!check_slug(name, node, name_slug(), "role", "lowercase letters, digits and _, like case_worker")) {
      continue;
    }
    if (contains(p_.roles, name)) {
      error("duplicate-id", pos(node), "role " + quoted(name) + " is declared twice");
      continue;
    }
    p_.roles.push_back(name);
    map_.role_pos.push_back(pos(node));
  }
}

void Builder::read_fields(const Entry& e) {
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    error("bad-value", value_pos(e), "fields must be a map of field id to its definition");
    return;
  }
  for (auto& f : entries(e.value, "fields")) read_field(f);
}

void Builder::read_field(const Entry& e) {
  FieldDef f;
  f.id = e.key.Scalar();
  f.pos = pos(e.key);
  const std::string where = "field " + quoted(f.id);
  bool ok = check_slug(f.id, e.key, name_slug(), "field", "lowercase letters, digits and _, like full_name");
  if (ok && (contains(kReservedWords, f.id) || contains(kFunctionNames, f.id))) {
    error("bad-id", pos(e.key), quoted(f.id) + " is a word of the guard language; choose another field id");
    ok = false;
  }
  auto keys = keyed(e, kFieldKeys, where);
  if (e.value.IsNull() || (e.value.IsMap() && !keys.count("type"))) {
    error("missing-key", pos(e.key),
          where + " has no 'type'; give one of: string, int, bool, date, datetime, enum, duration, set");
    ok = false;
  } else if (auto it = keys.find("type"); it != keys.end()) {
    if (auto name = scalar(it->second, where + " type")) {
      if (auto type = type_from_name(*name)) {
        f.type = *type;
      } else {
        error("bad-value", value_pos(it->second),
              "unknown type " + quoted(*name) + " for " + where +
                  suggestion(*name, {"string", "int", "bool", "date", "datetime", "enum", "duration", "set"}, ""));
        ok = false;
      }
    }
  }
  if (auto it = keys.find("values"); it != keys.end()) {
    if (f.type != Type::kEnum && f.type != Type::kSet) {
      error("bad-value", pos(it->second.key),
            where + " has values but is not an enum or a set; add type: enum (or set) or remove values");
    } else {
      read_values(f, it->second, where);
    }
  }
  if ((f.type == Type::kEnum || f.type == Type::kSet) && f.values.empty() && keys.count("type")) {
    auto it = keys.find("values");
    error("bad-enum-value", it == keys.end() ? pos(e.key) : value_pos(it->second),
          where + " is " + (f.type == Type::kSet ? "a set" : "an enum") +
              " but lists no values; add values: [a, b, ...]");
  }
  if (auto it = keys.find("pii"); it != keys.end()) {
    if (auto b = boolean(it->second, where + " pii")) f.pii = *b;
  }
  if (auto it = keys.find("label"); it != keys.end()) f.label = text(it->second, "label of " + where);
  if (auto it = keys.find("pattern"); it != keys.end()) {
    if (auto pattern = scalar(it->second, where + " pattern")) {
      if (f.type != Type::kString) {
        error("bad-pattern", pos(it->second.key), where + " has a pattern but is not a string field");
      } else if (pattern->size() > 1000) {
        error("bad-pattern", value_pos(it->second), "pattern of " + where + " is longer than 1000 characters");
      } else {
        try {
          std::regex re(*pattern, std::regex::ECMAScript);
          f.pattern = *pattern;
        } catch (const std::regex_error& ex) {
          error("bad-pattern", value_pos(it->second),
                "pattern of " + where + " is not a valid ECMAScript regular expression: " + ex.what());
        }
      }
    }
  }
  read_bounds(f, keys);
  if (ok && contains(p_.field_ids(), f.id)) ok = false;  // duplicate key, reported by the reader
  if (ok) p_.fields.push_back(std::move(f));
}

// values: [a, b] or a list whose entries may be {id: a, label: {en: .., id: ..}}.
void Builder::read_values(FieldDef& f, const Entry& e, const std::string& where) {
  const std::string what = where + " values";
  if (!e.value.IsSequence()) {
    if (e.value.IsMap()) {
      error("bad-value", value_pos(e), what + " must be a list of ids or {id:, label:} maps");
      return;
    }
    for (auto& [value, node] : names(e, what)) add_value(f, value, node, Text{}, where);
    return;
  }
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    if (it->IsScalar()) {
      add_value(f, it->Scalar(), *it, Text{}, where);
      continue;
    }
    if (!it->IsMap()) {
      error("bad-value", pos(*it), "each entry of " + what + " must be an id or a map {id:, label:}");
      continue;
    }
    auto keys = keyed(Entry{e.key, *it}, kValueKeys, "a value of " + where);
    auto id = keys.find("id");
    if (id == keys.end()) {
      error("missing-key", pos(*it), "a value of " + where + " has no 'id'");
      continue;
    }
    auto name = scalar(id->second, "id of a value of " + where);
    if (!name) continue;
    Text label;
    if (auto l = keys.find("label"); l != keys.end()) {
      label = text(l->second, "label of value " + quoted(*name) + " of " + where);
    }
    add_value(f, *name, id->second.value, std::move(label), where);
  }
}

void Builder::add_value(FieldDef& f, const std::string& value, const YAML::Node& node, Text label,
                        const std::string& where) {
  if (!std::regex_match(value, enum_value_re()) || contains(kReservedWords, value)) {
    error("bad-enum-value", pos(node),
          "enum value " + quoted(value) + " of " + where +
              " must be a name (letters, digits, _) that is not one of: " + join(kReservedWords));
  } else if (contains(f.values, value)) {
    error("duplicate-id", pos(node), "enum value " + quoted(value) + " is listed twice in " + where);
  } else {
    f.values.push_back(value);
    f.value_labels.push_back(std::move(label));
  }
}

void Builder::read_bounds(FieldDef& f, const std::unordered_map<std::string, Entry>& keys) {
  const std::string where = "field " + quoted(f.id);
  auto bound = [&](const char* key) -> std::optional<Value> {
    auto it = keys.find(key);
    if (it == keys.end()) return std::nullopt;
    auto text = scalar(it->second, std::string(key) + " of " + where);
    if (!text) return std::nullopt;
    std::optional<Value> v;
    std::string accepted;
    switch (f.type) {
      case Type::kString:
        if (auto n = parse_int(*text); n && *n >= 0) v = *n;
        accepted = "a length: a whole number 0 or more";
        break;
      case Type::kInt:
      case Type::kDate:
      case Type::kDateTime:
      case Type::kDuration:
        v = parse_typed(f.type, {}, *text, &accepted);
        break;
      case Type::kBool:
      case Type::kEnum:
      case Type::kSet:
        error("bad-bound", pos(it->second.key),
              where + " is " +
                  (f.type == Type::kBool ? "a bool" : f.type == Type::kSet ? "a set" : "an enum") +
                  " and cannot have " + key);
        return std::nullopt;
    }
    if (!v) {
      error("bad-bound", value_pos(it->second),
            std::string(key) + " of " + where + " (" + type_name(f.type) + ") is " + quoted(*text) +
                "; expected " + accepted);
    }
    return v;
  };
  f.min = bound("min");
  f.max = bound("max");
  if (f.min && f.max) {
    auto order = compare_values(*f.min, *f.max);
    if (order && *order > 0) {
      error("bad-bound", value_pos(keys.at("max")),
            "max of " + where + " (" + format_value(*f.max) + ") is below its min (" +
                format_value(*f.min) + ")");
    }
  }
}

void Builder::read_states(const Entry& e) {
  states_entry_ = e;
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    error("bad-value", value_pos(e), "states must be a map of state id to its definition");
    return;
  }
  for (auto& s : entries(e.value, "states")) read_state(s);
  std::vector<int> initials;
  for (size_t i = 0; i < p_.states.size(); ++i) {
    if (p_.states[i].initial) initials.push_back(static_cast<int>(i));
  }
  if (initials.empty()) {
    if (!p_.states.empty()) {
      error("no-initial-state", pos(e.key), "no state is marked initial: true; exactly one state starts a case");
    }
  } else {
    p_.initial_state = initials[0];
    for (size_t i = 1; i < initials.size(); ++i) {
      error("several-initial-states", p_.states[initials[i]].pos,
            "state " + quoted(p_.states[initials[i]].id) + " is marked initial, and so is " +
                quoted(p_.states[initials[0]].id) + "; exactly one state starts a case");
    }
  }
}

void Builder::read_state(const Entry& e) {
  StateDef s;
  s.id = e.key.Scalar();
  s.pos = pos(e.key);
  const std::string where = "state " + quoted(s.id);
  const bool ok = check_slug(s.id, e.key, step_slug(), "state",
                             "lowercase letters, digits, _ and -, like follow_up");
  auto keys = keyed(e, kStateKeys, where);
  if (auto it = keys.find("label"); it != keys.end()) s.label = text(it->second, "label of " + where);
  if (auto it = keys.find("description"); it != keys.end()) {
    s.description = text(it->second, "description of " + where);
  }
  if (auto it = keys.find("initial"); it != keys.end()) {
    if (auto b = boolean(it->second, "initial of " + where)) s.initial = *b;
  }
  if (auto it = keys.find("terminal"); it != keys.end()) {
    if (auto b = boolean(it->second, "terminal of " + where)) s.terminal = *b;
  }
  if (auto it = keys.find("deadline"); it != keys.end()) read_deadline(it->second, s, where);
  std::optional<Entry> timer;
  if (auto it = keys.find("on_deadline"); it != keys.end()) {
    timer = it->second;
    if (!keys.count("deadline")) {
      error("missing-key", pos(timer->key), where + " has on_deadline but no deadline; add deadline: 7d (say)");
    }
  }
  if (!ok || contains(p_.state_ids(), s.id)) return;
  map_.deadline_pos.push_back(keys.count("deadline") ? value_pos(keys.at("deadline")) : SourcePos{});
  p_.states.push_back(std::move(s));
  on_deadline_.push_back(timer);
}

// `deadline:` of a state: a duration (7d), N working days, either one
// `from FIELD` (a date or datetime field). See DeadlineSpec (deadline_spec.h).
void Builder::read_deadline(const Entry& e, StateDef& s, const std::string& where) {
  auto d = scalar(e, "deadline of " + where);
  if (!d) return;
  const std::string what = "deadline of " + where;
  auto spec = parse_deadline_spec(*d);
  if (!spec) {
    error("bad-duration", value_pos(e),
          what + " is " + quoted(*d) +
              "; expected a duration like 24h, 7d or 1d12h (units w d h m s), N working days, "
              "either one followed by from and a date field");
    return;
  }
  if (spec->working_days <= 0 && (!spec->duration || spec->duration->seconds <= 0)) {
    error("bad-duration", value_pos(e), what + " is " + quoted(*d) + "; a deadline must be longer than 0s");
    return;
  }
  if (spec->working_days > 0 && p_.calendar_names.empty()) {
    error("unknown-calendar", value_pos(e),
          what + " counts working days, but the procedure names no calendar; add calendar: indonesia");
  }
  if (!spec->from.empty()) {
    const SourcePos at = deadline_anchor_pos(source_, value_pos(e), *d, spec->from_offset);
    const int f = p_.field_index(spec->from);
    if (f < 0) {
      error("unknown-field", at,
            "unknown field " + quoted(spec->from) + " in " + what +
                suggestion(spec->from, field_ids(), "no fields are declared"));
      return;
    }
    const Type type = p_.fields[f].type;
    if (type != Type::kDate && type != Type::kDateTime) {
      error("bad-anchor", at,
            what + " counts from field " + quoted(spec->from) + ", which is a " + type_name(type) +
                "; a deadline can count from a date or datetime field");
      return;
    }
    s.deadline_from = f;
  }
  s.deadline = spec->duration;
  s.working_days = spec->working_days;
  s.deadline_text = *d;
}

void Builder::collect_events(const Entry& e) {
  if (!e.value.IsSequence()) return;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    if (!it->IsMap()) continue;
    for (auto& entry : entries(*it, "a transition")) {
      if (entry.key.Scalar() != "event" || !entry.value.IsScalar()) continue;
      const std::string& name = entry.value.Scalar();
      if (std::regex_match(name, step_slug()) && !contains(p_.events, name)) p_.events.push_back(name);
    }
  }
}

void Builder::read_transitions(const Entry& e) {
  if (e.value.IsNull()) return;
  if (!e.value.IsSequence()) {
    error("bad-value", value_pos(e), "transitions must be a list, each entry starting with '- event:'");
    return;
  }
  int index = 0;
  for (auto it = e.value.begin(); it != e.value.end(); ++it, ++index) {
    read_transition(Entry{e.key, *it}, index);
  }
}

void Builder::read_transition(const Entry& e, int index) {
  TransitionDef t;
  t.index = static_cast<int>(p_.transitions.size());
  t.pos = pos(e.value);
  std::string where = "transition " + std::to_string(index + 1);
  if (!e.value.IsMap()) {
    error("bad-value", pos(e.value), where + " must be a map with event, from, to, roles");
    return;
  }
  // Name the transition by its event when it has one.
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "event" && it->second.IsScalar()) {
      where = "transition " + quoted(it->second.Scalar());
      break;
    }
  }
  auto keys = keyed(e, kTransitionKeys, where);
  for (const char* required : {"event", "from", "to"}) {
    if (!keys.count(required)) {
      error("missing-key", t.pos, where + " has no " + quoted(required));
    }
  }
  if (auto it = keys.find("event"); it != keys.end()) {
    if (auto name = scalar(it->second, "event of " + where)) {
      if (check_slug(*name, it->second.value, step_slug(), "event", "lowercase letters, digits, _ and -, like approve")) {
        t.event = p_.event_index(*name);
      }
    }
  }
  if (auto it = keys.find("from"); it != keys.end()) {
    if (it->second.value.IsScalar() && it->second.value.Scalar() == "*") {
      for (size_t s = 0; s < p_.states.size(); ++s) {
        if (!p_.states[s].terminal) t.from.push_back(static_cast<int>(s));
      }
    } else {
      t.from = resolve(it->second, "from of " + where, "state", state_ids(), "unknown-state");
      if (it->second.value.IsSequence() && it->second.value.size() == 0) {
        error("bad-value", value_pos(it->second), "from of " + where + " is empty; name a state, a list of states, or '*'");
      }
    }
  }
  if (auto it = keys.find("to"); it != keys.end()) {
    if (it->second.value.IsScalar() && it->second.value.Scalar() == "*") {
      t.stays = true;  // stays where it is
    } else if (auto name = scalar(it->second, "to of " + where)) {
      t.to = p_.state_index(*name);
      if (t.to < 0) {
        error("unknown-state", value_pos(it->second),
              "unknown state " + quoted(*name) + " in to of " + where +
                  suggestion(*name, state_ids(), "no states are declared"));
      }
    }
  }
  map_.guard_start.push_back(std::string::npos);
  if (auto it = keys.find("when"); it != keys.end()) read_guard(it->second, t);
  map_.roles_pos.push_back(t.pos);
  if (auto it = keys.find("roles"); it != keys.end()) {
    map_.roles_pos.back() = pos(it->second.key);
    t.roles = resolve(it->second, "roles of " + where, "role", role_ids(), "unknown-role");
  }
  if (auto it = keys.find("requires"); it != keys.end()) {
    t.requires_fields = resolve(it->second, "requires of " + where, "field", field_ids(), "unknown-field");
  }
  if (auto it = keys.find("accepts"); it != keys.end()) {
    t.accepts_fields = resolve(it->second, "accepts of " + where, "field", field_ids(), "unknown-field");
  }
  if (auto it = keys.find("set"); it != keys.end()) read_set(it->second, t);
  if (auto it = keys.find("reason"); it != keys.end()) {
    if (auto r = scalar(it->second, "reason of " + where)) {
      if (*r == "required") {
        t.reason_required = true;
      } else if (*r != "optional") {
        error("bad-value", value_pos(it->second),
              "reason of " + where + " is " + quoted(*r) + "; expected required or optional");
      }
    }
  }
  if (auto it = keys.find("distinct_from"); it != keys.end()) {
    t.distinct_from = resolve(it->second, "distinct_from of " + where, "event", p_.events, "unknown-event");
  }
  if (auto it = keys.find("override"); it != keys.end()) {
    auto o = keyed(it->second, kOverrideKeys, "override of " + where);
    if (auto r = o.find("roles"); r != o.end()) {
      t.override_roles = resolve(r->second, "override roles of " + where, "role", role_ids(), "unknown-role");
    } else if (!it->second.value.IsNull() && it->second.value.IsMap()) {
      error("missing-key", pos(it->second.key), "override of " + where + " has no 'roles'");
    }
  }
  if (auto it = keys.find("opens"); it != keys.end()) read_opens(it->second, t, where);
  if (auto it = keys.find("label"); it != keys.end()) t.label = text(it->second, "label of " + where);
  if (auto it = keys.find("description"); it != keys.end()) {
    t.description = text(it->second, "description of " + where);
  }
  p_.transitions.push_back(std::move(t));
}

// opens: {sop: ID, copy: [field, ...] or {their_field: our_field}, set: {their_field: value}}
// or a list of those (tracks: cases that run beside this one). What only
// the other procedure can tell (its fields, its open: section) is checked
// when publishing (engine/src/rules/handoff.cc).
void Builder::read_opens(const Entry& e, TransitionDef& t, const std::string& where) {
  const std::string what = "opens of " + where;
  if (!e.value.IsSequence()) {
    if (auto h = read_handoff(e, what)) t.opens.push_back(std::move(*h));
    return;
  }
  if (e.value.size() == 0)
    error("bad-value", value_pos(e), what + " is an empty list; name at least one procedure to open");
  for (size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node item = e.value[i];
    auto h = read_handoff(Entry{item, item}, what + ", item " + std::to_string(i + 1));
    if (!h) continue;
    auto same = std::find_if(t.opens.begin(), t.opens.end(),
                             [&](const HandOff& o) { return !h->sop.empty() && o.sop == h->sop; });
    if (same != t.opens.end()) {
      error("duplicate-id", h->pos,
            where + " opens '" + h->sop + "' twice (first at line " + std::to_string(same->pos.line) +
                "); a step opens one case per track");
      continue;
    }
    t.opens.push_back(std::move(*h));
  }
}

std::optional<HandOff> Builder::read_handoff(const Entry& e, const std::string& what) {
  if (!e.value.IsMap() && !e.value.IsNull()) {
    keyed(e, kOpensKeys, what);  // reports what it must be
    return std::nullopt;
  }
  auto o = keyed(e, kOpensKeys, what);
  HandOff h;
  h.pos = pos(e.key);
  if (auto it = o.find("sop"); it != o.end()) {
    if (auto sop = scalar(it->second, "sop of " + what)) {
      if (!std::regex_match(*sop, sop_slug())) {
        error("bad-id", value_pos(it->second),
              "sop of " + what + " is " + quoted(*sop) + "; a procedure id is a slug like tppo-victim-care");
      }
      h.sop = *sop;
    }
  } else if (e.value.IsMap()) {
    error("missing-key", pos(e.key), what + " has no 'sop': name the procedure the new case follows");
  }
  if (auto it = o.find("copy"); it != o.end()) {
    const YAML::Node& copy = it->second.value;
    if (copy.IsSequence()) {
      for (int f : resolve(it->second, "copy of " + what, "field", field_ids(), "unknown-field"))
        h.copy.emplace_back(p_.fields[f].id, f);
    } else if (copy.IsMap()) {
      for (auto& c : entries(copy, "copy of " + what)) {
        auto ours = scalar(c, "copy " + c.key.Scalar());
        if (!ours) continue;
        const int f = p_.field_index(*ours);
        if (f < 0) {
          error("unknown-field", value_pos(c),
                "unknown field " + quoted(*ours) + " in copy of " + what +
                    suggestion(*ours, field_ids(), "no fields are declared"));
          continue;
        }
        h.copy.emplace_back(c.key.Scalar(), f);
      }
    } else if (!copy.IsNull()) {
      error("bad-value", value_pos(it->second),
            "copy of " + what + " must be a list of fields, or a map of their field to ours");
    }
  }
  if (auto it = o.find("set"); it != o.end()) {
    if (it->second.value.IsMap()) {
      for (auto& s : entries(it->second.value, "set of " + what)) {
        if (auto value = scalar(s, "set " + s.key.Scalar())) h.set.emplace_back(s.key.Scalar(), *value);
      }
    } else if (!it->second.value.IsNull()) {
      error("bad-value", value_pos(it->second), "set of " + what + " must be a map of field to value");
    }
  }
  return h;
}

void Builder::read_guard(const Entry& e, TransitionDef& t) {
  const size_t start = static_cast<size_t>(std::max(e.value.Mark().pos, 0));
  if (read_condition(e, t.guard_text, t.guard)) map_.guard_start.back() = start;
}

bool Builder::read_condition(const Entry& e, std::string& text_out, std::shared_ptr<const Expr>& out) {
  auto text = scalar(e, "guard (when)");
  if (!text) return false;
  text_out = *text;
  const size_t start = static_cast<size_t>(std::max(e.value.Mark().pos, 0));
  ParsedExpr parsed = parse_expr(*text, p_.fields, Type::kBool);
  for (const auto& err : parsed.errors) {
    error("bad-guard", source_.position(source_.scalar_byte(start, *text, err.offset)),
          "in guard: " + err.message);
  }
  out = parsed.expr;
  return true;
}

namespace {

bool is_identifier(const std::string& s) {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(s, re);
}

}  // namespace

// A set field given its members in `set:`, as a YAML list ([a, b], [] for
// none) or as plain text "a, b": each member is checked where it is
// written. False when the value is something else (an expression).
bool Builder::read_set_members(const Entry& a, int field, TransitionDef& t) {
  const FieldDef& f = p_.fields[field];
  const std::string where = "set field " + quoted(f.id);
  std::vector<std::pair<std::string, SourcePos>> members;
  if (a.value.IsSequence()) {
    for (auto it = a.value.begin(); it != a.value.end(); ++it) {
      if (!it->IsScalar()) {
        error("bad-value", pos(*it), "each member of " + where + " in set must be a value id");
        return true;
      }
      members.emplace_back(it->Scalar(), pos(*it));
    }
  } else if (a.value.IsScalar()) {
    const std::string& text = a.value.Scalar();
    if (text.empty() || text[0] == '[' || p_.field_index(text) >= 0) return false;
    if (!std::regex_match(text, std::regex("[A-Za-z0-9_]+( *, *[A-Za-z0-9_]+)*"))) return false;
    const size_t start = static_cast<size_t>(std::max(a.value.Mark().pos, 0));
    size_t at = 0;
    for (const std::string& m : set_members(text)) {
      at = text.find(m, at);
      members.emplace_back(m, source_.position(source_.scalar_byte(start, text, at)));
      at += m.size();
    }
  } else {
    return false;
  }
  std::vector<std::string> ids;
  bool ok = true;
  for (const auto& [m, at] : members) {
    if (!contains(f.values, m)) {
      error("bad-enum-value", at,
            quoted(m) + " is not a value of " + where + suggestion(m, f.values, ""));
      ok = false;
    }
    ids.push_back(m);
  }
  if (!ok) return true;
  Assignment assignment;
  assignment.field = field;
  assignment.text = *canonical_set(f.values, ids);
  assignment.expr = constant_expr(assignment.text, Type::kSet);
  assignment.constant = true;
  t.set.push_back(std::move(assignment));
  return true;
}

void Builder::read_set(const Entry& e, TransitionDef& t) {
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    error("bad-value", value_pos(e), "set must be a map of field to value, like {approved_on: today()}");
    return;
  }
  for (auto& a : entries(e.value, "set")) {
    const std::string& name = a.key.Scalar();
    const int field = p_.field_index(name);
    if (field < 0) {
      error("unknown-field", pos(a.key),
            "unknown field " + quoted(name) + " in set" + suggestion(name, field_ids(), "no fields are declared"));
      continue;
    }
    if (p_.fields[field].type == Type::kSet && read_set_members(a, field, t)) continue;
    auto text = scalar(a, "set " + name);
    if (!text) continue;
    const FieldDef& f = p_.fields[field];
    Assignment assignment;
    assignment.field = field;
    assignment.text = *text;
    std::string accepted;
    const size_t start = static_cast<size_t>(std::max(a.value.Mark().pos, 0));
    std::optional<Value> literal = parse_typed(f.type, f.values, *text, &accepted);
    if (!literal && f.type == Type::kEnum && is_identifier(*text) && p_.field_index(*text) < 0) {
      error("bad-enum-value", value_pos(a),
            quoted(*text) + " is not a value of enum field " + quoted(name) +
                suggestion(*text, f.values, ""));
      continue;
    }
    if (literal) {
      // A plain value of the field's type: no expression to parse, so enum
      // values that look like field names or are not identifiers stay values.
      assignment.expr = constant_expr(*literal, f.type);
      assignment.constant = true;
      t.set.push_back(std::move(assignment));
      continue;
    }
    ParsedExpr parsed = parse_expr(*text, p_.fields, f.type, f.values);
    for (const auto& err : parsed.errors) {
      const size_t at = source_.scalar_byte(start, *text, err.offset);
      std::string message = "in set " + name + ": " + err.message + " (" + name + " takes " +
                            accepted + ")";
      error("bad-set", source_.position(at), message);
    }
    assignment.expr = parsed.expr;
    t.set.push_back(std::move(assignment));
  }
}

void Builder::read_state_timers() {
  for (size_t s = 0; s < p_.states.size(); ++s) {
    if (!on_deadline_[s]) continue;
    const Entry& timer = *on_deadline_[s];
    auto name = scalar(timer, "on_deadline of state " + quoted(p_.states[s].id));
    if (!name) continue;
    const int event = p_.event_index(*name);
    if (event < 0) {
      error("unknown-event", value_pos(timer),
            "unknown event " + quoted(*name) + " in on_deadline of state " + quoted(p_.states[s].id) +
                suggestion(*name, p_.events, "no events are declared"));
      continue;
    }
    bool leaves = false;
    for (const auto& t : p_.transitions) {
      if (t.event == event && std::count(t.from.begin(), t.from.end(), static_cast<int>(s))) leaves = true;
    }
    if (!leaves) {
      error("unknown-event", value_pos(timer),
            "on_deadline event " + quoted(*name) + " has no transition from state " +
                quoted(p_.states[s].id) + "; the timer could never fire it");
      continue;
    }
    p_.states[s].on_deadline = event;
  }
}

void Builder::read_closure_reasons(const Entry& e) {
  if (e.value.IsNull()) return;
  if (!e.value.IsSequence()) {
    error("bad-value", value_pos(e), "closure_reasons must be a list of ids or {id:, label:} maps");
    return;
  }
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    ClosureReason reason;
    YAML::Node id_node = *it;
    if (it->IsMap()) {
      auto keys = keyed(Entry{e.key, *it}, kClosureKeys, "a closure reason");
      auto id = keys.find("id");
      if (id == keys.end()) {
        error("missing-key", pos(*it), "closure reason has no 'id'");
        continue;
      }
      id_node = id->second.value;
      if (auto l = keys.find("label"); l != keys.end()) {
        reason.label = text(l->second, "label of closure reason");
      }
    }
    if (!id_node.IsScalar()) {
      error("bad-value", pos(id_node), "a closure reason is an id or a map {id:, label:}");
      continue;
    }
    reason.id = id_node.Scalar();
    if (!check_slug(reason.id, id_node, step_slug(), "closure reason", "lowercase letters, digits, _ and -")) continue;
    bool taken = false;
    for (const auto& r : p_.closure_reasons) taken = taken || r.id == reason.id;
    if (taken) {
      error("duplicate-id", pos(id_node), "closure reason " + quoted(reason.id) + " is listed twice");
      continue;
    }
    p_.closure_reasons.push_back(std::move(reason));
  }
}

void Builder::read_open(const Entry& e) {
  p_.open_declared = true;
  auto keys = keyed(e, kOpenKeys, "open");
  if (auto it = keys.find("requires"); it != keys.end()) {
    p_.open_requires = resolve(it->second, "open requires", "field", field_ids(), "unknown-field");
  }
  if (auto it = keys.find("accepts"); it != keys.end()) {
    p_.open_accepts = resolve(it->second, "open accepts", "field", field_ids(), "unknown-field");
  }
  if (auto it = keys.find("when"); it != keys.end()) read_condition(it->second, p_.open_guard_text, p_.open_guard);
}

void Builder::read_lifecycle(const Entry* e) {
  std::vector<int> all;
  for (size_t r = 0; r < p_.roles.size(); ++r) all.push_back(static_cast<int>(r));
  p_.hold_roles = p_.resume_roles = p_.close_roles = p_.reopen_roles = all;
  if (!e) return;
  auto keys = keyed(*e, kLifecycleKeys, "lifecycle");
  const std::pair<const char*, std::vector<int>*> lists[] = {
      {"hold", &p_.hold_roles}, {"resume", &p_.resume_roles}, {"close", &p_.close_roles},
      {"reopen", &p_.reopen_roles}};
  for (auto& [key, out] : lists) {
    if (auto it = keys.find(key); it != keys.end()) {
      *out = resolve(it->second, std::string("lifecycle ") + key, "role", role_ids(), "unknown-role");
      map_.lifecycle_roles.insert(map_.lifecycle_roles.end(), out->begin(), out->end());
    }
  }
  if (auto it = keys.find("reopen_to"); it != keys.end()) {
    if (auto name = scalar(it->second, "lifecycle reopen_to")) {
      const int s = p_.state_index(*name);
      if (s < 0) {
        error("unknown-state", value_pos(it->second),
              "unknown state " + quoted(*name) + " in lifecycle reopen_to" +
                  suggestion(*name, state_ids(), "no states are declared"));
      } else if (p_.states[s].terminal) {
        error("bad-value", value_pos(it->second),
              "lifecycle reopen_to names terminal state " + quoted(*name) + "; a reopened case needs a state that is not an end");
      } else {
        p_.reopen_to = s;
      }
    }
  }
}

// `clocks:` (ClockDef): case-level clocks over several states.
const Keys kClockKeys = {"label", "description", "start", "stop", "limit"};

void Builder::read_clocks(const Entry& e) {
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    error("bad-value", value_pos(e), tr(msg::clock_section_not_map));
    return;
  }
  for (auto& c : entries(e.value, "clocks")) read_clock(c);
}

void Builder::read_clock(const Entry& e) {
  ClockDef c;
  c.id = e.key.Scalar();
  c.pos = pos(e.key);
  const bool ok = std::regex_match(c.id, name_slug());
  if (!ok) error("bad-id", pos(e.key), tr(msg::clock_bad_id, {c.id}));
  const std::string where = "clock " + quoted(c.id);
  auto keys = keyed(e, kClockKeys, where);
  if (auto it = keys.find("label"); it != keys.end()) c.label = text(it->second, "label of " + where);
  if (auto it = keys.find("description"); it != keys.end())
    c.description = text(it->second, "description of " + where);
  if (auto it = keys.find("start"); it != keys.end()) {
    c.start = clock_states(it->second, c.id, "start", "open", &c.start_at_open);
  } else {
    error("missing-key", pos(e.key), tr(msg::clock_missing_key, {c.id, "start", "[STATE, ...]"}));
  }
  if (auto it = keys.find("stop"); it != keys.end()) {
    bool at_close = false;
    c.stop = clock_states(it->second, c.id, "stop", "close", &at_close);
    for (int s : c.stop) {
      if (std::find(c.start.begin(), c.start.end(), s) != c.start.end())
        error("bad-value", value_pos(it->second), tr(msg::clock_start_and_stop, {p_.states[s].id, c.id}));
    }
  }
  if (auto it = keys.find("limit"); it != keys.end()) {
    read_clock_limit(it->second, c);
  } else {
    error("missing-key", pos(e.key), tr(msg::clock_missing_key, {c.id, "limit", "30 days"}));
  }
  if (!ok) return;
  p_.clocks.push_back(std::move(c));
}

// A clock's `start:` or `stop:`: a state, a list of states, or the word
// (open / close) for opening or closing the case.
std::vector<int> Builder::clock_states(const Entry& e, const std::string& clock, const char* key,
                                       const char* word, bool* word_given) {
  std::vector<int> out;
  const Keys known = state_ids();
  for (auto& [name, node] : names(e, std::string(key) + " of clock " + quoted(clock))) {
    if (name == word) {
      *word_given = true;
      continue;
    }
    auto it = std::find(known.begin(), known.end(), name);
    if (it == known.end()) {
      Keys candidates = known;
      candidates.push_back(word);
      error("unknown-state", pos(node),
            tr(msg::clock_unknown_state, {name, key, clock, suggestion(name, candidates, "")}));
      continue;
    }
    const int index = static_cast<int>(it - known.begin());
    if (std::find(out.begin(), out.end(), index) != out.end()) {
      error("duplicate-id", pos(node), tr(msg::clock_state_twice, {name, key, clock}));
      continue;
    }
    out.push_back(index);
  }
  return out;
}

// A clock's `limit:`, written like a state's deadline (DeadlineSpec).
void Builder::read_clock_limit(const Entry& e, ClockDef& c) {
  auto d = scalar(e, "limit of clock " + quoted(c.id));
  if (!d) return;
  auto spec = parse_deadline_spec(*d);
  if (!spec) {
    error("bad-duration", value_pos(e), tr(msg::clock_bad_limit, {c.id, *d}));
    return;
  }
  if (spec->working_days <= 0 && (!spec->duration || spec->duration->seconds <= 0)) {
    error("bad-duration", value_pos(e), tr(msg::clock_zero_limit, {c.id, *d}));
    return;
  }
  if (spec->working_days > 0 && p_.calendar_names.empty())
    error("unknown-calendar", value_pos(e), tr(msg::clock_no_calendar, {c.id}));
  if (!spec->from.empty()) {
    const SourcePos at = deadline_anchor_pos(source_, value_pos(e), *d, spec->from_offset);
    const int f = p_.field_index(spec->from);
    if (f < 0) {
      error("unknown-field", at,
            tr(msg::clock_unknown_anchor,
               {spec->from, c.id, suggestion(spec->from, field_ids(), "no fields are declared")}));
      return;
    }
    const Type type = p_.fields[f].type;
    if (type != Type::kDate && type != Type::kDateTime) {
      error("bad-anchor", at, tr(msg::clock_bad_anchor, {c.id, spec->from, type_name(type)}));
      return;
    }
    c.limit_from = f;
  }
  c.limit = spec->duration;
  c.working_days = spec->working_days;
  c.limit_text = *d;
}

void Builder::finish() {
  p_.transitions_from.assign(p_.states.size(), {});
  for (const auto& t : p_.transitions) {
    for (int s : t.from) p_.transitions_from[s].push_back(t.index);
  }
}

}  // namespace

void build_procedure(const YAML::Node& root, const SourceText& source, DiagnosticSink& sink,
                     Procedure* procedure, SourceMap* map) {
  Builder(source, sink, procedure, map).build(root);
}

}  // namespace sopir
