#!/usr/bin/env python3
"""Tracks through the CLI: one step of a victim-care case opens four tracks
(medical, psychosocial, legal, tracing) in one transaction; the parent moves
on only when its join holds (all tracks closed, the medical track's outcome);
a missing track procedure refuses the step and leaves the database as it
was; `audit verify` replays the joins."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sopir_e2e import SopirTest, main  # noqa: E402

TRACKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tracks")
STAFF = [("rina", "case_manager"), ("nia", "nurse"), ("kiki", "counsellor"), ("lala", "lawyer"),
         ("tari", "tracer")]
TRACK_SOPS = ["medical-track", "psychosocial-track", "legal-track", "tracing-track"]


class Tracks(SopirTest):
    def setUp(self):
        super().setUp()
        for who, role in STAFF:
            self.ok("--as", "admin", "staff", "add", who, "--name", who.title() + " Contoh", "--role", role)

    def publish_all(self, skip=None):
        for sop in TRACK_SOPS + ["victim-care"]:
            if sop != skip:
                self.ok("--as", "admin", "sop", "publish", os.path.join(TRACKS, sop + ".yaml"))

    def open_parent(self):
        return self.ok("--as", "rina", "case", "open", "victim-care", "--set", "full_name=Wati Contoh",
                       "--set", "age=24").out.strip()

    def start(self, parent):
        doc = self.ok("--as", "rina", "case", "advance", parent, "start_services", "--json").json()
        self.assertEqual([o["sop"] for o in doc["opened"]], TRACK_SOPS, doc)
        self.assertEqual([o["seq"] for o in doc["opened"]], [doc["seq"] + k for k in range(1, 5)], doc)
        return {o["sop"]: o["case"] for o in doc["opened"]}

    def test_four_tracks_open_in_one_step_and_the_join_waits_for_all(self):
        self.publish_all()
        parent = self.open_parent()
        out = self.ok("--as", "rina", "case", "advance", parent, "start_services").out
        lines = out.strip().splitlines()
        self.assertEqual(len(lines), 5, out)
        for line, sop in zip(lines[1:], TRACK_SOPS):
            self.assertRegex(line, r"^Opened case [0-9A-Z]{3}-[0-9A-Z]{3} \(%s, " % sop)
        tracks = {sop: line.split()[2] for line, sop in zip(lines[1:], TRACK_SOPS)}
        # Each track is its own case with its own staff and history.
        self.ok("--as", "nia", "case", "advance", tracks["medical-track"], "declare_fit")
        self.ok("--as", "kiki", "case", "advance", tracks["psychosocial-track"], "finish")
        self.ok("--as", "lala", "case", "advance", tracks["legal-track"], "report_to_police")
        r = self.refused_unchanged(1, "--as", "rina", "case", "advance", parent, "plan_return")
        self.assertIn("all_tracks_closed() is false (open: legal-track %s (reported), tracing-track %s (working))"
                      % (tracks["legal-track"], tracks["tracing-track"]), r.err)
        self.ok("--as", "lala", "case", "advance", tracks["legal-track"], "finish")
        self.ok("--as", "tari", "case", "advance", tracks["tracing-track"], "finish")
        self.ok("--as", "rina", "case", "advance", parent, "plan_return")
        self.ok("--as", "rina", "case", "advance", parent, "return_home")
        # The log replays with the joins as they were at each step.
        self.ok("--as", "admin", "audit", "verify")

    def test_the_outcome_of_a_named_track_is_part_of_the_join(self):
        self.publish_all()
        parent = self.open_parent()
        tracks = self.start(parent)
        self.ok("--as", "nia", "case", "advance", tracks["medical-track"], "refer_hospital")
        for sop, who in [("psychosocial-track", "kiki"), ("legal-track", "lala"), ("tracing-track", "tari")]:
            self.ok("--as", who, "case", "advance", tracks[sop], "finish")
        r = self.refused_unchanged(1, "--as", "rina", "case", "advance", parent, "plan_return")
        self.assertIn("track_outcome('medical-track') == 'fit' is false "
                      "(track_outcome('medical-track') = referred_to_hospital)", r.err)
        self.ok("--as", "admin", "audit", "verify")

    def test_a_refused_track_refuses_the_whole_step(self):
        self.publish_all()
        # Without an age the legal track cannot open (its open: requires it):
        # none of the four tracks opens and the parent stays where it was.
        parent = self.ok("--as", "rina", "case", "open", "victim-care", "--set", "full_name=Wati Contoh").out.strip()
        r = self.refused_unchanged(1, "--as", "rina", "case", "advance", parent, "start_services")
        self.assertIn("the hand-off to 'legal-track' was refused", r.err)
        self.assertEqual(self.ok("--as", "rina", "case", "list", "--linked-to", parent).out.strip(), "No cases.")

    def test_diagrams_draw_the_tracks_beside_their_parent(self):
        out = self.ok("sop", "diagram", os.path.join(TRACKS, "victim-care.yaml")).out
        for k, sop in enumerate(TRACK_SOPS):
            self.assertIn('  state "opens %s" as t%d\n' % (sop, k), out)
            self.assertIn("  s1 --> t%d : start_services\n" % k, out)
        dot = self.ok("sop", "diagram", "--format", "dot", os.path.join(TRACKS, "victim-care.yaml")).out
        self.assertIn('  t2 [label="legal-track", shape=component, style=dashed];', dot)
        self.assertIn('  s1 -> t2 [label="opens (start_services)", style=dashed];', dot)

    def test_scenarios_follow_the_tracks(self):
        r = self.ok("sop", "test", os.path.join(TRACKS, "victim-care.test.yaml"))
        self.assertIn("3 scenario(s): 3 passed, 0 failed", r.out)
        self.assertIn("coverage: 6/7 (85.7%)", r.out)


if __name__ == "__main__":
    main()
