"""Set fields, labelled values and yes/no booleans through the CLI: giving a
set with --set, in the shell and in a batch CSV; labels in both languages in
case show, case history, audit tables and sop show; ids (sets as arrays) in
JSON; refusals that name the wrong value; verify and replay over sets;
min/max today and now judged at the time of the step (--at included), by
the step and by verify and replay alike."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

SCREENING_YAML = """\
sop: screening
version: 1
title: {en: Screening, id: Identifikasi}
roles: [shelter_staff]
fields:
  means:
    type: set
    values:
      - {id: debt_bondage, label: {en: Debt bondage, id: Jeratan utang}}
      - {id: withheld_documents, label: {en: Documents withheld, id: Dokumen ditahan}}
      - {id: threats, label: {en: Threats, id: Ancaman}}
    label: {en: Means of control, id: Cara pengendalian}
  status:
    type: enum
    values:
      - {id: possible_victim, label: {en: Possible victim, id: Diduga korban}}
      - {id: not_a_victim, label: {en: Not a victim, id: Bukan korban}}
    label: {en: Status, id: Status}
  consented: {type: bool, label: {en: Consented, id: Setuju}}
states:
  screening: {initial: true, label: {en: Screening, id: Identifikasi}}
  care: {label: {en: Care, id: Perawatan}}
  closed: {terminal: true, label: {en: Closed, id: Ditutup}}
transitions:
  - event: refer
    from: screening
    to: care
    roles: [shelter_staff]
    when: debt_bondage in means or count(means) >= 2
    accepts: [means, consented]
  - event: close
    from: [screening, care]
    to: closed
    roles: [shelter_staff]
    when: means == [] or status == not_a_victim
    accepts: [means, status]
open:
  requires: [means, status]
  accepts: [consented]
"""


# Bounds that stand for the step's own day or moment (docs: workflows/README.md,
# min/max): a date of birth or arrival no later than the step, a visit no
# earlier.
ARRIVAL_YAML = """\
sop: arrival
version: 1
title: {en: Arrival, id: Kedatangan}
roles: [shelter_staff]
fields:
  born_on: {type: date, max: today, label: {en: Born on, id: Tanggal lahir}}
  arrived_at: {type: datetime, max: now, label: {en: Arrived at, id: Tiba pada}}
  next_visit: {type: date, min: today, label: {en: Next visit, id: Kunjungan berikutnya}}
states:
  arrived: {initial: true, label: {en: Arrived, id: Tiba}}
  recorded: {terminal: true, label: {en: Recorded, id: Dicatat}}
transitions:
  - event: record
    from: arrived
    to: recorded
    roles: [shelter_staff]
    accepts: [arrived_at, next_visit]
open:
  accepts: [born_on]
"""

class Fields(SopirTest):
    def setUp(self):
        super().setUp()
        self.ok("--as", "admin", "sop", "publish", self.write("screening.yaml", SCREENING_YAML))

    def open(self, *sets):
        args = ["--as", "budi", "case", "open", "screening"]
        if not any(s.startswith("status=") for s in sets):
            sets += ("status=possible_victim",)
        for s in sets:
            args += ["--set", s]
        return self.ok(*args).out.strip()

    def test_set_given_at_the_cli_is_stored_canonically(self):
        case_id = self.open("means=threats,debt_bondage,threats", "status=possible_victim",
                            "consented=ya")
        show = self.ok("--as", "budi", "case", "show", case_id, "--json").json()
        self.assertEqual(show["data"]["means"], ["debt_bondage", "threats"])
        self.assertEqual(show["data"]["status"], "possible_victim")
        self.assertEqual(show["data"]["consented"], "true")
        hist = self.ok("--as", "budi", "case", "history", case_id, "--json").json()
        opened = hist["entries"][0]
        self.assertEqual(opened["inputs"]["means"], "debt_bondage,threats")  # logged canonically
        change = [c for c in opened["changes"] if c["field"] == "means"][0]
        self.assertEqual(change["after"], ["debt_bondage", "threats"])
        self.ok("--as", "budi", "case", "advance", case_id, "refer")
        # The empty set is a value of its own.
        self.ok("--as", "budi", "case", "advance", case_id, "close", "--set", "means=")
        show = self.ok("--as", "budi", "case", "show", case_id, "--json").json()
        self.assertEqual(show["data"]["means"], [])
        self.assertEqual(show["state"], "closed")
        self.ok("audit", "verify")
        replay = self.ok("--as", "admin", "audit", "replay", "--sop",
                         self.write("again.yaml", SCREENING_YAML)).out
        self.assertIn("0 step(s) would be refused or routed differently", replay)

    def test_labels_in_english_and_indonesian(self):
        case_id = self.open("means=withheld_documents,debt_bondage", "status=possible_victim",
                            "consented=no")
        text = self.ok("--as", "budi", "case", "show", case_id).out
        self.assertIn("Debt bondage, Documents withheld", text)
        self.assertIn("Possible victim", text)
        self.assertRegex(text, r"Consented \(consented\)\s+no\b")
        text = self.ok("--as", "budi", "--lang", "id", "case", "show", case_id).out
        self.assertIn("Jeratan utang, Dokumen ditahan", text)
        self.assertIn("Diduga korban", text)
        self.assertRegex(text, r"Setuju \(consented\)\s+tidak\b")
        text = self.ok("--as", "budi", "--lang", "id", "case", "history", case_id).out
        self.assertIn("means=Jeratan utang, Dokumen ditahan", text)
        self.assertIn("consented=tidak", text)
        text = self.ok("--as", "budi", "case", "history", case_id).out
        self.assertIn("consented=no", text)
        text = self.ok("--lang", "id", "audit", "case", case_id).out
        self.assertIn("isian:    means = Jeratan utang, Dokumen ditahan", text)
        self.assertIn("isian:    consented = tidak", text)
        text = self.ok("--lang", "id", "audit", "log", "--case", case_id).out
        self.assertIn("means: (tidak ada) -> Jeratan utang, Dokumen ditahan", text)
        # CSV and JSON lines keep the ids.
        csv = self.ok("--lang", "id", "audit", "case", case_id, "--format", "csv").out
        self.assertIn("means: (none) -> debt_bondage,withheld_documents", csv)
        lines = self.ok("audit", "case", case_id, "--format", "jsonl").out
        self.assertIn('"after":["debt_bondage","withheld_documents"]', lines.replace(" ", ""))
        text = self.ok("--lang", "id", "sop", "show", "screening").out
        self.assertIn("set: debt_bondage (Jeratan utang) | withheld_documents (Dokumen", text)
        self.assertIn("enum: possible_victim (Diduga korban) | not_a_victim (Bukan korban)", text)
        doc = self.ok("--lang", "id", "sop", "show", "screening", "--json").json()
        means = [f for f in doc["fields"] if f["id"] == "means"][0]
        self.assertEqual(means["values"], ["debt_bondage", "withheld_documents", "threats"])
        self.assertEqual(means["value_labels"]["threats"], "Ancaman")
        diagram = self.ok("--lang", "id", "sop", "diagram", "screening").out
        self.assertIn("refer [\'Jeratan utang\' in means or count(means) >= 2]", diagram)

    def test_refusal_names_labels_in_the_language(self):
        case_id = self.open("means=threats")
        r = self.refused_unchanged(1, "--as", "budi", "--lang", "id", "case", "advance", case_id, "refer")
        self.assertEqual(
            r.err,
            "sopir: ditolak: kasus %s: aturan untuk 'refer' tidak terpenuhi: debt_bondage in means "
            "bernilai salah (means = [threats] (Ancaman)) dan count(means) >= 2 bernilai salah "
            "(means = [threats] (Ancaman), count(means) = 1)\n"
            % case_id)
        why = self.ok("--as", "budi", "case", "why", case_id, "refer").out
        self.assertIn("means = [threats] (Threats)", why)

    def test_bad_set_value_is_refused_with_what_is_accepted(self):
        case_id = self.open("means=threats")
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "refer",
                                   "--set", "means=threats,debt_bondge")
        self.assertEqual(
            r.err,
            "sopir: refused: case %s: means: 'debt_bondge' (in 'threats,debt_bondge') is not one of "
            "its values; give any of: debt_bondage, withheld_documents, threats, separated by commas "
            "([] or nothing for none); did you mean 'debt_bondage'?\n" % case_id)
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "refer",
                                   "--set", "consented=mungkin")
        self.assertIn("consented: 'mungkin' is not true or false (also yes/no, ya/tidak, 1/0)", r.err)

    def test_set_in_the_shell_and_in_a_batch(self):
        case_id = self.open("means=threats")
        script = self.write("s.txt", "as budi\nuse %s\ncase advance refer --set means=threats,debt_bondage\n"
                                     "case show --json\n" % case_id)
        r = self.ok("shell", script)
        self.assertIn('"debt_bondage",', r.out)
        csv = self.write("in.csv", 'means,status,consented\n"threats,withheld_documents",possible_victim,ya\n'
                                   '[],not_a_victim,tidak\n')
        doc = self.ok("--as", "budi", "case", "import", csv, "--sop", "screening", "--json").json()
        ids = [row["case"] for row in doc["rows"]]
        first = self.ok("--as", "budi", "case", "show", ids[0], "--json").json()
        self.assertEqual(first["data"]["means"], ["withheld_documents", "threats"])
        second = self.ok("--as", "budi", "case", "show", ids[1], "--json").json()
        self.assertEqual(second["data"]["means"], [])
        self.assertEqual(second["data"]["consented"], "false")


class TodayBounds(SopirTest):
    def setUp(self):
        super().setUp()
        self.arrival = self.write("arrival.yaml", ARRIVAL_YAML)
        self.ok("--as", "admin", "sop", "publish", self.arrival)

    def test_a_step_taken_earlier_is_bounded_by_its_own_day_in_verify_and_replay(self):
        # 06:30 in Jakarta on 10 March 2025 is 23:30 UTC on the 9th, long
        # before the audit. max: today is that moment's date in UTC+14 (the
        # 10th), min: today its date in UTC-12 (the 9th): the bounds of that
        # day, not of the day the audit runs.
        opened_at, stepped_at = "2025-03-09T23:30:00Z", "2025-03-09T23:45:00Z"
        r = self.refused_unchanged(1, "--as", "budi", "case", "open", "arrival", "--at", opened_at,
                                   "--set", "born_on=2025-03-11")
        self.assertIn("born_on: '2025-03-11' must be at most today (2025-03-10 at the latest, "
                      "wherever the step is taken)", r.err)
        case_id = self.ok("--as", "budi", "case", "open", "arrival", "--at", opened_at,
                          "--set", "born_on=2025-03-10").out.strip()
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "record",
                                   "--at", stepped_at, "--set", "arrived_at=2025-03-09T23:46:00Z")
        self.assertIn("arrived_at: '2025-03-09T23:46:00Z' must be at most now (2025-03-09T23:45:00Z)",
                      r.err)
        self.ok("--as", "budi", "case", "advance", case_id, "record", "--at", stepped_at,
                "--set", "arrived_at=2025-03-10T06:30+07:00", "--set", "next_visit=2025-03-09")
        # Replayed, each step is judged at its own time: next_visit, earlier
        # than the audit's today, is no finding, nor is any other value.
        self.assertIn("clean:", self.ok("audit", "verify").out)
        replay = self.ok("--as", "admin", "audit", "replay", "--sop", self.arrival).out
        self.assertIn("0 step(s) would be refused or routed differently", replay)


if __name__ == "__main__":
    main()
