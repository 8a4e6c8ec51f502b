"""Shared by tests/test_grading_*.py: build learner submissions from release notebooks and answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
WRONG_ANSWERS = Path(__file__).resolve().parent / "wrong_answers"
RIGHT_ANSWERS = Path(__file__).resolve().parent / "right_answers"

_SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class WrongAnswer:
    """A plausible wrong answer from tests/wrong_answers/: which cell it fills and which tests it must fail."""

    path: Path
    cell: str
    fails: frozenset[str]
    source: str

    @property
    def name(self) -> str:
        return self.path.stem


def _header(text: str, key: str) -> str:
    match = re.search(rf"^# {key}: (.+)$", text, re.MULTILINE)
    if not match:
        raise ValueError(f"wrong answer file lacks a '# {key}: ...' header line")
    return match.group(1).strip()


def wrong_answers(assignment: str, notebook: str) -> list[WrongAnswer]:
    found = []
    for path in sorted((WRONG_ANSWERS / assignment / notebook).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        fails = frozenset(part.strip() for part in _header(text, "fails").split(","))
        found.append(WrongAnswer(path, _header(text, "cell"), fails, text))
    return found


def right_answers(assignment: str, notebook: str) -> list[WrongAnswer]:
    """Correct answers that differ from the solution (tests/right_answers/): each must score full marks."""
    found = []
    for path in sorted((RIGHT_ANSWERS / assignment / notebook).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found.append(WrongAnswer(path, _header(text, "cell"), frozenset(), text))
    return found


def cell_source(path: Path, cell_id: str) -> str:
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == cell_id:
            return cell.source
    raise KeyError(f"{path.name} has no nbgrader cell {cell_id!r}")


def solution_answer(assignment: str, notebook: str, cell_id: str) -> str:
    """The solution cell as a learner who solved it would submit it: the solution, markers removed."""
    source = cell_source(SOLUTIONS / assignment / f"{notebook}.ipynb", cell_id)
    return "\n".join(line for line in source.splitlines() if not _SOLUTION_MARKER.match(line))


def fill_release(assignment: str, notebook: str, answers: dict[str, str], out: Path) -> Path:
    """Write the released notebook with ``answers`` ({grade_id: source}) typed into its cells."""
    nb = nbformat.read(EXERCISES / assignment / f"{notebook}.ipynb", as_version=4)
    remaining = dict(answers)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in remaining:
            cell.source = remaining.pop(grade_id)
    if remaining:
        raise KeyError(f"{notebook} has no cells {sorted(remaining)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def run_cell_code(source: str) -> dict:
    """Execute an answer cell in a fresh namespace (with torch imported, as the notebook's setup does)."""
    import torch

    namespace = {"__name__": "__learner__", "torch": torch}
    exec(compile(source, "<answer cell>", "exec"), namespace)
    return namespace


def exercise_notebooks(assignment: str) -> list[str]:
    """The notebook names (without .ipynb) of an assignment's source notebooks."""
    return sorted(path.stem for path in (SOLUTIONS / assignment).glob("*.ipynb"))


def answer_cells(assignment: str, notebook: str) -> list[str]:
    """The grade ids of the cells a learner fills in (nbgrader ``solution: true``), in notebook order."""
    cells = nbformat.read(SOLUTIONS / assignment / f"{notebook}.ipynb", as_version=4).cells
    return [cell.metadata["nbgrader"]["grade_id"] for cell in cells
            if cell.metadata.get("nbgrader", {}).get("solution")]


def graded_cells(assignment: str, notebook: str) -> list[str]:
    """The grade ids of the cells that score points (nbgrader ``grade: true``), in notebook order."""
    cells = nbformat.read(SOLUTIONS / assignment / f"{notebook}.ipynb", as_version=4).cells
    return [cell.metadata["nbgrader"]["grade_id"] for cell in cells
            if cell.metadata.get("nbgrader", {}).get("grade")]


def solution_answers(assignment: str, notebook: str) -> dict[str, str]:
    """{grade_id: answer} for every answer cell: the whole notebook solved."""
    return {cell: solution_answer(assignment, notebook, cell) for cell in answer_cells(assignment, notebook)}
