"""sopir case import and case advance --batch: all or nothing, --partial,
per-row reports with the file's line numbers."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402


class Batch(SopirTest):
    def test_import_all_good(self):
        csv = self.write("in.csv", "item,quantity,full_name,note\n"
                                   "hygiene_kit,2,Ani Contoh,first\n"
                                   "food_pack,3,\"Contoh, Dewi\",second\n")
        doc = self.ok("--as", "budi", "case", "import", csv, "--sop", "aid", "--json").json()
        self.assertTrue(doc["committed"])
        self.assertEqual(doc["written"], 2)
        self.assertEqual([r["line"] for r in doc["rows"]], [2, 3])
        self.assertEqual(len(self.ok("case", "list", "--json").json()["cases"]), 2)

    def test_import_broken_row_in_the_middle_writes_nothing(self):
        csv = self.write("in.csv", "item,quantity\n"
                                   "hygiene_kit,2\n"
                                   "hygiene_kit,lots\n"
                                   "food_pack,3\n")
        r = self.refused_unchanged(1, "--as", "budi", "case", "import", csv, "--sop", "aid")
        self.assertIn("in.csv:3:", r.err)
        self.assertIn("quantity", r.err)
        self.assertIn("nothing was written", r.err)
        self.assertNotIn("in.csv:2:", r.err)
        self.assertEqual(self.ok("case", "list", "--json").json()["cases"], [])

    def test_import_partial_writes_the_good_rows(self):
        csv = self.write("in.csv", "item,quantity\n"
                                   "hygiene_kit,2\n"
                                   "car,1\n"
                                   "food_pack,3\n")
        r = self.run_sopir("--as", "budi", "case", "import", csv, "--sop", "aid", "--partial", "--json")
        self.assertEqual(r.code, 1, r)
        doc = r.json()
        self.assertTrue(doc["committed"])
        self.assertEqual(doc["written"], 2)
        bad = [row for row in doc["rows"] if not row["ok"]]
        self.assertEqual(bad[0]["line"], 3)
        self.assertEqual(bad[0]["error"]["kind"], "refused")
        self.assertEqual(len(self.ok("case", "list", "--json").json()["cases"]), 2)

    def test_import_bad_header_and_bad_csv(self):
        csv = self.write("in.csv", "item,quantty\nfood_pack,1\n")
        r = self.refused_unchanged(2, "--as", "budi", "case", "import", csv, "--sop", "aid")
        self.assertEqual(r.err, "sopir: error: %s:1: column 'quantty' is not a field of aid; did you mean "
                                "'quantity'?\ncolumns may be: note, at, item, quantity, full_name, "
                                "approved_quantity\n" % csv)
        csv = self.write("bad.csv", "item,quantity\nfood_pack,\"1\n")
        r = self.refused_unchanged(2, "--as", "budi", "case", "import", csv, "--sop", "aid")
        self.assertIn("bad.csv:2:", r.err)
        csv = self.write("short.csv", "item,quantity\nfood_pack\n")
        r = self.refused_unchanged(2, "--as", "budi", "case", "import", csv, "--sop", "aid")
        self.assertIn("short.csv:2:", r.err)
        self.refused_unchanged(3, "--as", "budi", "case", "import", "missing.csv", "--sop", "aid")
        csv = self.write("twice.csv", "item,quantity,quantity\nfood_pack,1,2\n")
        r = self.refused_unchanged(2, "--as", "budi", "case", "import", csv, "--sop", "aid")
        self.assertEqual(r.err, "sopir: error: %s:1: the column quantity is named twice in the header; name each "
                                "column once\n" % csv)

    def test_advance_batch(self):
        a, b = self.open_case(), self.open_case()
        csv = self.write("steps.csv", "case,event,note\n%s,review,x\n%s,review,\n" % (a.lower(), b))
        doc = self.ok("--as", "budi", "case", "advance", "--batch", csv, "--json").json()
        self.assertEqual(doc["written"], 2)
        self.assertEqual({r["case"] for r in doc["rows"]}, {a, b})
        csv = self.write("steps2.csv", "case,event,approved_quantity,reason\n"
                                       "%s,approve,2,\n"
                                       "%s,reject,,\n" % (a, b))
        r = self.refused_unchanged(1, "--as", "tono", "case", "advance", "--batch", csv)
        self.assertEqual(r.err, "%s:3: refused: case %s: event 'reject' needs a written reason (give it "
                                "with --reason TEXT)\n1 of 2 row(s) refused; nothing was written (fix them, "
                                "or use --partial to write the good rows)\n" % (csv, b))
        self.assertEqual(self.ok("--as", "tono", "case", "show", a, "--json").json()["state"], "reviewed")
        self.fails(2, "--as", "tono", "case", "advance", "--batch", csv, "--note", "x")
        nohead = self.write("nohead.csv", "id,what\n%s,review\n" % a)
        self.refused_unchanged(2, "--as", "tono", "case", "advance", "--batch", nohead)
        twice = self.write("twice.csv", "case,event,note,note\n%s,review,x,y\n" % a)
        r = self.refused_unchanged(2, "--as", "tono", "case", "advance", "--batch", twice)
        self.assertIn("twice.csv:1: the column note is named twice in the header", r.err)
        # Empty header cells (a spreadsheet's trailing commas) name no column twice.
        trailing = self.write("trailing.csv", "case,event,,\n%s,review,,\n" % self.open_case())
        self.ok("--as", "tono", "case", "advance", "--batch", trailing)


if __name__ == "__main__":
    main()
