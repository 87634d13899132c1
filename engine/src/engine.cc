// The case runtime: read the case, ask decide(), write the result.
#include "sopir/engine.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <random>

#include "sha256.h"

namespace sopir {

namespace {

constexpr char kIdAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford base32

class SystemClock : public Clock {
 public:
  DateTime now() override {
    using namespace std::chrono;
    return DateTime{duration_cast<seconds>(system_clock::now().time_since_epoch()).count()};
  }
};

class RandomIds : public IdSource {
 public:
  RandomIds() : engine_(std::random_device{}()) {}
  std::string next() override {
    std::uniform_int_distribution<int> pick(0, 31);
    std::string id;
    for (int i = 0; i < 6; ++i) {
      if (i == 3) id += '-';
      id += kIdAlphabet[pick(engine_)];
    }
    return id;
  }

 private:
  std::mt19937_64 engine_;
};

bool has_role(const Actor& actor, std::string_view role) {
  return std::find(actor.roles.begin(), actor.roles.end(), role) != actor.roles.end();
}

StoredValue stored_value(const FieldDef& field, const Value& value) {
  StoredValue out;
  out.field = field.id;
  out.missing = is_missing(value);
  out.text = format_value(value);
  out.pii = field.pii;
  if (field.pii && !out.missing) {
    out.salt = random_hex(16);
    out.digest = sha256_hex(out.salt + out.text);
  }
  return out;
}

const StoredValue* find_stored(const CaseRecord& record, const std::string& field) {
  for (const auto& v : record.data) {
    if (v.field == field) return &v;
  }
  return nullptr;
}

// Applies decided field changes to the record and describes them for the log.
std::vector<LogEntry::Change> apply_to_record(const Procedure& p,
                                              const std::vector<FieldChange>& changes,
                                              CaseRecord& record) {
  std::vector<LogEntry::Change> out;
  for (const auto& change : changes) {
    const FieldDef& field = p.fields[change.field];
    LogEntry::Change logged;
    if (const StoredValue* before = find_stored(record, field.id)) {
      logged.before = *before;
    } else {
      logged.before.field = field.id;
      logged.before.pii = field.pii;
    }
    logged.after = stored_value(field, change.after);
    record.data.erase(std::remove_if(record.data.begin(), record.data.end(),
                                     [&](const StoredValue& v) { return v.field == field.id; }),
                      record.data.end());
    if (!logged.after.missing) record.data.push_back(logged.after);
    out.push_back(std::move(logged));
  }
  // Keep the stored data in field order, whatever order changes came in.
  std::sort(record.data.begin(), record.data.end(), [&](const StoredValue& a, const StoredValue& b) {
    return p.field_index(a.field) < p.field_index(b.field);
  });
  return out;
}

// Inputs as the log keeps them: personal data never enters the log as text
// outside its salted change record, so pii inputs are kept as "<pii>" and
// an auditor's replay takes their value from the change.
constexpr char kPiiInput[] = "<pii>";
std::vector<std::pair<std::string, std::string>> logged_inputs(
    const Procedure& p, const std::vector<std::pair<std::string, std::string>>& inputs) {
  auto out = inputs;
  for (auto& [field, text] : out) {
    const int index = p.field_index(field);
    if (index >= 0 && p.fields[index].pii) text = kPiiInput;
  }
  return out;
}

[[noreturn]] void throw_refusal(const std::string& case_id, Refusal refusal) {
  if (!case_id.empty()) refusal.message = "case " + case_id + ": " + refusal.message;
  throw RefusedError(std::move(refusal));
}

}  // namespace

std::shared_ptr<Clock> system_clock() { return std::make_shared<SystemClock>(); }
std::shared_ptr<IdSource> random_ids() { return std::make_shared<RandomIds>(); }

std::optional<std::string> normalize_case_id(std::string_view text) {
  std::string chars;
  for (char c : text) {
    if (c == '-' || c == ' ') continue;
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // Crockford decoding of look-alikes.
    if (u == 'O') u = '0';
    if (u == 'I' || u == 'L') u = '1';
    if (!std::strchr(kIdAlphabet, u) || u == '\0') return std::nullopt;
    chars += u;
  }
  if (chars.size() != 6) return std::nullopt;
  return chars.substr(0, 3) + "-" + chars.substr(3);
}

Engine::Engine(std::unique_ptr<Store> store, std::shared_ptr<Clock> clock,
               std::shared_ptr<IdSource> ids)
    : store_(std::move(store)), clock_(std::move(clock)), ids_(std::move(ids)) {}

PublishedProcedure Engine::publish(const std::string& file, const std::string& actor_id,
                                   bool strict) {
  const Actor who = actor(actor_id);
  if (!has_role(who, "admin") && !has_role(who, "policy"))
    throw refused("publishing a procedure needs the role admin or policy; " + who.id + " has " +
                  (who.roles.empty() ? "none" : "other roles"));
  LoadOptions options;
  options.strict = strict;
  ProcedurePtr procedure = expect_procedure(load_procedure_file(file, options));
  return store_->publish(procedure->id, procedure->sha256, procedure->source, file, who.id,
                         clock_->now());
}

PublishedProcedure Engine::publish_source(const std::string& source, const std::string& name,
                                          const std::string& actor_id, bool strict) {
  const Actor who = actor(actor_id);
  if (!has_role(who, "admin") && !has_role(who, "policy"))
    throw refused("publishing a procedure needs the role admin or policy");
  LoadOptions options;
  options.strict = strict;
  ProcedurePtr procedure = expect_procedure(load_procedure_string(source, name, options));
  return store_->publish(procedure->id, procedure->sha256, procedure->source, name, who.id,
                         clock_->now());
}

ProcedurePtr Engine::procedure(const std::string& sha256) {
  if (auto it = compiled_.find(sha256); it != compiled_.end()) return it->second;
  auto published = store_->procedure_by_hash(sha256);
  if (!published) throw not_found("no published procedure has SHA-256 " + sha256);
  // A published procedure validated when it was published; lint changes in
  // later sopir versions must not stop running cases.
  ProcedurePtr compiled = expect_procedure(load_procedure_string(published->source, published->file));
  compiled_.emplace(sha256, compiled);
  return compiled;
}

ProcedurePtr Engine::current_procedure(const std::string& sop_id) {
  auto published = store_->current_procedure(sop_id);
  if (!published) {
    std::vector<std::string> ids;
    for (const auto& p : store_->procedures()) ids.push_back(p.sop_id);
    std::string message = "no procedure '" + sop_id + "' is published";
    if (auto guess = nearest(sop_id, ids)) message += "; did you mean '" + *guess + "'?";
    throw not_found(message);
  }
  return procedure(published->sha256);
}

Actor Engine::actor(const std::string& staff_id) {
  if (staff_id.empty())
    throw usage_error("say who is acting: --as STAFF or the SOPIR_ACTOR environment variable");
  auto member = store_->staff(staff_id);
  if (!member) {
    std::vector<std::string> ids;
    for (const auto& m : store_->all_staff()) ids.push_back(m.id);
    std::string message = "unknown staff member '" + staff_id + "'";
    if (auto guess = nearest(staff_id, ids)) message += "; did you mean '" + *guess + "'?";
    throw not_found(message);
  }
  if (!member->active) throw refused("staff member '" + staff_id + "' is deactivated");
  return Actor{member->id, member->roles};
}

std::vector<Value> Engine::decode_data(const Procedure& p, const CaseRecord& record) {
  std::vector<Value> data(p.fields.size());
  for (const auto& stored : record.data) {
    const int index = p.field_index(stored.field);
    if (index < 0 || stored.missing || stored.erased) continue;
    const FieldDef& field = p.fields[index];
    if (auto value = parse_typed(field.type, field.values, stored.text, nullptr)) {
      data[index] = std::move(*value);
    } else {
      throw storage_error("case " + record.id + ": stored value of field " + field.id +
                          " is not a valid " + type_name(field.type));
    }
  }
  return data;
}

std::string Engine::resolve_case_id(const std::string& typed) {
  auto id = normalize_case_id(typed);
  if (id && store_->case_exists(*id)) return *id;
  std::string message = "no case '" + typed + "'";
  if (!id) message += " (case ids look like K7F-3QX)";
  std::string prefix;
  if (id) prefix = id->substr(0, 2);
  auto close = store_->case_ids(prefix, 200);
  if (auto guess = nearest(id.value_or(typed), close)) message += "; did you mean " + *guess + "?";
  throw not_found(message);
}

namespace {

CaseSnapshot snapshot_of(const Procedure& p, const CaseRecord& record, Store& store,
                         bool need_history) {
  CaseSnapshot snapshot;
  snapshot.id = record.id;
  snapshot.state = p.state_index(record.state);
  if (snapshot.state < 0)
    throw storage_error("case " + record.id + " is in state '" + record.state +
                        "', which its procedure does not have");
  snapshot.status = record.status;
  snapshot.data = Engine::decode_data(p, record);
  snapshot.due_at = record.due_at;
  if (need_history) {
    for (const auto& entry : store.history(record.id)) {
      if (entry.kind != LogKind::kProcedure && entry.kind != LogKind::kOverride) continue;
      const int event = p.event_index(entry.event);
      if (event >= 0) snapshot.fired.emplace_back(event, entry.actor);
    }
  }
  return snapshot;
}

// Whether any transition out of the case's state has a four-eyes rule.
bool needs_history(const Procedure& p, const CaseRecord& record) {
  const int state = p.state_index(record.state);
  if (state < 0) return false;
  for (int t : p.transitions_from[state]) {
    if (!p.transitions[t].distinct_from.empty()) return true;
  }
  return false;
}

LogEntry base_entry(const CaseRecord& record, const std::string& actor, DateTime at, DateTime now) {
  LogEntry entry;
  entry.case_id = record.id;
  entry.sha256 = record.sha256;
  entry.from_state = record.state;
  entry.from_status = to_string(record.status);
  entry.actor = actor;
  entry.occurred_at = at;
  entry.recorded_at = now;
  return entry;
}

}  // namespace

StepResult Engine::open_case(const OpenRequest& request) {
  const Actor who = actor(request.actor);
  ProcedurePtr p = current_procedure(request.sop_id);
  const DateTime now = clock_->now();
  const DateTime at = request.at.value_or(now);
  Decision decision = decide_open(*p, who, request.inputs, at);
  if (auto* refusal = std::get_if<Refusal>(&decision)) throw_refusal("", *refusal);
  const Transition& t = std::get<Transition>(decision);

  CaseRecord record;
  for (int attempt = 0; attempt < 20 && record.id.empty(); ++attempt) {
    std::string id = ids_->next();
    if (!store_->case_exists(id)) record.id = id;
  }
  if (record.id.empty()) throw conflict("could not find a free case id; try again");
  record.sop_id = p->id;
  record.sha256 = p->sha256;
  record.state = p->states[t.to].id;
  record.status = t.closes_case ? Status::kClosed : Status::kActive;
  record.version = 1;
  record.opened_at = at;
  record.due_at = t.due_at;

  LogEntry entry = base_entry(record, who.id, at, now);
  entry.kind = LogKind::kOpen;
  entry.event = "open";
  entry.from_state = "";
  entry.from_status = "";
  entry.to_state = record.state;
  entry.to_status = to_string(record.status);
  entry.role = t.role;
  entry.note = request.note;
  entry.inputs = logged_inputs(*p, request.inputs);
  entry.changes = apply_to_record(*p, t.changes, record);
  entry.due_at = record.due_at;
  store_->create_case(record, entry);
  record.last_seq = entry.case_seq;
  return StepResult{record, entry};
}

StepResult Engine::advance(const StepRequest& request) {
  const std::string id = resolve_case_id(request.case_id);
  Command command;
  command.actor = request.actor == "system" ? Actor{"system", {}} : actor(request.actor);
  command.timer = request.actor == "system";
  auto record = store_->find_case(id);
  if (!record) throw not_found("no case '" + id + "'");
  ProcedurePtr p = procedure(record->sha256);
  const CaseSnapshot snapshot = snapshot_of(*p, *record, *store_, needs_history(*p, *record));
  const DateTime now = clock_->now();
  command.event = request.event;
  command.inputs = request.inputs;
  command.reason = request.reason;
  command.override = request.override;
  command.at = request.at.value_or(now);
  Decision decision = decide(*p, snapshot, command, request.trace);
  if (auto* refusal = std::get_if<Refusal>(&decision)) throw_refusal(id, *refusal);
  const Transition& t = std::get<Transition>(decision);

  CaseRecord after = *record;
  after.state = p->states[t.to].id;
  after.version = record->version + 1;
  after.due_at = t.due_at;
  if (t.closes_case) after.status = Status::kClosed;

  LogEntry entry = base_entry(*record, command.actor.id, command.at, now);
  entry.kind = command.timer ? LogKind::kTimer : (t.overridden ? LogKind::kOverride : LogKind::kProcedure);
  entry.event = request.event;
  entry.to_state = after.state;
  entry.to_status = to_string(after.status);
  entry.role = t.role;
  entry.note = request.note;
  entry.reason = t.overridden && request.reason.empty() ? t.guard_explanation : request.reason;
  entry.inputs = logged_inputs(*p, request.inputs);
  entry.changes = apply_to_record(*p, t.changes, after);
  entry.due_at = after.due_at;
  store_->append(after, record->version, entry);
  after.last_seq = entry.case_seq;
  return StepResult{after, entry};
}

StepResult Engine::lifecycle(const LifecycleRequest& request) {
  const std::string id = resolve_case_id(request.case_id);
  const Actor who = actor(request.actor);
  auto record = store_->find_case(id);
  if (!record) throw not_found("no case '" + id + "'");
  ProcedurePtr p = procedure(record->sha256);
  const CaseSnapshot snapshot = snapshot_of(*p, *record, *store_, false);
  const DateTime now = clock_->now();
  LifecycleCommand command{request.event, who, request.reason, request.at.value_or(now)};
  LifecycleDecision decision = decide_lifecycle(*p, snapshot, command, record->hold_started);
  if (auto* refusal = std::get_if<Refusal>(&decision)) throw_refusal(id, *refusal);
  const LifecycleTransition& t = std::get<LifecycleTransition>(decision);

  CaseRecord after = *record;
  after.status = t.to;
  after.state = p->states[t.state_to].id;
  after.version = record->version + 1;
  after.due_at = t.due_at;
  after.hold_started.reset();
  if (t.to == Status::kOnHold) after.hold_started = command.at;
  if (request.event == LifecycleEvent::kClose) after.closure_reason = request.reason;
  if (request.event == LifecycleEvent::kReopen) after.closure_reason.clear();

  LogEntry entry = base_entry(*record, who.id, command.at, now);
  entry.kind = LogKind::kLifecycle;
  entry.event = to_string(request.event);
  entry.to_state = after.state;
  entry.to_status = to_string(after.status);
  entry.role = t.role;
  entry.note = request.note;
  entry.reason = request.reason;
  entry.due_at = after.due_at;
  store_->append(after, record->version, entry);
  after.last_seq = entry.case_seq;
  return StepResult{after, entry};
}

TickReport Engine::tick(DecisionTrace* trace) {
  TickReport report;
  const DateTime now = clock_->now();
  CaseFilter filter;
  filter.status = Status::kActive;
  // A deadline is reached at its due time (workflows/README.md: "a due time
  // at or before T"); the store's due_before is strict, and times are whole
  // seconds, so ask for due times before now + 1s.
  filter.due_before = DateTime{now.seconds + 1};
  for (const auto& record : store_->cases(filter)) {
    ProcedurePtr p = procedure(record.sha256);
    const int state = p->state_index(record.state);
    if (state < 0 || p->states[state].on_deadline < 0) continue;
    StepRequest step;
    step.case_id = record.id;
    step.event = p->events[p->states[state].on_deadline];
    step.actor = "system";
    step.note = "deadline of " + record.state + " passed";
    step.trace = trace;
    try {
      report.fired.push_back(advance(step));
    } catch (const Error& e) {
      report.failures.push_back(e.message());
    }
  }
  report.overdue = store_->cases(filter);
  return report;
}

CaseView Engine::view(const std::string& case_id, const std::string& actor_id) {
  const std::string id = resolve_case_id(case_id);
  auto record = store_->find_case(id);
  if (!record) throw not_found("no case '" + id + "'");
  CaseView out;
  out.record = *record;
  out.procedure = procedure(record->sha256);
  out.snapshot = snapshot_of(*out.procedure, *record, *store_, needs_history(*out.procedure, *record));
  if (!actor_id.empty()) {
    out.checks = check_events(*out.procedure, out.snapshot, actor(actor_id), clock_->now());
  }
  return out;
}

}  // namespace sopir
