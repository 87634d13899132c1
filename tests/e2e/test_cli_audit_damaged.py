#!/usr/bin/env python3
"""The audit reads at the command line past a log row they cannot read, and
the log table within the width (docs/AUDIT.md "Rows that cannot be read",
docs/CLI.md "Human tables fit the terminal width").

A row whose record was edited into another shape behind the engine's back
stops none of `audit log`, `audit case` and `audit report`: each shows
everything else, names the row on stderr and, where its format has room, in
the output, and exits 1 (the status of verify's findings). The messages say
what is wrong in sopir's words, never the JSON library's."""
import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main, sqlite_only  # noqa: E402

CSV_HEADER = ("seq,case_id,case_seq,sop_id,procedure_version,kind,event,from_state,to_state,from_status,"
              "to_status,actor,role,occurred_at,recorded_at,due_at,reason,note,inputs,changes,linked_case,hash")


@sqlite_only("the damage is made by dropping and restoring SQLite's triggers")
class UnreadableRow(SopirTest):
    def setUp(self):
        super().setUp()
        self.a = self.open_case()
        self.b = self.open_case()
        self.ok("--as", "budi", "case", "advance", self.b, "review")
        self.ok("--as", "siti", "case", "advance", self.b, "reject", "--reason", "asked for elsewhere")

    def damage_opening_row(self, case_id, record=None):
        """Rewrites the case's opening row as the reviewer did: the triggers
        dropped, the record cut to three keys (or `record`), the triggers put back."""
        import sqlite3
        con = sqlite3.connect(self.db)
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND tbl_name = 'transitions'").fetchall()
        for name, _ in triggers:
            con.execute("DROP TRIGGER " + name)
        seq, = con.execute("SELECT seq FROM transitions WHERE case_id = ? AND case_seq = 1", (case_id,)).fetchone()
        con.execute("UPDATE transitions SET record = ? WHERE seq = ?",
                    (record if record is not None else
                     json.dumps({"case_id": case_id, "case_seq": 1, "kind": "open"}, separators=(",", ":")), seq))
        for _, sql in triggers:
            con.execute(sql)
        con.commit()
        con.close()
        return seq

    def problem(self, seq):
        return "log row %d is not a record sopir writes (it has no 'sha256'): it was changed behind the engine's back" % seq

    def assert_named_on_stderr(self, r, seq):
        self.assertEqual(r.code, 1, r)
        self.assertEqual(r.err.splitlines(), [
            "sopir: warning: %s; it is left out" % self.problem(seq),
            "sopir: warning: 1 log row(s) could not be read and were left out, everything else is shown; "
            "`sopir audit verify` names the damage (exit status 1)"])
        self.assertNotIn("json", r.out + r.err)
        self.assertNotIn("exception", r.out + r.err)

    def test_log_shows_every_other_row_in_each_format(self):
        clean_csv = self.ok("audit", "log", "--format", "csv").out
        clean_rows = list(csv.reader(io.StringIO(clean_csv.lstrip("\ufeff"))))
        seq = self.damage_opening_row(self.a)
        before = self.dump()

        r = self.run_sopir("audit", "log", "--format", "csv")
        self.assert_named_on_stderr(r, seq)
        rows = list(csv.reader(io.StringIO(r.out.lstrip("\ufeff"))))
        self.assertEqual(",".join(rows[0]), CSV_HEADER)
        self.assertEqual(rows, [row for row in clean_rows if row[0] != str(seq)])
        self.assertEqual(len(rows), len(clean_rows) - 1)
        self.assertIn([self.b, "3", "reject"], [row[1:3] + [row[6]] for row in rows])

        r = self.run_sopir("audit", "log", "--format", "jsonl")
        self.assert_named_on_stderr(r, seq)
        lines = [json.loads(line) for line in r.out.splitlines()]
        self.assertEqual([line["seq"] for line in lines], [int(row[0]) for row in rows[1:]])

        r = self.run_sopir("audit", "log")
        self.assert_named_on_stderr(r, seq)
        words = " ".join(r.out.split())
        self.assertIn("\n%d\n" % seq, r.out)  # the row's place, marked
        self.assertIn("WARNING: %s; the row is left out" % self.problem(seq), words)
        self.assertTrue(r.out.endswith(
            "\nWARNING: 1 log row(s) could not be read and are left out: %d; "
            "`sopir audit verify` names the damage\n" % seq), r.out)
        self.assertIn(" reject ", r.out)  # the rows after it

        # Only that case: its row named all the same.
        r = self.run_sopir("audit", "log", "--case", self.a, "--format", "csv")
        self.assert_named_on_stderr(r, seq)
        self.assertEqual(r.out.lstrip("\ufeff").splitlines(), [CSV_HEADER])
        self.assertEqual(self.run_sopir("audit", "log", "--case", self.b).code, 0)
        self.assertEqual(before, self.dump(), "an audit read wrote to the database")

    def test_a_row_damaged_so_that_it_names_no_case_is_named_too(self):
        # A row of no case is a registry row only when its kind says so: a
        # record emptied out is met as damaged, not passed over as one.
        seq = self.damage_opening_row(self.a, "{}")
        for record in ("{}", "[]", "42", "null"):
            with self.subTest(record=record):
                import sqlite3
                con = sqlite3.connect(self.db)
                triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                       "AND tbl_name = 'transitions'").fetchall()
                for name, _ in triggers:
                    con.execute("DROP TRIGGER " + name)
                con.execute("UPDATE transitions SET record = ? WHERE seq = ?", (record, seq))
                for _, sql in triggers:
                    con.execute(sql)
                con.commit()
                con.close()
                r = self.run_sopir("audit", "log", "--format", "csv")
                self.assertEqual(r.code, 1, r)
                self.assertIn("log row %d is not a record sopir writes" % seq, r.err)
                self.assertEqual(self.run_sopir("audit", "report").code, 1)

    def test_case_says_so_plainly(self):
        seq = self.damage_opening_row(self.a)
        r = self.run_sopir("audit", "case", self.a)
        self.assert_named_on_stderr(r, seq)
        self.assertIn("Case %s  procedure aid version 1\n" % self.a, r.out)
        self.assertIn("\nWARNING:  %s; the case is told without it and its steps are not checked against the "
                      "procedure; `sopir audit verify` names the damage\n" % self.problem(seq), r.out)
        r = self.run_sopir("audit", "case", self.a, "--format", "csv")
        self.assert_named_on_stderr(r, seq)
        # No readable row; a warning row names the one left out.
        self.assertEqual(r.out.lstrip("\ufeff").splitlines(), [
            CSV_HEADER.replace(",hash", ",rule,hash"),
            "%d,%s,,,,warning,record-damaged,,,,,,,,,,,%s,,,,," % (seq, self.a, self.problem(seq))])
        r = self.run_sopir("audit", "case", self.a, "--format", "jsonl")
        self.assert_named_on_stderr(r, seq)
        [line] = [json.loads(text) for text in r.out.splitlines()]
        self.assertEqual((line["seq"], line["case_id"], line["case_seq"], line["kind"], line["event"], line["note"]),
                         (seq, self.a, None, "warning", "record-damaged", self.problem(seq)))
        # Another case as before.
        r = self.ok("audit", "case", self.b)
        self.assertNotIn("WARNING", r.out)
        self.assertIn("rule:", r.out)
        self.assertEqual(r.err, "")

    def test_report_gives_the_figures_without_it(self):
        seq = self.damage_opening_row(self.a)
        r = self.run_sopir("audit", "report")
        self.assert_named_on_stderr(r, seq)
        self.assertTrue(r.out.startswith("WARNING: %s; the figures below leave it out; `sopir audit verify` names "
                                         "the damage\n\n" % self.problem(seq)), r.out)
        self.assertIn("aid", r.out)
        page = os.path.join(self.dir, "report.html")
        r = self.run_sopir("audit", "report", "--html", page)
        self.assert_named_on_stderr(r, seq)
        with open(page, encoding="utf-8") as f:
            html = f.read()
        self.assertIn('<p class="warning"><strong>WARNING: log row %d is not a record sopir writes' % seq, html)

    def test_verify_names_the_missing_key(self):
        seq = self.damage_opening_row(self.a)
        r = self.run_sopir("audit", "verify")
        self.assertEqual(r.code, 1, r)
        self.assertIn("record-damaged at row %d (case %s): %s; case %s was not replayed"
                      % (seq, self.a, self.problem(seq), self.a), r.out)
        self.assertNotIn("json", r.out)


class LogTableWidth(SopirTest):
    def test_log_table_fits_100_columns_and_keeps_its_columns_in_line(self):
        a = self.open_case()
        self.ok("--as", "budi", "case", "advance", a, "review", "--note", "checked the request with her at the desk")
        self.ok("--as", "siti", "case", "advance", a, "reject", "--reason", "the items were given by another office")
        b = self.open_case()
        self.ok("--as", "budi", "case", "hold", b, "--reason", "waiting for her documents")
        r = self.ok("audit", "log")
        lines = r.out.splitlines()
        self.assertLessEqual(max(len(line) for line in lines), 100, r.out)
        header = lines[0]
        self.assertTrue(header.startswith("seq "), header)
        columns = {name: header.index(name) for name in ("occurred_at", "case", "event", "from -> to",
                                                         "actor (role)")}
        rows = [line for line in lines if line[:1].isdigit()]
        self.assertEqual(len(rows), 5)
        for line in rows:
            self.assertIn(line[columns["case"]:columns["case"] + 7], (a, b), line)
            self.assertRegex(line[columns["occurred_at"]:], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
            for name in ("event", "from -> to", "actor (role)"):
                self.assertEqual(line[columns[name] - 1], " ", (name, line))
        # A long cell wraps within its column.
        at = next(i for i, line in enumerate(lines) if " reject " in line)
        move = columns["from -> to"]
        self.assertEqual(lines[at][move:].split("  ")[0], "reviewed -> rejected")
        self.assertEqual(lines[at + 1], " " * move + "[active -> closed]")
        self.assertIn("hold (lifecycle)", r.out)
        # The reason and note below their row, whole once the lines are joined.
        words = " ".join(r.out.split())
        self.assertIn("reason: the items were given by another office", words)
        self.assertIn("note: checked the request with her at the desk", words)
        # CSV and JSON lines as before: one line a row, every column.
        out = self.ok("audit", "log", "--format", "csv").out
        self.assertEqual(out.lstrip("\ufeff").splitlines()[0], CSV_HEADER)
        self.assertEqual(len(out.splitlines()), 6)
        lines = [json.loads(line) for line in self.ok("audit", "log", "--format", "jsonl").out.splitlines()]
        self.assertEqual(len(lines), 5)
        self.assertEqual(lines[2]["reason"], "the items were given by another office")


if __name__ == "__main__":
    main()
