"""The grading proof every exercise gets: graded by the real ``nbgrader autograde``,

* the blank release scores 0 (and so does a notebook never submitted),
* the solution scores full marks in every graded cell,
* each plausible wrong answer in ``tests/wrong_answers/<assignment>/<notebook>/`` scores less, and
  loses points exactly in the cells its ``# fails:`` header names (the rest of the notebook holds
  the solution, so a test that fails for the wrong reason shows up),
* every exercise has at least two wrong answers,
* each correct answer in ``tests/right_answers/<assignment>/<notebook>/`` that differs from the
  solution (another valid API, another valid recipe) scores full marks too.

A test module per assignment sets ``ASSIGNMENT`` and star-imports this module, so each
assignment is graded in one nbgrader run and the assignments run in parallel under xdist.
The capstone and the exam have their own, richer proofs (partial credit per stage/objective).
"""

from __future__ import annotations

import os

import pytest

from grading_helpers import (EXERCISES, ROOT, exercise_notebooks, fill_release, graded_cells,
                             right_answers, solution_answers, wrong_answers)

__all__ = ["pytest_generate_tests", "scores", "test_every_exercise_has_two_wrong_answers",
           "test_the_blank_exercise_scores_zero", "test_a_missing_notebook_scores_zero",
           "test_the_solution_scores_full_marks", "test_a_wrong_answer_loses_points_exactly_where_it_is_wrong",
           "test_another_correct_answer_scores_full_marks"]


def _student(notebook: str, wrong: str) -> str:
    return f"{notebook}__{wrong}".replace(".", "_")


def pytest_generate_tests(metafunc):
    assignment = metafunc.module.ASSIGNMENT
    notebooks = exercise_notebooks(assignment)
    if "notebook" in metafunc.fixturenames:
        metafunc.parametrize("notebook", notebooks)
    if "wrong" in metafunc.fixturenames:
        cases = [(notebook, wrong) for notebook in notebooks for wrong in wrong_answers(assignment, notebook)]
        metafunc.parametrize("notebook_name,wrong", cases, ids=[f"{n}/{w.name}" for n, w in cases])
    if "right" in metafunc.fixturenames:
        cases = [(notebook, right) for notebook in notebooks for right in right_answers(assignment, notebook)]
        metafunc.parametrize("notebook_name,right", cases, ids=[f"{n}/{r.name}" for n, r in cases])


@pytest.fixture(scope="module")
def scores(request, tmp_path_factory):
    """Every submission of the assignment graded in one nbgrader autograde run."""
    from ascend_compat.grading.autograde import autograde_notebooks

    assignment = request.module.ASSIGNMENT
    folder = tmp_path_factory.mktemp(f"submissions-{assignment}")
    notebooks = exercise_notebooks(assignment)
    submissions = {"blank": {}, "solved": {}, "absent": {}}
    for notebook in notebooks:
        filename = f"{notebook}.ipynb"
        solved = solution_answers(assignment, notebook)
        submissions["blank"][filename] = EXERCISES / assignment / filename
        submissions["solved"][filename] = fill_release(assignment, notebook, solved, folder / "solved" / filename)
        for answer in wrong_answers(assignment, notebook) + right_answers(assignment, notebook):
            student = _student(notebook, answer.name)
            answers = dict(solved, **{answer.cell: answer.source})
            submissions[student] = {filename: fill_release(assignment, notebook, answers, folder / student / filename)}
    before = set(os.listdir(ROOT))
    result = autograde_notebooks(assignment, submissions)
    assert set(os.listdir(ROOT)) == before, "autograding must not write into the repository"
    return result


def test_every_exercise_has_two_wrong_answers(request, notebook):
    assert len(wrong_answers(request.module.ASSIGNMENT, notebook)) >= 2, (
        f"add at least two plausible wrong answers under tests/wrong_answers/{request.module.ASSIGNMENT}/{notebook}/")


def test_the_blank_exercise_scores_zero(scores, notebook):
    blank = scores["blank"].notebooks[f"{notebook}.ipynb"]
    assert blank.max_points > 0
    assert [(c.grade_id, c.points) for c in blank.cells if c.points] == []


def test_a_missing_notebook_scores_zero(scores, notebook):
    absent = scores["absent"].notebooks[f"{notebook}.ipynb"]
    assert absent.points == 0 and absent.max_points == scores["blank"].notebooks[f"{notebook}.ipynb"].max_points


def test_the_solution_scores_full_marks(request, scores, notebook):
    solved = scores["solved"].notebooks[f"{notebook}.ipynb"]
    assert solved.max_points > 0
    assert [c.grade_id for c in solved.cells] == graded_cells(request.module.ASSIGNMENT, notebook)
    assert [(c.grade_id, c.points, c.max_points) for c in solved.cells if c.points < c.max_points] == []


def test_a_wrong_answer_loses_points_exactly_where_it_is_wrong(scores, notebook_name, wrong):
    graded = scores[_student(notebook_name, wrong.name)].notebooks[f"{notebook_name}.ipynb"]
    assert graded.points < graded.max_points
    lost = {cell.grade_id for cell in graded.cells if cell.points < cell.max_points}
    assert lost == wrong.fails, f"{wrong.path.name}: lost points in {sorted(lost)}, header says {sorted(wrong.fails)}"


def test_another_correct_answer_scores_full_marks(scores, notebook_name, right):
    graded = scores[_student(notebook_name, right.name)].notebooks[f"{notebook_name}.ipynb"]
    lost = [(cell.grade_id, cell.points, cell.max_points) for cell in graded.cells if cell.points < cell.max_points]
    assert graded.max_points > 0 and lost == [], f"{right.path.name} is correct but lost points: {lost}"
