"""Grading proof of the level0_inference exercises (see tests/grading_proofs.py)."""

ASSIGNMENT = "level0_inference"

from grading_proofs import *  # noqa: E402,F401,F403  (the proof tests, run for ASSIGNMENT)
