"""Every committed notebook is clean: no outputs, stable metadata, python3 kernel, no local paths."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from ascend_compat import notebook_hygiene

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = notebook_hygiene.notebooks([ROOT / "notebooks", ROOT / "solutions", ROOT / "exercises"])


def test_there_are_notebooks():
    assert (ROOT / "notebooks" / "00_start_here.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_clean(path):
    assert notebook_hygiene.problems(path) == [], "run `make notebooks-clean`"


def test_the_check_catches_dirt_and_fix_removes_it(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "myenv", "display_name": "x", "language": "python"}
    nb.metadata["widgets"] = {"state": {}}
    cell = nbformat.v4.new_code_cell("open('/home/alice/data.csv')")
    cell.execution_count = 3
    cell.outputs = [nbformat.v4.new_output("stream", text="hi")]
    cell.metadata["collapsed"] = True
    nb.cells.append(cell)
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    found = " | ".join(notebook_hygiene.problems(path))
    for expected in ("kernelspec", "widgets", "outputs", "execution count", "collapsed", "absolute path"):
        assert expected in found
    notebook_hygiene.fix(path)
    assert notebook_hygiene.problems(path) == ["cell 1 mentions a local absolute path (/home/...)"]


_SCRATCH = re.compile(r"^\s*(\w+) = (?:Path\()?tempfile\.mkdtemp\(")


def test_every_scratch_folder_is_removed_when_the_kernel_shuts_down():
    """A folder from ``tempfile.mkdtemp()`` outlives its kernel unless something removes it: every run
    of a lesson used to leave one in /tmp. Each must be handed to ``atexit`` on the next line
    (a per-call folder uses ``with tempfile.TemporaryDirectory()``, which needs no check)."""
    offenders = []
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            lines = cell.source.splitlines() if cell.cell_type == "code" else []
            for number, line in enumerate(lines):
                if "tempfile.mkdtemp(" not in line:
                    continue
                match = _SCRATCH.match(line)
                after = lines[number + 1].strip() if number + 1 < len(lines) else ""
                if not match or not after.startswith(f"atexit.register(shutil.rmtree, {match.group(1)}, True)"):
                    offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert offenders == [], "scratch folders nobody removes:\n" + "\n".join(offenders)
