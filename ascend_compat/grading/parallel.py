"""``ascend-lab autograde ASSIGNMENT --jobs N``: nbgrader autograde, N submissions at a time.

nbgrader grades one submission after another, and on a 2-core machine most of a submission's time
is one kernel importing torch on one core. This runs N ordinary ``nbgrader autograde`` processes
side by side and keeps the instructor's gradebook exactly as one sequential run would leave it:

1. the students with a submission in ``submitted/<student>/<assignment>/`` are dealt round-robin
   into N shards (sorted, so the split is deterministic);
2. each shard gets a throw-away *worker course*: the course's ``nbgrader_config.py``, the
   assignment's source folder, a snapshot of the gradebook (SQLite's backup API) and only that
   shard's submissions. ``nbgrader autograde ASSIGNMENT --force`` runs there, with the worker as
   ``CourseDirectory.root`` and its own gradebook on the command line (so nothing a config file
   says can point a worker at the real course);
3. one writer - this process - copies what each worker's nbgrader wrote for its students into the
   instructor's gradebook through nbgrader's :class:`~nbgrader.api.Gradebook` API (the student,
   the submission and its timestamp, every grade's ``auto_score`` and ``needs_manual_grade``,
   every comment's ``auto_comment``, each notebook's ``flagged`` mark and late penalty) and moves
   the graded notebooks into ``autograded/``. Only one process ever writes to the SQLite file: no
   "database is locked", no lost rows.

With ``--jobs 1`` it is plain ``nbgrader autograde`` in the course directory. A test proves the two
leave identical gradebooks (:func:`gradebook_rows`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ascend_compat.errors import UserError

DEFAULT_DIRECTORIES = {"source_directory": "source", "submitted_directory": "submitted",
                       "autograded_directory": "autograded", "feedback_directory": "feedback"}


def cpu_cores() -> int:
    """The CPU cores of this machine (``os.cpu_count()`` may not know: then one)."""
    return os.cpu_count() or 1


def threads_per_job(jobs: int) -> int:
    """The OpenMP threads each of ``jobs`` processes running side by side gets: its share of the cores.

    With one thread per core in every job, the jobs' spinning threads would take turns on the same
    cores (used for nbgrader workers here, and for the test suite's xdist workers).
    """
    return max(1, cpu_cores() // jobs)


@dataclass
class CourseLayout:
    """Where an nbgrader course keeps things (from its ``nbgrader_config.py``)."""

    root: Path
    source: Path
    submitted: Path
    autograded: Path
    feedback: Path
    db_path: Path
    course_id: str

    @classmethod
    def read(cls, root: Path) -> "CourseLayout":
        from ascend_compat.grading import course

        root = Path(root).resolve()
        if not (root / course.CONFIG_NAME).is_file():
            raise UserError(f"{root} is not an nbgrader course directory (no {course.CONFIG_NAME}); "
                            "make one with `ascend-lab course init DIR` or pass --course DIR")
        try:
            config = course.read_config(root)[0].CourseDirectory
        except Exception as exc:  # the instructor's own Python file: a typo is theirs to fix
            line = getattr(exc, "lineno", None)
            where = f", line {line}" if line else ""
            raise UserError(f"{root / course.CONFIG_NAME}{where} does not run: {type(exc).__name__}: "
                            f"{getattr(exc, 'msg', None) or exc}; fix it and try again") from None
        names = {key: config.get(key, default) for key, default in DEFAULT_DIRECTORIES.items()}
        db_url = config.get("db_url", f"sqlite:///{root / 'gradebook.db'}")
        if not db_url.startswith("sqlite:///"):
            raise UserError(f"the gradebook {db_url} is not an SQLite file; parallel grading needs SQLite")
        return cls(root, root / names["source_directory"], root / names["submitted_directory"],
                   root / names["autograded_directory"], root / names["feedback_directory"],
                   Path(db_url[len("sqlite:///"):]), config.get("course_id", "default_course"))

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"


@dataclass
class AutogradeResult:
    """What a run graded, and the submissions nbgrader could not grade ({student: why})."""

    assignment: str
    students: list[str]
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    jobs: int = 1
    jobs_asked: int = 1
    cores: int = 1  # the machine's, which cap the jobs
    notes: dict[str, list[str]] = field(default_factory=dict)  # nbgrader's warnings, per student


# nbgrader's warnings that change a grade without failing it: a notebook missing from a submission
# (graded as blank) or one it does not know (a renamed copy: not graded at all)
_NOTEBOOK_WARNINGS = re.compile(r"(No submitted file|Skipping unknown notebook): \S*?submitted[\\/](?:\.[\\/])*"
                                r"([^\\/]+)[\\/](?:\.[\\/])*[^\\/]+[\\/](?:\.[\\/])*(\S+)")


def _notebook_notes(result, notes: dict[str, list[str]]) -> None:
    for kind, student, notebook in _NOTEBOOK_WARNINGS.findall(result.stdout + result.stderr):
        text = (f"{notebook} not submitted (scored as blank)" if kind.startswith("No")
                else f"{notebook} is not a notebook of the assignment (not graded)")
        notes.setdefault(student, []).append(text)


def submitted_students(layout: CourseLayout, assignment: str) -> list[str]:
    if not layout.submitted.is_dir():
        return []
    return sorted(path.name for path in layout.submitted.iterdir()
                  if (path / assignment).is_dir() and not path.name.startswith("."))


def _check_generated(layout: CourseLayout, assignment: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    from sqlalchemy.exc import DatabaseError

    from ascend_compat.grading import course

    if layout.root == course.repo_root():
        raise UserError(f"{layout.root} is the lab's own repository, not a course: make one with "
                        "`ascend-lab course init DIR` and run this in DIR (or pass --course DIR)")
    if not layout.db_path.is_file():
        raise UserError(f"no gradebook at {layout.db_path}: run `nbgrader generate_assignment {assignment}` first")
    try:
        with Gradebook(layout.db_url, course_id=layout.course_id) as gradebook:
            try:
                gradebook.find_assignment(assignment)
            except MissingEntry:
                raise UserError(f"the gradebook has no assignment {assignment!r}: "
                                f"run `nbgrader generate_assignment {assignment}` first") from None
    except DatabaseError as exc:
        raise UserError(f"{layout.db_path} is not a readable nbgrader gradebook ({exc.orig}); nothing was graded. "
                        "Restore it from a backup, or move it away and run `nbgrader generate_assignment` "
                        "to start a new one") from None


def _check_timestamps(layout: CourseLayout, assignment: str, students: list[str]) -> None:
    """A hand-written ``timestamp.txt`` nbgrader cannot read would stop its run midway: refuse first."""
    from nbgrader.utils import parse_utc

    for student in students:
        stamp = layout.submitted / student / assignment / "timestamp.txt"
        if not stamp.is_file():
            continue
        text = stamp.read_text(encoding="utf-8", errors="replace").strip()
        try:
            parse_utc(text)
        except Exception:
            raise UserError(f"{stamp} says {text[:40]!r}, which is not a date: write one like "
                            "2026-12-01 09:00:00 (as `nbgrader collect` does) or delete the file") from None


def _snapshot_gradebook(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite file, even if someone has it open (sqlite3 backup API)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _copy_tree(source: Path, target: Path) -> None:
    # symlinks=True copies a submitted symlink as a link (not what it points to); the sandbox then
    # drops it from the kernel's working copy.
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)


def _nbgrader_args(assignment: str, worker: Path, log_level: str = "WARN") -> list[str]:
    return ["autograde", assignment, "--force", f"--log-level={log_level}",
            f"--CourseDirectory.root={worker}", f"--CourseDirectory.db_url=sqlite:///{worker / 'gradebook.db'}"]


def _make_worker(layout: CourseLayout, assignment: str, students: list[str], worker: Path) -> None:
    from ascend_compat.grading import course

    worker.mkdir(parents=True)
    shutil.copy2(layout.root / course.CONFIG_NAME, worker / course.CONFIG_NAME)
    jupyter = layout.root / ".jupyter"
    if jupyter.is_dir():  # the lab's own temporary courses keep their safety config there
        _copy_tree(jupyter, worker / ".jupyter")
    _copy_tree(layout.source / assignment, worker / layout.source.name / assignment)
    _snapshot_gradebook(layout.db_path, worker / "gradebook.db")
    for student in students:
        _copy_tree(layout.submitted / student / assignment, worker / layout.submitted.name / student / assignment)


def _run_nbgrader(args: list[str], cwd: Path, isolated_config: bool, jobs: int = 1):
    import subprocess
    import sys

    from ascend_compat.grading import course

    env = course.nbgrader_environment(cwd) if isolated_config else dict(os.environ)
    if jobs > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(threads_per_job(jobs))  # each job's kernels get their share of the cores
    if not isolated_config:
        env.setdefault("ASCEND_LAB_KERNEL_BACKEND", os.environ.get("ASCEND_COMPAT_BACKEND", ""))
        env["ASCEND_COMPAT_BACKEND"] = "cpu"
        env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def _failures(result, students: list[str], log_path: Path | None = None) -> dict[str, str]:
    """The students nbgrader could not grade; nbgrader's output is appended to ``log_path`` for them."""
    from ascend_compat.grading.autograde import _FAILED

    if result.returncode == 0:
        return {}
    log = result.stdout + result.stderr
    where = "its log"
    if log_path is not None:
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write(log)
        where = str(log_path)
    failed = {student: f"nbgrader could not grade this submission (see {where})" for student in _FAILED.findall(log)}
    if not failed:
        tail = "\n".join(log.strip().splitlines()[-15:])
        raise UserError(f"`nbgrader autograde` failed (exit {result.returncode}):\n{tail}")
    return {student: why for student, why in failed.items() if student in students}


def _merge(layout: CourseLayout, assignment: str, worker: Path, students: list[str]) -> None:
    """Copy the worker's rows for ``students`` into the course gradebook (this is the only writer)."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    with Gradebook(f"sqlite:///{worker / 'gradebook.db'}", course_id=layout.course_id) as source, \
            Gradebook(layout.db_url, course_id=layout.course_id) as target, warnings.catch_warnings():
        # nbgrader's add_submission trips SQLAlchemy 2's autoflush warnings (as in nbgrader autograde itself)
        warnings.simplefilter("ignore", SAWarning)
        for student in students:
            try:
                submission = source.find_submission(assignment, student)
            except MissingEntry:
                continue  # nbgrader stopped before creating it; a sequential run would not have it either
            target.update_or_create_student(student)
            kwargs = {"timestamp": submission.timestamp} if submission.timestamp is not None else {}
            target.update_or_create_submission(assignment, student, **kwargs)
            for notebook in submission.notebooks:
                into = target.find_submission_notebook(notebook.name, assignment, student)
                into.flagged = notebook.flagged
                into.late_submission_penalty = notebook.late_submission_penalty
                for grade in notebook.grades:
                    row = target.find_grade(grade.name, notebook.name, assignment, student)
                    row.auto_score, row.needs_manual_grade = grade.auto_score, grade.needs_manual_grade
                for comment in notebook.comments:
                    row = target.find_comment(comment.name, notebook.name, assignment, student)
                    row.auto_comment = comment.auto_comment
            target.db.commit()
    for student in students:
        graded = worker / layout.autograded.name / student / assignment
        destination = layout.autograded / student / assignment
        if destination.exists():
            shutil.rmtree(destination)  # what --force does in a sequential run
        if graded.is_dir():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(graded), destination)


def autograde_course(course_dir: Path | str, assignment: str, jobs: int = 1,
                     students: list[str] | None = None, isolated_config: bool = False) -> AutogradeResult:
    """Autograde ``assignment`` in the nbgrader course ``course_dir`` with ``jobs`` nbgrader processes.

    ``students`` restricts the run (default: every student with a submission). ``isolated_config``
    ignores ``~/.jupyter`` (the lab's temporary courses use it); instructors' runs read it, as
    nbgrader does.
    """
    if jobs < 1:
        raise UserError(f"--jobs {jobs}: use 1 or more")
    layout = CourseLayout.read(Path(course_dir))
    assignment = assignment.rstrip("/" + os.sep)  # a folder name completed by the shell
    if not assignment or os.sep in assignment or not (layout.source / assignment).is_dir():
        known = sorted(p.name for p in layout.source.iterdir() if p.is_dir()) if layout.source.is_dir() else []
        raise UserError(f"{assignment!r} is not an assignment of this course (no folder {layout.source / assignment}); "
                        f"the course has: {', '.join(known) or 'none yet'}")
    _check_generated(layout, assignment)
    everyone = submitted_students(layout, assignment)
    chosen = everyone if students is None else sorted(students)
    missing = sorted(set(chosen) - set(everyone))
    if missing:
        raise UserError(f"no submission of {assignment} for {', '.join(missing)} in {layout.submitted}")
    _check_timestamps(layout, assignment, chosen)
    # more jobs than cores only queues kernels (each with its own memory limit): cap at the cores
    cores = cpu_cores()
    result = AutogradeResult(assignment, chosen, jobs=min(jobs, cores, max(1, len(chosen))), jobs_asked=jobs,
                             cores=cores)
    log_path = layout.root / f"autograde-{assignment}.log"  # nbgrader's output, kept when a submission fails
    log_path.unlink(missing_ok=True)
    start = time.perf_counter()
    if not chosen:
        return result
    if result.jobs == 1 and students is None:
        run = _run_nbgrader(["autograde", assignment, "--force", "--log-level=WARN"], layout.root, isolated_config)
        result.failed = _failures(run, chosen, log_path)
        _notebook_notes(run, result.notes)
    else:
        shards = [chosen[index::result.jobs] for index in range(result.jobs)]
        with tempfile.TemporaryDirectory(prefix="ascend-lab-autograde-") as tmp:
            workers = [Path(tmp) / f"worker-{index}" for index in range(len(shards))]
            for worker, shard in zip(workers, shards):
                _make_worker(layout, assignment, shard, worker)
            runs: dict[int, object] = {}

            def grade(index: int) -> None:
                runs[index] = _run_nbgrader(_nbgrader_args(assignment, workers[index]), workers[index], isolated_config,
                                            jobs=len(shards))

            threads = [threading.Thread(target=grade, args=(index,)) for index in range(len(shards))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for index, shard in enumerate(shards):  # one writer, in shard order
                result.failed.update(_failures(runs[index], shard, log_path))
                _notebook_notes(runs[index], result.notes)
                _merge(layout, assignment, workers[index], shard)
    result.seconds = time.perf_counter() - start
    return result


def gradebook_rows(db_path: Path | str, assignment: str) -> list[tuple]:
    """Everything autograding writes for ``assignment``, as sorted plain tuples (no row ids).

    Two gradebooks with equal rows hold the same grading results; used to prove the parallel
    run equals the sequential one.
    """
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{db_path}") as gradebook:
        for student in gradebook.students:
            rows.append(("student", student.id, student.first_name, student.last_name, student.email,
                         student.lms_user_id))
        for submission in gradebook.find_assignment(assignment).submissions:
            who = submission.student.id
            rows.append(("submission", who, str(submission.timestamp), str(submission.extension)))
            for notebook in submission.notebooks:
                rows.append(("notebook", who, notebook.name, bool(notebook.flagged), notebook.late_submission_penalty))
                rows += [("grade", who, notebook.name, grade.name, grade.auto_score, grade.manual_score,
                          grade.extra_credit, bool(grade.needs_manual_grade)) for grade in notebook.grades]
                rows += [("comment", who, notebook.name, comment.name, comment.auto_comment, comment.manual_comment)
                         for comment in notebook.comments]
    return sorted(rows, key=repr)


def score_table(db_path: Path | str, assignment: str, students: list[str]) -> list[tuple[str, float, float, bool]]:
    """(student, points, max points, flagged) per student, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    table = []
    with Gradebook(f"sqlite:///{db_path}") as gradebook:
        max_points = float(gradebook.find_assignment(assignment).max_score)
        for student in students:
            try:
                submission = gradebook.find_submission(assignment, student)
            except MissingEntry:
                table.append((student, 0.0, max_points, False))
                continue
            flagged = any(notebook.flagged for notebook in submission.notebooks)
            table.append((student, float(submission.score or 0.0), max_points, flagged))
    return table


# --- the command -----------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    course_dir = Path(args.course) if args.course else Path.cwd()
    result = autograde_course(course_dir, args.assignment, jobs=args.jobs, students=args.student or None)
    layout = CourseLayout.read(course_dir)
    capped = (f" (--jobs {result.jobs_asked}: at most one per core, {result.cores})"
              if result.jobs_asked > result.cores else "")
    print(f"graded {len(result.students)} submission(s) of {result.assignment} with {result.jobs} "
          f"nbgrader process(es){capped} in {result.seconds:.1f} s")
    rows = score_table(layout.db_path, result.assignment, result.students)
    width = max([len("student")] + [len(row[0]) for row in rows])
    print(f"  {'student':<{width}}  score")
    for student, points, max_points, flagged in rows:
        notes = []
        if flagged:
            notes.append("flagged for review (see the notice in its autograded notebook)")
        notes += result.notes.get(student, [])
        if student in result.failed:
            notes.append(result.failed[student])
        print(f"  {student:<{width}}  {points:g} / {max_points:g}  {'; '.join(notes)}".rstrip())
    print(f"gradebook: {layout.db_path}")
    return 1 if result.failed else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "autograde", help="nbgrader autograde of an assignment, several submissions at a time",
        description="Run nbgrader autograde on every submission of ASSIGNMENT in an nbgrader course "
                    "directory, with N nbgrader processes side by side, and write all results into "
                    "the course's gradebook (the same results as one sequential nbgrader autograde).")
    parser.add_argument("assignment", metavar="ASSIGNMENT", help="the assignment to grade, e.g. level0_inference")
    parser.add_argument("--jobs", "-j", type=int, default=cpu_cores(),
                        help="submissions graded at a time (default: the number of CPU cores)")
    parser.add_argument("--course", metavar="DIR", help="the nbgrader course directory (default: the current directory)")
    parser.add_argument("--student", action="append", metavar="ID", help="grade only this student (repeatable)")
    parser.set_defaults(func=run)
