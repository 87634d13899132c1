#!/usr/bin/env python3
"""Personal data at rest and its erasure (issue #16, items 2 and 3;
docs/PRIVACY.md): no personal value typed in these tests appears in a copy of
the database file, its write-ahead log or its log file; reading them needs a
log-in, `audit verify` needs none; `case erase` by two data protection
officers destroys a case's key and texts, the chain still verifies and the
values cannot be read by anyone; every bad erasure is refused with its exit
code and writes nothing. All names are invented."""
import glob
import os
import secrets
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import POSTGRES, SopirTest, main, psql, sqlite_only  # noqa: E402

# Every personal value typed below: none may be found in the files.
NAMES = ["Wati Contoh", "Sulastri Rembulan", "Kurniasih Pelangi", "Yohana Batu Merah", "Dariyem Sendang"]
BATCH_NAME = "Marsini Telaga"
PHONE = "+62 811 5550 1234"

# A procedure whose step takes a personal value.
INTAKE_YAML = """\
sop: intake
version: 1
title:
  en: Intake
  id: Penerimaan
roles: [shelter_staff, supervisor]
fields:
  full_name:
    type: string
    pii: true
    label: {en: Full name, id: Nama lengkap}
  phone:
    type: string
    pii: true
    label: {en: Phone, id: Telepon}
states:
  new:
    label: {en: New, id: Baru}
    description: {en: Call the person., id: Telepon orangnya.}
    initial: true
  reached:
    label: {en: Reached, id: Dihubungi}
    description: {en: Done., id: Selesai.}
    terminal: true
transitions:
  - event: reach
    from: new
    to: reached
    roles: [shelter_staff, supervisor]
    requires: [phone]
    label: {en: Reach, id: Hubungi}
open:
  requires: [full_name]
pii_visible_to: [supervisor]
"""


def file_bytes(path):
    """A file's bytes; none for a file that is gone (the server, or a test
    beside this one dropping its database, removes files while we read)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


class Erasure(SopirTest):
    def officers(self):
        for who in ("siti", "tono"):
            self.ok("--as", "admin", "staff", "grant", who, "data_protection")

    def open_named(self, name):
        return self.ok("--as", "budi", "case", "open", "aid", "--set", "item=hygiene_kit", "--set", "quantity=5",
                       "--set", "full_name=" + name).out.strip()

    def test_erase_needs_two_officers_and_leaves_the_chain_valid(self):
        self.officers()
        case_id = self.open_named(NAMES[1])
        other = self.open_named(NAMES[2])
        r = self.ok("--as", "siti", "case", "erase", case_id, "--reason", "request of the person, form DP-12")
        self.assertEqual(r.out, "erasure of case %s's personal data requested (log row %s); a second data_protection "
                                "officer confirms it with: sopir case erase %s --confirm\n"
                         % (case_id, r.out.split("log row ")[1].split(")")[0], case_id))
        # Requested only: still readable.
        self.assertIn(NAMES[1], self.ok("--as", "siti", "case", "show", case_id, "--reveal", "--reason", "erasure test").out)
        r = self.ok("--as", "tono", "case", "erase", case_id, "--confirm")
        self.assertIn("personal data of case %s erased" % case_id, r.out)
        # The chain and the replay stay clean, with no key at all.
        env = {"SOPIR_PASSPHRASE_FILE": ""}
        v = self.run_sopir("audit", "verify", env=env)
        self.assertEqual(v.code, 0, v)
        # Nobody reads the erased value: every staff member, every way.
        for who in ("admin", "budi", "siti", "tono"):
            shown = self.ok("--as", who, "case", "show", case_id).out
            self.assertIn("(erased)", shown)
            self.assertNotIn(NAMES[1], shown)
        shown = self.ok("--as", "siti", "case", "show", case_id, "--reveal", "--reason", "erasure test").out
        self.assertIn("(erased)", shown)
        self.assertNotIn(NAMES[1], shown)
        for args in (["--as", "siti", "case", "history", case_id, "--reveal", "--reason", "erasure test"],
                     ["--as", "siti", "audit", "case", case_id, "--reveal", "--reason", "erasure test"],
                     ["--as", "siti", "audit", "log", "--reveal", "--reason", "erasure test"]):
            out = self.ok(*args).out
            self.assertNotIn(NAMES[1], out)
        # The other case is untouched.
        self.assertIn(NAMES[2], self.ok("--as", "siti", "case", "show", other, "--reveal", "--reason", "erasure test").out)
        # The erasure rows are in the case's own chain, by the two officers.
        rows = self.query("SELECT kind, event, actor, reason FROM log_view WHERE case_id = '%s' AND kind = 'erasure' "
                          "ORDER BY seq" % case_id)
        self.assertEqual(rows, [("erasure", "erase-requested", "siti", "request of the person, form DP-12"),
                                ("erasure", "erased", "tono", "request of the person, form DP-12")])
        # Its key and texts are gone from the tables, and from the files.
        self.assertEqual(self.query("SELECT count(*) FROM case_keys WHERE case_id = '%s'" % case_id), [("0",)])
        self.assertEqual(self.query("SELECT count(*) FROM personal_text WHERE case_id = '%s' AND "
                                    "(text IS NOT NULL OR sealed IS NOT NULL)" % case_id), [("0",)])
        if not POSTGRES:
            self.assertEqual(file_bytes(self.db + "-wal"), b"", "the erasure empties the write-ahead log")
        else:
            # Not even the server's key file reads it: the case key is gone.
            self.assertNotIn(NAMES[1], self.dump())
        # An erased case goes on as before.
        self.ok("--as", "budi", "case", "advance", case_id, "review")

    def test_bad_erasures_are_refused_and_write_nothing(self):
        self.officers()
        case_id = self.open_named(NAMES[3])
        reason = ["--reason", "request of the person"]
        cases = [
            (2, ["--as", "siti", "case", "erase", case_id], "an erasure of case %s needs a reason" % case_id),
            (1, ["--as", "siti", "case", "erase", case_id, "--confirm"], "no erasure of case %s is waiting" % case_id),
            (1, ["--as", "budi", "case", "erase", case_id] + reason,
             "erasing the personal data of case %s needs the role data_protection; budi has roles shelter_staff"
             % case_id),
            (3, ["--as", "siti", "case", "erase", "ZZZ-ZZZ"] + reason, "ZZZ-ZZZ"),
            (2, ["--as", "siti", "case", "erase", case_id, "--confirm"] + reason, "--confirm takes no --reason"),
        ]
        for code, args, message in cases:
            r = self.refused_unchanged(code, *args)
            self.assertIn(message, r.err)
        self.ok("--as", "siti", "case", "erase", case_id, *reason)
        for code, args, message in [
                (1, ["--as", "siti", "case", "erase", case_id, "--confirm"],
                 "siti requested the erasure of case %s and cannot also confirm it" % case_id),
                (4, ["--as", "tono", "case", "erase", case_id] + reason,
                 "an erasure of case %s was already requested by siti" % case_id),
                (1, ["--as", "budi", "case", "erase", case_id, "--confirm"], "needs the role data_protection")]:
            r = self.refused_unchanged(code, *args)
            self.assertIn(message, r.err)
        r = self.refused_unchanged(1, "--lang", "id", "--as", "siti", "case", "erase", case_id, "--confirm")
        self.assertIn("tidak dapat juga mengonfirmasinya", r.err)
        self.ok("--as", "tono", "case", "erase", case_id, "--confirm")
        for who, args in (("siti", reason), ("tono", ["--confirm"])):
            r = self.refused_unchanged(4, "--as", who, "case", "erase", case_id, *args)
            self.assertIn("the personal data of case %s was already erased" % case_id, r.err)



@unittest.skipUnless(POSTGRES, "the server database's key file")
class ServerAtRest(SopirTest):
    """A server database seals personal text under a key file held outside
    the server (docs/PRIVACY.md): a dump of the database and the server's
    data directory (its WAL included) hold none of the personal values; a
    process without the key file reads them locked and may not write them;
    a wrong or bad key file is refused, nothing written."""

    def setUp(self):
        super().setUp()
        tag = secrets.token_hex(4)
        # Names no other test writes, so the server's files can be searched.
        self.names = ["Sulastri Rembulan %s" % tag, "Kurniasih Pelangi %s" % tag]
        self.phone = "+62 811 %s" % tag
        self.write("intake.yaml", INTAKE_YAML)
        self.ok("--as", "admin", "sop", "publish", "intake.yaml")
        for who in ("siti", "tono"):
            self.ok("--as", "admin", "staff", "grant", who, "data_protection")

    def no_key(self):
        return {"SOPIR_KEY_FILE": ""}

    def open_intake(self, name, env=None):
        return self.ok("--as", "siti", "case", "open", "intake", "--set", "full_name=" + name, env=env).out.strip()

    def key_file(self, name, text, mode=0o600):
        path = self.write(name, text)
        os.chmod(path, mode)
        return path

    def pg_dump(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
        proc = subprocess.run([found[-1] if found else "pg_dump", "--no-owner", self.db], capture_output=True,
                              timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_no_personal_value_in_a_dump_or_the_server_files(self):
        first = self.open_intake(self.names[0])
        self.ok("--as", "siti", "case", "advance", first, "reach", "--set", "phone=" + self.phone)
        second = self.open_intake(self.names[1])
        dump = self.pg_dump()
        self.assertIn(b"CREATE TABLE public.case_keys", dump)
        for value in self.names + [self.phone]:
            self.assertNotIn(value.encode(), dump, "a personal value in pg_dump's output")
        # The server's files: its tables, and the WAL with every change.
        directory = os.environ.get("SOPIR_TEST_PG_DIR", "")
        if directory:
            psql(os.environ["SOPIR_TEST_PG"], "CHECKPOINT")
            searched = 0
            for root, _dirs, files in os.walk(os.path.join(directory, "data")):
                for name in files:
                    data = file_bytes(os.path.join(root, name))
                    searched += 1
                    for value in self.names + [self.phone]:
                        self.assertNotIn(value.encode(), data, "a personal value in %s" % os.path.join(root, name))
            self.assertGreater(searched, 100)
        # With the key file they read back; the chain verifies without it.
        shown = self.ok("--as", "siti", "case", "show", first, "--reveal", "--reason", "at rest test").out
        self.assertIn(self.names[0], shown)
        self.assertIn(self.phone, shown)
        self.assertIn(self.names[1], self.ok("--as", "siti", "case", "show", second, "--reveal", "--reason",
                                             "at rest test").out)
        self.assertEqual(self.run_sopir("audit", "verify", env=self.no_key()).code, 0)

    def test_without_the_key_file_values_are_locked_and_not_written(self):
        case_id = self.open_intake(self.names[0])
        shown = self.ok("--as", "siti", "case", "show", case_id, "--reveal", "--reason", "at rest test",
                        env=self.no_key()).out
        # Nothing to reveal without the key: the value stays masked.
        self.assertRegex(shown, r"Full name \(full_name\)\s+(\*\*\*|\(encrypted\))")
        self.assertNotIn(self.names[0], shown)
        history = self.ok("--as", "siti", "audit", "case", case_id, "--format", "jsonl", env=self.no_key()).out
        self.assertNotIn(self.names[0], history)
        r = self.refused_unchanged(6, "--as", "siti", "case", "advance", case_id, "reach", "--set",
                                   "phone=" + self.phone, env=self.no_key())
        self.assertIn("its personal data is encrypted and this process holds no key to write it", r.err)
        r = self.refused_unchanged(6, "--as", "siti", "case", "open", "intake", "--set",
                                   "full_name=" + self.names[1], env=self.no_key())
        self.assertIn("--key-file", r.err)
        # What needs no personal text goes on: listing, verifying.
        self.assertIn(case_id, self.ok("case", "list", env=self.no_key()).out)
        self.ok("--as", "siti", "case", "advance", case_id, "reach", "--set", "phone=" + self.phone)

    def test_a_wrong_or_bad_key_file_is_refused(self):
        case_id = self.open_intake(self.names[0])
        other = self.key_file("other.key", secrets.token_hex(32) + "\n")
        bad = [
            (6, {"SOPIR_KEY_FILE": other}, "is not this database's"),
            (3, {"SOPIR_KEY_FILE": os.path.join(self.dir, "missing.key")}, "does not exist"),
            (2, {"SOPIR_KEY_FILE": self.key_file("short.key", secrets.token_hex(16) + "\n")},
             "must hold 64 hexadecimal digits"),
            (2, {"SOPIR_KEY_FILE": self.key_file("text.key", "z" * 64 + "\n")}, "is not a sopir key file"),
            (6, {"SOPIR_KEY_FILE": self.key_file("open.key", secrets.token_hex(32) + "\n", 0o644)},
             "may be read or written by others (mode 0644)"),
        ]
        for code, env, message in bad:
            for args in (["--as", "siti", "case", "show", case_id, "--reveal", "--reason", "key test"],
                         ["--as", "siti", "case", "advance", case_id, "reach", "--set", "phone=" + self.phone],
                         ["audit", "case", case_id]):
                r = self.refused_unchanged(code, *args, env=env)
                self.assertIn(message, r.err)
                self.assertNotIn(self.names[0], r.out)
        r = self.refused_unchanged(6, "--lang", "id", "--as", "siti", "case", "show", case_id, env={"SOPIR_KEY_FILE": other})
        self.assertIn("bukan milik basis data ini", r.err)
        # The same through --key-file, which overrides the environment.
        r = self.refused_unchanged(6, "--key-file", other, "--as", "siti", "case", "show", case_id)
        self.assertIn("is not this database's", r.err)

    def test_key_new_and_rotate(self):
        case_id = self.open_intake(self.names[0])
        new = os.path.join(self.dir, "next.key")
        r = self.ok("key", "new", new)
        self.assertIn("key file %s made (key id " % new, r.out)
        self.assertEqual(os.stat(new).st_mode & 0o777, 0o600)
        with open(new, encoding="ascii") as f:
            self.assertRegex(f.read(), r"^[0-9a-f]{64}\n$")
        r = self.fails(4, "key", "new", new)
        self.assertIn("exists already", r.err)
        # Only an administrator rotates; the current key file is needed.
        self.refused_unchanged(1, "--as", "siti", "key", "rotate", new)
        self.refused_unchanged(2, "--as", "admin", "key", "rotate", new, env=self.no_key())
        self.refused_unchanged(4, "--as", "admin", "key", "set")
        r = self.ok("--as", "admin", "key", "rotate", new)
        self.assertIn("is sealed under the key file %s" % new, r.out)
        # The old key file no longer opens it; the new one does.
        r = self.refused_unchanged(6, "--as", "siti", "case", "show", case_id)
        self.assertIn("is not this database's", r.err)
        shown = self.ok("--as", "siti", "case", "show", case_id, "--reveal", "--reason", "key test",
                        env={"SOPIR_KEY_FILE": new}).out
        self.assertIn(self.names[0], shown)

    def test_erase_on_the_server_leaves_nothing_readable(self):
        case_id = self.open_intake(self.names[0])
        self.ok("--as", "siti", "case", "erase", case_id, "--reason", "request of the person")
        self.ok("--as", "tono", "case", "erase", case_id, "--confirm")
        self.assertEqual(self.run_sopir("audit", "verify", env=self.no_key()).code, 0)
        self.assertEqual(self.query("SELECT count(*) FROM case_keys WHERE case_id = '%s'" % case_id), [("0",)])
        shown = self.ok("--as", "siti", "case", "show", case_id, "--reveal", "--reason", "erasure test").out
        self.assertIn("(erased)", shown)
        self.assertNotIn(self.names[0], shown)
        r = self.refused_unchanged(4, "--as", "siti", "case", "erase", case_id, "--reason", "again")
        self.assertIn("was already erased", r.err)


@unittest.skipUnless(POSTGRES, "the server database's key file")
class ServerInit(SopirTest):
    """init on a server needs a key file, read before anything is made."""
    publish = False

    def test_init_needs_a_good_key_file_and_encrypts_from_the_start(self):
        r = self.fails(2, "init", "--admin", "admin", env={"SOPIR_KEY_FILE": ""})
        self.assertIn("make one with `sopir key new FILE`", r.err)
        self.assertFalse(self.db_exists())
        open_key = self.write("open.key", secrets.token_hex(32) + "\n")
        os.chmod(open_key, 0o644)
        self.fails(6, "init", "--admin", "admin", env={"SOPIR_KEY_FILE": open_key})
        self.fails(3, "init", "--admin", "admin", env={"SOPIR_KEY_FILE": open_key + ".none"})
        self.assertFalse(self.db_exists())
        key = os.path.join(self.dir, "made.key")
        key_id = self.ok("key", "new", key, "--json").json()["key_id"]
        self.ok("init", "--admin", "admin", env={"SOPIR_KEY_FILE": key})
        self.assertEqual(self.query("SELECT key_file_id FROM database_key"), [(key_id,)])
        # A database file takes no key file.
        r = self.fails(2, "--db", os.path.join(self.dir, "file.db"), "key", "set")
        self.assertIn("a key file is for a server database", r.err)


@sqlite_only("the files of the embedded database")
class AtRest(SopirTest):
    def grep_files(self, files, values):
        found = []
        for path in files:
            data = file_bytes(path)
            for value in values:
                if value.encode("utf-8") in data:
                    found.append((os.path.basename(path), value))
        return found

    def test_no_personal_value_in_the_database_its_wal_or_its_log(self):
        self.ok("--as", "admin", "staff", "grant", "siti", "data_protection")
        self.ok("--as", "admin", "staff", "grant", "tono", "data_protection")
        ids = [self.ok("--as", "budi", "case", "open", "aid", "--set", "item=hygiene_kit", "--set", "quantity=5",
                       "--set", "full_name=" + name).out.strip() for name in NAMES[:3]]
        # Personal values given with a step, by import and by a batch.
        self.ok("--as", "admin", "sop", "publish", self.write("intake.yaml", INTAKE_YAML))
        first = self.ok("--as", "budi", "case", "open", "intake", "--set", "full_name=" + NAMES[3]).out.strip()
        self.ok("--as", "budi", "case", "advance", first, "reach", "--set", "phone=" + PHONE)
        imported = self.write("in.csv", "full_name\n%s\n%s\n" % (NAMES[4], BATCH_NAME))
        self.ok("--as", "budi", "case", "import", imported, "--sop", "intake")
        second = [c for c in self.query("SELECT id FROM cases WHERE sop_id = 'intake' AND state = 'new'")][0][0]
        batch = self.write("batch.csv", "case,event,phone\n%s,reach,+62 811 5550 9876\n" % second)
        self.ok("--as", "budi", "case", "advance", "--batch", batch)
        # Erase one case too: its text must be gone from everything.
        self.ok("--as", "siti", "case", "erase", ids[2], "--reason", "request")
        self.ok("--as", "tono", "case", "erase", ids[2], "--confirm")
        # Readable after a log-in: the values are really kept.
        shown = self.ok("--as", "siti", "case", "show", first, "--reveal", "--reason", "erasure test").out
        self.assertIn(NAMES[3], shown)
        self.assertIn(PHONE, shown)
        self.assertIn(NAMES[0], self.ok("--as", "siti", "case", "show", ids[0], "--reveal", "--reason", "erasure test").out)
        # Copy the files as a thief would, while they are as sopir left them.
        stolen = os.path.join(self.dir, "stolen")
        os.mkdir(stolen)
        copies = []
        for suffix in ("", "-wal", "-shm", ".log"):
            if os.path.exists(self.db + suffix):
                shutil.copy2(self.db + suffix, os.path.join(stolen, "test.db" + suffix))
                copies.append(os.path.join(stolen, "test.db" + suffix))
        self.assertIn(os.path.join(stolen, "test.db.log"), copies)
        self.assertEqual(self.grep_files(copies, NAMES + [BATCH_NAME, PHONE, "+62 811 5550 9876"]), [])
        # Without a passphrase the copy verifies, and shows nothing.
        env = {"SOPIR_PASSPHRASE_FILE": "", "SOPIR_DB": os.path.join(stolen, "test.db")}
        v = self.run_sopir("audit", "verify", env=env)
        self.assertEqual(v.code, 0, v)
        self.assertEqual(self.grep_files(copies, NAMES + [BATCH_NAME, PHONE, "+62 811 5550 9876"]), [])

    def test_a_wrong_passphrase_reads_nothing(self):
        case_id = self.open_case()
        wrong = self.write("wrong", "not the passphrase\n")
        os.chmod(wrong, 0o600)
        before = self.dump()
        r = self.run_sopir("--as", "siti", "case", "show", case_id, env={"SOPIR_PASSPHRASE_FILE": wrong})
        self.assertEqual(r.code, 6, r)
        self.assertNotIn("Wati Contoh", r.out + r.err)
        after = self.dump()
        # Only the failed log-in is recorded.
        self.assertEqual([l for l in after.splitlines() if l not in before.splitlines()][0][:32],
                         "INSERT INTO login_failures VALUE")

    def test_a_deactivated_member_unlocks_nothing(self):
        self.assertEqual(self.query("SELECT count(*) FROM key_wraps WHERE staff_id = 'budi'"), [("1",)])
        self.ok("--as", "admin", "staff", "deactivate", "budi")
        self.assertEqual(self.query("SELECT count(*) FROM key_wraps WHERE staff_id = 'budi'"), [("0",)])


if __name__ == "__main__":
    main()
