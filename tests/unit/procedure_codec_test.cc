// The compiled form saved at publishing (procedure_codec.h): it gives back
// a procedure that decides exactly as the one loaded from YAML, it is
// refused when it does not belong to the source, the engine runs cases by
// it, and verify reports one that disagrees with its source.
#include "lang/procedure_codec.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

#include "base/sha256.h"
#include "sopir/audit.h"
#include "sopir/engine.h"
#include "sopir/loader.h"
#include "sopir/scenario.h"
#include "store/schema.h"
#include "test_backends.h"
#include "test_values.h"

using namespace sopir;
using testing::TempDb;

namespace {

const char* const kWorkflows[] = {"aid-distribution", "aid-handout", "pmi-debarkation", "pmi-departure-monitoring",
                                  "tppo-victim-care", "referral", "transfer", "tvc-health",
                                  "tvc-psychosocial", "tvc-legal", "tvc-tracing"};

std::string workflow_path(const std::string& name, const char* suffix) {
  return std::string(SOPIR_SOURCE_DIR) + "/workflows/" + name + suffix;
}

ProcedurePtr load(const std::string& path) {
  LoadResult loaded = load_procedure_file(path);
  REQUIRE(loaded.ok());
  return loaded.procedure;
}

// The calendar files the procedure was loaded with, as a store pins them.
std::map<std::string, CalendarSource> pinned(const Procedure& p) {
  std::map<std::string, CalendarSource> out;
  if (p.calendar)
    for (const CalendarSource& c : p.calendar->sources) out[c.name] = c;
  return out;
}

// The form of `p` edited by `edit`: what a form damaged or edited in the
// database looks like once read, written the way the encoder writes.
template <class Edit>
std::string encoded_with(const ProcedurePtr& p, Edit edit) {
  Procedure edited = *p;
  edit(edited);
  return encode_procedure(edited);
}

ProcedurePtr round_trip(const ProcedurePtr& p) {
  ProcedurePtr back = decode_procedure(encode_procedure(*p), p->source, p->file, pinned(*p));
  REQUIRE(back);
  return back;
}

}  // namespace

TEST_CASE("every shipped procedure survives its compiled form", "[codec]") {
  for (const char* name : kWorkflows) {
    INFO(name);
    ProcedurePtr p = load(workflow_path(name, ".yaml"));
    const std::string encoded = encode_procedure(*p);
    REQUIRE_FALSE(encoded.empty());
    ProcedurePtr back = round_trip(p);
    CHECK(encode_procedure(*back) == encoded);
    CHECK(back->sha256 == p->sha256);
    CHECK(back->source == p->source);
    REQUIRE(back->transitions.size() == p->transitions.size());
    for (size_t t = 0; t < p->transitions.size(); ++t) {
      CHECK(static_cast<bool>(back->transitions[t].guard) == static_cast<bool>(p->transitions[t].guard));
      REQUIRE(back->transitions[t].set.size() == p->transitions[t].set.size());
      for (const Assignment& a : back->transitions[t].set) CHECK(a.expr);
    }
  }
}

TEST_CASE("the sites hand-offs open their cases at come back from the compiled form", "[codec][sites]") {
  const std::string source = R"(sop: return-desk
version: 1
title: Return desk
roles: [staff]
fields:
  home_office: {type: enum, values: [main, nunukan]}
states:
  arrived: {initial: true}
  referred: {}
  home: {terminal: true}
transitions:
  - {event: refer, from: arrived, to: referred, roles: [staff], opens: {sop: follow-up, site: nunukan}}
  - {event: go_home, from: referred, to: home, roles: [staff], requires: [home_office],
     opens: {sop: follow-up, site_from: home_office}}
)";
  LoadResult loaded = load_procedure_string(source, "return-desk.yaml");
  REQUIRE(loaded.ok());
  ProcedurePtr back = round_trip(loaded.procedure);
  CHECK(back->transitions[0].opens[0].site == "nunukan");
  CHECK(back->transitions[0].opens[0].site_field == -1);
  CHECK(back->transitions[1].opens[0].site.empty());
  CHECK(back->transitions[1].opens[0].site_field == back->field_index("home_office"));
  CHECK(encode_procedure(*back) == encode_procedure(*loaded.procedure));
  // The field a hand-off takes its site from must be one of the
  // procedure's: the engine reads the case's value by that index.
  const std::string far =
      encoded_with(loaded.procedure, [](Procedure& q) { q.transitions[1].opens[0].site_field = 100000; });
  CHECK_FALSE(decode_procedure(far, loaded.procedure->source, loaded.procedure->file));

  // What site: and site_from: accept, each refusal located.
  const auto problems = [&](const std::string& from, const std::string& to) {
    std::string text = source;
    text.replace(text.find(from), from.size(), to);
    std::string out;
    for (const auto& d : load_procedure_string(text, "return-desk.yaml").diagnostics) out += d.format() + "\n";
    return out;
  };
  CHECK_THAT(problems("site: nunukan", "site: Nunukan Pos"),
             Catch::Contains("return-desk.yaml:12:") && Catch::Contains("a site id is written like a staff id"));
  CHECK_THAT(problems("site_from: home_office", "site_from: home"),
             Catch::Contains("return-desk.yaml:14:") && Catch::Contains("unknown field 'home'"));
  CHECK_THAT(problems("site_from: home_office", "site_from: home_office, site: main"),
             Catch::Contains("has both 'site' and 'site_from'"));
  CHECK_THAT(problems("home_office: {type: enum, values: [main, nunukan]}", "home_office: {type: int}"),
             Catch::Contains("the field that names a site must be of type string or enum"));
  CHECK_THAT(problems("home_office: {type: enum, values: [main, nunukan]}",
                      "home_office: {type: string, pii: true}"),
             Catch::Contains("name the site with a field that is not personal"));
}

TEST_CASE("shipped scenarios pass with procedures rebuilt from their compiled form", "[codec]") {
  for (const char* name : kWorkflows) {
    INFO(name);
    ScenarioLoad loaded = load_scenario_file(workflow_path(name, ".test.yaml"));
    REQUIRE(loaded.ok());
    ScenarioFile file = *loaded.file;
    file.procedure = round_trip(file.procedure);
    for (ProcedurePtr& linked : file.linked) linked = round_trip(linked);
    const ScenarioReport report = run_scenarios(file);
    CHECK(report.failed() == 0);
    CHECK(report.coverage.percent() == 100.0);
  }
}

TEST_CASE("clocks come back from the compiled form", "[codec]") {
  ProcedurePtr p = load(workflow_path("tppo-victim-care", ".yaml"));
  REQUIRE_FALSE(p->clocks.empty());
  ProcedurePtr back = round_trip(p);
  REQUIRE(back->clocks.size() == p->clocks.size());
  for (size_t i = 0; i < p->clocks.size(); ++i) {
    const ClockDef &a = p->clocks[i], &b = back->clocks[i];
    CHECK(b.id == a.id);
    CHECK(b.start == a.start);
    CHECK(b.start_at_open == a.start_at_open);
    CHECK(b.stop == a.stop);
    CHECK(b.limit.has_value() == a.limit.has_value());
    if (a.limit) CHECK(b.limit->seconds == a.limit->seconds);
    CHECK(b.working_days == a.working_days);
    CHECK(b.limit_from == a.limit_from);
    CHECK(b.limit_text == a.limit_text);
  }
  // Clock ids must be in range: a form naming a state that does not exist is not read.
  const std::string encoded =
      encoded_with(p, [](Procedure& q) { q.clocks[0].start.insert(q.clocks[0].start.begin(), 999); });
  CHECK_FALSE(decode_procedure(encoded, p->source, p->file));
}

TEST_CASE("a form giving a today/now bound to a field that cannot have one is not read",
          "[codec][field]") {
  ProcedurePtr p = load(workflow_path("pmi-debarkation", ".yaml"));
  const auto index = [&](const char* id) { return static_cast<size_t>(p->field_index(id)); };
  // As the loader makes them: a date's max today, read back.
  const std::string fine =
      encoded_with(p, [&](Procedure& q) { q.fields[index("date_of_death")].max_now = true; });
  const ProcedurePtr back = decode_procedure(fine, p->source, p->file);
  REQUIRE(back);
  CHECK(back->fields[index("date_of_death")].max_now);
  CHECK(back->fields[index("date_of_death")].checks.relative);
  // Edited in: on a field of another type, or beside a fixed bound on the
  // same side (birth_date has min 1940-01-01). decide() would read a bound
  // the field's type has no number for.
  for (const auto& edit : std::vector<std::function<void(Procedure&)>>{
           [&](Procedure& q) { q.fields[index("travel_document")].min_now = true; },
           [&](Procedure& q) {
             for (FieldDef& f : q.fields)
               if (f.type == Type::kBool) f.max_now = true;
           },
           [&](Procedure& q) {
             for (FieldDef& f : q.fields)
               if (f.type == Type::kString) f.max_now = true;
           },
           [&](Procedure& q) { q.fields[index("birth_date")].min_now = true; }}) {
    CHECK_FALSE(decode_procedure(encoded_with(p, edit), p->source, p->file));
  }
}

TEST_CASE("the pinned calendar comes back with the compiled form", "[codec]") {
  ProcedurePtr p = load(workflow_path("tvc-legal", ".yaml"));
  REQUIRE(p->calendar);
  ProcedurePtr back = round_trip(p);
  REQUIRE(back->calendar);
  CHECK(back->calendar_names == p->calendar_names);
  CHECK(back->calendar->name == p->calendar->name);
  CHECK(back->calendar->days.size() == p->calendar->days.size());
  CHECK(back->calendar->sources.front().sha256 == p->calendar->sources.front().sha256);
  // The same deadline: 10 working days from a day before a holiday.
  const DateTime from{1767225600};  // 2026-01-01T00:00:00Z, New Year's Day
  CHECK(back->calendar->add_working_days(from, 10).seconds == p->calendar->add_working_days(from, 10).seconds);

  // Without its pinned calendar the form is not read (the engine then loads
  // the source, which reports the missing calendar).
  CHECK_FALSE(decode_procedure(encode_procedure(*p), p->source, p->file, {}));
  // Nor with calendar bytes that no longer read.
  auto broken = pinned(*p);
  broken.begin()->second.text = "holidays: [";
  CHECK_FALSE(decode_procedure(encode_procedure(*p), p->source, p->file, broken));
}

TEST_CASE("a step's read takes a form only when it names the pinned hash, and asks for calendars only when named",
          "[codec]") {
  for (const char* name : {"tvc-legal", "tppo-victim-care"}) {
    INFO(name);
    ProcedurePtr p = load(workflow_path(name, ".yaml"));
    const std::string encoded = encode_procedure(*p);
    int asked = 0;
    const PinnedCalendars calendars = [&] {
      ++asked;
      return pinned(*p);
    };
    ProcedurePtr back = decode_pinned_procedure(encoded, p->sha256, p->file, calendars);
    REQUIRE(back);
    CHECK(back->source.empty());  // neither hashed nor kept
    CHECK(back->sha256 == p->sha256);
    CHECK(back->file == p->file);
    CHECK(asked == (p->calendar ? 1 : 0));
    CHECK(encode_procedure(*back) == encoded);

    // Not read: damaged, naming another hash, or naming a calendar not pinned.
    CHECK_FALSE(decode_pinned_procedure(encoded.substr(0, encoded.size() / 2), p->sha256, p->file, calendars));
    CHECK_FALSE(decode_pinned_procedure(encoded, sha256_hex(p->source + "\n# edited"), p->file, calendars));
    if (p->calendar) {
      CHECK_FALSE(decode_pinned_procedure(encoded, p->sha256, p->file,
                                          [] { return std::map<std::string, CalendarSource>{}; }));
    }
  }
}

TEST_CASE("a procedure with a calendar runs by its compiled form, counted on the pinned calendar", "[codec]") {
  TempDb db("codec");
  const std::string file = workflow_path("tvc-legal", ".yaml");
  std::string sha;
  {
    StoreOptions create;
    create.create = true;
    Engine engine(open_sqlite_store(db.path(), create));
    engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.publish(workflow_path("referral", ".yaml"), "admin", false);  // the target of its hand-offs
    sha = engine.publish(file, "admin", false).sha256;
    const auto row = engine.store().procedure_by_hash(sha);
    REQUIRE(row);
    REQUIRE_FALSE(row->compiled.empty());
    CHECK(row->compiled == encode_procedure(*load(file)));
  }
  StoreOptions ro;
  ro.read_only = true;
  CHECK(audit::verify(*open_sqlite_store(db.path(), ro), audit::VerifyOptions{}).clean());
  // The engine reads the saved form (an edit to it shows), with the calendar pinned at publishing.
  ProcedurePtr p = load(file);
  auto edited = std::make_shared<Procedure>(*p);
  edited->states[0].label = Text{{"", "edited"}};
  {
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
    SQLite::Statement update(raw, "UPDATE procedures SET compiled = ? WHERE sop_id = 'tvc-legal'");
    update.bind(1, encode_procedure(*edited));
    update.exec();
  }
  Engine engine(open_sqlite_store(db.path(), StoreOptions{}));
  ProcedurePtr run = engine.procedure(sha);
  CHECK(run->states[0].label.get("en") == "edited");
  REQUIRE(run->calendar);
  CHECK(run->calendar->sources.front().sha256 == p->calendar->sources.front().sha256);
  CHECK(run->calendar->days.size() == p->calendar->days.size());
}

TEST_CASE("a compiled form that does not belong is not read", "[codec]") {
  ProcedurePtr p = load(workflow_path("aid-distribution", ".yaml"));
  const std::string encoded = encode_procedure(*p);
  CHECK_FALSE(decode_procedure(encoded, p->source + "\n# changed", p->file));  // another source
  CHECK_FALSE(decode_procedure("{}", p->source, p->file));
  CHECK_FALSE(decode_procedure("not json", p->source, p->file));
  CHECK_FALSE(decode_procedure(encoded.substr(0, encoded.size() / 2), p->source, p->file));
  std::string other_format = encoded;
  other_format.replace(other_format.find(kCompiledFormat), std::string(kCompiledFormat).size(), "sopir-compiled-0");
  CHECK_FALSE(decode_procedure(other_format, p->source, p->file));
  // A form cut short anywhere is refused, not read as far as it goes.
  for (size_t cut = 0; cut < encoded.size(); cut += 61) {
    INFO(cut);
    CHECK_FALSE(decode_procedure(encoded.substr(0, cut), p->source, p->file));
  }
  // A text or a list whose size runs past the end of the form.
  const std::string id = std::to_string(p->id.size()) + ":" + p->id;
  REQUIRE(encoded.find(id) != std::string::npos);
  std::string long_text = encoded;
  long_text.replace(long_text.find(id), id.size(), std::to_string(encoded.size()) + ":" + p->id);
  CHECK_FALSE(decode_procedure(long_text, p->source, p->file));
  std::string long_list = encoded;
  const std::string roles =
      std::to_string(p->roles.size()) + ";" + std::to_string(p->roles[0].size()) + ":" + p->roles[0];
  REQUIRE(long_list.find(roles) != std::string::npos);
  long_list.replace(long_list.find(roles), roles.size(), "100000000;" + roles.substr(roles.find(';') + 1));
  CHECK_FALSE(decode_procedure(long_list, p->source, p->file));
  // Text must be UTF-8.
  CHECK_FALSE(decode_procedure(encoded_with(p, [](Procedure& q) { q.title = Text{{"en", "Aid \xFF"}}; }), p->source,
                               p->file));
  // A guard or a `set:` expression that no longer parses against the
  // fields (decide() would run it) is a damaged form.
  const auto guarded = std::find_if(p->transitions.begin(), p->transitions.end(),
                                    [](const TransitionDef& t) { return t.guard != nullptr; });
  REQUIRE(guarded != p->transitions.end());
  const size_t at = static_cast<size_t>(guarded - p->transitions.begin());
  const std::string unparsable =
      encoded_with(p, [&](Procedure& q) { q.transitions[at].guard_text = "no_such_field > 1"; });
  CHECK_FALSE(decode_procedure(unparsable, p->source, p->file));
  // An index out of range would send decide() outside the procedure.
  CHECK_FALSE(decode_procedure(encoded_with(p, [](Procedure& q) { q.initial_state = 999; }), p->source, p->file));
  CHECK_FALSE(decode_procedure(encoded_with(p, [](Procedure& q) { q.transitions.back().to = 999; }), p->source,
                               p->file));
  // The edits above are refused for what they change, not for being edits.
  CHECK(decode_procedure(encoded_with(p, [](Procedure& q) { q.title = Text{{"en", "Aid, edited"}}; }), p->source,
                         p->file));
}


TEST_CASE("the engine saves the compiled form and runs cases by it", "[codec]") {
  TempDb db("codec");
  const std::string file = workflow_path("aid-distribution", ".yaml");
  std::string sha;
  {
    StoreOptions create;
    create.create = true;
    Engine engine(open_sqlite_store(db.path(), create));
    engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.publish(workflow_path("aid-handout", ".yaml"), "admin", false);  // the target of its hand-off
    sha = engine.publish(file, "admin", false).sha256;
    const auto row = engine.store().procedure_by_hash(sha);
    REQUIRE(row);
    CHECK(row->compiled == encode_procedure(*load(file)));
  }
  auto verify = [&] {
    StoreOptions ro;
    ro.read_only = true;
    auto store = open_sqlite_store(db.path(), ro);
    return audit::verify(*store, audit::VerifyOptions{});
  };
  CHECK(verify().clean());
  SECTION("a damaged compiled form: the source is loaded instead") {
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
    raw.exec("UPDATE procedures SET compiled = '{\"format\":\"sopir-compiled-1\"}'");
    Engine engine(open_sqlite_store(db.path(), StoreOptions{}));
    CHECK(engine.procedure(sha)->transitions.size() == load(file)->transitions.size());
    CHECK(verify().clean());  // not read, so nothing runs by it
  }
  SECTION("a compiled form edited to other rules is run by the engine and found by verify") {
    ProcedurePtr p = load(file);
    auto edited = std::make_shared<Procedure>(*p);
    edited->states[0].label = Text{{"", "edited"}};
    {
      SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE);
      SQLite::Statement update(raw, "UPDATE procedures SET compiled = ? WHERE sop_id = 'aid-distribution'");
      update.bind(1, encode_procedure(*edited));
      update.exec();
    }
    Engine engine(open_sqlite_store(db.path(), StoreOptions{}));
    CHECK(engine.procedure(sha)->states[0].label.get("en") == "edited");
    const auto report = verify();
    REQUIRE(report.findings.size() == 1);
    CHECK(report.findings[0].kind == audit::FindingKind::kCompiledDiffers);
    CHECK(report.findings[0].message.find("aid-distribution version " + std::to_string(p->version)) !=
          std::string::npos);
    // Publishing the same file again rewrites it.
    engine.publish(file, "admin", false);
    CHECK(verify().clean());
  }
}

TEST_CASE("a schema 1 database is upgraded; the first command that runs a procedure saves its form",
          "[codec]") {
  TempDb db("codec");
  const std::string file = workflow_path("aid-distribution", ".yaml");
  ProcedurePtr p = load(file);
  {
    // A database as the first sopir left it: schema 1, no compiled forms.
    SQLite::Database raw(db.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA journal_mode = WAL");
    schema::migrate(raw, 1);
    REQUIRE(raw.execAndGet("PRAGMA user_version").getInt() == 1);
    raw.exec(R"(INSERT INTO staff (id, name, roles) VALUES ('admin', 'Admin Contoh', '["admin"]'))");
    SQLite::Statement insert(raw,
                             "INSERT INTO procedures (sop_id, version, sha256, source, file, published_at, "
                             "published_by, current) VALUES (?, 1, ?, ?, ?, 1, 'admin', 1)");
    insert.bind(1, p->id);
    insert.bind(2, p->sha256);
    insert.bind(3, p->source);
    insert.bind(4, file);
    insert.exec();
  }
  Engine engine(open_sqlite_store(db.path(), StoreOptions{}));
  auto row = engine.store().procedure_by_hash(p->sha256);
  REQUIRE(row);
  CHECK(row->compiled.empty());
  CHECK(engine.store().schema_changes().empty());
  CHECK(engine.procedure(p->sha256)->transitions.size() == p->transitions.size());
  CHECK(engine.store().procedure_by_hash(p->sha256)->compiled == encode_procedure(*p));
}

TEST_CASE("a form of an older format is run from source once and saved in this build's", "[codec]") {
  const auto backend = GENERATE(from_range(::sopir::testing::store_backends()));
  ::sopir::testing::TestDatabase db(backend);
  const std::string file = workflow_path("aid-distribution", ".yaml");
  std::string sha;
  {
    Engine engine(open_store(db.location(), ::sopir::testing::creating()));
    engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
    engine.publish(workflow_path("aid-handout", ".yaml"), "admin", false);  // the target of its hand-off
    sha = engine.publish(file, "admin", false).sha256;
    // As a database from an earlier sopir keeps it.
    engine.store().set_compiled(sha, "{\"format\":\"sopir-compiled-4\",\"sha256\":\"" + sha + "\"}");
  }
  auto stored = [&] { return open_store(db.location(), StoreOptions{})->procedure_by_hash(sha)->compiled; };
  const std::string older = stored();
  REQUIRE(older.rfind("{\"format\":\"sopir-compiled-4\"", 0) == 0);
  StoreOptions ro;
  ro.read_only = true;
  {
    // A store opened read-only runs it from source and writes nothing.
    Engine engine(open_store(db.location(), ro));
    CHECK(engine.procedure(sha)->transitions.size() == load(file)->transitions.size());
  }
  CHECK(stored() == older);
  {
    // The lists that read one snapshot (todo, overdue clocks) run it from
    // source too, and leave the form for the next command to write.
    Engine engine(open_store(db.location(), StoreOptions{}));
    CHECK(engine.todo("admin").items.empty());
    CHECK(engine.overdue_clocks().empty());
    CHECK(engine.cached_procedures().size() == 2);
  }
  CHECK(stored() == older);
  {
    Engine engine(open_store(db.location(), StoreOptions{}));
    CHECK(engine.procedure(sha)->transitions.size() == load(file)->transitions.size());
  }
  CHECK(stored() == encode_procedure(*load(file)));
  CHECK(audit::verify(*open_store(db.location(), ro), audit::VerifyOptions{}).clean());
}
