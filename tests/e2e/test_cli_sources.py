"""Where a rule comes from (`source:`) and a guard that reads a case-level
clock (`clock_overdue`), end to end: `sop show` lists the citations (text in
both languages, JSON), a refusal by a cited rule names its source on stderr
and in `case why --json`, and nothing is written; once the stay is past its
limit the review goes through and `audit verify` replays it cleanly.

The procedure is tests/data/clocks/stay-review.yaml with the staff roles of
the e2e database (budi: shelter_staff, tono: supervisor)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

SOURCE = os.environ.get("SOPIR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))


def procedure():
    with open(os.path.join(SOURCE, "tests", "data", "clocks", "stay-review.yaml"), encoding="utf-8") as f:
        return f.read().replace("worker", "shelter_staff")


class Sources(SopirTest):
    def setUp(self):
        super().setUp()
        self.ok("--as", "admin", "sop", "publish", self.write("stay-review.yaml", procedure()))

    def test_sop_show_lists_the_sources(self):
        text = self.ok("sop", "show", "stay-review").out
        self.assertIn("\nSources\n", text)
        for line in ("the procedure", "Test Regulation 1/2026\n"):
            self.assertIn(line, text)
        self.assertRegex(text, r"opening a case\s+Test Regulation 1/2026 Article 3")
        self.assertRegex(text, r"field consent\s+Test Regulation 1/2026 Article 3")
        self.assertRegex(text, r"state in_shelter\s+Test Regulation 1/2026 Article 5")
        self.assertRegex(text, r"review_stay \(in_shelter -> review\)\s+Test Regulation 1/2026 Article 7; "
                               r"Test Guideline 2/2026 Part 4")
        self.assertRegex(text, r"clock stay\s+Test Regulation 1/2026 Article 7")
        text_id = self.ok("--lang", "id", "sop", "show", "stay-review").out
        self.assertIn("\nDasar hukum dan rujukan\n", text_id)
        self.assertRegex(text_id, r"membuka kasus\s+Test Regulation 1/2026 Article 3")
        doc = self.ok("sop", "show", "stay-review", "--json").json()
        self.assertEqual(doc["source"], ["Test Regulation 1/2026"])
        self.assertEqual(doc["open_source"], ["Test Regulation 1/2026 Article 3"])
        review = [t for t in doc["transitions"] if t["event"] == "review_stay"][0]
        self.assertEqual(review["source"], ["Test Regulation 1/2026 Article 7", "Test Guideline 2/2026 Part 4"])
        self.assertEqual(doc["clocks"][0]["source"], ["Test Regulation 1/2026 Article 7"])
        self.assertEqual(doc["clocks"][0]["limit"], "7 days")

    def test_refusal_names_the_source_and_the_clock_guard_opens_later(self):
        refused = self.fails(1, "--as", "budi", "case", "open", "stay-review", "--set", "consent=false")
        self.assertIn("(source: Test Regulation 1/2026 Article 3)", refused.err)
        case = self.ok("--as", "budi", "case", "open", "stay-review", "--set", "consent=true",
                       "--at", "2026-08-14T10:00").out.strip()
        self.ok("--as", "budi", "case", "advance", case, "admit", "--at", "2026-08-14T10:00")
        before = self.dump()
        refused = self.fails(1, "--as", "tono", "case", "advance", case, "review_stay", "--at", "2026-08-20T10:00")
        self.assertIn("clock_overdue('stay') is false (clock 'stay' runs, due 2026-08-21T10:00:00Z) "
                      "(source: Test Regulation 1/2026 Article 7; Test Guideline 2/2026 Part 4)", refused.err)
        refused_id = self.fails(1, "--lang", "id", "--as", "tono", "case", "advance", case, "review_stay",
                                "--at", "2026-08-20T10:00")
        self.assertIn("(dasar: Test Regulation 1/2026 Article 7; Test Guideline 2/2026 Part 4)", refused_id.err)
        self.assertEqual(self.dump(), before)
        # Today the 7 days have long passed: why says it may be done now.
        why = self.ok("--as", "tono", "case", "why", case, "review_stay", "--json").json()
        self.assertTrue(why["events"][0]["possible"], why)
        self.ok("--as", "tono", "case", "advance", case, "review_stay", "--set", "review_note=Tracing continues")
        self.assertEqual(self.ok("--as", "tono", "case", "show", case, "--json").json()["state"], "review")
        self.ok("--as", "admin", "audit", "verify")


if __name__ == "__main__":
    main()
