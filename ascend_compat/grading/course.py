"""The nbgrader course directory (the repository) and how to run nbgrader beside it.

Every nbgrader run of the lab happens in a *temporary* course directory: a copy of
``nbgrader_config.py`` and the source notebooks of the assignments involved. nbgrader writes its
gradebook, log and outputs there, and the caller copies back only what it means to keep. The
temporary directory uses the repository's own ``nbgrader_config.py`` (its ``root`` and
``db_url`` follow the file, so they point into the temporary directory).
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from traitlets.config import Config

from ascend_compat.atomic import write_text
from ascend_compat.errors import UserError

CONFIG_NAME = "nbgrader_config.py"
SOURCE_DIRECTORY = "solutions"
RELEASE_DIRECTORY = "exercises"


def repo_root() -> Path:
    """The checkout this package lives in (the nbgrader course directory)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / CONFIG_NAME).is_file():
        raise UserError(f"{CONFIG_NAME} not found in {root}; grading needs a checkout of the course repository")
    return root


def read_config(root: Path | None = None) -> tuple[Config, dict]:
    """``nbgrader_config.py`` evaluated as nbgrader evaluates it: (the traitlets Config, its globals)."""
    config = Config()
    values = runpy.run_path(str((root or repo_root()) / CONFIG_NAME), init_globals={"get_config": lambda: config})
    return config, values


def assignments(root: Path | None = None) -> tuple[str, ...]:
    """The course's assignments, as listed by ``ASSIGNMENTS`` in ``nbgrader_config.py``."""
    return tuple(read_config(root)[1]["ASSIGNMENTS"])


def course_id(root: Path | None = None) -> str:
    return read_config(root)[0].CourseDirectory.course_id


def resolve_assignments(names: Iterable[str] | None, root: Path | None = None) -> list[str]:
    """Check the requested assignment names; None means every assignment that has source notebooks."""
    root = root or repo_root()
    known = assignments(root)
    if not names:
        return [name for name in known if any((root / SOURCE_DIRECTORY / name).glob("*.ipynb"))]
    chosen = []
    for name in names:
        if name not in known:
            raise UserError(f"{name!r} is not an assignment of the course; use one of: {', '.join(known)}")
        if not (root / SOURCE_DIRECTORY / name).is_dir():
            raise UserError(f"{SOURCE_DIRECTORY}/{name}/ does not exist yet: write its source notebooks first")
        chosen.append(name)
    return chosen


def make_course_copy(work: Path, assignment_names: Iterable[str], root: Path | None = None,
                     limits: dict | None = None) -> Path:
    """Lay out a throw-away nbgrader course in ``work`` holding the given assignments' sources.

    Its nbgrader runs with the safe-grading settings (:mod:`.safety`, with ``limits`` for
    :class:`~.safe_execute.SafeExecute`) from a config file of its own (see :func:`nbgrader`).
    """
    root = root or repo_root()
    shutil.copy2(root / CONFIG_NAME, work / CONFIG_NAME)
    write_safety_config(work, limits)
    for name in assignment_names:
        shutil.copytree(
            root / SOURCE_DIRECTORY / name,
            work / SOURCE_DIRECTORY / name,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"),
        )
    return work


def write_safety_config(work: Path, limits: dict | None = None) -> Path:
    """``work/.jupyter/nbgrader_config.py``: safety.apply() with ``limits``, read before the course's own."""
    folder = work / ".jupyter"
    folder.mkdir(exist_ok=True)
    path = folder / CONFIG_NAME
    write_text(path, "from ascend_compat.grading import safety\n\n"
                     f"safety.apply(get_config(), **{dict(limits or {})!r})\n")
    return path


def nbgrader_environment(course: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment nbgrader runs in (and, through the sandbox, the kernels it starts)."""
    environment = dict(os.environ if env is None else env)
    # Only the course's config files count, not one in the user's ~/.jupyter.
    environment["JUPYTER_CONFIG_DIR"] = str(course / ".jupyter")
    # nbgrader itself imports the grading plugins (and so ascend_compat): on the cpu backend that
    # costs no torch import. The kernels get the learner's backend back (safe_execute._policy).
    if "ASCEND_LAB_KERNEL_BACKEND" not in environment:
        environment["ASCEND_LAB_KERNEL_BACKEND"] = environment.get("ASCEND_COMPAT_BACKEND", "")
        environment["ASCEND_COMPAT_BACKEND"] = "cpu"
    # nbgrader runs `alembic` (database migrations) as a program: put this Python's scripts first
    # on PATH, so it works from an un-activated virtual environment too.
    environment["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), environment.get("PATH", "")])
    return environment


def nbgrader(args: list[str], course: Path, env: dict[str, str] | None = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` in the course directory ``course``; UserError when it fails.

    ``check=False`` returns the failed run instead (autograde exits 1 when any submission failed).
    """
    environment = nbgrader_environment(course, env)
    command = [sys.executable, "-m", "nbgrader", *args]
    result = subprocess.run(command, cwd=course, env=environment, capture_output=True, text=True)
    if result.returncode != 0 and check:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise UserError(f"`nbgrader {' '.join(args)}` failed (exit {result.returncode}):\n{tail}")
    return result


def temporary_course() -> tempfile.TemporaryDirectory:
    """A temporary directory for one nbgrader course (deleted when the context ends)."""
    return tempfile.TemporaryDirectory(prefix="ascend-lab-nbgrader-")
