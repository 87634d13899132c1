// Publishing checks the text a guard compares with track_state('x') or
// track_outcome('x'), and the state count_tracks('x', 'state') counts,
// against procedure x as published (located, with a
// "did you mean"); `sop paths` names the tracks each step opens.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "sopir/engine.h"
#include "sopir/scenario.h"
#include "test_backends.h"

using namespace sopir;

namespace {

std::string tracks_file(const std::string& name) {
  return std::string(SOPIR_SOURCE_DIR) + "/tests/data/tracks/" + name + ".yaml";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

struct Published {
  Engine engine{open_sqlite_store(":memory:", StoreOptions{true})};
  Published() {
    engine.store().add_staff({"admin", "Admin", {"admin"}, true}, ::sopir::testing::kByAdmin);
    for (const char* sop : {"medical-track", "psychosocial-track", "legal-track", "tracing-track"})
      engine.publish(tracks_file(sop), "admin");
  }
  std::string refusal(const std::string& source) {
    try {
      engine.publish_source(source, "victim-care.yaml", "admin");
    } catch (const Error& e) {
      return e.message();
    }
    return "";
  }
};

}  // namespace

TEST_CASE("publishing refuses a track outcome or state the track's procedure cannot give", "[tracks][publish]") {
  Published db;
  const std::string base = read_file(tracks_file("victim-care"));
  CHECK(db.refusal(base).empty());
  CHECK(db.refusal(replaced(base, "== 'fit'", "== 'fitt'")) ==
        "victim-care.yaml: cannot publish: its hand-offs or track rules do not fit the published procedures\n"
        "  victim-care.yaml:24:71: 'fitt' is neither a closure reason nor an end state of 'medical-track', so "
        "track_outcome('medical-track') is never 'fitt'; did you mean 'fit'?");
  // A state that is not an end state is no outcome; track_state takes every state.
  CHECK(db.refusal(replaced(base, "track_outcome('medical-track') == 'fit'",
                            "track_outcome('medical-track') == 'examining'"))
            .find("'examining' is neither a closure reason nor an end state of 'medical-track'") != std::string::npos);
  CHECK(db.refusal(replaced(replaced(base, "track_outcome('medical-track') == 'fit'",
                                     "track_state('medical-track') == 'examining'"),
                            "\nversion: 1\n", "\nversion: 2\n"))
            .empty());
  // The state count_tracks() counts is checked the same way.
  CHECK(db.refusal(replaced(base, "track_outcome('medical-track') == 'fit'",
                            "count_tracks('medical-track', 'exmaining') == 0"))
            .find("'exmaining' is not a state of 'medical-track', so track_state('medical-track') is never "
                  "'exmaining'; did you mean 'examining'?") != std::string::npos);
  const std::string in_list = db.refusal(replaced(base, "track_outcome('medical-track') == 'fit'",
                                                 "track_state('medical-track') in ['examining', 'gone']"));
  INFO(in_list);
  CHECK(in_list.find("'gone' is not a state of 'medical-track', so track_state('medical-track') is never 'gone'; "
                  "it has: examining, fit, referred_to_hospital") != std::string::npos);
}

TEST_CASE("sop paths: the tracks a step opens", "[tracks][paths]") {
  ProcedurePtr p = expect_procedure(load_procedure_file(tracks_file("victim-care")));
  const PathList paths = procedure_paths(*p);
  REQUIRE(!paths.paths.empty());
  const PathStep& first = paths.paths[0].steps.at(0);
  CHECK(p->events[first.event] == "start_services");
  CHECK(first.opens ==
        std::vector<std::string>{"medical-track", "psychosocial-track", "legal-track", "tracing-track"});
  CHECK(paths.paths[0].steps.at(1).opens.empty());
  CHECK(paths_as_tests(*p, paths, "victim-care.yaml")
            .find("expect: {state: in_services, opened: [medical-track, psychosocial-track, legal-track, "
                  "tracing-track]}") != std::string::npos);
}
