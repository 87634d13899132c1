// Messages in both languages, exactly as staff read them: refusals of
// decide() in the command's language, `case why`, a located loader error
// with its suggestion, a lint warning and a store's not-found error in the
// process's language (sopir/messages.h).
#include <catch2/catch.hpp>

#include <string>

#include "sopir/decide.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "sopir/messages.h"
#include "sopir/store.h"
#include "test_backends.h"
#include "test_procedures.h"

namespace sopir {
namespace {

const DateTime kAt = *parse_datetime("2026-03-02T08:00:00Z");

// Sets the process's message language for one test and puts English back.
class ProcessLanguage {
 public:
  explicit ProcessLanguage(const char* lang) { set_message_language(lang); }
  ~ProcessLanguage() { set_message_language("en"); }
};

class Refusals {
 protected:
  Refusals() : p_(testing::load_or_fail(testing::kCareYaml)) {}

  CaseSnapshot at(const std::string& state) const { return testing::snapshot_at(*p_, state); }

  // The refusal of `event` in `state`, asked in `lang`.
  std::string refusal(const std::string& state, const std::string& event, const Actor& actor,
                      std::vector<std::pair<std::string, std::string>> inputs, const char* lang) const {
    Command c;
    c.event = event;
    c.actor = actor;
    c.inputs = std::move(inputs);
    c.at = kAt;
    c.lang = lang;
    Decision d = decide(*p_, at(state), c);
    if (!std::holds_alternative<Refusal>(d)) FAIL("expected a refusal");
    return std::get<Refusal>(d).message;
  }

  ProcedurePtr p_;
  const Actor worker_{"rina", {"worker"}};
  const Actor supervisor_{"budi", {"supervisor"}};
};

TEST_CASE_METHOD(Refusals, "a guard refusal in English and Indonesian", "[messages]") {
  // The branch that takes consent is the one that got furthest; its guard
  // is false. Booleans read as words in the command's language.
  const auto inputs = std::vector<std::pair<std::string, std::string>>{{"risk", "low"}, {"consent", "no"}};
  CHECK(refusal("screening", "assess", worker_, inputs, "en") ==
        "the rule for 'assess' does not hold: consent == true is false (consent = no)");
  CHECK(refusal("screening", "assess", worker_, inputs, "id") ==
        "aturan untuk 'assess' tidak terpenuhi: consent == true bernilai salah (consent = tidak)");
  // The process's language does not change what decide() says: only the
  // command's does.
  ProcessLanguage indonesian("id");
  CHECK(refusal("screening", "assess", worker_, inputs, "en") ==
        "the rule for 'assess' does not hold: consent == true is false (consent = no)");
}

TEST_CASE_METHOD(Refusals, "a role refusal in English and Indonesian", "[messages]") {
  CHECK(refusal("intake", "screen", supervisor_, {{"age", "30"}}, "en") ==
        "event 'screen' may be done by worker; budi has roles supervisor");
  CHECK(refusal("intake", "screen", supervisor_, {{"age", "30"}}, "id") ==
        "peristiwa 'screen' hanya boleh dilakukan oleh worker; budi memiliki peran supervisor");
  CHECK(refusal("intake", "screen", Actor{"tono", {}}, {{"age", "30"}}, "id") ==
        "peristiwa 'screen' hanya boleh dilakukan oleh worker; tono tidak memiliki peran apa pun");
}

TEST_CASE_METHOD(Refusals, "a missing-field refusal in English and Indonesian", "[messages]") {
  CHECK(refusal("intake", "screen", worker_, {}, "en") == "event 'screen' needs a value for age");
  CHECK(refusal("intake", "screen", worker_, {}, "id") ==
        "peristiwa 'screen' memerlukan nilai untuk age");
  // A bad value names what is accepted, in the same language.
  CHECK(refusal("intake", "screen", worker_, {{"age", "thirty"}}, "id") ==
        "age: 'thirty' bukan bilangan bulat seperti 42, paling banyak 18 angka");
}

TEST_CASE_METHOD(Refusals, "case why explains each event in the language asked for", "[messages]") {
  for (const char* lang : {"en", "id"}) {
    const auto checks = check_events(*p_, at("intake"), supervisor_, kAt, lang);
    REQUIRE(checks.size() == 2);
    CHECK(checks[0].event == "screen");
    CHECK_FALSE(checks[0].possible);
    REQUIRE(checks[0].refusal);
    CHECK(checks[0].refusal->message ==
          (std::string(lang) == "id"
               ? "peristiwa 'screen' hanya boleh dilakukan oleh worker; budi memiliki peran "
                 "supervisor"
               : "event 'screen' may be done by worker; budi has roles supervisor"));
    CHECK(checks[1].event == "escalate");
    CHECK(checks[1].possible);
  }
  const auto checks = check_events(*p_, at("escalated"), supervisor_, kAt, "id");
  REQUIRE(checks.size() == 1);
  CHECK(checks[0].possible);
  CHECK(checks[0].refusal->message == "peristiwa 'back' memerlukan alasan tertulis");
}

TEST_CASE_METHOD(Refusals, "lifecycle refusals follow the command's language", "[messages]") {
  CaseSnapshot s = at("care");
  LifecycleCommand close{LifecycleEvent::kClose, worker_, "needs_met", kAt, "id"};
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, close)).message ==
        "menutup kasus 'test-care' memerlukan peran supervisor; rina memiliki peran worker");
  LifecycleCommand typo{LifecycleEvent::kClose, supervisor_, "needs_mett", kAt, "id"};
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, typo)).message ==
        "'needs_mett' bukan alasan penutupan prosedur 'test-care'; maksud Anda 'needs_met'? "
        "(salah satu dari: needs_met, declined)");
  typo.lang = "en";
  CHECK(std::get<Refusal>(decide_lifecycle(*p_, s, typo)).message ==
        "'needs_mett' is not a closure reason of 'test-care'; did you mean 'needs_met'? "
        "(one of: needs_met, declined)");
}

constexpr const char* kTypo = R"(sop: typo
version: 1
title: Typo
roles: [worker, cook]
states:
  intake: {initial: true}
  screening: {terminal: true}
transitions:
  - {event: screen, from: intake, to: screning, roles: [worker]}
)";

TEST_CASE("a located loader error keeps its place, caret and suggestion in both languages",
          "[messages]") {
  {
    const LoadResult r = load_procedure_string(kTypo, "typo.yaml");
    REQUIRE(r.error_count() == 1);
    CHECK(r.diagnostics[0].code == "unknown-state");
    CHECK(r.diagnostics[0].format() ==
          "typo.yaml:9:39: error: unknown state 'screning' in to of transition 'screen'; did you mean "
          "'screening'?\n"
          "  - {event: screen, from: intake, to: screning, roles: [worker]}\n"
          "                                      ^\n");
  }
  ProcessLanguage indonesian("id_ID.UTF-8");
  const LoadResult r = load_procedure_string(kTypo, "typo.yaml");
  REQUIRE(r.error_count() == 1);
  CHECK(r.diagnostics[0].code == "unknown-state");
  CHECK(r.diagnostics[0].format() ==
        "typo.yaml:9:39: kesalahan: tahap 'screning' tidak dikenal dalam to dari transisi 'screen'; "
        "maksud Anda 'screening'?\n"
        "  - {event: screen, from: intake, to: screning, roles: [worker]}\n"
        "                                      ^\n");
}

TEST_CASE("a lint warning in both languages", "[messages]") {
  const std::string fixed = [] {
    std::string text = kTypo;
    text.replace(text.find("to: screning"), 12, "to: screening");
    return text;
  }();
  auto unused_role = [&] {
    const LoadResult r = load_procedure_string(fixed, "typo.yaml");
    REQUIRE(r.ok());
    for (const auto& d : r.diagnostics)
      if (d.code == "unused-role") return d.format();
    FAIL("no unused-role warning");
    return std::string();
  };
  CHECK(unused_role() ==
        "typo.yaml:4:17: warning: role 'cook' is declared but no transition, lifecycle or "
        "pii_visible_to names it\n"
        "roles: [worker, cook]\n"
        "                ^\n");
  ProcessLanguage indonesian("id");
  CHECK(unused_role() ==
        "typo.yaml:4:17: peringatan: peran 'cook' dideklarasikan tetapi tidak disebut oleh transisi, "
        "lifecycle atau pii_visible_to mana pun\n"
        "roles: [worker, cook]\n"
        "                ^\n");
}

TEST_CASE("a store's not-found error in both languages", "[messages]") {
  testing::TestDatabase db(GENERATE(from_range(testing::store_backends())));
  StoreOptions options;
  options.create = true;
  auto store = open_store(db.location(), options);
  const RegistryStamp stamp{"admin", kAt};
  auto message = [&] {
    try {
      store->set_staff_role("nobody", "worker", true, stamp);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::kNotFound);
      return e.message();
    }
    FAIL("no error");
    return std::string();
  };
  CHECK(message() == "no staff member with id nobody");
  ProcessLanguage indonesian("id");
  CHECK(message() == "tidak ada petugas dengan id nobody");
}

}  // namespace
}  // namespace sopir
