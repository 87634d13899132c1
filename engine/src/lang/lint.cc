// Lint: warnings about a procedure that is well-formed but probably not what
// its author meant (FORMAT.md's list). Runs only on procedures that built
// without errors, so every index here is valid.
#include <algorithm>
#include <cctype>
#include <set>

#include "lang/expr/expr.h"
#include "lang/loader_internal.h"
#include "sopir/messages/lang.h"

namespace sopir {

namespace {

bool is_word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }


std::string line_of(SourcePos pos) { return tr(msg::lang_line, {std::to_string(pos.line)}); }

class Linter {
 public:
  Linter(const Procedure& p, const SourceMap& map, const SourceText& source, DiagnosticSink& sink,
         const LoadOptions& options)
      : p_(p), map_(map), source_(source), sink_(sink), options_(options) {}

  void run() {
    reachability();
    exits();
    overlapping_guards();
    roles_of_transitions();
    unset_reads();
    timer_steps();
    set_over_inputs();
    set_counts();
    lint_deadlines(p_, map_, options_, set_on_entry_, sink_);
    unknown_tracks();
    clock_reach();
    unused();
    languages();
    retention();
  }

 private:
  void warn(const char* code, SourcePos pos, const std::string& message) {
    sink_.warning(code, pos, message);
  }
  const std::string& state(int s) const { return p_.states[s].id; }

  // Case-level clocks: one no case can start (clock-never-starts), or
  // whose stop states cannot follow a start (clock-never-stops).
  void clock_reach() {
    for (const ClockDef& c : p_.clocks) {
      std::vector<int> from = c.start;
      if (c.start_at_open) from.push_back(p_.initial_state);
      from.erase(std::remove_if(from.begin(), from.end(), [&](int s) { return s < 0 || !reached_[s]; }),
                 from.end());
      auto names = [&](const std::vector<int>& states) {
        std::string out;
        for (int s : states) out += (out.empty() ? "" : ", ") + state(s);
        return out;
      };
      if (from.empty()) {
        if (!c.start.empty()) warn("clock-never-starts", c.pos, tr(msg::clock_never_starts, {c.id, names(c.start)}));
        continue;
      }
      if (c.stop.empty()) continue;
      std::vector<bool> seen(p_.states.size(), false);
      std::vector<int> work;
      for (int s : from) {
        for (int t : p_.transitions_from[s]) work.push_back(p_.transitions[t].target(s));
      }
      while (!work.empty()) {
        const int s = work.back();
        work.pop_back();
        if (seen[s]) continue;
        seen[s] = true;
        for (int t : p_.transitions_from[s]) work.push_back(p_.transitions[t].target(s));
      }
      if (p_.reopen_to >= 0) seen[p_.reopen_to] = true;  // a reopened case may go there
      if (std::none_of(c.stop.begin(), c.stop.end(), [&](int s) { return seen[s]; }))
        warn("clock-never-stops", c.pos, tr(msg::clock_never_stops, {c.id, names(c.stop)}));
    }
  }
  const std::string& event(int e) const { return p_.events[e]; }

  // Forward from the initial state (and where reopened cases go), and
  // backward from the terminal states.
  void reachability() {
    const size_t n = p_.states.size();
    std::vector<bool> reached(n, false);
    std::vector<int> work;
    auto reach = [&](int s) {
      if (s >= 0 && !reached[s]) {
        reached[s] = true;
        work.push_back(s);
      }
    };
    reach(p_.initial_state);
    reach(p_.reopen_to);
    while (!work.empty()) {
      const int s = work.back();
      work.pop_back();
      for (int t : p_.transitions_from[s]) reach(p_.transitions[t].target(s));
    }
    reached_ = reached;
    std::vector<bool> finishes(n, false);
    for (size_t s = 0; s < n; ++s) {
      if (p_.states[s].terminal) {
        finishes[s] = true;
      }
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& t : p_.transitions) {
        if (t.stays || !finishes[t.to]) continue;  // staying finishes nothing
        for (int s : t.from) {
          if (!finishes[s]) finishes[s] = changed = true;
        }
      }
    }
    const bool any_terminal = std::any_of(p_.states.begin(), p_.states.end(),
                                          [](const StateDef& s) { return s.terminal; });
    if (!any_terminal && !p_.states.empty()) {
      warn("no-terminal-path", p_.states[p_.initial_state].pos,
           tr(msg::lang_no_terminal));
    }
    for (size_t s = 0; s < n; ++s) {
      const StateDef& def = p_.states[s];
      if (!reached[s]) {
        warn("unreachable-state", def.pos,
             tr(msg::lang_unreachable_state, {def.id, state(p_.initial_state)}));
      }
      if (def.terminal) continue;
      if (p_.transitions_from[s].empty()) {
        warn("dead-end-state", def.pos,
             tr(msg::lang_dead_end_state, {def.id}));
      } else if (any_terminal && !finishes[s]) {
        warn("no-terminal-path", def.pos,
             tr(msg::lang_no_terminal_path, {def.id}));
      }
    }
  }

  void exits() {
    for (size_t s = 0; s < p_.states.size(); ++s) {
      if (!p_.states[s].terminal || p_.transitions_from[s].empty()) continue;
      const TransitionDef& t = p_.transitions[p_.transitions_from[s][0]];
      warn("terminal-with-exits", p_.states[s].pos,
           tr(msg::lang_terminal_with_exits, {state(static_cast<int>(s)), event(t.event), line_of(t.pos)}));
    }
  }

  std::string guard_key(const TransitionDef& t) const {
    if (!t.guard) return "";
    return to_string(*t.guard, p_.fields);
  }

  void overlapping_guards() {
    std::set<std::pair<int, int>> reported;
    for (size_t s = 0; s < p_.states.size(); ++s) {
      const auto& from = p_.transitions_from[s];
      for (size_t i = 0; i < from.size(); ++i) {
        for (size_t j = i + 1; j < from.size(); ++j) {
          const TransitionDef& a = p_.transitions[from[i]];
          const TransitionDef& b = p_.transitions[from[j]];
          if (a.event != b.event || reported.count({a.index, b.index})) continue;
          const bool both_open = !a.guard && !b.guard;
          const bool same = a.guard && b.guard && guard_key(a) == guard_key(b);
          if (!both_open && !same) continue;
          reported.insert({a.index, b.index});
          warn("overlapping-guards", b.pos,
               tr(both_open ? msg::lang_overlap_no_guards : msg::lang_overlap_same_guard,
                  {line_of(a.pos), event(a.event), state(static_cast<int>(s))}));
        }
      }
    }
  }

  void roles_of_transitions() {
    for (const auto& t : p_.transitions) {
      if (!t.roles.empty()) continue;
      // The timer fires on_deadline events as `system`: no role needed.
      const bool timer = std::any_of(p_.states.begin(), p_.states.end(), [&](const StateDef& s) {
        return s.on_deadline == t.event;
      });
      if (timer) continue;
      warn("no-roles", map_.roles_pos[t.index],
           tr(msg::lang_no_roles, {event(t.event)}));
    }
  }

  // Which fields surely hold a value on every path into each state: opened
  // (open.requires), required or set by a transition on the way. A guard
  // reading a field outside that set may see it missing.
  void set_counts() {
    for (const auto& t : p_.transitions) {
      if (!t.guard || map_.guard_start[t.index] == std::string::npos) continue;
      for (const auto& [offset, message] : impossible_counts(t.guard_text, p_.fields)) {
        warn("set-count", source_.position(source_.scalar_byte(map_.guard_start[t.index], t.guard_text, offset)),
             tr(msg::lang_guard_prefix, {message}));
      }
    }
  }

  void unset_reads() {
    const size_t n = p_.states.size(), f = p_.fields.size();
    std::vector<std::vector<bool>> in(n, std::vector<bool>(f, true));
    std::vector<bool> seen(n, false);
    std::vector<int> work;
    auto enter = [&](int s, const std::vector<bool>& have) {
      if (!seen[s]) {
        seen[s] = true;
        in[s] = have;
        work.push_back(s);
        return;
      }
      bool changed = false;
      for (size_t i = 0; i < f; ++i) {
        if (in[s][i] && !have[i]) in[s][i] = false, changed = true;
      }
      if (changed) work.push_back(s);
    };
    std::vector<bool> opened(f, false);
    for (int i : p_.open_requires) opened[i] = true;
    enter(p_.initial_state, opened);
    while (!work.empty()) {
      const int s = work.back();
      work.pop_back();
      for (int ti : p_.transitions_from[s]) {
        const TransitionDef& t = p_.transitions[ti];
        std::vector<bool> out = in[s];
        for (int i : t.requires_fields) out[i] = true;
        for (const auto& a : t.set) out[a.field] = true;
        enter(t.target(s), out);
      }
      if (p_.states[s].terminal && p_.reopen_to >= 0) enter(p_.reopen_to, in[s]);
    }
    set_on_entry_ = in;
    for (size_t s = 0; s < n; ++s) {
      if (!seen[s]) set_on_entry_[s].assign(f, true);  // unreachable: reported elsewhere
    }
    for (const auto& t : p_.transitions) {
      if (!t.guard || map_.guard_start[t.index] == std::string::npos) continue;
      const std::vector<int> unguarded = unguarded_reads(*t.guard);
      for (auto [field, offset] : guard_reads(t.guard_text, p_.fields)) {
        if (!std::binary_search(unguarded.begin(), unguarded.end(), field)) continue;
        for (int s : t.from) {
          if (!seen[s] || in[s][field]) continue;
          if (std::count(t.requires_fields.begin(), t.requires_fields.end(), field)) continue;
          const size_t at = source_.scalar_byte(map_.guard_start[t.index], t.guard_text, offset);
          const std::string& name = p_.fields[field].id;
          warn("unset-field-read", source_.position(at),
               tr(msg::lang_unset_field_read, {name, state(s)}));
          break;
        }
      }
    }
  }

  // The timer fires a state's on_deadline event as "system", with no inputs
  // and no reason: a step of that event from the state that needs either is
  // refused at every deadline (timer-blocked). Run after unset_reads().
  void timer_steps() {
    for (size_t s = 0; s < p_.states.size(); ++s) {
      const int event = p_.states[s].on_deadline;
      if (event < 0) continue;
      for (int ti : p_.transitions_from[s]) {
        const TransitionDef& t = p_.transitions[ti];
        if (t.event != event) continue;
        if (t.reason_required)
          warn("timer-blocked", t.pos,
               tr(msg::lang_timer_needs_reason, {state(static_cast<int>(s)), p_.events[event]}));
        for (int f : t.requires_fields)
          if (!set_on_entry_[s][f])
            warn("timer-blocked", t.pos,
                 tr(msg::lang_timer_needs_field,
                    {state(static_cast<int>(s)), p_.events[event], p_.fields[f].id}));
      }
    }
  }

  // `set:` runs after the inputs: a field a step accepts from staff and
  // also sets keeps the set value, and what they typed is lost
  // (set-overwrites). A required one is not flagged: `requires:` asks that
  // the case hold a value before the step (it may set a new one from it).
  void set_over_inputs() {
    for (const TransitionDef& t : p_.transitions)
      for (const Assignment& a : t.set)
        if (std::count(t.accepts_fields.begin(), t.accepts_fields.end(), a.field) &&
            !std::count(t.requires_fields.begin(), t.requires_fields.end(), a.field))
          warn("set-overwrites", t.pos,
               tr(msg::lang_set_overwrites_input, {p_.events[t.event], p_.fields[a.field].id}));
  }

  // A guard that joins on a track (has_child('x'), track_state('x'), ...)
  // no step of this procedure opens can never see it.
  void unknown_tracks() {
    std::vector<std::string> opened;
    for (const auto& t : p_.transitions) {
      for (const HandOff& h : t.opens) {
        if (!std::count(opened.begin(), opened.end(), h.sop)) opened.push_back(h.sop);
      }
    }
    for (const auto& t : p_.transitions) {
      if (!t.guard || map_.guard_start[t.index] == std::string::npos) continue;
      for (const std::string& sop : children_read(*t.guard)) {
        if (std::count(opened.begin(), opened.end(), sop)) continue;
        size_t offset = t.guard_text.find("'" + sop + "'");
        if (offset == std::string::npos) offset = t.guard_text.find("\"" + sop + "\"");
        if (offset == std::string::npos) offset = 0;
        const size_t at = source_.scalar_byte(map_.guard_start[t.index], t.guard_text, offset);
        warn("unknown-track", source_.position(at),
             tr(msg::lang_unknown_track,
                {sop, opened.empty() ? tr(msg::lang_open_track_hint) : suggest_name(sop, opened, 12)}));
      }
    }
  }

  void unused() {
    std::vector<bool> role_used(p_.roles.size(), false);
    for (const auto& t : p_.transitions) {
      for (int r : t.roles) role_used[r] = true;
      for (int r : t.override_roles) role_used[r] = true;
    }
    for (int r : map_.lifecycle_roles) role_used[r] = true;
    for (int r : p_.pii_roles) role_used[r] = true;
    for (size_t r = 0; r < p_.roles.size(); ++r) {
      if (role_used[r]) continue;
      warn("unused-role", map_.role_pos[r],
           tr(msg::lang_unused_role, {p_.roles[r]}));
    }
    // Without an `open:` section any field may be given when a case opens:
    // every field is then potentially used.
    if (!p_.open_declared) return;
    std::vector<bool> field_used(p_.fields.size(), false);
    for (int i : p_.open_requires) field_used[i] = true;
    for (int i : p_.open_accepts) field_used[i] = true;
    for (const auto& t : p_.transitions) {
      for (int i : t.requires_fields) field_used[i] = true;
      for (int i : t.accepts_fields) field_used[i] = true;
      for (const auto& a : t.set) {
        field_used[a.field] = true;
        for (auto [i, offset] : guard_reads(a.text, p_.fields)) field_used[i] = true;
      }
      if (t.guard) {
        for (int i : fields_read(*t.guard)) field_used[i] = true;
        for (auto [i, offset] : guard_reads(t.guard_text, p_.fields)) field_used[i] = true;
      }
    }
    for (size_t i = 0; i < p_.fields.size(); ++i) {
      if (field_used[i]) continue;
      warn("unused-field", p_.fields[i].pos,
           tr(msg::lang_unused_field, {p_.fields[i].id}));
    }
  }

  // `retention:` that can never erase anything: no personal field, or no
  // way for a case to close.
  void retention() {
    if (!p_.retention) return;
    const std::string period = p_.retention->text();
    const bool personal = std::any_of(p_.fields.begin(), p_.fields.end(), [](const FieldDef& f) { return f.pii; });
    if (!personal) warn("retention-no-pii", p_.retention->pos, tr(msg::lang_retention_no_pii, {period}));
    const bool closes = !p_.close_roles.empty() ||
                        std::any_of(p_.states.begin(), p_.states.end(), [](const StateDef& s) { return s.terminal; });
    if (!closes) warn("retention-never-closes", p_.retention->pos, tr(msg::lang_retention_never_closes, {period}));
  }

  void languages() {
    std::set<std::string> all;
    for (const auto& site : map_.texts) {
      for (const auto& [lang, text] : site.text.entries()) {
        if (!lang.empty()) all.insert(std::string(lang));
      }
    }
    if (all.size() < 2) return;
    std::string others;
    for (const auto& lang : all) others += (others.empty() ? "" : ", ") + lang;
    for (const auto& site : map_.texts) {
      // A plain string is language-neutral on purpose (a code, a name).
      if (site.text.has("")) continue;
      std::string missing;
      for (const auto& lang : all) {
        if (!site.text.has(lang)) missing += (missing.empty() ? "" : ", ") + lang;
      }
      if (missing.empty()) continue;
      warn("missing-language", site.pos,
           tr(msg::lang_missing_language, {site.what, missing, others}));
    }
  }

  const Procedure& p_;
  const SourceMap& map_;
  const SourceText& source_;
  DiagnosticSink& sink_;
  std::vector<bool> reached_;
  const LoadOptions& options_;
  std::vector<std::vector<bool>> set_on_entry_;  // [state][field]: set on every path into it
};

}  // namespace

std::vector<std::pair<int, size_t>> guard_reads(std::string_view text,
                                                const std::vector<FieldDef>& fields) {
  std::vector<std::pair<int, size_t>> out;
  std::string previous, before_previous;  // the last two tokens
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\'' || c == '"') {
      for (++i; i < text.size() && text[i] != c; ++i) {
        if (text[i] == '\\') ++i;
      }
      ++i;
      before_previous = previous;
      previous = "'";
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < text.size() && (is_word(text[i]) || text[i] == '-')) ++i;
      before_previous = previous;
      previous = "0";
      continue;
    }
    if (is_word_start(c)) {
      const size_t begin = i;
      while (i < text.size() && is_word(text[i])) ++i;
      const std::string word(text.substr(begin, i - begin));
      size_t next = i;
      while (next < text.size() && std::isspace(static_cast<unsigned char>(text[next]))) ++next;
      const bool call = next < text.size() && text[next] == '(';
      const bool has_argument = previous == "(" && before_previous == "has";
      if (!call && !has_argument) {
        for (size_t f = 0; f < fields.size(); ++f) {
          if (fields[f].id != word) continue;
          const bool known = std::any_of(out.begin(), out.end(),
                                         [&](const auto& r) { return r.first == static_cast<int>(f); });
          if (!known) out.emplace_back(static_cast<int>(f), begin);
        }
      }
      before_previous = previous;
      previous = word;
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) {
      before_previous = previous;
      previous = std::string(1, c);
    }
    ++i;
  }
  return out;
}

void lint_procedure(const Procedure& procedure, const SourceMap& map, const SourceText& source,
                    DiagnosticSink& sink, const LoadOptions& options) {
  Linter(procedure, map, source, sink, options).run();
}

}  // namespace sopir
