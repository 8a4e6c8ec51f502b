"""Which files to look at, and how to read ``.py`` and ``.ipynb`` sources safely.

Folders are walked for ``.py`` and ``.ipynb`` files (hidden folders, virtual environments and
``__pycache__`` skipped). Binary and non-UTF-8 files are skipped with a note, never guessed at.
Notebooks are handled cell by cell; IPython lines (``%magic``, ``!shell``) are kept out of the Python
parser but still checked for ``nvidia-smi`` and ``CUDA_VISIBLE_DEVICES``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ascend_compat.atomic import write_text

SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".ipynb_checkpoints", "node_modules", ".tox", "build", "dist"}
MAGIC = re.compile(r"^(\s*)([%!].*)$")


@dataclass
class Source:
    """One unit of code: a file, or one cell of a notebook."""

    path: str
    code: str
    cell: int | None = None            # notebook cell index
    magic_lines: dict = field(default_factory=dict)  # line number -> original IPython line


@dataclass
class Skipped:
    path: str
    reason: str


def discover(paths) -> tuple[list[Path], list[Skipped]]:
    files, skipped = [], []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                files += [Path(root) / n for n in sorted(names) if n.endswith((".py", ".ipynb"))]
        elif path.is_file():
            files.append(path)
        else:
            skipped.append(Skipped(str(path), "no such file or folder"))
    return files, skipped


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ValueError("binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None


def hide_magics(code: str) -> tuple[str, dict]:
    """Replace IPython-only lines with ``pass`` so libcst can parse the cell; keep them to restore."""
    lines, magics = [], {}
    for number, line in enumerate(code.splitlines(keepends=True), 1):
        match = MAGIC.match(line.rstrip("\n"))
        if match:
            magics[number] = line
            lines.append(f"{match.group(1)}pass  # ascend-lab: IPython line\n")
        else:
            lines.append(line)
    return "".join(lines), magics


def restore_magics(code: str, magics: dict) -> str:
    if not magics:
        return code
    lines = code.splitlines(keepends=True)
    for number, original in magics.items():
        lines[number - 1] = original if original.endswith("\n") or number == len(lines) else original + "\n"
    return "".join(lines)


def read_sources(path: Path) -> list[Source]:
    """The sources in one file. Raises ValueError (with a reason) for files to skip."""
    text = _read_text(path)
    if path.suffix != ".ipynb":
        return [Source(str(path), text)]
    try:
        notebook = json.loads(text)
        cells = notebook["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a valid notebook ({exc})") from None
    sources = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        code = "".join(cell.get("source", []))
        hidden, magics = hide_magics(code)
        sources.append(Source(str(path), hidden, index, magics))
    return sources


def write_notebook_cells(path: Path, new_cells: dict[int, str]) -> None:
    """Replace the source of the given code cells, leaving everything else in the notebook as it was."""
    notebook = json.loads(_read_text(path))
    for index, code in new_cells.items():
        notebook["cells"][index]["source"] = code.splitlines(keepends=True)
    write_text(path, json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
