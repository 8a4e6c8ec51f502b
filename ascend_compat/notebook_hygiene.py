"""Notebooks stay clean in git: no outputs, no execution counts, stable metadata, no local paths.

``python -m ascend_compat.notebook_hygiene [--fix] PATH...`` checks (or fixes) every ``.ipynb``
under the given paths; the test suite runs the check on the whole repository.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

from ascend_compat.atomic import write_text

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
# Notebook-level metadata we keep; everything else (widgets state, toc, vscode, ...) goes.
KEPT_METADATA = ("kernelspec", "language_info")
# Cell metadata we keep: nbgrader's grading information and tags used by nbval.
KEPT_CELL_METADATA = ("nbgrader", "tags", "deletable", "editable")
ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/home/|/Users/|/root/|/work/|/tmp/|[A-Za-z]:\\\\Users)")


def notebooks(paths) -> list[Path]:
    found = []
    for path in map(Path, paths):
        if path.is_file() and path.suffix == ".ipynb":
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found


def problems(path: Path) -> list[str]:
    """What is wrong with one notebook, as readable sentences (empty when clean)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        return [f"not a readable notebook ({exc})"]
    found = []
    kernelspec = nb.metadata.get("kernelspec", {})
    if kernelspec.get("name") != "python3":
        found.append(f"kernelspec is {kernelspec.get('name')!r}, expected 'python3'")
    extra = sorted(set(nb.metadata) - set(KEPT_METADATA))
    if extra:
        found.append(f"unstable notebook metadata: {', '.join(extra)}")
    language_info = nb.metadata.get("language_info", {})
    if set(language_info) - {"name"}:
        found.append("language_info holds more than the language name (versions change between machines)")
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code":
            if cell.get("outputs"):
                found.append(f"cell {number} has outputs")
            if cell.get("execution_count") is not None:
                found.append(f"cell {number} has an execution count")
        extra = sorted(set(cell.get("metadata", {})) - set(KEPT_CELL_METADATA))
        if extra:
            found.append(f"cell {number} has unstable metadata: {', '.join(extra)}")
        match = ABSOLUTE_PATH.search(cell.source)
        if match:
            found.append(f"cell {number} mentions a local absolute path ({match.group(0)}...)")
    return found


def clean(nb) -> None:
    """Strip outputs and unstable metadata in place."""
    nb.metadata = nbformat.from_dict({
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
    })
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.get("metadata", {}).items() if k in KEPT_CELL_METADATA})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.pop("attachments", None) if cell.cell_type != "markdown" else None


def write_atomically(nb, path: Path) -> None:
    text = nbformat.writes(nb)
    write_text(path, text if text.endswith("\n") else text + "\n")  # as nbformat.write does


def fix(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    clean(nb)
    write_atomically(nb, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="rewrite notebooks clean instead of only checking")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    dirty = 0
    for path in notebooks(args.paths):
        if args.fix:
            fix(path)
        for problem in problems(path):
            dirty += 1
            print(f"{path}: {problem}")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
