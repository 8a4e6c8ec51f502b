"""check() and hint(): instant feedback that agrees with the autograder, and cannot be fooled by a variable."""

from __future__ import annotations

import re

import pytest
import torch

from ascend_compat.errors import UserError
from ascend_compat.grading import check, hint, instant
from ascend_compat.grading.testing import expect_raises, pretend_machine
from grading_helpers import EXERCISES, SOLUTIONS, cell_source, run_cell_code, solution_answer, wrong_answers

ASSIGNMENT, NOTEBOOK = "level0_inference", "ex01_pick_device"
QUESTIONS = ("pick_device", "pick_device_override")


@pytest.fixture
def blank():
    return run_cell_code(cell_source(EXERCISES / ASSIGNMENT / f"{NOTEBOOK}.ipynb", "pick_device_answer"))


@pytest.fixture
def solved():
    return run_cell_code(solution_answer(ASSIGNMENT, NOTEBOOK, "pick_device_answer"))


@pytest.fixture(autouse=True)
def learner_home(tmp_path, monkeypatch):
    """check() records progress: into a throw-away home, not the tester's ~/.ascend_lab."""
    monkeypatch.setenv("ASCEND_LAB_HOME", str(tmp_path / "home"))


@pytest.fixture(autouse=True)
def folded_hints():
    instant.reset_hints()
    yield
    instant.reset_hints()


@pytest.mark.parametrize("question", QUESTIONS)
def test_blank_answer_fails_every_visible_test_and_says_why(blank, question, capsys):
    report = instant.run_visible_tests(question, blank)
    assert report.outcomes and not any(o.passed for o in report.outcomes)
    assert all("NotImplementedError" in o.message for o in report.outcomes)
    check(question, namespace=blank)
    out = capsys.readouterr().out
    assert f"{question}: 0 of {len(report.outcomes)} visible tests pass" in out
    assert f'hint("{question}")' in out
    with pytest.raises(AssertionError, match=f"visible test\\(s\\) of {question} fail"):
        check(question, must_pass=True, namespace=blank)


@pytest.mark.parametrize("question", QUESTIONS)
def test_solution_passes_every_visible_test(solved, question, capsys):
    assert instant.run_visible_tests(question, solved).passed
    check(question, must_pass=True, namespace=solved)
    assert "All visible tests pass" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", wrong_answers(ASSIGNMENT, NOTEBOOK), ids=lambda w: w.name)
def test_check_agrees_with_the_graded_visible_cells(wrong):
    # The header of each wrong answer lists the graded cells it fails (proven by nbgrader in
    # test_grading_autograde); check() must fail exactly the visible ones among them.
    namespace = run_cell_code(wrong.source)
    for question in QUESTIONS:
        expected_to_fail = f"{question}_visible" in wrong.fails
        assert instant.run_visible_tests(question, namespace).passed is not expected_to_fail, question


def test_check_looks_up_the_learners_function_in_the_calling_notebook(solved, capsys):
    notebook_globals = dict(solved, check=check)
    exec("check('pick_device')", notebook_globals)
    assert "3 of 3 visible tests pass" in capsys.readouterr().out
    exec("check('pick_device')", {"check": check})
    assert "pick_device is not defined yet" in capsys.readouterr().out


def test_setting_a_variable_cannot_pass_a_check(capsys):
    # Tests call the learner's function; a variable holding the "right" value is not enough.
    fake = {"pick_device": torch.device("npu"), "result": torch.device("npu")}
    assert not instant.run_visible_tests("pick_device", fake).passed


def test_hints_unfold_one_at_a_time_then_repeat_the_last(capsys):
    hints = instant.find_question("pick_device").hints["pick_device"]
    assert len(hints) >= 2
    for number in range(1, len(hints) + 2):
        hint("pick_device")
        shown = min(number, len(hints))
        out = capsys.readouterr().out
        assert f"hint {shown} of {len(hints)}" in out and hints[shown - 1] in out
    assert "that was the last hint" in out
    hint("pick_device_override")
    assert "hint 1 of" in capsys.readouterr().out, "each question has its own hint counter"


def test_unknown_question_is_one_clear_error():
    with pytest.raises(UserError, match="there is no question 'q99'; the questions with checks are: .*pick_device"):
        check("q99")


def test_question_ids_are_unique_across_the_course():
    seen = {}
    for exercise in instant.exercises().values():
        for question in exercise.questions:
            assert question not in seen, f"{question} is in {seen.get(question)} and {exercise.name}"
            seen[question] = exercise.name


def test_every_check_in_a_source_notebook_exists_and_graded_visible_cells_use_must_pass():
    import nbformat

    known = {q for exercise in instant.exercises().values() for q in exercise.questions}
    for path in SOLUTIONS.rglob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for question in re.findall(r"""(?:check|hint)\(["']([^"']+)["']""", cell.source):
                assert question in known, f"{path.name} uses unknown question {question!r}"
            meta = cell.metadata.get("nbgrader", {})
            partial_credit = cell.source.startswith("exam.objective_points(")  # the exam: points as the cell's value
            if meta.get("grade") and "BEGIN HIDDEN TESTS" not in cell.source and not partial_credit:
                assert "must_pass=True" in cell.source, f"{path.name}:{meta['grade_id']} does not fail on failure"


@pytest.mark.parametrize("npu", [True, False, None])
@pytest.mark.parametrize("cuda", [True, False])
def test_pretend_machine_reports_the_requested_devices_and_restores_torch(npu, cuda):
    had_npu = hasattr(torch, "npu")
    real_npu = torch.npu.is_available() if had_npu else None
    real_cuda = torch.cuda.is_available()
    with pretend_machine(npu=npu, cuda=cuda):
        assert torch.cuda.is_available() is cuda
        if npu is None:
            assert not hasattr(torch, "npu")
        else:
            assert torch.npu.is_available() is npu
    assert hasattr(torch, "npu") == had_npu and torch.cuda.is_available() == real_cuda
    if had_npu:
        assert torch.npu.is_available() == real_npu


def test_pretend_machine_restores_torch_when_the_code_raises():
    had_npu = hasattr(torch, "npu")
    with pytest.raises(ZeroDivisionError):
        with pretend_machine(npu=None, cuda=True):
            1 / 0
    assert hasattr(torch, "npu") == had_npu


def test_expect_raises_explains_what_happened_instead():
    assert isinstance(expect_raises(ValueError, lambda: int("x"), "int('x')"), ValueError)
    with pytest.raises(AssertionError, match=r"int\('1'\) returned 1; expected it to raise ValueError"):
        expect_raises(ValueError, lambda: int("1"), "int('1')")
    with pytest.raises(AssertionError, match="raised KeyError"):
        expect_raises(ValueError, lambda: {}["k"], "lookup")
