// Set fields (multi-select), labelled enum values and yes/no booleans:
// values and their canonical form, guards and `set:` with sets, labels by
// language, the loader's messages, and a round trip through the store on
// both backends (replayed and verified).
#include <catch2/catch.hpp>

#include "lang/expr/expr.h"
#include "sopir/audit.h"
#include "sopir/display.h"
#include "sopir/engine.h"
#include "sopir/loader.h"
#include "test_backends.h"
#include "test_procedures.h"

namespace sopir {
namespace {

const std::vector<std::string> kMeans = {"debt_bondage", "withheld_documents", "threats", "violence"};

std::string canonical(const std::string& text) {
  std::string accepted;
  auto v = parse_typed(Type::kSet, kMeans, text, &accepted);
  return v ? std::get<std::string>(*v) : "REFUSED: " + accepted;
}

TEST_CASE("a set value is kept in declared order, each value once", "[sets]") {
  CHECK(canonical("threats,debt_bondage") == "debt_bondage,threats");
  CHECK(canonical(" threats , debt_bondage ,threats") == "debt_bondage,threats");
  CHECK(canonical("violence") == "violence");
  CHECK(canonical("") == "");  // the empty set: a value, not missing
  CHECK(canonical("  ") == "");
  CHECK(canonical("[threats, debt_bondage]") == "debt_bondage,threats");  // as a list
  CHECK(canonical("[]") == "");
  const std::string refused =
      "REFUSED: any of: debt_bondage, withheld_documents, threats, violence, separated by commas "
      "([] or nothing for none)";
  CHECK(canonical("threats,debts") == refused);
  CHECK(canonical("threats,") == refused);
  CHECK(canonical("Threats") == refused);  // ids are case-sensitive, as enums
  CHECK(set_members("debt_bondage,threats") == std::vector<std::string>{"debt_bondage", "threats"});
  CHECK(set_members("").empty());
  CHECK(set_count("") == 0);
  CHECK(set_count("debt_bondage,threats") == 2);
  CHECK(set_contains("debt_bondage,threats", "threats"));
  CHECK_FALSE(set_contains("debt_bondage,threats", "debt"));
  CHECK_FALSE(set_contains("debt_bondage,threats", ""));
  CHECK_FALSE(set_contains("", "threats"));
  std::string unknown;
  CHECK_FALSE(canonical_set(kMeans, {"threats", "debts"}, &unknown));
  CHECK(unknown == "debts");
  CHECK(type_from_name("set") == Type::kSet);
  CHECK(std::string(type_name(Type::kSet)) == "set");
}

const char kSets[] = R"(sop: set-test
version: 1
title: Sets
roles: [worker]
fields:
  means:
    type: set
    values:
      - {id: debt_bondage, label: {en: Debt bondage, id: Jeratan utang}}
      - {id: withheld_documents, label: {en: Documents withheld}}
      - threats
      - violence
  main_means: {type: enum, values: [debt_bondage, threats]}
  other_means: {type: set, values: [threats, violence]}
  consent:
    type: bool
  risk:
    type: enum
    values:
      - {id: low, label: {en: Low, id: Rendah}}
      - high
states:
  a: {initial: true}
  b: {}
  c: {terminal: true}
transitions:
  - {event: go, from: a, to: b, roles: [worker], accepts: [means, consent, risk, main_means],
     when: "debt_bondage in means and count(means) >= 2"}
  - {event: go, from: a, to: c, roles: [worker], accepts: [means, consent, risk, main_means],
     when: "'threats' not in means or means == []"}
  - {event: mark, from: b, to: b, roles: [worker], set: {means: [violence, threats], other_means: "threats"}}
  - {event: clear, from: b, to: b, roles: [worker], set: {means: other_means, other_means: []}}
  - {event: finish, from: b, to: c, roles: [worker], when: "main_means in means or means == [threats, violence]"}
)";

struct SetCase {
  ProcedurePtr p = testing::load_or_fail(kSets, "sets.yaml");
  CaseSnapshot snapshot = testing::snapshot_at(*p, "a");
  Decision step(const std::string& event, std::vector<std::pair<std::string, std::string>> inputs = {},
                const std::string& lang = "") {
    Command c;
    c.event = event;
    c.actor = {"rina", {"worker"}};
    c.at = *parse_datetime("2026-03-02T08:00:00Z");
    c.inputs = std::move(inputs);
    c.lang = lang;
    return decide(*p, snapshot, c);
  }
  std::string to(const Decision& d) {
    if (auto* r = std::get_if<Refusal>(&d)) return "refused: " + r->message;
    return p->states[std::get<Transition>(d).to].id;
  }
  std::string message(const Decision& d) {
    auto* r = std::get_if<Refusal>(&d);
    return r ? r->message : "(not refused)";
  }
};

TEST_CASE("guards test membership, count and the empty set", "[sets]") {
  SetCase c;
  CHECK(c.to(c.step("go", {{"means", "threats,debt_bondage"}})) == "b");
  CHECK(c.to(c.step("go", {{"means", "withheld_documents"}})) == "c");  // threats not in
  CHECK(c.to(c.step("go", {{"means", ""}})) == "c");                    // the empty set
  // Missing is not the empty set, and a missing set holds nothing: not in holds.
  CHECK(c.to(c.step("go")) == "c");
  CHECK(c.message(c.step("go", {{"means", "threats"}})) ==
        "the rule for 'go' does not hold: debt_bondage in means is false (means = [threats])");
  // With a language, the refusal is written in it and values show their
  // labels after the ids. withheld_documents has no Indonesian label
  // (English instead), threats none at all (its id).
  CHECK(c.message(c.step("go", {{"means", "threats,withheld_documents"}}, "id")) ==
        "aturan untuk 'go' tidak terpenuhi: debt_bondage in means bernilai salah (means = "
        "[withheld_documents, threats] (Documents withheld, threats))");
}

TEST_CASE("set: gives a set field a list, the empty set or another set", "[sets]") {
  SetCase c;
  c.snapshot.state = c.p->state_index("b");
  auto changes = [&](const Decision& d) {
    std::string out;
    if (auto* r = std::get_if<Refusal>(&d)) return "refused: " + r->message;
    for (const auto& ch : std::get<Transition>(d).changes)
      out += c.p->fields[ch.field].id + "=" + format_value(ch.after) + ";";
    return out;
  };
  CHECK(changes(c.step("mark")) == "means=threats,violence;other_means=threats;");
  c.snapshot.data[c.p->field_index("means")] = std::string("threats");
  c.snapshot.data[c.p->field_index("other_means")] = std::string("violence");
  CHECK(changes(c.step("clear")) == "means=violence;other_means=;");
  // main_means in means: an enum field sharing values with the set.
  c.snapshot.data[c.p->field_index("main_means")] = std::string("threats");
  CHECK(c.to(c.step("finish")) == "c");
  c.snapshot.data[c.p->field_index("main_means")] = std::string("debt_bondage");
  CHECK(c.to(c.step("finish")).rfind("refused", 0) == 0);
  c.snapshot.data[c.p->field_index("means")] = std::string("threats,violence");
  CHECK(c.to(c.step("finish")) == "c");
}

TEST_CASE("a bad set value at input names the value and what is accepted", "[sets]") {
  SetCase c;
  CHECK(c.message(c.step("go", {{"means", "threats,debt_bondge"}})) ==
        "means: 'debt_bondge' (in 'threats,debt_bondge') is not one of its values; give any of: "
        "debt_bondage, withheld_documents, threats, violence, separated by commas ([] or nothing "
        "for none); did you mean 'debt_bondage'?");
  CHECK(c.message(c.step("go", {{"consent", "maybe"}})) ==
        "consent: 'maybe' is not true or false (also yes/no, ya/tidak, 1/0)");
  for (const char* yes : {"true", "yes", "ya", "YA", "1"}) CHECK(c.to(c.step("go", {{"consent", yes}})) == "c");
  for (const char* no : {"false", "no", "tidak", "Tidak", "0"}) CHECK(c.to(c.step("go", {{"consent", no}})) == "c");
}

TEST_CASE("labels of values follow the language; booleans read as words", "[sets][labels]") {
  SetCase c;
  const Procedure& p = *c.p;
  const FieldDef& means = p.fields[p.field_index("means")];
  const FieldDef& risk = p.fields[p.field_index("risk")];
  const FieldDef& consent = p.fields[p.field_index("consent")];
  CHECK(display_value(means, "debt_bondage,withheld_documents,threats", "en") ==
        "Debt bondage, Documents withheld, threats");
  CHECK(display_value(means, "debt_bondage,withheld_documents,threats", "id") ==
        "Jeratan utang, Documents withheld, threats");  // no id label: English, then the id
  CHECK(display_value(means, "", "en") == "none");
  CHECK(display_value(means, "", "id") == "tidak ada");
  CHECK(display_value(means, "***", "id") == "***");  // a mask stays a mask
  CHECK(display_value(risk, "low", "id") == "Rendah");
  CHECK(display_value(risk, "low", "en") == "Low");
  CHECK(display_value(risk, "high", "id") == "high");
  CHECK(display_value(consent, "true", "en") == "yes");
  CHECK(display_value(consent, "false", "en") == "no");
  CHECK(display_value(consent, "true", "id") == "ya");
  CHECK(display_value(consent, "false", "id") == "tidak");
  CHECK(value_label(risk, "nope", "en") == "nope");
  // The compiled form keeps the labels.
  REQUIRE(means.value_labels.size() == means.values.size());
  CHECK(means.value_labels[0].get("id") == "Jeratan utang");
}

TEST_CASE("explanations and printed guards name values by their labels", "[sets][labels]") {
  SetCase c;
  const Procedure& p = *c.p;
  auto guard = [&](const std::string& text) {
    ParsedExpr e = parse_expr(text, p.fields, Type::kBool);
    REQUIRE(e.errors.empty());
    return e.expr;
  };
  std::vector<Value> data(p.fields.size());
  data[p.field_index("means")] = std::string("debt_bondage,threats");
  data[p.field_index("risk")] = std::string("low");
  data[p.field_index("consent")] = false;
  EvalContext context{&data, *parse_datetime("2026-03-02T08:00:00Z"), nullptr, {}};
  auto explain = [&](const std::string& text, std::string_view lang) {
    context.lang = lang;
    return evaluate_guard(*guard(text), p.fields, context).explanation;
  };
  CHECK(explain("violence in means", "") == "violence in means is false (means = [debt_bondage, threats])");
  CHECK(explain("violence in means", "id") ==
        "violence in means bernilai salah (means = [debt_bondage, threats] (Jeratan utang, threats))");
  CHECK(explain("risk == high", "id") == "risk == high bernilai salah (risk = low (Rendah))");
  CHECK(explain("risk == high", "") == "risk == high is false (risk = low)");
  CHECK(explain("consent", "id") == "consent = tidak");
  CHECK(explain("consent", "") == "consent is false");
  CHECK(explain("count(means) > 2", "en") ==
        "count(means) > 2 is false (means = [debt_bondage, threats] (Debt bondage, threats), "
        "count(means) = 2)");
  CHECK(to_string(*guard("risk == low and debt_bondage in means"), p.fields, "id") ==
        "risk == 'Rendah' and 'Jeratan utang' in means");
  CHECK(to_string(*guard("means == [threats, debt_bondage]"), p.fields, "en") ==
        "means == ['Debt bondage', 'threats']");
  CHECK(to_string(*guard("means == [threats, debt_bondage]"), p.fields) ==
        "means == [debt_bondage, threats]");
  CHECK(to_string(*guard("risk == high"), p.fields, "id") == "risk == high");  // no label
}

std::string load_errors(const std::string& yaml) {
  LoadResult r = load_procedure_string(yaml, "t.yaml");
  std::string out;
  for (const auto& d : r.diagnostics) out += d.format() + "\n";
  return out;
}

std::string with(const std::string& fields, const std::string& transitions = "") {
  return "sop: t\nversion: 1\ntitle: T\nroles: [w]\nfields:\n" + fields +
         "states:\n  a: {initial: true}\n  b: {terminal: true}\ntransitions:\n"
         "  - {event: go, from: a, to: b, roles: [w]" + transitions + "}\n";
}

TEST_CASE("bad sets and labels are located errors", "[sets][loader]") {
  const std::string means = "  means: {type: set, values: [debt_bondage, threats]}\n";
  CHECK(load_errors(with(means, ", when: \"debt_bondge in means\"")) ==
        "t.yaml:11:52: error: in guard: 'debt_bondge' is not a value of means (one of: "
        "debt_bondage, threats); did you mean 'debt_bondage'?\n"
        "  - {event: go, from: a, to: b, roles: [w], when: \"debt_bondge in means\"}\n"
        "                                                   ^\n\n");
}

TEST_CASE("set values round-trip through the store and verify on both backends", "[sets][store]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  StoreOptions options;
  options.create = true;
  Engine engine(open_store(db.location(), options), std::make_shared<testing::StepClock>());
  engine.store().add_staff({"admin", "Admin Contoh", {"admin"}, true}, ::sopir::testing::kByAdmin);
  engine.store().add_staff({"rina", "Rina Contoh", {"worker"}, true}, ::sopir::testing::kByAdmin);
  engine.publish_source(kSets, "sets.yaml", "admin", false);
  const std::string id =
      engine.open_case({"set-test", "rina", {}, "", std::nullopt}).after.id;
  StepRequest go;
  go.case_id = id;
  go.event = "go";
  go.actor = "rina";
  go.inputs = {{"means", "threats, debt_bondage,threats"}, {"consent", "ya"}};
  engine.advance(go);
  StepRequest mark = go;
  mark.event = "mark";
  mark.inputs = {};
  engine.advance(mark);
  StepRequest clear = mark;
  clear.event = "clear";
  engine.advance(clear);

  const CaseRecord c = *engine.store().find_case(id);
  auto stored = [&](const std::string& field) {
    for (const auto& v : c.data)
      if (v.field == field) return v.missing ? std::string("(missing)") : v.text;
    return std::string("(absent)");
  };
  CHECK(stored("means") == "threats");
  CHECK(stored("other_means") == "");  // the empty set, not missing
  CHECK(stored("consent") == "true");
  const auto history = engine.store().history(id);
  REQUIRE(history.size() == 4);
  // The log keeps the input and the change canonically.
  CHECK(history[1].inputs == std::vector<std::pair<std::string, std::string>>{
                                 {"means", "debt_bondage,threats"}, {"consent", "ya"}});
  REQUIRE(history[1].changes.size() == 2);
  CHECK(history[1].changes[0].after.text == "debt_bondage,threats");
  CHECK(history[2].changes[0].after.text == "threats,violence");
  REQUIRE(history[3].changes.size() == 2);
  CHECK(history[3].changes[0].after.text == "threats");
  CHECK(history[3].changes[1].after.field == "other_means");
  CHECK(history[3].changes[1].after.text == "");
  CHECK_FALSE(history[3].changes[1].after.missing);

  StoreOptions read;
  read.read_only = true;
  auto reader = open_store(db.location(), read);
  audit::VerifyOptions verify_options;
  const audit::VerifyReport report = audit::verify(*reader, verify_options);
  CHECK(report.clean());
}

}  // namespace
}  // namespace sopir
