#!/usr/bin/env python3
"""`sopir audit export --format htcds` with the shipped procedures: victim-care cases opened
and referred through the CLI come out as records of IOM's Human Trafficking Case Data
Standard, in CSV and JSON, personal values masked unless revealed to an allowed role (and
each reveal logged); every column is an HTCDS field and every coded value one of its codes,
as engine/data/htcds-2.0.fields writes them (read here with this file's own few lines).
Bad input (an unknown standard, file format or procedure, a procedure without a mapping)
fails with a clear message and a documented exit code, and writes nothing."""
import csv
import io
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
WORKFLOWS = os.path.join(SOURCE, "workflows")
STAFF = [("nina", "case_worker"), ("bambang", "supervisor"), ("hana", "health_worker"),
         ("ratna", "shelter_staff")]


def standard_fields():
    """HTCDS field name -> its codes ([] for free text), from the data file."""
    fields = {}
    with open(os.path.join(SOURCE, "engine", "data", "htcds-2.0.fields"), encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if not words or words[0].startswith("#") or words[0] in ("section", "standard"):
                continue
            fields[words[0]] = words[4:]
    return fields


FIELDS = standard_fields()


def in_value_set(field, code):
    codes = FIELDS[field]
    if codes == ["@iso3166"]:
        return re.fullmatch(r"[A-Z]{2}", code) is not None
    if codes == ["@iso639"]:
        return re.fullmatch(r"[a-z]{2,3}", code) is not None
    return code in codes


class HtcdsExport(SopirTest):
    def setUp(self):
        super().setUp()
        for who, role in STAFF:
            self.ok("--as", "admin", "staff", "add", who, "--name", who.title() + " Contoh", "--role", role)
        self.ok("--as", "admin", "sop", "publish", *[os.path.join(WORKFLOWS, sop + ".yaml")
                                                    for sop in ("referral", "transfer", "tvc-health", "tvc-psychosocial",
                                                                "tvc-legal", "tvc-tracing", "tppo-victim-care")])
        self.case = self.ok("--as", "nina", "case", "open", "tppo-victim-care", "--set", "full_name=Rini Contoh",
                            "--set", "is_child=false", "--set", "referral_source=ngo", "--set", "sex=female",
                            "--set", "phone=+62 811 000 111").out.strip()
        # Consent comes before the screening interview.
        self.ok("--as", "nina", "case", "advance", self.case, "give_consent",
                "--set", "consent_sharing=true", "--set", "consent_tracing=true")
        self.ok("--as", "nina", "case", "advance", self.case, "record_screening",
                "--set", "trafficking_status=confirmed_victim", "--set", "deciding_organisation=lpsk",
                "--set", "exploitation_type=forced_criminality, organ_removal",
                "--set", "means_of_control=debt_bondage, withheld_documents",
                "--set", "recruitment_method=social_media")
        self.ok("--as", "nina", "case", "advance", self.case, "refer", "--set", "referral_service=legal_aid",
                "--set", "referral_org=LBH Contoh")

    def check_standard(self, columns, records):
        for column in columns:
            self.assertIn(column, FIELDS, "not an HTCDS field: " + column)
        for record in records:
            for column, value in record.items():
                if not FIELDS[column] or value in (None, "", "***"):
                    continue
                codes = value if isinstance(value, list) else value.split(";") if isinstance(value, str) else [value]
                for code in codes:
                    if code not in (None, ""):
                        self.assertTrue(in_value_set(column, code), "%s = %r" % (column, value))

    def csv_records(self, text):
        self.assertTrue(text.startswith("\ufeff"), "the CSV starts with a BOM")
        reader = csv.DictReader(io.StringIO(text[1:], newline=""))
        records = list(reader)
        self.check_standard(reader.fieldnames, records)
        return records

    def test_csv_masks_personal_values(self):
        records = self.csv_records(self.ok("audit", "export", "--format", "htcds", "--csv").out)
        self.assertEqual(len(records), 1)
        r = records[0]
        self.assertEqual(r["prs_FirstName"], "***")
        self.assertEqual(r["prs_MobilePhone"], "***")
        self.assertEqual(r["prs_Gender"], "Feminine")
        self.assertEqual(r["vic_TraffickingStatus"], "ActualVictimOfTrafficking")
        self.assertEqual(r["vic_TraffickingStatusDecisionMakingOrg"], "NonPoliceGovernmentalOrganization")
        self.assertEqual(r["vic_TypeOfExploitation"], "Other;OrganRemoval")
        self.assertEqual(r["vic_MethodsOfControl"], "DebtBondage;WithholdsDocuments")
        self.assertEqual(r["vic_MethodOfRecruitment"], "ThroughOnlineSocialNetworks")
        self.assertEqual(r["cas_Status"], "Active")
        self.assertEqual(r["cas_ReferredOrganisation"], "LBH Contoh")
        self.assertEqual(r["cas_ReasonForOutgoingReferral"], "AdditionalServicesRequired")
        self.assertEqual(r["con_Consent"], "TRUE")
        self.assertEqual(self.query("SELECT count(*) FROM access_log"), [("0",)])

    def test_json_file_and_reveal_to_an_allowed_role(self):
        out = os.path.join(self.dir, "cases.json")
        r = self.ok("--as", "bambang", "audit", "export", "--format", "htcds", "--sop", "tppo-victim-care",
                    "--output", out, "--reveal", "--reason", "referral to IOM")
        self.assertEqual(r.out, "wrote %s (1 records)\n" % out)
        with open(out, encoding="utf-8") as f:
            doc = json.load(f)
        self.assertEqual((doc["standard"], doc["version"], doc["procedure"]), ("HTCDS", "2.0", "tppo-victim-care"))
        self.check_standard(doc["records"][0].keys(), doc["records"])
        record = doc["records"][0]
        self.assertEqual(record["prs_FirstName"], "Rini Contoh")
        self.assertEqual(record["vic_TypeOfExploitation"], ["Other", "OrganRemoval"])
        self.assertEqual(record["cas_ReferredOrganisation"], ["LBH Contoh"])
        self.assertIs(record["con_Consent"], True)
        self.assertEqual(self.query("SELECT actor, case_id, what, reason FROM access_log"),
                         [("bambang", self.case, "audit export --format htcds --reveal", "referral to IOM")])
        # Without --reveal, to stdout with --json: masked.
        masked = self.ok("--json", "audit", "export", "--format", "htcds").json()
        self.assertEqual(masked["records"][0]["prs_FirstName"], "***")

    def test_reveal_refused_to_a_role_without_access_writes_nothing(self):
        out = os.path.join(self.dir, "cases.csv")
        r = self.refused_unchanged(1, "--as", "ratna", "audit", "export", "--format", "htcds",
                                   "--output", out, "--reveal", "--reason", "curious")
        self.assertIn("ratna may not see personal data of procedure tppo-victim-care", r.err)
        self.assertFalse(os.path.exists(out))

    def test_bad_input_is_refused_and_nothing_is_written(self):
        out = os.path.join(self.dir, "cases.csv")
        cases = [
            (2, ["--format", "ctdc", "--output", out], "format 'ctdc' is not known for audit export; use htcds"),
            (2, ["--format", "htcds", "--output", os.path.join(self.dir, "cases.txt")],
             "output format 'txt' is not known; use csv or json"),
            (3, ["--format", "htcds", "--sop", "tppo-victim-cares", "--output", out],
             "no procedure 'tppo-victim-cares' is published; did you mean 'tppo-victim-care'?"),
            (2, ["--format", "htcds", "--sop", "aid", "--output", out],
             "procedure 'aid' has no HTCDS mapping; add a 'standards: htcds:' block"),
        ]
        for code, args, message in cases:
            r = self.refused_unchanged(code, "audit", "export", *args)
            self.assertIn(message, r.err)
            self.assertFalse(os.path.exists(out))
        r = self.fails(2, "audit", "export", "--sop", "tppo-victim-care")
        self.assertIn("`audit export` needs --format htcds\n  --format htcds: the standard: htcds\n", r.err)


if __name__ == "__main__":
    main()
