"""Working-day deadlines on a holiday calendar, end to end: the due time
that `case show` and `todo` give skips Indonesia's Independence Day, and a
calendar file edited after publishing changes nothing for the published
version."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

SOURCE = os.environ.get("SOPIR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

CALENDAR = """covers: {from: 2026-01-01, to: 2030-12-31}
weekend: [saturday, sunday]
days:
  - {date: 2026-08-17, kind: holiday, name: {id: Hari Kemerdekaan, en: Independence Day}}
"""

PROCEDURE = """sop: visit
version: 1
title: {en: Home visit, id: Kunjungan rumah}
roles: [shelter_staff]
calendar: office
states:
  planned:
    label: {en: Planned, id: Direncanakan}
    initial: true
    deadline: 1 working day
  done: {label: {en: Done, id: Selesai}, terminal: true}
transitions:
  - {event: visit, label: {en: Visit, id: Kunjungi}, from: planned, to: done, roles: [shelter_staff]}
"""


class Calendar(SopirTest):
    def setUp(self):
        super().setUp()
        os.mkdir(os.path.join(self.dir, "calendars"))
        self.calendar = self.write("calendars/office.yaml", CALENDAR)
        self.ok("--as", "admin", "sop", "publish", self.write("visit.yaml", PROCEDURE))

    def open_visit(self, at):
        return self.ok("--as", "budi", "case", "open", "visit", "--at", at).out.strip()

    def test_due_skips_a_holiday_in_show_and_todo(self):
        # Friday 14 August 2026, 10:00: the weekend and Monday the 17th
        # (Independence Day) do not count; the visit is due Tuesday.
        case = self.open_visit("2026-08-14T10:00")
        shown = self.ok("--as", "budi", "case", "show", case, "--json").json()
        self.assertEqual(shown["due_at"], "2026-08-18T10:00:00Z")
        self.assertIn("2026-08-18", self.ok("--as", "budi", "case", "show", case).out)
        todo = self.ok("--as", "budi", "todo", "--json").json()
        row = [c for c in todo["cases"] if c["id"] == case][0]
        self.assertEqual(row["due_at"], "2026-08-18T10:00:00Z")
        self.assertTrue(row["overdue"])

    def test_the_published_version_keeps_its_calendar(self):
        with open(self.calendar, "a", encoding="utf-8") as f:
            f.write("  - {date: 2026-08-18, kind: collective_leave, name: {id: Cuti, en: Leave}}\n")
        case = self.open_visit("2026-08-14T10:00")
        shown = self.ok("--as", "budi", "case", "show", case, "--json").json()
        self.assertEqual(shown["due_at"], "2026-08-18T10:00:00Z")

    def test_an_unknown_calendar_is_refused_where_it_is_named(self):
        bad = self.write("bad.yaml", PROCEDURE.replace("calendar: office", "calendar: ofice"))
        r = self.fails(1, "--as", "admin", "sop", "publish", bad)
        self.assertIn("bad.yaml:5:11: error: unknown calendar 'ofice'; no file ofice.yaml in "
                      + self.dir + "/calendars\n"
                      "calendar: ofice\n"
                      "          ^\n", r.err)

    def test_a_scenario_pins_its_calendar(self):
        # tests/data/working-days.test.yaml: due times that skip 17 August.
        r = self.ok("sop", "test", os.path.join(SOURCE, "tests", "data", "working-days.test.yaml"))
        self.assertIn("3 scenario(s): 3 passed, 0 failed", r.out)


if __name__ == "__main__":
    main()
