// The paths a case can take from the initial state to a terminal state, and
// a starting scenario file written from them.
#include <algorithm>
#include <regex>
#include <set>

#include "rules/field_bounds.h"
#include "sopir/scenario.h"

namespace sopir {

namespace {

// One way out of a state: an event and where it leads (transitions that
// differ only in their guard are one edge).
struct Edge {
  int transition;
  int event;
  int to;
  std::vector<std::string> opens;  // PathStep::opens
};

class PathFinder {
 public:
  PathFinder(const Procedure& p, const PathOptions& options, PathList* out)
      : p_(p), options_(options), out_(out), visits_(p.states.size(), 0) {
    edges_.resize(p.states.size());
    for (size_t s = 0; s < p.states.size(); ++s) {
      std::set<std::pair<int, int>> seen;
      for (int t : p.transitions_from[s]) {
        const TransitionDef& def = p.transitions[t];
        if (def.stays) continue;  // a step that keeps the case where it is leads nowhere new
        const int to = def.target(static_cast<int>(s));
        if (seen.insert({def.event, to}).second) edges_[s].push_back({t, def.event, to, {}});
        for (Edge& e : edges_[s]) {
          if (e.event != def.event || e.to != to) continue;
          for (const HandOff& h : def.opens) {
            if (std::find(e.opens.begin(), e.opens.end(), h.sop) == e.opens.end()) e.opens.push_back(h.sop);
          }
        }
      }
    }
  }

  // Paths where no state repeats, then (when max_visits > 1) those with a
  // loop, so that a cap keeps the plain stories.
  void run() {
    limit_ = 1;
    loops_only_ = false;
    walk(p_.initial_state);
    if (options_.max_visits > 1 && !out_->truncated) {
      limit_ = options_.max_visits;
      loops_only_ = true;
      walk(p_.initial_state);
    }
  }

 private:
  static constexpr long kMaxExpansions = 2000000;

  bool full() {
    if (out_->paths.size() >= options_.max_paths || expansions_ >= kMaxExpansions) {
      out_->truncated = true;
      return true;
    }
    return false;
  }

  void walk(int state) {
    if (full()) return;
    ++expansions_;
    ++visits_[state];
    if (p_.states[state].terminal) {
      bool loop = std::any_of(path_.steps.begin(), path_.steps.end(),
                              [](const PathStep& s) { return s.again; });
      if (loop || !loops_only_) {
        ProcedurePath copy = path_;
        copy.has_loop = loop;
        out_->paths.push_back(std::move(copy));
      }
    } else {
      for (const Edge& e : edges_[state]) {
        if (visits_[e.to] >= limit_) continue;
        path_.steps.push_back({e.transition, e.event, e.to, visits_[e.to] > 0, e.opens});
        walk(e.to);
        path_.steps.pop_back();
        if (out_->truncated) break;
      }
    }
    --visits_[state];
  }

  const Procedure& p_;
  const PathOptions& options_;
  PathList* out_;
  std::vector<std::vector<Edge>> edges_;
  std::vector<int> visits_;
  ProcedurePath path_;
  int limit_ = 1;
  bool loops_only_ = false;
  long expansions_ = 0;
};

// --- --as-tests -------------------------------------------------------------

constexpr char kClock[] = "2026-01-05T08:00:00Z";

std::string single_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

bool fits(const FieldDef& f, const std::string& text) {
  const auto length = static_cast<int64_t>(text.size());
  if (f.min && std::holds_alternative<int64_t>(*f.min) && length < std::get<int64_t>(*f.min)) return false;
  if (f.max && std::holds_alternative<int64_t>(*f.max) && length > std::get<int64_t>(*f.max)) return false;
  if (f.pattern) {
    try {
      if (!pattern_matches(f, text)) return false;
    } catch (const std::regex_error&) {
      return false;
    }
  }
  return true;
}

// Clamps an ordered value into the field's bounds.
Value clamp(const FieldDef& f, Value v) {
  if (f.min && compare_values(v, *f.min).value_or(0) < 0) v = *f.min;
  if (f.max && compare_values(v, *f.max).value_or(0) > 0) v = *f.max;
  return v;
}

// A value valid for the field, as YAML text, and a comment when sopir could
// not find one (then the text is a TODO the author must replace).
std::pair<std::string, std::string> placeholder(const FieldDef& f) {
  const DateTime clock = *parse_datetime(kClock);
  switch (f.type) {
    case Type::kEnum: return {f.values.empty() ? "TODO" : f.values[0], ""};
    case Type::kSet: return {f.values.empty() ? "[]" : "[" + f.values[0] + "]", ""};
    case Type::kInt: return {format_value(clamp(f, Value{int64_t{1}})), ""};
    case Type::kBool: return {"true", ""};
    case Type::kDate: return {format_value(clamp(f, Value{date_of(clock)})), ""};
    case Type::kDateTime: return {format_value(clamp(f, Value{clock})), ""};
    case Type::kDuration: return {format_value(clamp(f, Value{Duration{86400}})), ""};
    case Type::kString: break;
  }
  std::vector<std::string> candidates = {"example", "Example text written for this field",
                                         "EX-0001", "EXAMPLE", "0000000000000001", "+62 811 0000 0001",
                                         "12345678", "A1"};
  std::string padded = "example";
  while (padded.size() < 200) padded += " example";
  if (f.min && std::holds_alternative<int64_t>(*f.min)) {
    const auto n = static_cast<size_t>(std::max<int64_t>(0, std::get<int64_t>(*f.min)));
    if (n <= padded.size()) candidates.push_back(padded.substr(0, n));
  }
  for (const auto& c : candidates) {
    if (fits(f, c)) return {single_quoted(c), ""};
  }
  return {single_quoted("TODO"),
          "TODO: " + f.id + " needs" + (f.pattern ? " a value matching " + *f.pattern : " a valid value")};
}

std::string role_staff(const std::string& role, int n) { return role + "_" + std::to_string(n); }

void add_comment(std::vector<std::string>* comments, const std::string& text) {
  if (!text.empty() && std::find(comments->begin(), comments->end(), text) == comments->end())
    comments->push_back(text);
}

std::string comment_text(const std::vector<std::string>& comments) {
  std::string out;
  for (size_t i = 0; i < comments.size(); ++i) out += (i ? "; " : "  # ") + comments[i];
  return out;
}

// "{a: 1, b: x}" from (field, value) pairs, or "" when empty.
std::string flow_set(const Procedure& p, const std::vector<int>& fields,
                     std::vector<std::string>* comments) {
  if (fields.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    auto [text, comment] = placeholder(p.fields[fields[i]]);
    add_comment(comments, comment);
    out += (i ? ", " : "") + p.fields[fields[i]].id + ": " + text;
  }
  return out + "}";
}

}  // namespace

PathList procedure_paths(const Procedure& procedure, const PathOptions& options) {
  PathList out;
  if (procedure.initial_state < 0) return out;
  PathFinder(procedure, options, &out).run();
  return out;
}

std::string paths_as_tests(const Procedure& p, const PathList& paths,
                           const std::string& procedure_ref) {
  std::string out;
  out += "# Scenario tests for " + procedure_ref + ", generated from its paths.\n";
  out += "# A start: one scenario per path. Replace the placeholder values and reasons with\n";
  out += "# realistic (invented) ones, check the TODO comments, and add scenarios for refusals.\n";
  out += "procedure: " + single_quoted(procedure_ref) + "\n";
  out += "clock: " + std::string(kClock) + "\n";
  out += "staff:\n";
  for (const auto& role : p.roles) {
    for (int n = 1; n <= 2; ++n) {
      out += "  - {id: " + role_staff(role, n) + ", name: " +
             single_quoted("Example " + role + " " + std::to_string(n)) + ", roles: [" + role + "]}\n";
    }
  }
  out += "scenarios:\n";
  int number = 0;
  for (const auto& path : paths.paths) {
    ++number;
    std::string name = "path " + std::to_string(number) + ":";
    for (const auto& step : path.steps) {
      name += " " + p.events[step.event] + " -> " + p.states[step.state].id;
      if (&step != &path.steps.back()) name += ",";
    }
    if (path.has_loop) name += " (loop)";
    out += "  - name: " + single_quoted(name) + "\n";

    std::vector<bool> held(p.fields.size(), false);
    std::vector<std::string> comments;
    std::vector<int> open_fields = p.open_requires;
    for (int f : open_fields) held[f] = true;
    const std::string opener = p.roles.empty() ? "TODO" : role_staff(p.roles[0], 1);
    std::string open_set = flow_set(p, open_fields, &comments);
    out += "    open: {as: " + opener + (open_set.empty() ? "" : ", set: " + open_set) + "}" +
           comment_text(comments) + "\n";
    out += "    steps:\n";
    std::vector<std::pair<int, std::string>> fired;  // event, staff id
    for (const auto& step : path.steps) {
      const TransitionDef& t = p.transitions[step.transition];
      comments.clear();
      // The first staff member with a role for it whom four-eyes allows.
      std::string actor;
      for (int r : t.roles) {
        for (int n = 1; n <= 2 && actor.empty(); ++n) {
          const std::string who = role_staff(p.roles[r], n);
          const bool blocked = std::any_of(fired.begin(), fired.end(), [&](const auto& f) {
            return f.second == who &&
                   std::find(t.distinct_from.begin(), t.distinct_from.end(), f.first) !=
                       t.distinct_from.end();
          });
          if (!blocked) actor = who;
        }
      }
      if (actor.empty()) {
        actor = t.roles.empty() ? "TODO" : role_staff(p.roles[t.roles[0]], 1);
        add_comment(&comments, "TODO: four-eyes needs a third person here");
      }
      fired.emplace_back(t.event, actor);
      std::vector<int> give;
      for (int f : t.requires_fields) {
        if (!held[f]) give.push_back(f);
        held[f] = true;
      }
      for (const auto& a : t.set) held[a.field] = true;
      if (t.guard) add_comment(&comments, "when: " + t.guard_text + " (choose values that make it hold)");
      const std::string set = flow_set(p, give, &comments);
      out += "      - {event: " + p.events[t.event] + ", as: " + actor;
      if (!set.empty()) out += ", set: " + set;
      if (t.reason_required) out += ", reason: " + single_quoted("TODO: why");
      std::string opened;
      for (const std::string& sop : step.opens) opened += (opened.empty() ? "" : ", ") + sop;
      if (!opened.empty()) opened = ", opened: [" + opened + "]";
      out += ", expect: {state: " + p.states[step.state].id + opened + "}}" + comment_text(comments) + "\n";
    }
    if (!path.steps.empty()) {
      out += "    expect: {state: " + p.states[path.steps.back().state].id + ", status: closed}\n";
    }
  }
  if (paths.paths.empty()) out += "  []  # no path reaches a terminal state\n";
  return out;
}

}  // namespace sopir
