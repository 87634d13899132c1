"""The CLI on a PostgreSQL server: bad URLs, unreachable servers, refused
logins and databases it cannot use each give one clear message, their
documented exit code, and write nothing; a database is created with init
and used by every command (the other e2e scripts run again as e2e_pg.*)."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import PgDatabase, SopirTest, main, psql  # noqa: E402


class ServerDatabase(SopirTest):
    """A fresh server database, without sopir's tables until init."""

    publish = False

    def setUp(self):
        super().setUp()
        if not self.pg:
            self.pg = PgDatabase()
            self.db = self.pg.url

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
            self.assertIn("was written by a newer sopir (schema 99, this sopir knows up to 2)", r.err)
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


if __name__ == "__main__":
    main()
