"""Grade learners' notebooks with the real ``nbgrader autograde``, away from the repository.

:func:`autograde_notebooks` lays out a throw-away nbgrader course (:mod:`.course`):

1. ``solutions/<assignment>/`` copied in, then ``nbgrader generate_assignment``, which records the
   graded cells - including the hidden tests - in the temporary gradebook;
2. each learner's notebooks copied to ``submitted/<student>/<assignment>/``;
3. one ``nbgrader autograde <assignment>`` for all learners: nbgrader restores the original test
   cells (a learner cannot edit or delete a test), runs every notebook top to bottom and scores
   each test cell (an error in it scores 0);
4. the scores read back with :class:`nbgrader.api.Gradebook`.

Nothing is written into the repository; the temporary course is deleted afterwards.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ascend_compat.errors import UserError
from ascend_compat.grading import course


@dataclass(frozen=True)
class CellScore:
    """One graded (test) cell: its nbgrader ``grade_id`` and the points it earned."""

    grade_id: str
    points: float
    max_points: float


@dataclass
class NotebookScore:
    """The graded cells of one notebook, in notebook order."""

    name: str
    cells: list[CellScore] = field(default_factory=list)
    flagged: bool = False                                  # the integrity check asks for a review
    findings: list[str] = field(default_factory=list)      # why (see ascend_compat.grading.integrity)

    @property
    def points(self) -> float:
        return sum(cell.points for cell in self.cells)

    @property
    def max_points(self) -> float:
        return sum(cell.max_points for cell in self.cells)

    def cell(self, grade_id: str) -> CellScore:
        for cell in self.cells:
            if cell.grade_id == grade_id:
                return cell
        raise KeyError(f"{self.name} has no graded cell {grade_id!r}")


@dataclass
class Score:
    """A learner's result for one assignment: every notebook of it, submitted or not."""

    student: str
    assignment: str
    notebooks: dict[str, NotebookScore] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)      # nbgrader could not grade (see its log)

    @property
    def points(self) -> float:
        return sum(notebook.points for notebook in self.notebooks.values())

    @property
    def max_points(self) -> float:
        return sum(notebook.max_points for notebook in self.notebooks.values())

    def __str__(self) -> str:
        lines = [f"{self.student} / {self.assignment}: {self.points:g} / {self.max_points:g}"]
        for notebook in self.notebooks.values():
            flag = "  [flagged for review]" if notebook.flagged else ""
            lines.append(f"  {notebook.name}: {notebook.points:g} / {notebook.max_points:g}{flag}")
            lines += [f"    {cell.grade_id}: {cell.points:g} / {cell.max_points:g}" for cell in notebook.cells]
        return "\n".join(lines)


def _check_submissions(assignment: str, submissions: dict[str, dict[str, Path | str]], source: Path) -> None:
    expected = {path.name for path in source.glob("*.ipynb")}
    for student, notebooks in submissions.items():
        if not student or not student.replace("-", "").replace("_", "").isalnum():
            raise UserError(f"student id {student!r} must be letters, digits, '-' or '_' (it becomes a folder name)")
        for filename, path in notebooks.items():
            if filename not in expected:
                raise UserError(
                    f"{student}: {filename!r} is not a notebook of {assignment}; expected one of: {', '.join(sorted(expected))}")
            if not Path(path).is_file():
                raise UserError(f"{student}: submission {path} does not exist")


def _graded_cell_order(source: Path) -> dict[str, dict[str, int]]:
    """{notebook name: {grade_id: position}}: the gradebook keeps no cell order, the source does."""
    order = {}
    for path in source.glob("*.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in cells]
        order[path.stem] = {grade_id: position for position, grade_id in enumerate(ids) if grade_id}
    return order


def _read_scores(work: Path, assignment: str, students: list[str], order: dict[str, dict[str, int]]) -> dict[str, Score]:
    scores = {}
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", course_id=course.course_id(work)) as gradebook:
        notebook_names = [notebook.name for notebook in gradebook.find_assignment(assignment).notebooks]
        for student in students:
            score = Score(student, assignment)
            for name in sorted(notebook_names):
                try:
                    graded = gradebook.find_submission_notebook(name, assignment, student)
                except MissingEntry:  # never submitted: every cell scores 0
                    cells = [CellScore(cell.name, 0.0, float(cell.max_score))
                             for cell in gradebook.find_notebook(name, assignment).grade_cells]
                    flagged = False
                else:
                    cells = [CellScore(grade.name, float(grade.score or 0.0), float(grade.max_score))
                             for grade in graded.grades]
                    flagged = bool(graded.flagged)
                cells.sort(key=lambda cell: order.get(name, {}).get(cell.grade_id, 0))
                findings = _findings(work, student, assignment, name) if flagged else []
                score.notebooks[f"{name}.ipynb"] = NotebookScore(f"{name}.ipynb", cells, flagged, findings)
            scores[student] = score
    return scores


def _findings(work: Path, student: str, assignment: str, notebook: str) -> list[str]:
    """The integrity findings nbgrader's pipeline left in the graded notebook's metadata."""
    path = work / "autograded" / student / assignment / f"{notebook}.ipynb"
    try:
        metadata = nbformat.read(path, as_version=4).metadata
    except (OSError, ValueError):
        return []
    return [entry["finding"] for entry in metadata.get("ascend_lab", {}).get("integrity", [])]


_FAILED = re.compile(r"There was an error processing assignment '[^']*' for student '([^']*)'")


def run_autograde(work: Path, assignment: str, extra: list[str] | None = None) -> dict[str, str]:
    """``nbgrader autograde`` in the course ``work``; {student: why} for the submissions it could not grade.

    nbgrader goes on after a failed submission and exits 1 at the end; any other failure (a broken
    course, a config error) is a :class:`UserError`.
    """
    result = course.nbgrader(["autograde", assignment, "--force", "--log-level=WARN", *(extra or [])],
                             work, check=False)
    if result.returncode == 0:
        return {}
    log = result.stdout + result.stderr
    failed = {student: "nbgrader could not grade this submission (see its log)" for student in _FAILED.findall(log)}
    if not failed:
        tail = "\n".join(log.strip().splitlines()[-15:])
        raise UserError(f"`nbgrader autograde {assignment}` failed (exit {result.returncode}):\n{tail}")
    return failed


def autograde_notebooks(assignment: str, submissions: dict[str, dict[str, Path | str]],
                        limits: dict | None = None) -> dict[str, Score]:
    """Grade ``{student: {"ex01_pick_device.ipynb": path, ...}}`` with nbgrader; scores per student.

    All students are graded in one ``nbgrader autograde`` run, with the safe-grading pipeline
    (:mod:`.safety`: sandboxed kernel, limits, integrity checks; ``limits`` sets
    :class:`~.safe_execute.SafeExecute` traits such as ``timeout`` or ``memory_limit``). A
    notebook a student did not submit scores 0 for every graded cell.
    """
    root = course.repo_root()
    (name,) = course.resolve_assignments([assignment], root)
    source = root / course.SOURCE_DIRECTORY / name
    _check_submissions(name, submissions, source)
    with course.temporary_course() as tmp:
        work = course.make_course_copy(Path(tmp), [name], root, limits=limits)
        course.nbgrader(["generate_assignment", name, "--force", "--log-level=WARN"], work)
        for student, notebooks in submissions.items():
            folder = work / "submitted" / student / name
            folder.mkdir(parents=True)
            for filename, path in notebooks.items():
                shutil.copyfile(path, folder / filename)
        failed = run_autograde(work, name) if submissions else {}
        scores = _read_scores(work, name, list(submissions), _graded_cell_order(source))
        for student, why in failed.items():
            if student in scores:
                scores[student].problems.append(why)
        return scores
