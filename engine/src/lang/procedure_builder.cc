// Walking a procedure's YAML into the compiled form, reporting every hard
// error on the way (FORMAT.md: unknown keys, unknown names, bad values,
// type errors in guards and `set`). Each section is read even when an
// earlier one had errors, so one pass finds everything.
#include <algorithm>
#include <regex>
#include <set>
#include <unordered_map>

#include "lang/deadline_spec.h"
#include "lang/expr/expr.h"
#include "lang/loader_internal.h"
#include "lang/yaml_reader.h"
#include "rules/field_bounds.h"
#include "sopir/messages/lang.h"
#include "sopir/retention.h"
#include "sopir/text.h"

namespace sopir {

namespace {

using Keys = std::vector<std::string>;

const Keys kTopKeys = {"sop",         "version",         "title", "description", "roles",
                       "fields",      "states",          "transitions", "closure_reasons",
                       "open",        "lifecycle",       "pii_visible_to", "calendar",
                       "clocks",      "source",          "standards", "migrate",
                       "retention"};
const Keys kRequiredTopKeys = {"sop", "version", "title", "roles", "states", "transitions"};
const Keys kFieldKeys = {"type", "values", "label", "min", "max", "pii", "pattern", "source"};
const Keys kStateKeys = {"label", "description", "initial", "terminal", "deadline", "on_deadline", "source"};
const Keys kTransitionKeys = {"event",         "from",     "to",       "when",  "roles",
                              "requires",      "accepts",  "set",      "reason",
                              "distinct_from", "override", "label",    "description",
                              "opens",         "source"};
const Keys kOverrideKeys = {"roles"};
const Keys kOpensKeys = {"sop", "copy", "set", "site", "site_from"};
const Keys kOpenKeys = {"requires", "accepts", "when", "source"};
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

// "key of where": "label of state 'intake'".
std::string of(const std::string& key, const std::string& where) { return tr(msg::lang_of, {key, where}); }

// The word for a kind of name (role, field, state, event) and the note for
// when none are declared.
const Message& kind_word(const std::string& kind) {
  if (kind == "role") return msg::lang_kind_role;
  if (kind == "field") return msg::lang_kind_field;
  if (kind == "state") return msg::lang_kind_state;
  return msg::lang_kind_event;
}
std::string none_declared(const std::string& kind) {
  if (kind == "role") return tr(msg::lang_none_roles);
  if (kind == "field") return tr(msg::lang_none_fields);
  if (kind == "state") return tr(msg::lang_none_states);
  return tr(msg::lang_none_events);
}

// "; did you mean 'x'?" when a candidate is close, else "; expected one
// of: ..." for up to 20 candidates (or `none` when there are none).
std::string suggestion(const std::string& word, const Keys& candidates, const std::string& none) {
  if (candidates.empty()) return none.empty() ? "" : "; " + none;
  return suggest_name(word, candidates, 20);
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
  // `source:` in `keys`, if there: one citation or a list of them.
  Sources sources(const std::unordered_map<std::string, Entry>& keys, const std::string& what);
  bool check_slug(const std::string& id, const YAML::Node& at, const std::regex& re,
                  const std::string& what, const std::string& accepted);
  std::vector<int> resolve(const Entry& e, const std::string& what, const std::string& kind,
                           const Keys& known, const std::string& code);

  // --- sections
  // A scenario test file (`procedure:` at the top, no `sop:`) given where a
  // procedure is read (sop publish workflows/*.yaml takes the tests too):
  // one error saying so, not an unknown key for each of its keys. True when
  // it was one.
  bool report_scenario_file(const YAML::Node& root);
  void report_missing_top_keys(const YAML::Node& root,
                               const std::unordered_map<std::string, Entry>& top);
  void read_header(const std::unordered_map<std::string, Entry>& top);
  void read_retention(const Entry& e);
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
  void read_handoff_site(const std::unordered_map<std::string, Entry>& o, const std::string& what, HandOff& h);
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
      error("bad-key", pos(it->first), tr(msg::lang_keys_plain, {where}));
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
          tr(msg::lang_must_be_map_of_keys, {where, join(allowed)}));
    return out;
  }
  for (auto& e : entries(owner.value, where)) {
    const std::string& key = e.key.Scalar();
    if (!contains(allowed, key)) {
      error("unknown-key", pos(e.key),
            tr(msg::lang_unknown_key, {key, where, suggestion(key, allowed, "")}));
      continue;
    }
    out.emplace(key, e);
  }
  return out;
}

std::optional<std::string> Builder::scalar(const Entry& e, const std::string& what) {
  if (e.value.IsScalar()) return e.value.Scalar();
  if (e.value.IsNull()) {
    error("bad-value", value_pos(e), tr(msg::lang_has_no_value, {what}));
  } else {
    error("bad-value", value_pos(e), tr(e.value.IsMap() ? msg::lang_single_not_map : msg::lang_single_not_list, {what}));
  }
  return std::nullopt;
}

std::optional<bool> Builder::boolean(const Entry& e, const std::string& what) {
  auto s = scalar(e, what);
  if (!s) return std::nullopt;
  if (auto b = parse_bool(*s)) return b;
  error("bad-value", value_pos(e), tr(msg::lang_true_or_false, {what, *s}));
  return std::nullopt;
}

Text Builder::text(const Entry& e, const std::string& what) {
  Text out;
  if (e.value.IsScalar()) {
    out.set("", e.value.Scalar());
  } else if (e.value.IsMap()) {
    for (auto& lang : entries(e.value, what)) {
      const std::string& code = lang.key.Scalar();
      if (!std::regex_match(code, lang_re())) {
        error("bad-value", pos(lang.key),
              tr(msg::lang_not_language_code, {code, what}));
        continue;
      }
      if (!contains(kLanguages, code)) {
        error("bad-value", pos(lang.key),
              tr(msg::lang_unknown_language, {code, what, join(kLanguages, tr(msg::lang_and))}));
        continue;
      }
      if (!lang.value.IsScalar()) {
        error("bad-value", value_pos(lang), tr(msg::lang_text_in_language, {what, code}));
        continue;
      }
      out.set(code, lang.value.Scalar());
    }
  } else {
    error("bad-value", value_pos(e),
          tr(msg::lang_must_be_text, {what}));
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
    error("bad-value", value_pos(e), tr(msg::lang_names_not_map, {what}));
    return out;
  }
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    if (!it->IsScalar()) {
      error("bad-value", pos(*it), tr(msg::lang_entry_plain_name, {what}));
      continue;
    }
    out.emplace_back(it->Scalar(), *it);
  }
  return out;
}

Sources Builder::sources(const std::unordered_map<std::string, Entry>& keys, const std::string& what) {
  Sources out;
  auto it = keys.find("source");
  if (it == keys.end()) return out;
  const std::string where = of("source", what);
  if (it->second.value.IsMap() || it->second.value.IsNull()) {
    error("bad-value", value_pos(it->second), tr(msg::lang_source_shape, {where}));
    return out;
  }
  for (auto& [citation, node] : names(it->second, where)) {
    if (citation.find_first_not_of(" \t") == std::string::npos) {
      error("bad-value", pos(node), tr(msg::lang_source_shape, {where}));
    } else if (std::find(out.begin(), out.end(), citation) != out.end()) {
      error("duplicate-id", pos(node), tr(msg::lang_source_twice, {citation, where}));
    } else {
      out.push_back(citation);
    }
  }
  return out;
}

bool Builder::check_slug(const std::string& id, const YAML::Node& at, const std::regex& re,
                         const std::string& what, const std::string& accepted) {
  if (std::regex_match(id, re)) return true;
  error("bad-id", pos(at), tr(msg::lang_bad_id, {id, what, accepted}));
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
            tr(msg::lang_unknown_name, {tr(kind_word(kind)), name, what, suggestion(name, known, none_declared(kind))}));
      continue;
    }
    const int index = static_cast<int>(it - known.begin());
    if (std::find(out.begin(), out.end(), index) != out.end()) {
      error("duplicate-id", pos(node), tr(msg::lang_listed_twice_in, {tr(kind_word(kind)), name, what}));
      continue;
    }
    out.push_back(index);
  }
  return out;
}

bool Builder::report_scenario_file(const YAML::Node& root) {
  std::optional<Entry> tested;
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) continue;
    if (entry.first.Scalar() == "sop") return false;
    if (entry.first.Scalar() == "procedure") tested = Entry{entry.first, entry.second};
  }
  if (!tested) return false;
  const std::string file = tested->value.IsScalar() ? tested->value.Scalar() : "";
  error("scenario-file", pos(tested->key),
        tr(msg::lang_scenario_file_given,
           {file.empty() ? "" : tr(msg::lang_scenario_file_tests, {file})}));
  return true;
}

void Builder::build(const YAML::Node& root) {
  if (report_scenario_file(root)) return;
  Entry whole{YAML::Node(), root};
  auto top = keyed(whole, kTopKeys, tr(msg::lang_the_procedure));
  report_missing_top_keys(root, top);
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
  if (auto* e = section("standards")) read_standards(e->key, e->value, sink_, &p_);  // standards.cc
  if (auto* e = section("migrate")) read_migration(e->key, e->value, source_, sink_, &p_);  // migration.cc
  finish();
}

// A required key not given is located where it is most likely mistyped
// (an unknown key that suggests it: the error beside "did you mean"), else
// at the top-level map, so it sorts with the rest by place.
void Builder::report_missing_top_keys(const YAML::Node& root,
                                      const std::unordered_map<std::string, Entry>& top) {
  std::vector<YAML::Node> unknown;
  if (root.IsMap()) {
    for (auto it = root.begin(); it != root.end(); ++it)
      if (it->first.IsScalar() && !contains(kTopKeys, it->first.Scalar()))
        unknown.push_back(it->first);
  }
  for (const auto& key : kRequiredTopKeys) {
    if (top.count(key)) continue;
    auto typo = std::find_if(unknown.begin(), unknown.end(), [&](const YAML::Node& k) {
      return nearest(k.Scalar(), kTopKeys) == key;
    });
    if (typo != unknown.end()) {
      error("missing-key", pos(*typo), tr(msg::lang_missing_key_typo, {key, typo->Scalar()}));
    } else {
      error("missing-key", pos(root), tr(msg::lang_missing_key, {key}));
    }
  }
}

void Builder::read_header(const std::unordered_map<std::string, Entry>& top) {
  if (auto it = top.find("sop"); it != top.end()) {
    if (auto id = scalar(it->second, "sop")) {
      if (check_slug(*id, it->second.value, sop_slug(), tr(msg::lang_kind_procedure), tr(msg::lang_slug_procedure))) {
        p_.id = *id;
      }
    }
  }
  if (auto it = top.find("version"); it != top.end()) {
    if (auto v = scalar(it->second, "version")) {
      auto n = parse_int(*v);
      if (!n || *n < 1 || *n > 2147483647) {
        error("bad-value", value_pos(it->second),
              tr(msg::lang_bad_version, {*v}));
      } else {
        p_.version = static_cast<int>(*n);
      }
    }
  }
  if (auto it = top.find("title"); it != top.end()) p_.title = text(it->second, "title");
  if (auto it = top.find("retention"); it != top.end()) read_retention(it->second);
  p_.sources = sources(top, tr(msg::lang_the_procedure));
  if (auto it = top.find("description"); it != top.end()) {
    p_.description = text(it->second, of("description", tr(msg::lang_the_procedure)));
  }
}

// `retention:` how long personal data is kept after a case closes
// (sopir/retention.h).
void Builder::read_retention(const Entry& e) {
  auto text = scalar(e, "retention");
  if (!text) return;
  auto retention = parse_retention(*text);
  if (!retention) {
    error("bad-retention", value_pos(e), tr(msg::lang_bad_retention, {*text}));
    return;
  }
  retention->pos = value_pos(e);
  p_.retention = retention;
}

void Builder::read_roles(const Entry& e) {
  for (auto& [name, node] : names(e, "roles")) {
    if (!check_slug(name, node, name_slug(), tr(msg::lang_kind_role), tr(msg::lang_slug_role))) {
      continue;
    }
    if (contains(p_.roles, name)) {
      error("duplicate-id", pos(node), tr(msg::lang_role_twice, {name}));
      continue;
    }
    p_.roles.push_back(name);
    map_.role_pos.push_back(pos(node));
  }
}

void Builder::read_fields(const Entry& e) {
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    error("bad-value", value_pos(e), tr(msg::lang_fields_map));
    return;
  }
  for (auto& f : entries(e.value, "fields")) read_field(f);
}

void Builder::read_field(const Entry& e) {
  FieldDef f;
  f.id = e.key.Scalar();
  f.pos = pos(e.key);
  const std::string where = tr(msg::lang_where_field, {f.id});
  bool ok = check_slug(f.id, e.key, name_slug(), tr(msg::lang_kind_field), tr(msg::lang_slug_field));
  if (ok && (contains(kReservedWords, f.id) || contains(kFunctionNames, f.id))) {
    error("bad-id", pos(e.key), tr(msg::lang_reserved_field, {f.id}));
    ok = false;
  }
  auto keys = keyed(e, kFieldKeys, where);
  if (e.value.IsNull() || (e.value.IsMap() && !keys.count("type"))) {
    error("missing-key", pos(e.key),
          tr(msg::lang_field_no_type, {where}));
    ok = false;
  } else if (auto it = keys.find("type"); it != keys.end()) {
    if (auto name = scalar(it->second, of("type", where))) {
      if (auto type = type_from_name(*name)) {
        f.type = *type;
      } else {
        error("bad-value", value_pos(it->second),
              tr(msg::lang_unknown_type,
                 {*name, where,
                  suggestion(*name, {"string", "int", "bool", "date", "datetime", "enum", "duration", "set"}, "")}));
        ok = false;
      }
    }
  }
  if (auto it = keys.find("values"); it != keys.end()) {
    if (f.type != Type::kEnum && f.type != Type::kSet) {
      error("bad-value", pos(it->second.key),
            tr(msg::lang_values_not_enum, {where}));
    } else {
      read_values(f, it->second, where);
    }
  }
  if ((f.type == Type::kEnum || f.type == Type::kSet) && f.values.empty() && keys.count("type")) {
    auto it = keys.find("values");
    error("bad-enum-value", it == keys.end() ? pos(e.key) : value_pos(it->second),
          tr(f.type == Type::kSet ? msg::lang_set_no_values : msg::lang_enum_no_values, {where}));
  }
  if (auto it = keys.find("pii"); it != keys.end()) {
    if (auto b = boolean(it->second, of("pii", where))) f.pii = *b;
  }
  if (auto it = keys.find("label"); it != keys.end()) f.label = text(it->second, of("label", where));
  if (auto it = keys.find("pattern"); it != keys.end()) {
    if (auto pattern = scalar(it->second, of("pattern", where))) {
      if (f.type != Type::kString) {
        error("bad-pattern", pos(it->second.key), tr(msg::lang_pattern_not_string, {where}));
      } else if (pattern->size() > 1000) {
        error("bad-pattern", value_pos(it->second), tr(msg::lang_pattern_too_long, {where}));
      } else {
        try {
          std::regex re(*pattern, std::regex::ECMAScript);
          f.pattern = *pattern;
        } catch (const std::regex_error& ex) {
          error("bad-pattern", value_pos(it->second),
                tr(msg::lang_pattern_invalid, {where, ex.what()}));
        }
      }
    }
  }
  read_bounds(f, keys);
  f.sources = sources(keys, where);
  if (ok && contains(p_.field_ids(), f.id)) ok = false;  // duplicate key, reported by the reader
  if (ok) p_.fields.push_back(std::move(f));
}

// values: [a, b] or a list whose entries may be {id: a, label: {en: .., id: ..}}.
void Builder::read_values(FieldDef& f, const Entry& e, const std::string& where) {
  const std::string what = of("values", where);
  if (!e.value.IsSequence()) {
    if (e.value.IsMap()) {
      error("bad-value", value_pos(e), tr(msg::lang_values_list, {what}));
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
      error("bad-value", pos(*it), tr(msg::lang_values_entry, {what}));
      continue;
    }
    auto keys = keyed(Entry{e.key, *it}, kValueKeys, tr(msg::lang_where_value_of, {where}));
    auto id = keys.find("id");
    if (id == keys.end()) {
      error("missing-key", pos(*it), tr(msg::lang_value_no_id, {where}));
      continue;
    }
    auto name = scalar(id->second, tr(msg::lang_where_value_id, {where}));
    if (!name) continue;
    Text label;
    if (auto l = keys.find("label"); l != keys.end()) {
      label = text(l->second, tr(msg::lang_where_value_label, {*name, where}));
    }
    add_value(f, *name, id->second.value, std::move(label), where);
  }
}

void Builder::add_value(FieldDef& f, const std::string& value, const YAML::Node& node, Text label,
                        const std::string& where) {
  if (!std::regex_match(value, enum_value_re()) || contains(kReservedWords, value)) {
    error("bad-enum-value", pos(node),
          tr(msg::lang_bad_enum_value, {value, where, join(kReservedWords)}));
  } else if (contains(f.values, value)) {
    error("duplicate-id", pos(node), tr(msg::lang_enum_value_twice, {value, where}));
  } else {
    f.values.push_back(value);
    f.value_labels.push_back(std::move(label));
  }
}

void Builder::read_bounds(FieldDef& f, const std::unordered_map<std::string, Entry>& keys) {
  const std::string where = tr(msg::lang_where_field, {f.id});
  auto bound = [&](const char* key) -> std::optional<Value> {
    auto it = keys.find(key);
    if (it == keys.end()) return std::nullopt;
    auto text = scalar(it->second, of(key, where));
    if (!text) return std::nullopt;
    // The step's own day or moment (FieldDef::min_now, max_now).
    if ((f.type == Type::kDate && *text == "today") ||
        (f.type == Type::kDateTime && *text == "now")) {
      (std::string_view(key) == "min" ? f.min_now : f.max_now) = true;
      return std::nullopt;
    }
    std::optional<Value> v;
    std::string accepted;
    switch (f.type) {
      case Type::kString:
        if (auto n = parse_int(*text); n && *n >= 0) v = *n;
        accepted = tr(msg::lang_length_bound);
        break;
      case Type::kInt:
      case Type::kDate:
      case Type::kDateTime:
      case Type::kDuration:
        v = parse_typed(f.type, {}, *text, &accepted);
        if (f.type == Type::kDate) accepted += tr(msg::lang_bound_or_today);
        if (f.type == Type::kDateTime) accepted += tr(msg::lang_bound_or_now);
        break;
      case Type::kBool:
      case Type::kEnum:
      case Type::kSet:
        error("bad-bound", pos(it->second.key),
              tr(f.type == Type::kBool  ? msg::lang_bool_no_bound
                 : f.type == Type::kSet ? msg::lang_set_no_bound
                                        : msg::lang_enum_no_bound,
                 {where, key}));
        return std::nullopt;
    }
    if (!v) {
      error("bad-bound", value_pos(it->second),
            tr(msg::lang_bad_bound, {key, where, type_name(f.type), *text, accepted}));
    }
    return v;
  };
  f.min = bound("min");
  f.max = bound("max");
  if (f.min && f.max) {
    auto order = compare_values(*f.min, *f.max);
    if (order && *order > 0) {
      error("bad-bound", value_pos(keys.at("max")),
            tr(msg::lang_max_below_min, {where, format_value(*f.max), format_value(*f.min)}));
    }
  }
}

void Builder::read_states(const Entry& e) {
  states_entry_ = e;
  if (e.value.IsNull()) return;
  if (!e.value.IsMap()) {
    error("bad-value", value_pos(e), tr(msg::lang_states_map));
    return;
  }
  for (auto& s : entries(e.value, "states")) read_state(s);
  std::vector<int> initials;
  for (size_t i = 0; i < p_.states.size(); ++i) {
    if (p_.states[i].initial) initials.push_back(static_cast<int>(i));
  }
  if (initials.empty()) {
    if (!p_.states.empty()) {
      error("no-initial-state", pos(e.key), tr(msg::lang_no_initial));
    }
  } else {
    p_.initial_state = initials[0];
    for (size_t i = 1; i < initials.size(); ++i) {
      error("several-initial-states", p_.states[initials[i]].pos,
            tr(msg::lang_several_initial, {p_.states[initials[i]].id, p_.states[initials[0]].id}));
    }
  }
}

void Builder::read_state(const Entry& e) {
  StateDef s;
  s.id = e.key.Scalar();
  s.pos = pos(e.key);
  const std::string where = tr(msg::lang_where_state, {s.id});
  const bool ok = check_slug(s.id, e.key, step_slug(), tr(msg::lang_kind_state), tr(msg::lang_slug_step));
  auto keys = keyed(e, kStateKeys, where);
  if (auto it = keys.find("label"); it != keys.end()) s.label = text(it->second, of("label", where));
  if (auto it = keys.find("description"); it != keys.end()) {
    s.description = text(it->second, of("description", where));
  }
  if (auto it = keys.find("initial"); it != keys.end()) {
    if (auto b = boolean(it->second, of("initial", where))) s.initial = *b;
  }
  if (auto it = keys.find("terminal"); it != keys.end()) {
    if (auto b = boolean(it->second, of("terminal", where))) s.terminal = *b;
  }
  if (auto it = keys.find("deadline"); it != keys.end()) read_deadline(it->second, s, where);
  std::optional<Entry> timer;
  if (auto it = keys.find("on_deadline"); it != keys.end()) {
    timer = it->second;
    if (!keys.count("deadline")) {
      error("missing-key", pos(timer->key), tr(msg::lang_on_deadline_no_deadline, {where}));
    }
  }
  s.sources = sources(keys, where);
  if (!ok || contains(p_.state_ids(), s.id)) return;
  map_.deadline_pos.push_back(keys.count("deadline") ? value_pos(keys.at("deadline")) : SourcePos{});
  p_.states.push_back(std::move(s));
  on_deadline_.push_back(timer);
}

// `deadline:` of a state: a duration (7d), N working days, either one
// `from FIELD` (a date or datetime field). See DeadlineSpec (deadline_spec.h).
void Builder::read_deadline(const Entry& e, StateDef& s, const std::string& where) {
  const std::string what = of("deadline", where);
  auto d = scalar(e, what);
  if (!d) return;
  auto spec = parse_deadline_spec(*d);
  if (!spec) {
    error("bad-duration", value_pos(e),
          tr(msg::lang_bad_deadline, {what, *d}));
    return;
  }
  if (spec->working_days <= 0 && (!spec->duration || spec->duration->seconds <= 0)) {
    error("bad-duration", value_pos(e), tr(msg::lang_deadline_zero, {what, *d}));
    return;
  }
  if (spec->working_days > 0 && p_.calendar_names.empty()) {
    error("unknown-calendar", value_pos(e),
          tr(msg::lang_deadline_no_calendar, {what}));
  }
  if (!spec->from.empty()) {
    const SourcePos at = deadline_anchor_pos(source_, value_pos(e), *d, spec->from_offset);
    const int f = p_.field_index(spec->from);
    if (f < 0) {
      error("unknown-field", at,
            tr(msg::lang_unknown_field_in, {spec->from, what, suggestion(spec->from, field_ids(), tr(msg::lang_none_fields))}));
      return;
    }
    const Type type = p_.fields[f].type;
    if (type != Type::kDate && type != Type::kDateTime) {
      error("bad-anchor", at,
            tr(msg::lang_bad_anchor, {what, spec->from, type_name(type)}));
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
    for (auto& entry : entries(*it, tr(msg::lang_where_transition_any))) {
      if (entry.key.Scalar() != "event" || !entry.value.IsScalar()) continue;
      const std::string& name = entry.value.Scalar();
      if (std::regex_match(name, step_slug()) && !contains(p_.events, name)) p_.events.push_back(name);
    }
  }
}

void Builder::read_transitions(const Entry& e) {
  if (e.value.IsNull()) return;
  if (!e.value.IsSequence()) {
    error("bad-value", value_pos(e), tr(msg::lang_transitions_list));
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
  std::string where = tr(msg::lang_where_transition_n, {std::to_string(index + 1)});
  if (!e.value.IsMap()) {
    error("bad-value", pos(e.value), tr(msg::lang_transition_map, {where}));
    return;
  }
  // Name the transition by its event when it has one.
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "event" && it->second.IsScalar()) {
      where = tr(msg::lang_where_transition, {it->second.Scalar()});
      break;
    }
  }
  auto keys = keyed(e, kTransitionKeys, where);
  for (const char* required : {"event", "from", "to"}) {
    if (!keys.count(required)) {
      error("missing-key", t.pos, tr(msg::lang_has_no_key, {where, required}));
    }
  }
  if (auto it = keys.find("event"); it != keys.end()) {
    if (auto name = scalar(it->second, of("event", where))) {
      if (check_slug(*name, it->second.value, step_slug(), tr(msg::lang_kind_event), tr(msg::lang_slug_event))) {
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
      t.from = resolve(it->second, of("from", where), "state", state_ids(), "unknown-state");
      if (it->second.value.IsSequence() && it->second.value.size() == 0) {
        error("bad-value", value_pos(it->second), tr(msg::lang_from_empty, {of("from", where)}));
      }
    }
  }
  if (auto it = keys.find("to"); it != keys.end()) {
    if (it->second.value.IsScalar() && it->second.value.Scalar() == "*") {
      t.stays = true;  // stays where it is
    } else if (auto name = scalar(it->second, of("to", where))) {
      t.to = p_.state_index(*name);
      if (t.to < 0) {
        error("unknown-state", value_pos(it->second),
              tr(msg::lang_unknown_state_in, {*name, of("to", where), suggestion(*name, state_ids(), tr(msg::lang_none_states))}));
      }
    }
  }
  map_.guard_start.push_back(std::string::npos);
  if (auto it = keys.find("when"); it != keys.end()) read_guard(it->second, t);
  map_.roles_pos.push_back(t.pos);
  if (auto it = keys.find("roles"); it != keys.end()) {
    map_.roles_pos.back() = pos(it->second.key);
    t.roles = resolve(it->second, of("roles", where), "role", role_ids(), "unknown-role");
  }
  if (auto it = keys.find("requires"); it != keys.end()) {
    t.requires_fields = resolve(it->second, of("requires", where), "field", field_ids(), "unknown-field");
  }
  if (auto it = keys.find("accepts"); it != keys.end()) {
    t.accepts_fields = resolve(it->second, of("accepts", where), "field", field_ids(), "unknown-field");
  }
  if (auto it = keys.find("set"); it != keys.end()) read_set(it->second, t);
  if (auto it = keys.find("reason"); it != keys.end()) {
    if (auto r = scalar(it->second, of("reason", where))) {
      if (*r == "required") {
        t.reason_required = true;
      } else if (*r != "optional") {
        error("bad-value", value_pos(it->second),
              tr(msg::lang_reason_value, {of("reason", where), *r}));
      }
    }
  }
  if (auto it = keys.find("distinct_from"); it != keys.end()) {
    t.distinct_from = resolve(it->second, of("distinct_from", where), "event", p_.events, "unknown-event");
  }
  if (auto it = keys.find("override"); it != keys.end()) {
    auto o = keyed(it->second, kOverrideKeys, of("override", where));
    if (auto r = o.find("roles"); r != o.end()) {
      t.override_roles = resolve(r->second, tr(msg::lang_where_override_roles, {where}), "role", role_ids(), "unknown-role");
    } else if (!it->second.value.IsNull() && it->second.value.IsMap()) {
      error("missing-key", pos(it->second.key), tr(msg::lang_has_no_key, {of("override", where), "roles"}));
    }
  }
  if (auto it = keys.find("opens"); it != keys.end()) read_opens(it->second, t, where);
  if (auto it = keys.find("label"); it != keys.end()) t.label = text(it->second, of("label", where));
  if (auto it = keys.find("description"); it != keys.end()) {
    t.description = text(it->second, of("description", where));
  }
  t.sources = sources(keys, where);
  p_.transitions.push_back(std::move(t));
}

// opens: {sop: ID, copy: [field, ...] or {their_field: our_field}, set: {their_field: value}}
// or a list of those (tracks: cases that run beside this one). What only
// the other procedure can tell (its fields, its open: section) is checked
// when publishing (engine/src/rules/handoff.cc).
void Builder::read_opens(const Entry& e, TransitionDef& t, const std::string& where) {
  const std::string what = of("opens", where);
  if (!e.value.IsSequence()) {
    if (auto h = read_handoff(e, what)) t.opens.push_back(std::move(*h));
    return;
  }
  if (e.value.size() == 0)
    error("bad-value", value_pos(e), tr(msg::lang_opens_empty, {what}));
  for (size_t i = 0; i < e.value.size(); ++i) {
    const YAML::Node item = e.value[i];
    auto h = read_handoff(Entry{item, item}, tr(msg::lang_where_item, {what, std::to_string(i + 1)}));
    if (!h) continue;
    auto same = std::find_if(t.opens.begin(), t.opens.end(),
                             [&](const HandOff& o) { return !h->sop.empty() && o.sop == h->sop; });
    if (same != t.opens.end()) {
      error("duplicate-id", h->pos,
            tr(msg::lang_opens_twice, {where, h->sop, std::to_string(same->pos.line)}));
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
    if (auto sop = scalar(it->second, of("sop", what))) {
      if (!std::regex_match(*sop, sop_slug())) {
        error("bad-id", value_pos(it->second),
              tr(msg::lang_opens_bad_sop, {of("sop", what), *sop}));
      }
      h.sop = *sop;
    }
  } else if (e.value.IsMap()) {
    error("missing-key", pos(e.key), tr(msg::lang_opens_no_sop, {what}));
  }
  if (auto it = o.find("copy"); it != o.end()) {
    const YAML::Node& copy = it->second.value;
    if (copy.IsSequence()) {
      for (int f : resolve(it->second, of("copy", what), "field", field_ids(), "unknown-field"))
        h.copy.emplace_back(p_.fields[f].id, f);
    } else if (copy.IsMap()) {
      for (auto& c : entries(copy, of("copy", what))) {
        auto ours = scalar(c, "copy " + c.key.Scalar());
        if (!ours) continue;
        const int f = p_.field_index(*ours);
        if (f < 0) {
          error("unknown-field", value_pos(c),
                tr(msg::lang_unknown_field_in,
                   {*ours, of("copy", what), suggestion(*ours, field_ids(), tr(msg::lang_none_fields))}));
          continue;
        }
        h.copy.emplace_back(c.key.Scalar(), f);
      }
    } else if (!copy.IsNull()) {
      error("bad-value", value_pos(it->second),
            tr(msg::lang_copy_form, {of("copy", what)}));
    }
  }
  if (auto it = o.find("set"); it != o.end()) {
    if (it->second.value.IsMap()) {
      for (auto& s : entries(it->second.value, of("set", what))) {
        if (auto value = scalar(s, "set " + s.key.Scalar())) h.set.emplace_back(s.key.Scalar(), *value);
      }
    } else if (!it->second.value.IsNull()) {
      error("bad-value", value_pos(it->second), tr(msg::lang_set_of_form, {of("set", what)}));
    }
  }
  read_handoff_site(o, what, h);
  return h;
}

// site: ID (the new case's site) or site_from: FIELD (a field of this
// case, string or enum and not personal, whose value after the step names
// it). Whether the site exists is known only to a database: the engine
// checks it at publishing and at the step.
void Builder::read_handoff_site(const std::unordered_map<std::string, Entry>& o, const std::string& what, HandOff& h) {
  const auto site = o.find("site");
  const auto from = o.find("site_from");
  if (site != o.end() && from != o.end()) {
    error("bad-value", pos(from->second.key), tr(msg::lang_opens_site_twice, {what}));
    return;
  }
  if (site != o.end()) {
    if (auto id = scalar(site->second, of("site", what))) {
      if (!valid_staff_id(*id))
        error("bad-id", value_pos(site->second), tr(msg::lang_opens_bad_site, {of("site", what), *id}));
      else
        h.site = *id;
    }
  }
  if (from != o.end()) {
    auto field = scalar(from->second, of("site_from", what));
    if (!field) return;
    const int f = p_.field_index(*field);
    if (f < 0) {
      error("unknown-field", value_pos(from->second),
            tr(msg::lang_unknown_field_in,
               {*field, of("site_from", what), suggestion(*field, field_ids(), tr(msg::lang_none_fields))}));
      return;
    }
    const FieldDef& def = p_.fields[static_cast<size_t>(f)];
    if (def.type != Type::kString && def.type != Type::kEnum) {
      error("bad-value", value_pos(from->second),
            tr(msg::lang_opens_site_field_type, {of("site_from", what), *field, type_name(def.type)}));
    } else if (def.pii) {
      error("bad-value", value_pos(from->second), tr(msg::lang_opens_site_field_pii, {of("site_from", what), *field}));
    } else {
      h.site_field = f;
    }
  }
}

void Builder::read_guard(const Entry& e, TransitionDef& t) {
  const size_t start = static_cast<size_t>(std::max(e.value.Mark().pos, 0));
  if (read_condition(e, t.guard_text, t.guard)) map_.guard_start.back() = start;
}

bool Builder::read_condition(const Entry& e, std::string& text_out, std::shared_ptr<const Expr>& out) {
  auto text = scalar(e, tr(msg::lang_where_guard));
  if (!text) return false;
  text_out = *text;
  const size_t start = static_cast<size_t>(std::max(e.value.Mark().pos, 0));
  ParsedExpr parsed = parse_expr(*text, p_.fields, Type::kBool);
  for (const auto& err : parsed.errors) {
    error("bad-guard", source_.position(source_.scalar_byte(start, *text, err.offset)),
          tr(msg::lang_in_guard, {err.message}));
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
  const std::string where = tr(msg::lang_where_set_field, {f.id});
  std::vector<std::pair<std::string, SourcePos>> members;
  if (a.value.IsSequence()) {
    for (auto it = a.value.begin(); it != a.value.end(); ++it) {
      if (!it->IsScalar()) {
        error("bad-value", pos(*it), tr(msg::lang_set_member_id, {where}));
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
            tr(msg::lang_not_a_value_of, {m, where, suggestion(m, f.values, "")}));
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
    error("bad-value", value_pos(e), tr(msg::lang_set_map));
    return;
  }
  for (auto& a : entries(e.value, "set")) {
    const std::string& name = a.key.Scalar();
    const int field = p_.field_index(name);
    if (field < 0) {
      error("unknown-field", pos(a.key),
            tr(msg::lang_unknown_field_in_set, {name, suggestion(name, field_ids(), tr(msg::lang_none_fields))}));
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
            tr(msg::lang_not_enum_value, {*text, name, suggestion(*text, f.values, "")}));
      continue;
    }
    if (literal) {
      // A plain value of the field's type: no expression to parse, so enum
      // values that look like field names or are not identifiers stay values.
      // It should fit the field's bounds, as a value staff give must: a
      // warning (an error with --strict, so at publishing), so that a version
      // published before this check still loads and runs.
      if (std::string problem = check_bounds(f, *literal, "", std::nullopt); !problem.empty())
        sink_.warning("set-out-of-bounds", value_pos(a),
                      tr(msg::lang_set_out_of_bounds, {name, *text, problem}));
      // A fixed date under `min: today` (a moment under `min: now`) falls
      // behind it one day, and the step is refused from then on.
      if (f.min_now)
        sink_.warning("set-out-of-bounds", value_pos(a),
                      tr(msg::lang_set_fixed_under_today,
                         {name, *text, f.type == Type::kDate ? "today" : "now"}));
      assignment.expr = constant_expr(*literal, f.type);
      assignment.constant = true;
      t.set.push_back(std::move(assignment));
      continue;
    }
    ParsedExpr parsed = parse_expr(*text, p_.fields, f.type, f.values);
    for (const auto& err : parsed.errors) {
      const size_t at = source_.scalar_byte(start, *text, err.offset);
      error("bad-set", source_.position(at), tr(msg::lang_in_set, {name, err.message, accepted}));
    }
    assignment.expr = parsed.expr;
    t.set.push_back(std::move(assignment));
  }
}

void Builder::read_state_timers() {
  for (size_t s = 0; s < p_.states.size(); ++s) {
    if (!on_deadline_[s]) continue;
    const Entry& timer = *on_deadline_[s];
    auto name = scalar(timer, of("on_deadline", tr(msg::lang_where_state, {p_.states[s].id})));
    if (!name) continue;
    const int event = p_.event_index(*name);
    if (event < 0) {
      error("unknown-event", value_pos(timer),
            tr(msg::lang_unknown_timer_event,
               {*name, p_.states[s].id, suggestion(*name, p_.events, tr(msg::lang_none_events))}));
      continue;
    }
    bool leaves = false;
    for (const auto& t : p_.transitions) {
      if (t.event == event && std::count(t.from.begin(), t.from.end(), static_cast<int>(s))) leaves = true;
    }
    if (!leaves) {
      error("unknown-event", value_pos(timer),
            tr(msg::lang_timer_no_transition, {*name, p_.states[s].id}));
      continue;
    }
    p_.states[s].on_deadline = event;
  }
}

void Builder::read_closure_reasons(const Entry& e) {
  if (e.value.IsNull()) return;
  if (!e.value.IsSequence()) {
    error("bad-value", value_pos(e), tr(msg::lang_closure_list));
    return;
  }
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    ClosureReason reason;
    YAML::Node id_node = *it;
    if (it->IsMap()) {
      auto keys = keyed(Entry{e.key, *it}, kClosureKeys, tr(msg::lang_where_closure_reason));
      auto id = keys.find("id");
      if (id == keys.end()) {
        error("missing-key", pos(*it), tr(msg::lang_closure_no_id));
        continue;
      }
      id_node = id->second.value;
      if (auto l = keys.find("label"); l != keys.end()) {
        reason.label = text(l->second, tr(msg::lang_where_closure_label));
      }
    }
    if (!id_node.IsScalar()) {
      error("bad-value", pos(id_node), tr(msg::lang_closure_form));
      continue;
    }
    reason.id = id_node.Scalar();
    if (!check_slug(reason.id, id_node, step_slug(), tr(msg::lang_kind_closure_reason), tr(msg::lang_slug_closure)))
      continue;
    bool taken = false;
    for (const auto& r : p_.closure_reasons) taken = taken || r.id == reason.id;
    if (taken) {
      error("duplicate-id", pos(id_node), tr(msg::lang_closure_twice, {reason.id}));
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
  if (auto it = keys.find("when"); it != keys.end()) {
    read_condition(it->second, p_.open_guard_text, p_.open_guard);
    if (p_.open_guard && reads_clocks(*p_.open_guard)) {
      error("bad-guard", value_pos(it->second), tr(msg::clock_in_open_guard));
      p_.open_guard.reset();
    }
  }
  p_.open_sources = sources(keys, "open");
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
              tr(msg::lang_unknown_state_in,
                 {*name, "lifecycle reopen_to", suggestion(*name, state_ids(), tr(msg::lang_none_states))}));
      } else if (p_.states[s].terminal) {
        error("bad-value", value_pos(it->second),
              tr(msg::lang_reopen_terminal, {*name}));
      } else {
        p_.reopen_to = s;
      }
    }
  }
}

// `clocks:` (ClockDef): case-level clocks over several states.
const Keys kClockKeys = {"label", "description", "start", "stop", "limit", "source"};

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
  c.sources = sources(keys, where);
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
  // clock_overdue('x') names a clock of this procedure; clocks are read
  // after transitions, so the check waits until now.
  std::vector<std::string> clock_ids;
  for (const auto& c : p_.clocks) clock_ids.push_back(c.id);
  for (const auto& t : p_.transitions) {
    if (!t.guard || static_cast<size_t>(t.index) >= map_.guard_start.size()) continue;
    for (const std::string& id : clocks_read(*t.guard)) {
      if (contains(clock_ids, id)) continue;
      size_t at = t.guard_text.find("'" + id + "'");
      if (at == std::string::npos) at = t.guard_text.find("\"" + id + "\"");
      const size_t start = map_.guard_start[static_cast<size_t>(t.index)];
      const SourcePos where = start == std::string::npos || at == std::string::npos
                                  ? t.pos
                                  : source_.position(source_.scalar_byte(start, t.guard_text, at + 1));
      error("unknown-clock", where,
            tr(msg::clock_unknown_in_guard,
               {tr(msg::lang_where_guard), id, suggestion(id, clock_ids, tr(msg::lang_no_clocks_declared))}));
    }
  }
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
