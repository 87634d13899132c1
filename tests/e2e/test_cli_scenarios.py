"""sopir sop test / sop paths: output, exit codes, --json, --min-coverage, --as-tests."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

PROCEDURE = """\
sop: tiny-review
version: 1
title: Tiny review
roles: [worker, lead]
fields:
  note: {type: string, min: 3}
  score: {type: int, min: 0, max: 10}
states:
  start: {initial: true}
  review: {deadline: 2d, on_deadline: remind}
  done: {terminal: true}
transitions:
  - {event: submit, from: start, to: review, roles: [worker], requires: [score]}
  - {event: accept, from: review, to: done, roles: [lead], when: score > 0, distinct_from: [submit]}
  - {event: send_back, from: review, to: start, roles: [lead], reason: required}
  - {event: remind, from: review, to: review, roles: [lead]}
open:
  requires: [note]
"""

HEADER = """\
procedure: review.yaml
clock: 2026-03-02T08:00:00Z
staff:
  - {id: wati, name: Wati Contoh, roles: [worker]}
  - {id: lina, name: Lina Contoh, roles: [lead]}
scenarios:
"""

PASSING = HEADER + """\
  - name: accepted after a reminder
    open: {as: wati, set: {note: abc}}
    steps:
      - {event: submit, as: wati, set: {score: 4}, expect: {due: 2026-03-04T08:00:00Z}}
      - {tick: 2026-03-04T08:00:00Z, expect: {fired: remind}}
      - {event: accept, as: lina, expect: {state: done, status: closed}}
"""

FAILING = PASSING + """\
  - name: wrong expectation
    open: {as: wati, set: {note: abc}}
    steps:
      - {event: submit, as: wati, set: {score: 0}}
      - {event: accept, as: lina, expect: {refused: role}}
"""


class ScenarioCommands(SopirTest):
    publish = False

    def setUp(self):
        super().setUp()
        self.write("review.yaml", PROCEDURE)

    def test_passing_file_with_coverage(self):
        path = self.write("review.test.yaml", PASSING)
        r = self.ok("sop", "test", path)
        self.assertIn("ok    accepted after a reminder", r.out)
        self.assertIn("coverage: 4/6 (66.7%)", r.out)
        self.assertIn("send_back: review -> start (line 15)", r.out)
        self.assertIn("when score > 0 was never false", r.out)
        # A guard no step tried at all is said to be so.
        only = self.write("submit-only.test.yaml", HEADER + "  - name: submitted only\n"
                          "    open: {as: wati, set: {note: abc}}\n"
                          "    steps:\n      - {event: submit, as: wati, set: {score: 4}}\n")
        self.assertIn("accept: review -> done (line 14): when score > 0 was never tried (neither true nor false)\n",
                      self.ok("sop", "test", only).out)
        r = self.fails(1, "sop", "test", path, "--min-coverage", "70")
        self.assertIn("coverage: 4/6 (66.7%)\n", r.out)
        self.assertNotIn("below", r.out)  # said once, on stderr
        self.assertEqual(r.err, "%s: coverage 66.7%% is below the minimum 70.0%%\n" % path)
        r = self.ok("sop", "test", path, "--min-coverage", "60")
        self.assertIn("coverage: 4/6 (66.7%), at least 60.0%\n", r.out)
        self.assertFalse(os.path.exists(self.db))

    def test_failure_is_reported_with_the_step(self):
        path = self.write("review.test.yaml", FAILING)
        r = self.fails(1, "sop", "test", path)
        self.assertIn("FAIL  wrong expectation (line 13)", r.out)
        self.assertIn("step 2 (line 17): {event: accept, as: lina, expect: {refused: role}}", r.out)
        self.assertIn("expected refused: role, got refused: guard: the rule for 'accept' does not hold",
                      r.out)
        self.assertEqual(r.out.count("1 failed"), 1)
        self.assertEqual(r.err, "%s: 1 scenario(s) failed\n" % path)
        doc = self.fails(1, "sop", "test", path, "--json").json()
        self.assertFalse(doc["ok"])
        self.assertEqual(doc["failed"], 1)
        failed = doc["files"][0]["scenarios"][1]
        self.assertEqual(failed["step"], 2)
        self.assertFalse(failed["ok"])
        self.assertEqual(doc["files"][0]["coverage"]["total"], 6)
        # In Indonesian the refusal quoted is Indonesian too, as the lines around it.
        r = self.fails(1, "--lang", "id", "sop", "test", path)
        self.assertIn("diharapkan ditolak: role, ternyata ditolak: guard: aturan untuk 'accept'", r.out)
        self.assertNotIn("does not hold", r.out)

    def test_malformed_file_is_located(self):
        path = self.write("review.test.yaml", HEADER + "  - name: x\n    opne: {as: wati}\n")
        r = self.fails(1, "sop", "test", path)
        self.assertIn("review.test.yaml:8:5: error: unknown key 'opne' in a scenario; did you mean 'open'?",
                      r.err)
        # That the file has errors is said once: on stderr, after them.
        self.assertEqual(r.out, "")
        self.assertEqual(r.err.count("has errors"), 1)
        self.assertTrue(r.err.endswith("\n%s: the test file has errors\n" % path), r.err)
        r = self.fails(1, "sop", "test", os.path.join(self.dir, "nothing.test.yaml"))
        self.assertIn("cannot read scenario file", r.err)

    def test_an_empty_or_flat_test_file_says_how_a_test_file_starts(self):
        empty = self.write("empty.test.yaml", "# nothing yet\n")
        r = self.fails(1, "sop", "test", empty)
        self.assertEqual(r.err, "%s: error: the file holds no scenario tests (it is empty or only comments); "
                                "expected a map starting with 'procedure:' (the procedure file it tests) and "
                                "holding 'scenarios:'\n%s: the test file has errors\n" % (empty, empty))
        flat = self.write("flat.test.yaml", "- review.yaml\n")
        r = self.fails(1, "sop", "test", flat)
        self.assertIn("flat.test.yaml:1:1: error: the top level is a list; a scenario test file is a map of keys "
                      "like procedure:, staff:, scenarios:\n", r.err)

    def test_a_procedure_given_in_place_of_its_tests_is_refused_once(self):
        procedure = os.path.join(self.dir, "review.yaml")
        said = ("{0}:1:1: error: this is a procedure ('sop:' at the top), not a scenario test file: a test file "
                "starts with 'procedure:', naming the procedure file it tests{1}\n"
                "sop: tiny-review\n^\n"
                "{0}: the test file has errors\n")
        r = self.fails(1, "sop", "test", procedure)
        self.assertEqual(r.err, said.format(procedure, ""))
        self.assertEqual(r.out, "")
        # With its test file beside it, that file is named.
        tests = self.write("review.test.yaml", PASSING)
        r = self.fails(1, "sop", "test", procedure)
        self.assertEqual(r.err, said.format(procedure, "; the test file beside it is " + tests))
        r = self.fails(1, "--lang", "id", "sop", "test", procedure)
        self.assertEqual(r.err, "{0}:1:1: kesalahan: ini prosedur ('sop:' di tingkat teratas), bukan berkas skenario "
                                "uji: berkas uji diawali 'procedure:', yang menyebut berkas prosedur yang diujinya; "
                                "berkas uji di sampingnya: {1}\nsop: tiny-review\n^\n"
                                "{0}: berkas uji mengandung kesalahan\n".format(procedure, tests))
        # A test file with a stray sop: key is still read as a test file.
        stray = self.write("stray.test.yaml", "sop: tiny-review\n" + PASSING)
        r = self.fails(1, "sop", "test", stray)
        self.assertIn("unknown key 'sop' in a scenario file", r.err)

    def test_a_test_file_given_to_publish_is_refused_once_and_nothing_published(self):
        # `sop publish workflows/*.yaml` takes the scenario tests beside the procedures too.
        self.ok("init", "--admin", "admin", "--name", "Admin Contoh")
        tests = self.write("review.test.yaml", PASSING)
        procedure = os.path.join(self.dir, "review.yaml")
        said = ("{0}:1:1: error: this is a scenario test file ('procedure:' at the top), not a procedure: "
                "a procedure starts with 'sop:'; the procedure it tests is review.yaml\n"
                "procedure: review.yaml\n^\n").format(tests)
        r = self.refused_unchanged(1, "--as", "admin", "sop", "publish", procedure, tests)
        self.assertEqual(r.err, "sopir: refused: {0}: 1 error(s) in procedure:\n{1}".format(tests, said))
        self.assertEqual(r.out, "")
        r = self.fails(1, "sop", "validate", tests)
        self.assertIn(said, r.err)
        self.assertNotIn("unknown key", r.err)
        r = self.fails(1, "--lang", "id", "sop", "validate", tests)
        self.assertIn("{0}:1:1: kesalahan: ini berkas skenario uji ('procedure:' di tingkat teratas), bukan prosedur: "
                      "prosedur diawali 'sop:'; prosedur yang diujinya: review.yaml\n".format(tests), r.err)
        # A procedure with a stray procedure: key is still read as a procedure.
        stray = self.write("stray.yaml", PROCEDURE + "procedure: review.yaml\n")
        r = self.fails(1, "sop", "validate", stray)
        self.assertIn("unknown key 'procedure' in the procedure", r.err)

    def test_min_coverage_takes_a_percentage(self):
        path = self.write("review.test.yaml", PASSING)
        for bad in ("abc", "101", "-5", "", "1e2", "50.5.5"):
            r = self.fails(2, "sop", "test", path, "--min-coverage", bad)
            self.assertEqual(r.err, "sopir: error: --min-coverage takes a percentage from 0 to 100, e.g. 90; "
                                    "got '%s'\n" % bad)
            self.assertEqual(r.out, "")
        r = self.fails(2, "--lang", "id", "sop", "test", path, "--min-coverage", "abc")
        self.assertIn("--min-coverage menerima persentase dari 0 sampai 100", r.err)
        self.ok("sop", "test", path, "--min-coverage", "60")
        self.ok("sop", "test", path, "--min-coverage", "66.5%")
        r = self.fails(1, "sop", "test", path, "--min-coverage", "100")
        self.assertIn("below the minimum 100.0%", r.err)

    def test_paths_and_as_tests(self):
        procedure = os.path.join(self.dir, "review.yaml")
        r = self.ok("sop", "paths", procedure)
        self.assertIn("3 path(s) from 'start'", r.out)
        self.assertIn("1. start --submit--> review --accept--> done\n", r.out)
        self.assertIn("--send_back--> start (again) --submit--> review (again) --accept--> done  [loop]",
                      r.out)
        doc = self.ok("sop", "paths", procedure, "--json").json()
        self.assertEqual(len(doc["paths"]), 3)
        self.assertTrue(doc["paths"][2]["loop"])
        generated = self.ok("sop", "paths", procedure, "--as-tests").out
        path = self.write("review.test.yaml", generated)
        r = self.ok("sop", "test", path)
        self.assertIn("3 scenario(s): 3 passed, 0 failed", r.out)


if __name__ == "__main__":
    main()
