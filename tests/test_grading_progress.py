"""The progress dashboard: states from the learner's copy and recorded checks/grades, its views, its file."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest

from ascend_compat.errors import UserError
from ascend_compat.grading import progress
from ascend_compat.grading.instant import check, run_visible_tests
from grading_helpers import EXERCISES, run_cell_code, solution_answer, wrong_answers

ASSIGNMENT, NOTEBOOK = "level0_inference", "ex01_pick_device"


@pytest.fixture
def learner(tmp_path, monkeypatch):
    """A learner's home (progress file) and a copy of exercises/ they work in."""
    monkeypatch.setenv("ASCEND_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("ASCEND_LAB_SANDBOX", raising=False)
    copy = tmp_path / "exercises"
    shutil.copytree(EXERCISES, copy)
    return copy


def _row(copy, name=NOTEBOOK):
    (row,) = [r for r in progress.collect(ASSIGNMENT, exercises_dir=copy) if r.exercise == name]
    return row


def _type_answer(path, source):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "pick_device_answer":
            cell.source = source
    nbformat.write(nb, path)


def test_the_checksum_is_nbgraders():
    from nbgrader.utils import compute_checksum, is_grade, is_solution, is_locked

    compared = 0
    for path in EXERCISES.rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if is_grade(cell) or is_solution(cell) or is_locked(cell):
                assert progress.cell_checksum(cell) == compute_checksum(cell), f"{path.name}: {cell.metadata}"
                compared += 1
    assert compared > 10


def test_the_states_follow_the_copy_and_the_records(learner):
    path = learner / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert _row(learner).state == progress.NOT_STARTED

    wrong = next(w for w in wrong_answers(ASSIGNMENT, NOTEBOOK) if w.name == "returns_a_string").source
    _type_answer(path, wrong)
    assert _row(learner).state == progress.IN_PROGRESS

    check("pick_device", namespace=run_cell_code(wrong))
    check("pick_device_override", namespace=run_cell_code(wrong))
    row = _row(learner)
    assert row.state == progress.IN_PROGRESS and list(row.questions.values()).count(True) < 2

    solved = solution_answer(ASSIGNMENT, NOTEBOOK, "pick_device_answer")
    _type_answer(path, solved)
    for question in ("pick_device", "pick_device_override"):
        assert run_visible_tests(question, run_cell_code(solved)).passed
        check(question, namespace=run_cell_code(solved))
    row = _row(learner)
    assert row.state == progress.PASSING and row.visible == "2 of 2 questions pass" and row.score == "-"

    progress.record_grade(NOTEBOOK, ASSIGNMENT, 8.0, 8.0, {"pick_device_visible": (1.0, 1.0)},
                          digest=progress.file_digest(path))
    row = _row(learner)
    assert (row.state, row.score) == (progress.GRADED, "8 / 8")

    _type_answer(path, solved + "\n# edited after grading\n")
    row = _row(learner)
    assert (row.state, row.score) == (progress.PASSING, "8 / 8"), "an edited copy is no longer the graded one"


def test_check_records_nothing_inside_the_autograder(learner, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    check("pick_device", namespace=run_cell_code(solution_answer(ASSIGNMENT, NOTEBOOK, "pick_device_answer")))
    assert not progress.state_path().exists()


def test_summary_and_widget_show_every_exercise_and_the_overall_figure(learner, monkeypatch):
    monkeypatch.setattr(progress, "collect", lambda level=None, exercises_dir=None, _real=progress.collect:
                        _real(level, exercises_dir=learner))
    progress.record_grade(NOTEBOOK, ASSIGNMENT, 5.0, 8.0, {}, flagged=True)
    text = progress.summary()
    exercises = sorted(p.stem for p in learner.rglob("*.ipynb"))
    assert all(name in text for name in exercises)
    assert "graded: 5 / 8 points" in text and "5 / 8 (flagged)" in text

    box = progress.widget(0)
    title, bar, table, refresh = box.children
    assert bar.value == pytest.approx(5 / 8)
    assert "ex01_pick_device" in table.value and "5 / 8" in table.value and "ex01_dynamic_batch_export" not in table.value
    progress.record_grade(NOTEBOOK, ASSIGNMENT, 8.0, 8.0, {})
    refresh.click()
    assert bar.value == 1.0 and "8 / 8 points graded" in title.value


def test_a_level_that_does_not_exist_is_one_clear_error(learner):
    with pytest.raises(UserError, match="no level 'level9'"):
        progress.collect("level9", exercises_dir=learner)


def test_a_damaged_state_file_is_reported_and_set_aside(learner):
    progress.state_path().parent.mkdir(parents=True)
    progress.state_path().write_text("{not json")
    with pytest.raises(UserError, match="is damaged"):
        progress.load()
    progress.record_check(NOTEBOOK, "pick_device", True)  # a check() must still work
    assert json.loads(progress.state_path().read_text())["exercises"][NOTEBOOK]["checks"]["pick_device"]["passed"]
    assert list(progress.state_path().parent.glob("progress.damaged-*.json"))


def test_the_state_lives_in_the_learners_folder_not_the_repository(learner, tmp_path):
    progress.record_check(NOTEBOOK, "pick_device", False)
    assert progress.state_path() == tmp_path / "home" / "progress.json"
    assert progress.state_path().is_file()
