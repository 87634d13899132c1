"""The CLI on a PostgreSQL server: bad URLs, unreachable servers, refused
logins and databases it cannot use each give one clear message, their
documented exit code, and write nothing; a database is created with init
and used by every command (the other e2e scripts run again as e2e_pg.*)."""
import os
import re
import shlex
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import HERE, PSQL, PgDatabase, SopirTest, main, psql  # noqa: E402


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
            self.assertIn("was written by a newer sopir (schema 99, this sopir knows up to 3)", r.err)
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
        r = self.on_standby("--as", "sari", "case", "show", case_id)
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
