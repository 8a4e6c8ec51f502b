"""The real nbgrader autograde scores the exercises: blank 0, solution full marks, wrong answers less.

All submissions of an assignment are graded in one nbgrader run (module-scoped fixture).
"""

from __future__ import annotations

import os

import pytest

from ascend_compat.errors import UserError
from ascend_compat.grading.autograde import autograde_notebooks
from grading_helpers import EXERCISES, ROOT, fill_release, solution_answer, wrong_answers

ASSIGNMENT, NOTEBOOK = "level0_inference", "ex01_pick_device"
FILENAME = f"{NOTEBOOK}.ipynb"
WRONG = wrong_answers(ASSIGNMENT, NOTEBOOK)


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    submissions = {
        "blank": {FILENAME: EXERCISES / ASSIGNMENT / FILENAME},
        "solved": {FILENAME: fill_release(ASSIGNMENT, NOTEBOOK, {
            "pick_device_answer": solution_answer(ASSIGNMENT, NOTEBOOK, "pick_device_answer")}, folder / "solved.ipynb")},
        "absent": {},  # registered, submitted nothing
    }
    for wrong in WRONG:
        submissions[wrong.name] = {FILENAME: fill_release(ASSIGNMENT, NOTEBOOK, {wrong.cell: wrong.source},
                                                          folder / f"{wrong.name}.ipynb")}
    before = set(os.listdir(ROOT))
    result = autograde_notebooks(ASSIGNMENT, submissions)
    assert set(os.listdir(ROOT)) == before, "autograding must not write into the repository"
    return result


def test_there_are_at_least_two_plausible_wrong_answers():
    assert len(WRONG) >= 2


def test_the_blank_exercise_scores_zero(scores):
    assert scores["blank"].max_points == 8
    assert scores["blank"].points == 0


def test_a_missing_notebook_scores_zero(scores):
    assert scores["absent"].points == 0 and scores["absent"].max_points == 8


def test_the_solution_scores_full_marks(scores):
    solved = scores["solved"].notebooks[FILENAME]
    assert [(c.grade_id, c.points, c.max_points) for c in solved.cells] == [
        ("pick_device_visible", 1, 1), ("pick_device_hidden", 3, 3),
        ("pick_device_override_visible", 1, 1), ("pick_device_override_hidden", 3, 3),
    ]


@pytest.mark.parametrize("wrong", WRONG, ids=lambda w: w.name)
def test_a_wrong_answer_loses_points_exactly_where_it_is_wrong(scores, wrong):
    notebook = scores[wrong.name].notebooks[FILENAME]
    assert notebook.points < notebook.max_points
    lost = {cell.grade_id for cell in notebook.cells if cell.points < cell.max_points}
    assert lost == wrong.fails, f"{wrong.path.name}: lost points in {sorted(lost)}, header says {sorted(wrong.fails)}"


def test_bad_submissions_are_refused_before_grading(tmp_path):
    with pytest.raises(UserError, match="not a notebook of level0_inference"):
        autograde_notebooks(ASSIGNMENT, {"alice": {"homework.ipynb": EXERCISES / ASSIGNMENT / FILENAME}})
    with pytest.raises(UserError, match="does not exist"):
        autograde_notebooks(ASSIGNMENT, {"alice": {FILENAME: tmp_path / "missing.ipynb"}})
    with pytest.raises(UserError, match="student id"):
        autograde_notebooks(ASSIGNMENT, {"../bob": {FILENAME: EXERCISES / ASSIGNMENT / FILENAME}})
