"""``ascend-lab grade`` on a learner's own edited copy: scores per test, feedback page, progress."""

from __future__ import annotations

import hashlib

import pytest

from ascend_compat import cli
from ascend_compat.grading import progress
from test_grading_redteam import ASSIGNMENT, NOTEBOOK, Kit, _tree_digest
from grading_helpers import SOLUTIONS


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("learner")
    home, copy = root / "home", root / "my-work" / f"{NOTEBOOK}.ipynb"
    copy.parent.mkdir()
    kit = Kit()
    import nbformat

    nbformat.write(kit.answer(kit.release(), kit.wrong), copy)
    before = (hashlib.sha256(copy.read_bytes()).hexdigest(), _tree_digest(SOLUTIONS / ASSIGNMENT))
    mp = pytest.MonkeyPatch()
    mp.setenv("ASCEND_LAB_HOME", str(home))
    try:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(["grade", str(copy)])
        state = progress.load()
    finally:
        mp.undo()
    after = (hashlib.sha256(copy.read_bytes()).hexdigest(), _tree_digest(SOLUTIONS / ASSIGNMENT))
    return code, out.getvalue(), state, home, before, after


def test_grade_prints_a_score_per_test(graded):
    code, text, *_ = graded
    assert code == 0
    assert f"{ASSIGNMENT} / {NOTEBOOK}.ipynb: 5 / 8" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  pick_device")}
    assert "3 / 3" in lines["pick_device_hidden"] and "0 / 3" in lines["pick_device_override_hidden"]
    assert "failed" in lines["pick_device_override_hidden"] and "failed" not in lines["pick_device_visible"]


def test_grade_writes_nbgraders_feedback_page_in_the_learners_folder(graded):
    _, text, _, home, *_ = graded
    page = home / "feedback" / ASSIGNMENT / f"{NOTEBOOK}.html"
    assert f"feedback: {page}" in text
    html = page.read_text()
    assert "pick_device_override_hidden" in html and "5.0" in html


def test_grade_records_the_score_for_the_dashboard(graded):
    _, _, state, *_ = graded
    record = state["exercises"][NOTEBOOK]["graded"]
    assert (record["points"], record["max_points"], record["assignment"]) == (5.0, 8.0, ASSIGNMENT)


def test_grade_changes_neither_the_copy_nor_solutions(graded):
    *_, before, after = graded
    assert before == after


@pytest.mark.parametrize("args,message", [
    (["grade", "level9"], "neither a level"),
    (["grade", "README.md"], "not a notebook"),
])
def test_bad_targets_are_one_clear_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ASCEND_LAB_HOME", str(tmp_path))
    monkeypatch.chdir(progress.__file__.rsplit("/ascend_compat/", 1)[0])
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_renamed_copy_says_how_to_name_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ASCEND_LAB_HOME", str(tmp_path))
    renamed = tmp_path / "my answer.ipynb"
    renamed.write_text("{}")
    assert cli.main(["grade", str(renamed)]) == 2
    assert "original file name" in capsys.readouterr().err
