"""A learner's progress through the exercises, and the dashboard that shows it.

Each exercise is in one of four states, decided from facts rather than from what a learner says:

* **not started** - the learner's copy (``exercises/<level>/exNN_name.ipynb``) is the release as
  nbgrader made it: every answer cell still has the checksum nbgrader stored in it;
* **in progress** - an answer cell differs from the release;
* **passing visible tests** - the last ``check()`` of every question of the exercise passed
  (``check`` records its outcome here, see :func:`record_check`);
* **graded** - ``ascend-lab grade`` has graded it with nbgrader (visible *and* hidden tests); the
  score is shown next to the state, which still follows the copy (a graded exercise edited since
  shows its old score and "in progress").

State lives in ``$ASCEND_LAB_HOME/progress.json`` (default ``~/.ascend_lab``, like the exam's),
never in the repository, written atomically under a lock so two kernels cannot lose an update.

:func:`dashboard` renders it with ipywidgets on the start page and on each level's page;
:func:`summary` is the same as plain text (terminals, or where widgets are missing).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ascend_compat.atomic import write_text
from ascend_compat.errors import UserError

STATE_VERSION = 1
NOT_STARTED, IN_PROGRESS, PASSING, GRADED = "not started", "in progress", "passing visible tests", "graded"


def home() -> Path:
    return Path(os.environ.get("ASCEND_LAB_HOME", Path.home() / ".ascend_lab"))


def state_path() -> Path:
    return home() / "progress.json"


# --- the state file --------------------------------------------------------------------------------

@contextlib.contextmanager
def _locked():
    """An exclusive lock around read-modify-write of the state (a kernel and the CLI may race)."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(".progress.lock"), "a") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: atomic writes only
            pass
        yield


def load() -> dict:
    """The saved state; an empty one when there is none. A damaged file is a clear error."""
    path = state_path()
    if not path.exists():
        return {"version": STATE_VERSION, "exercises": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict) or not isinstance(state.get("exercises"), dict):
            raise ValueError("not a progress record")
    except (ValueError, OSError) as exc:
        raise UserError(f"the progress record {path} is damaged ({exc}); delete it and run "
                        "`ascend-lab grade` again to rebuild the graded scores") from None
    return state


def _update(change) -> dict:
    with _locked():
        try:
            state = load()
        except UserError:  # a damaged file must not stop a learner's check(): keep it aside, start anew
            damaged = state_path()
            damaged.replace(damaged.with_name(f"progress.damaged-{int(time.time())}.json"))
            state = {"version": STATE_VERSION, "exercises": {}}
        change(state)
        write_text(state_path(), json.dumps(state, indent=1, sort_keys=True))
    return state


def record_check(exercise: str, question: str, passed: bool, now: float | None = None) -> None:
    """What :func:`ascend_compat.grading.check` found for ``question`` (an exercise's visible tests)."""
    def change(state):
        entry = state["exercises"].setdefault(exercise, {})
        entry.setdefault("checks", {})[question] = {"passed": bool(passed), "at": now or time.time()}
    _update(change)


def record_grade(exercise: str, assignment: str, points: float, max_points: float,
                 cells: dict[str, tuple[float, float]], feedback: str | None = None,
                 flagged: bool = False, digest: str | None = None, now: float | None = None) -> None:
    """A score from ``ascend-lab grade`` (nbgrader autograde, hidden tests included).

    ``digest`` (:func:`file_digest` of the graded notebook) tells later whether the learner's
    copy is still the one that earned the score.
    """
    def change(state):
        entry = state["exercises"].setdefault(exercise, {})
        entry["graded"] = {"assignment": assignment, "points": points, "max_points": max_points,
                           "cells": {k: list(v) for k, v in cells.items()}, "feedback": feedback,
                           "flagged": bool(flagged), "digest": digest, "at": now or time.time()}
    _update(change)


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def should_record() -> bool:
    """False inside the autograder (nbgrader sets NBGRADER_EXECUTION; the sandbox marks itself)."""
    return not (os.environ.get("NBGRADER_EXECUTION") or os.environ.get("ASCEND_LAB_SANDBOX"))


# --- what the learner's copy says -----------------------------------------------------------------

def cell_checksum(cell: dict) -> str:
    """nbgrader's checksum of a cell (``nbgrader.utils.compute_checksum``, jupyter/nbgrader), here so
    the dashboard does not import nbgrader (seconds). A test keeps the two equal."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    digest = hashlib.md5()
    for part in (source, cell.get("cell_type", ""), str(bool(meta.get("grade"))), str(bool(meta.get("solution"))),
                 str(bool(meta.get("locked"))), meta.get("grade_id", "")):
        digest.update(part.encode("utf-8"))
    if meta.get("grade"):
        digest.update(str(float(meta.get("points", 0))).encode("utf-8"))
    return digest.hexdigest()


def copy_changed(path: Path) -> bool | None:
    """True if an answer cell of the learner's notebook differs from the release; None if unreadable."""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return None
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("checksum") and cell_checksum(cell) != meta["checksum"]:
            return True
    return False


# --- the view ---------------------------------------------------------------------------------

@dataclass
class ExerciseProgress:
    assignment: str
    exercise: str
    path: Path
    state: str
    questions: dict[str, bool | None] = field(default_factory=dict)  # question -> last check (None: never)
    graded: dict | None = None

    @property
    def visible(self) -> str:
        if not self.questions:
            return "-"
        passed = sum(1 for value in self.questions.values() if value)
        return f"{passed} of {len(self.questions)} questions pass"

    @property
    def score(self) -> str:
        if not self.graded:
            return "-"
        flag = " (flagged)" if self.graded.get("flagged") else ""
        return f"{self.graded['points']:g} / {self.graded['max_points']:g}{flag}"


def _questions(exercise: str) -> list[str]:
    from ascend_compat.grading.instant import exercises

    found = exercises().get(exercise)
    return [q for q in found.questions if found.tests.get(q)] if found else []


def resolve_level(level, known: tuple[str, ...]) -> list[str]:
    """``None`` (all), ``0`` / ``"level0"`` / ``"level0_inference"`` -> assignment names."""
    if level is None:
        return list(known)
    text = f"level{level}" if isinstance(level, int) else str(level)
    chosen = [name for name in known if name == text or name.startswith(text + "_")]
    if not chosen:
        raise UserError(f"there is no level {level!r}; use one of: {', '.join(known)}")
    return chosen


def collect(level=None, exercises_dir: Path | None = None) -> list[ExerciseProgress]:
    """The progress of every exercise (of ``level``), in course order."""
    from ascend_compat.grading import course

    root = course.repo_root()
    exercises_dir = Path(exercises_dir) if exercises_dir else root / course.RELEASE_DIRECTORY
    state = load()["exercises"]
    rows = []
    for assignment in resolve_level(level, course.assignments(root)):
        sources = sorted((root / course.SOURCE_DIRECTORY / assignment).glob("*.ipynb"))
        for source in sources:
            name = source.stem
            path = exercises_dir / assignment / source.name
            saved = state.get(name, {})
            checks = saved.get("checks", {})
            questions = {q: checks.get(q, {}).get("passed") for q in _questions(name)}
            changed = copy_changed(path) if path.exists() else False
            graded = saved.get("graded")
            if graded and path.exists() and graded.get("digest") == file_digest(path):
                label = GRADED        # the score belongs to the copy as it is now
            elif changed and questions and all(questions.values()):
                label = PASSING
            elif changed:
                label = IN_PROGRESS   # edited (since grading, if graded: the old score is shown)
            elif graded:
                label = GRADED        # graded from a copy elsewhere (ascend-lab grade PATH)
            else:
                label = NOT_STARTED
            rows.append(ExerciseProgress(assignment, name, path, label, questions, graded))
    return rows


def totals(rows: list[ExerciseProgress]) -> tuple[float, float, int]:
    """(graded points, points of all exercises that have been graded, exercises passing visible tests)."""
    points = sum(row.graded["points"] for row in rows if row.graded)
    possible = sum(row.graded["max_points"] for row in rows if row.graded)
    passing = sum(1 for row in rows if row.state in (PASSING, GRADED) and row.questions and all(row.questions.values()))
    return points, possible, passing


def summary(level=None) -> str:
    """The dashboard as plain text."""
    rows = collect(level)
    points, possible, passing = totals(rows)
    lines = [f"Progress ({state_path()}):",
             f"  {passing} of {len(rows)} exercises pass their visible tests; graded: "
             + (f"{points:g} / {possible:g} points" if possible else "nothing yet (run `ascend-lab grade`)")]
    width = max([len(r.exercise) for r in rows] + [8])
    current = None
    for row in rows:
        if row.assignment != current:
            current = row.assignment
            lines.append(f"  {current}")
        lines.append(f"    {row.exercise:<{width}}  {row.state:<22}  {row.visible:<24}  graded: {row.score}")
    return "\n".join(lines)


_COLOURS = {NOT_STARTED: "#888", IN_PROGRESS: "#b8860b", PASSING: "#2e7d32", GRADED: "#1565c0"}


def _table_html(rows: list[ExerciseProgress]) -> str:
    head = "<tr><th align=left>Exercise</th><th align=left>State</th><th align=left>Visible tests</th><th align=left>Graded</th></tr>"
    body, current = [], None
    for row in rows:
        if row.assignment != current:
            current = row.assignment
            body.append(f"<tr><td colspan=4><b>{html.escape(current)}</b></td></tr>")
        colour = _COLOURS.get(row.state, "#000")
        body.append(f"<tr><td>{html.escape(row.exercise)}</td><td style='color:{colour}'>&#9679; {row.state}</td>"
                    f"<td>{html.escape(row.visible)}</td><td>{html.escape(row.score)}</td></tr>")
    return f"<table style='border-collapse:collapse'>{head}{''.join(body)}</table>"


def widget(level=None):
    """The dashboard as an ipywidgets box (a Refresh button re-reads the learner's files)."""
    import ipywidgets as widgets

    title = widgets.HTML()
    bar = widgets.FloatProgress(min=0.0, max=1.0, description="graded", layout=widgets.Layout(width="50%"))
    table = widgets.HTML()
    refresh = widgets.Button(description="Refresh", icon="refresh", tooltip="read the exercise notebooks and progress again")

    def render(*_):
        rows = collect(level)
        points, possible, passing = totals(rows)
        graded = f"{points:g} / {possible:g} points graded" if possible else "nothing graded yet: run <code>ascend-lab grade</code>"
        title.value = (f"<h3>Your progress{' in ' + html.escape(str(level)) if level is not None else ''}</h3>"
                       f"<p>{passing} of {len(rows)} exercises pass their visible tests; {graded}.</p>")
        bar.value = points / possible if possible else 0.0
        table.value = _table_html(rows)

    refresh.on_click(render)
    render()
    return widgets.VBox([title, bar, table, refresh])


def dashboard(level=None):
    """Show the progress dashboard: ``level=None`` for the whole course, or ``0``, ``"level1"``, ...

    In a notebook with ipywidgets this returns the widget (the cell displays it); elsewhere it
    prints the plain-text summary.
    """
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        print(summary(level))
        return None
    if get_ipython() is None or not hasattr(get_ipython(), "kernel"):
        print(summary(level))
        return None
    return widget(level)
