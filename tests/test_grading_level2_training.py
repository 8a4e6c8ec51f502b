"""Grading proof of the level2_training exercises (see tests/grading_proofs.py)."""

ASSIGNMENT = "level2_training"

from grading_proofs import *  # noqa: E402,F401,F403  (the proof tests, run for ASSIGNMENT)
