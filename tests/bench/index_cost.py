#!/usr/bin/env python3
"""What each index of the cases and transitions tables costs a step and saves a
query (docs/SCHEMA.md "Indexes"). Uses SQLite through Python's sqlite3 on a
generated database of CASES cases (schema 3's tables with the records' JSON
shape); every figure is beside the same run without the index.

  python3 tests/bench/index_cost.py [CASES] [ROWS_PER_CASE]    (default 100000 3)

Step cost: the pages one step writes (WAL frames per one-step transaction,
counted over 300 steps, so a loaded machine does not change the figure),
each step inserting one log row and updating a case's state, due time,
version, last_seq and head_hash. Query cost: the documented query the index
would serve, without and with the index (best of five, milliseconds).
"""
import json, os, random, sqlite3, sys, tempfile, time

CASES = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
PER_CASE = int(sys.argv[2]) if len(sys.argv) > 2 else 3
STATES = ["intake", "screening", "care", "plan_review", "escalated", "done"]

CASES_TABLE = """CREATE TABLE cases (id TEXT PRIMARY KEY, sop_id TEXT NOT NULL, sha256 TEXT NOT NULL,
  state TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL DEFAULT '[]', version INTEGER NOT NULL,
  last_seq INTEGER NOT NULL, opened_at INTEGER NOT NULL, due_at INTEGER, hold_started INTEGER,
  closure_reason TEXT NOT NULL DEFAULT '', parent_case TEXT, head_hash TEXT NOT NULL DEFAULT '')"""
LOG_TABLE = """CREATE TABLE transitions (seq INTEGER PRIMARY KEY, record TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
  case_id TEXT GENERATED ALWAYS AS (json_extract(record, '$.case_id')) VIRTUAL,
  case_seq INTEGER GENERATED ALWAYS AS (json_extract(record, '$.case_seq')) VIRTUAL,
  actor TEXT GENERATED ALWAYS AS (json_extract(record, '$.actor')) VIRTUAL,
  occurred_at INTEGER GENERATED ALWAYS AS (json_extract(record, '$.occurred_at')) VIRTUAL,
  UNIQUE (case_id, case_seq))"""

# (name, CREATE INDEX, the query it serves, its parameters)
INDEXES = [
    ("cases_by_sop_state", "CREATE INDEX cases_by_sop_state ON cases (sop_id, state)",
     "SELECT * FROM cases WHERE sop_id = ? AND state = ? ORDER BY opened_at, id", ("sop1", "care")),
    ("cases_by_state", "CREATE INDEX cases_by_state ON cases (state)",
     "SELECT * FROM cases WHERE state = ? ORDER BY opened_at, id", ("plan_review",)),
    ("cases_by_status", "CREATE INDEX cases_by_status ON cases (status)",
     "SELECT * FROM cases WHERE status = ? ORDER BY opened_at, id", ("on_hold",)),
    ("cases_by_due", "CREATE INDEX cases_by_due ON cases (due_at) WHERE due_at IS NOT NULL",
     "SELECT * FROM cases WHERE status = 'active' AND due_at IS NOT NULL AND due_at < ? ORDER BY due_at, id",
     (1790000000 + 3600,)),
    ("cases_by_sha256", "CREATE INDEX cases_by_sha256 ON cases (sha256)",
     "SELECT count(*) FROM cases WHERE sha256 = ?", ("a" * 64,)),
    ("transitions_by_actor", "CREATE INDEX transitions_by_actor ON transitions (actor)",
     "SELECT seq, record FROM transitions WHERE actor = ? ORDER BY seq", ("staff7",)),
    ("transitions_by_occurred", "CREATE INDEX transitions_by_occurred ON transitions (occurred_at)",
     "SELECT seq, record FROM transitions WHERE occurred_at >= ? AND occurred_at < ? ORDER BY seq",
     (1790000000, 1790000000 + 86400)),
]


def record(case_id, case_seq, at, actor):
    return json.dumps({"case_id": case_id, "case_seq": case_seq, "sha256": "a" * 64, "kind": "procedure",
                       "event": "go", "from_state": "intake", "to_state": "care", "from_status": "active",
                       "to_status": "active", "actor": actor, "role": "worker", "occurred_at": at,
                       "recorded_at": at, "note": "", "reason": "", "inputs": [["risk", "low"]],
                       "changes": [{"before": {"field": "n", "missing": False, "text": "1"},
                                    "after": {"field": "n", "missing": False, "text": "2"}}],
                       "due_at": at + 86400, "linked_case": ""}, separators=(",", ":"))


def build(path):
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = OFF")
    con.execute(CASES_TABLE)
    con.execute(LOG_TABLE)
    data = json.dumps([{"field": "category", "missing": False, "text": "overstay"},
                       {"field": "province", "missing": False, "text": "Nusa Tenggara Barat"}])
    rnd = random.Random(7)
    con.execute("BEGIN")
    for c in range(CASES):
        con.execute("INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', NULL, ?)",
                    ("C%06d" % c, "sop%d" % (c % 4), "a" * 64 if c % 3 else "b" * 64, rnd.choice(STATES),
                     rnd.choice(["active"] * 8 + ["on_hold", "closed"]), data, PER_CASE, PER_CASE,
                     1790000000 - c, 1790000000 + rnd.randrange(-86400, 30 * 86400), "h" * 64))
    seq = 0
    for s in range(1, PER_CASE + 1):
        for c in range(CASES):
            seq += 1
            at = 1790000000 - 30 * 86400 + seq * 7
            con.execute("INSERT INTO transitions (record, prev_hash, hash) VALUES (?, ?, ?)",
                        (record("C%06d" % c, s, at, "staff%d" % (seq % 40)), "p" * 64, "h" * 64))
    con.execute("COMMIT")
    return con


VERSIONS = {}  # case id -> its newest case_seq, across runs


def pages_per_step(con, path, n=300):
    """Pages a step writes: WAL frames per committed one-step transaction.
    Counted, not timed, so a loaded machine does not change it."""
    rnd = random.Random(11)
    next_seq = con.execute("SELECT max(seq) FROM transitions").fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = con.execute("PRAGMA page_size").fetchone()[0]
    before = os.path.getsize(path + "-wal")
    for i in range(n):
        c = rnd.randrange(CASES)
        cid = "C%06d" % c
        v = VERSIONS.get(cid, PER_CASE) + 1
        VERSIONS[cid] = v
        next_seq += 1
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO transitions (record, prev_hash, hash) VALUES (?, ?, ?)",
                    (record(cid, v, 1790000000 + next_seq, "staff%d" % (next_seq % 40)), "p" * 64, "h" * 64))
        con.execute("UPDATE cases SET state = ?, due_at = ?, version = ?, last_seq = ?, head_hash = ? WHERE id = ?",
                    (STATES[v % len(STATES)], 1790000000 + next_seq, v, v, "%064x" % next_seq, cid))
        con.execute("COMMIT")
    frames = (os.path.getsize(path + "-wal") - before - 32) / (page + 24)
    return frames / n


def query_ms(con, sql, params, runs=5):
    best = 1e9
    for _ in range(runs):
        start = time.perf_counter()
        con.execute(sql, params).fetchall()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main():
    tmp = tempfile.mkdtemp(prefix="sopir-index-")
    path = os.path.join(tmp, "index.db")
    con = build(path)
    con.execute("PRAGMA wal_autocheckpoint = 0")
    base = pages_per_step(con, path)
    print("%d cases, %d log rows; load average %.2f" % (CASES, CASES * PER_CASE, os.getloadavg()[0]))
    print("%-24s %14s %14s %14s" % ("index", "pages/step", "query ms", "with index"))
    print("%-24s %14.2f" % ("(none)", base))
    for name, create, sql, params in INDEXES:
        without = query_ms(con, sql, params)
        con.execute(create)
        with_ = query_ms(con, sql, params)
        pages = pages_per_step(con, path)
        con.execute("DROP INDEX " + name)
        print("%-24s %14.2f %14.1f %14.1f" % (name, pages, without, with_))
    con.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
