"""The mock exam: item quality, per-learner variants, grading and reports, timed mode, nbgrader."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from ascend_compat import exam
from ascend_compat.errors import UserError
from ascend_compat.exam import session
from ascend_compat.exam.grading import _run_code
from ascend_compat.exam.paper import LETTERS

ROOT = Path(__file__).resolve().parents[1]


def test_bank_size_and_tags():
    assert len(exam.QUESTIONS) >= 60
    for q in exam.QUESTIONS.values():
        assert q.objective in exam.OBJECTIVES and q.level in (0, 1, 2, 3), q.id
    per_objective = Counter(q.objective for q in exam.QUESTIONS.values())
    assert set(per_objective) == set(exam.OBJECTIVES) and min(per_objective.values()) >= 8


@pytest.mark.parametrize("question", exam.CHOICES, ids=lambda q: q.id)
def test_choice_has_exactly_one_correct_answer(question):
    assert 2 <= len(question.options) <= len(LETTERS)
    assert len(set(question.options)) == len(question.options), "duplicate options make two answers correct"
    assert isinstance(question.answer, int) and 0 <= question.answer < len(question.options)


@pytest.mark.parametrize("question", exam.CODES, ids=lambda q: q.id)
def test_code_question_reference_passes_and_wrong_answers_fail(sim, question):
    question.check(_run_code(question.reference, question.function))
    assert len(question.wrong) >= 2
    for wrong in question.wrong:
        with pytest.raises(Exception):  # a failed check, or the wrong code crashing: both score 0
            question.check(_run_code(wrong, question.function))


def test_papers_are_deterministic_equivalent_and_different():
    learners = [f"learner{i}" for i in range(12)]
    papers = {name: exam.draw_paper(name) for name in learners}
    assert exam.draw_paper("learner3") == papers["learner3"], "the same learner always gets the same paper"
    shapes = {tuple((i.question.objective, i.question.kind) for i in p.items) for p in papers.values()}
    assert len(shapes) == 1, "every paper has the same structure (equivalent papers)"
    for a, b in itertools.combinations(learners, 2):
        assert papers[a] != papers[b], f"{a} and {b} got the same paper"
    letters = Counter(item.correct_letter() for p in papers.values() for item in p.items if item.question.kind == "choice")
    assert len(letters) == 4, "options are shuffled: the right answer is not always the same letter"


def test_bad_learner_ids():
    for bad in ("", "   ", None, "x" * 101):
        with pytest.raises(UserError, match="learner id"):
            exam.draw_paper(bad)


def test_grading_reference_blank_and_report(sim):
    full = exam.grade("alice", exam.reference_answers("alice"))
    assert (full.score, full.total) == (24, 24) and "PASS" in full.report()
    blank = exam.grade("alice", {})
    assert blank.score == 0 and "revise:" in blank.report()
    bob_key = exam.reference_answers("bob")
    mixed = exam.grade("alice", bob_key)  # someone else's answer key
    assert mixed.score < 24


def test_code_answers_from_notebook_functions(sim):
    paper = exam.draw_paper("carol")
    namespace = {}
    answers = {}
    for item in paper.items:
        q = item.question
        if q.kind == "code":
            exec(q.reference, namespace)
        else:
            answers[q.id] = item.correct_letter()
    assert exam.grade("carol", answers, namespace).score == 24


def test_report_links_lessons_that_exist():
    for title, lesson in exam.OBJECTIVES.values():
        assert (ROOT / lesson).is_file(), f"{title}: {lesson} does not exist"


def test_timed_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("ASCEND_LAB_HOME", str(tmp_path))
    first = session.start("dana", 30, now=1000.0)
    assert session.start("dana", 30, now=1500.0)["started_at"] == 1000.0, "restarting keeps the clock"
    on_time = session.submit("dana", 20, 24, now=1000.0 + 29 * 60)
    assert not on_time["late"] and on_time["score"] == 20 and first["minutes"] == 30
    with pytest.raises(UserError, match="already submitted"):
        session.submit("dana", 24, 24, now=3000.0)
    session.reset("dana")
    session.start("dana", 30, now=0.0)
    assert session.submit("dana", 24, 24, now=31 * 60)["late"]
    with pytest.raises(UserError, match="no exam was started"):
        session.submit("erin", 1, 24)
    with pytest.raises(UserError, match="minutes"):
        session.start("erin", -5)


def test_cli_start_and_submit(tmp_path, monkeypatch, capsys):
    from ascend_compat.cli import main

    monkeypatch.setenv("ASCEND_LAB_HOME", str(tmp_path / "home"))
    assert main(["exam", "start", "--learner", "frank", "--minutes", "45", "--out", str(tmp_path)]) == 0
    path = tmp_path / "exam_frank.ipynb"
    nb = nbformat.read(path, as_version=4)
    key = exam.reference_answers("frank")
    paper = exam.draw_paper("frank")
    answer_cells = [c for c in nb.cells if "exam-answers" in c.metadata.get("tags", [])]
    for cell, item in zip(answer_cells, paper.items):
        cell.source = key[item.question_id] if item.question.kind == "code" else f'answers["{item.question_id}"] = "{key[item.question_id]}"'
    nbformat.write(nb, path)
    assert main(["exam", "submit", str(path), "--json", str(tmp_path / "score.json")]) == 0
    assert "frank: 24/24" in capsys.readouterr().out
    assert main(["exam", "report", "--learner", "frank"]) == 0
    assert '"score": 24' in capsys.readouterr().out


@pytest.mark.slow
def test_nbgrader_grades_the_exam(tmp_path):
    from ascend_compat.grading.autograde import autograde_notebooks
    from tests.grading_helpers import fill_release

    def submission(name, learner, answers_source):
        return fill_release("exam", "mock_exam", {"learner_id": f'LEARNER_ID = "{learner}"', "exam_answers": answers_source},
                            tmp_path / name / "mock_exam.ipynb")

    key = exam.reference_answers("gina")
    choices_only = "\n".join(f'answers["{q}"] = "{a}"' for q, a in key.items() if len(a) == 1)
    all_a = "\n".join(f'answers["{i.question_id}"] = "A"' for i in exam.draw_paper("hank").items if i.question.kind == "choice")
    scores = autograde_notebooks("exam", {
        "blank": {"mock_exam.ipynb": ROOT / "exercises" / "exam" / "mock_exam.ipynb"},
        "solution": {"mock_exam.ipynb": submission("solution", "gina", "answers.update(exam.reference_answers(LEARNER_ID))")},
        "choices_only": {"mock_exam.ipynb": submission("choices_only", "gina", choices_only)},
        "always_a": {"mock_exam.ipynb": submission("always_a", "hank", all_a)},
    })
    assert scores["blank"].points == 0
    assert scores["solution"].points == scores["solution"].max_points == 24
    assert scores["choices_only"].points == 18, "code questions unanswered: 3 of 4 points per objective"
    assert 0 < scores["always_a"].points < 18
