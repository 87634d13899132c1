"""The command line's language: --lang id|en, else the locale (LC_ALL, then
LC_MESSAGES, then LANG), else English. Errors, help and the CLI's own words
around the engine's refusals, compared whole in both languages."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main, sqlite_only  # noqa: E402

ID_LOCALE = {"LANG": "id_ID.UTF-8"}


class Language(SopirTest):
    def test_bad_lang_is_reported_in_the_locale_language(self):
        r = self.fails(2, "--lang", "fr", "help")
        self.assertEqual(r.err, "sopir: error: --lang takes id or en, not 'fr'\n")
        r = self.fails(2, "--lang", "fr", "help", env=ID_LOCALE)
        self.assertEqual(r.err, "sopir: kesalahan: --lang menerima id atau en, bukan 'fr'\n")
        r = self.fails(2, "--lang=", "help", env={"LC_MESSAGES": "id_ID.UTF-8"})
        self.assertEqual(r.err, "sopir: kesalahan: --lang menerima id atau en, bukan ''\n")

    def test_unknown_command(self):
        r = self.fails(2, "--lang", "en", "case", "lsit")
        self.assertEqual(r.err, "sopir: error: unknown command `case lsit`; did you mean `case list`?\n"
                                "case commands: open, list, show, why, advance, hold, resume, close, "
                                "reopen, erase, transfer, history, export-personal, import\n")
        r = self.fails(2, "--lang", "id", "case", "lsit")
        self.assertEqual(r.err, "sopir: kesalahan: perintah `case lsit` tidak dikenal; maksud Anda "
                                "`case list`?\nperintah case: open, list, show, why, advance, hold, "
                                "resume, close, reopen, erase, transfer, history, export-personal, import\n")

    def test_usage_error(self):
        r = self.fails(2, "--as", "budi", "case", "advance", "K7F-3QX")
        self.assertEqual(r.err, "sopir: error: case advance takes CASE EVENT, e.g. case advance "
                                "K7F-3QX approve\n")
        r = self.fails(2, "--as", "budi", "--lang", "id", "case", "advance", "K7F-3QX")
        self.assertEqual(r.err, "sopir: kesalahan: case advance menerima CASE EVENT, mis. case "
                                "advance K7F-3QX approve\n")
        r = self.fails(2, "--lang", "id", "case", "list", "--limit", "lots")
        self.assertEqual(r.err, "sopir: kesalahan: --limit menerima jumlah baris, 0 untuk semua "
                                "(bukan 'lots')\n")
        r = self.fails(2, "--lang", "id", "staff", "add", "ani")
        self.assertEqual(r.err, "sopir: kesalahan: `staff add` memerlukan --name NAME\n"
                                "  --name NAME: nama lengkap\n"
                                "cara pakai: sopir staff add ID --name NAME --role R[,R...] [--login ROLE]\n"
                                "(lihat `sopir help staff add`)\n")

    def test_a_missing_argument_or_value_is_said_in_sopirs_words(self):
        # What was missing, what it takes, the command's usage; exit 2, in
        # the --lang language (not CLI11's "files is required").
        usage = "usage: sopir sop test FILE... [--min-coverage N]\n(see `sopir help sop test`)\n"
        r = self.fails(2, "sop", "test")
        self.assertEqual(r.err, "sopir: error: `sop test` needs FILE...\n"
                                "  FILE...: scenario test files (NAME.test.yaml)\n" + usage)
        r = self.fails(2, "sop", "test", "x.test.yaml", "--min-coverage")
        self.assertEqual(r.err, "sopir: error: --min-coverage needs a value after it\n"
                                "  --min-coverage N: fail when coverage (transitions fired, guards seen true and "
                                "false) is below N percent\n" + usage)
        r = self.fails(2, "--lang", "id", "sop", "test", "x.test.yaml", "--min-coverage")
        self.assertEqual(r.err, "sopir: kesalahan: --min-coverage memerlukan nilai sesudahnya\n"
                                "  --min-coverage N: gagal bila cakupan (perpindahan yang dijalankan, syarat yang "
                                "pernah benar dan salah) di bawah N persen\n"
                                "cara pakai: sopir sop test FILE... [--min-coverage N]\n"
                                "(lihat `sopir help sop test`)\n")
        r = self.fails(2, "--lang", "id", "sop", "test")
        self.assertTrue(r.err.startswith("sopir: kesalahan: `sop test` memerlukan FILE...\n"), r.err)
        r = self.fails(2, "db", "copy", "shelter.db")
        self.assertEqual(r.err, "sopir: error: `db copy` needs FROM TO\n"
                                "  FROM TO: the database to copy and the new one to copy it into (a file path or a "
                                "postgresql:// URL each)\n"
                                "usage: sopir db copy FROM TO [--site SITE | --into-site SITE]\n"
                                "(see `sopir help db copy`)\n")
        r = self.fails(2, "migrate", "plan", "aid")
        self.assertTrue(r.err.startswith("sopir: error: `migrate plan` needs --to VERSION\n"
                                         "  --to VERSION: the published version the cases move to"), r.err)
        r = self.fails(2, "sop", "validate", "--strict=maybe", "aid.yaml")
        self.assertTrue(r.err.startswith("sopir: error: --strict takes no value (not 'maybe'): give --strict "
                                         "alone\n"), r.err)
        for args in (["sop", "test"], ["db", "copy"], ["sop", "test", "x", "--min-coverage"],
                     ["staff", "add", "ani", "--name"], ["sop", "validate", "--strict=maybe", "aid.yaml"]):
            err = self.fails(2, *args).err
            for words in ("is required", "required", "missing", "Could not convert", "Expected"):
                self.assertNotIn(words, err, args)

    def test_refusal_for_a_missing_field_says_how_to_give_it(self):
        case_id = self.open_case()
        self.ok("--as", "budi", "case", "advance", case_id, "review")
        r = self.refused_unchanged(1, "--as", "tono", "case", "advance", case_id, "approve")
        self.assertEqual(r.err, "sopir: refused: case %s: event 'approve' needs a value for "
                                "approved_quantity (give with --set FIELD=VALUE)\n" % case_id)
        # The engine's sentence is the engine's (in its language); the CLI
        # adds how to give the value, in its own words.
        why = self.ok("--as", "tono", "--lang", "id", "case", "why", case_id, "approve", "--json").json()
        engine_message = why["events"][0]["message"]
        self.assertIn("approved_quantity", engine_message)
        self.assertNotIn("--set", engine_message)
        r = self.refused_unchanged(1, "--as", "tono", "--lang", "id", "case", "advance", case_id, "approve")
        self.assertTrue(r.err.startswith("sopir: ditolak: "), r.err)
        self.assertIn(case_id, r.err)
        self.assertTrue(r.err.endswith(": %s (isi dengan --set FIELD=VALUE)\n" % engine_message), r.err)
        text = self.ok("--as", "tono", "--lang", "id", "case", "why", case_id, "approve").out
        self.assertEqual(text.splitlines()[0].split(), ["Peristiwa", "Bisa", "dijalankan", "Alasan", "tidak", "bisa"])
        self.assertIn("approve ya, setelah Anda mengisi nilai untuk approved_quantity (--set FIELD=VALUE)",
                      " ".join(text.split()))

    def test_refusal_for_a_missing_reason_says_how_to_give_it(self):
        case_id = self.open_case()
        r = self.refused_unchanged(1, "--as", "budi", "--lang", "id", "case", "hold", case_id)
        self.assertTrue(r.err.startswith("sopir: ditolak: "), r.err)
        self.assertTrue(r.err.endswith(" (tuliskan dengan --reason TEXT)\n"), r.err)

    def test_help_of_one_command_in_indonesian(self):
        out = self.ok("--lang", "id", "case", "hold", "--help").out
        self.assertEqual(out,
                         "cara pakai: sopir case hold CASE --reason TEXT\n\n"
                         "tangguhkan sebuah kasus (tenggatnya ikut berhenti)\n\n"
                         "Argumen:\n"
                         "  case TEXT ...               id kasus (bawaan di shell: kasus yang sedang dipakai)\n\n"
                         "Pilihan:\n"
                         "  -h,--help                   Tampilkan bantuan ini lalu keluar\n"
                         "  --reason TEXT               alasannya\n"
                         "  --note TEXT                 teks bebas yang disimpan bersama langkah\n"
                         "  --at TEXT                   kapan terjadinya (bawaan: sekarang)\n\n"
                         "Pilihan umum: --db PATH, --as STAFF, --json, --lang id|en (lihat `sopir help`).\n\n"
                         "Contoh:\n"
                         "  sopir --as siti case hold K7F-3QX --reason 'waiting for documents'\n")
        # The same words from `sopir help COMMAND` and `--help` after the command.
        self.assertEqual(self.ok("help", "case", "hold", env=ID_LOCALE).out, out)
        english = self.ok("case", "hold", "--help").out
        self.assertTrue(english.startswith("usage: sopir case hold CASE --reason TEXT\n\n"
                                           "put a case on hold (pauses its deadline)\n\nPositionals:\n"), english)
        self.assertIn("  -h,--help                   Print this help message and exit\n", english)
        # The list of commands.
        listing = self.ok("--lang", "id", "help").out
        self.assertIn("Perintah", listing.splitlines()[2])
        self.assertIn("buka kasus baru; menampilkan id-nya", listing)
        self.assertTrue(listing.endswith("`sopir help COMMAND` menjelaskan satu perintah. Kode keluar: 0 selesai, "
                                         "1 ditolak, 2 salah pakai, 3 tidak ditemukan, 4 bentrok, 5 masalah "
                                         "penyimpanan, 6 log-in ditolak.\n"), listing)

    def test_locale_selects_indonesian_and_lang_overrides_it(self):
        r = self.fails(2, "case", "list", "--status", "open", env=ID_LOCALE)
        self.assertEqual(r.err, "sopir: kesalahan: --status 'open' bukan status; isi active, on_hold atau "
                                "closed\n")
        r = self.fails(2, "--lang", "en", "case", "list", "--status", "open", env=ID_LOCALE)
        self.assertEqual(r.err, "sopir: error: --status 'open' is not a status; give active, on_hold or closed\n")
        # LC_ALL comes before LANG, LC_MESSAGES between them (POSIX).
        r = self.fails(2, "case", "list", "--status", "open", env={"LANG": "id_ID.UTF-8", "LC_ALL": "en_US.UTF-8"})
        self.assertTrue(r.err.startswith("sopir: error: --status 'open' is not a status"), r.err)
        r = self.fails(2, "case", "list", "--status", "open",
                       env={"LANG": "en_US.UTF-8", "LC_MESSAGES": "id_ID.UTF-8"})
        self.assertTrue(r.err.startswith("sopir: kesalahan: --status 'open' bukan status"), r.err)
        # Words of the output itself.
        self.assertEqual(self.ok("case", "list", env=ID_LOCALE).out, "Tidak ada kasus.\n")
        self.assertEqual(self.ok("--lang", "en", "case", "list", env=ID_LOCALE).out, "No cases.\n")

    def test_shell_words_and_a_line_of_its_own_language(self):
        case_id = self.open_case()
        script = "use %s\nuse\nas\n" % case_id
        r = self.run_sopir("--as", "budi", "--lang", "id", "shell", stdin=script)
        self.assertEqual(r.code, 2, r)
        self.assertEqual(r.out, case_id + "\n")
        self.assertEqual(r.err, "<stdin>:3: kesalahan: as menerima satu id petugas, mis. as rina\n")
        # A line's --lang holds for that line only.
        r = self.run_sopir("--lang", "id", "shell", stdin="case list --status open --lang en\n")
        self.assertEqual(r.err, "<stdin>:1: error: --status 'open' is not a status; give active, on_hold or "
                                "closed\n")
        r = self.run_sopir("--lang", "id", "shell", stdin="case list --status closed --lang en\ncase list --status open\n")
        self.assertEqual(r.out, "No cases.\n")
        self.assertEqual(r.err, "<stdin>:2: kesalahan: --status 'open' bukan status; isi active, on_hold atau "
                                "closed\n")
        r = self.run_sopir("--lang", "id", "shell", stdin="use\n")
        self.assertEqual(r.out, "tidak ada kasus yang sedang dipakai\n")


@sqlite_only("the log row is rewritten by dropping and restoring SQLite's triggers")
class AuditCaseLanguage(SopirTest):
    """`audit case` tells a case in --lang: its headings, labels, rules and
    warnings come from the catalogue, the rules' refusal too; ids stay."""

    def rewrite_row(self, case_id, case_seq, path, value):
        """Edits one log row's record behind sopir's back, the triggers put back."""
        import sqlite3
        con = sqlite3.connect(self.db)
        triggers = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND tbl_name = 'transitions'").fetchall()
        for name, _ in triggers:
            con.execute("DROP TRIGGER " + name)
        con.execute("UPDATE transitions SET record = json_set(record, ?, ?) WHERE case_id = ? AND case_seq = ?",
                    (path, value, case_id, case_seq))
        for _, sql in triggers:
            con.execute(sql)
        con.commit()
        con.close()

    def test_audit_case_in_indonesian(self):
        case_id = self.open_case()
        self.ok("--as", "siti", "case", "advance", case_id, "review", "--note", "dicek bersama")
        self.ok("--as", "tono", "case", "advance", case_id, "approve", "--set", "approved_quantity=5")
        # The approval rewritten: siti, who reviewed, approved too (four-eyes).
        self.rewrite_row(case_id, 3, "$.actor", "siti")
        english = self.run_sopir("--lang", "en", "audit", "case", case_id).out
        self.assertIn("\n   who:      siti as supervisor\n", english)
        self.assertIn("\n   WARNING:  the procedure would not have allowed this step: four-eyes rule: 'approve' "
                      "must be done by someone other than whoever did 'review' on this case, and siti did it\n",
                      english)
        text = self.run_sopir("--lang", "id", "audit", "case", case_id).out
        lines = text.splitlines()
        self.assertEqual(lines[0], "Kasus %s  prosedur aid versi 1" % case_id)
        self.assertTrue(lines[1].startswith("Sekarang: approved (active), tenggat ") or
                        lines[1] == "Sekarang: approved (active)", lines[1])
        self.assertTrue(lines[2].startswith("Dibuka: "), lines[2])
        self.assertIn("\n   siapa:    siti sebagai supervisor\n", text)
        self.assertIn("\n   aturan:   transisi 1 'review' (Tinjau) requested -> reviewed, oleh shelter_staff atau "
                      "supervisor\n", text)
        self.assertIn("\n   catatan:  dicek bersama\n", text)
        self.assertIn("\n   isian:    approved_quantity = 5\n", text)
        self.assertIn("\n   PERINGATAN:  prosedur tidak akan mengizinkan langkah ini: aturan empat mata: 'approve' "
                      "harus dilakukan oleh petugas lain, bukan yang melakukan 'review' pada kasus ini, dan siti "
                      "yang melakukannya\n", text)
        for word in ("Case ", "Now:", "Opened:", "who:", "when:", "rule:", "set:", "note:", "WARNING", " as ",
                     "recorded", "transition", "four-eyes"):
            self.assertNotIn(word, text)
        # The log table's lines under a row, too.
        log = " ".join(self.ok("--lang", "id", "audit", "log", "--case", case_id).out.split())
        self.assertIn("catatan: dicek bersama", log)
        self.assertNotIn("note:", log)

if __name__ == "__main__":
    main()
