// The `migrate:` section: read with the new version (located errors of the
// file alone), checked against an older version (check_migration), kept in
// the compiled form.
#include "sopir/migration.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "lang/procedure_codec.h"
#include "sopir/loader.h"
#include "sopir/messages.h"

namespace sopir {
namespace {

const char kOld[] = R"(sop: shelter-intake
version: 1
title: Shelter intake
roles: [staff]
fields:
  age: {type: int}
  risk: {type: enum, values: [low, high]}
  notes: {type: string}
  contact: {type: string}
states:
  arrived: {initial: true}
  screening: {}
  waiting_room: {}
  assessment: {}
  archived: {}
  closed: {terminal: true}
transitions:
  - {event: screen, from: arrived, to: screening, roles: [staff], set: {notes: "'seen'"}}
  - {event: wait, from: screening, to: waiting_room, roles: [staff], when: "risk == 'low' and contact != ''"}
  - {event: assess, from: [screening, waiting_room], to: assessment, roles: [staff], when: "age > 0"}
  - {event: close, from: assessment, to: closed, roles: [staff]}
)";

const char kNew[] = R"(sop: shelter-intake
version: 2
title: Shelter intake
roles: [staff]
fields:
  age: {type: int}
  risk_level: {type: enum, values: [low, medium, high]}
  consent: {type: bool}
  contact: {type: string}
states:
  arrived: {initial: true}
  screening: {}
  child_assessment: {}
  adult_assessment: {}
  stuck: {}
  closed: {terminal: true}
transitions:
  - {event: screen, from: arrived, to: screening, roles: [staff], when: "consent and risk_level != 'medium'"}
  - {event: assess, from: screening, to: adult_assessment, roles: [staff], when: "age >= 18"}
  - {event: assess_child, from: screening, to: child_assessment, roles: [staff], when: "age < 18"}
  - {event: finish, from: [child_assessment, adult_assessment], to: closed, roles: [staff]}
  - {event: park, from: screening, to: stuck, roles: [staff]}
  - {event: poke, from: stuck, to: stuck, roles: [staff]}
migrate:
  from: 1
  states:
    waiting_room: screening
    assessment:
      - to: child_assessment
        when: "has(age) and age < 18"
      - to: adult_assessment
  fields:
    risk_level: risk
    consent: {default: "false"}
  drop: [notes]
  events:
    close: finish
)";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

ProcedurePtr load(const std::string& text, const std::string& name) {
  LoadResult r = load_procedure_string(text, name);
  INFO(format_diagnostics(r.diagnostics));
  REQUIRE(r.ok());
  return r.procedure;
}

std::string checked(const std::string& old_text, const std::string& new_text, bool strict = false) {
  return format_diagnostics(check_migration(*load(old_text, "v1.yaml"), *load(new_text, "v2.yaml"), strict));
}

std::string load_errors(const std::string& text) {
  LoadResult r = load_procedure_string(text, "v2.yaml");
  std::vector<Diagnostic> errors;
  for (const auto& d : r.diagnostics)
    if (d.severity == Severity::kError) errors.push_back(d);
  return format_diagnostics(errors);
}

}  // namespace

TEST_CASE("migrate: is read into the procedure, names resolved", "[migration]") {
  ProcedurePtr p = load(kNew, "v2.yaml");
  REQUIRE(p->migrations.size() == 1);
  const MigrationDef& m = p->migrations[0];
  CHECK(m.from_versions == std::vector<int>{1});
  CHECK(m.pos.line == 24);
  REQUIRE(m.states.size() == 2);
  CHECK(m.states[0].from == "waiting_room");
  REQUIRE(m.states[0].branches.size() == 1);
  CHECK(m.states[0].branches[0].to == p->state_index("screening"));
  CHECK(m.states[0].branches[0].when == nullptr);
  const MigrationState* split = m.state("assessment");
  REQUIRE(split);
  REQUIRE(split->branches.size() == 2);
  CHECK(split->branches[0].to == p->state_index("child_assessment"));
  CHECK(split->branches[0].when_text == "has(age) and age < 18");
  CHECK(split->branches[0].when != nullptr);
  CHECK(split->branches[1].to == p->state_index("adult_assessment"));
  REQUIRE(m.fields.size() == 2);
  CHECK(m.fields[0].field == p->field_index("risk_level"));
  CHECK(m.fields[0].from == "risk");
  CHECK(!m.fields[0].default_value);
  CHECK(m.fields[1].field == p->field_index("consent"));
  CHECK(*m.fields[1].default_value == Value{false});
  CHECK(m.drop == std::vector<std::string>{"notes"});
  REQUIRE(m.events.size() == 1);
  CHECK(m.events[0].from == "close");
  CHECK(m.events[0].to == p->event_index("finish"));
  CHECK(m.from_version(1));
  CHECK(!m.from_version(2));
}

TEST_CASE("a migration that fits its older version has no diagnostics", "[migration]") {
  CHECK(checked(kOld, kNew) == "");
  CHECK(checked(kOld, kNew, true) == "");
}

TEST_CASE("stays: declares an old state's cases not movable", "[migration]") {
  const std::string next = replaced(kNew, "    waiting_room: screening\n",
                                    "    waiting_room: {stays: the waiting list ends with version 1}\n");
  ProcedurePtr p = load(next, "v2.yaml");
  const MigrationState* s = p->migrations.at(0).state("waiting_room");
  REQUIRE(s);
  CHECK(s->stays);
  CHECK(s->branches.empty());
  CHECK(s->stays_reason == "the waiting list ends with version 1");
  CHECK(checked(kOld, next) == "");
  const std::string plain = replaced(kNew, "    waiting_room: screening\n", "    waiting_room: stays\n");
  CHECK(load(plain, "v2.yaml")->migrations.at(0).state("waiting_room")->stays);
  CHECK(checked(kOld, plain) == "");
}

TEST_CASE("every reachable old state must be mapped, kept by name, or not movable", "[migration]") {
  const std::string next = replaced(kNew, "    waiting_room: screening\n", "");
  CHECK(checked(kOld, next) ==
        "v2.yaml:24:1: error: state 'waiting_room' of version 1 can be reached and is neither mapped nor a "
        "state of this version: map it (waiting_room: STATE) or declare its cases not movable (waiting_room: stays)\n"
        "migrate:\n^\n");
  // 'archived' cannot be reached in version 1: it needs no mapping.
}

TEST_CASE("a mapping names old states, fields and events that exist", "[migration]") {
  std::string next = replaced(kNew, "    waiting_room: screening\n", "    waiting_room: screening\n    waiting: screening\n");
  next = replaced(next, "    risk_level: risk\n", "    risk_level: risks\n");
  next = replaced(next, "    close: finish\n", "    clos: finish\n");
  next = replaced(next, "drop: [notes]", "drop: [notes, note_text]");
  CHECK(checked(kOld, next) ==
        "v2.yaml:24:1: warning: field 'risk' of version 1 is not kept by this version: its values stay behind when "
        "a case moves; map it under migrate: fields:, or list it under migrate: drop: to say so\n"
        "migrate:\n^\n"
        "v2.yaml:28:5: error: 'waiting' is not a state of version 1\n"
        "    waiting: screening\n    ^\n"
        "v2.yaml:34:5: error: 'risks' is not a field of version 1; did you mean 'risk'?\n"
        "    risk_level: risks\n    ^\n"
        "v2.yaml:36:17: error: 'note_text' is not a field of version 1\n"
        "  drop: [notes, note_text]\n                ^\n"
        "v2.yaml:38:5: error: 'clos' is not an event of version 1; did you mean 'close'?\n"
        "    clos: finish\n    ^\n");
}

TEST_CASE("a mapped field keeps its type and its values", "[migration]") {
  const std::string by_map = replaced(kNew, "    risk_level: risk\n", "    risk_level: age\n");
  CHECK(checked(kOld, by_map).find("error: field 'age' is int in version 1 but 'risk_level' is enum here: "
                                   "a mapped field keeps its type") != std::string::npos);
  const std::string fewer = replaced(kNew, "values: [low, medium, high]", "values: [low, medium, severe]");
  CHECK(checked(kOld, fewer) ==
        "v2.yaml:33:5: error: value 'high' of field 'risk' in version 1 is not a value of 'risk_level' here: "
        "add it to values:, or map the field another way\n"
        "    risk_level: risk\n    ^\n");
  const std::string by_name = replaced(kNew, "  contact: {type: string}\n", "  contact: {type: int}\n");
  CHECK(checked(kOld, by_name) ==
        "v2.yaml:24:1: error: field 'contact' is string in version 1 and int here: map it under migrate: fields: "
        "(from another field or with a default) or list it under drop:\n"
        "migrate:\n^\n");
}

TEST_CASE("an old field neither kept nor dropped is a warning, an error under strict", "[migration]") {
  const std::string next = replaced(kNew, "  drop: [notes]\n", "");
  const std::string warning = checked(kOld, next);
  CHECK(warning ==
        "v2.yaml:24:1: warning: field 'notes' of version 1 is not kept by this version: its values stay behind "
        "when a case moves; map it under migrate: fields:, or list it under migrate: drop: to say so\n"
        "migrate:\n^\n");
  CHECK(checked(kOld, next, true).find("v2.yaml:24:1: error: field 'notes'") == 0);
}

TEST_CASE("the older version must be one the section names, of the same procedure", "[migration]") {
  const std::string v3 = replaced(replaced(kNew, "version: 2", "version: 3"), "  from: 1\n", "  from: 2\n");
  CHECK(checked(kOld, v3) ==
        "v2.yaml:24:1: error: version 1 (v1.yaml) is not in migrate: from: (2); list it there to move its cases here\n"
        "migrate:\n^\n");
  const std::string other = replaced(kOld, "sop: shelter-intake", "sop: aid-distribution");
  CHECK(checked(other, kNew) ==
        "v2.yaml:24:1: error: v1.yaml is procedure 'aid-distribution'; this migrate: moves cases of 'shelter-intake' only\n"
        "migrate:\n^\n");
  CHECK(checked(kNew, kNew).find("error: v1.yaml is version 2, not older than this version 2") != std::string::npos);
  const std::string none = kOld;
  CHECK(checked(kOld, replaced(none, "version: 1", "version: 2")) ==
        "v2.yaml: error: this version has no migrate: section, so no case of version 1 (v1.yaml) can move to it\n");
}

TEST_CASE("a first version with migrate: is told it has no older version", "[migration]") {
  const std::string first = replaced(kNew, "version: 2", "version: 1");
  const std::string errors = load_errors(first);
  CHECK_THAT(errors, Catch::StartsWith(
                         "v2.yaml:25:3: error: migrate: moves cases of older versions here, and "
                         "version 1 has none: raise version: above the versions whose cases "
                         "move, or take migrate: out\n"));
  CHECK_THAT(errors, !Catch::Contains("from 1 to 0"));
}

TEST_CASE("the section's own mistakes are located when the new file is loaded", "[migration]") {
  std::string next = replaced(kNew, "  from: 1\n", "  from: [1, 2, x]\n");
  next = replaced(next, "    waiting_room: screening\n", "    waiting_room: screenin\n    archived: stuck\n");
  next = replaced(next, "      - to: child_assessment\n        when: \"has(age) and age < 18\"\n",
                  "      - to: child_assessment\n      - to: adult_assessment\n        when: \"ag < 18\"\n");
  next = replaced(next, "    consent: {default: \"false\"}\n", "    consent: {default: maybe}\n    contacts: contact\n");
  next = replaced(next, "    close: finish\n", "    close: finsh\n");
  CHECK(
      load_errors(next) ==
      "v2.yaml:25:13: error: '2' in migrate: from: is not an older version: write the older file's "
      "version:, a whole number from 1 to 1\n"
      "  from: [1, 2, x]\n            ^\n"
      "v2.yaml:25:16: error: 'x' in migrate: from: is not an older version: write the older file's "
      "version:, a whole number from 1 to 1\n"
      "  from: [1, 2, x]\n               ^\n"
      "v2.yaml:27:19: error: unknown state 'screenin' in migrate: states: waiting_room; did you "
      "mean 'screening'?\n"
      "    waiting_room: screenin\n                  ^\n"
      "v2.yaml:28:15: error: a case of state 'archived' would land in 'stuck', from which no end "
      "of this procedure can be reached (closed): it could never finish; map it to a state from "
      "which the procedure can end\n"
      "    archived: stuck\n              ^\n"
      "v2.yaml:30:9: error: only the last branch of migrate: states: assessment may leave out "
      "when: (it takes the cases no branch before it took)\n"
      "      - to: child_assessment\n        ^\n"
      "v2.yaml:32:16: error: in guard: unknown field 'ag'; did you mean 'age'?\n"
      "        when: \"ag < 18\"\n               ^\n"
      "v2.yaml:36:24: error: default: 'maybe' of migrate: fields: consent is not a value of the "
      "field: true or false (also yes/no, ya/tidak, 1/0)\n"
      "    consent: {default: maybe}\n                       ^\n"
      "v2.yaml:37:5: error: unknown field 'contacts' in migrate: fields:; did you mean 'contact'?\n"
      "    contacts: contact\n    ^\n"
      "v2.yaml:40:12: error: unknown event 'finsh' in migrate: events:; did you mean 'finish'?\n"
      "    close: finsh\n           ^\n");
}

TEST_CASE("a migration without from: or with a bad state mapping is refused", "[migration]") {
  std::string next = replaced(kNew, "  from: 1\n", "");
  next = replaced(next, "    waiting_room: screening\n", "    waiting_room: {to: screening}\n");
  const std::string errors = load_errors(next);
  CHECK(errors.find("v2.yaml:24:1: error: migrate: needs from: the version or versions") == 0);
  CHECK(errors.find("v2.yaml:26:19: error: migrate: states: waiting_room must be a state of this version, stays") !=
        std::string::npos);
}

TEST_CASE("the compiled form keeps the migration", "[migration][codec]") {
  ProcedurePtr p = load(kNew, "v2.yaml");
  const std::string compiled = encode_procedure(*p);
  REQUIRE(!compiled.empty());
  ProcedurePtr back = decode_procedure(compiled, p->source, p->file);
  REQUIRE(back);
  REQUIRE(back->migrations.size() == 1);
  const MigrationDef& m = back->migrations[0];
  CHECK(m.from_versions == p->migrations[0].from_versions);
  CHECK(m.pos.line == p->migrations[0].pos.line);
  REQUIRE(m.states.size() == 2);
  const MigrationState* split = m.state("assessment");
  REQUIRE(split);
  REQUIRE(split->branches.size() == 2);
  CHECK(split->branches[0].when_text == "has(age) and age < 18");
  CHECK(split->branches[0].when != nullptr);
  CHECK(split->branches[1].when == nullptr);
  CHECK(split->branches[1].to == back->state_index("adult_assessment"));
  REQUIRE(m.fields.size() == 2);
  CHECK(m.fields[0].from == "risk");
  CHECK(*m.fields[1].default_value == Value{false});
  CHECK(m.drop == std::vector<std::string>{"notes"});
  REQUIRE(m.events.size() == 1);
  CHECK(m.events[0].to == back->event_index("finish"));
  // It checks against the older version as the loaded one does.
  CHECK(format_diagnostics(check_migration(*load(kOld, "v1.yaml"), *back)) == "");
  // A procedure without the section has none after a round trip either.
  ProcedurePtr old = load(kOld, "v1.yaml");
  CHECK(decode_procedure(encode_procedure(*old), old->source, old->file)->migrations.empty());
}

TEST_CASE("reachable_states and states_that_can_end", "[migration]") {
  ProcedurePtr p = load(kNew, "v2.yaml");
  const std::vector<bool> ends = states_that_can_end(*p);
  CHECK(ends[static_cast<size_t>(p->state_index("screening"))]);
  CHECK(ends[static_cast<size_t>(p->state_index("closed"))]);
  CHECK(!ends[static_cast<size_t>(p->state_index("stuck"))]);
  ProcedurePtr old = load(kOld, "v1.yaml");
  const std::vector<bool> reached = reachable_states(*old);
  CHECK(reached[static_cast<size_t>(old->state_index("waiting_room"))]);
  CHECK(!reached[static_cast<size_t>(old->state_index("archived"))]);
}

namespace {

// A case of kOld: age, risk, notes, contact by field index.
CaseSnapshot old_case(const Procedure& old, const std::string& state, Value age, Value risk = Value{std::string("low")},
                      Value contact = Value{std::string("ibu Sari")}) {
  CaseSnapshot c;
  c.id = "C-1";
  c.state = old.state_index(state);
  c.data = {std::move(age), std::move(risk), Value{std::string("seen")}, std::move(contact)};
  return c;
}

const DateTime kEntered{1764547200};  // 2025-12-01T00:00:00Z
const DateTime kNow{1764633600};      // a day later

}  // namespace

TEST_CASE("plan_case: a renamed state, a renamed field, a default, a value left behind", "[migration][plan]") {
  ProcedurePtr old = load(kOld, "v1.yaml"), next = load(kNew, "v2.yaml");
  const Landing l = plan_case(*old, *next, old_case(*old, "waiting_room", Value{int64_t{30}}), kEntered, kNow);
  INFO(l.reason);
  REQUIRE(l.moves);
  CHECK(l.from_state == old->state_index("waiting_room"));
  CHECK(l.state == next->state_index("screening"));
  CHECK(l.data == std::vector<Value>{Value{int64_t{30}}, Value{std::string("low")}, Value{false},
                                     Value{std::string("ibu Sari")}});
  REQUIRE(l.changes.size() == 3);
  CHECK(l.changes[0].field == next->field_index("risk_level"));
  CHECK(l.changes[0].old_field == "risk");
  CHECK(is_missing(l.changes[0].before));
  CHECK(l.changes[0].after == Value{std::string("low")});
  CHECK(l.changes[1].field == next->field_index("consent"));
  CHECK(l.changes[1].old_field == "");
  CHECK(l.changes[1].after == Value{false});
  CHECK(l.changes[2].field == -1);  // notes, dropped
  CHECK(l.changes[2].old_field == "notes");
  CHECK(l.changes[2].before == Value{std::string("seen")});
  CHECK(!l.due_at);
}

TEST_CASE("plan_case: a split by a guard on the moved values", "[migration][plan]") {
  ProcedurePtr old = load(kOld, "v1.yaml"), next = load(kNew, "v2.yaml");
  CHECK(plan_case(*old, *next, old_case(*old, "assessment", Value{int64_t{12}}), kEntered, kNow).state ==
        next->state_index("child_assessment"));
  CHECK(plan_case(*old, *next, old_case(*old, "assessment", Value{int64_t{30}}), kEntered, kNow).state ==
        next->state_index("adult_assessment"));
  CHECK(plan_case(*old, *next, old_case(*old, "assessment", Value{}), kEntered, kNow).state ==
        next->state_index("adult_assessment"));
  // Kept by name.
  CHECK(plan_case(*old, *next, old_case(*old, "screening", Value{}), kEntered, kNow).state ==
        next->state_index("screening"));
  // A split whose every branch has a condition: a case none takes stays.
  const std::string strict_split = replaced(kNew, "      - to: adult_assessment\n",
                                            "      - to: adult_assessment\n        when: has(age)\n");
  ProcedurePtr split = load(strict_split, "v2.yaml");
  const Landing none = plan_case(*old, *split, old_case(*old, "assessment", Value{}), kEntered, kNow);
  CHECK(!none.moves);
  CHECK(none.reason == "no branch for state 'assessment' holds for this case (has(age) and age < 18; has(age))");
  CHECK(none.data.empty());
  CHECK(none.state == -1);
}

TEST_CASE("plan_case: the cases that cannot move say why", "[migration][plan]") {
  ProcedurePtr old = load(kOld, "v1.yaml"), next = load(kNew, "v2.yaml");
  CaseSnapshot closed = old_case(*old, "screening", Value{});
  closed.status = Status::kClosed;
  CHECK(plan_case(*old, *next, closed, kEntered, kNow).reason == "the case is closed; closed cases stay on their version");
  CHECK(plan_case(*old, *next, old_case(*old, "closed", Value{}), kEntered, kNow).reason ==
        "the case has finished (state 'closed'); finished cases stay on their version");
  ProcedurePtr stays = load(replaced(kNew, "    waiting_room: screening\n",
                                     "    waiting_room: {stays: the waiting list ends with version 1}\n"), "v2.yaml");
  CHECK(plan_case(*old, *stays, old_case(*old, "waiting_room", Value{}), kEntered, kNow).reason ==
        "state 'waiting_room' is declared not movable: the waiting list ends with version 1");
  CHECK(plan_case(*old, *stays, old_case(*old, "waiting_room", Value{}), kEntered, kNow, "id").reason ==
        "tahap 'waiting_room' dinyatakan tidak dapat dipindahkan: the waiting list ends with version 1");
  // 'archived' cannot be reached, so the check did not ask for it; a case there anyway stays.
  CHECK(plan_case(*old, *next, old_case(*old, "archived", Value{}), kEntered, kNow).reason ==
        "state 'archived' is neither mapped nor a state of version 2");
  ProcedurePtr tight = load(replaced(kNew, "  contact: {type: string}\n", "  contact: {type: string, max: 3}\n"), "v2.yaml");
  CHECK(plan_case(*old, *tight, old_case(*old, "screening", Value{}), kEntered, kNow).reason ==
        "field 'contact' would hold a value version 2 does not accept: must be at most 3 characters long");
  ProcedurePtr v3 = load(replaced(replaced(kNew, "version: 2", "version: 3"), "  from: 1\n", "  from: 2\n"), "v3.yaml");
  CHECK(plan_case(*old, *v3, old_case(*old, "screening", Value{}), kEntered, kNow).reason ==
        "version 1 of 'shelter-intake' has no migration to version 3");
}

TEST_CASE("plan_case without a language says why in the process's language", "[migration][plan]") {
  // migrate apply and audit replay give none: a case skipped there is told
  // in the language of --lang, as the plan told it.
  ProcedurePtr old = load(kOld, "v1.yaml"), next = load(kNew, "v2.yaml");
  CaseSnapshot closed = old_case(*old, "screening", Value{});
  closed.status = Status::kClosed;
  set_message_language("id");
  const std::string reason = plan_case(*old, *next, closed, kEntered, kNow).reason;
  const std::string english = plan_case(*old, *next, closed, kEntered, kNow, "en").reason;
  set_message_language("en");
  CHECK(reason == "kasus sudah ditutup; kasus yang ditutup tetap pada versinya");
  CHECK(english == "the case is closed; closed cases stay on their version");
}

TEST_CASE("plan_case: the deadline is the new state's, moved as the case's was", "[migration][plan]") {
  const std::string old_text = replaced(kOld, "  waiting_room: {}\n", "  waiting_room: {deadline: 1d}\n");
  const std::string new_text = replaced(kNew, "  screening: {}\n", "  screening: {deadline: 2d}\n");
  ProcedurePtr old = load(old_text, "v1.yaml"), next = load(new_text, "v2.yaml");
  CaseSnapshot c = old_case(*old, "waiting_room", Value{});
  c.due_at = DateTime{kEntered.seconds + 86400};
  CHECK(plan_case(*old, *next, c, kEntered, kNow).due_at == DateTime{kEntered.seconds + 2 * 86400});
  c.due_at = DateTime{kEntered.seconds + 86400 + 5 * 3600};  // five hours on hold
  CHECK(plan_case(*old, *next, c, kEntered, kNow).due_at == DateTime{kEntered.seconds + 2 * 86400 + 5 * 3600});
  // A state without a deadline has none after the move.
  CHECK(!plan_case(*old, *load(kNew, "v2.yaml"), c, kEntered, kNow).due_at);
}

TEST_CASE("a compiled form written before migrate: lists reads as one section, byte for byte",
          "[migration][codec]") {
  // The fuzz seed of debarkation version 3 (migrate: from: 2), written when
  // a procedure had at most one section; its hash is a placeholder.
  std::ifstream in(
      std::string(SOPIR_SOURCE_DIR) + "/tests/fuzz/seeds/compiled_fuzz/pmi-debarkation.form",
      std::ios::binary);
  std::string form((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string sha(64, 'a');
  REQUIRE(form.find("@SHA@") != std::string::npos);
  form.replace(form.find("@SHA@"), 5, sha);
  ProcedurePtr back = decode_pinned_procedure(
      form, sha, "pmi-debarkation.yaml", [] { return std::map<std::string, CalendarSource>{}; });
  REQUIRE(back);
  REQUIRE(back->migrations.size() == 1);
  CHECK(back->migrations[0].from_versions == std::vector<int>{2});
  CHECK(back->migrations[0].drop == std::vector<std::string>{"priority_group"});
  CHECK(encode_procedure(*back) == form);
}

// Version 3 moves the cases of both older versions, each by its own
// section: version 1's states are gone from version 2, so one mapping for
// both could not be checked against version 2.
std::string list_form() {
  std::string text = replaced(kNew, "version: 2", "version: 3");
  text = text.substr(0, text.find("migrate:\n"));
  return text + R"(migrate:
  - from: 1
    states:
      waiting_room: screening
      assessment:
        - to: child_assessment
          when: "has(age) and age < 18"
        - to: adult_assessment
    fields:
      risk_level: risk
      consent: {default: "false"}
    drop: [notes]
    events:
      close: finish
  - from: 2
    states:
      stuck: stays
)";
}

TEST_CASE("migrate: as a list reads each section with its own from:", "[migration]") {
  ProcedurePtr p = load(list_form(), "v3.yaml");
  REQUIRE(p->migrations.size() == 2);
  CHECK(p->migrations[0].from_versions == std::vector<int>{1});
  CHECK(p->migrations[0].pos.line == 25);
  CHECK(p->migrations[0].pos.column == 5);
  CHECK(p->migrations[1].from_versions == std::vector<int>{2});
  CHECK(p->migrations[1].pos.line == 38);
  CHECK(p->migrations[1].states.size() == 1);
  CHECK(p->migration_from(1) == &p->migrations[0]);
  CHECK(p->migration_from(2) == &p->migrations[1]);
  CHECK(p->migration_from(3) == nullptr);
  CHECK(p->migrate_from_versions() == std::vector<int>{1, 2});
  // Each older version is checked against its own section.
  ProcedurePtr v1 = load(kOld, "v1.yaml");
  ProcedurePtr v2 = load(kNew, "v2.yaml");
  CHECK(format_diagnostics(check_migration(*v1, *p, true)) == "");
  CHECK(format_diagnostics(check_migration(*v2, *p, true)) == "");
  // One section for both would name a state version 2 does not have.
  std::string both = list_form();
  both = replaced(both, "  - from: 2\n    states:\n      stuck: stays\n", "");
  both = replaced(both, "  - from: 1\n", "  - from: [1, 2]\n");
  CHECK_THAT(format_diagnostics(check_migration(*v2, *load(both, "v3.yaml"))),
             Catch::Contains("v3.yaml:27:7: error: 'waiting_room' is not a state of version 2"));
  // The compiled form keeps both sections.
  ProcedurePtr back = decode_procedure(encode_procedure(*p), p->source, p->file);
  REQUIRE(back);
  REQUIRE(back->migrations.size() == 2);
  CHECK(back->migrations[1].from_versions == std::vector<int>{2});
  CHECK(back->migrations[0].state("assessment")->branches[0].when != nullptr);
  CHECK(encode_procedure(*back) == encode_procedure(*p));

  // A case moves by the section of its version.
  CaseSnapshot waiting;
  waiting.state = v1->state_index("waiting_room");
  waiting.data.assign(v1->fields.size(), Value{});
  waiting.data[static_cast<size_t>(v1->field_index("risk"))] = Value{std::string("high")};
  const Landing from_1 = plan_case(*v1, *p, waiting, kEntered, kNow);
  REQUIRE(from_1.moves);
  CHECK(p->states[static_cast<size_t>(from_1.state)].id == "screening");
  CHECK(from_1.data[static_cast<size_t>(p->field_index("risk_level"))] ==
        Value{std::string("high")});
  CHECK(from_1.data[static_cast<size_t>(p->field_index("consent"))] == Value{false});
  CaseSnapshot screened;
  screened.state = v2->state_index("screening");
  screened.data.assign(v2->fields.size(), Value{});
  screened.data[static_cast<size_t>(v2->field_index("risk_level"))] = Value{std::string("medium")};
  const Landing from_2 = plan_case(*v2, *p, screened, kEntered, kNow);
  REQUIRE(from_2.moves);
  CHECK(p->states[static_cast<size_t>(from_2.state)].id == "screening");
  CHECK(from_2.changes.empty());  // no default of version 1's section applies
}

TEST_CASE("a version named by two migrate: sections is refused at the second", "[migration]") {
  const std::string twice = replaced(list_form(), "  - from: 2\n", "  - from: [2, 1]\n");
  CHECK(load_errors(twice) ==
        "v2.yaml:38:15: error: version 1 is already named by the migrate: section at line 25: each "
        "older "
        "version moves by one section; take it out of this from: or out of the other\n"
        "  - from: [2, 1]\n              ^\n");
  // An unknown key in one section is located there.
  const std::string typo = replaced(list_form(), "  - from: 2\n", "  - from: 2\n    stats: {}\n");
  CHECK_THAT(load_errors(typo),
             Catch::StartsWith("v2.yaml:39:5: error: unknown key 'stats' in the migrate: section"));
  // A list item that is not a section, and migrate: that is neither.
  CHECK_THAT(
      load_errors(
          replaced(list_form(), "  - from: 2\n    states:\n      stuck: stays\n", "  - 2\n")),
      Catch::StartsWith(
          "v2.yaml:38:5: error: migrate: must be a section (a map of keys from, states, fields, "
          "drop, events) or a list of such sections, each with its own from:"));
  const std::string text = kNew;
  CHECK_THAT(load_errors(text.substr(0, text.find("migrate:\n")) + "migrate: 2\n"),
             Catch::StartsWith("v2.yaml:24:10: error: migrate: must be a section"));
}

TEST_CASE(
    "victim care version 3 (as shipped before 4) and the shipped version move version 2's cases, "
    "or say why not",
    "[migration][shipped]") {
  const std::string dir = std::string(SOPIR_SOURCE_DIR);
  LoadResult v2 = load_procedure_file(dir + "/tests/data/migrate/tppo-victim-care.v2.yaml");
  // Version 3's own section, and the shipped version's section for version 2
  // (straight there, without publishing version 3 first).
  const std::string target =
      GENERATE(as<std::string>{}, "tests/data/migrate/tppo-victim-care.v3.yaml",
               "workflows/tppo-victim-care.yaml");
  INFO(target);
  LoadResult v3 = load_procedure_file(dir + "/" + target);
  REQUIRE(v2.ok());
  REQUIRE(v3.ok());
  const Procedure& old = *v2.procedure;
  const Procedure& next = *v3.procedure;
  CHECK(format_diagnostics(check_migration(old, next, true)) == "");
  const std::vector<bool> reached = reachable_states(old);
  int moving = 0, staying = 0;
  for (size_t s = 0; s < old.states.size(); ++s) {
    if (!reached[s] || old.states[s].terminal) continue;
    CaseSnapshot c;
    c.id = "TVC-" + old.states[s].id;
    c.state = static_cast<int>(s);
    c.data.assign(old.fields.size(), Value{});
    c.data[static_cast<size_t>(old.field_index("reintegration_support"))] = Value{std::string("family")};
    const Landing l = plan_case(old, next, c, kEntered, kNow);
    INFO(old.states[s].id << ": " << l.reason);
    if (l.moves) {
      ++moving;
      CHECK(l.state >= 0);
      // The dropped enum is left behind, never turned into the set of the same name.
      CHECK(is_missing(l.data[static_cast<size_t>(next.field_index("reintegration_support"))]));
    } else {
      ++staying;
      CHECK(l.reason == "state '" + old.states[s].id +
                            "' is declared not movable: services run as tracks opened at admission in version 3");
      CHECK(l.state < 0);
    }
  }
  CHECK(moving == 17);
  CHECK(staying == 12);
  CaseSnapshot screened;
  screened.state = old.state_index("screening");
  screened.data.assign(old.fields.size(), Value{});
  CHECK(plan_case(old, next, screened, kEntered, kNow).state == next.state_index("consent"));
}

TEST_CASE(
    "debarkation version 3 (as shipped before 4) and the shipped version keep every step of "
    "version 2",
    "[migration][shipped]") {
  const std::string dir = std::string(SOPIR_SOURCE_DIR);
  LoadResult v2 = load_procedure_file(dir + "/tests/data/migrate/pmi-debarkation.v2.yaml");
  const std::string target =
      GENERATE(as<std::string>{}, "tests/data/migrate/pmi-debarkation.v3.yaml",
               "workflows/pmi-debarkation.yaml");
  INFO(target);
  LoadResult v3 = load_procedure_file(dir + "/" + target);
  REQUIRE(v2.ok());
  REQUIRE(v3.ok());
  const Procedure& old = *v2.procedure;
  const Procedure& next = *v3.procedure;
  CHECK(format_diagnostics(check_migration(old, next, true)) == "");
  const std::vector<bool> reached = reachable_states(old);
  int moved = 0;
  for (size_t s = 0; s < old.states.size(); ++s) {
    if (!reached[s] || old.states[s].terminal) continue;
    CaseSnapshot c;
    c.state = static_cast<int>(s);
    c.data.assign(old.fields.size(), Value{});
    c.data[static_cast<size_t>(old.field_index("priority_group"))] = Value{std::string("elderly")};
    const Landing l = plan_case(old, next, c, kEntered, kNow);
    INFO(old.states[s].id << ": " << l.reason);
    REQUIRE(l.moves);
    CHECK(next.states[static_cast<size_t>(l.state)].id == old.states[s].id);
    // The one priority group is left behind, listed as such.
    REQUIRE(l.changes.size() == 1);
    CHECK(l.changes[0].field == -1);
    CHECK(l.changes[0].old_field == "priority_group");
    ++moved;
  }
  CHECK(moved > 10);
}

namespace {

// Every reachable step of `old` lands on the step of the same name in `next`
// with every value kept, a date in the future included (a `max: today` bound
// is the step's, not checked on a value held). Returns how many steps moved.
int moves_one_to_one(const Procedure& old, const Procedure& next) {
  CHECK(format_diagnostics(check_migration(old, next, true)) == "");
  const std::vector<bool> reached = reachable_states(old);
  int moved = 0;
  for (size_t s = 0; s < old.states.size(); ++s) {
    if (!reached[s] || old.states[s].terminal) continue;
    CaseSnapshot c;
    c.state = static_cast<int>(s);
    c.data.assign(old.fields.size(), Value{});
    for (size_t f = 0; f < old.fields.size(); ++f)
      if (old.fields[f].type == Type::kDate) c.data[f] = Value{*parse_date("2062-03-01")};
    const Landing l = plan_case(old, next, c, kEntered, kNow);
    INFO(old.id << " " << old.states[s].id << ": " << l.reason);
    REQUIRE(l.moves);
    CHECK(next.states[static_cast<size_t>(l.state)].id == old.states[s].id);
    CHECK(l.changes.empty());
    for (size_t f = 0; f < old.fields.size(); ++f) {
      INFO(old.fields[f].id);
      CHECK(l.data[static_cast<size_t>(next.field_index(old.fields[f].id))] == c.data[f]);
    }
    ++moved;
  }
  return moved;
}

TEST_CASE(
    "the shipped victim care and debarkation version 5 keep every step and value of versions 3 and "
    "4",
    "[migration][shipped]") {
  const std::string dir = std::string(SOPIR_SOURCE_DIR);
  for (const std::string sop : {"tppo-victim-care", "pmi-debarkation"}) {
    LoadResult next = load_procedure_file(dir + "/workflows/" + sop + ".yaml");
    REQUIRE(next.ok());
    REQUIRE(next.procedure->version == 5);
    CHECK(next.procedure->migrate_from_versions() ==
          (sop == "pmi-debarkation" ? std::vector<int>{3, 4, 1, 2} : std::vector<int>{3, 4, 2}));
    for (const int v : {3, 4}) {
      INFO(sop << " version " << v);
      LoadResult old = load_procedure_file(dir + "/tests/data/migrate/" + sop + ".v" +
                                           std::to_string(v) + ".yaml");
      REQUIRE(old.ok());
      REQUIRE(old.procedure->version == v);
      CHECK(moves_one_to_one(*old.procedure, *next.procedure) > 10);
    }
    // Version 4 still moves version 3 by its own section, as shipped.
    LoadResult v3 = load_procedure_file(dir + "/tests/data/migrate/" + sop + ".v3.yaml");
    LoadResult v4 = load_procedure_file(dir + "/tests/data/migrate/" + sop + ".v4.yaml");
    REQUIRE(v3.ok());
    REQUIRE(v4.ok());
    CHECK(moves_one_to_one(*v3.procedure, *v4.procedure) > 10);
  }
}

// The shipped procedures whose last version only added `max: today` to dates
// of what already happened move their previous version's cases one to one:
// the previous version is the file without those bounds, without its
// migrate: section and one version lower.
TEST_CASE(
    "the shipped procedures bounded by max: today move their previous version's cases one to one",
    "[migration][shipped]") {
  const std::string dir = std::string(SOPIR_SOURCE_DIR);
  for (const std::string sop : {"aid-distribution", "aid-handout", "pmi-departure-monitoring",
                                "tvc-health", "tvc-legal", "tvc-psychosocial", "tvc-tracing"}) {
    INFO(sop);
    LoadResult next = load_procedure_file(dir + "/workflows/" + sop + ".yaml");
    REQUIRE(next.ok());
    REQUIRE(!next.procedure->migrations.empty());
    std::ifstream in(dir + "/workflows/" + sop + ".yaml");
    std::string text, line;
    int bounds = 0;
    while (std::getline(in, line)) {
      if (line == "    max: today") {
        ++bounds;
        continue;
      }
      if (line.rfind("migrate:", 0) == 0) break;
      if (line.rfind("version: ", 0) == 0)
        line = "version: " + std::to_string(next.procedure->version - 1);
      text += line + "\n";
    }
    CHECK(bounds > 0);
    LoadOptions calendars;  // the shipped calendar, as beside the file
    calendars.calendar_dirs = {dir + "/workflows/calendars"};
    LoadResult old = load_procedure_string(text, sop + ".previous.yaml", calendars);
    REQUIRE(old.ok());
    CHECK(moves_one_to_one(*old.procedure, *next.procedure) > 0);
  }
}

}  // namespace
}  // namespace sopir
