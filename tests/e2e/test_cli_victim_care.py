#!/usr/bin/env python3
"""The shipped victim-care procedure through the CLI: consent comes before the screening
interview; a child's agreement never makes a child "not a victim" and the refusal names the
regulation (source:); "not a victim" needs a second person; admission opens the four service
tracks, and a track's refusal of a police step without consent to share names its source too.
Every refused command leaves the database exactly as it was."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

WORKFLOWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workflows")
STAFF = [("nina", "case_worker"), ("bambang", "supervisor"), ("adi", "legal_officer"), ("ratna", "shelter_staff")]
TARGETS_FIRST = ("referral", "transfer", "tvc-health", "tvc-psychosocial", "tvc-legal", "tvc-tracing",
                 "tppo-victim-care")


class VictimCare(SopirTest):
    def setUp(self):
        super().setUp()
        for who, role in STAFF:
            self.ok("--as", "admin", "staff", "add", who, "--name", who.title() + " Contoh", "--role", role)
        self.ok("--as", "admin", "sop", "publish", *[os.path.join(WORKFLOWS, sop + ".yaml") for sop in TARGETS_FIRST])

    def advance(self, who, case, event, *sets, **kw):
        args = ["--as", who, "case", "advance", case, event]
        for s in sets:
            args += ["--set", s]
        if kw.get("reason"):
            args += ["--reason", kw["reason"]]
        return self.ok(*args)

    def test_a_childs_agreement_never_makes_not_a_victim_and_the_refusal_names_its_source(self):
        case = self.ok("--as", "nina", "case", "open", "tppo-victim-care", "--set", "full_name=Dani Contoh",
                       "--set", "is_child=true", "--set", "age=17", "--set", "referral_source=debarkation_shelter").out.strip()
        # Consent first: the screening interview is not a step of the first state.
        r = self.refused_unchanged(1, "--as", "nina", "case", "advance", case, "record_screening",
                                   "--set", "trafficking_status=possible_victim", "--set", "deciding_organisation=ngo")
        self.assertIn("record_screening", r.err)
        self.advance("nina", case, "notify_uptd_ppa", "uptd_ppa_office=UPTD PPA Contoh", "uptd_ppa_notified_on=2026-03-02")
        self.advance("nina", case, "record_guardian_consent", "guardian_name=Ibu Contoh", "guardian_relation=mother",
                     "consent_sharing=true", "consent_tracing=true", "child_agrees=true")
        not_victim = ["--set", "trafficking_status=not_a_victim", "--set", "deciding_organisation=uptd_ppa",
                      "--set", "screening_notes=Went with his uncle's knowledge"]
        r = self.refused_unchanged(1, "--as", "nina", "case", "advance", case, "record_screening", *not_victim,
                                   "--set", "not_victim_basis=no_coercive_means")
        self.assertIn("the rule for 'record_screening' does not hold", r.err)
        self.assertIn("(source: UU 21/2007 Pasal 26; Protokol Palermo Pasal 3(c))", r.err)
        # "No exploitation" is a ground for a child, and a second person decides.
        self.advance("nina", case, "record_screening", *[a for a in not_victim if a != "--set"],
                     "not_victim_basis=no_exploitation")
        shown = self.ok("--as", "nina", "case", "show", case, "--json").json()
        self.assertEqual((shown["state"], shown["status"]), ("not_victim_review", "active"))
        r = self.refused_unchanged(1, "--as", "nina", "case", "advance", case, "confirm_not_a_victim",
                                   "--reason", "Agree")
        self.ok("--as", "bambang", "case", "advance", case, "confirm_not_a_victim",
                "--reason", "UPTD PPA visit: he never worked there")
        shown = self.ok("--as", "nina", "case", "show", case, "--json").json()
        self.assertEqual((shown["state"], shown["status"]), ("not_a_victim", "closed"))
        self.ok("--as", "admin", "audit", "verify")

    def test_admission_opens_the_tracks_and_no_police_step_without_consent_to_share(self):
        case = self.ok("--as", "nina", "case", "open", "tppo-victim-care", "--set", "full_name=Rini Contoh",
                       "--set", "is_child=false", "--set", "referral_source=ngo").out.strip()
        self.advance("nina", case, "give_consent", "consent_sharing=false", "consent_tracing=true")
        self.advance("nina", case, "record_screening", "trafficking_status=confirmed_victim",
                     "deciding_organisation=police")
        self.advance("nina", case, "assess_risk", "risk_level=low")
        doc = self.ok("--as", "ratna", "case", "advance", case, "admit", "--set", "shelter_name=RPTC Contoh",
                      "--set", "social_contract_on=2026-03-02", "--json").json()
        self.assertEqual(doc["to"], "in_services")
        self.assertEqual([o["sop"] for o in doc["opened"]], ["tvc-health", "tvc-psychosocial", "tvc-legal", "tvc-tracing"])
        legal = [o["case"] for o in doc["opened"] if o["sop"] == "tvc-legal"][0]
        r = self.refused_unchanged(1, "--as", "adi", "case", "advance", legal, "file_police_report",
                                   "--set", "police_report_number=LP/B/1/III/2026", "--set", "police_report_on=2026-03-03")
        self.assertIn("consent_sharing", r.err)
        self.assertIn("(source: Permen P2MI 32/2025 Pasal 39)", r.err)
        # The return waits for the health and tracing tracks, not for the court.
        r = self.refused_unchanged(1, "--as", "nina", "case", "advance", case, "plan_return")
        self.assertIn("child_closed('tvc-health')", r.err)
        self.ok("--as", "admin", "audit", "verify")


if __name__ == "__main__":
    main()
