#!/usr/bin/env python3
"""`audit case` on a case whose log or row was changed behind sopir's back
(docs/AUDIT.md, "What happened to this person?").

A WARNING that `audit verify` reports as a finding too (the case row
disagrees with its log, a step number jumps, a step the rules would refuse)
makes `audit case` exit 1, verify's status for findings, with a line on
stderr saying so; its CSV and JSON lines carry each one as a row of kind
`warning` after the log rows, so a script reading them sees it."""
import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main, sqlite_only  # noqa: E402

COLUMNS = ("seq,case_id,case_seq,sop_id,procedure_version,kind,event,from_state,to_state,from_status,"
           "to_status,actor,role,occurred_at,recorded_at,due_at,reason,note,inputs,changes,linked_case,rule,"
           "hash").split(",")


class AuditCaseFindings(SopirTest):
    def setUp(self):
        super().setUp()
        self.case = self.open_case()
        self.ok("--as", "siti", "case", "advance", self.case, "review")
        self.ok("--as", "tono", "case", "advance", self.case, "approve", "--set", "approved_quantity=5")

    def rows(self, *args):
        r = self.run_sopir("audit", "case", self.case, "--format", "csv", *args)
        return r, [dict(zip(COLUMNS, row)) for row in csv.reader(io.StringIO(r.out.lstrip("\ufeff")))][1:]

    def lines(self):
        r = self.run_sopir("audit", "case", self.case, "--format", "jsonl")
        return r, [json.loads(line) for line in r.out.splitlines()]

    def findings_said(self, r, count):
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.err, "sopir: warning: %d warning(s) in the output are findings `sopir audit verify` "
                                "reports too (in CSV and JSON lines: the rows of kind 'warning'); exit status 1\n"
                         % count)

    def test_a_clean_case_exits_0_and_has_no_warning_rows(self):
        r = self.ok("audit", "case", self.case)
        self.assertNotIn("WARNING", r.out)
        self.assertEqual(r.err, "")
        r, rows = self.rows()
        self.assertEqual((r.code, r.err), (0, ""))
        self.assertEqual([row["kind"] for row in rows], ["open", "procedure", "procedure"])
        r, lines = self.lines()
        self.assertEqual((r.code, r.err), (0, ""))
        self.assertEqual(len(lines), 3)

    def test_a_case_row_changed_is_a_finding_in_every_format(self):
        self.sql("UPDATE cases SET state = 'delivered' WHERE id = '%s'" % self.case)
        before = self.dump()
        message = ("case %s's row disagrees with its log (changed behind the engine's back): state is "
                   "'delivered' but its log ends in 'approved'" % self.case)
        r = self.run_sopir("audit", "case", self.case)
        self.findings_said(r, 1)
        self.assertIn("\nWARNING:  the case row above disagrees with its log (changed behind sopir's back): "
                      "state is 'delivered' but its log ends in 'approved'; ", r.out)
        r, rows = self.rows()
        self.findings_said(r, 1)
        self.assertEqual([row["kind"] for row in rows], ["open", "procedure", "procedure", "warning"])
        self.assertEqual(rows[-1], dict({c: "" for c in COLUMNS}, case_id=self.case, kind="warning",
                                        event="case-row", note=message))
        r, lines = self.lines()
        self.findings_said(r, 1)
        self.assertEqual(lines[-1], dict({c: "" for c in COLUMNS}, seq=None, case_seq=None, changes=[],
                                         case_id=self.case, kind="warning", event="case-row", note=message))
        # The same finding as verify's.
        verify = self.run_sopir("--json", "audit", "verify").json()
        self.assertIn(message, [f["message"] for f in verify["findings"] if f["kind"] == "case-row"])
        self.assertEqual(before, self.dump(), "an audit read wrote to the database")

    @sqlite_only("the log is changed by dropping and restoring SQLite's triggers")
    def test_a_step_taken_out_or_one_the_rules_refuse_is_a_finding(self):
        import sqlite3
        con = sqlite3.connect(self.db)
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND tbl_name = 'transitions'").fetchall()
        for name, _ in triggers:
            con.execute("DROP TRIGGER " + name)
        # The approval by siti, who reviewed it (four-eyes).
        con.execute("UPDATE transitions SET record = json_set(record, '$.actor', 'siti') "
                    "WHERE case_id = ? AND case_seq = 3", (self.case,))
        for _, sql in triggers:
            con.execute(sql)
        con.commit()
        approve_seq, = con.execute("SELECT seq FROM transitions WHERE case_id = ? AND case_seq = 3",
                                   (self.case,)).fetchone()
        con.close()
        r = self.run_sopir("audit", "case", self.case)
        self.findings_said(r, 1)
        self.assertIn("\n   WARNING:  the procedure would not have allowed this step: four-eyes rule:", r.out)
        r, rows = self.rows()
        self.findings_said(r, 1)
        warning = rows[-1]
        self.assertEqual((warning["seq"], warning["case_seq"], warning["kind"], warning["event"]),
                         (str(approve_seq), "3", "warning", "step-refused"))
        self.assertTrue(warning["note"].startswith(
            "log row %d (case %s step 3, 'approve' by siti as supervisor) would not have been allowed by "
            "procedure aid version 1: four-eyes rule: " % (approve_seq, self.case)), warning["note"])
        r, lines = self.lines()
        self.findings_said(r, 1)
        self.assertEqual((lines[-1]["seq"], lines[-1]["case_seq"], lines[-1]["event"]),
                         (approve_seq, 3, "step-refused"))

        # The review taken out of the log: the approval's number jumps.
        con = sqlite3.connect(self.db)
        for name, _ in triggers:
            con.execute("DROP TRIGGER " + name)
        con.execute("DELETE FROM transitions WHERE case_id = ? AND case_seq = 2", (self.case,))
        for _, sql in triggers:
            con.execute(sql)
        con.commit()
        con.close()
        r = self.run_sopir("audit", "case", self.case)
        self.assertIn("\n   WARNING:  the case's log jumps here from step 1 to step 3: ", r.out)
        r, rows = self.rows()
        warnings = [row for row in rows if row["kind"] == "warning"]
        self.findings_said(r, len(warnings))
        self.assertIn(("case-seq-gap", str(approve_seq), "3",
                       "case %s jumps from step 1 to step 3 at log row %d: its steps in between are missing"
                       % (self.case, approve_seq)),
                      [(w["event"], w["seq"], w["case_seq"], w["note"]) for w in warnings])
        self.assertEqual([row["kind"] for row in rows[:2]], ["open", "procedure"])


if __name__ == "__main__":
    main()
