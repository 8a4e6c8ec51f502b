"""``ascend-lab course init DIR``: a ready nbgrader course directory for teaching this course.

The repository is itself an nbgrader course (``solutions/`` as source, ``exercises/`` as
release) so that the lab can generate and grade exercises; a class, though, needs a course
directory of its own - with students' submissions, a gradebook and feedback that never go into
the lab's git checkout. ``course init`` writes one in nbgrader's standard layout::

    DIR/nbgrader_config.py     course id, paths, the lab's stub and output limits, safe grading
    DIR/source/<assignment>/   the source notebooks (solutions + hidden tests), copied from solutions/
    DIR/exchange/              a local exchange for release_assignment / fetch / submit / collect

From there everything is a standard nbgrader command run in ``DIR`` (``nbgrader
generate_assignment``, ``release_assignment``, ``collect`` or ``zip_collect``, ``autograde`` -
or ``ascend-lab autograde --jobs N`` for several at a time - the formgrader in JupyterLab,
``generate_feedback``, ``release_feedback``, ``export``); ``docs/instructors.md`` walks through it.
The generated config calls :func:`ascend_compat.grading.safety.apply`, so plain ``nbgrader
autograde`` there runs learners' code in the sandbox with the limits written out in the file.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from ascend_compat.atomic import write_text
from ascend_compat.errors import UserError
from ascend_compat.grading import course, safety

_CONFIG = '''"""nbgrader configuration of a class taught with the Ascend Migration Lab.

Made by `ascend-lab course init`; edit freely. Run nbgrader commands in this folder:

    nbgrader generate_assignment level0_inference     # source/ -> release/ (+ gradebook)
    nbgrader release_assignment level0_inference      # into the exchange, for students to fetch
    nbgrader collect level0_inference                 # or: nbgrader zip_collect (LMS downloads)
    ascend-lab autograde level0_inference --jobs 2    # = nbgrader autograde, 2 at a time
    nbgrader generate_feedback level0_inference
    nbgrader export                                   # grades.csv

The formgrader: JupyterLab started in this folder, menu Nbgrader -> Formgrader.
"""

import os

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = HERE
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
# One machine: a local exchange. On JupyterHub, point every user at the shared one instead
# (e.g. /srv/nbgrader/exchange) and remove this line.
c.Exchange.root = os.path.join(HERE, "exchange")

# What a learner sees where a solution was (the same as the lab's exercises/).
c.ClearSolutions.code_stub = {code_stub!r}
c.ClearSolutions.text_stub = {text_stub!r}
c.LimitOutput.max_lines = {max_lines!r}
c.LimitOutput.max_traceback = {max_traceback!r}

# Safe grading of untrusted notebooks (ascend_compat.grading.safety): every kernel runs in a
# sandbox - no network but loopback, no view of source/ or the gradebook, memory, process and
# time limits - and tampering with tests is recorded as nbgrader's "flagged" mark.
{safety}'''


def _lab_settings() -> dict:
    config = course.read_config()[0]
    return {
        "course_id": config.CourseDirectory.course_id,
        "code_stub": dict(config.ClearSolutions.code_stub),
        "text_stub": config.ClearSolutions.text_stub,
        "max_lines": config.LimitOutput.max_lines,
        "max_traceback": config.LimitOutput.max_traceback,
        "timeout": config.Execute.get("timeout", safety.LIMITS["timeout"]),
    }


def init_course(directory: Path | str, assignments: list[str] | None = None, force: bool = False) -> dict:
    """Write the course directory. With ``force``, add to an existing folder and never overwrite:
    an existing ``nbgrader_config.py`` or ``source/<assignment>`` is the instructor's and is kept.

    Returns ``{"added": [...], "kept": [...], "config_kept": bool}``."""
    directory = Path(directory).expanduser()
    if directory.exists() and not directory.is_dir():
        raise UserError(f"{directory} is a file; give a folder for the course")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UserError(f"{directory} is not empty; choose a new folder (or --force to add what is missing; "
                        "nothing there is overwritten)")
    root = course.repo_root()
    names = course.resolve_assignments(assignments or None, root)
    if not names:
        raise UserError("the lab has no assignments with source notebooks yet")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / course.CONFIG_NAME
        config_kept = config.exists()
        if not config_kept:
            settings = _lab_settings()
            safety_text = safety.config_text(timeout=settings.pop("timeout"))
            write_text(config, _CONFIG.format(safety=safety_text, **settings))
        added, kept = [], []
        for name in names:
            target = directory / "source" / name
            if target.exists():
                kept.append(name)
                continue
            shutil.copytree(root / course.SOURCE_DIRECTORY / name, target,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"))
            added.append(name)
        exchange = directory / "exchange"
        exchange.mkdir(exist_ok=True)
        exchange.chmod(0o777)  # nbgrader's exchange is shared by everyone who fetches and submits
    except OSError as exc:
        raise UserError(f"cannot make the course in {directory}: {exc.strerror or exc}; choose a folder you can write to")
    return {"added": added, "kept": kept, "config_kept": config_kept}


def run_init(args: argparse.Namespace) -> int:
    result = init_course(args.directory, args.assignment, args.force)
    directory = Path(args.directory).expanduser().resolve()
    held = sorted(path.name for path in (directory / "source").iterdir() if path.is_dir())
    print(f"nbgrader course in {directory} with {len(held)} assignment(s): {', '.join(held)}")
    if result["added"] and (result["kept"] or result["config_kept"]):
        print(f"added: {', '.join(result['added'])}")
    if result["kept"]:
        print(f"kept as they were (yours): source/{', source/'.join(result['kept'])}")
    if result["config_kept"]:
        print(f"kept as it was (yours): {course.CONFIG_NAME}")
    first = (result["added"] or result["kept"])[0]
    print("next, in that folder:")
    print(f"  nbgrader generate_assignment {first}")
    print(f"  nbgrader release_assignment {first}     # students: nbgrader fetch_assignment / submit")
    print(f"  nbgrader collect {first}                # or nbgrader zip_collect")
    print(f"  ascend-lab autograde {first} --jobs 2   # same as nbgrader autograde, in parallel")
    print(f"  nbgrader generate_feedback {first}")
    print("  nbgrader export                            # grades.csv")
    print(f"students fetch and submit with --Exchange.root={directory / 'exchange'} (or run nbgrader in this folder)")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("course", help="set up an nbgrader course directory for a class",
                                   description="Instructor tools: an nbgrader course directory for teaching the lab.")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="make a ready nbgrader course directory (config + source notebooks)",
                              description="Make DIR an nbgrader course: nbgrader_config.py (with safe grading), "
                                          "the lab's assignments as source/, a local exchange.")
    init.add_argument("directory", metavar="DIR", help="the new course folder")
    init.add_argument("--assignment", action="append", metavar="NAME",
                      help="only this assignment (repeatable; default: every assignment with source notebooks)")
    init.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    init.set_defaults(func=run_init)
