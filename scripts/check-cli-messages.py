#!/usr/bin/env python3
"""Fails when the command line (src/) writes words a person reads as a literal.

Everything sopir says comes from the catalogue (sopir/messages.h; the
command line's entries are in engine/include/sopir/messages/cli.def), so it
can be said in English and in Indonesian. In src/*.cc this check reports a
string literal with a word in it (three letters or more) in:

    throw usage_error("give a case");                  # an error
    ctx.out << "published " << id;                     # text streamed out
    app.add_option("--sop", a.sop, "only this SOP");   # a help description
    Table table({"Case", "State"});                    # table headings

Literals inside a nested call (tr(...)) are fine, and so are the places in
ALLOWED: functions whose text stays English by design (the man page, the
bash completion script) and literals that are ids, not words. An allow-list
entry that matches nothing is itself an error, so the list cannot go stale.
Usage: scripts/check-cli-messages.py [ROOT]; --self-test checks the check.
Exit status 0 when clean, 1 otherwise.
"""
import os
import importlib.util
import re
import sys

# Functions whose whole body is allowed, with the reason.
ALLOWED_FUNCTIONS = {
    "man_page": "the man page is English (generated at build time; docs/CLI.md says so)",
    "bash_completion": "a bash script: commands and options, no words for people",
}
# (file, text on the reported line, reason).
ALLOWED = [
    ("src/cmd_admin.cc", '"sopir: tick: "', "the program's name and the command's, before the engine's message"),
    ("src/cmd_sop_scenarios.cc", "# Written by `sopir sop paths --as-tests`.", "a YAML comment in a file written for programs"),
]

ERROR_CALLS = ["refused", "usage_error", "not_found", "conflict", "storage_error"]
CALL_RE = re.compile(r"(?<![\w:.>])(%s)\s*\(" % "|".join(ERROR_CALLS))
OPTION_RE = re.compile(r"\badd_(?:option|flag)\s*\(")
TABLE_RE = re.compile(r"\bTable\s+\w+\s*\(\s*\{")
STREAM_RE = re.compile(r'<<\s*"((?:[^"\\]|\\.)*)"')
WORD_RE = re.compile(r"\b[A-Za-z]{3,}\b")
# Words that are names, the same in every language.
NAMES = {"sopir"}
LITERAL_RE = re.compile(r'"((?:[^"\\]|\\.)*)"')


# The comment stripper is the engine check's own (scripts/check-messages.py).
_engine_check = importlib.util.module_from_spec(
    importlib.util.spec_from_file_location("check_messages", os.path.join(os.path.dirname(__file__), "check-messages.py")))
_engine_check.__spec__.loader.exec_module(_engine_check)
strip_comments = _engine_check.strip_comments


def top_level(text, start):
    """The text of the call or braces opened at text[start-1], up to its
    close, with nested (...), [...] and {...} blanked: literals in tr(...)
    vanish."""
    out, depth, i = [], 0, start
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if depth == 0:
                out.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return "".join(out)
            depth -= 1
        elif depth == 0:
            out.append(c)
        i += 1
    return "".join(out)


def has_words(literal_text):
    text = literal_text.replace("\\n", " ").replace("\\t", " ")
    return any(w.lower() not in NAMES for w in WORD_RE.findall(text))


def allowed_spans(text):
    """(start, end) offsets of the bodies of ALLOWED_FUNCTIONS."""
    spans = []
    for name in ALLOWED_FUNCTIONS:
        for m in re.finditer(r"^std::string %s\(\)\s*\{" % name, text, re.M):
            end = text.find("\n}\n", m.end())
            spans.append((m.start(), len(text) if end < 0 else end))
    return spans


def findings(path, rel):
    with open(path, encoding="utf-8") as f:
        raw = f.read()
    text = strip_comments(raw)
    spans = allowed_spans(text)
    found = set()

    def add(offset, what):
        if not any(a <= offset < b for a, b in spans):
            found.add((text.count("\n", 0, offset) + 1, what))

    for m in CALL_RE.finditer(text):
        if any(has_words(x) for x in LITERAL_RE.findall(top_level(text, m.end()))):
            add(m.start(), m.group(1))
    for m in OPTION_RE.finditer(text):
        args = top_level(text, m.end()).split(",")
        if len(args) >= 3 and any(has_words(x) for x in LITERAL_RE.findall(",".join(args[2:]))):
            add(m.start(), "an option's description")
    for m in TABLE_RE.finditer(text):
        if any(has_words(x) for x in LITERAL_RE.findall(top_level(text, m.end()))):
            add(m.start(), "table headings")
    for m in STREAM_RE.finditer(text):
        if has_words(m.group(1)):
            add(m.start(), "text written out")
    lines = raw.split("\n")
    return [(rel, line, what, lines[line - 1].strip()) for line, what in sorted(found)]


SELF_TEST = r'''
void f(Context& ctx, CLI::App& app, Args& a, const std::string& id) {
  throw usage_error("give a case");                           // 3: reported
  ctx.out << "published " << id << "\n";                      // 4: reported
  app.add_option("--sop", a.sop, "only this SOP");            // 5: reported
  Table table({"Case", tr(msg::cli_w_state)});                // 6: reported
  throw not_found(tr(msg::cli_no_file, {id}));                // fine
  ctx.out << id << ": " << tr(msg::cli_w_due) << "\n";        // fine: no words
  app.add_option("--sop", a.sop, tr(msg::cli_opt_only_sop));  // fine
  Table t({tr(msg::cli_w_case), "#", "sha256"});              // fine: no words of three letters
  // ctx.out << "in a comment";                               // fine
}
std::string man_page() {
  m << ".SH NAME\nsopir - run shelter procedures\n";         // fine: allowed function
  return m.str();
}
'''


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        path = os.path.join(root, "bad.cc")
        with open(path, "w", encoding="utf-8") as f:
            f.write(SELF_TEST)
        lines = [line for _, line, _, _ in findings(path, "src/bad.cc")]
    if lines != [3, 4, 5, 6]:
        print("check-cli-messages self-test: reported lines %s, expected [3, 4, 5, 6]" % lines)
        return 1
    print("check-cli-messages self-test: every literal found, nothing else")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    reports = []
    src = os.path.join(root, "src")
    for name in sorted(os.listdir(src)):
        if name.endswith(".cc"):
            reports += findings(os.path.join(src, name), "src/" + name)
    used = [0] * len(ALLOWED)
    failed = []
    for rel, line, what, source in reports:
        hit = [k for k, (file, snippet, _) in enumerate(ALLOWED) if file == rel and snippet in source]
        if hit:
            used[hit[0]] += 1
        else:
            failed.append("%s:%d: %s written as a literal: %s" % (rel, line, what, source))
    for k, (file, snippet, reason) in enumerate(ALLOWED):
        if used[k] == 0:
            failed.append("%s: allow-list entry matches nothing; remove it: %r (%s)" % (file, snippet, reason))
    for line in failed:
        print(line)
    if failed:
        print("check-cli-messages: %d problem(s); write them as entries of "
              "engine/include/sopir/messages/cli.def, then tr(msg::name, {...})" % len(failed))
        return 1
    print("check-cli-messages: src/ writes no words as literals (%d allowed by the list)" % sum(used))
    return 0


if __name__ == "__main__":
    sys.exit(main())
