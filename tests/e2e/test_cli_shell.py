"""sopir shell: scripts (stop at the first error with FILE:LINE and its exit
code) and the interactive shell through a pty, with Tab completion."""
import json
import os
import subprocess
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main, sopir_bin  # noqa: E402


class Script(SopirTest):
    def test_script_runs_lines_and_uses_current_case(self):
        case_id = self.open_case()
        script = ("# morning round\n"
                  "as budi\n"
                  "use %s\n"
                  "case advance review --note 'checked together'\n"
                  "as tono\n"
                  "case advance approve --set approved_quantity=2\n"
                  "case show --json\n" % case_id.lower())
        path = self.write("round.txt", script)
        with open(path) as f:
            r = self.run_sopir(stdin=f.read())
        self.assertEqual(r.code, 0, r)
        self.assertIn('"state": "approved"', r.out)
        second = self.open_case()
        path = self.write("round2.txt", script.replace(case_id.lower(), second))
        r = self.ok("shell", path)
        self.assertEqual(r.err, "")
        self.assertIn('"state": "approved"', r.out)

    def test_a_value_typed_without_set_is_written_out_for_the_case_in_use(self):
        # With a case in use the event alone is the command's form: the
        # command written out is that form, and the shell runs it as written.
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        before = self.dump()
        r = self.run_sopir(stdin="as tono\nuse %s\ncase advance approve approved_quantity=2 "
                                 "--note \"Wati's list\"\n" % case_id)
        self.assertEqual(r.code, 2, r)
        written = "case advance approve --set approved_quantity=2 --note 'Wati'\\''s list'"
        self.assertEqual(r.err, "<stdin>:3: error: a field's value is given with --set FIELD=VALUE: %s\n"
                         % written)
        self.assertEqual(before, self.dump())
        r = self.run_sopir(stdin="as tono\nuse %s\n%s\ncase show --json\n" % (case_id, written))
        self.assertEqual(r.code, 0, r)
        self.assertIn('"state": "approved"', r.out)
        note = self.ok("--as", "tono", "--json", "case", "history", case_id).json()
        self.assertIn("Wati's list", json.dumps(note))

    def test_script_stops_at_first_error_with_line(self):
        case_id = self.open_case()
        path = self.write("bad.txt", "as budi\n\nuse %s\ncase advance escalate\ncase advance review\n" % case_id)
        before = self.dump()
        r = self.run_sopir("shell", path)
        self.assertEqual(r.code, 1, r)
        self.assertIn("bad.txt:4: refused:", r.err)
        self.assertEqual(before, self.dump())  # line 5 never ran
        # piped on stdin from a file: the file's name is used
        with open(path) as f:
            proc = __import__("subprocess").run([sopir_bin()], stdin=f, capture_output=True,
                                                text=True, env=self.env(), cwd=self.dir)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("bad.txt:4:", proc.stderr)
        r = self.run_sopir(stdin="as budi\ncase show ZZZ-ZZZ\n")
        self.assertEqual(r.code, 3, r)
        self.assertIn("<stdin>:2:", r.err)
        r = self.run_sopir(stdin="case lsit\n")
        self.assertEqual(r.code, 2, r)
        self.assertIn("<stdin>:1:", r.err)


class Interactive(SopirTest):
    def spawn(self):
        master, slave = os.openpty()
        env = self.env({"TERM": "xterm", "SOPIR_ACTOR": "budi"})
        proc = subprocess.Popen([sopir_bin()], stdin=slave, stdout=slave, stderr=slave,
                                env=env, cwd=self.dir, start_new_session=True)
        os.close(slave)
        self.addCleanup(self.reap, proc, master)
        return proc, master

    def reap(self, proc, fd):
        try:
            os.close(fd)
        except OSError:
            pass
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def send(self, fd, data):
        # libedit flushes pending input when it switches the terminal to raw
        # mode after drawing the prompt: give it a moment first.
        time.sleep(0.3)
        os.write(fd, data)

    def read_until(self, fd, needle, timeout=20):
        """Reads until `needle` appears; keeps what came after it for the
        next call (expect-style), so no output is lost between calls."""
        buf = getattr(self, "_pending", b"")
        end = time.time() + timeout
        while needle.encode() not in buf and time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError as e:
                    buf += ("<%s>" % e).encode()
                    break
                if not chunk:
                    break
                buf += chunk
        at = buf.find(needle.encode())
        if at < 0:
            self.fail("did not see %r in %r" % (needle, buf.decode(errors="replace")))
        self._pending = buf[at + len(needle):]
        return buf[:at + len(needle)].decode(errors="replace")

    def test_prompt_errors_and_tab_completion(self):
        case_id = self.open_case()
        proc, fd = self.spawn()
        name = self.db.rsplit("/", 1)[-1]  # test.db, or the server database's name
        self.read_until(fd, name + " budi> ")
        self.send(fd, b"case lsit\r")
        self.read_until(fd, "did you mean `case list`")
        self.read_until(fd, name + " budi> ")  # an error never ends the session
        self.send(fd, ("use %s\r" % case_id).encode())
        self.read_until(fd, "budi %s> " % case_id)
        # Tab completes the one event budi can fire now: review.
        # (the terminal redraws only the completed suffix)
        self.send(fd, b"case adv\t")
        self.read_until(fd, "ance ")
        self.send(fd, b"rev\t")
        self.read_until(fd, "iew ")
        self.send(fd, b"--no\t")
        self.read_until(fd, "te ")
        self.send(fd, b" hi\r")
        self.read_until(fd, "reviewed")
        self.send(fd, b"case show --json\r")
        self.read_until(fd, '"state": "reviewed"')
        self.send(fd, b"\x04")  # Ctrl-D
        self.assertEqual(proc.wait(timeout=20), 0)
        if not self.pg:
            self.assertTrue(os.path.exists(self.db + ".history"))

    def test_tab_completes_another_case_and_lowercase_prefixes(self):
        in_use = self.open_case()
        other = self.open_case()
        proc, fd = self.spawn()
        self.read_until(fd, self.db.rsplit("/", 1)[-1] + " budi> ")
        self.send(fd, ("use %s\r" % in_use).encode())
        self.read_until(fd, "budi %s> " % in_use)
        # With a case in use, a lowercase prefix of another case completes
        # to its id, and the event slot after it offers that case's events.
        # (the terminal redraws from the first character that changed: the
        # rest of the id after what was typed is always drawn)
        self.send(fd, ("case advance %s\t" % other[:3].lower()).encode())
        self.read_until(fd, other[3:] + " ")
        self.send(fd, b"\t")
        self.read_until(fd, "review ")
        self.send(fd, b"\r")
        self.read_until(fd, "%s: review: requested -> reviewed (Reviewed), active" % other)
        # With no case in use too.
        self.send(fd, b"use -\r")
        self.read_until(fd, self.db.rsplit("/", 1)[-1] + " budi> ")
        self.send(fd, ("case show %s\t" % in_use.replace("-", "")[:4].lower()).encode())
        self.read_until(fd, in_use[5:] + " ")
        self.send(fd, b"\r")
        self.read_until(fd, "Case %s" % in_use)
        self.read_until(fd, self.db.rsplit("/", 1)[-1] + " budi> ")
        self.send(fd, b"\x04")  # Ctrl-D
        self.assertEqual(proc.wait(timeout=20), 0)


if __name__ == "__main__":
    main()
