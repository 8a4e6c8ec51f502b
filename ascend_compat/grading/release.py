"""Generate ``exercises/`` (what learners get) from ``solutions/`` with the real nbgrader.

``nbgrader generate_assignment`` removes the solutions (``### BEGIN SOLUTION`` blocks become
``raise NotImplementedError()``) and the hidden tests, locks the test cells and stores a checksum
in every graded cell. It runs in a temporary course directory (:mod:`.course`), so no gradebook or
log lands in the repository. Its output is then made stable for git - no outputs, no execution
counts, the same notebook metadata as every other notebook of the course - without touching what
the checksums cover (cell source, type and nbgrader metadata), so ``nbgrader validate`` still
accepts a released notebook. Cell ids come from the source notebooks, so they are stable too.
"""

from __future__ import annotations

import filecmp
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

from ascend_compat import notebook_hygiene
from ascend_compat.atomic import write_bytes
from ascend_compat.grading import course


def normalise(path: Path) -> None:
    """Rewrite a released notebook in the course's stable form (outputs and volatile metadata gone)."""
    nb = nbformat.read(path, as_version=4)
    notebook_hygiene.clean(nb)
    notebook_hygiene.write_atomically(nb, path)


def _release_into(work: Path, names: list[str]) -> Path:
    course.make_course_copy(work, names)
    for name in names:
        course.nbgrader(["generate_assignment", name, "--force", "--log-level=WARN"], work)
    released = work / course.RELEASE_DIRECTORY
    for notebook in released.rglob("*.ipynb"):
        normalise(notebook)
    return released


def _replace_tree(generated: Path, target: Path) -> list[Path]:
    """Make ``target`` hold exactly the files of ``generated``; each file replaced atomically.

    Returns the files that changed (written or removed).
    """
    changed = []
    target.mkdir(parents=True, exist_ok=True)
    wanted = {path.relative_to(generated) for path in generated.rglob("*") if path.is_file()}
    for relative in sorted(wanted):
        source, destination = generated / relative, target / relative
        if destination.is_file() and filecmp.cmp(source, destination, shallow=False):
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(destination, source.read_bytes())
        changed.append(destination)
    for stale in sorted(path for path in target.rglob("*") if path.is_file()):
        if stale.relative_to(target) not in wanted:
            stale.unlink()
            changed.append(stale)
    return changed


def generate_exercises(assignments: Iterable[str] | None = None, dest: Path | str | None = None) -> list[Path]:
    """Regenerate the release notebooks of ``assignments`` (default: all with sources) into ``dest``.

    ``dest`` defaults to the repository's ``exercises/``; ``dest/<assignment>/`` ends up holding
    exactly nbgrader's release of ``solutions/<assignment>/``. Returns the files that changed.
    """
    root = course.repo_root()
    names = course.resolve_assignments(assignments, root)
    dest = Path(dest) if dest is not None else root / course.RELEASE_DIRECTORY
    changed = []
    with course.temporary_course() as tmp:
        released = _release_into(Path(tmp), names)
        for name in names:
            changed += _replace_tree(released / name, dest / name)
    return changed


def _files(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*") if path.is_file()} if folder.is_dir() else set()


def drifted_files(assignments: Iterable[str] | None = None, committed: Path | str | None = None) -> list[Path]:
    """Files of ``committed`` (default ``exercises/``) that differ from a fresh release of ``solutions/``.

    Missing and extra files count as drift too.
    """
    root = course.repo_root()
    names = course.resolve_assignments(assignments, root)
    committed = Path(committed) if committed is not None else root / course.RELEASE_DIRECTORY
    drift = []
    with tempfile.TemporaryDirectory(prefix="ascend-lab-release-") as tmp:
        fresh = Path(tmp)
        generate_exercises(names, dest=fresh)
        for name in names:
            new, old = _files(fresh / name), _files(committed / name)
            for relative in sorted(new | old):
                if relative not in new or relative not in old or not filecmp.cmp(
                        fresh / name / relative, committed / name / relative, shallow=False):
                    drift.append(committed / name / relative)
    return drift
