#!/usr/bin/env python3
"""Fails when a message is written as a literal instead of a catalogue entry.

Every message a person reads comes from the catalogue (sopir/messages.h):
`throw refused(tr(msg::name, {args}))`. This check reads the C++ sources in
SCANNED and reports each place where an error or a diagnostic is built from
a string literal with words in it, alone or in a concatenation:

    throw refused("the case is closed");              # reported
    throw not_found("no case '" + id + "'");          # reported
    throw refused(tr(msg::rules_case_closed));        # fine
    sink.error("bad-value", pos, "must be text");     # reported (the message, not the code)
    return Refusal{RefusalKind::kGuard, "..."};       # reported

Literals inside a nested call (tr(...), std::to_string(...)) and literals
without letters (": ", "\\n") are not messages. A message built in a
variable first and thrown later is not seen; review catches those.

Places that must keep a literal are listed in ALLOWED with the reason; an
entry that no longer matches anything is itself an error, so the list
cannot go stale. Usage: scripts/check-messages.py [ROOT] (default: the
repository this script is in). Exit status 0 when clean, 1 otherwise.
With --self-test it checks itself on sources it writes (the ctest test
messages.check_finds_literals): every literal message found, nothing else.
"""
import os
import re
import sys

# Folders scanned, relative to the repository root. The command line (src/)
# is added by appending it here.
SCANNED = [
    "engine/src",
    "src",
]

# (file, text on the reported line, reason). "*" as the text allows every
# report in that file.
ALLOWED = [
]

# Calls whose only argument is a message.
MESSAGE_CALLS = ["refused", "usage_error", "not_found", "conflict", "storage_error"]
# Calls whose last argument is a message: the error type and the located
# diagnostic reporters (DiagnosticSink::error/warning/report, the loader's,
# the expression checker's and the calendar reader's helpers, lint's warn).
LAST_ARGUMENT_CALLS = ["Error", "error", "warning", "report", "warn", "fail"]

CALL_RE = re.compile(r"(?<![\w:.>])(?:[\w]+(?:\.|->))?(%s)\s*\(" % "|".join(MESSAGE_CALLS + LAST_ARGUMENT_CALLS))
REFUSAL_RE = re.compile(r"\bRefusal\s*\{")
LETTER_RE = re.compile(r"[A-Za-z]")


def strip_comments(text):
    """The text with comments blanked out (line breaks kept), strings intact."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def arguments(text, start, close):
    """Top-level arguments of the call whose '(' or '{' is at text[start-1].

    Each argument is returned as its text at nesting depth 0 only (nested
    calls, braces and brackets blanked), so literals inside tr(...) vanish.
    """
    args, current, depth, i = [], [], 0, start
    openers, closers = "([{", ")]}"
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if depth == 0:
                current.append(text[i:j + 1])
            i = j + 1
            continue
        if text.startswith('R"(', i):
            j = text.find(')"', i)
            if depth == 0:
                current.append('"' + text[i + 3:j] + '"')
            i = j + 2
            continue
        if c in openers:
            depth += 1
        elif c in closers:
            if depth == 0:
                args.append("".join(current))
                return args, i
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(current))
            current = []
        elif depth == 0:
            current.append(c)
        i += 1
    return args, i


def literal_with_words(arg):
    # A literal compared with (kind == "tick") is a value, not a message.
    arg = re.sub(r'(==|!=)\s*"(?:[^"\\]|\\.)*"|"(?:[^"\\]|\\.)*"\s*(==|!=)', " ", arg)
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', arg):
        if LETTER_RE.search(m.group(1).replace("\\n", "").replace("\\t", "")):
            return True
    return False


def is_code(arg):
    """A diagnostic code like "bad-value" (an id, not a message)."""
    return re.fullmatch(r'\s*"[a-z0-9-]+"\s*', arg) is not None


def findings(path, rel):
    with open(path, encoding="utf-8") as f:
        text = strip_comments(f.read())
    out = []
    for m in CALL_RE.finditer(text):
        name = m.group(1)
        args, _ = arguments(text, m.end(), ")")
        if not args:
            continue
        if name in MESSAGE_CALLS:
            message = args[0]
        else:
            if len(args) < 2 and name != "Error":
                continue
            message = args[-1]
            if is_code(message):
                continue
        if literal_with_words(message):
            out.append((text.count("\n", 0, m.start()) + 1, name))
    for m in REFUSAL_RE.finditer(text):
        args, _ = arguments(text, m.end(), "}")
        if len(args) >= 2 and literal_with_words(args[1]):
            out.append((text.count("\n", 0, m.start()) + 1, "Refusal"))
    lines = open(path, encoding="utf-8").read().split("\n")
    return [(rel, line, name, lines[line - 1].strip()) for line, name in sorted(set(out))]


SELF_TEST = r'''
void f(const std::string& id, DiagnosticSink& sink) {
  throw refused("the case is closed");                       // 3: reported
  throw not_found("no case '" + id + "'");                   // 4: reported
  throw usage_error(
      "a message on the next line");                         // 5: reported
  sink.error("bad-value", pos, "must be text");              // 7: reported
  error("bad-id", pos(node), where + " is not an id");       // 8: reported
  return Refusal{RefusalKind::kGuard, "does not hold"};      // 9: reported
  throw Error(ErrorKind::kStorage, "disk full");             // 10: reported
  throw refused(tr(msg::rules_case_closed));                 // fine
  throw not_found(tr(msg::store_no_case, {"x" + id}));       // fine: inside tr()
  sink.error("bad-value", pos, tr(msg::lang_empty));         // fine
  error(node, kind == "tick" ? tr(msg::a) : tr(msg::b));     // fine: a compared value
  throw refused(id + ": " + problem);                        // fine: no words
  // throw refused("in a comment");                          // fine
}
'''


def self_test():
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "engine", "src"))
        path = os.path.join(root, "engine", "src", "bad.cc")
        with open(path, "w", encoding="utf-8") as f:
            f.write(SELF_TEST)
        lines = [line for _, line, _, _ in findings(path, "engine/src/bad.cc")]
    expected = [3, 4, 5, 7, 8, 9, 10]
    if lines != expected:
        print("check-messages self-test: reported lines %s, expected %s" % (lines, expected))
        return 1
    print("check-messages self-test: every literal message found, nothing else")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    reports = []
    for folder in SCANNED:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith((".cc", ".h", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                reports += findings(path, os.path.relpath(path, root))
    used = [0] * len(ALLOWED)
    failed = []
    for rel, line, name, source in sorted(reports):
        allowed = False
        for k, (file, snippet, _) in enumerate(ALLOWED):
            if file == rel and (snippet == "*" or snippet in source):
                used[k] += 1
                allowed = True
                break
        if not allowed:
            failed.append("%s:%d: message written as a literal in %s(...): %s" % (rel, line, name, source))
    for k, (file, snippet, reason) in enumerate(ALLOWED):
        if used[k] == 0:
            failed.append("%s: allow-list entry matches nothing; remove it: %r (%s)" % (file, snippet, reason))
    for line in failed:
        print(line)
    allowed_total = sum(used)
    if failed:
        print("check-messages: %d problem(s); write messages as catalogue entries "
              "(SOPIR_MESSAGE in engine/include/sopir/messages/*.def, then tr(msg::name, {...}))" % len(failed))
        return 1
    print("check-messages: no message written as a literal (%d allowed by the list)" % allowed_total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
