"""The mock certification exam: a question bank, per-learner papers, timed mode, grading, reports.

In a notebook::

    from ascend_compat import exam
    exam.show_paper("alice")                 # the questions of alice's paper
    answers = {"stack-03": "B", ...}         # letters for multiple choice; functions for code questions
    print(exam.grade("alice", answers, globals()).report())

``ascend-lab exam start|submit|report`` does the same from a terminal, with the timed mode.
"""

from __future__ import annotations

import importlib

from ascend_compat.exam.bank import CHOICES, CODES, QUESTIONS
from ascend_compat.exam.grading import PASS_MARK, Result
from ascend_compat.exam.grading import grade as _grade
from ascend_compat.exam.objectives import OBJECTIVES
from ascend_compat.exam.paper import Paper, draw_paper

__all__ = ["CHOICES", "CODES", "QUESTIONS", "OBJECTIVES", "PASS_MARK", "Paper", "Result", "draw_paper", "grade",
           "show_paper", "objective_points", "reference_answers"]


def _collect(paper: Paper, answers: dict, namespace: dict | None) -> dict:
    """Code answers may be functions defined in the notebook: turn them into their source."""
    import inspect

    collected = dict(answers or {})
    for item in paper.items:
        question = item.question
        if question.kind == "code" and not isinstance(collected.get(question.id), str) and namespace:
            fn = namespace.get(question.function)
            if callable(fn):
                try:
                    collected[question.id] = inspect.getsource(fn)
                except (OSError, TypeError):  # defined by exec(): grade the function object itself
                    collected[question.id] = fn
    return collected


def grade(learner_id: str, answers: dict, namespace: dict | None = None) -> Result:
    paper = draw_paper(learner_id)
    return _grade(learner_id, _collect(paper, answers, namespace), paper)


def show_paper(learner_id: str) -> str:
    """The paper as text (printed in the notebook)."""
    paper = draw_paper(learner_id)
    lines = [f"Mock exam paper for {paper.learner_id}: {len(paper.items)} questions.", ""]
    for item in paper.items:
        q = item.question
        lines.append(f"Q{item.number} [{q.id}] ({OBJECTIVES[q.objective][0]})")
        lines.append(f"   {q.prompt}")
        if q.kind == "choice":
            lines += [f"     {letter}. {text}" for letter, text in zip("ABCDEFGH", item.options())]
            lines.append(f'   answer with: answers["{q.id}"] = "A"  (your letter)')
        else:
            lines.append(f"   write: {q.signature}")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    return text


def objective_points(learner_id: str, answers: dict, namespace: dict, objective: str) -> int:
    """Points for one objective (for nbgrader's partial credit). Reloads the grading modules first,
    so nothing a submission patched in them survives."""
    from ascend_compat.exam import bank, grading, paper as paper_module

    for module in (bank, paper_module, grading):
        importlib.reload(module)
    p = paper_module.draw_paper(learner_id)
    result = grading.grade(learner_id, _collect(p, answers, namespace), p)
    return sum(r.correct for r in result.items if r.objective == objective)


def reference_answers(learner_id: str) -> dict:
    """The right answers for a learner's paper (instructors, the solution notebook, tests)."""
    paper = draw_paper(learner_id)
    return {item.question_id: item.correct_letter() if item.question.kind == "choice" else item.question.reference
            for item in paper.items}
