"""Instant feedback inside an exercise notebook: ``check(question)`` and ``hint(question)``.

How grading and instant feedback fit together (one set of visible tests, used twice):

* The *visible* tests of every question live in a per-exercise module,
  ``ascend_compat/grading/checks/<exercise>.py``, registered with :meth:`Exercise.test`.
  Each test is a function whose parameters name what it needs from the learner's notebook
  (``def returns_a_device(pick_device): ...``): ``check`` looks those names up in the calling
  notebook and calls the learner's code. No test reads a result variable the learner could
  simply set.
* ``check("pick_device")`` under an answer runs them and prints which pass, with the messages
  of the ones that fail. It never raises, so a learner can keep going.
* The nbgrader test cell of the question runs the very same tests with
  ``check("pick_device", must_pass=True)``, which raises ``AssertionError`` when one fails,
  so nbgrader gives the cell 0 points. The *hidden* tests follow in their own nbgrader test
  cells, inside ``### BEGIN HIDDEN TESTS`` blocks that nbgrader strips from the release; the
  learner never runs them, and the autograder restores the original test cells, so editing a
  test cell in a submission changes nothing.

Question ids are unique across the whole course (a test in ``tests/`` enforces it), so a
notebook needs no set-up beyond ``from ascend_compat.grading import check, hint``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
import traceback
from dataclasses import dataclass, field
from typing import Callable

from ascend_compat.errors import UserError


@dataclass
class VisibleTest:
    """One visible test: a function of names from the learner's notebook."""

    question: str
    function: Callable
    needs: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def description(self) -> str:
        """What the test checks, in one sentence (the first docstring line, else the name)."""
        doc = inspect.getdoc(self.function)
        return doc.splitlines()[0] if doc else self.name.replace("_", " ")


@dataclass
class Exercise:
    """The visible tests and hints of one exercise notebook, grouped by question id."""

    name: str
    tests: dict[str, list[VisibleTest]] = field(default_factory=dict)
    hints: dict[str, list[str]] = field(default_factory=dict)

    def test(self, question: str):
        """Decorator registering a visible test for ``question``."""

        def register(function: Callable) -> Callable:
            needs = tuple(inspect.signature(function).parameters)
            self.tests.setdefault(question, []).append(VisibleTest(question, function, needs))
            return function

        return register

    def hint(self, question: str, *hints: str) -> None:
        """Register the hints of ``question``, from a gentle nudge to nearly the answer."""
        self.hints.setdefault(question, []).extend(hints)

    @property
    def questions(self) -> list[str]:
        return list(dict.fromkeys([*self.tests, *self.hints]))


@dataclass
class TestOutcome:
    test: VisibleTest
    passed: bool
    message: str = ""


@dataclass
class CheckReport:
    """What :func:`check` found: one outcome per visible test of the question."""

    question: str
    outcomes: list[TestOutcome]

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)

    def __bool__(self) -> bool:
        return self.passed

    def text(self) -> str:
        passed = sum(outcome.passed for outcome in self.outcomes)
        lines = [f"{self.question}: {passed} of {len(self.outcomes)} visible tests pass"]
        for outcome in self.outcomes:
            mark = "PASS" if outcome.passed else "FAIL"
            lines.append(f"  [{mark}] {outcome.test.description}")
            if outcome.message:
                lines.extend(f"         {line}" for line in outcome.message.splitlines())
        if self.passed:
            lines.append("  All visible tests pass. Hidden tests decide the final grade: "
                         "make sure every case in the task description works.")
        else:
            lines.append(f'  Stuck? hint("{self.question}") shows a hint; call it again for the next one.')
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CheckReport {self.question}: {'pass' if self.passed else 'fail'}>"


def exercises() -> dict[str, Exercise]:
    """Every exercise with instant checks: the ``EXERCISE`` of each module in ``grading.checks``."""
    from ascend_compat.grading import checks

    found = {}
    for module_info in pkgutil.iter_modules(checks.__path__):
        module = importlib.import_module(f"{checks.__name__}.{module_info.name}")
        exercise = getattr(module, "EXERCISE", None)
        if isinstance(exercise, Exercise):
            found[exercise.name] = exercise
    return found


def find_question(question: str) -> Exercise:
    """The exercise that owns ``question``; a clear error when there is none."""
    if not isinstance(question, str):
        raise UserError(f"a question id is a string such as \"pick_device\", not {type(question).__name__}")
    owners = [exercise for exercise in exercises().values() if question in exercise.questions]
    if not owners:
        known = sorted(q for exercise in exercises().values() for q in exercise.questions)
        raise UserError(f"there is no question {question!r}; the questions with checks are: {', '.join(known)}")
    if len(owners) > 1:  # guarded by a test; a clear message if it ever slips through
        names = ", ".join(exercise.name for exercise in owners)
        raise UserError(f"question {question!r} is defined by several exercises ({names}); rename one")
    return owners[0]


def _describe_failure(exc: BaseException, test: VisibleTest) -> str:
    if isinstance(exc, AssertionError):
        return str(exc) or "the check failed (no message)"
    if isinstance(exc, NotImplementedError):
        return "your code still raises NotImplementedError: replace `raise NotImplementedError()` with your answer"
    # Show where in the learner's code it broke, not the inside of the test.
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if frame.filename != __file__ and "ascend_compat/grading/checks" not in frame.filename.replace("\\", "/")]
    where = f" (line {frames[-1].lineno})" if frames else ""
    return f"calling your code raised {type(exc).__name__}: {exc}{where}"


def run_visible_tests(question: str, namespace: dict) -> CheckReport:
    """Run the visible tests of ``question`` against the names defined in ``namespace``."""
    exercise = find_question(question)
    outcomes = []
    for test in exercise.tests.get(question, []):
        missing = [name for name in test.needs if name not in namespace]
        if missing:
            outcomes.append(TestOutcome(test, False, f"{', '.join(missing)} is not defined yet: run the cell with your answer first"))
            continue
        try:
            test.function(*(namespace[name] for name in test.needs))
        except Exception as exc:  # every failure is reported, none stops the other tests
            outcomes.append(TestOutcome(test, False, _describe_failure(exc, test)))
        else:
            outcomes.append(TestOutcome(test, True))
    return CheckReport(question, outcomes)


def _caller_namespace(depth: int = 2) -> dict:
    """The globals of the notebook (or module) that called check(): where the learner's code lives."""
    return sys._getframe(depth).f_globals


def check(question: str, must_pass: bool = False, namespace: dict | None = None) -> None:
    """Run the visible tests of ``question`` on your code and print which pass.

    ``must_pass=True`` (used by the graded test cells) raises ``AssertionError`` listing the
    failed tests instead of only reporting them. ``namespace`` defaults to the globals of the
    notebook that calls ``check``.
    """
    report = run_visible_tests(question, namespace if namespace is not None else _caller_namespace())
    _record(question, report)
    print(report.text())
    if must_pass and not report.passed:
        failed = [f"{o.test.description}: {o.message}" for o in report.outcomes if not o.passed]
        raise AssertionError(f"{len(failed)} visible test(s) of {question} fail:\n" + "\n".join(failed))
    # Nothing returned, so a notebook cell ending in check(...) prints the report once.
    # Code that wants the outcomes calls run_visible_tests().


def _record(question: str, report: CheckReport) -> None:
    """Note the outcome for the progress dashboard (never in the autograder; never an error here)."""
    from ascend_compat.grading import progress

    if not progress.should_record():
        return
    try:
        progress.record_check(find_question(question).name, question, report.passed)
    except Exception:  # noqa: BLE001 - a read-only home must not break a learner's check()
        pass


_hints_shown: dict[str, int] = {}


def hint(question: str) -> None:
    """Print the next hint for ``question``: each call unfolds one more, the last one repeats."""
    exercise = find_question(question)
    hints = exercise.hints.get(question, [])
    if not hints:
        print(f"{question}: no hints for this question; read the task description again and run check(\"{question}\").")
        return
    shown = min(_hints_shown.get(question, 0) + 1, len(hints))
    _hints_shown[question] = shown
    more = "call hint() again for the next one" if shown < len(hints) else "that was the last hint"
    print(f"{question}, hint {shown} of {len(hints)} ({more}):\n  {hints[shown - 1]}")


def reset_hints(question: str | None = None) -> None:
    """Fold the hints back up (all questions, or one)."""
    if question is None:
        _hints_shown.clear()
    else:
        _hints_shown.pop(question, None)
