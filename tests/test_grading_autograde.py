"""The autograder refuses bad submissions before grading anything.

What it scores is proved per assignment in tests/test_grading_<assignment>.py (tests/grading_proofs.py).
"""

from __future__ import annotations

import pytest

from ascend_compat.errors import UserError
from ascend_compat.grading.autograde import autograde_notebooks
from grading_helpers import EXERCISES

ASSIGNMENT, FILENAME = "level0_inference", "ex01_pick_device.ipynb"


def test_bad_submissions_are_refused_before_grading(tmp_path):
    with pytest.raises(UserError, match="not a notebook of level0_inference"):
        autograde_notebooks(ASSIGNMENT, {"alice": {"homework.ipynb": EXERCISES / ASSIGNMENT / FILENAME}})
    with pytest.raises(UserError, match="does not exist"):
        autograde_notebooks(ASSIGNMENT, {"alice": {FILENAME: tmp_path / "missing.ipynb"}})
    with pytest.raises(UserError, match="student id"):
        autograde_notebooks(ASSIGNMENT, {"../bob": {FILENAME: EXERCISES / ASSIGNMENT / FILENAME}})
