"""Case-level clocks (`clocks:`) end to end: a clock over several states shows
in `case show` (both languages), `tick`, `case list --overdue` and `todo`;
`audit verify` replays a database with clocks cleanly; a clock naming an
unknown state is refused where it is written. Also `sop paths` naming the
tracks a step opens.

The cases are dated in August 2026 with --at, so their 30-day clock is past
its limit by the time the test runs."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

SOURCE = os.environ.get("SOPIR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

PROCEDURE = """sop: stay
version: 1
title: {en: Shelter stay, id: Tinggal di rumah aman}
roles: [shelter_staff]
states:
  intake: {initial: true, label: {en: Intake, id: Penerimaan}}
  in_shelter: {label: {en: In shelter, id: Di rumah aman}}
  medical: {label: {en: Medical care, id: Perawatan medis}}
  return_plan: {label: {en: Return plan, id: Rencana pemulangan}}
  returned: {terminal: true, label: {en: Returned, id: Sudah pulang}}
transitions:
  - {event: admit, from: intake, to: in_shelter, roles: [shelter_staff]}
  - {event: refer_medical, from: in_shelter, to: medical, roles: [shelter_staff]}
  - {event: plan, from: [in_shelter, medical], to: return_plan, roles: [shelter_staff]}
  - {event: return_home, from: return_plan, to: returned, roles: [shelter_staff]}
clocks:
  shelter_stay:
    label: {en: Whole shelter stay, id: Seluruh masa tinggal}
    start: in_shelter
    stop: return_plan
    limit: 30 days
"""


class Clocks(SopirTest):
    def setUp(self):
        super().setUp()
        self.ok("--as", "admin", "sop", "publish", self.write("stay.yaml", PROCEDURE))
        self.case = self.ok("--as", "budi", "case", "open", "stay", "--at", "2026-08-14T10:00").out.strip()
        self.ok("--as", "budi", "case", "advance", self.case, "admit", "--at", "2026-08-15T10:00")
        self.ok("--as", "budi", "case", "advance", self.case, "refer_medical", "--at", "2026-08-20T10:00")

    def test_show_tick_list_and_todo(self):
        shown = self.ok("--as", "budi", "case", "show", self.case, "--json").json()
        self.assertEqual(shown["clocks"], [{
            "clock": "shelter_stay", "status": "overdue", "limit": "30 days",
            "started_at": "2026-08-15T10:00:00Z", "stopped_at": None,
            "due_at": "2026-09-14T10:00:00Z", "overdue": True}])
        text = self.ok("--as", "budi", "case", "show", self.case).out
        self.assertIn("Clocks:\n  Whole shelter stay [shelter_stay]: running since 2026-08-15T10:00:00Z, "
                      "limit 30 days, due 2026-09-14T10:00:00Z (past its limit)\n", text)
        text_id = self.ok("--lang", "id", "--as", "budi", "case", "show", self.case).out
        self.assertIn("Jam kasus:\n  Seluruh masa tinggal [shelter_stay]: berjalan sejak 2026-08-15T10:00:00Z",
                      text_id)
        self.assertIn("(melewati batas)", text_id)

        tick = self.ok("--as", "admin", "tick", "--json").json()
        self.assertEqual(tick["clocks_overdue"], [{"case": self.case, "sop": "stay", "clock": "shelter_stay",
                                                    "due_at": "2026-09-14T10:00:00Z"}])
        self.assertIn("Clocks past their limit: 1", self.ok("--as", "admin", "tick").out)

        listed = self.ok("--as", "budi", "case", "list", "--overdue", "--json").json()
        row = [c for c in listed["cases"] if c["id"] == self.case][0]
        self.assertTrue(row["overdue"])
        self.assertEqual(row["clocks_overdue"], ["shelter_stay"])
        self.assertIn("clock shelter_stay past its limit", self.ok("--as", "budi", "case", "list", "--overdue").out)

        todo = self.ok("--as", "budi", "todo", "--json").json()
        row = [c for c in todo["cases"] if c["id"] == self.case][0]
        self.assertTrue(row["overdue"])
        self.assertEqual(row["clocks_overdue"], ["shelter_stay"])

    def test_another_sites_clocks_are_not_listed(self):
        # A member of another site lists no case of main past its clock, in
        # `case list --overdue` as in their tick (the case was added to the
        # list whatever its site).
        self.ok("--as", "admin", "site", "add", "nunukan", "--name", "Pos Debarkasi Nunukan")
        self.ok("--as", "admin", "staff", "add", "eka", "--name", "Eka Contoh", "--role", "shelter_staff",
                "--site", "nunukan")
        listed = self.ok("--as", "eka", "case", "list", "--overdue", "--json").json()
        self.assertEqual(listed["cases"], [])
        self.assertNotIn(self.case, self.ok("--as", "eka", "case", "list", "--overdue").out)
        self.assertEqual(self.ok("--as", "eka", "tick", "--json").json()["clocks_overdue"], [])
        listed = self.ok("--as", "budi", "case", "list", "--overdue", "--json").json()
        self.assertEqual([c["id"] for c in listed["cases"]], [self.case])

    def test_stopped_by_a_state_and_verified(self):
        self.ok("--as", "budi", "case", "advance", self.case, "plan", "--at", "2026-09-20T10:00")
        shown = self.ok("--as", "budi", "case", "show", self.case, "--json").json()
        self.assertEqual(shown["clocks"][0]["status"], "stopped_late")
        self.assertEqual(shown["clocks"][0]["stopped_at"], "2026-09-20T10:00:00Z")
        tick = self.ok("--as", "admin", "tick", "--json").json()
        self.assertEqual(tick["clocks_overdue"], [])
        self.ok("--as", "admin", "audit", "verify")

    def test_an_unknown_state_is_refused_where_it_is_written(self):
        bad = self.write("bad.yaml", PROCEDURE.replace("stop: return_plan", "stop: return_plna")
                         .replace("sop: stay", "sop: stay-bad"))
        r = self.fails(1, "--as", "admin", "sop", "publish", bad)
        self.assertIn("bad.yaml:20:11: error: unknown state 'return_plna' in stop of clock 'shelter_stay'; "
                      "did you mean 'return_plan'?", r.err)

    def test_sop_paths_names_the_tracks_a_step_opens(self):
        victim_care = os.path.join(SOURCE, "tests", "data", "tracks", "victim-care.yaml")
        out = self.ok("sop", "paths", victim_care).out
        self.assertIn("intake --start_services--> in_services [opens medical-track, psychosocial-track, "
                      "legal-track, tracing-track] --plan_return--> ready_to_return", out)
        doc = self.ok("sop", "paths", victim_care, "--json").json()
        self.assertEqual(doc["paths"][0]["steps"][0]["opens"],
                         ["medical-track", "psychosocial-track", "legal-track", "tracing-track"])
        self.assertEqual(doc["paths"][0]["steps"][1]["opens"], [])


if __name__ == "__main__":
    main()
