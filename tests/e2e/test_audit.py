#!/usr/bin/env python3
"""sopir audit end to end: CSV round-trip, read-only copies, no writes, verify
exit codes on a tampered copy, reveal refused on a read-only copy, and the
HTML report rendered by headless Chromium (skipped when absent)."""
import csv, hashlib, io, os, shutil, sqlite3, stat, subprocess, sys, tempfile

SOPIR = os.environ.get("SOPIR_BIN", "sopir")
# Staff log in on a database file: one passphrase for everyone here, at the
# cheap cost meant for tests (docs/CLI.md, "Logging in").
_PASS = os.path.join(tempfile.mkdtemp(prefix="sopir-audit-pass-"), "passphrase")
with open(_PASS, "w") as _f:
    _f.write("audit test passphrase\n")
os.chmod(_PASS, 0o600)
os.environ.update(SOPIR_PASSPHRASE_FILE=_PASS, SOPIR_NEW_PASSPHRASE_FILE=_PASS, SOPIR_KDF_COST="test")
YAML = """sop: mini-care
version: 1
title: {en: Mini care}
roles: [worker, supervisor]
fields:
  full_name: {type: string, pii: true, label: {en: Name}}
  note_text: {type: string, label: {en: Note}}
states:
  intake: {label: {en: Intake}, initial: true, deadline: 1d}
  care_in_the_shelter_for_now: {label: {en: Care}}
  done: {label: {en: Done}, terminal: true}
transitions:
  - {event: admit, from: intake, to: care_in_the_shelter_for_now, roles: [worker], accepts: [note_text], label: {en: Admit}}
  - {event: finish, from: care_in_the_shelter_for_now, to: done, roles: [supervisor], label: {en: Finish}}
closure_reasons: [needs_met]
open: {accepts: [full_name]}
pii_visible_to: [supervisor]
"""

def run(db, *args, actor=None, check=True):
    cmd = [SOPIR, "--db", db] + (["--as", actor] if actor else []) + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, SOPIR_LOG="off"))
    if check and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p

def digest(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

def main():
    tmp = tempfile.mkdtemp(prefix="sopir-audit-e2e-")
    db = os.path.join(tmp, "live.db")
    yaml = os.path.join(tmp, "care.yaml")
    open(yaml, "w").write(YAML)
    run(db, "init", "--admin", "rina", "--name", "Rina Contoh")
    run(db, "staff", "add", "budi", "--name", "Budi Contoh", "--role", "worker", actor="rina")
    run(db, "staff", "add", "sari", "--name", "Sari Contoh", "--role", "supervisor", actor="rina")
    run(db, "sop", "publish", yaml, actor="rina")
    ids = []
    for name in ["Siti, \"Contoh\"", "Ani Contoh"]:
        ids.append(run(db, "case", "open", "mini-care", "--set", "full_name=" + name, actor="budi").stdout.strip())
    run(db, "case", "advance", ids[0], "admit", "--set", "note_text=line one, with comma\nand a newline", actor="budi")
    run(db, "case", "advance", ids[0], "finish", actor="sari")

    # A read-only copy: file 0444 in a 0555 directory.
    ro_dir = os.path.join(tmp, "copy")
    os.mkdir(ro_dir)
    ro = os.path.join(ro_dir, "copy.db")
    run(db, "audit", "anchor")  # also checkpoints nothing: read-only
    src = sqlite3.connect(db)
    dst = sqlite3.connect(ro)
    src.backup(dst)
    dst.close(); src.close()
    os.chmod(ro, 0o444)
    os.chmod(ro_dir, 0o555)
    live_before = digest(db)
    wrong = os.path.join(os.path.dirname(_PASS), "wrong")
    with open(wrong, "w") as f:
        f.write("not the passphrase\n")
    os.chmod(wrong, 0o600)
    for target in [ro, db]:
        before = digest(target)
        out = run(target, "audit", "verify").stdout
        assert out.startswith("clean"), out
        assert "(2 steps not re-decided" in out and "name yourself with --as ID" in out, out
        text = run(target, "audit", "log", "--format", "csv").stdout
        assert text.startswith("\ufeff"), "CSV starts with a BOM"
        rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
        assert len(rows) == 4, rows
        assert rows[2]["note"] == "" and "line one, with comma\nand a newline" in rows[2]["changes"], rows[2]
        assert "Siti" not in text and "***" in text
        jl = run(target, "audit", "log", "--format", "jsonl").stdout.splitlines()
        assert len(jl) == 4
        steps = run(target, "audit", "log", "--kind", "procedure", "--format", "jsonl").stdout.splitlines()
        assert len(steps) == 2 and all('"kind":"procedure"' in s for s in steps), steps
        # A registry row's kind is not a case row's: refused, with the kinds there are.
        for kind in ["publish", "nonsense"]:
            p = run(target, "audit", "log", "--kind", kind, check=False)
            assert p.returncode == 2 and p.stdout == "", p
            assert ("--kind '%s' is not a kind of case row; use open, procedure, override, lifecycle, timer, "
                    "erasure, migration or transfer" % kind) in p.stderr, p.stderr
        run(target, "audit", "case", ids[0])
        report = run(target, "audit", "report").stdout.splitlines()
        # The state table's columns line up under their headings, also for a
        # state id longer than the column's usual width.
        [heading] = [l for l in report if l.startswith("  state ")]
        col = heading.index(heading.split()[1])
        rows = [l for l in report if l.startswith("  intake ") or l.startswith("  care_in_the_shelter_for_now ")]
        assert len(rows) == 2, report
        for row in rows:
            assert row[col - 1] == " " and row[col].isdigit(), (heading, row)
        run(target, "audit", "replay", "--sop", yaml)
        anchor = run(target, "audit", "anchor").stdout.strip()
        # Row 11: 3 staff rows, their 3 passphrase-set rows and the publish
        # row (registry rows) come first.
        assert anchor.startswith("11:"), anchor
        run(target, "audit", "verify", "--anchor", anchor)
        assert digest(target) == before, f"audit changed {target}"
    assert digest(db) == live_before

    # The two openings' names are encrypted: not re-decided without a
    # log-in (above); named with --as, the reader logs in (on the read-only
    # copy through the copy itself) and every step is decided again.
    for target in [ro, db]:
        before = digest(target)
        out = run(target, "audit", "verify", actor="sari").stdout
        assert out.startswith("clean") and "not re-decided" not in out, out
        out = run(target, "audit", "replay", "--sop", yaml, actor="sari").stdout
        assert "not re-decided" not in out, out
        p = subprocess.run([SOPIR, "--db", target, "--as", "sari", "audit", "verify"], capture_output=True, text=True,
                           env=dict(os.environ, SOPIR_LOG="off", SOPIR_PASSPHRASE_FILE=wrong))
        assert p.returncode == 6 and "wrong passphrase for 'sari'" in p.stderr, (p.returncode, p.stderr)
        # The live database records the failed log-in; the copy cannot.
        if target == ro:
            assert digest(target) == before, "a log-in wrote to the read-only copy"
        else:
            con = sqlite3.connect(db)
            assert con.execute("SELECT count(*) FROM login_failures WHERE staff_id='sari'").fetchone()[0] == 1
            con.close()

    # Reveal: refused on the read-only copy, allowed (and recorded) on the live one for sari only.
    p = run(ro, "audit", "case", ids[0], "--reveal", "--reason", "audit", actor="sari", check=False)
    assert p.returncode == 1 and "writable" in p.stderr, p.stderr
    p = run(db, "audit", "case", ids[0], "--reveal", "--reason", "audit", actor="budi", check=False)
    assert p.returncode == 1 and "may not see personal data" in p.stderr, p.stderr
    out = run(db, "audit", "case", ids[0], "--reveal", "--reason", "yearly audit", actor="sari").stdout
    assert 'Siti, "Contoh"' in out
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM access_log WHERE actor='sari' AND reason='yearly audit'").fetchone()[0] == 1
    con.close()

    # An auditor's own check of the chains, as docs/SCHEMA.md shows it:
    # SHA-256 of the previous hash of the row's chain and the stored record,
    # row by row (rows before chain_rule.per_chain_from: the row before).
    def broken_rows(path):
        broken = []
        con = sqlite3.connect(path)
        start, = con.execute("SELECT per_chain_from FROM chain_rule").fetchone()
        prev, heads = "", {}
        for seq, chain, record, prev_hash, hash_ in con.execute(
                "SELECT seq, case_id, record, prev_hash, hash FROM transitions ORDER BY seq"):
            p = prev if seq < start else heads.get(chain, "")
            if prev_hash != p or hashlib.sha256((p + record).encode()).hexdigest() != hash_:
                broken.append(seq)
            prev = heads[chain] = hash_
        con.close()
        return broken

    assert broken_rows(db) == []

    # A checkpoint commits to every chain's head; audit anchor prints it and
    # verify --anchor recomputes it; nothing written since: the same one.
    p = run(db, "checkpoint", actor="nobody", check=False)
    assert p.returncode == 3 and "nobody" in p.stderr, p.stderr
    point = run(db, "checkpoint", actor="rina").stdout.strip()
    assert point.startswith("11:") and len(point) == 3 + 64, point
    assert run(db, "checkpoint", actor="rina").stdout.strip() == point
    assert run(db, "audit", "anchor").stdout.strip() == point
    out = run(db, "audit", "verify", "--anchor", point).stdout
    assert out.startswith("clean") and "anchor 11 holds" in out, out
    assert broken_rows(db) == []
    con = sqlite3.connect(db)
    kind, chain, record = con.execute("SELECT json_extract(record, '$.kind'), case_id, record FROM transitions ORDER BY seq DESC LIMIT 1").fetchone()
    con.close()
    assert kind == "checkpoint" and chain is None and '"root":"' + point[3:] + '"' in record, record

    # A tampered copy: verify exits 1 and names the row.
    bad = os.path.join(tmp, "bad.db")
    shutil.copy(db, bad)
    con = sqlite3.connect(bad)
    con.executescript("DROP TRIGGER transitions_no_update; UPDATE transitions SET record=json_set(record, '$.note', 'edited') WHERE seq=2;")
    con.close()
    p = run(bad, "audit", "verify", check=False)
    assert p.returncode == 1 and "chain-hash at row 2" in p.stdout, p.stdout
    assert "schema-changed" in p.stdout and "transitions_no_update is missing" in p.stdout, p.stdout
    assert broken_rows(bad) == [2]

    # HTML report in headless Chromium.
    html = os.path.join(tmp, "report.html")
    run(db, "audit", "report", "--html", html)
    page = open(html).read()
    assert "<svg" in page and "http://" not in page and "https://" not in page
    # The diagram is Graphviz's: a labelled arrow for each transition, each
    # state with its cases waiting (one waits in intake).
    diagram = page[page.index('<svg class="diagram"'):]
    diagram = diagram[:diagram.index("</svg>")]
    for label in ("admit", "(worker)", "finish", "(supervisor)", "Intake (deadline 1d)", "1 waiting"):
        assert ">%s</text>" % label in diagram, (label, diagram[:2000])
    assert diagram.count('class="edge"') == 3, diagram[:2000]  # start, admit, finish
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP chromium part: chromium is not installed (apt-get install -y chromium)")
    else:
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--user-data-dir=" + tempfile.mkdtemp()]
        png = os.path.join(tmp, "out.png")
        subprocess.run([chromium] + flags + ["--screenshot=" + png, "--window-size=1200,2000", "file://" + html],
                       capture_output=True, timeout=120)
        dom = subprocess.run([chromium] + flags + ["--dump-dom", "file://" + html],
                             capture_output=True, text=True, timeout=120).stdout
        assert 'class="diagram"' in dom and "<rect" in dom, dom[:500]
        # Rendered: the arrows' labels are in the page the browser built.
        assert dom.count('class="edge"') == 3 and ">admit</text>" in dom, dom[:500]
        assert os.path.getsize(png) > 10000, os.path.getsize(png)
    os.chmod(ro_dir, 0o755)
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok")

if __name__ == "__main__":
    main()
