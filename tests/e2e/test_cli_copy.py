"""`sopir db copy FROM TO` (issue #13 item 7, docs/DEPLOY.md "Moving an
office onto the server"): a whole database into a new one, both ways
between a database file and a server database, every row, hash and link
kept, verify clean on both ends; a refusal writes nothing.

Runs on SQLite (file -> server -> file) and as e2e_pg on PostgreSQL
(server -> file -> server): each run copies both ways. The other end is a
fresh database on the test server, or a new file."""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import AID_YAML, KEY_FILE, POSTGRES, PgDatabase, SopirTest, main, psql  # noqa: E402
from test_cli_sites import FOLLOW_UP_YAML, RETURN_DESK_YAML  # noqa: E402

NAME = "Wati Contoh"  # invented
OTHER_NAME = "Rini Contoh"  # invented


def rows(db, statement):
    """Rows of a SELECT on a file or a server database, each a tuple of text."""
    if db.startswith("postgresql://"):
        return [tuple(line.split("|")) for line in psql(db, statement).splitlines()]
    con = sqlite3.connect(db)
    try:
        return [tuple("" if v is None else str(v) for v in row) for row in con.execute(statement)]
    finally:
        con.close()


def snapshot(db):
    """What a copy must keep: every log row's seq, record and hashes, every
    case's chain head, and the other tables' rows."""
    return {
        "log": rows(db, "SELECT seq, record, prev_hash, hash FROM transitions ORDER BY seq"),
        "cases": rows(db, "SELECT id, sop_id, sha256, state, status, version, last_seq, head_hash, "
                          "coalesce(parent_case, ''), site FROM cases ORDER BY id"),
        "staff": rows(db, "SELECT id, name, roles, sites FROM staff ORDER BY id"),
        "sites": rows(db, "SELECT id, name FROM sites ORDER BY id"),
        "procedures": rows(db, "SELECT sop_id, version, sha256, published_by FROM procedures ORDER BY sha256"),
        "access": rows(db, "SELECT id, actor, case_id, what, reason, at FROM access_log ORDER BY id"),
    }


class DbCopy(SopirTest):
    def setUp(self):
        super().setUp()
        self.other_pg = []
        # Every kind of step: open, procedure, override, lifecycle, timer,
        # checkpoint, publish, staff, erasure, migration, migration-plan,
        # site, transfer; hand-offs to another site; an access record.
        self.ok("--as", "admin", "site", "add", "nunukan", "--name", "Pos Debarkasi Nunukan")
        self.ok("--as", "admin", "staff", "add", "eka", "--name", "Eka Contoh", "--role", "shelter_staff,supervisor",
                "--site", "main,nunukan")
        self.ok("--as", "admin", "staff", "add", "pia", "--name", "Pia Contoh", "--role", "policy",
                "--site", "main")
        for who in ("siti", "tono"):
            self.ok("--as", "admin", "staff", "grant", who, "data_protection")
        self.ok("--as", "admin", "sop", "publish", self.write("follow-up.yaml", FOLLOW_UP_YAML))
        self.ok("--as", "admin", "sop", "publish", self.write("return-desk.yaml", RETURN_DESK_YAML))
        desk = self.ok("--as", "budi", "case", "open", "return-desk").out.strip()
        self.ok("--as", "budi", "case", "advance", desk, "refer")
        self.ok("--as", "budi", "case", "advance", desk, "send_home", "--set", "home_office=nunukan")

        self.kept = self.open_named(NAME, "5")
        self.ok("--as", "budi", "case", "advance", self.kept, "review")
        self.ok("--as", "siti", "case", "show", self.kept, "--reveal", "--reason", "call back")
        big = self.open_named(OTHER_NAME, "60")
        self.ok("--as", "budi", "case", "advance", big, "review")
        self.ok("--as", "siti", "case", "advance", big, "approve", "--set", "approved_quantity=60", "--override",
                "--reason", "a family of twelve")
        for step in (["hold", "--reason", "waiting"], ["resume"], ["close", "--reason", "needs_met"],
                     ["reopen", "--reason", "new request"]):
            self.ok("--as", "siti", "case", step[0], big, *step[1:])
        late = self.open_named("Ayu Contoh", "3", "--at", "2026-01-05T08:00:00Z")
        self.ok("--as", "admin", "tick")
        self.ok("--as", "eka", "case", "transfer", self.kept, "--to", "nunukan", "--reason", "moved")
        self.ok("--as", "siti", "case", "erase", late, "--reason", "request of the person")
        self.ok("--as", "tono", "case", "erase", late, "--confirm")
        self.ok("--as", "admin", "checkpoint")
        # A migration of the aid cases to version 2 (plan, four-eyes approval, apply).
        aid2 = AID_YAML.replace("version: 1\n", "version: 2\n", 1) + "migrate:\n  from: 1\n"
        self.ok("--as", "admin", "sop", "publish", self.write("aid2.yaml", aid2))
        self.ok("migrate", "plan", "aid", "--to", "2", "--output", "plan.json")
        digest = self.ok("--as", "admin", "migrate", "propose", "plan.json").out.split()[2].rstrip(":")
        self.ok("--as", "pia", "migrate", "approve", digest[:12])
        self.ok("--as", "admin", "migrate", "apply", "plan.json")
        self.assertIn("clean:", self.ok("--as", "admin", "audit", "verify").out)
        kinds = {k for (k,) in self.query("SELECT DISTINCT kind FROM log_view")}
        self.assertEqual(kinds, {"open", "procedure", "override", "lifecycle", "timer", "checkpoint", "publish",
                                 "staff", "erasure", "migration", "migration-plan", "site", "transfer"})

    def tearDown(self):
        for pg in self.other_pg:
            pg.drop()
        super().tearDown()

    def open_named(self, name, quantity, *extra):
        return self.ok("--as", "budi", "case", "open", "aid", "--set", "item=hygiene_kit", "--set",
                       "quantity=" + quantity, "--set", "full_name=" + name, *extra).out.strip()

    def new_database(self, server, name):
        """A place for a copy: a new database on the test server, or a new file."""
        if not server:
            return os.path.join(self.dir, name + ".db")
        pg = PgDatabase()
        self.other_pg.append(pg)
        return pg.url

    def copy(self, source, target):
        r = self.ok("--as", "admin", "db", "copy", source, target, env={"SOPIR_DB": source})
        self.assertIn("audit verify: clean on both ends", r.out)
        self.assertIn("every case chain ends at the same row on both ends", r.out)
        return r

    def assert_same(self, source, copy, sealed_rows):
        """The copy holds every row of the source as it is. A file copy of
        an encrypted database has one registry row more (`sealed_rows`):
        the passphrase set for the member who made it, which seals its
        personal text."""
        a, b = snapshot(source), snapshot(copy)
        self.assertEqual(a["log"], b["log"][:len(a["log"])])
        extra = b["log"][len(a["log"]):]
        self.assertEqual(len(extra), sealed_rows, extra)
        for row in extra:
            self.assertIn('"kind":"staff","event":"passphrase-set"', row[1])
            self.assertIn('"actor":"admin"', row[1])
        for table in ("cases", "staff", "sites", "procedures", "access"):
            self.assertEqual(a[table], b[table], table)

    def verify(self, db, *extra, who="admin"):
        r = self.ok("--as", who, "audit", "verify", *extra, env={"SOPIR_DB": db})
        self.assertIn("clean:", r.out)
        return r

    def test_copy_both_ways_keeps_every_row_hash_and_link(self):
        there = self.new_database(not POSTGRES, "there")
        self.copy(self.db, there)
        self.verify(there)
        to_file = 0 if POSTGRES else 1  # rows a copy into a file adds (see assert_same)
        self.assert_same(self.db, there, 1 - to_file)
        back = self.new_database(POSTGRES, "back")
        self.copy(there, back)
        self.verify(back)
        self.assert_same(there, back, to_file)
        self.assert_same(self.db, back, 1)
        # The hand-off across sites and its story read the same in the copy.
        story = self.ok("--as", "admin", "audit", "case", self.query(
            "SELECT parent_case FROM cases WHERE parent_case IS NOT NULL LIMIT 1")[0][0], "--with-linked",
            env={"SOPIR_DB": back}).out
        self.assertIn("follow-up", story)
        # The copy works as a database: staff read and act. A file copy's
        # key is wrapped for the member who made it, who gives the others
        # theirs again (their passphrase reset wraps it for them).
        for db in (there, back):
            if not db.startswith("postgresql://"):
                self.ok("--as", "admin", "staff", "passwd", "eka", env={"SOPIR_DB": db})
            shown = self.ok("--as", "eka", "case", "show", self.kept, "--reveal", "--reason", "check the copy",
                            env={"SOPIR_DB": db}).out
            self.assertIn(NAME, shown)
            self.ok("--as", "eka", "case", "advance", self.kept, "approve", "--set", "approved_quantity=5",
                    env={"SOPIR_DB": db})
            # The registry chain goes on from the copied head.
            self.ok("--as", "admin", "site", "add", "tarakan", "--name", "Pos Tarakan", env={"SOPIR_DB": db})
            self.verify(db)

    def test_a_refused_copy_writes_nothing(self):
        there = self.new_database(not POSTGRES, "there")
        self.copy(self.db, there)
        before = snapshot(there)
        # Into a database that holds data: refused (exit 4), both unchanged.
        if there.startswith("postgresql://"):
            r = self.refused_unchanged(4, "--as", "admin", "db", "copy", self.db, there)
            self.assertIn("the target already holds data", r.err)
            self.assertIn("writes only into a new database", r.err)
        else:
            r = self.refused_unchanged(4, "--as", "admin", "db", "copy", self.db, there)
            self.assertIn("%s exists: `sopir db copy` makes a new database file" % there, r.err)
        self.assertEqual(before, snapshot(there))
        # Not an administrator, the same place twice, one place only.
        fresh = self.new_database(not POSTGRES, "fresh")
        r = self.refused_unchanged(1, "--as", "budi", "db", "copy", self.db, fresh)
        self.assertIn("budi may not copy the database: copying it is for an administrator", r.err)
        r = self.refused_unchanged(2, "--as", "admin", "db", "copy", self.db, self.db)
        self.assertIn("cannot be copied into itself", r.err)
        self.refused_unchanged(2, "--as", "admin", "db", "copy", self.db)
        if fresh.startswith("postgresql://"):
            self.assertEqual(psql(fresh, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                         "AND tablename = 'transitions'").strip(), "0")
        else:
            self.assertFalse(os.path.exists(fresh))
        # A server copy keeps personal text encrypted: without the key file
        # an encrypted source is not copied in clear.
        if not POSTGRES:
            r = self.refused_unchanged(2, "--as", "admin", "db", "copy", self.db, fresh,
                                       env={"SOPIR_KEY_FILE": ""})
            self.assertIn("the source keeps personal text encrypted and the copy would keep it in clear", r.err)
            # Refused before the target was opened: it has not even sopir's tables.
            self.assertEqual(psql(fresh, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").strip(), "0")

    def test_one_site_into_a_file_with_a_proof_against_the_sources_checkpoint(self):
        earlier_anchor = self.ok("--as", "admin", "audit", "anchor").out.strip()
        copy = os.path.join(self.dir, "nunukan.db")
        r = self.ok("--as", "admin", "db", "copy", self.db, copy, "--site", "nunukan", env={"SOPIR_DB": self.db})
        self.assertIn("audit verify: clean on both ends", r.out)
        proven = r.out.split("a checkpoint after it (row ")[1].split("anchor ")[1].split(")")[0]
        closing = r.out.split("closes with a checkpoint of its own (")[1].split(")")[0]
        # The source logged the copy and took a checkpoint after it: its
        # anchor now, the root the copy is proven against.
        self.assertEqual(self.ok("--as", "admin", "audit", "anchor").out.strip(), proven)
        copied_rows = self.query("SELECT record FROM transitions WHERE record LIKE '%\"event\":\"copied\"%'")
        self.assertEqual(len(copied_rows), 1)
        self.assertIn('["site","nunukan"],["to","%s"]' % copy, copied_rows[0][0])
        self.verify(self.db)

        # The site's cases (the case moved there, the follow-ups opened there)
        # and the return desk case that opened one, at main; no other case.
        site_cases = {c for (c,) in self.query("SELECT id FROM cases WHERE site = 'nunukan'")}
        linked = {p for (p,) in self.query("SELECT parent_case FROM cases WHERE site = 'nunukan' "
                                           "AND parent_case IS NOT NULL")}
        self.assertIn(self.kept, site_cases)
        self.assertEqual(len(linked), 1)
        self.assertTrue(linked.isdisjoint(site_cases))
        self.assertIn("A copy of site nunukan: cases of the site: %d; cases now at other sites, moved away from "
                      "it or linked by hand-offs: 1" % len(site_cases), r.out)
        held = {c for (c,) in rows(copy, "SELECT id FROM cases")}
        self.assertEqual(held, site_cases | linked)
        # Every row it holds is the source's row with the same number, bytes
        # and hashes (all registry rows and the chains of the cases it
        # holds), but for its own: the passphrase that seals it and its
        # closing checkpoint.
        source_log = {row[0]: row for row in snapshot(self.db)["log"]}
        copied = rows(copy, "SELECT seq, record, prev_hash, hash FROM transitions ORDER BY seq")
        theirs = [row for row in copied if source_log.get(row[0]) == row]
        own = [row for row in copied if source_log.get(row[0]) != row]
        wanted = {seq for seq, in rows(self.db, "SELECT seq FROM transitions WHERE coalesce(case_id, '') = '' "
                                               "OR case_id IN (%s)" % ",".join("'%s'" % c for c in held))}
        self.assertEqual({row[0] for row in theirs}, wanted)
        self.assertEqual([row[1].split('"event":"')[1].split('"')[0] for row in own], ["passphrase-set", "checkpoint"])

        # Verify checks the source's checkpoint through the proof, and both
        # anchors hold; an earlier anchor of the source is checked there.
        out = self.verify(copy).out
        self.assertIn("a copy of site nunukan: the source's checkpoint at row", out)
        self.assertIn("the 2 checkpoints before it are checked on the source", out)  # tick's and one taken
        self.verify(copy, "--anchor", proven)
        self.verify(copy, "--anchor", closing)
        r = self.run_sopir("--as", "admin", "audit", "verify", "--anchor", earlier_anchor, env={"SOPIR_DB": copy})
        self.assertEqual(r.code, 1, r)
        self.assertIn("anchor-missing", r.out)
        self.assertIn("this database is a copy of site nunukan only", r.out)
        story = self.ok("--as", "admin", "audit", "case", list(linked)[0], "--with-linked",
                        env={"SOPIR_DB": copy}).out
        self.assertIn("follow-up", story)

        # The same in JSON, for scripts.
        again = os.path.join(self.dir, "nunukan-again.db")
        out = json.loads(self.ok("--json", "--as", "admin", "db", "copy", self.db, again, "--site", "nunukan",
                                 env={"SOPIR_DB": self.db}).out)
        self.assertEqual(out["site"]["site"], "nunukan")
        self.assertEqual(out["site"]["linked_cases"], 1)
        self.assertEqual(out["site"]["proven_anchor"], self.ok("--as", "admin", "audit", "anchor").out.strip())
        self.assertEqual(out["site"]["checkpoints_elsewhere"], 3)  # and the first copy's
        self.assertEqual(out["copied"]["cases"], len(held))
        self.verify(again, "--anchor", out["site"]["anchor"])

    def tamper(self, copy, statements):
        """Runs SQL on a copy behind sopir's back, its append-only triggers
        dropped for it and put back exactly as they were."""
        con = sqlite3.connect(copy)
        try:
            triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
            for name, _ in triggers:
                con.execute("DROP TRIGGER " + name)
            for statement in statements:
                con.execute(*statement) if isinstance(statement, tuple) else con.execute(statement)
            for _, sql in triggers:
                con.execute(sql)
            con.commit()
        finally:
            con.close()

    def test_a_site_copy_changed_behind_sopirs_back_is_found(self):
        copy = os.path.join(self.dir, "nunukan.db")
        self.ok("--as", "admin", "db", "copy", self.db, copy, "--site", "nunukan", env={"SOPIR_DB": self.db})
        # A node of the proof changed: the source's root no longer holds.
        node = rows(copy, "SELECT level, idx, hash FROM site_copy_nodes LIMIT 1")[0]
        bent = ("0" if node[2][0] != "0" else "1") + node[2][1:]
        changed = copy + ".bent"
        shutil.copy(copy, changed)
        self.tamper(changed, [("UPDATE site_copy_nodes SET hash = ? WHERE level = ? AND idx = ?",
                               (bent, node[0], node[1]))])
        r = self.run_sopir("--as", "admin", "audit", "verify", env={"SOPIR_DB": changed})
        self.assertEqual(r.code, 1, r)
        self.assertIn("checkpoint-mismatch", r.out)
        self.assertIn("with the proof kept beside them", r.out)

        # A whole case taken out, its leaf put into the proof as a subtree of
        # another site's: the root still holds, but the source committed to
        # the chains of the copy, and this one is missing.
        gone = self.kept
        checkpoint_seq = int(rows(copy, "SELECT checkpoint_seq FROM site_copy")[0][0])
        case_seq, head = rows(copy, "SELECT case_seq, hash FROM transitions WHERE case_id = '%s' AND seq < %d "
                                    "ORDER BY seq DESC LIMIT 1" % (gone, checkpoint_seq))[0]
        leaf = hashlib.sha256(b"\x00" + gone.encode() + b"\n" + case_seq.encode() + b"\n" + head.encode()).hexdigest()
        position = rows(copy, "SELECT position FROM site_copy_chains WHERE chain = '%s'" % gone)[0][0]
        self.tamper(copy, [
            "DELETE FROM personal_text WHERE case_id = '%s'" % gone,
            "DELETE FROM access_log WHERE case_id = '%s'" % gone,
            "DELETE FROM transitions WHERE case_id = '%s'" % gone,
            "DELETE FROM cases WHERE id = '%s'" % gone,
            "DELETE FROM site_copy_chains WHERE chain = '%s'" % gone,
            ("INSERT INTO site_copy_nodes (level, idx, hash) VALUES (0, ?, ?)", (position, leaf)),
        ])
        r = self.run_sopir("--as", "admin", "audit", "verify", env={"SOPIR_DB": copy})
        self.assertEqual(r.code, 1, r)
        self.assertIn("but the copy's proof places", r.out)
        self.assertIn("a chain of the copy was left out or added", r.out)

    def test_a_refused_site_copy_writes_nothing(self):
        copy = os.path.join(self.dir, "elsewhere.db")
        r = self.refused_unchanged(3, "--as", "admin", "db", "copy", self.db, copy, "--site", "tarakan")
        self.assertIn("the source has no site tarakan; its sites are: main, nunukan", r.err)
        self.assertFalse(os.path.exists(copy))
        server = self.new_database(True, "server")
        r = self.refused_unchanged(2, "--as", "admin", "db", "copy", self.db, server, "--site", "nunukan")
        self.assertIn("a copy of one site (nunukan) goes into a new database file", r.err)
        self.assertEqual(psql(server, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").strip(), "0")

    def national(self):
        """A server database holding another office already: administrator
        nadia, the office at tarakan with a member and a case (of its own
        procedure), and the empty site bengkayang an office moves into."""
        pg = PgDatabase()
        self.other_pg.append(pg)
        env = {"SOPIR_DB": pg.url}
        self.ok("init", "--admin", "nadia", "--name", "Nadia Contoh", env=env)
        for site, name in (("tarakan", "Pos Tarakan"), ("bengkayang", "Pos Bengkayang")):
            self.ok("--as", "nadia", "site", "add", site, "--name", name, env=env)
        self.ok("--as", "nadia", "staff", "add", "tika", "--name", "Tika Contoh", "--role", "shelter_staff",
                "--site", "tarakan", env=env)
        relief = AID_YAML.replace("sop: aid\n", "sop: relief\n", 1)
        self.ok("--as", "nadia", "sop", "publish", self.write("relief.yaml", relief), env=env)
        self.ok("--as", "tika", "case", "open", "relief", "--set", "item=food_pack", "--set", "quantity=2",
                "--set", "full_name=Dewi Contoh", env=env)
        return pg.url

    def move(self, national, *extra, code=0):
        args = ("--as", "admin", "db", "copy", self.db, national, "--into-site", "bengkayang") + extra
        return self.ok(*args) if code == 0 else self.refused_unchanged(code, *args)

    def test_an_office_moves_into_a_server_holding_others(self):
        national = self.national()
        before = snapshot(national)
        office = snapshot(self.db)
        r = self.move(national)
        self.assertIn("at site bengkayang", r.out)
        self.assertIn("audit verify: clean on both", r.out)
        self.assertIn("the role admin was removed from admin", r.out)
        after = snapshot(national)
        # The server's own rows stay as they were, first.
        self.assertEqual(before["log"], after["log"][:len(before["log"])])
        # Every case row of the office, bytes and hashes as they were, at its seq plus the offset.
        offset = int(before["log"][-1][0])
        here = {int(seq): (record, prev, hash_) for seq, record, prev, hash_ in after["log"]}
        moved_cases = 0
        for seq, record, prev, hash_ in office["log"]:
            if '"case_id":""' in record:
                continue
            self.assertEqual(here[int(seq) + offset], (record, prev, hash_))
            moved_cases += 1
        self.assertGreater(moved_cases, 10)
        # The office's registry, kept as it was beside the log.
        kept = rows(national, "SELECT seq, record, prev_hash, hash FROM moved_registry ORDER BY seq")
        theirs = [(str(int(seq) + offset), record, prev, hash_) for seq, record, prev, hash_ in office["log"]
                  if '"case_id":""' in record]
        self.assertEqual(kept, theirs)
        # Its cases at main are at bengkayang now; at nunukan, still there.
        for case_id, site in rows(self.db, "SELECT id, site FROM cases ORDER BY id"):
            moved_site = rows(national, "SELECT site FROM cases WHERE id = '%s'" % case_id)[0][0]
            self.assertEqual(moved_site, "bengkayang" if site == "main" else site)
        # budi's site was main: it is bengkayang now, and case list shows its cases.
        listed = self.ok("--as", "budi", "case", "list", "--limit", "500", env={"SOPIR_DB": national}).out
        self.assertIn(self.query("SELECT id FROM cases WHERE site = 'main' LIMIT 1")[0][0], listed)
        self.verify(national, who="nadia")
        # The office works on at the server, and the server's own office too.
        shown = self.ok("--as", "eka", "case", "show", self.kept, "--reveal", "--reason", "after the move",
                        env={"SOPIR_DB": national}).out
        self.assertIn(NAME, shown)
        self.ok("--as", "eka", "case", "advance", self.kept, "approve", "--set", "approved_quantity=5",
                env={"SOPIR_DB": national})
        self.ok("--as", "nadia", "checkpoint", env={"SOPIR_DB": national})
        self.verify(national, who="nadia")
        # The same office again: its site holds its cases now.
        r = self.move(national, code=4)
        self.assertIn("the target already holds 3 cases at site bengkayang", r.err)

    def test_a_refused_move_writes_nothing(self):
        national = self.national()
        before = snapshot(national)
        r = self.refused_unchanged(4, "--as", "admin", "db", "copy", self.db, national, "--into-site", "tarakan")
        self.assertIn("the target already holds 1 case at site tarakan", r.err)
        r = self.refused_unchanged(3, "--as", "admin", "db", "copy", self.db, national, "--into-site", "sebatik")
        self.assertIn("the target has no site sebatik: make it there first (sopir site add sebatik", r.err)
        self.ok("--as", "nadia", "site", "add", "nunukan", "--name", "Pos Nunukan", env={"SOPIR_DB": national})
        before = snapshot(national)
        r = self.refused_unchanged(4, "--as", "admin", "db", "copy", self.db, national, "--into-site", "bengkayang")
        self.assertIn("the moved database has a site nunukan and so has the target", r.err)
        r = self.refused_unchanged(2, "--as", "admin", "db", "copy", self.db, os.path.join(self.dir, "x.db"),
                                   "--into-site", "bengkayang")
        self.assertIn("--into-site moves an office into a server database", r.err)
        self.assertEqual(before, snapshot(national))


class CopyWords(SopirTest):
    """What `db copy` says, counted right: one site, one procedure version,
    one finding (not "1 sites", "1 findings"), in both languages."""

    def test_one_of_a_kind_is_counted_in_the_singular(self):
        copy = os.path.join(self.dir, "copy.db")
        r = self.ok("--as", "admin", "db", "copy", self.db, copy)
        first = r.out.splitlines()[0]
        self.assertRegex(first, r"^Copied .* into %s: \d+ log rows \(\d+ registry rows\), 0 cases, 4 staff members, "
                                r"1 site, 1 procedure version, 0 access records$" % re.escape(copy))
        self.assertRegex(r.out, r"audit verify: clean on both ends \(\d+ log rows, 0 cases replayed in the copy\)\n$")
        again = os.path.join(self.dir, "again.db")
        r = self.ok("--as", "admin", "--lang", "id", "db", "copy", self.db, again)
        self.assertRegex(r.out.splitlines()[0], r"^.* disalin ke %s: \d+ baris log \(\d+ baris registri\), 0 kasus, "
                                                r"4 petugas, 1 kantor, 1 versi prosedur, 0 catatan akses$"
                                                % re.escape(again))

    def test_one_finding_is_one_finding(self):
        self.sql("UPDATE procedures SET source = source || '# edited behind sopir'")
        fresh = os.path.join(self.dir, "fresh.db")
        r = self.refused_unchanged(1, "--as", "admin", "db", "copy", self.db, fresh)
        self.assertIn("does not verify clean (1 finding, first: procedure-changed: ", r.err)
        self.assertFalse(os.path.exists(fresh))
        r = self.refused_unchanged(1, "--as", "admin", "--lang", "id", "db", "copy", self.db, fresh)
        self.assertIn("tidak lolos verifikasi (1 temuan, pertama: procedure-changed: ", r.err)

    def test_usage_names_both_ways_of_copying_one_site(self):
        self.assertIn("usage: sopir db copy FROM TO [--site SITE | --into-site SITE]\n", self.ok("help", "db", "copy").out)
        r = self.fails(2, "--as", "admin", "db", "copy", self.db)
        self.assertIn("usage: sopir db copy FROM TO [--site SITE | --into-site SITE]\n", r.err)


if __name__ == "__main__":
    main()
