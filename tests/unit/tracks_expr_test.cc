// Joins over tracks in guards: all_tracks_closed(), any_track_open(),
// track_state('sop'), track_outcome('sop'), read from the linked cases the
// caller puts in the context (decide() stays pure), with their messages.
#include <catch2/catch.hpp>

#include "lang/expr/expr.h"

namespace sopir {
namespace {

const std::vector<FieldDef> kNoFields;

std::shared_ptr<const Expr> guard(const std::string& text) {
  ParsedExpr p = parse_expr(text, kNoFields, Type::kBool);
  INFO(text << (p.errors.empty() ? "" : ": " + p.errors[0].message));
  REQUIRE(p.expr);
  return p.expr;
}

std::string first_error(const std::string& text) {
  ParsedExpr p = parse_expr(text, kNoFields, Type::kBool);
  REQUIRE_FALSE(p.errors.empty());
  return std::to_string(p.errors[0].offset) + ": " + p.errors[0].message;
}

LinkedCase track(const std::string& id, const std::string& sop, Status status, const std::string& state,
                 const std::string& reason = "") {
  return linked_case(id, sop, status, state, reason);
}

GuardResult run(const std::string& text, const std::vector<LinkedCase>& tracks) {
  const std::vector<Value> no_values;
  EvalContext context;
  context.fields = &no_values;
  context.now = DateTime{0};
  context.children = &tracks;
  auto e = guard(text);
  GuardResult r = evaluate_guard(*e, kNoFields, context);
  CHECK(guard_holds(*e, context) == r.value);
  return r;
}

}  // namespace

TEST_CASE("tracks: all_tracks_closed needs every opened case closed, and at least one", "[tracks]") {
  CHECK_FALSE(run("all_tracks_closed()", {}).value);
  CHECK(run("all_tracks_closed()", {}).explanation == "all_tracks_closed() is false (no track opened yet)");
  const std::vector<LinkedCase> open = {track("AAA-111", "medical-track", Status::kClosed, "fit"),
                                        track("BBB-222", "legal-track", Status::kOnHold, "reported"),
                                        track("CCC-333", "tracing-track", Status::kActive, "working")};
  const GuardResult r = run("all_tracks_closed()", open);
  CHECK_FALSE(r.value);
  CHECK(r.explanation ==
        "all_tracks_closed() is false (open: legal-track BBB-222 (reported), tracing-track CCC-333 (working))");
  CHECK(run("any_track_open()", open).value);
  const std::vector<LinkedCase> closed = {track("AAA-111", "medical-track", Status::kClosed, "fit"),
                                          track("BBB-222", "legal-track", Status::kClosed, "done")};
  CHECK(run("all_tracks_closed()", closed).value);
  CHECK_FALSE(run("any_track_open()", closed).value);
  CHECK(run("not any_track_open()", closed).value);
  CHECK(run("any_track_open()", closed).explanation == "any_track_open() is false (every track closed)");
}

TEST_CASE("tracks: track_state and track_outcome read the newest case of a procedure", "[tracks]") {
  const std::vector<LinkedCase> tracks = {
      track("AAA-111", "medical-track", Status::kClosed, "referred_to_hospital"),
      track("BBB-222", "legal-track", Status::kClosed, "advising", "withdrawn"),
      track("CCC-333", "medical-track", Status::kActive, "examining")};
  CHECK(run("track_state('medical-track') == 'examining'", tracks).value);
  // Open: no outcome yet (missing), so == compares with null.
  CHECK(run("track_outcome('medical-track') == null", tracks).value);
  // Closed by `case close` with a reason: the reason; ended in a terminal state: that state.
  CHECK(run("track_outcome('legal-track') == 'withdrawn'", tracks).value);
  CHECK(run("track_outcome('medical-track') == null", {tracks[0]}).value == false);
  CHECK(run("track_outcome('medical-track') == 'referred_to_hospital'", {tracks[0]}).value);
  CHECK(run("track_state('tracing-track') == null", tracks).value);
  const GuardResult r = run("track_state('legal-track') in ['reported', 'done']", tracks);
  CHECK(r.explanation ==
        "track_state('legal-track') in ['reported', 'done'] is false (track_state('legal-track') = advising)");
}

TEST_CASE("tracks: join functions are checked like the others", "[tracks]") {
  CHECK(first_error("all_tracks_closed('x')") ==
        "18: all_tracks_closed() takes no arguments; it reads every case this one opened");
  CHECK(first_error("track_state(medical)") ==
        "12: track_state() takes one procedure id in quotes, like track_state('tppo-victim-care')");
  CHECK(first_error("track_state('medical-track') > 3") ==
        "31: cannot compare track_state('medical-track') (string) with 3 (int)");
  CHECK(first_error("any_tracks_open()") == "0: unknown function 'any_tracks_open'; did you mean 'any_track_open'?");
  CHECK(to_string(*guard("all_tracks_closed()&&track_outcome(\"legal-track\")=='done'"), kNoFields) ==
        "all_tracks_closed() and track_outcome('legal-track') == 'done'");
  CHECK(children_read(*guard("has_child('a') or track_state('b') == 'x' or all_tracks_closed()")) ==
        std::vector<std::string>{"a", "b"});
  CHECK(reads_tracks(*guard("all_tracks_closed()")));
  CHECK_FALSE(reads_tracks(*guard("true")));
}

}  // namespace sopir

namespace sopir {

TEST_CASE("tracks: count_tracks counts a procedure's cases, or those in one state", "[tracks]") {
  const std::vector<LinkedCase> referrals = {track("AAA-111", "referral", Status::kActive, "in_progress"),
                                             track("BBB-222", "referral", Status::kClosed, "rejected"),
                                             track("CCC-333", "referral", Status::kActive, "accepted"),
                                             track("DDD-444", "transfer", Status::kActive, "in_progress")};
  CHECK(run("count_tracks('referral') == 3", referrals).value);
  CHECK(run("count_tracks('referral', 'in_progress') == 1", referrals).value);
  CHECK(run("count_tracks('referral', 'accepted') >= 1", referrals).value);
  CHECK(run("count_tracks('transfer', 'accepted') == 0", referrals).value);
  CHECK(run("count_tracks('medical-track') == 0", referrals).value);
  CHECK(run("count_tracks('referral') == 0", {}).value);
  // A false guard shows the count it saw.
  const GuardResult r = run("count_tracks('referral', 'in_progress') == 0", referrals);
  CHECK_FALSE(r.value);
  CHECK(r.explanation == "count_tracks('referral', 'in_progress') == 0 is false "
                         "(count_tracks('referral', 'in_progress') = 1)");
}

TEST_CASE("tracks: count_tracks takes a procedure id and optionally a state id, in quotes", "[tracks]") {
  CHECK(first_error("count_tracks() == 0") ==
        "0: count_tracks() takes a procedure id in quotes and, optionally, a state id in quotes, like "
        "count_tracks('referral') or count_tracks('referral', 'accepted')");
  CHECK(first_error("count_tracks(referral) == 0").find("count_tracks() takes a procedure id") != std::string::npos);
  CHECK(first_error("count_tracks('referral', 3) == 0").find("count_tracks() takes") != std::string::npos);
  CHECK(first_error("count_tracks('referral', 'a', 'b') == 0").find("count_tracks() takes") != std::string::npos);
  // It is a number: comparing it with text is a type error.
  CHECK_FALSE(parse_expr("count_tracks('referral') == 'x'", kNoFields, Type::kBool).errors.empty());
}

}  // namespace sopir
