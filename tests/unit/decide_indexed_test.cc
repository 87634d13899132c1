// decide_into() against decide(): the same decisions, refusals and sentences,
// over the shipped procedures and the test ones, with one Outcome reused
// throughout; and what its structured refusals hold.
#include "sopir/decide_indexed.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "rules/decide_parts.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "test_procedures.h"

namespace sopir {
namespace {

const DateTime kAt = *parse_datetime("2026-03-02T08:00:00Z");

// A value of the field's type, as a person would type it.
std::string sample_text(const FieldDef& field) {
  switch (field.type) {
    case Type::kInt: return "30";
    case Type::kBool: return "true";
    case Type::kDate: return "2026-03-01";
    case Type::kDateTime: return "2026-03-01T08:00:00Z";
    case Type::kEnum: return field.values.empty() ? "" : field.values.back();
    case Type::kSet: return field.values.size() < 2 ? "" : field.values[1] + "," + field.values[0];
    case Type::kDuration: return "7d";
    case Type::kString: return "Contoh teks yang cukup panjang";
  }
  return "";
}

Value sample_value(const FieldDef& field) {
  auto value = parse_typed(field.type, field.values, sample_text(field), nullptr);
  REQUIRE(value);
  return *value;
}

std::vector<ProcedurePtr> procedures_to_sweep() {
  std::vector<ProcedurePtr> out{testing::load_or_fail(testing::kCareYaml)};
  std::vector<std::string> files;
  for (const char* dir : {"/workflows", "/tests/data/tracks", "/tests/data/clocks"}) {
    const std::string path = std::string(SOPIR_SOURCE_DIR) + dir;
    if (!std::filesystem::is_directory(path)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(path))
      if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    LoadResult loaded = load_procedure_file(file);
    if (loaded.procedure) out.push_back(loaded.procedure);
  }
  return out;
}

void check_same(const Decision& slow, const Procedure& p, const CaseSnapshot& s, const IndexedCommand& c,
                const Outcome& out) {
  REQUIRE(out.accepted == std::holds_alternative<Transition>(slow));
  if (out.accepted) {
    const Transition& a = std::get<Transition>(slow);
    const Transition b = transition_of(s, out);
    CHECK(a.transition == b.transition);
    CHECK(a.event == b.event);
    CHECK(a.from == b.from);
    CHECK(a.to == b.to);
    CHECK(a.role == b.role);
    CHECK(a.overridden == b.overridden);
    CHECK(a.guard_explanation == b.guard_explanation);
    CHECK(a.due_at == b.due_at);
    CHECK(a.closes_case == b.closes_case);
    REQUIRE(a.changes.size() == b.changes.size());
    for (size_t i = 0; i < a.changes.size(); ++i) {
      CHECK(a.changes[i].field == b.changes[i].field);
      CHECK(a.changes[i].before == b.changes[i].before);
      CHECK(a.changes[i].after == b.changes[i].after);
    }
    return;
  }
  const Refusal& a = std::get<Refusal>(slow);
  const Refusal b = refusal_of(p, s, c, out);
  CHECK(to_string(a.kind) == std::string(to_string(b.kind)));
  CHECK(a.kind == out.refusal.kind);
  CHECK(a.message == b.message);
  CHECK(a.missing == b.missing);
  CHECK(a.may_override == b.may_override);
  CHECK(a.may_override == out.refusal.may_override);
  CHECK(a.sources == b.sources);
}

// One way of asking for a transition: who asks, with what, on which case.
struct Variant {
  const char* name;
  // 0 every role, 1 no role, 2 the transition's first role, 3 its first
  // override role, 4 every role in the reverse of the procedure's order
  int actor;
  int inputs;       // 0 none, 1 the required ones, 2 also one not taken, 3 a wrong type, 4 a bad index
  bool reason;
  bool override;
  bool empty_case;  // the case's fields have no value
  const char* lang;
  Status status;
  bool fired_before;  // the actor fired every event before (four-eyes)
  bool timer;
  bool elsewhere = false;  // from a state the event does not leave
};

const Variant kVariants[] = {
    {"every role, required inputs", 0, 1, false, false, false, "", Status::kActive, false, false},
    {"every role, required inputs, reason", 0, 1, true, false, false, "en", Status::kActive, false, false},
    {"every role, no inputs, empty case", 0, 0, false, false, true, "id", Status::kActive, false, false},
    {"every role, last first, reason", 4, 1, true, false, false, "en", Status::kActive, false, false},
    {"every role, last first, override", 4, 1, true, true, false, "id", Status::kActive, false, false},
    {"no role", 1, 1, true, false, false, "en", Status::kActive, false, false},
    {"first role, a field not taken", 2, 2, true, false, false, "id", Status::kActive, false, false},
    {"first role, override, empty case", 2, 1, true, true, true, "", Status::kActive, false, false},
    {"override role, override, no reason", 3, 1, false, true, false, "en", Status::kActive, false, false},
    {"override role, override, reason", 3, 1, true, true, true, "id", Status::kActive, false, false},
    {"a value of the wrong type", 0, 3, true, false, false, "en", Status::kActive, false, false},
    {"a field index out of range", 0, 4, true, false, false, "id", Status::kActive, false, false},
    {"four-eyes", 0, 1, true, false, false, "", Status::kActive, true, false},
    {"the timer", 1, 0, false, false, false, "en", Status::kActive, false, true},
    {"on hold", 0, 1, true, false, false, "id", Status::kOnHold, false, false},
    {"closed", 0, 1, true, false, false, "en", Status::kClosed, false, false},
    {"from another state", 0, 1, true, false, false, "id", Status::kActive, false, false, true},
};

// A state `event` does not leave, or -1.
int state_without(const Procedure& p, int event) {
  for (size_t state = 0; state < p.states.size(); ++state) {
    const auto& from = p.transitions_from[state];
    if (std::none_of(from.begin(), from.end(), [&](int t) { return p.transitions[t].event == event; }))
      return static_cast<int>(state);
  }
  return -1;
}

TEST_CASE("decide_into() decides every transition of every procedure as decide() does", "[decide][indexed]") {
  std::set<RefusalCause> causes;
  long accepted = 0, refused = 0;
  Outcome out;  // one for all, as a batch keeps it
  for (const ProcedurePtr& procedure : procedures_to_sweep()) {
    const Procedure& p = *procedure;
    for (const TransitionDef& t : p.transitions) {
      for (size_t from = 0; from < std::min<size_t>(t.from.size(), 2); ++from) {
        for (const Variant& v : kVariants) {
          INFO(p.id << " " << p.events[t.event] << " from " << p.states[t.from[from]].id << ": " << v.name);
          CaseSnapshot s;
          s.id = "IDX-1";
          s.state = v.elsewhere ? state_without(p, t.event) : t.from[from];
          if (s.state < 0) continue;
          s.status = v.status;
          s.data.resize(p.fields.size());
          if (!v.empty_case)
            for (size_t f = 0; f < p.fields.size(); ++f) s.data[f] = sample_value(p.fields[f]);
          if (v.fired_before)
            for (size_t e = 0; e < p.events.size(); ++e) s.fired.emplace_back(static_cast<int>(e), "rina");
          s.due_at = DateTime{kAt.seconds + 3600};
          Command command;
          command.event = p.events[t.event];
          command.actor.id = "rina";
          if (v.actor == 0) command.actor.roles = p.roles;
          if (v.actor == 4) command.actor.roles.assign(p.roles.rbegin(), p.roles.rend());
          if (v.actor == 2 && !t.roles.empty()) command.actor.roles = {p.roles[t.roles.front()]};
          if (v.actor == 3 && !t.override_roles.empty()) command.actor.roles = {p.roles[t.override_roles.front()]};
          command.reason = v.reason ? "checked with the family" : "";
          command.override = v.override;
          command.timer = v.timer;
          command.at = kAt;
          command.lang = v.lang;
          if (v.inputs >= 1)
            for (int f : t.requires_fields) command.values.emplace_back(f, sample_value(p.fields[f]));
          if (v.inputs == 2) {
            for (size_t f = 0; f < p.fields.size(); ++f) {
              const int field = static_cast<int>(f);
              if (std::find(t.requires_fields.begin(), t.requires_fields.end(), field) == t.requires_fields.end() &&
                  std::find(t.accepts_fields.begin(), t.accepts_fields.end(), field) == t.accepts_fields.end()) {
                command.values.emplace_back(field, sample_value(p.fields[f]));
                break;
              }
            }
          }
          if (v.inputs == 3 && !p.fields.empty())
            command.values.emplace_back(0, p.fields[0].type == Type::kInt ? Value(true) : Value(int64_t{7}));
          if (v.inputs == 4) command.values.emplace_back(static_cast<int>(p.fields.size()), Value(int64_t{1}));

          IndexedCommand c;
          c.event = t.event;
          c.event_name = command.event;
          c.actor = &command.actor;
          c.reason = command.reason;
          c.override = command.override;
          c.timer = command.timer;
          c.at = command.at;
          c.values = &command.values;
          c.lang = command.lang;
          const Decision slow = decide(p, s, command);
          decide_into(p, s, c, out);
          check_same(slow, p, s, c, out);
          // The actor's roles by index decide the same.
          const std::vector<int> ranks = role_ranks(p, command.actor);
          c.role_ranks = &ranks;
          decide_into(p, s, c, out);
          check_same(slow, p, s, c, out);
          // decide() with typed inputs runs decide_into() itself; the rules'
          // other path, the two parts decide() runs around text inputs,
          // decides the same in full.
          Outcome parts;
          if (decide_precheck(p, s, c, parts)) decide_checked(p, s, c, parts, nullptr);
          const Decision by_parts =
              parts.accepted ? Decision(transition_of(s, parts)) : Decision(refusal_of(p, s, c, parts));
          check_same(by_parts, p, s, c, out);
          if (out.accepted) {
            ++accepted;
          } else {
            ++refused;
            causes.insert(out.refusal.cause);
          }

          // The same inputs given as text to decide() decide alike; a
          // refusal's sentence may quote the text instead of the value.
          if (v.inputs == 1 || v.inputs == 2) {
            Command text = command;
            text.values.clear();
            for (const auto& [field, value] : command.values)
              text.inputs.emplace_back(p.fields[field].id, format_value(value));
            const Decision by_text = decide(p, s, text);
            REQUIRE(out.accepted == std::holds_alternative<Transition>(by_text));
            if (out.accepted) {
              CHECK(std::get<Transition>(by_text).to == out.to);
              CHECK(std::get<Transition>(by_text).changes.size() == out.changes.size());
            } else {
              CHECK(std::get<Refusal>(by_text).kind == out.refusal.kind);
            }
          }
        }
      }
    }
  }
  CHECK(accepted > 100);
  CHECK(refused > 100);
  // Every rule refused somewhere in the sweep but an unknown event, which
  // the next test asks for.
  for (RefusalCause cause : {RefusalCause::kClosed, RefusalCause::kOnHold, RefusalCause::kNotInState,
                             RefusalCause::kTimerEvent, RefusalCause::kNoFieldNumber, RefusalCause::kBadValue,
                             RefusalCause::kRole, RefusalCause::kFourEyes, RefusalCause::kFieldNotTaken,
                             RefusalCause::kGuard, RefusalCause::kOverrideRefused, RefusalCause::kMissingField,
                             RefusalCause::kReasonRequired}) {
    INFO("cause " << static_cast<int>(cause));
    CHECK(causes.count(cause) == 1);
  }
}

TEST_CASE(
    "check_events() gives each event of the state decide()'s decision; possible_events() the "
    "possible ones",
    "[decide][indexed]") {
  long possible = 0, impossible = 0;
  for (const ProcedurePtr& procedure : procedures_to_sweep()) {
    const Procedure& p = *procedure;
    std::vector<Actor> actors = {{"rina", p.roles}, {"dewi", {}}, {"budi", {"auditor"}}};
    for (const std::string& role : p.roles) actors.push_back({"sari", {role}});
    for (size_t state = 0; state < p.states.size(); ++state) {
      for (const bool empty_case : {false, true}) {
        for (const Status status : {Status::kActive, Status::kOnHold}) {
          CaseSnapshot s;
          s.id = "CHK-1";
          s.state = static_cast<int>(state);
          s.status = status;
          s.data.resize(p.fields.size());
          if (!empty_case)
            for (size_t f = 0; f < p.fields.size(); ++f) s.data[f] = sample_value(p.fields[f]);
          for (const Actor& actor : actors) {
            for (const char* lang : {"", "id"}) {
              INFO(p.id << " in " << p.states[state].id << ", " << actor.id << " "
                        << actor.roles.size() << " roles, lang '" << lang << "', "
                        << (empty_case ? "no values" : "values"));
              const std::vector<EventCheck> checks = check_events(p, s, actor, kAt, lang);
              const std::vector<std::string> events = p.events_from(s.state);
              REQUIRE(checks.size() == events.size());
              std::vector<const EventCheck*> expected_possible;
              for (size_t e = 0; e < events.size(); ++e) {
                Command command;
                command.event = events[e];
                command.actor = actor;
                command.at = kAt;
                command.lang = lang;
                const Decision d = decide(p, s, command);
                const EventCheck& check = checks[e];
                CHECK(check.event == events[e]);
                if (const auto* refusal = std::get_if<Refusal>(&d)) {
                  REQUIRE(check.refusal);
                  CHECK(check.refusal->kind == refusal->kind);
                  CHECK(check.refusal->message == refusal->message);
                  CHECK(check.refusal->missing == refusal->missing);
                  CHECK(check.refusal->may_override == refusal->may_override);
                  CHECK(check.refusal->sources == refusal->sources);
                  CHECK(check.possible == (refusal->kind == RefusalKind::kMissingField ||
                                           refusal->kind == RefusalKind::kReasonRequired));
                } else {
                  CHECK(check.possible);
                  CHECK_FALSE(check.refusal);
                }
                if (check.possible) expected_possible.push_back(&check);
                ++(check.possible ? possible : impossible);
              }
              const std::vector<EventCheck> kept = possible_events(p, s, actor, kAt, lang);
              REQUIRE(kept.size() == expected_possible.size());
              for (size_t k = 0; k < kept.size(); ++k) {
                CHECK(kept[k].event == expected_possible[k]->event);
                CHECK(kept[k].possible);
                REQUIRE(kept[k].refusal.has_value() == expected_possible[k]->refusal.has_value());
                if (kept[k].refusal)
                  CHECK(kept[k].refusal->message == expected_possible[k]->refusal->message);
              }
            }
          }
        }
      }
    }
  }
  CHECK(possible > 100);
  CHECK(impossible > 100);
}

class IndexedFixture {
 protected:
  IndexedFixture() : p_(testing::load_or_fail(testing::kCareYaml)) {}

  CaseSnapshot at_state(const std::string& state) const { return testing::snapshot_at(*p_, state); }

  IndexedCommand command(const std::string& event, const Actor& actor) const {
    IndexedCommand c;
    c.event = p_->event_index(event);
    c.event_name = event;
    c.actor = &actor;
    c.at = kAt;
    c.values = &values_;
    return c;
  }

  int field(const std::string& id) const { return p_->field_index(id); }

  ProcedurePtr p_;
  std::vector<std::pair<int, Value>> values_;
  Actor worker_{"rina", {"worker"}};
  Actor supervisor_{"budi", {"supervisor"}};
  Outcome out_;
};

TEST_CASE("a transition's role bits are its role lists", "[decide][indexed]") {
  for (const ProcedurePtr& procedure : procedures_to_sweep()) {
    const Procedure& p = *procedure;
    for (const TransitionDef& t : p.transitions) {
      INFO(p.id << " " << p.events[t.event]);
      REQUIRE(t.role_bits_built);
      for (auto [list, bits] : {std::pair{&t.roles, t.role_bits}, std::pair{&t.override_roles, t.override_role_bits}}) {
        uint64_t listed = 0;
        for (int r : *list) listed |= uint64_t{1} << r;
        CHECK(bits == listed);
      }
    }
  }
  // More roles than bits: none built, and roles are matched by the lists.
  Procedure many = *procedures_to_sweep().front();
  for (int r = 0; r < 70; ++r) many.roles.push_back("extra-" + std::to_string(r));
  many.build_candidate_table();
  for (const TransitionDef& t : many.transitions) {
    CHECK_FALSE(t.role_bits_built);
    CHECK(t.role_bits == 0);
  }
  const TransitionDef& t = many.transitions.front();
  REQUIRE_FALSE(t.roles.empty());
  Actor actor{"rina", {"extra-3", many.roles[static_cast<size_t>(t.roles.front())]}};
  const std::vector<int> ranks = role_ranks(many, actor);
  CaseSnapshot s;
  s.id = "IDX-2";
  s.state = t.from.front();
  s.data.resize(many.fields.size());
  for (size_t f = 0; f < many.fields.size(); ++f) s.data[f] = sample_value(many.fields[f]);
  IndexedCommand c;
  c.event = t.event;
  c.actor = &actor;
  c.role_ranks = &ranks;
  c.reason = "checked with the family";
  c.at = kAt;
  std::vector<std::pair<int, Value>> values;
  for (int f : t.requires_fields) values.emplace_back(f, sample_value(many.fields[static_cast<size_t>(f)]));
  c.values = &values;
  Outcome out;
  decide_into(many, s, c, out);
  REQUIRE(out.accepted);
  CHECK(out.role == actor.roles[1]);
}

TEST_CASE("the fields a transition takes, by its bits and by its lists, agree", "[decide][indexed]") {
  for (const ProcedurePtr& procedure : procedures_to_sweep()) {
    const Procedure& p = *procedure;
    Procedure unindexed = p;  // put together by hand: no bits, the lists scanned
    unindexed.taken_bits.clear();
    for (const TransitionDef& t : p.transitions) {
      for (int field = -1; field <= static_cast<int>(p.fields.size()); ++field) {
        INFO(p.id << " " << p.events[t.event] << ", field " << field);
        const bool listed =
            std::find(t.requires_fields.begin(), t.requires_fields.end(), field) != t.requires_fields.end() ||
            std::find(t.accepts_fields.begin(), t.accepts_fields.end(), field) != t.accepts_fields.end();
        CHECK(p.takes_field(t, field) == listed);
        CHECK(unindexed.takes_field(unindexed.transitions[static_cast<size_t>(t.index)], field) == listed);
      }
    }
  }
}

TEST_CASE_METHOD(IndexedFixture, "an accepted step is a delta of new values in field order", "[decide][indexed]") {
  const CaseSnapshot s = at_state("intake");
  values_ = {{field("age"), int64_t{34}}};
  decide_into(*p_, s, command("screen", worker_), out_);
  REQUIRE(out_.accepted);
  CHECK(p_->states[out_.to].id == "screening");
  CHECK(out_.role == "worker");
  REQUIRE(out_.changes.size() == 2);
  CHECK(out_.changes[0] == std::pair<int, Value>{field("age"), int64_t{34}});
  CHECK(out_.changes[1].first == field("screened_on"));
  CHECK(format_value(out_.changes[1].second) == "2026-03-02");
  REQUIRE(out_.due_at);
  CHECK(format_datetime(*out_.due_at) == "2026-03-09T08:00:00Z");

  // The same Outcome again: nothing of the step before is left in it.
  values_.clear();
  decide_into(*p_, s, command("screen", worker_), out_);
  REQUIRE_FALSE(out_.accepted);
  CHECK(out_.refusal.cause == RefusalCause::kMissingField);
  CHECK(out_.refusal.fields == std::vector<int>{field("age")});
  CHECK(refusal_of(*p_, s, command("screen", worker_), out_).message == "event 'screen' needs a value for age");

  CaseSnapshot with_age = s;
  with_age.data[field("age")] = int64_t{34};
  values_ = {{field("age"), int64_t{34}}};  // the value it has: no change to age
  decide_into(*p_, with_age, command("screen", worker_), out_);
  REQUIRE(out_.accepted);
  REQUIRE(out_.changes.size() == 1);
  CHECK(out_.changes[0].first == field("screened_on"));
}

TEST_CASE_METHOD(IndexedFixture, "a refusal says which rule and where, its sentence written when asked",
                 "[decide][indexed]") {
  const CaseSnapshot screening = at_state("screening");
  values_ = {{field("risk"), std::string("low")}};
  IndexedCommand c = command("assess", worker_);
  decide_into(*p_, screening, c, out_);
  REQUIRE_FALSE(out_.accepted);
  // Two candidates: the first's guard (risk == high) and the second's
  // (consent) are false; the first to get that far is the one refusing.
  CHECK(out_.refusal.kind == RefusalKind::kGuard);
  CHECK(out_.refusal.cause == RefusalCause::kGuard);
  CHECK(out_.refusal.transition == 3);
  CHECK_FALSE(out_.refusal.may_override);
  c.lang = "id";
  CHECK(refusal_of(*p_, screening, c, out_).message.find("'assess'") != std::string::npos);

  values_.clear();
  decide_into(*p_, screening, command("assses", worker_), out_);
  CHECK(out_.refusal.cause == RefusalCause::kUnknownEvent);
  CHECK(refusal_of(*p_, screening, command("assses", worker_), out_).message ==
        "procedure 'test-care' has no event 'assses'; did you mean 'assess'? (possible now: assess)");

  decide_into(*p_, screening, command("assess", supervisor_), out_);
  CHECK(out_.refusal.cause == RefusalCause::kRole);
  CHECK(out_.refusal.transition == -1);  // both candidates: the sentence names them together
  CHECK(out_.refusal.may_override);

  values_ = {{field("age"), std::string("34")}};
  decide_into(*p_, at_state("intake"), command("screen", worker_), out_);
  CHECK(out_.refusal.cause == RefusalCause::kBadValue);
  CHECK(out_.refusal.input == 0);
  CHECK(out_.refusal.field == field("age"));
  CHECK(refusal_of(*p_, at_state("intake"), command("screen", worker_), out_).message ==
        "age: '34' is not a whole number like 42, of at most 18 digits");

  // An accepted step has no refusal to write.
  values_ = {{field("age"), int64_t{34}}};
  decide_into(*p_, at_state("intake"), command("screen", worker_), out_);
  REQUIRE(out_.accepted);
  CHECK_THROWS_AS(refusal_of(*p_, at_state("intake"), command("screen", worker_), out_), Error);
}

}  // namespace
}  // namespace sopir
