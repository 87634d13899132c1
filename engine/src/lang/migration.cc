// The `migrate:` section: how cases of older versions move to this one.
// Read with the rest of the file (read_migration: names of this version
// resolved, guards typed, defaults parsed, no landing state that cannot
// reach an end), then checked against each older version it names
// (check_migration: every reachable old state mapped or not movable, old
// names exist, a mapped field keeps its type and values), located in this
// file as the loader's own diagnostics are.
#include "sopir/migration.h"

#include <algorithm>
#include <deque>
#include <set>

#include "lang/expr/expr.h"
#include "lang/loader_internal.h"
#include "lang/yaml_reader.h"
#include "sopir/messages/lang.h"
#include "sopir/messages/migrate.h"

namespace sopir {

const MigrationState* MigrationDef::state(std::string_view old_id) const {
  for (const auto& s : states)
    if (s.from == old_id) return &s;
  return nullptr;
}

bool MigrationDef::from_version(int version) const {
  return std::find(from_versions.begin(), from_versions.end(), version) != from_versions.end();
}

const MigrationDef* Procedure::migration_from(int version) const {
  for (const auto& m : migrations)
    if (m.from_version(version)) return &m;
  return nullptr;
}

int Procedure::carried_event(int from_version, std::string_view id) const {
  if (const MigrationDef* section = migration_from(from_version))
    for (const MigrationEvent& m : section->events)
      if (m.from == id) return m.to;
  return event_index(id);
}

std::vector<int> Procedure::migrate_from_versions() const {
  std::vector<int> out;
  for (const auto& m : migrations)
    for (int v : m.from_versions)
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}

std::vector<bool> states_that_can_end(const Procedure& p) {
  const size_t n = p.states.size();
  std::vector<bool> ends(n, false);
  for (size_t s = 0; s < n; ++s) ends[s] = p.states[s].terminal;
  // Backwards to a fixed point: few states, a handful of rounds.
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& t : p.transitions) {
      for (int from : t.from) {
        const int to = t.target(from);
        if (to >= 0 && ends[static_cast<size_t>(to)] && !ends[static_cast<size_t>(from)]) {
          ends[static_cast<size_t>(from)] = true;
          changed = true;
        }
      }
    }
  }
  return ends;
}

std::vector<bool> reachable_states(const Procedure& p) {
  const size_t n = p.states.size();
  std::vector<bool> seen(n, false);
  std::deque<int> todo;
  auto visit = [&](int s) {
    if (s >= 0 && !seen[static_cast<size_t>(s)]) {
      seen[static_cast<size_t>(s)] = true;
      todo.push_back(s);
    }
  };
  visit(p.initial_state);
  bool any_terminal = false;
  while (!todo.empty()) {
    const int s = todo.front();
    todo.pop_front();
    any_terminal = any_terminal || p.states[static_cast<size_t>(s)].terminal;
    for (const auto& t : p.transitions)
      if (std::find(t.from.begin(), t.from.end(), s) != t.from.end()) visit(t.target(s));
    // A finished case may be reopened into reopen_to.
    if (todo.empty() && any_terminal && !p.reopen_roles.empty()) visit(p.reopen_to);
  }
  return seen;
}

namespace {

using Keys = std::vector<std::string>;
const Keys kMigrateKeys = {"from", "states", "fields", "drop", "events"};
const Keys kBranchKeys = {"to", "when"};
const Keys kFieldKeys = {"from", "default"};
constexpr const char* kStays = "stays";

std::string ends_of(const Procedure& p) {
  std::vector<std::string> out;
  for (const auto& s : p.states)
    if (s.terminal) out.push_back(s.id);
  return join(out);
}

class MigrationReader {
 public:
  MigrationReader(const SourceText& source, DiagnosticSink& sink, Procedure& p)
      : source_(source), sink_(sink), p_(p), ends_(states_that_can_end(p)) {}

  // `migrate:` as one section (a map) or a list of sections.
  void read(const YAML::Node& key, const YAML::Node& value) {
    if (value.IsSequence() && value.size() > 0) {
      for (const YAML::Node& item : value) {
        if (!item.IsMap()) {
          sink_.error("bad-value", pos(item), tr(msg::mig_bad_section, {join(kMigrateKeys)}));
          continue;
        }
        read_section(item, pos(item));
      }
      return;
    }
    if (!value.IsMap()) {
      sink_.error("bad-value", value.IsNull() || value.IsSequence() ? pos(key) : pos(value),
                  tr(msg::mig_bad_section, {join(kMigrateKeys)}));
      return;
    }
    read_section(value, pos(key));
  }

 private:
  // One section, reported at `at` for what concerns all of it.
  void read_section(const YAML::Node& value, SourcePos at) {
    MigrationDef m;
    m.pos = at;
    bool has_from = false;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!it->first.IsScalar()) continue;  // the reader reports keys that are not plain
      const std::string& k = it->first.Scalar();
      const YAML::Node v = it->second;  // a copy: it-> yields a temporary
      if (k == "from") {
        has_from = true;
        read_versions(it->first, v, m);
      } else if (k == "states") {
        for (auto& [name, node] : ordered(v, tr(msg::mig_where_states))) read_state(name, node, m);
      } else if (k == "fields") {
        for (auto& [name, node] : ordered(v, tr(msg::mig_where_fields))) read_field(name, node, m);
      } else if (k == "drop") {
        for (const YAML::Node& n : list(v)) {
          if (auto s = scalar(n, it->first, "migrate: drop:")) {
            m.drop.push_back(*s);
            m.drop_pos.push_back(pos(n));
          }
        }
      } else if (k == "events") {
        for (auto& [name, node] : ordered(v, tr(msg::mig_where_events))) read_event(name, node, m);
      } else {
        sink_.error("unknown-key", pos(it->first),
                    tr(msg::lang_unknown_key, {k, tr(msg::mig_where), suggest_name(k, kMigrateKeys, 16)}));
      }
    }
    if (!has_from) sink_.error("missing-key", m.pos, tr(msg::mig_no_from));
    p_.migrations.push_back(std::move(m));
  }

  SourcePos pos(const YAML::Node& node) const { return position_of(node.Mark()); }

  std::vector<std::pair<YAML::Node, YAML::Node>> ordered(const YAML::Node& value, const std::string& where) {
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    if (value.IsNull()) return out;
    if (!value.IsMap()) {
      sink_.error("bad-value", pos(value), tr(msg::lang_must_be_map_of_keys, {where, "NAME: VALUE"}));
      return out;
    }
    for (auto it = value.begin(); it != value.end(); ++it)
      if (it->first.IsScalar()) out.emplace_back(it->first, it->second);
    return out;
  }

  std::vector<YAML::Node> list(const YAML::Node& value) {
    std::vector<YAML::Node> out;
    if (value.IsSequence()) {
      for (const auto& n : value) out.push_back(n);
    } else if (value.IsDefined() && !value.IsNull()) {
      out.push_back(value);
    }
    return out;
  }

  std::optional<std::string> scalar(const YAML::Node& value, const YAML::Node& owner, const std::string& what) {
    if (value.IsScalar()) return value.Scalar();
    sink_.error("bad-value", value.IsNull() || !value.IsDefined() ? pos(owner) : pos(value),
                value.IsNull() || !value.IsDefined()
                    ? tr(msg::lang_has_no_value, {what})
                    : tr(value.IsMap() ? msg::lang_single_not_map : msg::lang_single_not_list, {what}));
    return std::nullopt;
  }

  void read_versions(const YAML::Node& key, const YAML::Node& value, MigrationDef& m) {
    const std::vector<YAML::Node> items = list(value);
    if (items.empty()) sink_.error("bad-value", pos(key), tr(msg::mig_no_from));
    // No version is older than 1: no number in from: could be right.
    if (!items.empty() && p_.version <= 1) {
      sink_.error("bad-value", pos(key),
                  tr(msg::mig_no_older_version, {std::to_string(p_.version)}));
      return;
    }
    for (const YAML::Node& n : items) {
      const std::string text = n.IsScalar() ? n.Scalar() : std::string();
      auto v = parse_int(text);
      if (!v || *v < 1 || *v >= p_.version) {
        sink_.error("bad-value", pos(n), tr(msg::mig_bad_version, {text, std::to_string(p_.version - 1)}));
        continue;
      }
      const int version = static_cast<int>(*v);
      // A version moves by one section: a second one naming it is refused
      // (the same version twice in one from: is read as once).
      if (const MigrationDef* first = p_.migration_from(version)) {
        sink_.error("migrate-version", pos(n),
                    tr(msg::mig_version_twice, {text, std::to_string(first->pos.line)}));
        continue;
      }
      m.from_versions.push_back(version);
    }
  }

  // A state of this version named at `node`, or -1 with an error.
  int own_state(const std::string& name, const YAML::Node& node, const std::string& where) {
    const int s = p_.state_index(name);
    if (s < 0)
      sink_.error("unknown-state", pos(node),
                  tr(msg::lang_unknown_name, {tr(msg::lang_kind_state), name, where,
                                              suggest_name(name, p_.state_ids(), 0)}));
    return s;
  }

  void check_lands(const std::string& old_id, int to, const YAML::Node& node) {
    if (to >= 0 && !ends_[static_cast<size_t>(to)])
      sink_.error("migrate-trap", pos(node), tr(msg::mig_trap, {old_id, p_.states[static_cast<size_t>(to)].id, ends_of(p_)}));
  }

  void read_state(const YAML::Node& key, const YAML::Node& value, MigrationDef& m) {
    MigrationState s;
    s.from = key.Scalar();
    s.pos = pos(key);
    const std::string where = tr(msg::mig_where_states) + " " + s.from;
    if (value.IsScalar() && value.Scalar() == kStays && p_.state_index(kStays) < 0) {
      s.stays = true;
    } else if (value.IsScalar()) {
      const int to = own_state(value.Scalar(), value, where);
      check_lands(s.from, to, value);
      s.branches.push_back(MigrationBranch{to, nullptr, "", pos(value)});
    } else if (value.IsMap() && value.size() == 1 && value[kStays].IsDefined()) {
      s.stays = true;
      if (value[kStays].IsScalar()) s.stays_reason = value[kStays].Scalar();
    } else if (value.IsSequence() && value.size() > 0) {
      read_branches(s, value, where);
    } else {
      sink_.error("bad-value", value.IsNull() ? s.pos : pos(value), tr(msg::mig_bad_state_map, {s.from}));
      return;
    }
    m.states.push_back(std::move(s));
  }

  void read_branches(MigrationState& s, const YAML::Node& list, const std::string& where) {
    const std::string branch_where = tr(msg::mig_where_branch, {s.from});
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node& b = list[i];
      if (!b.IsMap()) {
        sink_.error("bad-value", pos(b), tr(msg::mig_bad_state_map, {s.from}));
        continue;
      }
      MigrationBranch branch;
      branch.pos = pos(b);
      bool has_to = false;
      for (auto it = b.begin(); it != b.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        const std::string& k = it->first.Scalar();
        if (k == "to") {
          has_to = true;
          if (auto name = scalar(it->second, it->first, "to")) {
            branch.to = own_state(*name, it->second, where);
            check_lands(s.from, branch.to, it->second);
          }
        } else if (k == "when") {
          read_when(it->second, it->first, branch);
        } else {
          sink_.error("unknown-key", pos(it->first),
                      tr(msg::lang_unknown_key, {k, branch_where, suggest_name(k, kBranchKeys, 16)}));
        }
      }
      if (!has_to) sink_.error("missing-key", branch.pos, tr(msg::mig_branch_no_to, {branch_where}));
      if (branch.when_text.empty() && i + 1 < list.size())
        sink_.error("bad-value", branch.pos, tr(msg::mig_branch_order, {s.from}));
      s.branches.push_back(std::move(branch));
    }
  }

  void read_when(const YAML::Node& value, const YAML::Node& key, MigrationBranch& branch) {
    auto text = scalar(value, key, tr(msg::lang_where_guard));
    if (!text) return;
    branch.when_text = *text;
    const size_t start = static_cast<size_t>(std::max(value.Mark().pos, 0));
    ParsedExpr parsed = parse_expr(*text, p_.fields, Type::kBool);
    for (const auto& err : parsed.errors)
      sink_.error("bad-guard", source_.position(source_.scalar_byte(start, *text, err.offset)),
                  tr(msg::lang_in_guard, {err.message}));
    branch.when = parsed.expr;
  }

  void read_field(const YAML::Node& key, const YAML::Node& value, MigrationDef& m) {
    MigrationField f;
    const std::string name = key.Scalar();
    f.pos = pos(key);
    f.field = p_.field_index(name);
    if (f.field < 0) {
      sink_.error("unknown-field", f.pos,
                  tr(msg::lang_unknown_name, {tr(msg::lang_kind_field), name, tr(msg::mig_where_fields),
                                              suggest_name(name, p_.field_ids(), 0)}));
      return;
    }
    const std::string where = tr(msg::mig_where_field, {name});
    if (value.IsScalar()) {
      f.from = value.Scalar();
    } else if (value.IsMap()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        const std::string& k = it->first.Scalar();
        if (k == "from") {
          if (auto s = scalar(it->second, it->first, "from")) f.from = *s;
        } else if (k == "default") {
          if (auto s = scalar(it->second, it->first, "default")) read_default(f, *s, it->second, name);
        } else {
          sink_.error("unknown-key", pos(it->first),
                      tr(msg::lang_unknown_key, {k, where, suggest_name(k, kFieldKeys, 16)}));
        }
      }
      if (f.from.empty() && f.default_text.empty())
        sink_.error("missing-key", f.pos, tr(msg::mig_field_needs, {name}));
    } else {
      sink_.error("bad-value", value.IsNull() ? f.pos : pos(value), tr(msg::mig_field_needs, {name}));
      return;
    }
    m.fields.push_back(std::move(f));
  }

  void read_default(MigrationField& f, const std::string& text, const YAML::Node& node, const std::string& name) {
    const FieldDef& def = p_.fields[static_cast<size_t>(f.field)];
    f.default_text = text;
    std::string accepted;
    f.default_value = parse_typed(def.type, def.values, text, &accepted);
    if (!f.default_value) sink_.error("bad-value", pos(node), tr(msg::mig_bad_default, {text, name, accepted}));
  }

  void read_event(const YAML::Node& key, const YAML::Node& value, MigrationDef& m) {
    MigrationEvent e;
    e.from = key.Scalar();
    e.pos = pos(key);
    auto name = scalar(value, key, tr(msg::mig_where_events) + " " + e.from);
    if (!name) return;
    e.to = p_.event_index(*name);
    if (e.to < 0) {
      sink_.error("unknown-event", pos(value),
                  tr(msg::lang_unknown_name, {tr(msg::lang_kind_event), *name, tr(msg::mig_where_events),
                                              suggest_name(*name, p_.events, 0)}));
      return;
    }
    m.events.push_back(std::move(e));
  }

  const SourceText& source_;
  DiagnosticSink& sink_;
  Procedure& p_;
  std::vector<bool> ends_;
};

// The checks of check_migration, reporting into one sink.
class MigrationChecker {
 public:
  MigrationChecker(const Procedure& old, const Procedure& next, const MigrationDef& section,
                   DiagnosticSink& sink)
      : old_(old), next_(next), m_(section), sink_(sink), version_(std::to_string(old.version)) {}

  void run() {
    states();
    fields();
    for (const auto& e : m_.events)
      if (old_.event_index(e.from) < 0) unknown(e.pos, msg::mig_an_event, e.from, old_.events);
    for (size_t i = 0; i < m_.drop.size(); ++i)
      if (old_.field_index(m_.drop[i]) < 0) unknown(m_.drop_pos[i], msg::mig_a_field, m_.drop[i], old_.field_ids());
  }

 private:
  void unknown(SourcePos at, const Message& kind, const std::string& name, const std::vector<std::string>& known) {
    const std::string code = &kind == &msg::mig_a_state ? "unknown-state"
                             : &kind == &msg::mig_a_field ? "unknown-field" : "unknown-event";
    sink_.error(code, at, tr(msg::mig_old_unknown, {tr(kind), name, version_, suggest_name(name, known, 0)}));
  }

  void states() {
    for (const auto& s : m_.states)
      if (old_.state_index(s.from) < 0) unknown(s.pos, msg::mig_a_state, s.from, old_.state_ids());
    const std::vector<bool> reached = reachable_states(old_);
    const std::vector<bool> ends = states_that_can_end(next_);
    for (size_t i = 0; i < old_.states.size(); ++i) {
      const StateDef& s = old_.states[i];
      if (!reached[i] || s.terminal || m_.state(s.id)) continue;
      const int same = next_.state_index(s.id);
      if (same < 0)
        sink_.error("migrate-unmapped", m_.pos, tr(msg::mig_unmapped_state, {s.id, version_}));
      else if (!ends[static_cast<size_t>(same)])
        sink_.error("migrate-trap", m_.pos, tr(msg::mig_same_name_trap, {s.id, version_, ends_of(next_)}));
    }
  }

  bool dropped(const std::string& id) const {
    return std::find(m_.drop.begin(), m_.drop.end(), id) != m_.drop.end();
  }
  const MigrationField* mapping_of(int next_field) const {
    for (const auto& f : m_.fields)
      if (f.field == next_field) return &f;
    return nullptr;
  }
  bool taken(const std::string& old_id) const {
    for (const auto& f : m_.fields)
      if (f.from == old_id) return true;
    const int same = next_.field_index(old_id);
    if (same < 0) return false;
    const MigrationField* mapped = mapping_of(same);
    return !mapped || mapped->from.empty();
  }

  // Whether the old field's values fit the new one; an error at `at` if not.
  void fits(const FieldDef& theirs, const FieldDef& ours, SourcePos at, bool by_name) {
    if (theirs.type != ours.type) {
      if (by_name)
        sink_.error("migrate-type", at, tr(msg::mig_same_name_type, {theirs.id, type_name(theirs.type), version_, type_name(ours.type)}));
      else
        sink_.error("migrate-type", at, tr(msg::mig_type_changed, {theirs.id, type_name(theirs.type), version_, ours.id, type_name(ours.type)}));
      return;
    }
    if (theirs.type != Type::kEnum && theirs.type != Type::kSet) return;
    for (const auto& v : theirs.values)
      if (std::find(ours.values.begin(), ours.values.end(), v) == ours.values.end())
        sink_.error("migrate-value", at, tr(msg::mig_value_lost, {v, theirs.id, version_, ours.id}));
  }

  void fields() {
    for (const auto& f : m_.fields) {
      if (f.from.empty()) continue;
      const int theirs = old_.field_index(f.from);
      if (theirs < 0) {
        unknown(f.pos, msg::mig_a_field, f.from, old_.field_ids());
        continue;
      }
      fits(old_.fields[static_cast<size_t>(theirs)], next_.fields[static_cast<size_t>(f.field)], f.pos, false);
    }
    for (const auto& f : old_.fields) {
      if (dropped(f.id)) continue;
      const int same = next_.field_index(f.id);
      const MigrationField* mapped = same >= 0 ? mapping_of(same) : nullptr;
      if (same >= 0 && (!mapped || mapped->from.empty())) {
        fits(f, next_.fields[static_cast<size_t>(same)], m_.pos, true);
      } else if (!taken(f.id)) {
        sink_.warning("migrate-field-left", m_.pos, tr(msg::mig_field_left, {f.id, version_}));
      }
    }
  }

  const Procedure& old_;
  const Procedure& next_;
  const MigrationDef& m_;
  DiagnosticSink& sink_;
  std::string version_;
};

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

void read_migration(const YAML::Node& key, const YAML::Node& value, const SourceText& source,
                    DiagnosticSink& sink, Procedure* procedure) {
  MigrationReader(source, sink, *procedure).read(key, value);
}

std::vector<Diagnostic> check_migration(const Procedure& old, const Procedure& next, bool strict) {
  std::string_view body = next.source;
  if (body.substr(0, kByteOrderMark.size()) == kByteOrderMark) body.remove_prefix(kByteOrderMark.size());
  const SourceText source(body);
  DiagnosticSink sink(next.file, &source);
  const std::string old_name = old.file.empty() ? old.id : old.file;
  const SourcePos first = next.migrations.empty() ? SourcePos{} : next.migrations.front().pos;
  const MigrationDef* section = next.migration_from(old.version);
  if (old.id != next.id) {
    sink.error("migrate-other-sop", first, tr(msg::mig_other_sop, {old_name, old.id, next.id}));
  } else if (old.version >= next.version) {
    sink.error("migrate-version", first,
               tr(msg::mig_not_older,
                  {old_name, std::to_string(old.version), std::to_string(next.version)}));
  } else if (next.migrations.empty()) {
    sink.error("migrate-version", SourcePos{}, tr(msg::mig_no_section, {std::to_string(old.version), old_name}));
  } else if (!section) {
    std::vector<std::string> listed;
    for (int v : next.migrate_from_versions()) listed.push_back(std::to_string(v));
    sink.error(
        "migrate-version", first,
        tr(msg::mig_version_not_listed, {std::to_string(old.version), old_name, join(listed)}));
  } else {
    MigrationChecker(old, next, *section, sink).run();
  }
  return sink.take(strict);
}

}  // namespace sopir
