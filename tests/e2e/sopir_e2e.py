"""Helpers for the end-to-end tests of the sopir binary (python3 stdlib only).

Each test_*.py imports this file from its own directory, makes a temporary
directory with a small procedure written here, and runs the real binary
(env SOPIR_BIN, else build/sopir beside the source tree).

With SOPIR_E2E_BACKEND=postgresql every test gets a fresh database on the
PostgreSQL test server instead of an SQLite file (SOPIR_TEST_PG, the
administrator's URL, from scripts/pg-server.sh): the same tests, run by
ctest as e2e_pg.*. Tests of the SQLite file itself are marked sqlite_only.
"""
import atexit
import glob
import json
import os
import shutil
import subprocess
import tempfile
import secrets
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
POSTGRES = os.environ.get("SOPIR_E2E_BACKEND") == "postgresql"

# Staff log in on a database file (docs/CLI.md, "Logging in"): every staff
# member the tests make gets this passphrase, set at the cheap cost meant
# for tests (SOPIR_KDF_COST=test), and every run reads it from this file.
# A test of log-in itself overrides these in its own environment.
PASSPHRASE = "e2e test passphrase"
_PASS_DIR = tempfile.mkdtemp(prefix="sopir-e2e-pass-")
atexit.register(shutil.rmtree, _PASS_DIR, True)
PASSPHRASE_FILE = os.path.join(_PASS_DIR, "passphrase")
with open(PASSPHRASE_FILE, "w", encoding="utf-8") as _f:
    _f.write(PASSPHRASE + "\n")
os.chmod(PASSPHRASE_FILE, 0o600)
os.environ["SOPIR_PASSPHRASE_FILE"] = PASSPHRASE_FILE
os.environ["SOPIR_NEW_PASSPHRASE_FILE"] = PASSPHRASE_FILE
os.environ["SOPIR_KDF_COST"] = "test"

# A server database keeps personal text sealed under a key file held
# outside the server (docs/PRIVACY.md): every run gets this one, made as
# `sopir key new` makes it (64 hex digits and a newline, mode 0600). A
# database file ignores it. A test of key files overrides it.
KEY_FILE = os.path.join(_PASS_DIR, "server.key")
with open(KEY_FILE, "w", encoding="ascii") as _f:
    _f.write(secrets.token_hex(32) + "\n")
os.chmod(KEY_FILE, 0o600)
os.environ["SOPIR_KEY_FILE"] = KEY_FILE


def sqlite_only(reason):
    """Marks a test of the SQLite file itself: skipped on PostgreSQL."""
    return unittest.skipIf(POSTGRES, "SQLite only: " + reason)


def _psql_binary():
    """Debian's /usr/bin/psql is a Perl wrapper that picks a cluster; the
    tests run it hundreds of times, so they call the real binary."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    return found[-1] if found else "psql"


PSQL = _psql_binary()


def psql(url, sql):
    proc = subprocess.run([PSQL, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError("psql failed: " + proc.stderr)
    return proc.stdout


class PgDatabase:
    """A fresh database on the test server, dropped by drop()."""

    def __init__(self, template=None):
        self.admin = os.environ.get("SOPIR_TEST_PG", "")
        if not self.admin and os.environ.get("CI") == "true":
            raise AssertionError("SOPIR_TEST_PG is not set: in CI the PostgreSQL runs need the test server")
        if not self.admin:
            raise unittest.SkipTest("SOPIR_TEST_PG is not set (scripts/pg-server.sh starts a test server)")
        self.name = "sopir_e2e_%d_%s" % (os.getpid(), secrets.token_hex(4))
        psql(self.admin, "CREATE DATABASE " + self.name + (" TEMPLATE " + template if template else ""))
        self.url = self.admin.rsplit("/", 1)[0] + "/" + self.name

    def drop(self):
        psql(self.admin, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.name)

    def dump(self):
        """Every row of every table of the database, as text (one psql run)."""
        return psql(self.url, "SELECT tablename || E':\\n' || query_to_xml(format("
                              "'SELECT t::text AS row FROM %I t ORDER BY 1', tablename), false, false, '')::text "
                              "FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")


def sopir_bin():
    path = os.environ.get("SOPIR_BIN")
    if path:
        return path
    return os.path.join(HERE, "..", "..", "build", "sopir")


# A small aid procedure exercising every rule the CLI must report.
AID_YAML = """\
sop: aid
version: 1
title: {en: Relief items, id: Bantuan barang}
roles: [shelter_staff, supervisor]
fields:
  item:
    type: enum
    values: [hygiene_kit, food_pack]
    label: {en: Item, id: Barang}
  quantity:
    type: int
    min: 1
    max: 100
    label: {en: Quantity, id: Jumlah}
  full_name:
    type: string
    pii: true
    label: {en: Full name, id: Nama lengkap}
  approved_quantity:
    type: int
    min: 1
    label: {en: Approved quantity, id: Jumlah disetujui}
states:
  requested:
    label: {en: Requested, id: Diajukan}
    description: {en: Check the request with the person., id: Periksa permintaan bersama orangnya.}
    initial: true
    deadline: 2d
    on_deadline: escalate
  reviewed:
    label: {en: Reviewed, id: Ditinjau}
    description: {en: A second person approves., id: Orang kedua menyetujui.}
  escalated:
    label: {en: Escalated, id: Dieskalasi}
    description: {en: The supervisor decides., id: Supervisor memutuskan.}
  approved:
    label: {en: Approved, id: Disetujui}
    description: {en: Hand the items over., id: Serahkan barangnya.}
  delivered:
    label: {en: Delivered, id: Diserahkan}
    description: {en: Done., id: Selesai.}
    terminal: true
  rejected:
    label: {en: Rejected, id: Ditolak}
    description: {en: Done., id: Selesai.}
    terminal: true
transitions:
  - event: review
    from: requested
    to: reviewed
    roles: [shelter_staff, supervisor]
    label: {en: Review, id: Tinjau}
  - event: escalate
    from: requested
    to: escalated
    roles: [supervisor]
    label: {en: Escalate, id: Eskalasi}
  - event: approve
    from: [reviewed, escalated]
    to: approved
    when: quantity <= 50
    roles: [supervisor]
    requires: [approved_quantity]
    distinct_from: [review]
    override: {roles: [supervisor]}
    label: {en: Approve, id: Setujui}
  - event: reject
    from: [reviewed, escalated]
    to: rejected
    roles: [supervisor]
    reason: required
    label: {en: Reject, id: Tolak}
  - event: deliver
    from: approved
    to: delivered
    roles: [shelter_staff, supervisor]
    label: {en: Deliver, id: Serahkan}
closure_reasons:
  - needs_met
  - {id: declined, label: {en: Declined further help, id: Menolak bantuan lanjutan}}
open:
  requires: [item, quantity]
  accepts: [full_name]
lifecycle:
  hold: [shelter_staff, supervisor]
  resume: [shelter_staff, supervisor]
  close: [supervisor]
  reopen: [supervisor]
  reopen_to: reviewed
pii_visible_to: [supervisor]
"""

BROKEN_YAML = """\
sop: broken
version: 1
title: Broken
roles: [staff]
staets: {}
"""


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "exit %d\nstdout:\n%s\nstderr:\n%s" % (self.code, self.out, self.err)


_TEMPLATE = None


def _template():
    """The database every published test starts from, made once per process
    (a file to copy; a PostgreSQL database to CREATE ... TEMPLATE from):
    administrator `admin`, the aid procedure, and the staff SopirTest names.
    Making it anew for each test cost five runs of the binary per test."""
    global _TEMPLATE
    if _TEMPLATE is not None:
        return _TEMPLATE
    where = tempfile.mkdtemp(prefix="sopir-e2e-template-")
    atexit.register(shutil.rmtree, where, True)
    if POSTGRES:
        pg = PgDatabase()
        atexit.register(pg.drop)
        db = pg.url
    else:
        db = os.path.join(where, "template.db")
    aid = os.path.join(where, "aid.yaml")
    with open(aid, "w", encoding="utf-8") as f:
        f.write(AID_YAML)
    env = dict(os.environ, SOPIR_DB=db, NO_COLOR="1")
    for k in ("SOPIR_ACTOR", "LANG", "LC_ALL", "LC_MESSAGES"):
        env.pop(k, None)
    for args in (["init", "--admin", "admin", "--name", "Ani Admin"],
                 ["--as", "admin", "sop", "publish", aid],
                 ["--as", "admin", "staff", "add", "budi", "--name", "Budi Contoh", "--role", "shelter_staff"],
                 ["--as", "admin", "staff", "add", "siti", "--name", "Siti Contoh",
                  "--role", "supervisor,shelter_staff"],
                 ["--as", "admin", "staff", "add", "tono", "--name", "Tono Contoh", "--role", "supervisor"]):
        proc = subprocess.run([sopir_bin()] + args, capture_output=True, text=True, env=env, cwd=where,
                              timeout=60)
        if proc.returncode != 0:
            raise RuntimeError("making the template database: sopir %s: %s" % (" ".join(args), proc.stderr))
    _TEMPLATE = pg.name if POSTGRES else db
    return _TEMPLATE


class SopirTest(unittest.TestCase):
    """A temp dir with a database (admin `admin`) and staff:
    budi (shelter_staff), siti (supervisor, shelter_staff), tono (supervisor)."""

    publish = True

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.pg = None
        if POSTGRES:
            self.pg = PgDatabase(template=_template() if self.publish else None)
            self.db = self.pg.url
        else:
            self.db = os.path.join(self.dir, "test.db")
            if self.publish:
                shutil.copy2(_template(), self.db)
        self.aid = self.write("aid.yaml", AID_YAML)

    def tearDown(self):
        self.tmp.cleanup()
        if self.pg:
            self.pg.drop()

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def env(self, extra=None):
        env = dict(os.environ)
        for k in ("SOPIR_ACTOR", "SOPIR_DB", "LANG", "LC_ALL", "LC_MESSAGES"):
            env.pop(k, None)
        env["SOPIR_DB"] = self.db
        env["NO_COLOR"] = "1"
        if extra:
            env.update(extra)
        return env

    def run_sopir(self, *args, stdin=None, env=None):
        proc = subprocess.run([sopir_bin()] + list(args), input=stdin, capture_output=True,
                              text=True, env=self.env(env), cwd=self.dir, timeout=60)
        return Result(proc)

    def ok(self, *args, **kw):
        r = self.run_sopir(*args, **kw)
        self.assertEqual(r.code, 0, r)
        return r

    def fails(self, code, *args, **kw):
        r = self.run_sopir(*args, **kw)
        self.assertEqual(r.code, code, r)
        self.assertTrue(r.err.strip(), "a refusal must say why on stderr: %r" % r)
        return r

    def dump(self):
        if self.pg:
            return self.pg.dump()
        proc = subprocess.run(["sqlite3", self.db, ".dump"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def db_exists(self):
        """Whether the database holds a sopir database (the file; the tables)."""
        if self.pg:
            return psql(self.db, "SELECT to_regclass('public.sopir_schema') IS NOT NULL").strip() == "t"
        return os.path.exists(self.db)

    def sql(self, statement):
        """Runs SQL on the database behind sopir's back."""
        if self.pg:
            psql(self.db, statement)
            return
        import sqlite3
        con = sqlite3.connect(self.db)
        con.executescript(statement)
        con.commit()
        con.close()

    def query(self, statement):
        """Rows of a SELECT run behind sopir's back, each a tuple of text."""
        if self.pg:
            return [tuple(line.split("|")) for line in psql(self.db, statement).splitlines()]
        import sqlite3
        con = sqlite3.connect(self.db)
        try:
            return [tuple("" if v is None else str(v) for v in row) for row in con.execute(statement)]
        finally:
            con.close()

    def refused_unchanged(self, code, *args, **kw):
        """Runs a command that must fail with `code` and change nothing."""
        before = self.dump()
        r = self.fails(code, *args, **kw)
        self.assertEqual(before, self.dump(), "the database changed on a refused command")
        return r

    def open_case(self, actor="budi", *extra):
        r = self.ok("--as", actor, "case", "open", "aid", "--set", "item=hygiene_kit",
                    "--set", "quantity=5", "--set", "full_name=Wati Contoh", *extra)
        case_id = r.out.strip()
        self.assertRegex(case_id, r"^[0-9A-Z]{3}-[0-9A-Z]{3}$")
        return case_id


def main():
    unittest.main(verbosity=2)
