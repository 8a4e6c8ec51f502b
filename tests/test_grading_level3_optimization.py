"""Grading proof of the level3_optimization exercises (see tests/grading_proofs.py)."""

ASSIGNMENT = "level3_optimization"

from grading_proofs import *  # noqa: E402,F401,F403  (the proof tests, run for ASSIGNMENT)
