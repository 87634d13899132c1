#!/usr/bin/env python3
"""Referrals and transfers through the CLI, with the shipped procedures: a
victim-care case refers from the step it is in (and stays there), several
referrals at once, each answered by the receiving organisation; no referral
leaves without consent (the step is refused and nothing is written); a
transfer closes the sending case once accepted; `audit verify` replays it."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

WORKFLOWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "workflows")
STAFF = [("nina", "case_worker"), ("bambang", "supervisor"), ("hana", "health_worker"),
         ("ratna", "shelter_staff"), ("yusuf", "receiving_officer")]


class Referrals(SopirTest):
    def setUp(self):
        super().setUp()
        for who, role in STAFF:
            self.ok("--as", "admin", "staff", "add", who, "--name", who.title() + " Contoh", "--role", role)
        self.ok("--as", "admin", "sop", "publish", *[os.path.join(WORKFLOWS, sop + ".yaml")
                                                    for sop in ("referral", "transfer", "tvc-health", "tvc-psychosocial",
                                                                "tvc-legal", "tvc-tracing", "tppo-victim-care")])

    def in_shelter(self, consent_sharing):
        case = self.ok("--as", "nina", "case", "open", "tppo-victim-care", "--set", "full_name=Rini Contoh",
                       "--set", "is_child=false", "--set", "referral_source=ngo").out.strip()
        # Consent comes before the screening interview.
        self.ok("--as", "nina", "case", "advance", case, "give_consent",
                "--set", "consent_sharing=%s" % consent_sharing, "--set", "consent_tracing=true")
        self.ok("--as", "nina", "case", "advance", case, "record_screening",
                "--set", "trafficking_status=confirmed_victim", "--set", "deciding_organisation=police")
        self.ok("--as", "nina", "case", "advance", case, "assess_risk", "--set", "risk_level=low")
        self.ok("--as", "ratna", "case", "advance", case, "admit", "--set", "shelter_name=RPTC Contoh",
                "--set", "social_contract_on=2026-03-02")
        return case

    def refer(self, case, service, org):
        doc = self.ok("--as", "hana", "case", "advance", case, "refer", "--set", "referral_service=" + service,
                      "--set", "referral_org=" + org, "--json").json()
        self.assertEqual((doc["from"], doc["to"]), ("in_services", "in_services"), doc)
        self.assertEqual(doc["opened"]["sop"], "referral", doc)
        return doc["opened"]["case"]

    def test_referrals_from_the_current_step_are_answered_and_the_case_stays(self):
        case = self.in_shelter("true")
        before = self.ok("--as", "nina", "case", "show", case, "--json").json()
        # Admission opened the four service tracks at once.
        self.assertEqual(sorted(c["sop"] for c in before["children"]),
                         ["tvc-health", "tvc-legal", "tvc-psychosocial", "tvc-tracing"])
        visum = self.refer(case, "forensic_examination", "RSUD Contoh")
        aid = self.refer(case, "legal_aid", "LBH Contoh")
        shown = self.ok("--as", "nina", "case", "show", case, "--json").json()
        self.assertEqual(shown["state"], "in_services")
        # The clock over the whole stay runs on, from the same start.
        self.assertEqual([(c["clock"], c["status"], c["started_at"]) for c in shown["clocks"]],
                         [(c["clock"], c["status"], c["started_at"]) for c in before["clocks"]])
        self.assertEqual(shown["clocks"][0]["clock"], "shelter_stay")
        self.assertEqual(shown["clocks"][0]["status"], "running")
        # The referral carries what the receiving organisation needs, and nothing else.
        ref = self.ok("--as", "yusuf", "case", "show", visum, "--json").json()
        self.assertEqual(ref["state"], "in_progress")
        self.assertEqual(ref["data"]["service"], "forensic_examination")
        self.assertEqual(ref["data"]["receiving_org"], "RSUD Contoh")
        self.assertEqual(ref["data"]["consent_to_share"], "true")
        self.ok("--as", "yusuf", "case", "advance", visum, "accept")
        r = self.refused_unchanged(1, "--as", "yusuf", "case", "advance", aid, "reject",
                                   "--set", "rejection_reason=no_capacity")
        self.assertIn("needs a written reason", r.err)
        self.ok("--as", "yusuf", "case", "advance", aid, "reject", "--set", "rejection_reason=no_capacity",
                "--reason", "No lawyer free this month")
        # The sending case lists its referrals with their answers.
        children = {c["id"]: c for c in self.ok("--as", "nina", "case", "show", case, "--json").json()["children"]}
        self.assertEqual(children[visum]["state"], "accepted")
        self.assertEqual(children[aid]["state"], "rejected")
        self.ok("--as", "admin", "audit", "verify")

    def test_no_referral_without_consent_and_nothing_is_written(self):
        case = self.in_shelter("false")
        r = self.refused_unchanged(1, "--as", "hana", "case", "advance", case, "refer",
                                   "--set", "referral_service=medical_care", "--set", "referral_org=Puskesmas Contoh")
        self.assertIn("a case of 'referral' can be opened only when its rule holds: "
                      "consent_to_share == true is false (consent_to_share = no)",
                      r.err)
        r = self.refused_unchanged(1, "--lang", "id", "--as", "hana", "case", "advance", case, "refer",
                                   "--set", "referral_service=medical_care", "--set", "referral_org=Puskesmas Contoh")
        self.assertIn("kasus 'referral' hanya dapat dibuka bila aturannya terpenuhi: "
                      "consent_to_share == true bernilai salah (consent_to_share = tidak)",
                      r.err)

    def test_a_transfer_closes_the_sending_case_once_accepted(self):
        case = self.in_shelter("true")
        doc = self.ok("--as", "nina", "case", "advance", case, "request_transfer",
                      "--set", "transfer_org=Shelter Contoh Kupang", "--set", "transfer_reason=closer_to_home",
                      "--set", "handover_note=Screened; low risk", "--json").json()
        transfer = doc["opened"]["case"]
        r = self.refused_unchanged(1, "--as", "bambang", "case", "advance", case, "close_as_transferred")
        self.assertIn("track_state('transfer') == 'accepted' is false", r.err)
        self.ok("--as", "yusuf", "case", "advance", transfer, "accept", "--set", "responsible_officer=Yohana Contoh")
        self.ok("--as", "bambang", "case", "advance", case, "close_as_transferred")
        shown = self.ok("--as", "nina", "case", "show", case, "--json").json()
        self.assertEqual((shown["state"], shown["status"]), ("transferred", "closed"))
        self.ok("--as", "admin", "audit", "verify")


if __name__ == "__main__":
    main()
