"""sopir: init, help, sop, staff, exit codes and usage errors."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import AID_YAML, BROKEN_YAML, SopirTest, main, sqlite_only  # noqa: E402


class FreshDatabase(SopirTest):
    publish = False

    def test_init_creates_and_refuses_twice(self):
        r = self.ok("init", "--admin", "rina", "--name", "Rina Contoh", "--json")
        doc = r.json()
        self.assertEqual(doc["admin"]["id"], "rina")
        self.assertEqual(sorted(doc["admin"]["roles"]), ["admin", "policy"])
        self.assertTrue(self.db_exists())
        before = self.dump()
        r = self.fails(4, "init")
        self.assertIn("already exists", r.err)
        self.assertEqual(before, self.dump())

    def test_no_database_is_not_found(self):
        r = self.fails(3, "--as", "x", "case", "list")
        self.assertIn("sopir init", r.err)
        self.assertFalse(self.db_exists())

    def test_validate_needs_no_database(self):
        aid = self.aid
        r = self.ok("sop", "validate", aid)
        self.assertIn("ok", r.out)
        broken = self.write("broken.yaml", BROKEN_YAML)
        r = self.fails(1, "sop", "validate", aid, broken)
        self.assertIn("broken.yaml:5:", r.err)
        r = self.fails(1, "sop", "validate", broken, "--json")
        doc = r.json()
        self.assertFalse(doc["ok"])
        self.assertGreaterEqual(doc["errors"], 1)
        self.assertIn(5, [d["line"] for d in doc["files"][0]["diagnostics"]])
        self.assertFalse(os.path.exists(self.db))

    def test_diagram(self):
        r = self.ok("sop", "diagram", self.aid)
        self.assertIn("stateDiagram", r.out)
        r = self.ok("sop", "diagram", self.aid, "--format", "dot", "--lang", "id")
        self.assertIn("digraph", r.out)
        self.assertIn("Diajukan", r.out)
        if os.path.exists("/usr/bin/dot"):
            r = self.ok("sop", "diagram", self.aid, "--format", "svg")
            self.assertIn("<svg", r.out)
        r = self.fails(2, "sop", "diagram", self.aid, "--format", "png")
        self.assertIn("mermaid, dot or svg", r.err)

    def test_show_from_file_in_both_languages(self):
        r = self.ok("sop", "show", self.aid, "--lang", "id")
        self.assertIn("Bantuan barang", r.out)
        self.assertIn("Diajukan", r.out)
        self.assertIn("Tahap", r.out)
        r = self.ok("sop", "show", self.aid, env={"LANG": "en_US.UTF-8"})
        self.assertIn("Relief items", r.out)
        self.assertIn("Requested", r.out)
        r = self.ok("sop", "show", self.aid, env={"LANG": "id_ID.UTF-8"})
        self.assertIn("Diajukan", r.out)
        doc = self.ok("sop", "show", self.aid, "--json").json()
        self.assertEqual(doc["sop"], "aid")
        self.assertEqual([s["id"] for s in doc["states"]][:2], ["requested", "reviewed"])
        approve = [t for t in doc["transitions"] if t["event"] == "approve"][0]
        self.assertEqual(approve["requires"], ["approved_quantity"])
        self.assertEqual(approve["when"], "quantity <= 50")


class Commands(SopirTest):
    def test_help_lists_every_command_and_explains_one(self):
        r = self.ok("help")
        for name in ("case open", "case advance", "sop validate", "staff add", "tick"):
            self.assertIn(name, r.out)
        r = self.ok("help", "case", "open")
        self.assertIn("--set", r.out)
        self.assertIn("Example", r.out)
        r = self.ok("case", "advance", "--help")
        self.assertIn("--override", r.out)
        r = self.fails(2, "help", "case", "opne")
        self.assertIn("did you mean `case open`", r.err)

    def test_man_page_and_completion(self):
        r = self.ok("help", "--man")
        self.assertTrue(r.out.startswith(".TH SOPIR 1"))
        self.assertIn(".SS case advance", r.out)
        r = self.ok("completion", "bash")
        self.assertIn("complete -F _sopir sopir", r.out)
        self.assertIn("case ids --prefix", r.out)
        self.fails(2, "completion", "tcsh")

    def test_unknown_command_and_option(self):
        r = self.fails(2, "csae", "list")
        self.assertIn("did you mean `case`", r.err)
        r = self.fails(2, "case", "lsit")
        self.assertIn("did you mean `case list`", r.err)
        r = self.fails(2, "case", "list", "--overdeu")
        self.assertIn("did you mean --overdue", r.err)
        r = self.fails(2, "--lang", "fr", "help")
        self.assertIn("id or en", r.err)

    def test_publish_needs_admin_or_policy(self):
        before = self.dump()
        r = self.fails(1, "--as", "budi", "sop", "publish", self.aid)
        self.assertIn("admin or policy", r.err)
        self.assertEqual(before, self.dump())
        self.fails(2, "sop", "publish", self.aid)  # nobody acting
        broken = self.write("broken.yaml", BROKEN_YAML)
        r = self.refused_unchanged(1, "--as", "admin", "sop", "publish", broken)
        # The file is named once at the head, then each diagnostic is located,
        # in file order: a missing key at the top-level map, or at the key
        # mistyped for it.
        self.assertEqual(r.err, "sopir: refused: {0}: 3 error(s) in procedure:\n"
                                "{0}:1:1: error: missing key 'transitions' in the procedure\n"
                                "sop: broken\n^\n"
                                "{0}:5:1: error: unknown key 'staets' in the procedure; did you mean 'states'?\n"
                                "staets: {{}}\n^\n"
                                "{0}:5:1: error: missing key 'states' in the procedure; is 'staets' here meant "
                                "to be it?\n"
                                "staets: {{}}\n^\n".format(broken))

    def test_a_procedure_file_with_errors_is_refused_with_each_error_once(self):
        # Every command that loads a procedure file says each error once,
        # located, in one message naming the file (docs/CLI.md).
        typo = self.write("typo.yaml", AID_YAML.replace("    to: reviewed\n", "    to: reviewd\n", 1))
        line = AID_YAML.split("\n").index("    to: reviewed") + 1
        expected = ("sopir: refused: {0}: 1 error(s) in procedure:\n"
                    "{0}:{1}:9: error: unknown state 'reviewd' in to of transition 'review'; did you mean "
                    "'reviewed'?\n"
                    "    to: reviewd\n"
                    "        ^\n").format(typo, line)
        for args in (["sop", "show", typo], ["sop", "diagram", typo], ["sop", "paths", typo],
                     ["audit", "replay", "--sop", typo], ["--as", "admin", "sop", "publish", typo],
                     ["sop", "validate", self.aid, "--from", typo]):
            r = self.refused_unchanged(1, *args)
            self.assertEqual(r.err, expected, args)
            self.assertEqual(r.out, "", args)

    def test_publish_new_version_and_list(self):
        doc = self.ok("sop", "list", "--json").json()
        self.assertEqual(len(doc["procedures"]), 1)
        self.assertEqual(doc["procedures"][0]["sop"], "aid")
        self.assertEqual(doc["procedures"][0]["cases"], 0)
        self.open_case()
        v2 = self.write("aid2.yaml", open(self.aid).read().replace("version: 1", "version: 2"))
        doc = self.ok("--as", "admin", "sop", "publish", v2, "--json").json()
        self.assertEqual(doc["published"][0]["version"], 2)
        doc = self.ok("sop", "list", "--json").json()
        versions = {p["version"]: p for p in doc["procedures"]}
        self.assertEqual(versions[1]["cases"], 1)
        self.assertTrue(versions[2]["current"])
        self.assertFalse(versions[1]["current"])
        r = self.ok("sop", "list")
        self.assertIn("aid", r.out)
        # A changed file must say a higher version: than every published
        # version says; the same file again changes nothing.
        v2b = self.write("aid2b.yaml", open(v2).read() + "\n# a comment changes the text\n")
        r = self.refused_unchanged(1, "--as", "admin", "sop", "publish", v2b)
        self.assertIn("aid2b.yaml: procedure 'aid' says version: 2, but version 2 of it is published already: a changed "
                      "procedure takes a higher number (version: 3)", r.err)
        self.ok("--as", "admin", "sop", "publish", v2)
        self.assertEqual(len(self.ok("sop", "list", "--json").json()["procedures"]), 2)
        # A skipped number is the version's number everywhere: publish, sop
        # list, migrate plan --to (one number, the file's version:).
        v5 = self.write("aid5.yaml", open(v2).read().replace("version: 2", "version: 5"))
        r = self.ok("--as", "admin", "sop", "publish", v5)
        self.assertIn("published aid version 5", r.out)
        versions = {p["version"] for p in self.ok("sop", "list", "--json").json()["procedures"]}
        self.assertEqual(versions, {1, 2, 5})
        self.ok("migrate", "plan", "aid", "--to", "5")
        r = self.fails(3, "migrate", "plan", "aid", "--to", "3")
        self.assertIn("1, 2, 5", r.err)

    def test_publishing_a_published_text_again_says_nothing_was_published(self):
        sha = self.ok("sop", "list", "--json").json()["procedures"][0]["sha256"][:12]
        before = self.dump()
        r = self.ok("--as", "admin", "sop", "publish", self.aid)
        self.assertEqual(r.out, "nothing published: this text of aid is already published as version 1 "
                                "(sha256 %s), the current version\n" % sha)
        self.assertEqual(before, self.dump())
        r = self.ok("--as", "admin", "--lang", "id", "sop", "publish", self.aid)
        self.assertEqual(r.out, "tidak ada yang diterbitkan: teks aid ini sudah diterbitkan sebagai versi 1 "
                                "(sha256 %s), versi yang berlaku\n" % sha)
        doc = self.ok("--as", "admin", "sop", "publish", self.aid, "--json").json()
        self.assertTrue(doc["published"][0]["already_published"])
        self.assertEqual(before, self.dump())
        # Once a later version is published, the first is no longer current.
        v2 = self.write("aid2.yaml", AID_YAML.replace("version: 1", "version: 2"))
        r = self.ok("--as", "admin", "sop", "publish", v2)
        self.assertTrue(r.out.startswith("published aid version 2 (sha256 "), r.out)
        before = self.dump()
        r = self.ok("--as", "admin", "sop", "publish", self.aid)
        self.assertEqual(r.out, "nothing published: this text of aid is already published as version 1 "
                                "(sha256 %s), which is not the current version: new cases open under "
                                "version 2\n" % sha)
        self.assertEqual(r.err, "")
        self.assertEqual(before, self.dump())

    def test_show_published_sop_by_id(self):
        r = self.ok("sop", "show", "aid")
        self.assertIn("approve", r.out)
        r = self.fails(3, "sop", "show", "aidd")
        self.assertIn("did you mean", r.err)

    def test_staff(self):
        doc = self.ok("staff", "list", "--json").json()
        ids = {m["id"]: m for m in doc["staff"]}
        self.assertEqual(set(ids), {"admin", "budi", "siti", "tono"})
        self.assertEqual(ids["siti"]["roles"], ["supervisor", "shelter_staff"])
        r = self.refused_unchanged(1, "--as", "budi", "staff", "add", "eko", "--name", "Eko", "--role", "x")
        self.assertEqual(r.err, "sopir: refused: managing staff needs the role admin; budi has roles shelter_staff\n")
        self.refused_unchanged(4, "--as", "admin", "staff", "add", "budi", "--name", "B", "--role", "x")
        self.refused_unchanged(2, "--as", "admin", "staff", "add", "Bad Id", "--name", "B", "--role", "x")
        self.refused_unchanged(2, "--as", "admin", "staff", "add", "eko", "--name", "Eko")
        r = self.refused_unchanged(3, "--as", "admin", "staff", "deactivate", "bdi")
        self.assertEqual(r.err, "sopir: error: unknown staff member 'bdi'; did you mean 'budi'?\n")
        self.ok("--as", "admin", "staff", "deactivate", "budi")
        doc = self.ok("staff", "list", "--json").json()
        self.assertFalse([m for m in doc["staff"] if m["id"] == "budi"][0]["active"])
        r = self.refused_unchanged(1, "--as", "budi", "case", "open", "aid", "--set", "item=food_pack",
                                   "--set", "quantity=1")
        self.assertIn("deactivated", r.err)

    @sqlite_only("the log file lies beside the database file")
    def test_log_file_beside_database_without_field_values(self):
        self.open_case()
        log = self.db + ".log"
        self.assertTrue(os.path.exists(log))
        text = open(log).read()
        self.assertIn("opened", text)
        self.assertNotIn("Wati", text)
        self.open_case("budi")
        self.assertNotIn("Wati", open(log).read())


def targets_first(files):
    """The procedure files ordered so that every hand-off target (`opens: {sop: ID}`, `sop: ID`
    on the line after `opens:`, or `- {sop: ID, ...}` in a list of tracks) comes before the files
    that open it."""
    ids, targets = {}, {}
    for f in files:
        text = open(f).read()
        ids[f] = re.search(r"^sop: *([a-z0-9-]+)", text, re.M).group(1)
        targets[f] = set(re.findall(r"opens: *(?:\{ *sop: *|\n *sop: *)([a-z0-9-]+)", text))
        targets[f] |= set(re.findall(r"^ +- *\{ *sop: *([a-z0-9-]+)", text, re.M))
    by_id = {ids[f]: f for f in files}
    ordered = []

    def visit(f, path=()):
        if f in ordered:
            return
        assert f not in path, "hand-offs form a loop: %s" % (path + (f,),)
        for t in sorted(targets[f]):
            if t in by_id:
                visit(by_id[t], path + (f,))
        ordered.append(f)

    for f in files:
        visit(f)
    return ordered


class ShippedWorkflows(SopirTest):
    """The procedures shipped in workflows/ validate strictly, publish, show
    and draw through the CLI."""

    def files(self):
        root = os.environ.get("SOPIR_SOURCE_DIR",
                              os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
        folder = os.path.join(root, "workflows")
        names = sorted(f for f in os.listdir(folder) if f.endswith(".yaml") and ".test." not in f)
        self.assertGreaterEqual(len(names), 3)
        return [os.path.join(folder, n) for n in names]

    def sop_id(self, path):
        return re.search(r"^sop: *([a-z0-9-]+)", open(path).read(), re.M).group(1)

    def test_validate_publish_show(self):
        files = self.files()
        doc = self.ok("sop", "validate", "--strict", "--json", *files).json()
        self.assertTrue(doc["ok"], doc)
        # Given in alphabetical order, every procedure that hands cases on
        # (opens:) is still published after its targets.
        doc = self.ok("--as", "admin", "sop", "publish", "--json", *files).json()
        sops = [p["sop"] for p in doc["published"]]
        self.assertEqual(len(sops), len(files))
        order = [os.path.join(os.path.dirname(files[0]), n) for n in
                 [dict((self.sop_id(f), os.path.basename(f)) for f in files)[sop] for sop in sops]]
        self.assertEqual(order, targets_first(order))
        for sop in sops:
            self.assertIn("stateDiagram", self.ok("sop", "diagram", sop).out)
            shown = self.ok("sop", "show", sop, "--json", "--lang", "id").json()
            self.assertEqual(shown["sop"], sop)


if __name__ == "__main__":
    main()
