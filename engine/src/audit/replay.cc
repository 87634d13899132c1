// replay_case(): one case's recorded steps re-decided under a procedure.
#include "audit/replay.h"

#include <algorithm>
#include <iterator>

#include "base/sha256.h"
#include "sopir/privacy.h"
#include "sopir/messages/audit.h"
#include "sopir/clocks.h"
#include "lang/expr/expr.h"
#include "sopir/migration.h"
#include "sopir/migration_apply.h"
#include "sopir/retention.h"

namespace sopir::audit_internal {

namespace {

constexpr const char* kPiiInput = kPersonalInput;  // sopir/privacy.h

std::optional<LifecycleEvent> lifecycle_event(const std::string& text) {
  if (text == "hold") return LifecycleEvent::kHold;
  if (text == "resume") return LifecycleEvent::kResume;
  if (text == "close") return LifecycleEvent::kClose;
  if (text == "reopen") return LifecycleEvent::kReopen;
  return std::nullopt;
}

// The language decide() writes its refusals in: the process's message
// language, as every other message of the replay; in English its ids as
// recorded ("", Command::lang).
std::string refusal_lang() { return message_language() == "id" ? "id" : ""; }

std::string opt_time(const std::optional<DateTime>& t) {
  return t ? format_datetime(*t) : tr(msg::audit_none);
}

// The case as rebuilt from the record so far.
struct Rebuilt {
  explicit Rebuilt(const Procedure& p) : data(p.fields.size()), unknown(p.fields.size(), false) {}
  std::vector<Value> data;
  std::vector<bool> unknown;  // erased (or locked) personal data: value not known
  std::vector<std::pair<int, std::string>> fired;
  ReplayedCase end;
  DateTime entered_at;  // when the case entered its state (state_entered_at's rule)
  std::optional<DateTime> closed;  // when the case was closed, while it is (sopir/retention.h)
  std::optional<std::string> erase_requested_by;  // the officer whose erasure request waits
};

// Whether `decided` (a value the rules produce) matches the recorded value.
bool same_value(const Value& decided, const StoredValue& recorded) {
  if (is_missing(decided) != recorded.missing) return false;
  if (recorded.missing) return true;
  const std::string text = format_value(decided);
  if (recorded.pii && (recorded.erased || recorded.locked)) return sha256_hex(recorded.salt + text) == recorded.digest;
  return text == recorded.text;
}

std::string shown(const StoredValue& v) {
  if (v.missing) return tr(msg::audit_no_value);
  if (v.pii) return tr(msg::audit_personal_data);
  return "'" + v.text + "'";
}

std::string shown(const FieldDef& f, const Value& v) {
  if (is_missing(v)) return tr(msg::audit_no_value);
  if (f.pii) return tr(msg::audit_personal_data);
  return "'" + format_value(v) + "'";
}

// Compares decided field changes with the recorded ones; "" when equal.
std::string compare_changes(const Procedure& p, const std::vector<FieldChange>& decided,
                            const std::vector<LogEntry::Change>& recorded) {
  std::vector<std::string> problems;
  std::vector<bool> matched(recorded.size(), false);
  for (const auto& change : decided) {
    const FieldDef& field = p.fields[change.field];
    auto it = std::find_if(recorded.begin(), recorded.end(),
                           [&](const LogEntry::Change& c) { return c.after.field == field.id; });
    if (it == recorded.end()) {
      problems.push_back(tr(msg::audit_rules_set_unrecorded, {field.id, shown(field, change.after)}));
      continue;
    }
    matched[static_cast<size_t>(it - recorded.begin())] = true;
    if (!same_value(change.after, it->after))
      problems.push_back(tr(msg::audit_recorded_as, {field.id, shown(it->after), shown(field, change.after)}));
  }
  for (size_t i = 0; i < recorded.size(); ++i) {
    if (!matched[i])
      problems.push_back(tr(msg::audit_record_changes, {recorded[i].after.field, shown(recorded[i].after)}));
  }
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

void add_problem(std::string& message, const std::string& problem) {
  message += (message.empty() ? "" : "; ") + problem;
}

// Applies the recorded step to the rebuilt case.
void apply_recorded(const Procedure& p, const LogEntry& e, Rebuilt& r) {
  r.closed = closed_after(r.closed, e);
  if (e.kind == LogKind::kErasure && e.event == erasure_event::kRequested) r.erase_requested_by = e.actor;
  if (e.kind == LogKind::kErasure && e.event == erasure_event::kErased) r.erase_requested_by.reset();
  r.end.state = e.to_state;
  if (auto status = status_from_string(e.to_status)) r.end.status = *status;
  for (const auto& change : e.changes) {
    const StoredValue& after = change.after;
    if (after.missing) {
      r.end.data.erase(after.field);
    } else {
      r.end.data[after.field] = after;
    }
    const int f = p.field_index(after.field);
    if (f < 0) continue;
    r.unknown[f] = false;
    r.data[f] = Value{};
    if (after.missing) continue;
    if (after.erased || after.locked) {  // erased, or encrypted and no key held
      r.unknown[f] = true;
      continue;
    }
    const FieldDef& field = p.fields[f];
    if (auto value = parse_typed(field.type, field.values, after.text, nullptr)) r.data[f] = *value;
  }
  if (e.kind == LogKind::kProcedure || e.kind == LogKind::kOverride) {
    const int event = p.event_index(e.event);
    if (event >= 0) r.fired.emplace_back(event, e.actor);
  }
  r.end.due_at = e.due_at;
  if (e.kind == LogKind::kLifecycle) {
    r.end.hold_started.reset();
    if (r.end.status == Status::kOnHold) r.end.hold_started = e.occurred_at;
    if (e.event == "close") r.end.closure_reason = e.reason;
    if (e.event == "reopen") r.end.closure_reason.clear();
  }
  if (e.kind == LogKind::kOpen || (e.kind != LogKind::kMigration && e.from_state != e.to_state))
    r.entered_at = e.occurred_at;
  r.end.last_case_seq = e.case_seq;
  ++r.end.steps;
}

bool any_unknown(const Rebuilt& r);

// The case as rebuilt so far, carried over to the version a migration row
// moved it to (`r` has the row applied): values by the new field indices,
// fired events by their new ids (renamed under migrate: events:).
Rebuilt carry_over(const Procedure& old, const Procedure& next, const Rebuilt& r) {
  Rebuilt out(next);
  out.end = r.end;
  out.entered_at = r.entered_at;
  out.closed = r.closed;
  out.erase_requested_by = r.erase_requested_by;
  for (const auto& [id, stored] : r.end.data) {
    const int f = next.field_index(id);
    if (f < 0 || stored.missing) continue;
    if (stored.erased) {
      out.unknown[f] = true;
      continue;
    }
    const FieldDef& field = next.fields[f];
    if (auto value = parse_typed(field.type, field.values, stored.text, nullptr)) out.data[f] = *value;
  }
  for (const auto& [event, actor] : r.fired) {
    const int to = next.carried_event(old.version, old.events[static_cast<size_t>(event)]);
    if (to >= 0) out.fired.emplace_back(to, actor);
  }
  return out;
}

std::string row_input(const LogEntry& e, const std::string& key) {
  for (const auto& [k, v] : e.inputs)
    if (k == key) return v;
  return "";
}

// A migration row (kind migration) against plan_case (see replay_case).
StepReplay replay_migration(const Procedure& old, const Procedure* next, const std::string& why, const LogEntry& e,
                            const Rebuilt& r) {
  StepReplay out;
  if (e.from_state != r.end.state) add_problem(out.message, tr(msg::audit_leaving_state, {e.from_state, r.end.state}));
  if (e.from_status != to_string(r.end.status))
    add_problem(out.message, tr(msg::audit_status_before, {e.from_status, to_string(r.end.status)}));
  auto refuse = [&](const std::string& message) {
    out.verdict = Verdict::kRefused;
    out.message = message;
    return out;
  };
  if (!next) return refuse(tr(msg::audit_migration_no_version, {e.sha256.substr(0, 12), why}));
  const auto planned_at = parse_datetime(row_input(e, "planned_at"));
  if (!planned_at) return refuse(tr(msg::audit_migration_no_time));
  CaseSnapshot snapshot;
  snapshot.id = e.case_id;
  snapshot.state = old.state_index(r.end.state);
  snapshot.status = r.end.status;
  snapshot.data = r.data;
  snapshot.due_at = r.end.due_at;
  if (snapshot.state < 0) return refuse(tr(msg::audit_unknown_state, {r.end.state, old.id}));
  if (any_unknown(r)) {
    // The mapping and a split's guard may read personal data no longer known.
    out.verdict = Verdict::kUnverifiable;
    out.message = tr(msg::audit_rule_reads_erased);
    return out;
  }
  const Landing l = plan_case(old, *next, snapshot, r.entered_at, *planned_at);
  if (!l.moves) return refuse(l.reason);
  out.role = kMigrationRole;
  out.decided_to = next->states[static_cast<size_t>(l.state)].id;
  std::string differs;
  if (out.decided_to != e.to_state) add_problem(differs, tr(msg::audit_going_to, {e.to_state, out.decided_to}));
  if (e.to_status != to_string(r.end.status))
    add_problem(differs, tr(msg::audit_status_after, {e.to_status, to_string(r.end.status)}));
  if (e.role != kMigrationRole) add_problem(differs, tr(msg::audit_role_as, {e.role, kMigrationRole}));
  if (l.due_at != e.due_at)
    add_problem(differs, tr(msg::audit_due_differs, {opt_time(e.due_at), opt_time(l.due_at)}));
  // The values the row leaves against the ones plan_case gives.
  std::map<std::string, StoredValue> after = r.end.data;
  for (const auto& change : e.changes) {
    if (change.after.missing) {
      after.erase(change.after.field);
    } else {
      after[change.after.field] = change.after;
    }
  }
  for (size_t g = 0; g < next->fields.size(); ++g) {
    const FieldDef& field = next->fields[g];
    StoredValue recorded;
    recorded.field = field.id;
    if (auto it = after.find(field.id); it != after.end()) {
      recorded = it->second;
      after.erase(it);
    }
    if (!same_value(l.data[g], recorded))
      add_problem(differs, tr(msg::audit_recorded_as, {field.id, shown(recorded), shown(field, l.data[g])}));
  }
  for (const auto& [id, value] : after)
    if (!value.missing) add_problem(differs, tr(msg::audit_migration_extra, {id, std::to_string(next->version)}));
  if (!differs.empty()) add_problem(out.message, differs);
  if (!out.message.empty()) out.verdict = Verdict::kDiffers;
  return out;
}

// The recorded inputs with personal values taken from the step's changes
// (or the case data when unchanged). False when a value was erased.
bool restore_inputs(const Procedure& p, const LogEntry& e, const Rebuilt& r,
                    std::vector<std::pair<std::string, std::string>>* inputs) {
  *inputs = e.inputs;
  for (auto& input : *inputs) {
    const std::string& name = input.first;
    std::string& text = input.second;
    if (text != kPiiInput) continue;
    auto it = std::find_if(e.changes.begin(), e.changes.end(),
                           [&](const LogEntry::Change& c) { return c.after.field == name; });
    if (it != e.changes.end()) {
      if (it->after.erased || it->after.locked) return false;
      text = it->after.text;
      continue;
    }
    // Given but unchanged: the value the case already held.
    const int f = p.field_index(name);
    if (f < 0) continue;  // decide() refuses the unknown field itself
    if (r.unknown[f]) return false;
    text = format_value(r.data[f]);
  }
  return true;
}

bool any_unknown(const Rebuilt& r) {
  return std::find(r.unknown.begin(), r.unknown.end(), true) != r.unknown.end();
}

// What can still be checked of a step that cannot be decided again (its
// inputs or its guard read personal data not readable here): that the
// procedure has such a move at all, and the status it leaves. "" when it has.
std::string move_problem(const Procedure& p, const LogEntry& e, const Rebuilt& r) {
  int to = -1;
  if (e.kind == LogKind::kOpen) {
    if (p.initial_state >= 0 && p.states[p.initial_state].id == e.to_state) to = p.initial_state;
  } else {
    const int from = p.state_index(r.end.state);
    const int event = p.event_index(e.event);
    if (from >= 0 && event >= 0)
      for (int ti : p.transitions_from[from]) {
        const TransitionDef& t = p.transitions[ti];
        if (t.event == event && p.states[t.target(from)].id == e.to_state) to = t.target(from);
      }
  }
  if (to < 0)
    return tr(msg::audit_no_such_move,
              {e.event, e.kind == LogKind::kOpen ? "" : r.end.state, e.to_state});
  const Status status = p.states[to].terminal      ? Status::kClosed
                        : e.kind == LogKind::kOpen ? Status::kActive
                                                   : r.end.status;
  if (e.to_status != to_string(status))
    return tr(msg::audit_status_after, {e.to_status, to_string(status)});
  return "";
}

// A step that cannot be decided again: unverifiable, unless what can still
// be checked of it fails (move_problem), or it left another state.
StepReplay undecidable(const Procedure& p, const LogEntry& e, const Rebuilt& r, StepReplay out,
                       const Message& why) {
  if (std::string problem = move_problem(p, e, r); !problem.empty()) {
    add_problem(out.message, problem);
    out.verdict = Verdict::kRefused;
    return out;
  }
  if (!out.message.empty()) {
    out.verdict = Verdict::kDiffers;
    return out;
  }
  out.verdict = Verdict::kUnverifiable;
  out.message = tr(why);
  return out;
}

StepReplay replay_step(const Procedure& p, const LogEntry& e, Rebuilt& r,
                       const std::vector<ChildTimeline>& children, std::vector<ClockReading> clocks) {
  StepReplay out;
  const bool opening = e.kind == LogKind::kOpen;
  if (!opening && e.from_state != r.end.state)
    add_problem(out.message, tr(msg::audit_leaving_state, {e.from_state, r.end.state}));
  if (!opening && e.from_status != to_string(r.end.status))
    add_problem(out.message, tr(msg::audit_status_before, {e.from_status, to_string(r.end.status)}));

  // An erasure changes no state, status or value (its text is gone, the
  // digests stay): nothing to re-decide; check_actor checks its officer. One
  // the retention rule wrote must be due under the version the case ran.
  if (e.kind == LogKind::kErasure) {
    if (e.to_state != e.from_state || e.to_status != e.from_status || !e.changes.empty())
      add_problem(out.message, tr(msg::audit_erasure_moves));
    if (!out.message.empty()) out.verdict = Verdict::kDiffers;
    // An erasure on request follows a request by another officer; one under
    // a retention period must have been due.
    std::string problem;
    if (is_retention_erasure(e)) {
      problem = retention_problem(p, r.closed, e);
    } else if (e.event == erasure_event::kErased) {
      if (!r.erase_requested_by) problem = tr(msg::audit_erasure_unrequested);
      else if (*r.erase_requested_by == e.actor) problem = tr(msg::audit_erasure_same_officer, {e.actor});
    }
    if (!problem.empty()) {
      add_problem(out.message, problem);
      out.verdict = Verdict::kRefused;
    }
    return out;
  }

  // A transfer moves the case to another site and changes nothing else;
  // it names the site it moves to and gives a reason.
  if (e.kind == LogKind::kTransfer) {
    if (e.to_state != e.from_state || e.to_status != e.from_status || !e.changes.empty())
      add_problem(out.message, tr(msg::audit_transfer_moves));
    if (e.site.empty() || e.reason.empty()) add_problem(out.message, tr(msg::audit_transfer_incomplete));
    if (!out.message.empty()) out.verdict = Verdict::kDiffers;
    return out;
  }

  CaseSnapshot snapshot;
  snapshot.id = e.case_id;
  snapshot.state = opening ? -1 : p.state_index(r.end.state);
  snapshot.status = r.end.status;
  snapshot.data = r.data;
  snapshot.fired = r.fired;
  snapshot.due_at = r.end.due_at;
  snapshot.children = children_before(children, e.seq);
  snapshot.clocks = std::move(clocks);
  if (!opening && snapshot.state < 0) {
    out.verdict = Verdict::kRefused;
    out.message = tr(msg::audit_unknown_state, {r.end.state, p.id});
    return out;
  }
  const Actor actor{e.actor, {e.role}};

  std::optional<Refusal> refusal;
  std::optional<Transition> transition;
  std::optional<LifecycleTransition> moved;
  if (e.kind == LogKind::kLifecycle) {
    auto event = lifecycle_event(e.event);
    if (!event) {
      refusal = Refusal{RefusalKind::kLifecycle, tr(msg::audit_not_lifecycle_move, {e.event})};
    } else {
      LifecycleCommand command{*event, actor, e.reason, e.occurred_at, refusal_lang()};
      auto decision = decide_lifecycle(p, snapshot, command, r.end.hold_started);
      if (auto* no = std::get_if<Refusal>(&decision)) refusal = *no;
      else moved = std::get<LifecycleTransition>(decision);
    }
  } else {
    std::vector<std::pair<std::string, std::string>> inputs;
    if (!restore_inputs(p, e, r, &inputs))
      return undecidable(p, e, r, std::move(out), msg::audit_inputs_erased);
    Decision decision;
    if (opening) {
      // A case opened by another case's step (a hand-off) was authorised by
      // that step; the link itself is checked separately (audit_links.h).
      decision = decide_open(p, actor, inputs, e.occurred_at, !e.linked_case.empty(),
                             refusal_lang(), true);
    } else {
      Command command;
      command.event = e.event;
      command.actor = e.kind == LogKind::kTimer ? Actor{e.actor, {}} : actor;
      command.inputs = inputs;
      command.reason = e.reason;
      command.override = e.kind == LogKind::kOverride;
      command.timer = e.kind == LogKind::kTimer;
      command.at = e.occurred_at;
      command.recorded = true;
      command.lang = refusal_lang();
      decision = decide(p, snapshot, command);
      // Someone who may only override may fire a transition whose guard
      // holds when they ask to override; that is logged as a plain step.
      if (auto* no = std::get_if<Refusal>(&decision);
          no && no->kind == RefusalKind::kRole && e.kind == LogKind::kProcedure) {
        command.override = true;
        Decision again = decide(p, snapshot, command);
        if (auto* t = std::get_if<Transition>(&again); t && !t->overridden) decision = again;
      }
    }
    if (auto* no = std::get_if<Refusal>(&decision)) refusal = *no;
    else transition = std::get<Transition>(decision);
  }

  if (refusal) {
    // A guard may read personal data that is no longer known.
    if (any_unknown(r) && (refusal->kind == RefusalKind::kGuard || refusal->kind == RefusalKind::kMissingField)) {
      out = undecidable(p, e, r, std::move(out), msg::audit_rule_reads_erased);
    } else {
      out.verdict = Verdict::kRefused;
      out.message = refusal->message;
    }
    return out;
  }

  std::string differs;
  if (transition) {
    out.transition = transition->transition;
    out.role = transition->role;
    out.decided_to = p.states[transition->to].id;
    const Status status = transition->closes_case ? Status::kClosed
                          : opening              ? Status::kActive
                                                 : r.end.status;
    if (out.decided_to != e.to_state)
      add_problem(differs, tr(msg::audit_going_to, {e.to_state, out.decided_to}));
    if (e.to_status != to_string(status))
      add_problem(differs, tr(msg::audit_status_after, {e.to_status, to_string(status)}));
    if (transition->role != e.role)
      add_problem(differs, tr(msg::audit_role_as, {e.role, transition->role}));
    if (transition->overridden != (e.kind == LogKind::kOverride))
      add_problem(differs, transition->overridden
                               ? tr(msg::audit_needed_override)
                               : tr(msg::audit_needless_override));
    if (std::string c = compare_changes(p, transition->changes, e.changes); !c.empty())
      add_problem(differs, c);
    if (transition->due_at != e.due_at)
      add_problem(differs, tr(msg::audit_due_differs, {opt_time(e.due_at), opt_time(transition->due_at)}));
  } else {
    out.role = moved->role;
    out.decided_to = p.states[moved->state_to].id;
    if (out.decided_to != e.to_state)
      add_problem(differs, tr(msg::audit_going_to, {e.to_state, out.decided_to}));
    if (e.to_status != to_string(moved->to))
      add_problem(differs, tr(msg::audit_status_after, {e.to_status, to_string(moved->to)}));
    if (moved->role != e.role)
      add_problem(differs, tr(msg::audit_role_as, {e.role, moved->role}));
    if (!e.changes.empty()) add_problem(differs, tr(msg::audit_lifecycle_changes));
    if (moved->due_at != e.due_at)
      add_problem(differs, tr(msg::audit_due_differs, {opt_time(e.due_at), opt_time(moved->due_at)}));
  }
  if (!differs.empty()) add_problem(out.message, differs);
  if (!out.message.empty()) out.verdict = Verdict::kDiffers;
  return out;
}

}  // namespace

std::vector<LinkedCase> children_before(const std::vector<ChildTimeline>& children, int64_t seq) {
  std::vector<LinkedCase> out;
  for (const ChildTimeline& child : children) {
    const auto after = std::find_if(child.statuses.begin(), child.statuses.end(),
                                    [&](const auto& row) { return row.seq >= seq; });
    if (after == child.statuses.begin()) continue;  // not yet opened
    const ChildTimeline::Row& last = *std::prev(after);
    out.push_back(linked_case(child.id, child.sop_id, last.status, last.state, last.closure_reason));
  }
  return out;
}

namespace {

// The staff check of one step (see replay_case).
void check_actor(const StaffTimeline& staff, const LogEntry& e, StepReplay& step) {
  if (e.kind == LogKind::kTimer) return;
  // A case opened by a hand-off is opened as "hand-off" by the parent
  // step's actor, whose role the parent's own row shows.
  const bool handoff = e.kind == LogKind::kOpen && !e.linked_case.empty() && e.role == "hand-off";
  StaffCheck check = staff.check(e.actor, handoff ? "" : e.role, e.seq);
  step.staff_caveat = std::move(check.caveat);
  if (check.problem.empty()) return;
  step.message = step.message.empty() ? check.problem : check.problem + "; " + step.message;
  step.verdict = Verdict::kRefused;
}

}  // namespace

CaseReplay replay_case(const Procedure& given, const std::vector<LogEntry>& history,
                       const std::vector<ChildTimeline>& children, const StaffTimeline* staff,
                       const VersionLookup* versions) {
  CaseReplay out;
  const Procedure* current = &given;
  ProcedurePtr holder;  // the version a migration row switched to
  Rebuilt rebuilt(given);
  int64_t expected = 1;
  // clock_overdue guards read the clocks as the rows before each step left them.
  auto reads_clocks_in = [](const Procedure& p) {
    return std::any_of(p.transitions.begin(), p.transitions.end(),
                       [](const TransitionDef& t) { return t.guard && reads_clocks(*t.guard); });
  };
  bool reads_clocks_anywhere = reads_clocks_in(given);
  const bool migrates = std::any_of(history.begin(), history.end(),
                                    [](const LogEntry& e) { return e.kind == LogKind::kMigration; });
  std::vector<LogEntry> before;
  for (const LogEntry& entry : history) {
    const Procedure& procedure = *current;
    StepReplay step;
    ProcedurePtr next;
    if (entry.kind == LogKind::kMigration) {
      std::string why;
      if (versions) {
        next = (*versions)(entry.sha256, &why);
        step = replay_migration(procedure, next.get(), why, entry, rebuilt);
      }
    } else {
      std::vector<ClockReading> clocks;
      if (reads_clocks_anywhere) clocks = clock_readings(procedure, before);
      step = replay_step(procedure, entry, rebuilt, children, std::move(clocks));
    }
    step.under = holder;
    if (reads_clocks_anywhere || migrates) before.push_back(entry);
    if (staff) check_actor(*staff, entry, step);
    if (entry.case_seq != expected) {
      step.sequence_gap = true;
      step.expected_case_seq = expected;
    }
    expected = entry.case_seq + 1;
    apply_recorded(procedure, entry, rebuilt);
    if (next) {
      rebuilt = carry_over(procedure, *next, rebuilt);
      holder = next;
      current = holder.get();
      reads_clocks_anywhere = reads_clocks_in(*current);
    }
    const bool opens = step.transition >= 0 && !procedure.transitions[step.transition].opens.empty();
    if (entry.kind != LogKind::kOpen && (opens || !entry.linked_case.empty()))
      step.data_after = rebuilt.end.data;
    out.steps.push_back(std::move(step));
  }
  out.end = std::move(rebuilt.end);
  return out;
}

std::string case_row_problems(const CaseRecord& c, const ReplayedCase& end,
                              const std::string& sop_id, std::optional<DateTime> opened) {
  std::string problems;
  auto problem = [&](const std::string& text) {
    problems += (problems.empty() ? "" : "; ") + text;
  };
  auto time = [](const std::optional<DateTime>& t) {
    return t ? format_datetime(*t) : tr(msg::audit_none);
  };
  if (c.state != end.state) problem(tr(msg::audit_row_state, {c.state, end.state}));
  if (c.status != end.status)
    problem(tr(msg::audit_row_status, {to_string(c.status), to_string(end.status)}));
  if (c.last_seq != end.last_case_seq)
    problem(tr(msg::audit_row_last_step,
               {std::to_string(c.last_seq), std::to_string(end.last_case_seq)}));
  if (c.version != end.steps)
    problem(tr(msg::audit_row_version, {std::to_string(c.version), std::to_string(end.steps)}));
  if (c.due_at != end.due_at) problem(tr(msg::audit_row_due, {time(c.due_at), time(end.due_at)}));
  if (c.hold_started != end.hold_started)
    problem(tr(msg::audit_row_hold, {time(c.hold_started), time(end.hold_started)}));
  if (c.sop_id != sop_id) problem(tr(msg::audit_row_procedure, {c.sop_id, sop_id}));
  if (opened && c.opened_at != *opened)
    problem(tr(msg::audit_row_opened, {format_datetime(c.opened_at), format_datetime(*opened)}));
  if (c.closure_reason != end.closure_reason)
    problem(tr(msg::audit_row_closure, {c.closure_reason, end.closure_reason}));
  std::map<std::string, const StoredValue*> row_data;
  for (const auto& v : c.data)
    if (!v.missing) row_data[v.field] = &v;
  for (const auto& [field, logged] : end.data) {
    auto it = row_data.find(field);
    if (it == row_data.end()) {
      problem(tr(msg::audit_row_field_missing, {field}));
      continue;
    }
    const StoredValue& stored = *it->second;
    const bool same = logged.pii ? stored.digest == logged.digest : stored.text == logged.text;
    if (!same)
      problem(logged.pii ? tr(msg::audit_row_pii_differs, {field})
                         : tr(msg::audit_row_field_differs, {field, stored.text, logged.text}));
    row_data.erase(it);
  }
  for (const auto& [field, stored] : row_data) problem(tr(msg::audit_row_field_extra, {field}));
  return problems;
}

}  // namespace sopir::audit_internal
