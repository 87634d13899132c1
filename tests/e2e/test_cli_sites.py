"""Sites (docs/DEPLOY.md "Sites"): a member of one site sees and moves
nothing of another site's cases, through every command; site
administration is logged and verified; bad input changes nothing; a case
moves with `case transfer`. Runs on SQLite and (as e2e_pg) on PostgreSQL."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402


def json_lines(text):
    """`audit log --format jsonl`: one JSON object a line."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Sites(SopirTest):
    def setUp(self):
        super().setUp()
        r = self.ok("--as", "admin", "site", "add", "nunukan", "--name", "Pos Debarkasi Nunukan")
        self.assertEqual(r.out.strip(), "added site nunukan (Pos Debarkasi Nunukan)")
        self.ok("--as", "admin", "staff", "add", "eka", "--name", "Eka Contoh",
                "--role", "shelter_staff,supervisor", "--site", "nunukan")
        self.at_main = self.open_case("budi")
        self.at_nunukan = self.open_case("eka")

    def test_site_list_and_staff_list_show_the_sites(self):
        r = self.ok("site", "list", "--json")
        self.assertEqual(json.loads(r.out)["sites"],
                         [{"id": "main", "name": "Main office", "staff": 4},
                          {"id": "nunukan", "name": "Pos Debarkasi Nunukan", "staff": 1}])
        staff = {m["id"]: m["sites"] for m in json.loads(self.ok("staff", "list", "--json").out)["staff"]}
        self.assertEqual(staff, {"admin": ["main"], "budi": ["main"], "siti": ["main"], "tono": ["main"],
                                 "eka": ["nunukan"]})
        self.assertEqual(self.query("SELECT site FROM cases ORDER BY site"), [("main",), ("nunukan",)])

    def test_a_member_sees_nothing_of_another_sites_cases(self):
        listed = self.ok("--as", "eka", "case", "list").out
        self.assertIn(self.at_nunukan, listed)
        self.assertNotIn(self.at_main, listed)
        listed = self.ok("--as", "budi", "case", "list", "--json").out
        self.assertEqual([c["id"] for c in json.loads(listed)["cases"]], [self.at_main])
        r = self.fails(1, "--as", "budi", "case", "list", "--site", "nunukan")
        self.assertIn("budi does not see the cases of site nunukan (their sites: main)", r.err)
        # Several sites and no reader named: which sites' cases? (exit 2)
        r = self.fails(2, "case", "list")
        self.assertIn("say who is reading with --as ID", r.err)
        expected = ("case %s belongs to site main, and eka belongs to nunukan: only staff of main "
                    "(and administrators, national or auditor staff) see it" % self.at_main)
        for command in (["case", "show", self.at_main], ["case", "history", self.at_main],
                        ["audit", "case", self.at_main]):
            r = self.refused_unchanged(1, "--as", "eka", *command)
            self.assertIn(expected, r.err, command)
            self.assertNotIn("Wati Contoh", r.out + r.err)
        # Nor the person's data on request: an access request is answered at
        # the case's own site (eka may see personal data of aid cases).
        for command in (["case", "export-personal", self.at_main, "--reason", "access request"],
                        ["case", "show", self.at_main, "--reveal", "--reason", "call back"]):
            r = self.refused_unchanged(1, "--as", "eka", *command)
            self.assertNotIn("Wati Contoh", r.out + r.err)
            self.assertIn("main", r.err)
        r = self.refused_unchanged(1, "--as", "eka", "case", "advance", self.at_main, "approve",
                                   "--set", "approved_quantity=2")
        self.assertIn("only staff of main act on it (an administrator adds a member with "
                      "`sopir staff site eka main`)", r.err)
        self.refused_unchanged(1, "--as", "eka", "case", "hold", self.at_main, "--reason", "waiting")
        # Nor does completing a case id offer it.
        ids = self.ok("--as", "eka", "case", "ids", "--prefix", "").out.split()
        self.assertEqual(ids, [self.at_nunukan])
        # With no reader named, which sites' ids? (exit 2, as case list asks);
        # an administrator reads every site's, as on a server.
        r = self.fails(2, "case", "ids", "--prefix", "")
        self.assertIn("say who is reading with --as ID", r.err)
        self.assertEqual(set(self.ok("--as", "admin", "case", "ids", "--prefix", "").out.split()),
                         {self.at_main, self.at_nunukan})
        # todo lists only one's own sites' cases.
        todo = self.ok("--as", "eka", "todo").out
        self.assertNotIn(self.at_main, todo)
        self.assertIn("clean:", self.ok("audit", "verify").out)

    def test_opening_needs_a_site_of_ones_own(self):
        self.ok("--as", "admin", "staff", "add", "nia", "--name", "Nia Contoh", "--role", "national")
        r = self.refused_unchanged(1, "--as", "nia", "case", "open", "aid", "--set", "item=food_pack",
                                   "--set", "quantity=1")
        self.assertIn("nia belongs to no site, so cannot open a case: an administrator adds them to one "
                      "with `sopir staff site nia SITE`", r.err)
        r = self.refused_unchanged(1, "--as", "budi", "case", "open", "aid", "--site", "nunukan",
                                   "--set", "item=food_pack", "--set", "quantity=1")
        self.assertIn("budi does not belong to site nunukan (their sites: main)", r.err)
        r = self.refused_unchanged(3, "--as", "budi", "case", "open", "aid", "--site", "nunukn",
                                   "--set", "item=food_pack", "--set", "quantity=1")
        self.assertIn("unknown site 'nunukn'; did you mean 'nunukan'? (the sites are: main, nunukan)", r.err)
        self.ok("--as", "admin", "staff", "site", "budi", "nunukan")
        r = self.refused_unchanged(2, "--as", "budi", "case", "open", "aid", "--set", "item=food_pack",
                                   "--set", "quantity=1")
        self.assertIn("budi belongs to several sites (main, nunukan): say which the case belongs to with "
                      "--site SITE", r.err)
        case_id = self.open_case("budi", "--site", "nunukan")
        self.assertIn(case_id, self.ok("--as", "eka", "case", "list").out)
        # National staff read every site, personal data masked even when asked.
        self.assertIn(self.at_main, self.ok("--as", "nia", "case", "list").out)
        shown = self.ok("--as", "nia", "case", "show", self.at_nunukan).out
        self.assertNotIn("Wati Contoh", shown)
        r = self.refused_unchanged(1, "--as", "nia", "case", "show", self.at_nunukan, "--reveal",
                                   "--reason", "national report")
        self.assertIn("it is shown only to staff of its site, nunukan", r.err)
        # So in the log: a reveal shows the cases of the reader's own sites,
        # the others masked, and records a view of those it showed only.
        self.ok("--as", "admin", "staff", "grant", "nia", "supervisor")
        self.ok("--as", "admin", "staff", "site", "nia", "main")
        rows = json_lines(self.ok("--as", "nia", "audit", "log", "--reveal", "--reason", "national report",
                                  "--format", "jsonl").out)
        changes = {r["case_id"]: json.dumps(r["changes"]) for r in rows if r["case_id"]}
        self.assertIn("Wati Contoh", changes[self.at_main])
        self.assertNotIn("Wati Contoh", changes[self.at_nunukan])
        self.assertIn("***", changes[self.at_nunukan])
        views = json.loads(self.ok("--json", "audit", "access").out)["accesses"]
        self.assertEqual([(v["actor"], v["case_id"]) for v in views if v["actor"] == "nia"], [("nia", self.at_main)])
        r = self.refused_unchanged(1, "--as", "nia", "audit", "log", "--case", self.at_nunukan, "--reveal",
                                   "--reason", "national report")
        self.assertIn("nia may not see personal data of these cases: it is shown only to staff of their sites "
                      "(nunukan)", r.err)
        self.assertIn("clean:", self.ok("audit", "verify").out)

    def test_a_reveal_refused_for_sites_and_for_roles_at_once_names_both(self):
        # nia reads every site (national) and belongs to main, but holds no
        # role in aid's pii_visible_to: the case at nunukan is barred by its
        # site, the one at main by the role. The refusal gives both reasons,
        # and no view is recorded.
        self.ok("--as", "admin", "staff", "add", "nia", "--name", "Nia Contoh", "--role", "national")
        self.ok("--as", "admin", "staff", "site", "nia", "main")
        expected = ("sopir: refused: nia may not see personal data of these cases: it is shown only to "
                    "staff of their sites (nunukan); administrators, national and auditor staff see it masked; nia may "
                    "not see personal data of procedure aid: only the roles in the procedure's "
                    "pii_visible_to may (nia has national)\n")
        r = self.refused_unchanged(1, "--as", "nia", "audit", "log", "--reveal", "--reason", "national report")
        self.assertEqual(r.err, expected)
        self.assertNotIn("Wati Contoh", r.out)
        views = json.loads(self.ok("--json", "audit", "access").out)["accesses"]
        self.assertEqual([v for v in views if v["actor"] == "nia"], [])

    def test_the_audit_commands_keep_a_member_to_their_sites(self):
        self.ok("--as", "tono", "case", "show", self.at_main, "--reveal", "--reason", "call back")
        self.ok("--as", "eka", "case", "show", self.at_nunukan, "--reveal", "--reason", "call back")
        # The log and the views of personal data: only one's own sites' cases.
        rows = json_lines(self.ok("--as", "eka", "audit", "log", "--format", "jsonl").out)
        self.assertEqual({r["case_id"] for r in rows}, {self.at_nunukan})
        everyone = json_lines(self.ok("audit", "log", "--format", "jsonl").out)
        self.assertEqual({r["case_id"] for r in everyone}, {self.at_main, self.at_nunukan})
        views = json.loads(self.ok("--as", "eka", "--json", "audit", "access").out)["accesses"]
        self.assertEqual([(v["actor"], v["case_id"]) for v in views], [("eka", self.at_nunukan)])
        self.assertEqual(json.loads(self.ok("--json", "audit", "access").out)["count"], 2)
        # Another site's case asked for by id is refused, as `audit case`
        # refuses it, not shown as if it had no rows; nor is it put in use.
        expected = "case %s belongs to site main, and eka belongs to nunukan" % self.at_main
        for command in (["audit", "log", "--case", self.at_main], ["audit", "access", "--case", self.at_main]):
            r = self.refused_unchanged(1, "--as", "eka", *command)
            self.assertIn(expected, r.err, command)
        # An unknown case is exit 3, for audit log --case as for audit access --case.
        for command in (["audit", "log", "--case", "ZZZ-ZZZ"], ["audit", "access", "--case", "ZZZ-ZZZ"]):
            r = self.refused_unchanged(3, "--as", "eka", *command)
            self.assertIn("no case 'ZZZ-ZZZ'", r.err, command)
        r = self.run_sopir("shell", self.write("put-down.txt", "as budi\nuse %s\nas eka\nuse\n" % self.at_main))
        self.assertEqual(r.code, 0, r)
        self.assertIn("case %s is no longer in use: eka does not read its site's cases" % self.at_main, r.err)
        self.assertEqual(r.out.strip(), "no case in use")
        r = self.run_sopir("shell", self.write("use.txt", "as eka\nuse %s\ncase show\n" % self.at_main))
        self.assertEqual(r.code, 1, r)
        self.assertIn("use.txt:2: ", r.err)
        self.assertIn(expected, r.err)
        # What reads every site's cases is for administrators, national and
        # auditor staff (or an auditor's copy read without --as).
        for command in (["audit", "verify"], ["audit", "export", "--format", "htcds"],
                        ["migrate", "plan", "aid", "--to", "2"]):
            r = self.refused_unchanged(1, "--as", "eka", *command)
            self.assertIn("reads every site's cases, and eka sees only the cases of nunukan: run it as an "
                          "administrator, national or auditor staff member", r.err)
        # So does the list of procedures.
        counts = {p["sop"]: p["cases"] for p in self.ok("--as", "eka", "--json", "sop", "list").json()["procedures"]}
        self.assertEqual(counts["aid"], 1)
        counts = {p["sop"]: p["cases"] for p in self.ok("--json", "sop", "list").json()["procedures"]}
        self.assertEqual(counts["aid"], 2)
        # The report counts one's own sites' cases and steps.
        report = self.ok("--as", "eka", "audit", "report", "--sop", "aid").out
        self.assertIn("The cases of sites nunukan only.", report)
        self.assertIn("1 case(s); report as of", report)
        self.assertIn("2 case(s); report as of", self.ok("audit", "report", "--sop", "aid").out)
        html = os.path.join(self.dir, "nunukan.html")
        self.ok("--as", "eka", "audit", "report", "--html", html)
        with open(html, encoding="utf-8") as f:
            self.assertIn("The cases of sites nunukan only.", f.read())
        self.ok("--as", "admin", "staff", "add", "oki", "--name", "Oki Contoh", "--role", "auditor")
        self.assertIn("clean:", self.ok("--as", "oki", "audit", "verify").out)
        self.assertIn("clean:", self.ok("--as", "admin", "audit", "verify").out)
        # A member of every site reads every site.
        self.ok("--as", "admin", "staff", "site", "eka", "main")
        self.ok("--as", "eka", "audit", "report")
        self.assertEqual(len(json_lines(self.ok("--as", "oki", "audit", "log", "--format", "jsonl").out)), len(everyone))

    def test_a_members_tick_fires_and_lists_their_sites_only(self):
        late_main = self.open_case("budi", "--at", "2020-01-01T08:00")
        late_nunukan = self.open_case("eka", "--at", "2020-01-01T08:00")
        r = self.ok("--as", "eka", "--json", "tick")
        doc = r.json()
        self.assertEqual([f["case"] for f in doc["fired"]], [late_nunukan])
        self.assertEqual(doc["sites"], ["nunukan"])
        self.assertNotIn(late_main, r.out)
        self.assertIn("tick as eka: the cases of site(s) nunukan only; the other sites' deadlines wait for a tick that "
                      "covers every site", r.err)
        self.assertEqual(self.ok("--as", "budi", "--json", "case", "show", late_main).json()["state"], "requested")
        self.assertNotIn(late_main, self.ok("--as", "eka", "tick").out)
        # A pass that covers every site fires the rest.
        doc = self.ok("--json", "tick").json()
        self.assertEqual([f["case"] for f in doc["fired"]], [late_main])
        self.assertIsNone(doc["sites"])
        self.assertIn("clean:", self.ok("audit", "verify").out)

    def test_readers_of_every_site_are_told_what_they_cannot_do(self):
        # An administrator of main reads nunukan's case, masked, and is told
        # that none of its events is theirs to fire, as the step would be.
        refusal = ("case %s belongs to site nunukan, and admin belongs to main: only staff of nunukan act on it"
                   % self.at_nunukan)
        doc = self.ok("--as", "admin", "--json", "case", "show", self.at_nunukan).json()
        self.assertTrue(doc["events"])
        self.assertEqual([e["event"] for e in doc["events"] if e["possible"]], [])
        self.assertNotIn("Wati Contoh", json.dumps(doc))
        r = self.run_sopir("--as", "admin", "--json", "case", "why", self.at_nunukan, "review")
        self.assertEqual([(e["possible"], e["message"][:len(refusal)]) for e in r.json()["events"]],
                         [(False, refusal)])
        self.refused_unchanged(1, "--as", "admin", "case", "advance", self.at_nunukan, "review")
        r = self.refused_unchanged(1, "--as", "admin", "case", "why", self.at_nunukan, "deliver")
        self.assertIn(refusal, r.err)
        self.assertNotIn("possible now", r.err)
        # An administrator is told to join the site, not to ask an administrator.
        r = self.refused_unchanged(1, "--as", "admin", "case", "advance", self.at_nunukan, "review")
        self.assertIn("(as an administrator, admin may join it with `sopir staff site admin nunukan`)", r.err)
        self.assertNotIn("an administrator adds", r.err)
        # A member of one site is suggested no other site's case id for a typo.
        typo = self.at_main[:-1] + ("0" if self.at_main[-1] != "0" else "1")
        if typo != self.at_nunukan:
            r = self.refused_unchanged(3, "--as", "eka", "case", "show", typo)
            self.assertNotIn(self.at_main, r.err)
            r = self.refused_unchanged(3, "--as", "budi", "case", "show", typo)
            self.assertIn("did you mean %s" % self.at_main, r.err)
        # A member of another site asking for a person's data is refused as
        # for reading the case at all.
        r = self.refused_unchanged(1, "--as", "eka", "case", "export-personal", self.at_main, "--reason", "request")
        self.assertIn("only staff of main (and administrators, national or auditor staff) see it", r.err)
        # Auditors write nothing, not even through the timer pass.
        self.ok("--as", "admin", "staff", "add", "oki", "--name", "Oki Contoh", "--role", "auditor")
        self.open_case("budi", "--at", "2020-01-01T08:00")
        r = self.refused_unchanged(1, "--as", "oki", "tick")
        self.assertIn("oki is an auditor: auditors write nothing", r.err)
        r = self.refused_unchanged(1, "--as", "oki", "checkpoint")
        self.assertIn("oki is an auditor: auditors write nothing, and a checkpoint is a row of the log", r.err)
        # A member of no site is told so, not given a blank.
        self.ok("--as", "admin", "staff", "site", "eka", "nunukan", "--remove")
        r = self.ok("--as", "eka", "retention", "due")
        self.assertIn("eka reads the cases of site(s) none only", r.err)

    def test_site_administration_refuses_bad_input(self):
        r = self.refused_unchanged(4, "--as", "admin", "site", "add", "nunukan", "--name", "Lagi")
        self.assertIn("site id nunukan is already taken (by Pos Debarkasi Nunukan)", r.err)
        r = self.refused_unchanged(2, "--as", "admin", "site", "add", "Pos Baru", "--name", "X")
        self.assertIn("'Pos Baru' is not a usable site id", r.err)
        self.refused_unchanged(1, "--as", "budi", "site", "add", "tpi", "--name", "Tanjung Pinang")
        r = self.refused_unchanged(3, "--as", "admin", "staff", "site", "budi", "tpi")
        self.assertIn("unknown site 'tpi'", r.err)
        self.refused_unchanged(3, "--as", "admin", "staff", "site", "nobody", "main")
        r = self.refused_unchanged(4, "--as", "admin", "staff", "site", "budi", "main")
        self.assertIn("budi' already belongs to site main; nothing was changed", r.err)
        r = self.refused_unchanged(2, "--as", "admin", "staff", "add", "fajar", "--name", "Fajar",
                                   "--role", "shelter_staff")
        self.assertIn("needs a site: this database has several (main, nunukan); give --site SITE", r.err)
        r = self.ok("--as", "admin", "staff", "site", "budi", "main", "--remove")
        self.assertEqual(r.out.strip(), "budi no longer belongs to site main (their sites: none)")
        rows = self.query("SELECT kind, event, actor FROM log_view WHERE kind = 'site' "
                          "OR event IN ('site-joined', 'site-left') ORDER BY seq")
        self.assertEqual(rows, [("site", "added", "admin"), ("staff", "site-left", "admin")])
        self.assertIn("clean:", self.ok("audit", "verify").out)

    def test_a_transfer_moves_the_case_as_a_logged_step(self):
        r = self.refused_unchanged(2, "--as", "budi", "case", "transfer", self.at_main, "--to", "main",
                                   "--reason", "x")
        self.assertIn("already belongs to site main; nothing was changed", r.err)
        self.refused_unchanged(3, "--as", "budi", "case", "transfer", self.at_main, "--to", "tpi",
                               "--reason", "x")
        self.refused_unchanged(1, "--as", "eka", "case", "transfer", self.at_main, "--to", "nunukan",
                               "--reason", "x")
        self.refused_unchanged(2, "--as", "budi", "case", "transfer", self.at_main, "--to", "nunukan")
        r = self.refused_unchanged(1, "--as", "budi", "case", "transfer", self.at_main, "--to", "nunukan",
                                   "--reason", "x")
        self.assertIn("by an administrator or by staff who belong to both", r.err)
        r = self.ok("--as", "admin", "case", "transfer", self.at_main, "--to", "nunukan",
                    "--reason", "the survivor travels to Nunukan")
        self.assertEqual(r.out.strip(), "case %s moved from site main to nunukan" % self.at_main)
        self.assertIn(self.at_main, self.ok("--as", "eka", "case", "list").out)
        self.assertNotIn(self.at_main, self.ok("--as", "budi", "case", "list").out)
        history = json.loads(self.ok("--as", "eka", "case", "history", self.at_main, "--json").out)
        self.assertEqual(history["entries"][-1]["event"], "transfer")
        self.ok("--as", "eka", "case", "advance", self.at_main, "escalate")
        self.assertIn("clean:", self.ok("audit", "verify").out)


# A desk that hands cases on to offices elsewhere: to Nunukan by rule, and
# home to the office its staff name at the step (site_from).
RETURN_DESK_YAML = """\
sop: return-desk
version: 1
title: Return desk
roles: [shelter_staff]
fields:
  home_office: {type: string}
states:
  arrived: {initial: true}
  referred: {}
  sent_home: {terminal: true}
transitions:
  - {event: refer, from: arrived, to: referred, roles: [shelter_staff],
     opens: {sop: follow-up, site: nunukan}}
  - {event: send_home, from: referred, to: sent_home, roles: [shelter_staff], accepts: [home_office],
     opens: {sop: follow-up, site_from: home_office}}
pii_visible_to: [shelter_staff]
"""

FOLLOW_UP_YAML = """\
sop: follow-up
version: 1
title: Follow-up at home
roles: [shelter_staff]
states:
  waiting: {initial: true}
  done: {terminal: true}
transitions:
  - {event: visit, from: waiting, to: done, roles: [shelter_staff]}
"""


class HandOffToAnotherSite(SopirTest):
    """A hand-off opens its case at the site its procedure names, or at the
    one the step gives: the case appears in that site's lists, and the
    whole story reads across sites (issue #13 item 5)."""

    def setUp(self):
        super().setUp()
        self.ok("--as", "admin", "site", "add", "nunukan", "--name", "Pos Debarkasi Nunukan")
        self.ok("--as", "admin", "staff", "add", "eka", "--name", "Eka Contoh", "--role", "shelter_staff",
                "--site", "nunukan")
        self.ok("--as", "admin", "sop", "publish", self.write("follow-up.yaml", FOLLOW_UP_YAML))
        self.ok("--as", "admin", "sop", "publish", self.write("return-desk.yaml", RETURN_DESK_YAML))
        self.case = self.ok("--as", "budi", "case", "open", "return-desk").out.strip()

    def opened(self, step_json):
        return json.loads(step_json)["opened"]

    def test_a_hand_off_opens_its_case_at_the_site_its_procedure_names(self):
        r = self.ok("--as", "budi", "case", "advance", self.case, "refer")
        child = r.out.strip().splitlines()[-1].split()[2]
        self.assertIn("Opened case %s (follow-up, waiting) at site nunukan" % child, r.out)
        self.assertEqual(self.query("SELECT site, parent_case FROM cases WHERE id = '%s'" % child),
                         [("nunukan", self.case)])
        # It is Nunukan's case now: in eka's list, not in budi's; eka moves it on.
        self.assertIn(child, self.ok("--as", "eka", "case", "list").out)
        self.assertNotIn(child, self.ok("--as", "budi", "case", "list").out)
        self.refused_unchanged(1, "--as", "budi", "case", "advance", child, "visit")
        # eka reads the case that opened it by its id only: not its state,
        # which moves on at main (as on a server, where it is hidden).
        shown = self.ok("--as", "eka", "case", "show", child).out
        self.assertIn("Opened by case: %s\n" % self.case, shown)
        self.assertNotIn("return-desk", shown)
        self.assertNotIn(self.case, json.dumps(self.ok("--as", "eka", "--json", "case", "show", child).json()
                                                .get("linked", [])))
        # Nor are the cases linked to main's case listed to eka: refused as case show is.
        r = self.refused_unchanged(1, "--as", "eka", "case", "list", "--linked-to", self.case)
        self.assertIn("case %s belongs to site main, and eka belongs to nunukan" % self.case, r.err)
        self.ok("--as", "eka", "case", "advance", child, "visit")
        # The whole story, across both sites, for a reader of both.
        story = self.ok("--as", "admin", "audit", "case", self.case, "--with-linked").out
        self.assertIn(child, story)
        self.assertIn("visit", story)
        # A reader of one site is told the story of that site's cases only.
        story = self.ok("--as", "budi", "audit", "case", self.case, "--with-linked").out
        self.assertNotIn("[%s" % child, story)  # its own step names the case it opened, no more
        self.assertNotIn("visit", story)
        self.assertIn("1 linked case(s) at sites you do not read are not shown", story)
        rows = json_lines(self.ok("--as", "budi", "audit", "case", self.case, "--with-linked", "--format",
                                  "jsonl").out)
        self.assertEqual({r["case_id"] for r in rows}, {self.case})
        # So does an answer to an access request made at budi's site.
        text = self.ok("--as", "budi", "case", "export-personal", self.case, "--reason", "access request").out
        self.assertNotIn(child, text.split("Who saw")[0].replace("opened case " + child, ""))
        self.assertIn("1 linked case(s) at sites you do not read are not shown", text)
        doc = json.loads(self.ok("--as", "budi", "case", "export-personal", self.case, "--reason", "access request",
                                 "--json").out)
        self.assertEqual(doc["linked_cases"], [])
        self.assertEqual(doc["linked_cases_not_shown"], 1)
        self.assertIn("clean:", self.ok("audit", "verify").out)

    def test_the_step_names_the_site_through_a_field(self):
        self.ok("--as", "budi", "case", "advance", self.case, "refer")
        # No value: refused, saying what to give; nothing written.
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", self.case, "send_home")
        self.assertIn("'send_home' opens a follow-up case at the site named by field 'home_office', which has "
                      "no value; give home_office=SITE at the step", r.err)
        # A site the database does not have: refused, listing the sites.
        r = self.refused_unchanged(1, "--as", "budi", "case", "advance", self.case, "send_home",
                                   "--set", "home_office=ambon")
        self.assertIn("opens a follow-up case at site 'ambon', which this database does not have "
                      "(the sites are: main, nunukan)", r.err)
        r = self.ok("--as", "budi", "case", "advance", self.case, "send_home", "--set", "home_office=nunukan",
                    "--json")
        opened = self.opened(r.out)
        self.assertEqual(opened["site"], "nunukan")
        self.assertIn(opened["case"], self.ok("--as", "eka", "case", "list").out)
        self.assertIn("clean:", self.ok("audit", "verify").out)

    def test_a_procedure_naming_a_site_the_database_lacks_is_not_published(self):
        text = RETURN_DESK_YAML.replace("site: nunukan", "site: ambon").replace("version: 1", "version: 2")
        path = self.write("return-desk-2.yaml", text)
        r = self.refused_unchanged(1, "--as", "admin", "sop", "publish", path)
        self.assertIn("return-desk-2.yaml:13:", r.err)
        self.assertIn("the hand-off to follow-up opens its case at site 'ambon', which this database does not "
                      "have (the sites are: main, nunukan)", r.err)
        # A site id that cannot be one is a language error, located.
        bad = self.write("bad-site.yaml", RETURN_DESK_YAML.replace("site: nunukan", "site: Nunukan Pos"))
        r = self.fails(1, "sop", "validate", bad)
        self.assertIn("bad-site.yaml:13:", r.out + r.err)
        self.assertIn("a site id is written like a staff id", r.out + r.err)


if __name__ == "__main__":
    main()
