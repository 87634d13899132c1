#!/usr/bin/env python3
"""Who saw what, and access requests (issue #16, items 6 and 4): every path
that shows personal data unmasked needs a reason and records it; `audit
access` lists exactly those views; `case export-personal` gives everything
held on one person, is itself recorded, and writes its file 0600. Bad input
(no reason, a role that may not see, an unknown case, a wrong passphrase, an
unwritable output) is refused and leaves the database as it was. Runs on
SQLite and PostgreSQL. All names are invented."""
import csv
import io
import json
import os
import select
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main, sopir_bin, sqlite_only  # noqa: E402

NAME = "Wati Contoh"


class Access(SopirTest):
    def accesses(self, *args):
        doc = self.ok("--json", "audit", "access", *args).json()
        self.assertEqual(doc["count"], len(doc["accesses"]))
        return [(a["actor"], a["case_id"], a["what"], a["reason"]) for a in doc["accesses"]]

    def test_every_unmasked_read_is_recorded_with_its_reason_and_listed(self):
        case_id = self.open_case()
        other = self.open_case()
        # Masked reads record nothing: without --reveal, and for everyone.
        for actor in ("budi", "tono"):
            r = self.ok("--as", actor, "case", "show", case_id)
            self.assertNotIn(NAME, r.out)
            self.assertIn("***", r.out)
            r = self.ok("--as", actor, "case", "history", case_id, "--json")
            self.assertNotIn(NAME, r.out)
        self.assertNotIn(NAME, self.ok("audit", "case", case_id).out)
        self.assertEqual(self.accesses(), [])
        self.assertEqual(self.ok("audit", "access").out, "No view of personal data is recorded.\n")

        # Each path that shows personal data, with its own reason.
        r = self.ok("--as", "tono", "case", "show", case_id, "--reveal", "--reason", "checking the spelling")
        self.assertIn(NAME, r.out)
        r = self.ok("--as", "tono", "--json", "case", "show", case_id, "--reveal", "--reason", "call back")
        self.assertEqual(r.json()["data"]["full_name"], NAME)
        self.assertEqual(r.json()["masked"], [])
        r = self.ok("--as", "siti", "case", "history", case_id, "--reveal", "--reason", "supervision, review")
        self.assertIn("full_name=Wati", r.out)  # the table may wrap the value
        r = self.ok("--as", "tono", "audit", "log", "--case", case_id, "--reveal", "--reason", "monthly audit")
        self.assertIn(NAME, r.out)
        r = self.ok("--as", "tono", "audit", "case", other, "--reveal", "--reason", "complaint \"42\"")
        self.assertIn(NAME, r.out)
        r = self.ok("--as", "tono", "audit", "case", case_id, "--with-linked", "--reveal", "--reason", "hand-off check")
        self.assertIn(NAME, r.out)
        out = os.path.join(self.dir, "wati.json")
        r = self.ok("--as", "siti", "case", "export-personal", case_id, "--reason", "access request by the person",
                    "--format", "json", "--output", out)
        self.assertEqual(r.out, "wrote %s\n" % out)

        expected = [("tono", case_id, "case show --reveal", "checking the spelling"),
                    ("tono", case_id, "case show --reveal", "call back"),
                    ("siti", case_id, "case history --reveal", "supervision, review"),
                    ("tono", case_id, "audit log --reveal", "monthly audit"),
                    ("tono", other, "audit case --reveal", "complaint \"42\""),
                    ("tono", case_id, "audit case --with-linked --reveal", "hand-off check"),
                    ("siti", case_id, "case export-personal", "access request by the person")]
        self.assertEqual(self.accesses(), expected)
        # The same rows as stored, by filter.
        self.assertEqual(self.accesses("--case", other), [expected[4]])
        self.assertEqual(self.accesses("--case", case_id.lower().replace("-", "")),
                         [e for e in expected if e[1] == case_id])
        self.assertEqual(self.accesses("--actor", "siti"), [expected[2], expected[6]])
        self.assertEqual(self.accesses("--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02T00:00:00Z"), [])
        self.assertEqual(len(self.accesses("--since", "2000-01-01T00:00:00Z")), 7)
        rows = list(csv.reader(io.StringIO(self.ok("audit", "access", "--csv").out)))
        self.assertEqual(rows[0], ["id", "at", "actor", "case_id", "what", "reason"])
        self.assertEqual([tuple(row[2:]) for row in rows[1:]], expected)
        table = self.ok("audit", "access").out
        self.assertIn("supervision, review", table)
        self.assertIn("Through", table.splitlines()[0])
        table = self.ok("--lang", "id", "audit", "access").out
        self.assertIn("Alasan", table.splitlines()[0])

        # The export: everything held on the person, itself among who saw it.
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual(doc["case"], case_id)
        self.assertEqual(doc["exported_by"], "siti")
        self.assertEqual(doc["reason"], "access request by the person")
        self.assertEqual(doc["data"]["full_name"], NAME)
        self.assertTrue(doc["personal_data_shown"])
        self.assertEqual(doc["steps"][0]["kind"], "open")
        self.assertIn(NAME, json.dumps(doc["steps"][0]["changes"]))
        self.assertEqual(doc["linked_cases"], [])
        self.assertEqual([(a["actor"], a["case_id"], a["what"], a["reason"]) for a in doc["accesses"]],
                         [e for e in expected if e[1] == case_id])

    def test_export_personal_as_text_in_both_languages(self):
        case_id = self.open_case()
        r = self.ok("--as", "tono", "case", "export-personal", case_id, "--reason", "access request")
        self.assertTrue(r.out.startswith("Everything held on the person of case %s\nExported by tono at " % case_id),
                        r.out)
        self.assertIn(NAME, r.out)
        self.assertIn("Who saw this person's data", r.out)
        self.assertIn("case export-personal", r.out)
        r = self.ok("--lang", "id", "--as", "tono", "case", "export-personal", case_id, "--reason", "permintaan akses")
        self.assertTrue(r.out.startswith("Semua data yang disimpan tentang orang dalam kasus %s\n" % case_id), r.out)
        self.assertIn("Siapa yang melihat data orang ini", r.out)
        self.assertIn(NAME, r.out)
        # An existing file is made private too before the person's data goes in.
        out = self.write("wati.txt", "old\n")
        os.chmod(out, 0o644)
        self.ok("--as", "tono", "case", "export-personal", case_id, "--reason", "again", "--output", out)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        with open(out, encoding="utf-8") as f:
            self.assertIn(NAME, f.read())
        self.assertEqual(len(self.accesses("--case", case_id)), 3)

    def test_no_reason_is_refused_and_writes_nothing(self):
        case_id = self.open_case()
        hint = "sopir: refused: seeing the personal data of case %s needs a reason: say why you need to see it " \
               "(give it with --reason TEXT)\n" % case_id
        for args in (("case", "show", case_id, "--reveal"),
                     ("case", "history", case_id, "--reveal"),
                     ("case", "show", case_id, "--reveal", "--reason", "   "),
                     ("case", "export-personal", case_id),
                     ("case", "export-personal", case_id, "--reason", "")):
            r = self.refused_unchanged(1, "--as", "tono", *args, stdin="")
            self.assertEqual(r.err, hint)
            self.assertNotIn(NAME, r.out)
        for args in (("audit", "case", case_id, "--reveal"), ("audit", "log", "--reveal")):
            r = self.refused_unchanged(1, "--as", "tono", *args, stdin="")
            self.assertEqual(r.err, "sopir: refused: revealing personal data needs a reason: say why you need to "
                                    "see it (give it with --reason TEXT)\n")
            self.assertNotIn(NAME, r.out)
        r = self.refused_unchanged(1, "--lang", "id", "--as", "tono", "case", "show", case_id, "--reveal", stdin="")
        self.assertEqual(r.err, "sopir: ditolak: melihat data pribadi kasus %s memerlukan alasan: jelaskan mengapa "
                                "Anda perlu melihatnya (tuliskan dengan --reason TEXT)\n" % case_id)
        # A reason without --reveal is a mistake, not a silent no-op.
        r = self.refused_unchanged(2, "--as", "tono", "case", "show", case_id, "--reason", "why")
        self.assertIn("give --reveal with it", r.err)
        self.refused_unchanged(2, "--as", "tono", "audit", "case", case_id, "--reason", "why")
        self.assertEqual(self.accesses(), [])

    def test_a_role_that_may_not_see_an_unknown_case_and_bad_options_write_nothing(self):
        case_id = self.open_case()
        out = os.path.join(self.dir, "x.json")
        r = self.refused_unchanged(1, "--as", "budi", "case", "show", case_id, "--reveal", "--reason", "curious")
        self.assertEqual(r.err, "sopir: refused: budi may not see the personal data of case %s: procedure 'aid' "
                                "shows it only to the roles supervisor (pii_visible_to); budi has roles "
                                "shelter_staff\n" % case_id)
        r = self.refused_unchanged(1, "--as", "budi", "case", "export-personal", case_id, "--reason", "curious",
                                   "--output", out)
        self.assertIn("budi may not see the personal data of case %s" % case_id, r.err)
        self.assertFalse(os.path.exists(out))
        r = self.refused_unchanged(1, "--as", "budi", "case", "history", case_id, "--reveal", "--reason", "curious")
        self.assertNotIn(NAME, r.out)
        r = self.refused_unchanged(3, "--as", "tono", "case", "export-personal", "ZZZ-ZZZ", "--reason", "request",
                                   "--output", out)
        self.assertIn("no case 'ZZZ-ZZZ'", r.err)
        self.assertFalse(os.path.exists(out))
        r = self.refused_unchanged(2, "--as", "tono", "case", "export-personal", case_id, "--reason", "r",
                                   "--format", "xml")
        self.assertEqual(r.err, "sopir: error: --format takes json or text, not 'xml'\n")
        missing = os.path.join(self.dir, "no-such-dir", "x.json")
        r = self.refused_unchanged(5, "--as", "tono", "case", "export-personal", case_id, "--reason", "r",
                                   "--output", missing)
        self.assertIn(missing, r.err)
        self.refused_unchanged(3, "audit", "access", "--case", "ZZZ-ZZZ")
        r = self.refused_unchanged(3, "audit", "access", "--actor", "tonno")
        self.assertIn("unknown staff member 'tonno'", r.err)
        self.refused_unchanged(2, "audit", "access", "--since", "yesterday")
        self.refused_unchanged(2, "--json", "audit", "access", "--csv")
        self.assertEqual(self.accesses(), [])

    def on_terminal(self, args, typed):
        """Runs sopir with a terminal as stdin, answers the reason prompt
        with `typed`, and returns (exit code, everything shown)."""
        master, slave = os.openpty()
        proc = subprocess.Popen([sopir_bin()] + list(args), stdin=slave, stdout=slave, stderr=slave,
                                env=self.env({"TERM": "xterm"}), cwd=self.dir, start_new_session=True)
        os.close(slave)
        prompt = b"Why do you need to see this personal data? (recorded in the access log) "
        seen = b""
        end = time.time() + 30
        while prompt not in seen and time.time() < end:
            if select.select([master], [], [], 0.2)[0]:
                seen += os.read(master, 4096)
        self.assertIn(prompt, seen)
        os.write(master, typed.encode() + b"\n")
        while time.time() < end:
            if not select.select([master], [], [], 0.2)[0]:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        return proc.wait(timeout=30), seen.decode()

    def test_the_reason_is_asked_for_on_a_terminal(self):
        case_id = self.open_case()
        code, seen = self.on_terminal(["--as", "tono", "case", "show", case_id, "--reveal"], "asked on the phone")
        self.assertEqual(code, 0, seen)
        self.assertIn(NAME, seen)
        self.assertEqual(self.accesses(), [("tono", case_id, "case show --reveal", "asked on the phone")])
        # Nothing typed: refused, nothing shown or recorded.
        code, seen = self.on_terminal(["--as", "tono", "case", "export-personal", case_id], "")
        self.assertEqual(code, 1, seen)
        self.assertIn("needs a reason", seen)
        self.assertNotIn(NAME, seen)
        self.assertEqual(len(self.accesses()), 1)

    @sqlite_only("log-in with passphrases is the database file's")
    def test_a_wrong_passphrase_reveals_and_records_nothing(self):
        case_id = self.open_case()
        wrong = self.write("wrong", "not the passphrase\n")
        os.chmod(wrong, 0o600)
        for args in (("case", "show", case_id, "--reveal", "--reason", "r"),
                     ("case", "export-personal", case_id, "--reason", "r"),
                     ("audit", "case", case_id, "--reveal", "--reason", "r")):
            # A refused log-in is itself recorded (login_failures); nothing else is.
            before = self.query("SELECT record FROM transitions ORDER BY seq")
            r = self.fails(6, "--as", "tono", *args, env={"SOPIR_PASSPHRASE_FILE": wrong})
            self.assertNotIn(NAME, r.out + r.err)
            self.assertEqual(before, self.query("SELECT record FROM transitions ORDER BY seq"))
        self.assertEqual(self.accesses(), [])

    @sqlite_only("the access log's protection is checked on the file here; the server's in pg_store_test")
    def test_the_access_log_cannot_be_edited_behind_sopirs_back(self):
        case_id = self.open_case()
        self.ok("--as", "tono", "case", "show", case_id, "--reveal", "--reason", "r")
        import sqlite3
        con = sqlite3.connect(self.db)
        for statement in ("DELETE FROM access_log", "UPDATE access_log SET reason = 'other'"):
            with self.assertRaises(sqlite3.DatabaseError) as caught:
                con.execute(statement)
            self.assertIn("the access log is append-only", str(caught.exception))
        con.close()
        self.assertEqual(self.accesses(), [("tono", case_id, "case show --reveal", "r")])


if __name__ == "__main__":
    main()
