#!/usr/bin/env python3
"""The editor schema (workflows/sop.schema.json) accepts every shipped procedure and the
annotated example in workflows/README.md, and rejects typical mistakes.

Needs the Debian packages python3-yaml and python3-jsonschema (scripts/deps.sh --test).
The engine's loader remains the authority; this keeps the schema in step with the files.
"""
import copy
import json
import os
import pathlib
import re
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # a clear failure, not a silent skip
    sys.exit("test_workflow_schema: %s; install python3-yaml and python3-jsonschema "
             "(bash scripts/deps.sh --test)" % e)

SOURCE = pathlib.Path(os.environ.get("SOPIR_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
WORKFLOWS = SOURCE / "workflows"


class Yaml12Loader(yaml.SafeLoader):
    """Reads dates as text, as yaml-cpp and the VS Code YAML extension do."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text):
    return yaml.load(text, Loader=Yaml12Loader)


def errors(validator, doc):
    return ["%s at /%s" % (e.message, "/".join(map(str, e.absolute_path)))
            for e in validator.iter_errors(doc)]


def main():
    failures = []
    schema = json.loads((WORKFLOWS / "sop.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)

    documents = {}
    procedures = sorted(p for p in WORKFLOWS.glob("*.yaml") if not p.name.endswith(".test.yaml"))
    if len(procedures) < 3:
        failures.append("expected at least 3 procedures in %s, found %d" % (WORKFLOWS, len(procedures)))
    for path in procedures:
        documents[path.name] = load_yaml(path.read_text())
    readme = (WORKFLOWS / "README.md").read_text()
    example = re.search(r"<!-- example-procedure -->\n```yaml\n(.*?)```", readme, re.S)
    if not example:
        failures.append("README.md: no ```yaml block after <!-- example-procedure -->")
    else:
        documents["README.md example"] = load_yaml(example.group(1))

    # Tracks (`opens:` a list) in the test data validate too.
    tracks = sorted(p for p in (WORKFLOWS.parent / "tests" / "data" / "tracks").glob("*.yaml")
                    if not p.name.endswith(".test.yaml"))
    if len(tracks) < 5:
        failures.append("expected the 5 tracks test procedures in tests/data/tracks, found %d" % len(tracks))
    for path in tracks:
        documents["tests/data/tracks/" + path.name] = load_yaml(path.read_text())
    # Case-level clocks (`clocks:`) in the test data validate too.
    clocks_file = WORKFLOWS.parent / "tests" / "data" / "clocks" / "shelter-stay.yaml"
    documents["tests/data/clocks/shelter-stay.yaml"] = load_yaml(clocks_file.read_text())

    for name, doc in documents.items():
        for message in errors(validator, doc):
            failures.append("%s: %s" % (name, message))

    # Every test file names a procedure that exists next to it.
    for path in sorted(WORKFLOWS.glob("*.test.yaml")):
        test = load_yaml(path.read_text())
        target = WORKFLOWS / str(test.get("procedure", ""))
        if not target.is_file():
            failures.append("%s: procedure %r not found" % (path.name, test.get("procedure")))

    # The schema must catch typical mistakes (so that this test can fail).
    base = documents.get("aid-distribution.yaml")
    mistakes = {
        "bad procedure id": lambda d: d.__setitem__("sop", "Aid Distribution"),
        "bad duration": lambda d: d["states"]["requested"].__setitem__("deadline", "2 dayz"),
        "working days misspelt": lambda d: d["states"]["requested"].__setitem__("deadline", "3 workin days"),
        "anchor not a field id": lambda d: d["states"]["requested"].__setitem__("deadline", "90 days from Returned"),
        "calendar not a name": lambda d: d.__setitem__("calendar", {"name": "indonesia"}),
        "enum without values": lambda d: d["fields"]["item"].pop("values"),
        "unknown field type": lambda d: d["fields"]["item"].__setitem__("type", "text"),
        "unknown transition key": lambda d: d["transitions"][0].__setitem__("rolse", ["supervisor"]),
        "unknown state key": lambda d: d["states"]["requested"].__setitem__("deadlin", "2d"),
        "unknown top-level key": lambda d: d.__setitem__("stats", {}),
        "bad reason": lambda d: d["transitions"][0].__setitem__("reason", "maybe"),
        "empty roles": lambda d: d["transitions"][0].__setitem__("roles", []),
        "text not a string": lambda d: d.__setitem__("title", {"en": 1}),
        "pattern on an int": lambda d: d["fields"]["quantity_requested"].__setitem__("pattern", "[0-9]+"),
        "values on a string": lambda d: d["fields"]["shelter_name"].__setitem__("values", ["a"]),
        "missing version": lambda d: d.pop("version"),
        "version 0": lambda d: d.__setitem__("version", 0),
        "bad from": lambda d: d["transitions"][0].__setitem__("from", "**"),
        "set without values": lambda d: d["fields"]["item"].update(type="set") or d["fields"]["item"].pop("values"),
        "label in an unknown language": lambda d: d["fields"]["item"].__setitem__("label", {"en": "Item", "in": "Barang"}),
        "value label with a stray key": lambda d: d["fields"]["item"]["values"].__setitem__(
            0, {"id": d["fields"]["item"]["values"][0], "labl": {"en": "x"}}),
        "value label not a text": lambda d: d["fields"]["item"]["values"].__setitem__(
            0, {"id": d["fields"]["item"]["values"][0], "label": {"en": 3}}),
        "bounds on a set": lambda d: d["fields"]["item"].update(type="set", min=1),
        "a migrate: section in a list without from": lambda d: d.__setitem__("migrate", [d["migrate"], {"drop": []}]),
        "an unknown key in a migrate: section in a list": lambda d: d.__setitem__(
            "migrate", [d["migrate"], {"from": 1, "stats": {}}]),
        "an empty migrate: list": lambda d: d.__setitem__("migrate", []),
    }
    # New forms the schema must accept.
    accepted = {
        "a set with labelled values": lambda d: d["fields"]["item"].update(
            type="set", values=[{"id": "rice", "label": {"en": "Rice", "id": "Beras"}}, "oil"]),
        "migrate: as a list of sections": lambda d: d.__setitem__("migrate", [d["migrate"], {"from": 1, "drop": []}]),
    }
    tracks_base = documents.get("tests/data/tracks/victim-care.yaml")
    track_mistakes = {
        "opens an empty list": lambda d: d["transitions"][0].__setitem__("opens", []),
        "a track without sop": lambda d: d["transitions"][0]["opens"][1].pop("sop"),
        "a track as a bare name": lambda d: d["transitions"][0]["opens"].append("tracing-track"),
    }
    clocks_base = documents.get("tests/data/clocks/shelter-stay.yaml")
    clock_mistakes = {
        "a clock without limit": lambda d: d["clocks"]["stay"].pop("limit"),
        "a clock without start": lambda d: d["clocks"]["stay"].pop("start"),
        "a clock limit that is not a duration": lambda d: d["clocks"]["stay"].update(limit="a month"),
        "an unknown key in a clock": lambda d: d["clocks"]["stay"].update(stopp="return_plan"),
        "a clock id with capitals": lambda d: d["clocks"].__setitem__("Stay", d["clocks"]["stay"]),
    }
    # The HTCDS mapping of the shipped victim care procedure.
    htcds_base = documents.get("tppo-victim-care.yaml")
    htcds_mistakes = {
        "a standard misspelt": lambda d: d["standards"].__setitem__("htcd", d["standards"].pop("htcds")),
        "an HTCDS field without prefix": lambda d: d["standards"]["htcds"]["fields"].update(sex="Gender"),
        "a case status outside the standard": lambda d: d["standards"]["htcds"]["case_status"]["states"].update(
            reintegration="Open"),
        "an unknown key in the mapping": lambda d: d["standards"]["htcds"].update(value={}),
    }
    if htcds_base is None or "standards" not in htcds_base:
        failures.append("tppo-victim-care.yaml: no standards: htcds: block")
    else:
        for name, mutate in htcds_mistakes.items():
            doc = copy.deepcopy(htcds_base)
            mutate(doc)
            if not errors(validator, doc):
                failures.append("schema accepted a mistake: %s" % name)
    for name, mutate in clock_mistakes.items():
        doc = copy.deepcopy(clocks_base)
        mutate(doc)
        if not errors(validator, doc):
            failures.append("schema accepted a mistake: %s" % name)
    if tracks_base is not None:
        for name, mutate in track_mistakes.items():
            doc = copy.deepcopy(tracks_base)
            mutate(doc)
            if not errors(validator, doc):
                failures.append("schema accepted a mistake: %s" % name)
        mistakes.update(track_mistakes)
    if base is not None:
        for name, mutate in mistakes.items():
            if name in track_mistakes:
                continue
            doc = copy.deepcopy(base)
            mutate(doc)
            if not errors(validator, doc):
                failures.append("schema accepted a mistake: %s" % name)
        for name, mutate in accepted.items():
            doc = copy.deepcopy(base)
            mutate(doc)
            for message in errors(validator, doc):
                failures.append("schema refused %s: %s" % (name, message))

    for f in failures:
        print("FAIL", f)
    print("%d document(s) checked, %d mistake(s) tried, %d failure(s)"
          % (len(documents), len(mistakes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
