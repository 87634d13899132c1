#!/usr/bin/env python3
"""Cases linked by hand-offs through the CLI: `case advance` names the case a
hand-off opened, `case show` / `case list --linked-to` / `case history` show
the links both ways, and `audit case --with-linked` / `audit verify` follow
them (table, CSV, JSON lines)."""
import csv
import io
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


class Links(SopirTest):
    def setUp(self):
        super().setUp()
        # The hand-off pair shared with the unit tests (tests/data/README.md):
        # rina (worker) works the intake, sari (carer) the care case.
        self.ok("--as", "admin", "staff", "add", "rina", "--name", "Rina Contoh", "--role", "worker")
        self.ok("--as", "admin", "staff", "add", "sari", "--name", "Sari Contoh", "--role", "carer")
        self.ok("--as", "admin", "sop", "publish", os.path.join(DATA, "pmi-care.yaml"))
        self.ok("--as", "admin", "sop", "publish", os.path.join(DATA, "pmi-intake.yaml"))
        self.parent = self.ok("--as", "rina", "case", "open", "pmi-intake",
                              "--set", "full_name=Wati Contoh").out.strip()

    def refer(self):
        doc = self.ok("--as", "rina", "case", "advance", self.parent, "refer", "--set", "age=27",
                      "--json").json()
        self.assertIsNotNone(doc["opened"], doc)
        return doc

    def test_advance_prints_the_opened_case(self):
        out = self.ok("--as", "rina", "case", "advance", self.parent, "refer", "--set", "age=27").out
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 2, out)
        self.assertTrue(lines[0].startswith(self.parent + ": refer: screening -> referred"), out)
        self.assertRegex(lines[1], r"^Opened case [0-9A-Z]{3}-[0-9A-Z]{3} \(pmi-care, admitted\)$")
        child = lines[1].split()[2]
        self.assertEqual(self.ok("--as", "sari", "case", "show", child, "--json").json()["parent"]["id"],
                         self.parent)

    def test_advance_json_names_the_opened_case(self):
        doc = self.refer()
        opened = doc["opened"]
        self.assertEqual(opened["sop"], "pmi-care")
        self.assertEqual(opened["state"], "admitted")
        self.assertEqual(opened["status"], "active")
        self.assertEqual(opened["seq"], doc["seq"] + 1)
        # A step that opens nothing says so with null.
        self.ok("--as", "sari", "case", "advance", opened["case"], "discharge")
        finish = self.ok("--as", "rina", "case", "advance", self.parent, "finish", "--json").json()
        self.assertIsNone(finish["opened"])

    def test_show_lists_links_both_ways(self):
        child = self.refer()["opened"]["case"]
        parent_doc = self.ok("--as", "rina", "case", "show", self.parent, "--json").json()
        self.assertIsNone(parent_doc["parent"])
        self.assertEqual([c["id"] for c in parent_doc["children"]], [child])
        self.assertEqual(parent_doc["children"][0]["sop"], "pmi-care")
        self.assertEqual(parent_doc["children"][0]["state"], "admitted")
        self.assertEqual(parent_doc["children"][0]["status"], "active")
        child_doc = self.ok("--as", "sari", "case", "show", child, "--json").json()
        self.assertEqual(child_doc["parent"]["id"], self.parent)
        self.assertEqual(child_doc["parent"]["sop"], "pmi-intake")
        self.assertEqual(child_doc["parent"]["state"], "referred")
        self.assertEqual(child_doc["parent_case"], self.parent)
        self.assertEqual(child_doc["children"], [])

        text = self.ok("--as", "rina", "case", "show", self.parent).out
        self.assertIn("Cases it opened:\n  %s  pmi-care  admitted  active" % child, text)
        self.assertNotIn("Opened by case", text)
        text = self.ok("--as", "sari", "case", "show", child).out
        self.assertIn("Opened by case: %s  pmi-intake  referred  active" % self.parent, text)
        # The child's status follows it.
        self.ok("--as", "sari", "case", "advance", child, "discharge")
        doc = self.ok("--as", "rina", "case", "show", self.parent, "--json").json()
        self.assertEqual(doc["children"][0]["status"], "closed")
        text = self.ok("--as", "rina", "--lang", "id", "case", "show", self.parent).out
        self.assertIn("Kasus yang dibukanya:", text)

    def test_list_linked_to(self):
        child = self.refer()["opened"]["case"]
        other = self.ok("--as", "rina", "case", "open", "pmi-intake").out.strip()
        doc = self.ok("--as", "rina", "case", "list", "--linked-to", self.parent, "--json").json()
        self.assertEqual([c["id"] for c in doc["cases"]], [child])
        doc = self.ok("--as", "rina", "case", "list", "--linked-to", child.lower().replace("-", ""),
                      "--json").json()
        self.assertEqual([c["id"] for c in doc["cases"]], [self.parent])
        doc = self.ok("--as", "rina", "case", "list", "--linked-to", other, "--json").json()
        self.assertEqual(doc["cases"], [])
        self.assertIn(child, self.ok("--as", "rina", "case", "list", "--linked-to", self.parent).out)
        self.fails(3, "--as", "rina", "case", "list", "--linked-to", "ZZZ-ZZZ")

    def test_history_shows_the_link(self):
        child = self.refer()["opened"]["case"]
        entries = self.ok("--as", "rina", "case", "history", self.parent, "--json").json()["entries"]
        self.assertEqual([e["linked_case"] for e in entries], [None, child])
        entries = self.ok("--as", "sari", "case", "history", child, "--json").json()["entries"]
        self.assertEqual(entries[0]["linked_case"], self.parent)
        self.assertEqual(entries[0]["role"], "hand-off")
        self.assertEqual(entries[0]["inputs"]["full_name"], "***")
        self.assertEqual(entries[0]["inputs"]["age"], "27")
        self.assertIn("opened case " + child, self.ok("--as", "rina", "case", "history", self.parent).out)
        self.assertIn("opened by case " + self.parent, self.ok("--as", "sari", "case", "history", child).out)

    def test_export_personal_follows_the_hand_offs(self):
        child = self.refer()["opened"]["case"]
        out = os.path.join(self.dir, "wati.json")
        self.ok("--as", "rina", "case", "export-personal", self.parent, "--reason", "access request",
                "--output", out, "--format", "json")
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
        # rina (worker) may see the intake's personal data; pmi-care shows
        # it to no role, so the care case comes masked and is not recorded.
        self.assertEqual(doc["case"], self.parent)
        self.assertEqual(doc["data"]["full_name"], "Wati Contoh")
        self.assertEqual([s["event"] for s in doc["steps"]], ["open", "refer"])
        self.assertEqual(doc["steps"][1]["linked_case"], child)
        self.assertEqual([c["case"] for c in doc["linked_cases"]], [child])
        self.assertEqual(doc["linked_cases"][0]["data"]["full_name"], "***")
        self.assertFalse(doc["linked_cases"][0]["personal_data_shown"])
        self.assertEqual(doc["linked_cases"][0]["steps"][0]["linked_case"], self.parent)
        self.assertEqual([(a["actor"], a["case_id"], a["what"]) for a in doc["accesses"]],
                         [("rina", self.parent, "case export-personal")])
        # Asked from the care case: pmi-care shows personal data to no role.
        r = self.refused_unchanged(1, "--as", "rina", "case", "export-personal", child, "--reason", "request")
        self.assertIn("rina may not see the personal data of case %s: procedure 'pmi-care' shows it to no role"
                      % child, r.err)

    def test_audit_with_linked_in_every_format(self):
        child = self.refer()["opened"]["case"]
        self.ok("--as", "sari", "case", "advance", child, "discharge")
        self.ok("--as", "rina", "case", "advance", self.parent, "finish")
        expected = [(self.parent, "open"), (self.parent, "refer"), (child, "open"), (child, "discharge"),
                    (self.parent, "finish")]
        for start in (self.parent, child):
            rows = [json.loads(line) for line in
                    self.ok("audit", "case", start, "--with-linked", "--format", "jsonl").out.splitlines()]
            self.assertEqual([(r["case_id"], r["event"]) for r in rows], expected)
            self.assertEqual([r["linked_case"] for r in rows], ["", child, self.parent, "", ""])
            self.assertEqual([r["sop_id"] for r in rows],
                             ["pmi-intake", "pmi-intake", "pmi-care", "pmi-care", "pmi-intake"])
            text = self.ok("audit", "case", start, "--with-linked", "--format", "csv").out
            table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
            self.assertEqual([(r["case_id"], r["event"]) for r in table], expected)
        text = self.ok("audit", "case", child, "--with-linked").out
        self.assertIn("Case %s and its linked cases (2 cases, 5 steps" % child, text)
        order = [text.index("[%s %d] %s" % (c, n, e)) for c, n, e in
                 [(self.parent, 2, "refer"), (child, 1, "open"), (child, 2, "discharge"), (self.parent, 3, "finish")]]
        self.assertEqual(order, sorted(order))
        self.assertNotIn("Wati", text)
        # Without the flag: only the case, with its link named.
        text = self.ok("audit", "case", self.parent).out
        self.assertIn("link:     opened case " + child, text)
        self.assertNotIn("discharge", text)

    def test_verify_checks_the_links(self):
        child = self.refer()["opened"]["case"]
        self.ok("--as", "sari", "case", "advance", child, "discharge")
        self.ok("--as", "rina", "case", "advance", self.parent, "finish")
        self.assertIn("clean:", self.ok("audit", "verify").out)
        # Point the child's case row at another parent behind the engine's back.
        other = self.ok("--as", "rina", "case", "open", "pmi-intake").out.strip()
        self.sql("UPDATE cases SET parent_case = '%s' WHERE id = '%s'" % (other, child))
        r = self.run_sopir("audit", "verify")
        self.assertEqual(r.code, 1, r)
        self.assertIn("case-row", r.out)
        self.assertIn("row names parent case %s but its open row" % other, r.out)
        self.assertIn("1 finding: ", r.out)  # the parent's replay follows the log, not the row


if __name__ == "__main__":
    main()
