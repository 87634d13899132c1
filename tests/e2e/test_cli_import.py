"""sopir case import: each row is decided exactly as `case open` decides it
(same refusals, same messages); --partial writes exactly the good rows;
without --partial any refused row leaves the database byte for byte as it
was."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

# (cells of a row under the header item,quantity,full_name; actor)
BAD_ROWS = [
    (("car", "2", ""), "budi"),             # not one of the values
    (("food_pack", "0", ""), "budi"),       # below min
    (("food_pack", "lots", ""), "budi"),    # not an int
    (("food_pack", "", ""), "budi"),        # required, missing
    (("food_pack", "2", "Ani Contoh"), "nobody"),   # unknown staff
    (("food_pack", "2", "Ani Contoh"), "budii"),    # unknown staff, did you mean
    (("food_pack", "2", "Ani Contoh"), "system"),   # the timer is not staff
    (("food_pack", "2", "Ani Contoh"), "wati"),     # deactivated
]


class Import(SopirTest):
    def setUp(self):
        super().setUp()
        self.ok("--as", "admin", "staff", "add", "wati", "--name", "Wati Contoh", "--role", "shelter_staff")
        self.ok("--as", "admin", "staff", "deactivate", "wati")

    def open_message(self, cells, actor):
        """(exit code, message) of `case open` with the same values."""
        args = ["--as", actor, "case", "open", "aid"]
        for name, value in zip(("item", "quantity", "full_name"), cells):
            if value:
                args += ["--set", "%s=%s" % (name, value)]
        r = self.run_sopir(*args)
        self.assertNotEqual(r.code, 0, r)
        line = r.err.strip().splitlines()[0]
        for prefix in ("sopir: refused: ", "sopir: error: "):
            if line.startswith(prefix):
                return r.code, line[len(prefix):]
        self.fail("unexpected message: %r" % r.err)

    def test_each_refusal_is_the_one_case_open_gives(self):
        for cells, actor in BAD_ROWS:
            with self.subTest(cells=cells, actor=actor):
                code, message = self.open_message(cells, actor)
                csv = self.write("one.csv", "item,quantity,full_name\n"
                                            "hygiene_kit,1,\n" + ",".join(cells) + "\n")
                for partial in ([], ["--partial"]):
                    r = self.run_sopir("--as", actor, "case", "import", csv, "--sop", "aid",
                                       "--json", *partial)
                    self.assertEqual(r.code, code, r)
                    doc = r.json()
                    bad = [row for row in doc["rows"] if not row["ok"]]
                    self.assertEqual(bad[-1]["line"], 3)
                    self.assertEqual(bad[-1]["error"]["message"], message)

    def test_an_unknown_actor_fails_every_row_the_same_way(self):
        csv = self.write("in.csv", "item,quantity\nfood_pack,1\nhygiene_kit,2\nfood_pack,3\n")
        r = self.refused_unchanged(3, "--as", "budii", "case", "import", csv, "--sop", "aid")
        lines = [l for l in r.err.splitlines() if l.startswith(csv)]
        self.assertEqual(len(lines), 3, r)
        for n, line in zip((2, 3, 4), lines):
            self.assertEqual(line, "%s:%d: error: unknown staff member 'budii'; did you mean 'budi'?"
                             % (csv, n))

    def test_partial_writes_exactly_the_good_rows(self):
        rows = ["hygiene_kit,1,Ani Contoh", "car,1,", "food_pack,2", "food_pack,101,",
                "food_pack,3,Dewi Contoh", "hygiene_kit,lots,", "hygiene_kit,4,"]
        csv = self.write("in.csv", "item,quantity,full_name\n" + "\n".join(rows) + "\n")
        r = self.run_sopir("--as", "budi", "case", "import", csv, "--sop", "aid", "--partial", "--json")
        self.assertEqual(r.code, 1, r)
        doc = r.json()
        self.assertTrue(doc["committed"])
        self.assertEqual([row["line"] for row in doc["rows"] if row["ok"]], [2, 6, 8])
        self.assertEqual([row["line"] for row in doc["rows"] if not row["ok"]], [3, 4, 5, 7])
        self.assertEqual(doc["written"], 3)
        good = {row["case"] for row in doc["rows"] if row["ok"]}
        listed = self.ok("case", "list", "--json").json()["cases"]
        self.assertEqual({c["id"] for c in listed}, good)
        # One open row per written case, and nothing else in the log; the
        # chain verifies.
        for case_id in good:
            history = self.ok("--as", "tono", "case", "history", case_id, "--json").json()
            self.assertEqual(len(history["entries"]), 1, history)
        self.assertEqual(self.run_sopir("audit", "verify").code, 0)
        quantities = sorted(int(c["data"]["quantity"]) for c in
                            (self.ok("--as", "tono", "case", "show", i, "--json").json() for i in good))
        self.assertEqual(quantities, [1, 3, 4])

    def test_without_partial_a_refused_last_row_writes_nothing(self):
        rows = ["hygiene_kit,%d" % (1 + i % 100) for i in range(300)] + ["car,1"]
        csv = self.write("many.csv", "item,quantity\n" + "\n".join(rows) + "\n")
        r = self.refused_unchanged(1, "--as", "budi", "case", "import", csv, "--sop", "aid")
        self.assertIn("many.csv:302: refused:", r.err)
        self.assertIn("nothing was written", r.err)
        csv = self.write("many.csv", "item,quantity\n" + "\n".join(rows[:-1]) + "\n")
        r = self.ok("--as", "budi", "case", "import", csv, "--sop", "aid")
        self.assertIn("opened 300 row(s)", r.out)
        self.assertEqual(len(self.ok("case", "list", "--json").json()["cases"]), 300)
        self.assertEqual(self.run_sopir("audit", "verify").code, 0)


if __name__ == "__main__":
    main()
