"""sopir case commands: every refusal kind, JSON documents, exit codes, and
the database left unchanged by anything refused."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import AID_YAML, SopirTest, main  # noqa: E402


class Cases(SopirTest):
    def test_open_json_and_show(self):
        doc = self.ok("--as", "budi", "case", "open", "aid", "--set", "item=food_pack",
                      "--set", "quantity=3", "--set", "full_name=Wati Contoh", "--json").json()
        case_id = doc["case"]
        self.assertEqual(doc["state"], "requested")
        self.assertEqual(doc["status"], "active")
        self.assertIsNotNone(doc["due_at"])
        # budi may not see personal data; siti (supervisor) may, asking with a reason.
        show = self.ok("--as", "budi", "case", "show", case_id, "--json").json()
        self.assertEqual(show["id"], case_id)
        self.assertEqual(show["state"], "requested")
        self.assertEqual(show["data"]["full_name"], "***")
        self.assertEqual(show["masked"], ["full_name"])
        self.assertEqual(show["data"]["quantity"], "3")
        self.assertEqual(show["guidance"], "Check the request with the person.")
        events = {e["event"]: e for e in show["events"]}
        self.assertTrue(events["review"]["possible"])
        self.assertFalse(events["escalate"]["possible"])
        show = self.ok("--as", "siti", "case", "show", case_id, "--json").json()
        self.assertEqual(show["data"]["full_name"], "***")
        show = self.ok("--as", "siti", "case", "show", case_id, "--json", "--reveal", "--reason", "call back").json()
        self.assertEqual(show["data"]["full_name"], "Wati Contoh")
        text = self.ok("--as", "budi", "case", "show", case_id).out
        self.assertIn("***", text)
        self.assertNotIn("Wati", text)
        self.assertIn("review", text)
        text = self.ok("--as", "budi", "--lang", "id", "case", "show", case_id).out
        self.assertIn("Diajukan", text)
        self.assertIn("Periksa permintaan bersama orangnya.", text)
        self.assertIn("Tahap", text)

    def test_case_id_typed_loosely(self):
        case_id = self.open_case()
        loose = case_id.replace("-", "").lower()
        doc = self.ok("--as", "budi", "case", "show", loose, "--json").json()
        self.assertEqual(doc["id"], case_id)
        r = self.fails(3, "--as", "budi", "case", "show", "ZZZ-ZZZ")
        self.assertEqual(r.err, "sopir: error: no case 'ZZZ-ZZZ'\n")

    def test_full_path_and_history(self):
        case_id = self.open_case()
        doc = self.ok("--as", "budi", "case", "advance", case_id, "review", "--json").json()
        self.assertEqual((doc["from"], doc["to"]), ("requested", "reviewed"))
        doc = self.ok("--as", "tono", "case", "advance", case_id, "approve", "--set",
                      "approved_quantity=5", "--note", "ok", "--json").json()
        self.assertEqual(doc["to"], "approved")
        doc = self.ok("--as", "budi", "case", "advance", case_id, "deliver", "--json").json()
        self.assertEqual(doc["to"], "delivered")
        self.assertEqual(doc["status"], "closed")
        hist = self.ok("--as", "budi", "case", "history", case_id, "--json").json()
        self.assertEqual([e["event"] for e in hist["entries"]], ["open", "review", "approve", "deliver"])
        opened = hist["entries"][0]
        self.assertEqual(opened["inputs"]["full_name"], "***")
        self.assertEqual(hist["entries"][2]["actor"], "tono")
        self.assertEqual(hist["entries"][2]["note"], "ok")
        hist = self.ok("--as", "siti", "case", "history", case_id, "--json", "--reveal", "--reason", "review").json()
        # The log keeps no personal data in its inputs; the change shows it
        # to a role in pii_visible_to who asks.
        self.assertEqual(hist["entries"][0]["inputs"]["full_name"], "***")
        change = [c for c in hist["entries"][0]["changes"] if c["field"] == "full_name"][0]
        self.assertEqual(change["after"], "Wati Contoh")
        text = self.ok("--as", "budi", "case", "history", case_id).out
        self.assertIn("approve", text)
        self.assertNotIn("Wati", text)

    def test_refusal_role(self):
        case_id = self.open_case()
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "escalate")
        self.assertEqual(r.err, "sopir: refused: case %s: event 'escalate' may be done by supervisor; "
                                "budi has roles shelter_staff\n" % case_id)

    def test_refusal_guard_and_override(self):
        case_id = self.ok("--as", "budi", "case", "open", "aid", "--set", "item=food_pack",
                          "--set", "quantity=80").out.strip()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        r = self.refused_unchanged(1, "--as", "tono", "case", "advance", case_id, "approve",
                                   "--set", "approved_quantity=80")
        self.assertEqual(r.err, "sopir: refused: case %s: the rule for 'approve' does not hold: "
                                "quantity <= 50 is false (quantity = 80) (as supervisor you may "
                                "override it with a written reason) (--override --reason TEXT)\n"
                                % case_id)
        # override needs a reason
        self.refused_unchanged(1, "--as", "tono", "case", "advance", case_id, "approve",
                               "--set", "approved_quantity=80", "--override")
        doc = self.ok("--as", "tono", "case", "advance", case_id, "approve", "--set",
                      "approved_quantity=80", "--override", "--reason", "flood emergency",
                      "--json").json()
        self.assertEqual(doc["kind"], "override")

    def test_refusal_missing_field(self):
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        r = self.refused_unchanged(1, "--as", "tono", "case", "advance", case_id, "approve")
        self.assertEqual(r.err, "sopir: refused: case %s: event 'approve' needs a value for "
                                "approved_quantity (give with --set FIELD=VALUE)\n" % case_id)

    def test_refusal_bad_input(self):
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        r = self.refused_unchanged(1, "--as", "tono", "case", "advance", case_id, "approve",
                                   "--set", "approved_quantity=lots")
        self.assertIn("approved_quantity", r.err)
        r = self.refused_unchanged(1, "--as", "tono", "case", "advance", case_id, "approve",
                                   "--set", "aproved_quantity=3")
        self.assertIn("approved_quantity", r.err)  # did you mean
        self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve",
                               "--set", "approved_quantity")
        self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve",
                               "--at", "yesterday")
        self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve", "--sett", "x=1")
        r = self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve",
                                   "--set", "approved_quantity=3", "--set", "approved_quantity=30")
        self.assertIn("--set gives approved_quantity twice; give each field once", r.err)
        r = self.refused_unchanged(1, "--as", "budi", "case", "open", "aid", "--set", "item=car",
                                   "--set", "quantity=1")
        self.assertIn("hygiene_kit", r.err)
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "aprove")
        self.assertIn("approve", r.err)

    def test_values_typed_without_set_are_shown_how_to_give(self):
        # A value typed as a bare FIELD=VALUE word is told how to give it,
        # the command written out to copy, not a usage line (exit 2).
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        r = self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve", "approved_quantity=3")
        self.assertEqual(r.err, "sopir: error: a field's value is given with --set FIELD=VALUE: case advance %s "
                                "approve --set approved_quantity=3\n" % case_id)
        r = self.refused_unchanged(2, "--lang", "id", "--as", "budi", "case", "open", "aid", "item=hygiene_kit",
                                   "quantity=5", "full_name=Wati Contoh")
        self.assertEqual(r.err, "sopir: kesalahan: nilai isian diberikan dengan --set FIELD=VALUE: case open aid "
                                "--set item=hygiene_kit --set quantity=5 --set 'full_name=Wati Contoh'\n")
        # The options given with it are written out too, so that the command
        # shown does all that was meant.
        r = self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve", "--note",
                                   "checked twice", "approved_quantity=3", "--at", "2026-03-02T09:00")
        self.assertEqual(r.err, "sopir: error: a field's value is given with --set FIELD=VALUE: case advance %s "
                                "approve --set approved_quantity=3 --note 'checked twice' --at 2026-03-02T09:00\n"
                                % case_id)
        r = self.refused_unchanged(2, "--as", "budi", "case", "open", "aid", "quantity=5", "--set",
                                   "item=hygiene_kit", "--site", "main")
        self.assertEqual(r.err, "sopir: error: a field's value is given with --set FIELD=VALUE: case open aid "
                                "--set item=hygiene_kit --set quantity=5 --site main\n")
        # Words that do not fit the command without the values get its usage,
        # not a written-out command it would refuse.
        r = self.refused_unchanged(2, "--as", "tono", "case", "advance", "approve", "approved_quantity=3")
        self.assertEqual(r.err, "sopir: error: case advance takes CASE EVENT, e.g. case advance K7F-3QX approve\n")
        r = self.refused_unchanged(2, "--as", "budi", "case", "open", "item=hygiene_kit")
        self.assertEqual(r.err, "sopir: error: case open takes one SOP id, e.g. case open aid-distribution\n")
        # The command it shows does what was meant.
        self.ok("--as", "tono", "case", "advance", case_id, "approve", "--set", "approved_quantity=3", "--note",
                "checked twice")

    def test_a_value_starting_with_a_dash_is_written_out_as_the_command_line_takes_it(self):
        # A value starting with '-' is written NAME=VALUE (quoted when it must
        # be): after a space a value such as --json is taken for the global
        # option, leaving --note without its value. The command shown runs.
        import shlex
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        r = self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve", "approved_quantity=3",
                                   "--note=-short by two", "--at=-")
        self.assertEqual(r.err, "sopir: error: a field's value is given with --set FIELD=VALUE: case advance %s "
                                "approve --set approved_quantity=3 --note='-short by two' --at=-\n" % case_id)
        r = self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve", "approved_quantity=3",
                                   "--note=--json")
        written = "case advance %s approve --set approved_quantity=3 --note=--json" % case_id
        self.assertEqual(r.err, "sopir: error: a field's value is given with --set FIELD=VALUE: %s\n" % written)
        # Written with a space, it is misread.
        self.refused_unchanged(2, "--as", "tono", "case", "advance", case_id, "approve", "--set",
                               "approved_quantity=3", "--note", "--json")
        self.ok("--as", "tono", *shlex.split(written))
        steps = json.dumps(self.ok("--as", "tono", "--json", "case", "history", case_id).json())
        self.assertIn('"--json"', steps)

    def test_refusal_four_eyes(self):
        case_id = self.open_case()
        self.ok("--as", "siti", "case", "advance", case_id, "review")
        r = self.refused_unchanged(1, "--as", "siti", "case", "advance", case_id, "approve",
                                   "--set", "approved_quantity=5")
        self.assertIn("review", r.err)

    # `case why` must say what `case advance` would: four-eyes before inputs.
    def test_why_reports_four_eyes(self):
        case_id = self.open_case()
        self.ok("--as", "siti", "case", "advance", case_id, "review")
        why = self.ok("--as", "siti", "case", "why", case_id, "approve", "--json").json()
        self.assertFalse(why["events"][0]["possible"])
        self.assertEqual(why["events"][0]["refusal_kind"], "four-eyes")

    def test_refusal_reason_required(self):
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        r = self.refused_unchanged(1, "--as", "tono", "case", "advance", case_id, "reject")
        self.assertEqual(r.err, "sopir: refused: case %s: event 'reject' needs a written reason "
                                "(give it with --reason TEXT)\n" % case_id)
        self.ok("--as", "tono", "case", "advance", case_id, "reject", "--reason", "duplicate request")

    def test_refusal_not_in_state(self):
        case_id = self.open_case()
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "deliver")
        self.assertEqual(r.err, "sopir: refused: case %s: event 'deliver' is not possible in state "
                                "'requested' (Requested); possible now: review, escalate\n" % case_id)

    def test_hold_resume_and_refusal_on_hold(self):
        case_id = self.open_case()
        self.refused_unchanged(1, "--as", "budi", "case", "resume", case_id)
        doc = self.ok("--as", "budi", "case", "hold", case_id, "--reason", "waiting", "--json").json()
        self.assertEqual(doc["status"], "on_hold")
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "review")
        self.assertEqual(r.err, "sopir: refused: case %s: the case is on hold; resume it first "
                                "(case resume %s)\n" % (case_id, case_id))
        doc = self.ok("--as", "budi", "case", "list", "--status", "on_hold", "--json").json()
        self.assertEqual([c["id"] for c in doc["cases"]], [case_id])
        self.ok("--as", "budi", "case", "resume", case_id)
        self.ok("--as", "budi", "case", "advance", case_id, "review")

    def test_close_reopen_and_refusal_closed(self):
        case_id = self.open_case()
        self.refused_unchanged(1, "--as", "budi", "case", "close", case_id, "--reason", "needs_met")
        self.refused_unchanged(1, "--as", "tono", "case", "close", case_id, "--reason", "bored")
        doc = self.ok("--as", "tono", "case", "close", case_id, "--reason", "declined", "--json").json()
        self.assertEqual(doc["status"], "closed")
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", case_id, "review")
        self.assertEqual(r.err, "sopir: refused: case %s: the case is closed; reopen it first, with a "
                                "written reason (case reopen %s --reason TEXT)\n" % (case_id, case_id))
        doc = self.ok("--as", "tono", "case", "reopen", case_id, "--reason", "came back", "--json").json()
        self.assertEqual(doc["status"], "active")

    def test_why_lists_each_event(self):
        case_id = self.open_case()
        doc = self.ok("--as", "budi", "case", "why", case_id, "--json").json()
        events = {e["event"]: e for e in doc["events"]}
        self.assertEqual(set(events), {"review", "escalate"})
        self.assertTrue(events["review"]["possible"])
        self.assertEqual(events["escalate"]["refusal_kind"], "role")
        text = self.ok("--as", "budi", "case", "why", case_id).out
        self.assertIn("escalate", text)
        r = self.fails(1, "--as", "budi", "case", "why", case_id, "reviw")
        self.assertEqual(r.err, "sopir: refused: case %s: procedure 'aid' has no event 'reviw'; "
                                "did you mean 'review'? (possible now: review, escalate)\n" % case_id)

    def test_list_filters(self):
        a = self.open_case()
        b = self.open_case("budi", "--at", "2020-01-01T08:00")
        doc = self.ok("case", "list", "--json").json()
        self.assertEqual({c["id"] for c in doc["cases"]}, {a, b})
        self.assertEqual(doc["count"], 2)
        doc = self.ok("case", "list", "--overdue", "--json").json()
        self.assertEqual([c["id"] for c in doc["cases"]], [b])
        self.assertTrue(doc["cases"][0]["overdue"])
        doc = self.ok("case", "list", "--due-within", "7d", "--json").json()
        self.assertEqual({c["id"] for c in doc["cases"]}, {a, b})
        doc = self.ok("case", "list", "--state", "reviewed", "--json").json()
        self.assertEqual(doc["cases"], [])
        self.fails(2, "case", "list", "--status", "open")
        self.fails(2, "case", "list", "--due-within", "soon")
        # A procedure or state nobody has would list nothing without a word.
        for command in (("case", "list"), ("audit", "log"), ("audit", "report")):
            r = self.fails(3, *command, "--sop", "aidd")
            self.assertIn("did you mean 'aid'?", r.err)
        for command in (("case", "list"), ("audit", "log")):
            r = self.fails(2, *command, "--state", "reveiwed")
            self.assertIn("--state 'reveiwed' is not a state of any published procedure; its states are: approved, "
                          "delivered, escalated, rejected, requested, reviewed; did you mean 'reviewed'?", r.err)
            r = self.fails(2, *command, "--sop", "aid", "--state", "closed")
            self.assertIn("--state 'closed' is not a state of procedure aid", r.err)
        # A state there is lists its rows.
        rows = self.ok("audit", "log", "--state", "requested", "--format", "jsonl").out.splitlines()
        self.assertEqual({json.loads(row)["case_id"] for row in rows}, {a, b})
        self.assertEqual(self.ok("case", "list", "--sop", "aid", "--state", "requested", "--json").json()["count"], 2)
        self.assertIn(a, self.ok("case", "list").out)

    def test_tick_fires_deadline_events(self):
        late = self.open_case("budi", "--at", "2020-01-01T08:00")
        fresh = self.open_case()
        doc = self.ok("tick", "--json").json()
        self.assertEqual([f["case"] for f in doc["fired"]], [late])
        self.assertEqual(doc["fired"][0]["event"], "escalate")
        # The timer pass ends with a checkpoint over every chain.
        self.assertEqual(doc["checkpoint"]["upto_seq"], doc["checkpoint"]["seq"] - 1)
        self.assertEqual(len(doc["checkpoint"]["root"]), 64)
        show = self.ok("--as", "budi", "case", "show", late, "--json").json()
        self.assertEqual(show["state"], "escalated")
        show = self.ok("--as", "budi", "case", "show", fresh, "--json").json()
        self.assertEqual(show["state"], "requested")
        self.ok("tick")

    def test_tick_exits_with_the_code_of_an_event_it_could_not_fire(self):
        # Version 2 escalates only cases with a name: the timer holds no
        # key to read it (docs/PRIVACY.md) unless a member logs in.
        plain = self.open_case("budi", "--at", "2020-01-01T08:00")
        escalate = "    roles: [supervisor]\n    label: {en: Escalate, id: Eskalasi}\n"
        self.assertIn(escalate, AID_YAML)
        named_only = AID_YAML.replace("version: 1", "version: 2").replace(
            escalate, "    roles: [supervisor]\n    when: len(full_name) > 1\n    label: {en: Escalate, id: Eskalasi}\n")
        self.ok("--as", "admin", "sop", "publish", self.write("aid-2.yaml", named_only))
        named = self.open_case("budi", "--at", "2020-01-01T09:00")
        # No log-in, and on a server no key file either.
        keyless = {"SOPIR_KEY_FILE": ""}
        r = self.run_sopir("tick", "--json", env=keyless)
        self.assertEqual(r.code, 6, r)
        doc = r.json()
        self.assertEqual([f["case"] for f in doc["fired"]], [plain])  # the other still fired
        self.assertEqual(len(doc["failures"]), 1)
        self.assertIn(named, doc["failures"][0])
        r = self.run_sopir("tick", env=keyless)
        self.assertEqual(r.code, 6, r)
        self.assertIn("sopir: tick: case %s" % named, r.err)
        doc = self.ok("--as", "admin", "tick", "--json").json()
        self.assertEqual([f["case"] for f in doc["fired"]], [named])
        self.assertEqual(doc["failures"], [])

    def test_ticks_exit_code_is_the_failure_most_in_need_of_someone(self):
        # Deadlines refused by the rules (exit 1 alone) before and after one
        # that needs a key (exit 6 alone): 6, whichever came first or last.
        escalate = "    roles: [supervisor]\n    label: {en: Escalate, id: Eskalasi}\n"
        guarded = "    roles: [supervisor]\n    when: %s\n    label: {en: Escalate, id: Eskalasi}\n"
        self.ok("--as", "admin", "sop", "publish", self.write("aid-2.yaml", AID_YAML.replace(
            "version: 1", "version: 2").replace(escalate, guarded % "len(full_name) > 1")))
        needs_key = self.open_case("budi", "--at", "2020-01-01T08:00")
        self.ok("--as", "admin", "sop", "publish", self.write("aid-3.yaml", AID_YAML.replace(
            "version: 1", "version: 3").replace(escalate, guarded % "quantity > 100")))
        refused = [self.open_case("budi", "--at", at) for at in ("2020-01-01T07:00", "2020-01-01T09:00")]
        r = self.run_sopir("tick", "--json", env={"SOPIR_KEY_FILE": ""})
        self.assertEqual(r.code, 6, r)
        failures = r.json()["failures"]
        self.assertEqual([[c for c in refused + [needs_key] if c in f] for f in failures],
                         [[refused[0]], [needs_key], [refused[1]]])
        # With the key, only the rules' refusals are left: exit 1.
        r = self.run_sopir("--as", "admin", "tick", "--json")
        self.assertEqual(r.code, 1, r)
        self.assertEqual(len(r.json()["failures"]), 2)
        self.assertTrue(all("quantity > 100" in f for f in r.json()["failures"]), r.json()["failures"])

    def test_system_actor_is_not_for_people(self):
        case_id = self.open_case()
        self.refused_unchanged(1, "--as", "system", "case", "advance", case_id, "escalate")

    def test_unknown_sop_and_actor(self):
        r = self.refused_unchanged(3, "--as", "budi", "case", "open", "aidd", "--set", "item=food_pack")
        self.assertEqual(r.err, "sopir: error: no procedure 'aidd' is published; did you mean 'aid'?\n")
        # Nothing near: the procedures that are published, so the refusal
        # says what would be accepted.
        r = self.refused_unchanged(3, "--as", "budi", "case", "open", "shelter-intake")
        self.assertRegex(r.err, r"^sopir: error: no procedure 'shelter-intake' is published; expected one of: .*\baid\b")
        r = self.refused_unchanged(3, "--as", "bdi", "case", "open", "aid", "--set", "item=food_pack")
        self.assertEqual(r.err, "sopir: error: unknown staff member 'bdi'; did you mean 'budi'?\n")
        self.refused_unchanged(2, "case", "open", "aid", "--set", "item=food_pack")


if __name__ == "__main__":
    main()
