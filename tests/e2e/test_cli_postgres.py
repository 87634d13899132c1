"""The CLI on a PostgreSQL server: bad URLs, unreachable servers, refused
logins and databases it cannot use each give one clear message, their
documented exit code, and write nothing; a database is created with init
and used by every command (the other e2e scripts run again as e2e_pg.*)."""
import json
import os
import re
import shlex
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import HERE, PSQL, PgDatabase, SopirTest, main, psql  # noqa: E402
from test_cli_sites import FOLLOW_UP_YAML, RETURN_DESK_YAML  # noqa: E402


class OnServer(SopirTest):
    """A fresh server database, without sopir's tables until init, in every
    run of this script (which runs once, not again as e2e_pg)."""

    publish = False

    def setUp(self):
        super().setUp()
        if not self.pg:
            self.pg = PgDatabase()
            self.db = self.pg.url


class ServerDatabase(OnServer):
    """Opening a server database: bad URLs, logins and databases refused."""

    def test_a_url_libpq_cannot_read_is_a_usage_error(self):
        r = self.fails(2, "--db", "postgresql://sopir@127.0.0.1:5432/x?colour=blue", "--as", "a", "case", "list")
        self.assertRegex(r.err, r"not a PostgreSQL URL: .*colour.*; give postgresql://USER:PASSWORD@HOST:PORT/DATABASE")

    def test_an_unreachable_server_is_exit_5_naming_it_without_the_password(self):
        r = self.fails(5, "--db", "postgresql://sopir:hunter2@127.0.0.1:1/national", "--as", "a", "case", "list")
        self.assertIn("cannot reach the PostgreSQL server at postgresql://sopir@127.0.0.1:1/national", r.err)
        self.assertIn("check that it runs and that the host and port in the URL are right", r.err)
        self.assertNotIn("hunter2", r.err)

    def test_a_wrong_password_is_exit_5_and_writes_nothing(self):
        wrong = re.sub(r":[^:@/]+@", ":wrong-password@", self.db)
        self.assertNotEqual(wrong, self.db)
        r = self.fails(5, "--db", wrong, "init", "--admin", "rina")
        self.assertIn("cannot log in to the PostgreSQL server at", r.err)
        self.assertNotIn("wrong-password", r.err)
        self.assertFalse(self.db_exists())

    def test_an_empty_database_needs_init_then_works(self):
        r = self.fails(3, "--as", "x", "case", "list")
        self.assertIn("(it is empty); create one with `sopir init`", r.err)
        self.assertFalse(self.db_exists())
        self.ok("init", "--admin", "admin")
        self.ok("--as", "admin", "sop", "publish", self.aid)
        self.ok("--as", "admin", "staff", "add", "budi", "--name", "Budi", "--role", "shelter_staff")
        case_id = self.open_case()
        self.assertIn(case_id, self.ok("--as", "budi", "case", "list").out)
        self.assertIn("clean:", self.ok("audit", "verify").out)
        r = self.fails(4, "init")
        self.assertIn("a sopir database already exists at postgresql://", r.err)

    def test_every_audit_command_reads_the_server_read_only(self):
        self.ok("init", "--admin", "admin")
        self.ok("--as", "admin", "sop", "publish", self.aid)
        self.ok("--as", "admin", "staff", "add", "budi", "--name", "Budi", "--role", "shelter_staff")
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review", "--note", "seen")
        before = self.dump()
        self.assertIn("review", self.ok("audit", "log").out)
        self.assertIn("review", self.ok("audit", "case", case_id).out)
        self.assertIn("clean:", self.ok("audit", "verify").out)
        anchor = self.ok("audit", "anchor").out.strip()
        self.assertRegex(anchor, r"^\d+:[0-9a-f]{64}$")
        self.assertIn("aid", self.ok("audit", "report").out)
        self.ok("audit", "replay", "--sop", self.aid)
        self.assertEqual(before, self.dump(), "an audit command wrote to the database")
        # The server refuses writes in an audit's session, whatever sopir does.
        r = self.run_sopir("audit", "log", "--format", "jsonl")
        self.assertEqual(r.code, 0, r)
        self.assertIn('"event":"review"', r.out.replace(" ", ""))

    def test_a_database_from_a_newer_sopir_is_refused_and_left_as_it_was(self):
        self.ok("init", "--admin", "admin")
        psql(self.db, "UPDATE sopir_schema SET version = 99")
        before = self.dump()
        for args in (["--as", "admin", "case", "list"], ["audit", "verify"],
                     ["--as", "admin", "staff", "add", "budi", "--name", "Budi", "--role", "shelter_staff"]):
            r = self.fails(5, *args)
            self.assertRegex(r.err, r"was written by a newer sopir \(schema 99, this sopir knows up to \d+\)")
        self.assertEqual(before, self.dump())

    def test_a_database_of_another_program_is_refused(self):
        psql(self.db, "CREATE TABLE invoices (id integer)")
        before = self.dump()
        r = self.fails(5, "init", "--admin", "admin")
        self.assertIn("holds tables but is not a sopir database", r.err)
        self.assertEqual(before, self.dump())


class ClientLibrary(SopirTest):
    """libpq is opened only for a server database: a command on an SQLite
    file never loads it (its start-up stays short), one on a server does."""

    def loaded_libraries(self, *args):
        r = self.run_sopir(*args, env={"LD_DEBUG": "libs"})
        return r, re.findall(r"calling init: (\S+)", r.err)

    def test_an_sqlite_command_never_loads_libpq(self):
        db = os.path.join(self.dir, "office.db")
        self.ok("--db", db, "init", "--admin", "admin")
        r, libraries = self.loaded_libraries("--db", db, "--as", "admin", "case", "list")
        self.assertEqual(r.code, 0, r.err)
        self.assertTrue(libraries, "LD_DEBUG=libs printed no library: the check would prove nothing")
        self.assertFalse([lib for lib in libraries if "libpq" in lib], libraries)

    def test_a_server_command_loads_libpq_when_it_connects(self):
        r, libraries = self.loaded_libraries("--db", "postgresql://sopir@127.0.0.1:1/national", "--as", "a",
                                             "case", "list")
        self.assertEqual(r.code, 5, r.err)
        self.assertTrue([lib for lib in libraries if "libpq.so.5" in lib], libraries)


class Replica(OnServer):
    """A real primary and hot standby (PostgreSQL's streaming replication):
    sopir writes on the primary; the standby serves the read-only work
    (lists, case show, every audit command) and refuses each write with one
    clear message naming it, writing nothing; promoted, it takes the writes."""

    standby_dir = None

    @classmethod
    def setUpClass(cls):
        primary = os.environ.get("SOPIR_TEST_PG_DIR", "")
        if not primary:
            if os.environ.get("CI") == "true":
                raise AssertionError("SOPIR_TEST_PG_DIR is not set: in CI the replica test needs the test server")
            raise unittest.SkipTest("SOPIR_TEST_PG_DIR is not set (scripts/pg-server.sh starts a test server)")
        script = os.path.join(os.environ.get("SOPIR_SOURCE_DIR", os.path.join(HERE, "..", "..")), "scripts",
                              "pg-server.sh")
        out = subprocess.run(["bash", script, "standby", primary], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise AssertionError("could not start a standby: " + out.stderr)
        values = dict(re.findall(r"export (\w+)=(\S+)", out.stdout))
        cls.standby_url = shlex.split(values["SOPIR_TEST_PG_STANDBY"])[0]
        cls.standby_dir = shlex.split(values["SOPIR_TEST_PG_STANDBY_DIR"])[0]
        cls.script = script

    @classmethod
    def tearDownClass(cls):
        if cls.standby_dir:
            subprocess.run(["bash", cls.script, "stop", cls.standby_dir], capture_output=True, timeout=120)

    def setUp(self):
        super().setUp()
        self.standby = self.standby_url.rsplit("/", 1)[0] + "/" + self.pg.name

    def caught_up(self):
        """Waits until the standby has replayed everything the primary wrote."""
        target = psql(self.db, "SELECT pg_current_wal_lsn()").strip()
        # Generous: on a loaded CI machine the other tests' databases, copied
        # from templates, are whole files of WAL the standby replays first.
        deadline = time.time() + 240
        replayed = ""
        while time.time() < deadline:
            # Asked of the standby's own database: the test's may not have arrived yet.
            replayed = psql(self.standby_url, "SELECT pg_last_wal_replay_lsn() || ' ' || "
                            "(pg_last_wal_replay_lsn() >= '%s'::pg_lsn)::text" % target).strip()
            if replayed.endswith(" true"):
                return
            time.sleep(0.1)
        self.fail("the standby did not catch up with the primary in 240 s: it replayed up to %s, the primary "
                  "was at %s" % (replayed, target))

    def on_standby(self, *args):
        return self.run_sopir("--db", self.standby, *args)

    def test_the_standby_reads_and_refuses_writes_then_takes_over(self):
        self.ok("init", "--admin", "admin")
        self.ok("--as", "admin", "sop", "publish", self.aid)
        self.ok("--as", "admin", "staff", "add", "budi", "--name", "Budi", "--role", "shelter_staff")
        self.ok("--as", "admin", "staff", "add", "sari", "--name", "Sari", "--role", "supervisor")
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review", "--note", "seen")
        self.caught_up()

        # The read-only work, on the standby.
        r = self.on_standby("--as", "budi", "case", "list")
        self.assertEqual(r.code, 0, r)
        self.assertIn(case_id, r.out)
        r = self.on_standby("--as", "budi", "case", "show", case_id)
        self.assertEqual(r.code, 0, r)
        self.assertIn("review", r.out)
        for read in (["audit", "verify"], ["audit", "case", case_id], ["audit", "log"], ["audit", "report"],
                     ["audit", "anchor"], ["--as", "budi", "todo"]):
            r = self.on_standby(*read)
            self.assertEqual(r.code, 0, (read, r))
        self.assertEqual(self.on_standby("audit", "anchor").out, self.ok("audit", "anchor").out)
        self.assertIn("clean:", self.on_standby("audit", "verify").out)

        # Every write is refused there, naming the standby and what to do; nothing is written.
        before = self.dump()
        server = re.sub(r"postgresql://[^@]*@", "postgresql://sopir@", self.standby)
        approve = ["--as", "sari", "case", "advance", case_id, "approve", "--set", "approved_quantity=5"]
        for write in (approve,
                      ["--as", "budi", "case", "open", "aid", "--set", "item=food_pack", "--set", "quantity=1",
                       "--set", "full_name=Sari Contoh"],
                      ["--as", "admin", "staff", "add", "eka", "--name", "Eka", "--role", "shelter_staff"]):
            r = self.on_standby(*write)
            self.assertEqual(r.code, 5, (write, r))
            self.assertIn("the PostgreSQL server at %s is a standby (a read-only replica of the primary)" % server,
                          r.err)
            self.assertIn("needs the primary: give the primary's URL", r.err)
            self.assertNotIn(server.split("@")[0] + ":", r.err)  # no password
        # Personal data shown unmasked must be recorded as seen, so it is revealed on the primary only.
        r = self.on_standby("--as", "sari", "case", "show", case_id, "--reveal", "--reason", "call back")
        self.assertEqual(r.code, 5, r)
        self.assertIn("is a standby (a read-only replica of the primary)", r.err)
        self.assertNotIn("Wati Contoh", r.out + r.err)
        r = self.on_standby("init", "--admin", "admin")
        self.assertEqual(r.code, 4, r)  # it exists (replicated); nothing changed
        self.caught_up()
        self.assertEqual(before, self.dump())

        # The primary is lost; the standby is promoted and takes the writes.
        subprocess.run(["bash", self.script, "promote", self.standby_dir], check=True, capture_output=True,
                       timeout=120)
        deadline = time.time() + 120
        while psql(self.standby_url, "SELECT pg_is_in_recovery()").strip() != "f":
            self.assertLess(time.time(), deadline, "the standby was not promoted in 120 s")
            time.sleep(0.05)
        r = self.on_standby(*approve)
        self.assertEqual(r.code, 0, r)
        self.assertIn("clean:", self.on_standby("audit", "verify").out)


class ServerLogin(OnServer):
    """Staff logged in by the server (issue #13): once an administrator has
    a server login, the session's login names the actor of every step;
    --as may only repeat it, and the server itself refuses a log row whose
    actor is another member's, even written with psql."""

    def setUp(self):
        super().setUp()
        self.server_admin = os.environ["SOPIR_TEST_PG"]
        tag = self.pg.name.rsplit("_", 1)[-1]
        self.roles = []
        # The database's owner is the first administrator's own role: not a
        # superuser (sopir refuses to make one a member's login).
        self.owner = self.role("adm_" + tag, "owner-pass-" + tag, "CREATEROLE")
        psql(self.server_admin, "ALTER DATABASE %s OWNER TO %s" % (self.pg.name, self.owner))
        psql(self.db, "ALTER SCHEMA public OWNER TO %s" % self.owner)
        self.owner_url = self.url_as(self.owner, "owner-pass-" + tag)
        self.tag = tag

    def tearDown(self):
        super().tearDown()
        for role in reversed(self.roles):
            psql(self.server_admin, "DROP ROLE IF EXISTS " + role)

    def role(self, name, password, *options):
        psql(self.server_admin, "CREATE ROLE %s LOGIN PASSWORD '%s' %s" % (name, password, " ".join(options)))
        self.roles.append(name)
        return name

    def url_as(self, role, password):
        return re.sub(r"//[^@]*@", "//%s:%s@" % (role, password), self.db)

    def as_login(self, url, *args, code=0):
        r = self.run_sopir("--db", url, *args)
        self.assertEqual(r.code, code, r)
        return r

    def set_up_logins(self):
        r = self.as_login(self.owner_url, "init", "--admin", "rina")
        self.assertIn("rina logs in to the server as %s: from now on the server names the actor" % self.owner, r.out)
        self.as_login(self.owner_url, "sop", "publish", self.aid)
        # Giving the login they have again changes nothing.
        r = self.as_login(self.owner_url, "--as", "rina", "staff", "login", "rina", self.owner)
        self.assertIn("rina now logs in to the server as " + self.owner, r.out)
        budi = "budi_" + self.tag
        self.roles.append(budi)
        r = self.as_login(self.owner_url, "staff", "add", "budi", "--name", "Budi Contoh",
                          "--role", "shelter_staff", "--login", budi, "--json")
        added = json.loads(r.out)
        self.assertTrue(added["login_created"])
        self.assertEqual(added["staff"]["login"], budi)
        self.budi_url = self.url_as(budi, added["first_password"])
        return budi

    def add_member(self, staff_id, name, roles, *extra):
        """Adds a staff member with a server login of their own; their URL."""
        login = "%s_%s" % (staff_id, self.tag)
        self.roles.append(login)
        r = self.as_login(self.owner_url, "staff", "add", staff_id, "--name", name, "--role", roles,
                          "--login", login, "--json", *extra)
        return self.url_as(login, json.loads(r.out)["first_password"])

    def member_at_nunukan(self, roles):
        """Adds site nunukan and eka, a member of it only; eka's URL."""
        self.as_login(self.owner_url, "site", "add", "nunukan", "--name", "Pos Debarkasi Nunukan")
        return self.add_member("eka", "Eka Contoh", roles, "--site", "nunukan")

    def test_the_session_names_the_actor_and_the_server_refuses_any_other(self):
        budi = self.set_up_logins()
        # No --as: the server's login names the actor.
        r = self.as_login(self.budi_url, "case", "open", "aid", "--set", "item=hygiene_kit",
                          "--set", "quantity=5", "--set", "full_name=Wati Contoh")
        case_id = r.out.strip()
        rows = self.query("SELECT actor, event FROM transitions WHERE case_id = '%s'" % case_id)
        self.assertEqual(rows, [("budi", "open")])
        # --as another member: refused, exit 6, nothing written.
        before = self.dump()
        r = self.as_login(self.budi_url, "--as", "rina", "case", "advance", case_id, "review", code=6)
        self.assertIn("--as rina, but the server logged this session in as %s, the login of budi" % budi, r.err)
        r = self.as_login(self.budi_url, "--as", "rina", "staff", "add", "eka", "--name", "Eka",
                          "--role", "admin", code=6)
        self.assertEqual(before, self.dump())
        # --as repeating the session's member is fine; the timer's and the
        # checkpoint's rows are the system's, whoever runs them.
        self.as_login(self.budi_url, "--as", "budi", "case", "show", case_id)
        self.as_login(self.budi_url, "tick")
        self.as_login(self.owner_url, "checkpoint")
        before = self.dump()
        # The server itself refuses a row claiming another actor, even from psql.
        with self.assertRaises(RuntimeError) as raised:
            psql(self.budi_url, "INSERT INTO transitions (record, prev_hash, hash) VALUES ("
                 "'{\"case_id\":\"%s\",\"case_seq\":9,\"kind\":\"procedure\",\"event\":\"x\","
                 "\"actor\":\"rina\",\"occurred_at\":0}', '', '')" % case_id)
        self.assertIn("the actor rina is not the staff member the server logged this session (%s) in as" % budi,
                      str(raised.exception))
        # A member who is not an administrator cannot rewrite who is who.
        with self.assertRaises(RuntimeError) as raised:
            psql(self.budi_url, "UPDATE staff SET login = NULL WHERE id = 'rina'")
        self.assertIn("permission denied for table staff", str(raised.exception))
        self.assertEqual(before, self.dump())
        self.assertIn("clean:", self.as_login(self.owner_url, "audit", "verify").out)
        self.assertEqual(self.query("SELECT actor, record::jsonb -> 'inputs' FROM transitions "
                                    "WHERE event = 'login-set' ORDER BY seq"),
                         [("rina", '[["staff", "rina"], ["login", "%s"]]' % self.owner),
                          ("rina", '[["staff", "budi"], ["login", "%s"]]' % budi)])
        # A login given behind sopir's back (the owner can) is not in the log: verify says so.
        psql(self.owner_url, "UPDATE staff SET login = NULL WHERE id = 'budi'")
        r = self.as_login(self.owner_url, "audit", "verify", code=1)
        self.assertIn("the table gives them the server login none, the log %s" % budi, r.out + r.err)

    def test_row_level_security_keeps_each_site_to_its_own_even_in_psql(self):
        budi = self.set_up_logins()  # budi: the only site then, main
        eka_url = self.member_at_nunukan("shelter_staff,supervisor")
        at_main = self.as_login(self.budi_url, "case", "open", "aid", "--set", "item=hygiene_kit",
                                "--set", "quantity=5", "--set", "full_name=Wati Contoh").out.strip()
        at_nunukan = self.as_login(eka_url, "case", "open", "aid", "--set", "item=food_pack",
                                   "--set", "quantity=2", "--set", "full_name=Sari Contoh").out.strip()
        self.as_login(self.owner_url, "staff", "grant", "budi", "supervisor")
        self.as_login(self.budi_url, "case", "show", at_main, "--reveal", "--reason", "call back")

        # Through sopir: the other site's case does not exist for eka.
        listed = self.as_login(eka_url, "case", "list").out
        self.assertIn(at_nunukan, listed)
        self.assertNotIn(at_main, listed)
        before = self.dump()
        for command in (["case", "show", at_main], ["case", "history", at_main], ["audit", "case", at_main],
                        ["case", "advance", at_main, "escalate"]):
            r = self.as_login(eka_url, *command, code=3)
            self.assertNotIn("Wati Contoh", r.out + r.err)
        self.assertEqual(before, self.dump())

        # Raw SQL as eka's own role: no row of site main, in any table or view.
        for sql in ("SELECT count(*) FROM cases WHERE site <> 'nunukan'",
                    "SELECT count(*) FROM transitions WHERE case_id = '%s'" % at_main,
                    "SELECT count(*) FROM personal_text WHERE case_id = '%s'" % at_main,
                    "SELECT count(*) FROM access_log WHERE case_id = '%s'" % at_main,
                    "SELECT count(*) FROM cases_view WHERE id = '%s'" % at_main,
                    "SELECT count(*) FROM log_view WHERE case_id = '%s'" % at_main):
            self.assertEqual(psql(eka_url, sql).strip(), "0", sql)
        # Its own site's rows it sees; the owner sees both (the texts are
        # sealed: counted by case).
        self.assertEqual(psql(eka_url, "SELECT count(*) FROM personal_text WHERE case_id = '%s'"
                              % at_nunukan).strip(), "1")
        self.assertEqual(psql(self.owner_url, "SELECT count(*) FROM personal_text WHERE case_id = '%s'"
                              % at_main).strip(), "1")
        # Nor can it change them: an update finds no row, an insert is refused.
        self.assertEqual(psql(eka_url, "UPDATE cases SET state = 'approved' WHERE id = '%s' RETURNING id"
                              % at_main).strip(), "")
        with self.assertRaises(RuntimeError) as raised:
            psql(eka_url, "INSERT INTO cases (id, sop_id, sha256, state, status, version, last_seq, head_hash, "
                          "opened_at, site) SELECT 'ZZZ-ZZZ', sop_id, sha256, state, status, 1, 1, '', 0, 'main' "
                          "FROM cases WHERE id = '%s'" % at_nunukan)
        self.assertIn("row-level security", str(raised.exception))
        self.assertEqual(before, self.dump())
        # Row-level security is forced on the owner too; its administrator's
        # session sees every site (the timer and checkpoints run as it).
        self.assertEqual(self.query("SELECT relname FROM pg_class WHERE relforcerowsecurity ORDER BY relname"),
                         [("access_log",), ("cases",), ("personal_text",), ("transitions",)])
        self.assertEqual(psql(self.owner_url, "SELECT count(*) FROM cases").strip(), "2")
        # A member's tick fires its own deadlines but writes no checkpoint;
        # a member cannot verify the whole log.
        r = self.as_login(eka_url, "tick")
        self.assertIn("no checkpoint written", r.err)
        r = self.as_login(eka_url, "audit", "verify", code=1)
        self.assertIn("run it as an administrator, national or auditor login", r.err)
        self.as_login(self.owner_url, "tick")
        self.assertIn("clean:", self.as_login(self.owner_url, "audit", "verify").out)

        # An auditor's login reads every site and writes nothing, even in psql.
        oki_url = self.add_member("oki", "Oki Contoh", "auditor")
        self.assertEqual(psql(oki_url, "SELECT count(*) FROM cases").strip(), "2")
        self.assertEqual(psql(oki_url, "SELECT count(*) FROM personal_text").strip(), "0")
        with self.assertRaises(RuntimeError) as raised:
            psql(oki_url, "UPDATE cases SET state = 'x'")
        self.assertIn("permission denied", str(raised.exception))
        self.assertIn("clean:", self.as_login(oki_url, "audit", "verify").out)
        # A case's key deleted behind sopir's back (the owner can): the
        # auditor reads no personal text, yet is told this one is gone.
        psql(self.owner_url, "DELETE FROM case_keys WHERE case_id = '%s'" % at_main)
        r = self.as_login(oki_url, "audit", "verify", code=1)
        self.assertIn("pii-gone at row", r.out)
        self.assertIn("1 finding: ", r.out)
        self.assertIn("in case %s is gone" % at_main, r.out)

    def test_audit_log_reveals_only_the_cases_of_the_readers_sites(self):
        self.set_up_logins()
        eka_url = self.member_at_nunukan("shelter_staff,supervisor")
        at_main = self.as_login(self.budi_url, "case", "open", "aid", "--set", "item=hygiene_kit",
                                "--set", "quantity=5", "--set", "full_name=Wati Contoh").out.strip()
        at_nunukan = self.as_login(eka_url, "case", "open", "aid", "--set", "item=food_pack",
                                   "--set", "quantity=2", "--set", "full_name=Sari Contoh").out.strip()
        # nia reads every site (national) and may see personal data
        # (supervisor), at her own site, main, only.
        nia_url = self.add_member("nia", "Nia Contoh", "national,supervisor", "--site", "main")
        log = self.as_login(nia_url, "audit", "log", "--reveal", "--reason", "monthly review", "--format",
                            "jsonl").out.splitlines()
        shown = {json.loads(row)["case_id"]: json.loads(row)["changes"] for row in log if json.loads(row)["case_id"]}
        self.assertIn("Wati Contoh", json.dumps(shown[at_main]))
        self.assertNotIn("Sari Contoh", json.dumps(shown[at_nunukan]))
        self.assertNotIn("(encrypted)", json.dumps(shown[at_nunukan]))
        self.assertIn("***", json.dumps(shown[at_nunukan]))
        # Only the case revealed is in the access log.
        self.assertEqual(self.query("SELECT actor, case_id FROM access_log WHERE actor = 'nia'"), [("nia", at_main)])
        # The other site's case alone: refused, saying why, nothing written.
        before = self.dump()
        r = self.as_login(nia_url, "audit", "log", "--case", at_nunukan, "--reveal", "--reason", "monthly review",
                          code=1)
        self.assertIn("nia may not see personal data of these cases: it is shown only to staff of their sites "
                      "(nunukan); administrators, national and auditor staff see it masked", r.err)
        self.assertEqual(before, self.dump())

    def test_a_hand_off_opens_a_case_at_another_site_under_row_level_security(self):
        budi = self.set_up_logins()  # budi: site main
        eka_url = self.member_at_nunukan("shelter_staff")
        self.as_login(self.owner_url, "sop", "publish", self.write("follow-up.yaml", FOLLOW_UP_YAML))
        self.as_login(self.owner_url, "sop", "publish", self.write("return-desk.yaml", RETURN_DESK_YAML))
        parent = self.as_login(self.budi_url, "case", "open", "return-desk").out.strip()
        # budi's login writes a case at nunukan because main's case hands it on there.
        opened = json.loads(self.as_login(self.budi_url, "case", "advance", parent, "refer", "--json").out)["opened"]
        child = opened["case"]
        self.assertEqual(opened["site"], "nunukan")
        # From then on it is nunukan's: budi's own role reads only its open row.
        self.assertEqual(psql(self.budi_url, "SELECT count(*) FROM cases WHERE id = '%s'" % child).strip(), "0")
        self.assertEqual(psql(self.budi_url, "SELECT kind FROM transitions WHERE case_id = '%s'" % child).strip(),
                         "open")
        self.assertNotIn(child, self.as_login(self.budi_url, "case", "list").out)
        self.assertIn(child, self.as_login(eka_url, "case", "list").out)
        self.as_login(eka_url, "case", "advance", child, "visit")
        self.assertEqual(psql(self.budi_url, "SELECT count(*) FROM transitions WHERE case_id = '%s'" % child).strip(),
                         "1")
        # Without a parent of its own site, budi's role still cannot put a case at nunukan.
        before = self.dump()
        with self.assertRaises(RuntimeError) as raised:
            psql(self.budi_url, "INSERT INTO cases (id, sop_id, sha256, state, status, version, last_seq, head_hash, "
                                "opened_at, site) SELECT 'ZZZ-ZZY', sop_id, sha256, state, status, 1, 1, '', 0, "
                                "'nunukan' FROM cases WHERE id = '%s'" % parent)
        self.assertIn("row-level security", str(raised.exception))
        self.assertEqual(before, self.dump())
        story = self.as_login(self.owner_url, "audit", "case", parent, "--with-linked").out
        self.assertIn(child, story)
        self.assertIn("clean:", self.as_login(self.owner_url, "audit", "verify").out)

    def test_a_guard_waits_on_the_case_it_handed_to_another_site(self):
        """A member's step waits (child_closed) for a case its case opened at
        another site, which row-level security otherwise hides from them:
        they read its state and status through sopir_child_cases, and
        nothing else of it, even with psql (schema 10)."""
        self.set_up_logins()  # budi: site main
        eka_url = self.member_at_nunukan("shelter_staff")
        waiting = RETURN_DESK_YAML.replace("sop: return-desk", "sop: return-wait").replace(
            "  - {event: send_home,",
            "  - {event: close_out, from: referred, to: sent_home, roles: [shelter_staff],\n"
            "     when: child_closed('follow-up')}\n"
            "  - {event: send_home,")
        self.as_login(self.owner_url, "sop", "publish", self.write("follow-up.yaml", FOLLOW_UP_YAML))
        self.as_login(self.owner_url, "sop", "publish", self.write("return-wait.yaml", waiting))
        parent = self.as_login(self.budi_url, "case", "open", "return-wait").out.strip()
        child = json.loads(self.as_login(self.budi_url, "case", "advance", parent, "refer",
                                         "--json").out)["opened"]["case"]
        # The follow-up at nunukan is still open: the guard holds budi back.
        r = self.as_login(self.budi_url, "case", "advance", parent, "close_out", code=1)
        self.assertIn("child_closed('follow-up')", r.err)
        self.as_login(eka_url, "case", "advance", child, "visit")
        self.as_login(self.budi_url, "case", "advance", parent, "close_out")
        # What budi's own role reads of the child: its state through the
        # function, nothing from the tables.
        self.assertEqual(psql(self.budi_url, "SELECT state, status FROM sopir_child_cases('%s')" % parent).strip(),
                         "done|closed")
        self.assertEqual(psql(self.budi_url, "SELECT count(*) FROM cases WHERE id = '%s'" % child).strip(), "0")
        self.assertEqual(psql(self.budi_url, "SELECT count(*) FROM transitions WHERE case_id = '%s' "
                                             "AND kind <> 'open'" % child).strip(), "0")
        # Nor of a case budi's sites cannot read: eka's own case's children.
        other = self.as_login(eka_url, "case", "open", "return-wait").out.strip()
        self.as_login(eka_url, "case", "advance", other, "refer")
        self.assertEqual(psql(self.budi_url, "SELECT count(*) FROM sopir_child_cases('%s')" % other).strip(), "0")
        self.assertIn("clean:", self.as_login(self.owner_url, "audit", "verify").out)

    def test_an_unmapped_login_and_a_deactivated_member_are_refused(self):
        budi = self.set_up_logins()
        stranger = self.role("tamu_" + self.tag, "tamu-pass")
        psql(self.db, "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO " + stranger)
        before = self.dump()
        r = self.as_login(self.url_as(stranger, "tamu-pass"), "--as", "budi", "case", "open", "aid",
                          "--set", "item=hygiene_kit", "--set", "quantity=1", "--set", "full_name=X", code=6)
        self.assertIn("the server logged this session in as %s, which is no active staff member's login" % stranger,
                      r.err)
        self.assertEqual(before, self.dump())
        self.as_login(self.owner_url, "staff", "deactivate", "budi")
        r = self.as_login(self.budi_url, "case", "list", code=5)
        self.assertIn('role "%s" is not permitted to log in' % budi, r.err)
        self.assertIn("clean:", self.as_login(self.owner_url, "audit", "verify").out)

    def test_a_superusers_init_gives_no_login_and_says_so(self):
        r = self.as_login(self.db, "init", "--admin", "rina")
        self.assertIn("a superuser, which cannot be a staff member's login: until rina has a server login", r.err)
        self.assertEqual(self.query("SELECT count(*) FROM staff WHERE login IS NOT NULL"), [("0",)])
        # --as names the actor until then.
        self.as_login(self.db, "--as", "rina", "sop", "publish", self.aid)

    def test_bad_logins_are_refused_with_nothing_written(self):
        self.as_login(self.db, "init", "--admin", "rina")  # a superuser's: rina has no login yet
        before = self.dump()
        # Mapping the first administrator to a login other than the session's
        # would lock them out.
        other = self.role("lain_" + self.tag, "lain-pass")
        r = self.as_login(self.db, "--as", "rina", "staff", "login", "rina", other, code=6)
        self.assertIn("rina could no longer act", r.err)
        r = self.as_login(self.db, "--as", "rina", "staff", "login", "rina", "Not-A-Role", code=2)
        self.assertIn("'Not-A-Role' cannot be a server login", r.err)
        r = self.as_login(self.db, "--as", "rina", "staff", "login", "rina", "sopir", code=2)
        self.assertIn("is a superuser", r.err)
        r = self.as_login(self.db, "--as", "rina", "staff", "login", "nobody", other, code=3)
        self.assertEqual(before, self.dump())
        # On a database file a login is a usage error: staff there log in with a passphrase.
        file_db = os.path.join(self.dir, "office.db")
        self.assertEqual(self.run_sopir("--db", file_db, "init", "--admin", "rina").code, 0)
        r = self.run_sopir("--db", file_db, "--as", "rina", "staff", "login", "rina", "x")
        self.assertEqual(r.code, 2, r)
        self.assertIn("for a server database", r.err)

    def test_an_office_moves_in_under_an_administrators_login(self):
        """`db copy FILE SERVER --into-site`: the server's staff log in, so
        the log's actor trigger would refuse the office's rows (their actors
        are its staff); an administrator's session may write them for the
        move's transaction only, and a member's may not."""
        self.set_up_logins()
        self.as_login(self.owner_url, "site", "add", "sebatik", "--name", "Pos Sebatik")
        nadia = self.add_member("nadia", "Nadia Contoh", "admin", "--site", "main")
        worker = self.add_member("wati", "Wati Contoh", "shelter_staff", "--site", "sebatik")
        office = os.path.join(self.dir, "office.db")
        env = {"SOPIR_DB": office}
        self.ok("init", "--admin", "ana", "--name", "Ana Contoh", env=env)
        self.ok("--as", "ana", "sop", "publish", self.aid, env=env)
        self.ok("--as", "ana", "staff", "add", "tini", "--name", "Tini Contoh", "--role", "shelter_staff", env=env)
        case_id = self.ok("--as", "tini", "case", "open", "aid", "--set", "item=food_pack", "--set", "quantity=3",
                          "--set", "full_name=Sari Contoh", env=env).out.strip()
        # A member's session is no administrator's: refused, nothing written.
        before = self.dump()
        r = self.run_sopir("--as", "ana", "db", "copy", office, worker, "--into-site", "sebatik", env=env)
        self.assertEqual(r.code, 1, r)
        self.assertIn("may not move an office into", r.err)
        self.assertEqual(before, self.dump())
        r = self.run_sopir("--as", "ana", "db", "copy", office, nadia, "--into-site", "sebatik", env=env)
        self.assertEqual(r.code, 0, r)
        self.assertIn("audit verify: clean on both", r.out)
        self.assertEqual(psql(self.db, "SELECT actor FROM transitions WHERE case_id = '%s' AND kind = 'open'"
                                       % case_id).strip(), "tini")
        self.assertEqual(psql(self.db, "SELECT actor FROM transitions WHERE kind = 'site' AND event = 'moved-in'"
                                       ).strip(), "nadia")
        self.assertEqual(psql(self.db, "SELECT site FROM cases WHERE id = '%s'" % case_id).strip(), "sebatik")
        self.assertIn("clean:", self.as_login(nadia, "audit", "verify").out)
        # The move's setting lets only an administrator's session write
        # another member's rows: a member who sets it is still refused.
        before = self.dump()
        row = ('{"case_id":"","case_seq":99,"kind":"staff","event":"added","actor":"tini","occurred_at":0}')
        r = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", worker, "-c",
                            "SET sopir.move_in = 'on'; INSERT INTO transitions (record, prev_hash, hash) "
                            "VALUES ('%s', '', 'x')" % row], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is not the staff member the server logged this session", r.stderr)
        # Nor an administrator's, outside a move, naming a member already
        # there: even holding the lock and the setting, only members added
        # in the same transaction may be named.
        r = subprocess.run([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", nadia, "-c",
                            "BEGIN; LOCK TABLE transitions IN EXCLUSIVE MODE; SET LOCAL sopir.move_in = 'on'; "
                            "INSERT INTO transitions (record, prev_hash, hash) VALUES ('%s', '', 'x'); COMMIT"
                            % row], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is not the staff member the server logged this session", r.stderr)
        self.assertEqual(before, self.dump())


class BackupDrill(OnServer):
    """The backup and restore drill of docs/DEPLOY.md: pg_dump of a live
    database, restored into a new one, verifies clean against the anchor
    taken before the dump, and takes new steps."""

    def setUp(self):
        super().setUp()
        self.restored = None

    def tearDown(self):
        if self.restored:
            self.restored.drop()
        super().tearDown()

    def test_a_dump_restores_to_a_database_that_verifies_against_the_anchor(self):
        self.ok("init", "--admin", "admin")
        self.ok("--as", "admin", "sop", "publish", self.aid)
        self.ok("--as", "admin", "staff", "add", "budi", "--name", "Budi", "--role", "shelter_staff")
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review", "--note", "seen")
        self.ok("--as", "admin", "checkpoint")
        anchor = self.ok("audit", "anchor").out.strip().split()[-1]
        self.assertRegex(anchor, r"^\d+:[0-9a-f]{64}$")

        bindir = os.path.dirname(PSQL)
        dump = os.path.join(self.dir, "national.dump")
        subprocess.run([os.path.join(bindir, "pg_dump"), "-Fc", "-f", dump, self.db], check=True,
                       capture_output=True, timeout=120)
        self.restored = PgDatabase()
        subprocess.run([os.path.join(bindir, "pg_restore"), "--no-owner", "-d", self.restored.url, dump],
                       check=True, capture_output=True, timeout=120)

        r = self.run_sopir("--db", self.restored.url, "audit", "verify", "--anchor", anchor)
        self.assertEqual(r.code, 0, r)
        self.assertIn("clean:", r.out)
        self.assertEqual(self.dump(), self.restored.dump())
        # The log stays append-only after the restore, and new steps chain on.
        with self.assertRaises(RuntimeError) as caught:
            psql(self.restored.url, "DELETE FROM transitions")
        self.assertIn("the transition log is append-only", str(caught.exception))
        r = self.run_sopir("--db", self.restored.url, "--as", "budi", "case", "hold", case_id, "--reason", "drill")
        self.assertEqual(r.code, 0, r)
        self.assertIn("clean:", self.run_sopir("--db", self.restored.url, "audit", "verify").out)


if __name__ == "__main__":
    main()
