"""The start page links every lesson and every exercise, and every link points at a real file."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "notebooks" / "00_start_here.ipynb"


def _links() -> set[Path]:
    nb = nbformat.read(START, as_version=4)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return {(START.parent / target).resolve() for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", text)}


def test_every_link_points_at_a_notebook():
    missing = sorted(str(p.relative_to(ROOT)) for p in _links() if not p.is_file())
    assert missing == []


def test_every_lesson_and_exercise_is_linked():
    wanted = {p.resolve() for p in (ROOT / "notebooks").rglob("*.ipynb") if p != START and ".ipynb_checkpoints" not in p.parts}
    wanted |= {p.resolve() for p in (ROOT / "exercises").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts}
    unlinked = sorted(str(p.relative_to(ROOT)) for p in wanted - _links())
    assert unlinked == [], "link these from notebooks/00_start_here.ipynb"
