#!/usr/bin/env python3
"""Fails when a file of the project still holds a merge's conflict markers.

A merge that stopped on a conflict leaves `<<<<<<< ours` and `>>>>>>> theirs`
lines around both sides. In code the compiler finds them; in docs, YAML
comments and test data nothing else does (docs/CLI.md once carried two
conflicts through a full CI run). This reports every line that begins with
seven `<` or seven `>` followed by a space or the line's end, in the files
git tracks below ROOT (in a checkout), or else in every file below it but the
build trees, hidden folders and the fuzzers' corpora.
Usage: scripts/check-conflict-markers.py [ROOT]; --self-test checks the check.
Exit status 0 when clean, 1 otherwise.
"""
import os
import re
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^(<{7}|>{7})( |$)")


def skipped(name):
    return name.startswith(".") or name.startswith("build") or name.startswith("corpus-")


def files_below(root, use_git):
    """The files to read, relative to root, in order."""
    try:
        if not use_git:
            raise OSError("walk the folder")
        listed = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, check=True)
        return sorted(name for name in listed.stdout.decode("utf-8").split("\0") if name)
    except (OSError, subprocess.CalledProcessError):
        pass  # not a checkout (a source package), or no git
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not skipped(d)]
        out += [os.path.relpath(os.path.join(folder, name), root) for name in files]
    return sorted(out)


def markers(root, use_git=True):
    """(path relative to root, line number, line) of every marker line."""
    found = []
    for name in files_below(root, use_git):
        try:
            with open(os.path.join(root, name), encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if MARKER.match(line):
                        found.append((name, number, line.rstrip("\n")))
        except (UnicodeDecodeError, OSError):
            continue  # not text (a marker there would not be a merge's), or gone
    return found


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "docs"))
        os.makedirs(os.path.join(root, "build-asan"))
        with open(os.path.join(root, "docs", "CLI.md"), "w") as f:
            f.write("| 1 | done |\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> help-a\n")
        with open(os.path.join(root, "docs", "fine.md"), "w") as f:
            f.write("Title\n=======\n<<<<<<<< eight is not a marker\n> quoted >>>>>>> text\n")
        with open(os.path.join(root, "build-asan", "log.txt"), "w") as f:
            f.write("<<<<<<< HEAD\n")
        got = markers(root, use_git=False)
        want = [("docs/CLI.md", 2, "<<<<<<< HEAD"), ("docs/CLI.md", 6, ">>>>>>> help-a")]
        if got != want:
            print("check-conflict-markers self-test: expected %r, got %r" % (want, got))
            return 1
    print("check-conflict-markers self-test: ok")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    found = markers(root)
    for path, number, line in found:
        print("%s:%d: a merge's conflict marker: %s (keep one side, or both, and delete the markers)"
              % (path, number, line))
    if found:
        return 1
    print("check-conflict-markers: no conflict markers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
