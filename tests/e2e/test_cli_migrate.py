"""Moving running cases to a new version, end to end: `sop validate --from`
checks a migrate: section against an older file (located errors, both
languages, JSON), `sop publish` checks it against the published versions it
names and refuses, writing nothing, when it does not fit, and publishes with
a notice a file whose from: names a version this database never published."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

OLD = """\
sop: intake
version: 1
title: {en: Intake, id: Penerimaan}
roles: [shelter_staff]
fields:
  age: {type: int, label: {en: Age, id: Usia}}
  risk: {type: enum, values: [low, high], label: {en: Risk, id: Risiko}}
  notes: {type: string, pii: true, label: {en: Notes, id: Catatan}}
states:
  arrived: {initial: true, label: {en: Arrived, id: Tiba}}
  waiting_room: {label: {en: Waiting, id: Menunggu}}
  assessment: {label: {en: Assessment, id: Asesmen}}
  closed: {terminal: true, label: {en: Closed, id: Ditutup}}
transitions:
  - {event: wait, from: arrived, to: waiting_room, roles: [shelter_staff], when: "risk == 'low'", set: {notes: seen}}
  - {event: assess, from: [arrived, waiting_room], to: assessment, roles: [shelter_staff], when: "age > 0"}
  - {event: close, from: assessment, to: closed, roles: [shelter_staff]}
open: {requires: [age, risk]}
"""

NEW = """\
sop: intake
version: 2
title: {en: Intake, id: Penerimaan}
roles: [shelter_staff]
fields:
  age: {type: int, label: {en: Age, id: Usia}}
  risk_level: {type: enum, values: [low, medium, high], label: {en: Risk, id: Risiko}}
states:
  arrived: {initial: true, label: {en: Arrived, id: Tiba}}
  child_assessment: {label: {en: Child assessment, id: Asesmen anak}}
  adult_assessment: {label: {en: Adult assessment, id: Asesmen dewasa}}
  closed: {terminal: true, label: {en: Closed, id: Ditutup}}
transitions:
  - {event: assess_child, from: arrived, to: child_assessment, roles: [shelter_staff], when: "age < 18 and risk_level != 'medium'"}
  - {event: assess, from: arrived, to: adult_assessment, roles: [shelter_staff], when: "age >= 18"}
  - {event: finish, from: [child_assessment, adult_assessment], to: closed, roles: [shelter_staff]}
open: {requires: [age, risk_level]}
migrate:
  from: 1
  states:
    waiting_room: arrived
    assessment:
      - to: child_assessment
        when: has(age) and age < 18
      - to: adult_assessment
  fields:
    risk_level: risk
  drop: [notes]
  events:
    close: finish
"""

UNMAPPED = NEW.replace("    waiting_room: arrived\n", "")
UNMAPPED_ERROR = (
    "v2.yaml:18:1: error: state 'waiting_room' of version 1 can be reached and is neither mapped nor a state "
    "of this version: map it (waiting_room: STATE) or declare its cases not movable (waiting_room: stays)\n"
    "migrate:\n^\n\n")


class Validate(SopirTest):
    publish = False

    def test_a_fitting_migration_validates(self):
        old, new = self.write("v1.yaml", OLD), self.write("v2.yaml", NEW)
        r = self.ok("sop", "validate", "--strict", new, "--from", old)
        self.assertEqual(r.out, new + ": ok (intake)\n")
        self.assertEqual(r.err, "")

    def test_show_lists_how_older_versions_move(self):
        # Policy staff read each section of migrate: without opening the YAML.
        self.write("v2.yaml", NEW.replace("    risk_level: risk\n", "    risk_level: {from: risk, default: low}\n"))
        out = self.ok("sop", "show", "v2.yaml").out
        section = out[out.index("Moving cases of older versions (migrate:)"):]
        self.assertEqual(section.split("\n\n")[0].rstrip("\n") + "\n",
                         "Moving cases of older versions (migrate:)\n"
                         "From version 1:\n"
                         "In the older version  In this version\n"
                         "state waiting_room    state arrived\n"
                         "state assessment      state child_assessment if has(age) and age < 18; "
                         "otherwise adult_assessment\n"
                         "field risk            field risk_level, low when the case has no value\n"
                         "field notes           left behind (drop:)\n"
                         "event close           event finish\n"
                         "States, fields and events not listed keep their names.\n")
        out = self.ok("--lang", "id", "sop", "show", "v2.yaml").out
        self.assertIn("Memindahkan kasus versi lama (migrate:)\nDari versi 1:\n", out)
        self.assertIn("isian notes         ditinggalkan (drop:)\nperistiwa close     peristiwa finish\n", out)
        doc = self.ok("--json", "sop", "show", "v2.yaml").json()
        self.assertEqual(doc["migrate"], [{
            "from": [1],
            "states": [{"from": "waiting_room", "to": [{"state": "arrived", "when": None}], "stays": False,
                        "stays_reason": None},
                       {"from": "assessment", "to": [{"state": "child_assessment", "when": "has(age) and age < 18"},
                                                     {"state": "adult_assessment", "when": None}],
                        "stays": False, "stays_reason": None}],
            "fields": [{"field": "risk_level", "from": "risk", "default": "low"}],
            "drop": ["notes"],
            "events": [{"from": "close", "to": "finish"}]}])
        # A procedure without migrate: shows no such part, and an empty list.
        self.assertNotIn("migrate:", self.ok("sop", "show", self.aid).out)
        self.assertEqual(self.ok("--json", "sop", "show", self.aid).json()["migrate"], [])

    def test_an_unmapped_state_is_located_in_the_new_file(self):
        self.write("v1.yaml", OLD)
        self.write("v2.yaml", UNMAPPED)
        # Without --from only the file itself is checked: it is fine.
        self.ok("sop", "validate", "v2.yaml")
        r = self.fails(1, "sop", "validate", "v2.yaml", "--from", "v1.yaml")
        self.assertEqual(r.err, UNMAPPED_ERROR + "1 error(s), 0 warning(s)\n")
        self.assertEqual(r.out, "")
        r = self.fails(1, "--lang", "id", "sop", "validate", "v2.yaml", "--from", "v1.yaml")
        self.assertIn("v2.yaml:18:1: kesalahan: tahap 'waiting_room' versi 1 dapat dicapai tetapi tidak dipetakan", r.err)
        doc = self.fails(1, "--json", "sop", "validate", "v2.yaml", "--from", "v1.yaml").json()
        self.assertFalse(doc["ok"])
        [diag] = doc["files"][0]["diagnostics"]
        self.assertEqual((diag["code"], diag["line"], diag["column"]), ("migrate-unmapped", 18, 1))

    def test_a_type_change_and_a_missing_name(self):
        self.write("v1.yaml", OLD)
        self.write("v2.yaml", NEW.replace("    risk_level: risk\n", "    risk_level: age\n")
                   .replace("    close: finish\n", "    closed: finish\n"))
        r = self.fails(1, "sop", "validate", "v2.yaml", "--from", "v1.yaml")
        self.assertIn("v2.yaml:27:5: error: field 'age' is int in version 1 but 'risk_level' is enum here: "
                      "a mapped field keeps its type\n", r.err)
        self.assertIn("v2.yaml:30:5: error: 'closed' is not an event of version 1; did you mean 'close'?\n", r.err)
        # The field risk is now neither kept nor dropped: a warning.
        self.assertIn("v2.yaml:18:1: warning: field 'risk' of version 1 is not kept by this version", r.err)

    def test_a_landing_state_with_no_end_is_refused_by_the_file_alone(self):
        text = NEW.replace("    waiting_room: arrived\n", "    waiting_room: limbo\n").replace(
            "  closed: {terminal: true",
            "  limbo: {label: {en: Limbo, id: Limbo}}\n  closed: {terminal: true")
        self.write("v2.yaml", text)
        r = self.fails(1, "sop", "validate", "v2.yaml")
        self.assertIn("v2.yaml:22:19: error: a case of state 'waiting_room' would land in 'limbo', from which no end "
                      "of this procedure can be reached (closed): it could never finish; map it to a state from "
                      "which the procedure can end\n    waiting_room: limbo\n                  ^\n", r.err)

    def test_an_older_file_of_another_procedure_is_a_usage_error(self):
        self.write("v2.yaml", NEW)
        r = self.fails(2, "sop", "validate", "v2.yaml", "--from", self.aid)
        self.assertEqual(r.err, "sopir: error: --from %s is procedure 'aid', and no file validated is (they are "
                                "'intake' (v2.yaml)): give --from an older version of a procedure validated\n"
                         % self.aid)
        self.assertEqual(r.out, "")

    def test_errors_of_the_file_are_shown_with_from_as_without(self):
        # A file with errors may well be a version of --from's procedure:
        # its errors are reported (exit 1), never hidden behind the pairing.
        self.write("v1.yaml", OLD)
        for broken in (NEW.replace("  - {event: finish, from: [child_assessment, adult_assessment], to: closed",
                                   "  - {event: finish, from: [child_assessment, adult_assesment], to: closed"),
                       NEW.replace("    waiting_room: arrived\n", "    waiting_room: arived\n")):
            self.write("v2.yaml", broken)
            alone = self.fails(1, "sop", "validate", "--strict", "v2.yaml")
            self.assertRegex(alone.err, r"^v2.yaml:\d+:\d+: error: ")
            r = self.fails(1, "sop", "validate", "--strict", "v2.yaml", "--from", "v1.yaml")
            self.assertEqual(r.err, alone.err)
            self.assertNotIn("--from", r.err)
            doc = self.fails(1, "--json", "sop", "validate", "v2.yaml", "--from", "v1.yaml").json()
            self.assertEqual(doc["files"][0]["diagnostics"],
                             self.fails(1, "--json", "sop", "validate", "v2.yaml").json()["files"][0]["diagnostics"])
        # Of another procedure and with errors: its errors, not the pairing.
        r = self.fails(1, "sop", "validate", "--strict", "v2.yaml", "--from", self.aid)
        self.assertEqual(r.err, alone.err)

    def test_an_older_version_not_named_by_from(self):
        self.write("v1.yaml", OLD)
        self.write("v3.yaml", NEW.replace("version: 2", "version: 3").replace("  from: 1\n", "  from: 2\n"))
        r = self.fails(1, "sop", "validate", "v3.yaml", "--from", "v1.yaml")
        self.assertIn("v3.yaml:18:1: error: version 1 (v1.yaml) is not in migrate: from: (2); list it there "
                      "to move its cases here\n", r.err)


class Publish(SopirTest):
    def test_publish_checks_the_published_versions_and_writes_nothing_when_refused(self):
        self.ok("--as", "admin", "sop", "publish", self.write("v1.yaml", OLD))
        bad = self.write("v2.yaml", UNMAPPED)
        r = self.refused_unchanged(1, "--as", "admin", "sop", "publish", bad)
        self.assertIn("its migrate: section does not fit the published versions it moves cases from:", r.err)
        self.assertIn(UNMAPPED_ERROR.replace("v2.yaml:", bad + ":").replace("^\n\n", "^"), r.err)
        self.ok("--as", "admin", "sop", "publish", self.write("v2.yaml", NEW))
        versions = self.ok("--json", "sop", "list").json()["procedures"]
        self.assertIn(2, [v["version"] for v in versions if v["sop"] == "intake"])

    def test_a_field_left_behind_refuses_publishing_as_validate_strict_does(self):
        # validate gives a warning (an error with --strict); publishing is
        # strict: it refuses, writing nothing, until the field is mapped or
        # listed under drop:.
        self.ok("--as", "admin", "sop", "publish", self.write("v1.yaml", OLD))
        left = self.write("v2.yaml", NEW.replace("  fields:\n    risk_level: risk\n", ""))
        r = self.fails(1, "sop", "validate", "--strict", left, "--from", self.write("v1.yaml", OLD))
        self.assertIn("field 'risk' of version 1 is not kept by this version", r.err)
        r = self.refused_unchanged(1, "--as", "admin", "sop", "publish", left)
        self.assertIn("its migrate: section does not fit the published versions it moves cases from:", r.err)
        self.assertIn(left + ":18:1: error: field 'risk' of version 1 is not kept by this version", r.err)
        self.assertEqual(self.versions(), [1])
        dropped = self.write("v2.yaml", NEW.replace("  fields:\n    risk_level: risk\n", "")
                             .replace("  drop: [notes]\n", "  drop: [notes, risk]\n"))
        self.ok("--as", "admin", "sop", "publish", dropped)
        self.assertEqual(self.versions(), [1, 2])

    def versions(self):
        return sorted(v["version"] for v in self.ok("--json", "sop", "list").json()["procedures"]
                      if v["sop"] == "intake")

    def test_a_first_publication_naming_a_version_never_published_here_says_nothing(self):
        # An office that never had version 1 publishes the national version 2:
        # no case of intake runs here, so none is left behind.
        r = self.ok("--as", "admin", "--json", "sop", "publish", self.write("v2.yaml", NEW))
        self.assertEqual(r.err, "")
        self.assertEqual(r.json()["published"][0]["migrate_from_unpublished"], [])
        self.assertEqual(self.versions(), [2])

    def test_from_with_a_typo_names_the_versions_published(self):
        self.ok("--as", "admin", "sop", "publish", self.write("v1.yaml", OLD))
        typo = NEW.replace("version: 2", "version: 3").replace("  from: 1\n", "  from: 2\n")
        r = self.ok("--as", "admin", "--lang", "id", "sop", "publish", self.write("v3.yaml", typo))
        self.assertTrue(r.out.startswith("intake versi 3 sudah diterbitkan (sha256 "), r.out)
        self.assertEqual(r.err, "sopir: intake versi 3: migrate: from: menyebut versi 2, tetapi basis data ini "
                                "tidak memiliki versi 2 dari intake yang diterbitkan, jadi tidak ada kasus "
                                "berjalan yang akan dipindahkan olehnya; versi intake yang diterbitkan di sini "
                                "adalah 1\n")
        self.assertEqual(self.versions(), [1, 3])
        # Said again, in English and for a script, when the same text is
        # published again (nothing new is written).
        before = self.dump()
        r = self.ok("--as", "admin", "--json", "sop", "publish", self.write("v3.yaml", typo))
        self.assertEqual(r.err, "sopir: intake version 3: migrate: from: names version 2, but this database "
                                "has no published version 2 of intake, so no running case will be moved by it; "
                                "the versions of intake published here are 1\n")
        doc = r.json()["published"][0]
        self.assertEqual((doc["version"], doc["already_published"], doc["migrate_from_unpublished"]),
                         (3, True, [2]))
        self.assertEqual(before, self.dump())
        # Of two versions named, only the one never published is told.
        both = NEW.replace("version: 2", "version: 4").replace("  from: 1\n", "  from: [1, 2]\n")
        r = self.ok("--as", "admin", "sop", "publish", self.write("v4.yaml", both))
        self.assertEqual(r.err, "sopir: intake version 4: migrate: from: names version 2, but this database "
                                "has no published version 2 of intake, so no running case will be moved by it; "
                                "the versions of intake published here are 1, 3\n")
        self.assertEqual(self.versions(), [1, 3, 4])

    def test_no_notice_when_from_names_published_versions(self):
        self.ok("--as", "admin", "sop", "publish", self.write("v1.yaml", OLD))
        r = self.ok("--as", "admin", "--json", "sop", "publish", self.write("v2.yaml", NEW))
        self.assertEqual(r.err, "")
        self.assertEqual(r.json()["published"][0]["migrate_from_unpublished"], [])
        self.assertEqual(self.versions(), [1, 2])


class Plan(SopirTest):
    """Four running cases of version 1 and a closed one; version 2 moves
    three of them (by name, by a renamed state, by a split) and cannot move
    the fourth (no branch of the split holds)."""

    def setUp(self):
        super().setUp()
        self.ok("--as", "admin", "sop", "publish", self.write("v1.yaml", OLD))
        self.cases = {}
        for name, age, risk, steps in (("arrived", 30, "low", []), ("waiting", 40, "low", ["wait"]),
                                       ("child", 12, "high", ["assess"]), ("old", 70, "high", ["assess"]),
                                       ("closed", 50, "high", ["assess", "close"])):
            case = self.ok("--as", "budi", "case", "open", "intake", "--set", "age=%d" % age,
                           "--set", "risk=" + risk).out.strip()
            for step in steps:
                self.ok("--as", "budi", "case", "advance", case, step)
            self.cases[name] = case
        split = NEW.replace("      - to: adult_assessment\n", "      - {to: adult_assessment, when: age < 65}\n")
        self.ok("--as", "admin", "sop", "publish", self.write("v2.yaml", split))

    def test_the_plan_says_where_each_case_lands_and_writes_nothing(self):
        before = self.dump()
        doc = self.ok("migrate", "plan", "intake", "--to", "2", "--format", "json").json()
        self.assertEqual(before, self.dump())
        self.assertEqual(doc["format"], "sopir-migration-plan-1")
        self.assertEqual((doc["sop"], doc["to_version"]), ("intake", 2))
        self.assertEqual(doc["summary"], {"cases": 4, "moving": 3, "staying": 1, "by_version": {"1": 4}})
        by_id = {c["case"]: c for c in doc["cases"]}
        self.assertNotIn(self.cases["closed"], by_id)
        arrived = by_id[self.cases["arrived"]]
        self.assertEqual((arrived["from_state"], arrived["to_state"], arrived["moves"]), ("arrived", "arrived", True))
        self.assertEqual(arrived["changes"], [{"field": "risk_level", "from_field": "risk", "before": "", "after": "low"}])
        self.assertEqual(arrived["from_version"], 1)
        self.assertEqual(len(arrived["head_hash"]), 64)
        self.assertEqual(by_id[self.cases["waiting"]]["to_state"], "arrived")
        # Personal data never leaves the database in a plan.
        self.assertIn({"field": None, "from_field": "notes", "before": "***", "after": ""},
                      by_id[self.cases["waiting"]]["changes"])
        self.assertEqual(by_id[self.cases["child"]]["to_state"], "child_assessment")
        old = by_id[self.cases["old"]]
        self.assertEqual((old["moves"], old["to_state"], old["changes"]), (False, None, []))
        self.assertEqual(old["reason"], "no branch for state 'assessment' holds for this case "
                                        "(has(age) and age < 18; age < 65)")

    def test_table_csv_and_a_saved_file_with_its_hash(self):
        table = self.ok("migrate", "plan", "intake", "--to", "2").out
        self.assertRegex(table, r"%s\s+1\s+assessment\s+child_assessment\s+risk_level <- risk: - -> high" % self.cases["child"])
        self.assertRegex(table, r"%s\s+1\s+assessment\s+\(stays\)\s+no branch for state" % self.cases["old"])
        self.assertIn("notes: *** -> -", table)
        self.assertNotIn("seen", table)
        self.assertTrue(table.endswith("4 case(s) of older versions of intake (to version 2): 3 move, 1 stay\n"), table)
        table_id = self.ok("--lang", "id", "migrate", "plan", "intake", "--to", "2").out
        self.assertIn("tidak ada cabang untuk tahap 'assessment' yang", table_id)
        self.assertIn("(tetap)", table_id)
        csv = self.ok("migrate", "plan", "intake", "--to", "2", "--format", "csv").out
        self.assertTrue(csv.startswith("case,from_version,status,from_state,moves,to_state,reason,changes,"
                                       "due_before,due_after\n"), csv)  # CRLF, read as text
        self.assertEqual(csv.count("\n"), 5)
        r = self.ok("migrate", "plan", "intake", "--to", "2", "--output", "plan.json")
        import hashlib
        with open(os.path.join(self.dir, "plan.json"), "rb") as f:
            data = f.read()
        digest = hashlib.sha256(data).hexdigest()
        self.assertEqual(r.out, "wrote plan.json: 4 case(s), 3 move, 1 stay; sha256 %s\n" % digest)
        self.assertEqual(json.loads(data)["summary"]["moving"], 3)
        r = self.ok("migrate", "plan", "intake", "--to", "2", "--output", "plan.csv")
        self.assertIn("wrote plan.csv: 4 case(s)", r.out)

    def test_bad_input_is_refused_with_a_clear_error(self):
        before = self.dump()
        r = self.fails(3, "migrate", "plan", "intake", "--to", "9")
        # A version whose file is not published here: publish it first.
        self.assertIn("'intake' has no version 9 published in this database (published: 1, 2); publish its file "
                      "first: sopir sop publish FILE\n", r.err)
        r = self.fails(3, "--lang", "id", "migrate", "plan", "intake", "--to", "3")
        self.assertIn("'intake' tidak punya versi 3 yang diterbitkan di basis data ini (yang diterbitkan: 1, 2); "
                      "terbitkan berkasnya dulu: sopir sop publish BERKAS\n", r.err)
        r = self.fails(3, "migrate", "plan", "intak", "--to", "2")
        self.assertIn("no procedure 'intak' is published; did you mean 'intake'?", r.err)
        r = self.fails(2, "migrate", "plan", "intake", "--to", "two")
        self.assertIn("--to takes a version number as sop list shows it, e.g. --to 3; got 'two'", r.err)
        r = self.fails(2, "migrate", "plan", "intake", "--to", "1")
        self.assertIn("version 1 is the first version of 'intake': there are no older cases to move", r.err)
        r = self.fails(2, "migrate", "plan", "intake", "--to", "2", "--output", "plan.txt")
        self.assertIn("a plan is saved as csv or json", r.err)
        r = self.fails(2, "migrate", "plan", "intake", "--to", "2", "--format", "xml")
        self.assertIn("unknown plan format 'xml'; expected table, csv or json", r.err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "plan.txt")))
        self.assertEqual(before, self.dump())


if __name__ == "__main__":
    main()
