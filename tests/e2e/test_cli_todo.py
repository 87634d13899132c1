"""sopir todo, case list --limit, the pager, and --version: what a staff
member sees first in the morning, a page at a time."""
import datetime
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main, sopir_bin  # noqa: E402

SOURCE = os.environ.get("SOPIR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
MORE = "(%d more; show them with --limit 0, or narrow the list)\n"


def days_ago(days):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M")


class Todo(SopirTest):
    def setUp(self):
        super().setUp()
        # `aid` gives 2 days in `requested`: opened 5 days ago is overdue,
        # opened a day ago is due tomorrow, opened now is due in 2 days.
        self.now = self.open_case()
        self.old = self.open_case("budi", "--at", days_ago(5))
        self.recent = self.open_case("budi", "--at", days_ago(1))
        # Reviewed (no deadline there): only a supervisor who did not
        # review it can move it.
        self.reviewed = self.open_case()
        self.ok("--as", "budi", "case", "advance", self.reviewed, "review")
        self.closed = self.open_case()
        self.ok("--as", "tono", "case", "close", self.closed, "--reason", "needs_met")

    def ids(self, doc):
        return [c["id"] for c in doc["cases"]]

    def test_overdue_first_then_by_due_time(self):
        doc = self.ok("--as", "budi", "todo", "--json").json()
        self.assertEqual(self.ids(doc), [self.old, self.recent, self.now])
        self.assertEqual([c["overdue"] for c in doc["cases"]], [True, False, False])
        self.assertEqual(doc["actor"], "budi")
        self.assertEqual((doc["count"], doc["more"]), (3, 0))
        first = doc["cases"][0]
        self.assertEqual((first["sop"], first["state"], first["state_label"]),
                         ("aid", "requested", "Requested"))
        self.assertEqual(first["events"], [{"event": "review", "label": "Review",
                                            "fields_to_give": [], "reason_to_give": False}])

    def test_what_is_still_to_give(self):
        doc = self.ok("--as", "tono", "todo", "--json").json()
        # tono reviewed nothing: he may escalate the requested cases and
        # approve or reject the reviewed one (no due time: last).
        self.assertEqual(self.ids(doc), [self.old, self.recent, self.now, self.reviewed])
        events = {e["event"]: e for e in doc["cases"][3]["events"]}
        self.assertEqual(sorted(events), ["approve", "reject"])
        self.assertEqual(events["approve"]["fields_to_give"], ["approved_quantity"])
        self.assertFalse(events["approve"]["reason_to_give"])
        self.assertEqual(events["reject"]["fields_to_give"], [])
        self.assertTrue(events["reject"]["reason_to_give"])
        # The reviewed case is the last row: its wrapped cell reads on.
        text = " ".join(self.ok("--as", "tono", "todo").out.split())
        self.assertTrue(text.endswith("approve (give approved_quantity); reject (give a reason)"), text)
        # budi (shelter staff) may neither approve nor reject.
        self.assertNotIn(self.reviewed, self.ok("--as", "budi", "todo").out)

    def test_text_table_and_limit(self):
        r = self.ok("--as", "budi", "todo", "--limit", "2")
        lines = r.out.splitlines()
        self.assertEqual(lines[0].split(), ["Case", "Procedure", "Step", "Due",
                                            "You", "can", "(still", "to", "give)"])
        self.assertEqual(lines[1].split()[:3], [self.old, "aid", "Requested"], r.out)
        self.assertIn("(overdue)", lines[1])
        self.assertEqual(lines[2].split()[:3], [self.recent, "aid", "Requested"], r.out)
        self.assertNotIn("(overdue)", lines[2])
        self.assertEqual(lines[3:], [MORE.strip() % 1])
        doc = self.ok("--as", "budi", "todo", "--limit", "2", "--json").json()
        self.assertEqual((doc["count"], doc["more"]), (2, 1))
        self.assertEqual(r.err, "")

    def test_a_long_field_name_is_never_split(self):
        # A name staff copy into --set stays whole on its line when the
        # table shrinks to fit (100 columns when not on a terminal).
        long_yaml = """\
sop: remains
version: 1
title: Remains
roles: [shelter_staff]
fields:
  death_certificate_reference_number: {type: string}
  date_of_death_as_stated_on_record: {type: date}
states:
  announced: {initial: true, label: Arrival of remains announced, deadline: 3d}
  received: {terminal: true}
transitions:
  - event: receive_remains_with_the_documents
    from: announced
    to: received
    roles: [shelter_staff]
    requires: [date_of_death_as_stated_on_record, death_certificate_reference_number]
"""
        self.ok("--as", "admin", "sop", "publish", self.write("remains.yaml", long_yaml))
        case_id = self.ok("--as", "budi", "case", "open", "remains").out.strip()
        out = self.ok("--as", "budi", "todo").out
        row = [line for line in out.splitlines() if case_id in line]
        self.assertEqual(len(row), 1, out)
        for word in ("death_certificate_reference_number", "date_of_death_as_stated_on_record",
                     "receive_remains_with_the_documents"):
            self.assertRegex(out, r"(^|\s)%s\b" % word, out)

    def test_nothing_to_do_and_bad_input(self):
        self.ok("--as", "admin", "staff", "add", "ina", "--name", "Ina Contoh", "--role", "logistics")
        self.assertEqual(self.ok("--as", "ina", "todo").out, "Nothing to do now.\n")
        self.assertEqual(self.ok("--as", "ina", "--lang", "id", "todo").out,
                         "Tidak ada yang perlu dikerjakan sekarang.\n")
        r = self.fails(2, "todo")
        r = self.fails(2, "--as", "budi", "todo", "--limit", "-2")
        self.assertEqual(r.err, "sopir: error: --limit takes a number of rows, 0 for all (not '-2')\n")
        r = self.fails(3, "--as", "nobody", "todo")

    def test_shell_todo(self):
        r = self.ok("shell", stdin="as tono\ntodo --json\n")
        self.assertIn('"id": "%s"' % self.reviewed, r.out)


class CaseListLimit(SopirTest):
    def setUp(self):
        super().setUp()
        rows = "".join("hygiene_kit,%d\n" % (i % 50 + 1) for i in range(53))
        self.ok("--as", "budi", "case", "import", self.write("many.csv", "item,quantity\n" + rows),
                "--sop", "aid")

    def test_a_page_of_fifty_and_how_to_see_more(self):
        r = self.ok("case", "list")
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 1 + 50 + 1)
        self.assertEqual(lines[-1] + "\n", MORE % 3)
        self.assertEqual(len(self.ok("case", "list", "--limit", "0").out.splitlines()), 1 + 53)
        r = self.ok("case", "list", "--limit", "5")
        self.assertEqual(r.out.splitlines()[-1] + "\n", MORE % 48)
        self.assertEqual(len(self.ok("case", "list", "--limit", "53").out.splitlines()), 1 + 53)

    def test_json_lists_all_unless_limited(self):
        doc = self.ok("case", "list", "--json").json()
        self.assertEqual((len(doc["cases"]), doc["count"], doc["more"]), (53, 53, 0))
        doc = self.ok("case", "list", "--json", "--limit", "10").json()
        self.assertEqual((len(doc["cases"]), doc["count"], doc["more"]), (10, 10, 43))
        doc = self.ok("case", "list", "--json", "--limit", "10", "--state", "reviewed").json()
        self.assertEqual((doc["count"], doc["more"]), (0, 0))

    def test_bad_limit(self):
        for bad in ("many", "-1", "1x", "99999999999"):
            before = self.dump()
            r = self.fails(2, "case", "list", "--limit", bad)
            self.assertEqual(r.err, "sopir: error: --limit takes a number of rows, 0 for all "
                                    "(not '%s')\n" % bad)
            self.assertEqual(self.dump(), before)


class Pager(SopirTest):
    """$PAGER is a script that copies what it is given to a file."""

    def setUp(self):
        super().setUp()
        for _ in range(12):
            self.open_case()
        self.paged = os.path.join(self.dir, "paged.txt")
        pager = self.write("pager.sh", "#!/bin/sh\ncat > '%s'\n" % self.paged)
        os.chmod(pager, 0o755)
        self.pager_env = {"PAGER": pager}

    def run_on_terminal(self, *args, env):
        """Runs sopir with stdout on a pty 10 rows high; returns its stdout."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 10, 100, 0, 0))
        proc = subprocess.Popen([sopir_bin()] + list(args), stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=subprocess.PIPE, env=self.env(env), cwd=self.dir)
        # The parent keeps its end of the slave open until sopir has exited,
        # so the master never reports EIO while output is still on its way
        # through the terminal (a closed slave can lose the tail: it flaked).
        out = b""
        end = time.time() + 60
        while time.time() < end:
            if select.select([master], [], [], 0.2)[0]:
                out += os.read(master, 4096)
            elif proc.poll() is not None:
                break
        proc.wait(timeout=60)
        os.close(slave)
        os.close(master)
        with proc.stderr:
            err = proc.stderr.read()
        self.assertEqual(proc.returncode, 0, err)
        return out.decode()

    def test_no_pager_when_stdout_is_not_a_terminal(self):
        r = self.ok("case", "list", env=self.pager_env)
        self.assertEqual(len(r.out.splitlines()), 1 + 12)
        self.assertFalse(os.path.exists(self.paged), "the pager ran with stdout on a pipe")

    def test_pager_on_a_terminal(self):
        out = self.run_on_terminal("case", "list", env=self.pager_env)
        with open(self.paged) as f:
            paged = f.read()
        self.assertEqual(len(paged.splitlines()), 1 + 12)
        self.assertNotIn("Case", out)  # it went to the pager, not the terminal

    def test_short_output_and_empty_pager_print_directly(self):
        out = self.run_on_terminal("case", "list", "--limit", "3", env=self.pager_env)
        self.assertFalse(os.path.exists(self.paged))
        self.assertEqual(len(out.splitlines()), 1 + 3 + 1)
        out = self.run_on_terminal("case", "list", env={"PAGER": ""})
        self.assertEqual(len(out.splitlines()), 1 + 12)


class Version(SopirTest):
    publish = False

    def test_version(self):
        with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
            version = re.search(r"project\(sopir VERSION (\S+)", f.read()).group(1)
        r = self.ok("--version")
        self.assertEqual((r.out, r.err), ("sopir %s\n" % version, ""))
        self.assertFalse(os.path.exists(self.db), "--version opened a database")


if __name__ == "__main__":
    main()
