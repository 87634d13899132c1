"""Moving running cases to a new version, end to end (issue #17 items 3-4):
a saved plan is proposed by one policy staff member, approved by a second
(the proposer's approval refused), applied in batches (a case changed since
the plan skipped, an unapproved or edited plan refused, nothing written), and
`audit verify` replays the moved cases clean, switching rules at each
migration row. A killed apply leaves whole batches only; applying again
moves the rest. Runs on SQLite and PostgreSQL."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main, sopir_bin  # noqa: E402
from test_cli_migrate import NEW, OLD  # noqa: E402


class Apply(SopirTest):
    """Cases of intake version 1 in every state a case can be in; version 2
    moves them (by name, by a renamed state, by a split)."""

    def setUp(self):
        super().setUp()
        self.ok("--as", "admin", "staff", "add", "pia", "--name", "Pia Contoh", "--role", "policy")
        self.ok("--as", "admin", "sop", "publish", self.write("v1.yaml", OLD))
        self.cases = {}
        for name, age, risk, steps in (("arrived", 30, "low", []), ("waiting", 40, "low", ["wait"]),
                                       ("child", 12, "high", ["assess"]), ("adult", 45, "high", ["assess"]),
                                       ("closed", 50, "high", ["assess", "close"])):
            case = self.ok("--as", "budi", "case", "open", "intake", "--set", "age=%d" % age,
                           "--set", "risk=" + risk).out.strip()
            for step in steps:
                self.ok("--as", "budi", "case", "advance", case, step)
            self.cases[name] = case
        self.ok("--as", "admin", "sop", "publish", self.write("v2.yaml", NEW))

    def plan(self, name="plan.json"):
        r = self.ok("migrate", "plan", "intake", "--to", "2", "--output", name)
        with open(os.path.join(self.dir, name), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        self.assertIn(digest, r.out)
        return digest

    def migration_rows(self):
        return int(self.query("SELECT count(*) FROM log_view WHERE kind = 'migration'")[0][0])

    def verify_clean(self):
        r = self.ok("audit", "verify")
        self.assertIn("clean", r.out)
        return r

    def test_propose_approve_apply_and_verify(self):
        digest = self.plan()
        r = self.ok("--as", "admin", "migrate", "propose", "plan.json")
        self.assertIn("proposed plan %s: 'intake' version(s) 1 to version 2, 4 case(s), 4 move" % digest, r.out)
        # Four-eyes: the proposer cannot approve, and nothing is written.
        r = self.refused_unchanged(1, "--as", "admin", "migrate", "approve", digest)
        self.assertIn("admin proposed plan %s: a second policy staff member must approve it (four-eyes)" % digest,
                      r.err)
        # Not policy staff: refused.
        r = self.refused_unchanged(1, "--as", "budi", "migrate", "approve", digest[:10])
        self.assertIn("budi does not hold the role policy (roles: shelter_staff)", r.err)
        r = self.ok("--as", "pia", "migrate", "approve", digest[:10])
        self.assertIn("approved plan %s ('intake' version(s) 1 to version 2), proposed by admin" % digest, r.out)
        # The records keep the hash, not the file's name: the command to
        # apply it says which file FILE is by what it holds, as migrate
        # list shows it.
        with open(os.path.join(self.dir, "plan.json"), encoding="utf-8") as f:
            made_at = json.load(f)["made_at"]
        self.assertIn("; apply it with: sopir migrate apply FILE, FILE being the plan file proposed as %s "
                      "(made at %s, 4 of 4 case(s) moving; sopir migrate list shows it as %s)\n"
                      % (digest, made_at, digest[:16]), r.out)
        listed = self.ok("migrate", "list").out.splitlines()
        self.assertTrue(listed[1].startswith(digest[:16]), listed)
        # Written to a pipe (100 columns), the headings and the times stay
        # whole; a cell wraps at a space.
        self.assertEqual(listed[0].split(), ["Plan", "Procedure", "Versions", "Moving/cases", "Proposed", "Approved"])
        self.assertEqual(listed[1].split()[2:], ["1", "->", "2", "4/4", "admin", "pia"])
        self.assertRegex(listed[2].strip(), r"^\S+Z +\S+Z$")
        self.refused_unchanged(4, "--as", "pia", "migrate", "approve", digest)
        listed = self.ok("--json", "migrate", "list").json()
        self.assertEqual([(p["plan"], p["proposed_by"], p["approved_by"]) for p in listed],
                         [(digest, "admin", "pia")])

        r = self.ok("--as", "admin", "migrate", "apply", "plan.json", "--batch-size", "2")
        self.assertIn("plan %s: 4 case(s) moved in 2 batch(es); 0 already moved by an earlier apply; "
                      "0 skipped (changed since the plan); 0 could not move; 0 stay by the plan" % digest, r.out)
        self.assertEqual(self.migration_rows(), 4)
        states = {name: self.ok("--json", "case", "list", "--sop", "intake").json() for name in ["all"]}["all"]
        by_id = {c["id"]: c for c in (states["cases"] if isinstance(states, dict) else states)}
        self.assertEqual(by_id[self.cases["waiting"]]["state"], "arrived")
        self.assertEqual(by_id[self.cases["child"]]["state"], "child_assessment")
        self.assertEqual(by_id[self.cases["adult"]]["state"], "adult_assessment")
        self.assertEqual(by_id[self.cases["closed"]]["state"], "closed")
        # The moved cases run under version 2 from now on, and the log replays clean.
        self.ok("--as", "budi", "case", "advance", self.cases["child"], "finish")
        self.verify_clean()
        story = self.ok("audit", "case", self.cases["waiting"]).out
        self.assertIn("moved from version 1 to version 2 by plan %s" % digest[:12], story)
        report = self.ok("audit", "report", "--sop", "intake").out
        self.assertIn("Cases per version: version 1: 1 (0 running), version 2: 4 (3 running)", report)
        # Applying again moves nothing twice.
        r = self.ok("--as", "admin", "migrate", "apply", "plan.json")
        self.assertIn("0 case(s) moved", r.out)
        self.assertEqual(self.migration_rows(), 4)
        # A new plan moves nothing (the closed case cannot): proposing it is refused.
        self.plan("again.json")
        r = self.refused_unchanged(1, "--as", "admin", "migrate", "propose", "again.json")
        self.assertIn("the plan moves no case of 'intake' to version 2 (", r.err)
        self.assertIn("so there is nothing to propose; nothing was written\n", r.err)

    def test_a_case_changed_after_the_plan_is_skipped(self):
        digest = self.plan()
        self.ok("--as", "admin", "migrate", "propose", "plan.json")
        self.ok("--as", "pia", "migrate", "approve", digest)
        self.ok("--as", "budi", "case", "advance", self.cases["arrived"], "assess")
        r = self.ok("--as", "admin", "migrate", "apply", "plan.json")
        self.assertIn("3 case(s) moved", r.out)
        self.assertIn("1 skipped (changed since the plan)", r.out)
        # Told by its history, not by a "version" a reader takes for the procedure's.
        self.assertIn("%s: not moved: the case changed since the plan was made (its history has 2 entries now, "
                      "1 when the plan read it): make a new plan to move it" % self.cases["arrived"], r.err)
        r = self.ok("--lang", "id", "--as", "admin", "migrate", "apply", "plan.json")
        self.assertIn("%s: tidak dipindahkan: kasus berubah sejak rencana dibuat (riwayatnya kini 2 entri, "
                      "1 saat rencana membacanya)" % self.cases["arrived"], r.err)
        row = self.query("SELECT state, sha256 FROM cases WHERE id = '%s'" % self.cases["arrived"])[0]
        self.assertEqual(row[0], "assessment")
        self.verify_clean()

    def test_an_unapproved_or_edited_plan_is_refused_and_nothing_written(self):
        digest = self.plan()
        r = self.refused_unchanged(1, "--as", "admin", "migrate", "apply", "plan.json")
        self.assertIn("plan %s was never proposed" % digest, r.err)
        self.ok("--as", "admin", "migrate", "propose", "plan.json")
        self.refused_unchanged(4, "--as", "admin", "migrate", "propose", "plan.json")
        r = self.refused_unchanged(1, "--as", "admin", "migrate", "apply", "plan.json")
        self.assertIn("plan %s was proposed by admin but is not approved yet" % digest, r.err)
        self.ok("--as", "pia", "migrate", "approve", digest)
        # Edited by hand: one case's landing changed, still a well-formed plan.
        path = os.path.join(self.dir, "plan.json")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        edited = text.replace('"to_state":"child_assessment"', '"to_state":"adult_assessment"', 1)
        self.assertNotEqual(text, edited)
        self.write("edited.json", edited)
        r = self.refused_unchanged(1, "--as", "admin", "migrate", "apply", "edited.json")
        self.assertIn("the plan file was changed after it was proposed", r.err)
        self.assertIn(digest, r.err)
        self.assertEqual(self.migration_rows(), 0)

    def test_bad_input_is_refused_clearly_and_nothing_written(self):
        digest = self.plan()
        self.ok("migrate", "plan", "intake", "--to", "2", "--output", "plan.csv")
        self.write("notjson.json", "{not json")
        self.write("other.json", json.dumps({"format": "something-else"}))
        r = self.refused_unchanged(2, "--as", "admin", "migrate", "propose", "plan.csv")
        self.assertIn("this is not a migration plan", r.err)
        r = self.refused_unchanged(2, "--as", "admin", "migrate", "propose", "notjson.json")
        self.assertIn("this is not a migration plan", r.err)
        r = self.refused_unchanged(2, "--as", "admin", "migrate", "propose", "other.json")
        self.assertIn("its format is 'something-else', expected sopir-migration-plan-1", r.err)
        r = self.refused_unchanged(2, "--lang", "id", "--as", "admin", "migrate", "propose", "other.json")
        self.assertIn("ini bukan rencana migrasi sopir ini: formatnya 'something-else', seharusnya "
                      "sopir-migration-plan-1", r.err)
        r = self.refused_unchanged(3, "--as", "admin", "migrate", "propose", "missing.json")
        self.assertIn("no file missing.json", r.err)
        r = self.refused_unchanged(3, "--as", "pia", "migrate", "approve", "0123456789abcdef")
        self.assertIn("no proposed plan has the hash 0123456789abcdef", r.err)
        r = self.refused_unchanged(2, "--as", "pia", "migrate", "approve", "xyz")
        self.assertIn("'xyz' is not a plan's hash", r.err)
        r = self.refused_unchanged(2, "--as", "admin", "migrate", "apply", "plan.json", "--batch-size", "0")
        self.assertIn("--batch-size takes a whole number from 1 to 100000; got '0'", r.err)
        # A plan for a version this database does not have (made elsewhere).
        with open(os.path.join(self.dir, "plan.json"), encoding="utf-8") as f:
            doc = f.read()
        self.write("elsewhere.json", doc.replace('"to_version": 2', '"to_version": 7'))
        r = self.refused_unchanged(3, "--as", "admin", "migrate", "propose", "elsewhere.json")
        self.assertIn("'intake' has no version 7 published in this database (published: 1, 2); publish its file "
                      "first: sopir sop publish FILE\n", r.err)
        r = self.refused_unchanged(1, "--lang", "id", "--as", "admin", "migrate", "apply", "plan.json")
        self.assertIn("rencana %s belum pernah diusulkan" % digest, r.err)


class KilledApply(SopirTest):
    """A killed apply leaves whole batches: apply is killed (-9) while it
    pauses between batches (the test hook SOPIR_TEST_MIGRATE_PAUSE_MS)."""

    def test_a_killed_apply_leaves_whole_batches_and_applying_again_finishes(self):
        self.ok("--as", "admin", "staff", "add", "pia", "--name", "Pia Contoh", "--role", "policy")
        self.ok("--as", "admin", "sop", "publish", self.write("v1.yaml", OLD))
        rows = ["age,risk"] + ["%d,%s" % (10 + i % 60, "low" if i % 2 else "high") for i in range(60)]
        self.write("arrivals.csv", "\n".join(rows) + "\n")
        self.ok("--as", "budi", "case", "import", "arrivals.csv", "--sop", "intake")
        self.ok("--as", "admin", "sop", "publish", self.write("v2.yaml", NEW))
        self.ok("migrate", "plan", "intake", "--to", "2", "--output", "plan.json")
        with open(os.path.join(self.dir, "plan.json"), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        self.ok("--as", "admin", "migrate", "propose", "plan.json")
        self.ok("--as", "pia", "migrate", "approve", digest)
        proc = subprocess.Popen([sopir_bin(), "--as", "admin", "migrate", "apply", "plan.json", "--batch-size", "10"],
                                env=self.env({"SOPIR_TEST_MIGRATE_PAUSE_MS": "400"}), cwd=self.dir,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        moved = 0
        while time.time() < deadline:
            moved = int(self.query("SELECT count(*) FROM log_view WHERE kind = 'migration'")[0][0])
            if moved >= 20:
                break
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        # A server may still be finishing a COMMIT the killed client sent.
        time.sleep(0.5 if self.pg else 0)
        moved = int(self.query("SELECT count(*) FROM log_view WHERE kind = 'migration'")[0][0])
        self.assertGreaterEqual(moved, 20)
        self.assertLess(moved, 60, "the apply finished before it was killed")
        self.assertEqual(moved % 10, 0, "a killed apply left part of a batch: %d rows" % moved)
        on_v2 = int(self.query("SELECT count(*) FROM cases c JOIN procedures p ON p.sha256 = c.sha256 "
                               "WHERE p.version = 2")[0][0])
        self.assertEqual(on_v2, moved)
        self.ok("audit", "verify")
        r = self.ok("--as", "admin", "migrate", "apply", "plan.json", "--batch-size", "10")
        self.assertIn("%d case(s) moved" % (60 - moved), r.out)
        self.assertIn("%d already moved by an earlier apply" % moved, r.out)
        self.assertEqual(int(self.query("SELECT count(*) FROM log_view WHERE kind = 'migration'")[0][0]), 60)
        self.ok("audit", "verify")


if __name__ == "__main__":
    main()
