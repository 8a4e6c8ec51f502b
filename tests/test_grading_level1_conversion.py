"""Grading proof of the level1_conversion exercises (see tests/grading_proofs.py)."""

ASSIGNMENT = "level1_conversion"

from grading_proofs import *  # noqa: E402,F401,F403  (the proof tests, run for ASSIGNMENT)
