#!/usr/bin/env python3
"""Issue 12 at the command line: --help everywhere exits 0, an unknown actor
is refused by every command that names one (reads included), control
characters are refused in input (CSV with file:line:column) and escaped in
tables, files sopir creates are 0600, staff roles are granted and removed
through the log, verify reports an edited procedure source, and --json on
the audit reads gives one JSON document or a usage error."""
import json
import os
import pty
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import AID_YAML, POSTGRES, SopirTest, main, sopir_bin, sqlite_only  # noqa: E402


class Help(SopirTest):
    publish = False

    def test_help_exits_0_for_every_command_and_group(self):
        for args in (["--help"], ["-h"], ["help"], ["case", "--help"], ["audit", "--help"],
                     ["staff", "--help"], ["help", "audit"], ["help", "case"], ["case", "list", "--help"],
                     ["help", "audit", "verify"]):
            r = self.run_sopir(*args)
            self.assertEqual(r.code, 0, (args, r))
            self.assertIn("usage: sopir", r.out, args)
        r = self.ok("audit", "--help")
        self.assertIn("audit verify", r.out)
        self.assertNotIn("case open", r.out)
        self.assertEqual(self.run_sopir("help", "nothing").code, 2)


class Tamper(SopirTest):
    def unknown_actor_message(self, r):
        self.assertEqual(r.code, 3, r)
        self.assertEqual(r.err.strip(), "sopir: error: unknown staff member 'ghost'")

    def test_unknown_actor_refused_by_every_command_naming_one(self):
        case_id = self.open_case()
        for args in (["case", "list"], ["case", "show", case_id], ["case", "history", case_id],
                     ["staff", "list"], ["sop", "list"], ["audit", "log"], ["audit", "case", case_id],
                     ["audit", "verify"], ["case", "advance", case_id, "review"]):
            self.unknown_actor_message(self.run_sopir("--as", "ghost", *args))
        # The same through the environment.
        self.unknown_actor_message(self.run_sopir("case", "list", env={"SOPIR_ACTOR": "ghost"}))

    def test_csv_control_character_is_located_and_nothing_is_written(self):
        path = os.path.join(self.dir, "rows.csv")
        with open(path, "wb") as f:
            f.write(b"item,quantity,full_name\nhygiene_kit,2,Wati\nfood_pack,3,Ani\x00Contoh\n")
        r = self.refused_unchanged(2, "--as", "budi", "case", "import", path, "--sop", "aid")
        self.assertEqual(r.err.strip(), "sopir: error: %s:3:16: a control character, U+0000 (NUL), in the file; "
                         "cells may hold printable text, tabs and line breaks only" % path)

    def test_set_values_notes_and_reasons_with_control_characters_are_refused(self):
        case_id = self.open_case()
        r = self.refused_unchanged(1, "--as", "budi", "case", "open", "aid", "--set", "item=hygiene_kit",
                                   "--set", "quantity=5", "--set", "full_name=Wati\x1b[2J")
        self.assertIn("the value given for field 'full_name' contains a control character, U+001B (ESC), "
                      "at character 5", r.err)
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "review", "--note", "ok\x07")
        self.assertIn("the note contains a control character, U+0007 (BEL), at character 3", r.err)
        r = self.refused_unchanged(1, "--as", "budi", "case", "hold", case_id, "--reason", " \t ")
        self.assertIn("needs a written reason", r.err)

    def test_tables_escape_bidi_overrides_json_keeps_them(self):
        case_id = self.open_case()
        note = "paid \u202e0001 IDR"
        self.ok("--as", "budi", "case", "advance", case_id, "review", "--note", note)
        r = self.ok("--as", "budi", "case", "history", case_id)
        self.assertNotIn("\u202e", r.out)
        self.assertIn("paid \\u202e0001 IDR", r.out)
        r = self.ok("--as", "budi", "--json", "case", "history", case_id)
        self.assertIn(note, json.dumps(r.json(), ensure_ascii=False))
        r = self.ok("audit", "log", "--case", case_id)
        self.assertNotIn("\u202e", r.out)
        self.assertIn("\\u202e", r.out)
        r = self.ok("audit", "case", case_id)
        self.assertNotIn("\u202e", r.out)
        self.assertIn("note:     paid \\u202e0001 IDR", r.out)
        csv_out = self.ok("audit", "log", "--case", case_id, "--format", "csv").out
        self.assertIn(note, csv_out)
        html = os.path.join(self.dir, "report.html")
        self.ok("audit", "report", "--html", html)
        self.assertEqual(stat.S_IMODE(os.stat(html).st_mode), 0o600)

    @sqlite_only("a server database keeps no log file beside it")
    def test_log_file_is_private(self):
        self.ok("--as", "admin", "staff", "list", env={"SOPIR_LOG": "info"})
        log = self.db + ".log"
        self.assertTrue(os.path.exists(log))
        self.assertEqual(stat.S_IMODE(os.stat(log).st_mode), 0o600)

    @sqlite_only("the shell keeps no history for a server database")
    def test_shell_history_is_private(self):
        pid, fd = pty.fork()
        if pid == 0:
            os.environ.update(self.env())
            os.execv(sopir_bin(), [sopir_bin(), "--db", self.db, "--as", "admin", "shell"])
        signal.alarm(60)
        out = b""

        def read_until_prompt():
            nonlocal out
            while not out.endswith(b"> "):
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                out += chunk

        # Type only at the prompt, and a moment after it: the line editor
        # discards what was typed before it set up the terminal.
        read_until_prompt()
        time.sleep(0.5)
        os.write(fd, b"staff list\n")
        out = b""
        read_until_prompt()
        time.sleep(0.5)
        os.write(fd, b"\x04")
        while True:
            try:
                if not os.read(fd, 4096):
                    break
            except OSError:
                break
        os.waitpid(pid, 0)
        signal.alarm(0)
        history = self.db + ".history"
        self.assertTrue(os.path.exists(history), out)
        self.assertEqual(stat.S_IMODE(os.stat(history).st_mode), 0o600)

    def test_roles_granted_and_removed_are_in_the_log(self):
        self.ok("--as", "admin", "staff", "grant", "budi", "supervisor")
        r = self.fails(4, "--as", "admin", "staff", "grant", "budi", "supervisor")
        self.assertIn("already has the role supervisor", r.err)
        self.ok("--as", "admin", "staff", "revoke", "budi", "supervisor")
        self.fails(1, "--as", "budi", "staff", "grant", "budi", "supervisor")
        rows = self.query("SELECT kind, event, actor FROM log_view WHERE coalesce(case_id, '') = '' ORDER BY seq")
        # On a file each member's passphrase is set with them (a server
        # logs its staff in and keeps none).
        pw = [] if POSTGRES else [("staff", "passphrase-set", "admin")]
        self.assertEqual(rows, [("staff", "added", "admin")] + pw + [("publish", "published", "admin")] +
                         ([("staff", "added", "admin")] + pw) * 3 +
                         [("staff", "role-granted", "admin"), ("staff", "role-removed", "admin")])
        self.ok("audit", "verify")

    def test_verify_reports_an_edited_procedure_source(self):
        self.open_case()
        self.sql("UPDATE procedures SET source = source || '# appended\n'")
        r = self.run_sopir("audit", "verify")
        self.assertEqual(r.code, 1, r)
        self.assertIn("procedure-changed", r.out + r.err)


class AuditJson(SopirTest):
    """--json on the audit reads: one JSON document where the command has
    one (verify, replay, anchor), else a usage error naming what it writes."""

    def test_verify_json_clean_and_with_an_anchor(self):
        self.open_case()
        doc = self.ok("--json", "audit", "verify").json()
        anchor = self.ok("audit", "anchor").out.strip()
        self.assertEqual(set(doc), {"clean", "rows", "head", "cases", "steps", "unverifiable_steps", "findings",
                                    "anchor", "site_copy"})
        self.assertEqual((doc["clean"], doc["findings"], doc["anchor"], doc["site_copy"]), (True, [], None, None))
        self.assertEqual((doc["cases"], doc["steps"]), (1, 0))
        # Opening with personal data nobody logged in to unlock: not re-decided.
        self.assertIsInstance(doc["unverifiable_steps"], int)
        self.assertEqual(doc["head"].split(":")[0], str(doc["rows"]))
        doc = self.ok("--json", "audit", "verify", "--anchor", anchor).json()
        self.assertEqual(doc["anchor"], {"anchor": anchor, "holds": True})
        seq, root = anchor.split(":")
        self.assertEqual(self.ok("--json", "audit", "anchor").json(),
                         {"anchor": anchor, "seq": int(seq), "root": root})

    def test_verify_json_lists_the_findings_and_exits_1(self):
        case_id = self.open_case()
        self.sql("UPDATE procedures SET source = source || '# appended\n'")
        r = self.run_sopir("--json", "audit", "verify")
        self.assertEqual(r.code, 1, r)
        doc = r.json()
        self.assertFalse(doc["clean"])
        self.assertIn("procedure-changed", [f["kind"] for f in doc["findings"]])
        for f in doc["findings"]:
            self.assertEqual(set(f), {"kind", "row", "case", "message"})
            self.assertTrue(f["message"])
            self.assertTrue(f["row"] is None or isinstance(f["row"], int), f)
            self.assertIn(f["case"], (None, case_id))
        # The plain text names the same findings.
        text = self.run_sopir("audit", "verify").out
        for f in doc["findings"]:
            self.assertIn(f["kind"], text)
            self.assertIn(f["message"], text)

    def test_replay_json_lists_the_differences(self):
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        stricter = self.write("stricter.yaml", AID_YAML.replace(
            "    to: reviewed\n    roles: [shelter_staff, supervisor]\n",
            "    to: reviewed\n    roles: [supervisor]\n", 1))
        # A recorded step the proposal would refuse is a finding: exit 1.
        r = self.run_sopir("--json", "audit", "replay", "--sop", stricter)
        self.assertEqual(r.code, 1, r)
        doc = r.json()
        self.assertEqual({k: doc[k] for k in ("sop", "file", "cases", "steps", "refused_steps")},
                         {"sop": "aid", "file": stricter, "cases": 1, "steps": 1, "refused_steps": 1})
        self.assertIsInstance(doc["unverifiable_steps"], int)
        [d] = doc["differences"]
        self.assertEqual({k: d[k] for k in ("case", "step", "event", "recorded_to", "proposed_to", "refused")},
                         {"case": case_id, "step": 2, "event": "review", "recorded_to": "reviewed",
                          "proposed_to": None, "refused": True})
        self.assertIsInstance(d["row"], int)
        r = self.run_sopir("audit", "replay", "--sop", stricter)
        self.assertEqual((r.code, r.err), (1, ""), r)
        self.assertIn("case %s step 2 (row %d) 'review': refused: %s\n" % (case_id, d["row"], d["message"]), r.out)
        # (A database file adds how many steps it could not re-decide; a server, none.)
        self.assertIn(" through %s: 1 step(s) would be refused or routed differently (1 refused, 0 routed "
                      "differently)" % stricter, r.out)
        doc = self.ok("--json", "audit", "replay", "--sop", self.aid).json()
        self.assertEqual((doc["differences"], doc["refused_steps"]), ([], 0))
        self.assertIn(": 0 step(s) would be refused or routed differently",
                      self.ok("audit", "replay", "--sop", self.aid).out)
        # A step it would only send elsewhere is what a new version may mean: exit 0.
        elsewhere = self.write("elsewhere.yaml", AID_YAML.replace(
            "    from: requested\n    to: reviewed\n", "    from: requested\n    to: escalated\n", 1))
        r = self.ok("audit", "replay", "--sop", elsewhere)
        self.assertIn("case %s step 2 (row %d) 'review': would go to 'escalated' instead of 'reviewed'\n"
                      % (case_id, d["row"]), r.out)
        self.assertIn(": 1 step(s) would be refused or routed differently (0 refused, 1 routed differently)",
                      r.out)
        self.assertEqual(self.ok("--json", "audit", "replay", "--sop", elsewhere).json()["refused_steps"], 0)

    def test_commands_without_one_json_document_refuse_json(self):
        case_id = self.open_case()
        lines = ("{0} writes no single JSON document: give --format jsonl for one JSON object a line "
                 "(or --format csv) instead of --json")
        report = ("audit report has no JSON form: it prints text, or writes a page with --html FILE; "
                  "for the rows behind it use audit log --format jsonl or csv")
        for args, says in ((["audit", "log"], lines.format("audit log")),
                           (["audit", "case", case_id], lines.format("audit case")),
                           (["audit", "report"], report)):
            r = self.refused_unchanged(2, "--json", *args)
            self.assertEqual(r.err, "sopir: error: %s\n" % says)
            self.assertEqual(r.out, "")
        # What they accept instead works.
        rows = self.ok("audit", "log", "--format", "jsonl").out.splitlines()
        self.assertTrue(rows)
        for row in rows:
            json.loads(row)


if __name__ == "__main__":
    main()
