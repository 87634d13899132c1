#!/usr/bin/env python3
"""Retention (issue #16 item 5; docs/PRIVACY.md "Retention"): a procedure's
`retention:` period, `sopir retention due` and `sopir retention apply
[--dry-run]`. Retention erases exactly the due cases: open cases, cases closed
recently and cases of a procedure without a retention are left; a case
already erased is skipped and reported; the dry run writes nothing; the
erased values cannot be read with any passphrase; `audit verify` is clean and
finds a retention erasure row dated before its case was due. Bad input is
refused with its exit code and nothing written. All names are invented."""
import calendar
import datetime
import hashlib
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import POSTGRES, SopirTest, main, sqlite_only  # noqa: E402

KEEP_YAML = """\
sop: {sop}
version: 1
title: {{en: Kept {retention}, id: Disimpan {retention}}}
retention: {retention}
roles: [shelter_staff, supervisor]
fields:
  full_name:
    type: string
    pii: true
    label: {{en: Full name, id: Nama lengkap}}
states:
  staying:
    label: {{en: Staying, id: Tinggal}}
    initial: true
  left:
    label: {{en: Left, id: Pergi}}
    terminal: true
transitions:
  - event: leave
    from: staying
    to: left
    roles: [shelter_staff, supervisor]
    label: {{en: Leave, id: Pergi}}
closure_reasons: [needs_met, left_the_shelter]
open:
  requires: [full_name]
lifecycle:
  close: [supervisor]
  reopen: [supervisor]
  reopen_to: staying
pii_visible_to: [supervisor]
"""

NAMES = {"open": "Ratna Embun", "recent": "Sekar Lembah", "short_old": "Murni Pematang",
         "long_old": "Endang Sawah", "long_recent": "Tini Muara", "erased": "Lilis Tanjung",
         "aid_old": "Wulan Cadas"}


def stamp(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Retention(SopirTest):
    def setUp(self):
        super().setUp()
        for who in ("siti", "tono"):
            self.ok("--as", "admin", "staff", "grant", who, "data_protection")
        self.ok("--as", "admin", "sop", "publish",
                self.write("short.yaml", KEEP_YAML.format(sop="keep-short", retention="30 days")))
        self.ok("--as", "admin", "sop", "publish",
                self.write("long.yaml", KEEP_YAML.format(sop="keep-long", retention="2 years")))

    def open_in(self, sop, key, at=None):
        args = ["--as", "budi", "case", "open", sop, "--set", "full_name=" + NAMES[key]]
        if sop == "aid":
            args += ["--set", "item=hygiene_kit", "--set", "quantity=5"]
        if at:
            args += ["--at", at]
        return self.ok(*args).out.strip()

    def close(self, case_id, at=None, reason="needs_met"):
        args = ["--as", "tono", "case", "close", case_id, "--reason", reason]
        if at:
            args += ["--at", at]
        self.ok(*args)

    def cases(self):
        """Every kind of case the rule must tell apart; returns their ids."""
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        ids = {"open": self.open_in("keep-short", "open", "2019-01-01T08:00")}
        ids["recent"] = self.open_in("keep-short", "recent", "2019-01-01T08:00")
        self.close(ids["recent"], stamp(now - datetime.timedelta(days=29)))
        ids["short_old"] = self.open_in("keep-short", "short_old", "2019-01-01T08:00")
        self.close(ids["short_old"], "2020-01-31T10:00:00Z")
        ids["long_old"] = self.open_in("keep-long", "long_old", "2019-01-01T08:00")
        self.ok("--as", "budi", "case", "advance", ids["long_old"], "leave", "--at", "2020-02-29T08:00:00Z")
        ids["long_recent"] = self.open_in("keep-long", "long_recent", "2019-01-01T08:00")
        self.close(ids["long_recent"], stamp(now - datetime.timedelta(days=365)))
        ids["erased"] = self.open_in("keep-short", "erased", "2019-01-01T08:00")
        self.close(ids["erased"], "2020-03-01T10:00:00Z")
        self.ok("--as", "siti", "case", "erase", ids["erased"], "--reason", "request of the person, form DP-3")
        self.ok("--as", "tono", "case", "erase", ids["erased"], "--confirm")
        ids["aid_old"] = self.open_in("aid", "aid_old", "2019-01-01T08:00")
        self.ok("--as", "tono", "case", "close", ids["aid_old"], "--reason", "needs_met", "--at", "2019-06-01T08:00")
        return ids

    def counts(self):
        return self.query("SELECT (SELECT count(*) FROM transitions), (SELECT count(*) FROM cases), "
                          "(SELECT count(*) FROM personal_text WHERE text IS NOT NULL OR sealed IS NOT NULL)")

    def test_retention_erases_exactly_the_due_cases(self):
        ids = self.cases()
        due = self.ok("--json", "retention", "due").json()
        self.assertEqual(due["mode"], "due")
        self.assertEqual([(d["case"], d["sop"], d["closed_at"], d["retention"], d["due_at"]) for d in due["due"]],
                         [(ids["short_old"], "keep-short", "2020-01-31T10:00:00Z", "30 days", "2020-03-01T10:00:00Z"),
                          (ids["long_old"], "keep-long", "2020-02-29T08:00:00Z", "2 years", "2022-02-28T08:00:00Z")])
        self.assertEqual([(d["case"], d["erased_by"]) for d in due["already_erased"]], [(ids["erased"], "tono")])
        self.assertEqual(due["not_yet_due"], 2)
        text = self.ok("retention", "due").out
        self.assertIn("Due for erasure under retention as of ", text)
        self.assertIn(ids["short_old"], text)
        self.assertIn("Already erased, skipped: 1", text)
        self.assertIn("Closed, not yet due: 2", text)
        self.assertIn("Jatuh tempo untuk dihapus menurut retensi per ", self.ok("--lang", "id", "retention", "due").out)
        # tick counts them and erases nothing.
        before = self.counts()
        tick = self.ok("--json", "tick").json()
        self.assertEqual(tick["retention_due"], 2)
        self.assertEqual(self.counts()[0][2], before[0][2])

        # The dry run writes nothing: the same bytes, the same rows.
        before, rows = self.dump(), self.counts()
        dry = self.ok("--as", "siti", "--json", "retention", "apply", "--dry-run").json()
        self.assertEqual(dry["mode"], "dry-run")
        self.assertEqual([d["case"] for d in dry["due"]], [ids["short_old"], ids["long_old"]])
        self.assertNotIn("erased", dry)
        r = self.ok("--as", "siti", "retention", "apply", "--dry-run")
        self.assertIn("Dry run, nothing written. Would erase the personal data of 2 case(s)", r.out)
        self.assertEqual(self.dump(), before)
        self.assertEqual(self.counts(), rows)

        # Applied by one officer: exactly the due cases.
        done = self.ok("--as", "siti", "--json", "retention", "apply").json()
        self.assertEqual(done["mode"], "apply")
        self.assertEqual([e["case"] for e in done["erased"]], [ids["short_old"], ids["long_old"]])
        self.assertEqual(done["failures"], [])
        self.assertEqual([d["case"] for d in done["already_erased"]], [ids["erased"]])
        records = [json.loads(r[0]) for r in self.query("SELECT t.record FROM transitions t JOIN log_view v ON v.seq = t.seq "
                                                          "WHERE v.kind = 'erasure' ORDER BY t.seq")]
        rows = [(r["case_id"], r["event"], r["actor"], r["role"], r["reason"]) for r in records
                if r["actor"] == "siti" and r["event"] == "erased"]
        self.assertEqual(rows, [(ids["short_old"], "erased", "siti", "data_protection", "retention: 30 days"),
                                (ids["long_old"], "erased", "siti", "data_protection", "retention: 2 years")])
        record = self.query("SELECT t.record FROM transitions t JOIN log_view v ON v.seq = t.seq "
                            "WHERE t.case_id = '%s' AND v.kind = 'erasure'" % ids["long_old"])[0][0]
        self.assertIn('[["basis","retention"],["retention","2 years"],["closed_at","2020-02-29T08:00:00Z"]]', record)
        for key in ("short_old", "long_old", "erased"):
            self.assertEqual(self.query("SELECT count(*) FROM case_keys WHERE case_id = '%s'" % ids[key]), [("0",)])
            self.assertEqual(self.query("SELECT count(*) FROM personal_text WHERE case_id = '%s' AND "
                                        "(text IS NOT NULL OR sealed IS NOT NULL)" % ids[key]), [("0",)])
        # Nobody reads them, with any passphrase; the others are kept.
        for who in ("admin", "budi", "siti", "tono"):
            for key in ("short_old", "long_old"):
                shown = self.ok("--as", who, "case", "show", ids[key]).out
                self.assertIn("(erased)", shown)
        for who in ("siti", "tono"):
            for key in ("short_old", "long_old"):
                shown = self.ok("--as", who, "case", "show", ids[key], "--reveal", "--reason", "retention test").out
                self.assertIn("(erased)", shown)
                self.assertNotIn(NAMES[key], shown)
            for key in ("open", "recent", "long_recent", "aid_old"):
                shown = self.ok("--as", who, "case", "show", ids[key], "--reveal", "--reason", "retention test").out
                self.assertIn(NAMES[key], shown)
        v = self.run_sopir("audit", "verify", env={"SOPIR_PASSPHRASE_FILE": ""})
        self.assertEqual(v.code, 0, v)
        # Run again: nothing more to do, nothing written.
        before = self.dump()
        again = self.ok("--as", "tono", "--json", "retention", "apply").json()
        self.assertEqual(again["erased"], [])
        self.assertEqual(sorted(d["case"] for d in again["already_erased"]),
                         sorted([ids["short_old"], ids["long_old"], ids["erased"]]))
        self.assertEqual(self.dump(), before)
        self.assertIn("Nothing due for erasure under retention as of ", self.ok("--as", "tono", "retention", "apply").out)
        # The period is part of the published procedure.
        self.assertEqual(self.ok("--json", "sop", "show", "keep-long").json()["retention"], "2 years")
        self.assertIn("Personal data kept for 30 days after a case closes (retention)",
                      self.ok("sop", "show", "keep-short").out)
        self.assertIsNone(self.ok("--json", "sop", "show", "aid").json()["retention"])

    def test_each_site_erases_its_own(self):
        # A case at another site is left for that site's officer, unseen by
        # siti, who belongs to main, on SQLite (where the engine holds sites)
        # as on the server (where row-level security does), and never erased.
        self.ok("--as", "admin", "site", "add", "nunukan", "--name", "Pos Debarkasi Nunukan")
        self.ok("--as", "admin", "staff", "add", "eka", "--name", "Eka Contoh",
                "--role", "shelter_staff,supervisor,data_protection", "--site", "nunukan")
        here = self.open_in("keep-short", "short_old", "2019-01-01T08:00")
        self.close(here, "2020-01-31T10:00:00Z")
        there = self.ok("--as", "eka", "case", "open", "keep-short", "--set", "full_name=" + NAMES["aid_old"],
                        "--at", "2019-01-01T08:00").out.strip()
        self.ok("--as", "eka", "case", "close", there, "--reason", "needs_met", "--at", "2020-02-01T10:00:00Z")
        self.assertEqual(sorted(d["case"] for d in self.ok("--json", "retention", "due").json()["due"]),
                         sorted([here, there]))
        dry = self.ok("--as", "siti", "--json", "retention", "apply", "--dry-run").json()
        self.assertEqual([d["case"] for d in dry["due"]], [here])
        # An officer who reads every site (national staff) but belongs to main
        # would erase main's and leaves nunukan's, listed, for its officer.
        self.ok("--as", "admin", "staff", "add", "joko", "--name", "Joko Contoh", "--role", "national,data_protection",
                "--site", "main")
        dry = self.ok("--as", "joko", "--json", "retention", "apply", "--dry-run").json()
        self.assertEqual([d["case"] for d in dry["due"]], [here])
        self.assertEqual([(d["case"], d["site"]) for d in dry["other_sites"]], [(there, "nunukan")])
        text = self.ok("--as", "joko", "retention", "apply", "--dry-run").out
        self.assertIn("Due at sites joko does not belong to, left for their data protection officers: 1", text)
        done = self.ok("--as", "siti", "--json", "retention", "apply").json()
        self.assertEqual([e["case"] for e in done["erased"]], [here])
        self.assertEqual(done["failures"], [])
        self.assertEqual(self.query("SELECT count(*) FROM case_keys WHERE case_id = '%s'" % there), [("1",)])
        self.assertEqual(done["other_sites"], [])
        r = self.ok("--as", "siti", "--json", "retention", "due")
        self.assertEqual([d["case"] for d in r.json()["due"]], [])  # here's is erased now
        self.assertIn("siti reads the cases of site(s) main only: the other sites' cases are not listed", r.err)
        self.assertEqual(r.json()["sites"], ["main"])
        self.assertNotIn(there, r.out + r.err)
        self.assertNotIn(there, self.ok("--as", "tono", "retention", "apply", "--dry-run").out)
        shown = self.ok("--as", "eka", "case", "show", there, "--reveal", "--reason", "retention test").out
        self.assertIn(NAMES["aid_old"], shown)
        done = self.ok("--as", "eka", "--json", "retention", "apply").json()
        self.assertEqual([e["case"] for e in done["erased"]], [there])
        self.assertEqual(done["other_sites"], [])
        self.assertEqual(self.query("SELECT count(*) FROM case_keys WHERE case_id = '%s'" % there), [("0",)])
        self.assertIn("clean:", self.ok("audit", "verify").out)

    def test_bad_input_is_refused_and_writes_nothing(self):
        ids = self.cases()
        cases = [
            (1, ["--as", "budi", "retention", "apply"],
             "applying the retention rule erases personal data and needs the role data_protection; budi has roles "
             "shelter_staff"),
            (1, ["--as", "budi", "retention", "apply", "--dry-run"], "needs the role data_protection"),
            (2, ["retention", "apply"], "--as"),
            (2, ["--as", "siti", "retention", "apply", "--dryrun"], "--dry-run"),
            (2, ["--as", "siti", "retention", "apply", "--confirm"], "--confirm"),
            (2, ["retention", "due", "--dry-run"], "--dry-run"),
            (2, ["--as", "siti", "retention", "apply", ids["short_old"]],
             "unexpected argument '%s' for `retention apply`" % ids["short_old"]),
            (2, ["--as", "siti", "retention", "aply"], "did you mean `retention apply`"),
            (2, ["--as", "siti", "retention"], "`retention` needs a subcommand\nretention commands: due, apply"),
            (3, ["--as", "ghost", "retention", "apply"], "unknown staff member 'ghost'"),
        ]
        for code, args, message in cases:
            r = self.refused_unchanged(code, *args)
            self.assertIn(message, r.err, args)
        r = self.refused_unchanged(1, "--lang", "id", "--as", "budi", "retention", "apply")
        self.assertIn("memerlukan peran data_protection", r.err)

    def test_a_bad_retention_is_located(self):
        path = self.write("bad.yaml", KEEP_YAML.format(sop="keep-bad", retention="5 yrs"))
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read().splitlines()[3], "retention: 5 yrs")
        r = self.refused_unchanged(1, "--as", "admin", "sop", "publish", path)
        self.assertIn("%s:4:12: error: retention '5 yrs' is not a period; expected a whole number of days, months or "
                      "years, like 90 days, 18 months or 5 years (at most 100 years)" % path, r.err)
        for bad in ("0 days", "101 years", "5", "1.5 years"):
            path = self.write("bad.yaml", KEEP_YAML.format(sop="keep-bad", retention=bad))
            r = self.fails(1, "sop", "validate", path)
            self.assertIn("%s:4:12: error: retention '%s' is not a period" % (path, bad), r.err)
        path = self.write("good.yaml", KEEP_YAML.format(sop="keep-good", retention="1 year"))
        self.ok("sop", "validate", path)


@sqlite_only("a forged row in the database file")
class Forged(SopirTest):
    def test_a_retention_row_dated_before_the_case_was_due_is_a_finding(self):
        for who in ("siti",):
            self.ok("--as", "admin", "staff", "grant", who, "data_protection")
        self.ok("--as", "admin", "sop", "publish",
                self.write("short.yaml", KEEP_YAML.format(sop="keep-short", retention="30 days")))
        case_id = self.ok("--as", "budi", "case", "open", "keep-short", "--set", "full_name=Nur Bukit",
                          "--at", "2019-01-01T08:00").out.strip()
        self.ok("--as", "tono", "case", "close", case_id, "--reason", "needs_met", "--at", "2020-01-31T10:00:00Z")
        self.ok("--as", "siti", "retention", "apply")
        self.assertEqual(self.run_sopir("audit", "verify").code, 0)
        # A forger with the file moves the row's times to before it was due,
        # re-hashes the row (the head of its chain) and the case's head, and
        # puts the trigger back: the chain holds, the rule does not.
        import sqlite3
        con = sqlite3.connect(self.db)
        seq, prev, record = con.execute("SELECT seq, prev_hash, record FROM transitions WHERE case_id = ? "
                                        "AND json_extract(record, '$.kind') = 'erasure'", (case_id,)).fetchone()
        early = calendar.timegm((2020, 2, 15, 10, 0, 0))  # 2020-02-15T10:00:00Z, before 2020-03-01
        forged = re.sub(r'"(occurred_at|recorded_at)":\d+', lambda m: '"%s":%d' % (m.group(1), early), record)
        self.assertNotEqual(forged, record)
        digest = hashlib.sha256((prev + forged).encode()).hexdigest()
        trigger, = con.execute("SELECT sql FROM sqlite_master WHERE name = 'transitions_no_update'").fetchone()
        con.executescript("DROP TRIGGER transitions_no_update;")
        con.execute("UPDATE transitions SET record = ?, hash = ? WHERE seq = ?", (forged, digest, seq))
        con.execute("UPDATE cases SET head_hash = ? WHERE id = ?", (digest, case_id))
        con.executescript(trigger + ";")
        con.commit()
        con.close()
        v = self.run_sopir("audit", "verify")
        self.assertEqual(v.code, 1, v)
        self.assertIn("erased at 2020-02-15T10:00:00Z, before a retention of 30 days from closing at "
                      "2020-01-31T10:00:00Z ran out at 2020-03-01T10:00:00Z", v.out + v.err)
        self.assertNotIn("hash", (v.out + v.err).lower().replace("re-hash", ""))


if __name__ == "__main__":
    main()
