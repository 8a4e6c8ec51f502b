"""``ascend-lab grade [LEVEL|PATH]``: a self-paced learner grades their own exercise notebooks.

Exactly what an instructor's autograder does - ``nbgrader autograde`` with the hidden tests, in the
sandbox of :mod:`.safety` - then ``nbgrader generate_feedback``, in a temporary course directory:

1. a *prepared course* per assignment: ``solutions/<assignment>`` and the course's
   ``nbgrader_config.py`` with ``nbgrader generate_assignment`` already run (the gradebook knows
   the tests). It is cached in ``$ASCEND_LAB_HOME/cache/`` under a hash of the source notebooks
   and the config, so only the first grade of a level pays for it;
2. a fresh copy of it, with the learner's notebooks as ``submitted/learner/<assignment>/``;
3. ``autograde`` and ``generate_feedback`` in one nbgrader process (:mod:`.nbgrader_batch`);
4. the scores per test cell printed, the feedback HTML copied to
   ``$ASCEND_LAB_HOME/feedback/<assignment>/<notebook>.html``, the score recorded for the
   dashboard (:mod:`.progress`).

``solutions/`` and the learner's notebooks are only read. The learner's copy may live anywhere
(``ascend-lab grade ~/my-copy/ex01_pick_device.ipynb``); its file name says which exercise it is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ascend_compat.atomic import write_bytes
from ascend_compat.errors import UserError
from ascend_compat.grading import course, progress

STUDENT = "learner"


@dataclass
class GradedNotebook:
    assignment: str
    path: Path                 # the learner's notebook that was graded
    score: object              # autograde.NotebookScore
    feedback: Path | None


# --- what to grade ------------------------------------------------------------------------------

def _owner_of(filename: str, root: Path, hint: str | None = None) -> str:
    owners = [name for name in course.assignments(root) if (root / course.SOURCE_DIRECTORY / name / filename).is_file()]
    if hint in owners:
        return hint
    if len(owners) == 1:
        return owners[0]
    if not owners:
        raise UserError(f"{filename} is not an exercise of the course (no solutions/*/{filename}); "
                        "grade your copy under its original file name, e.g. ex01_pick_device.ipynb")
    raise UserError(f"{filename} is an exercise of several levels ({', '.join(owners)}); "
                    "put it in a folder named after its level")


def resolve_targets(targets: list[str] | None, root: Path | None = None) -> dict[str, list[Path]]:
    """{assignment: [learner notebooks]} for ``LEVEL`` names, notebook paths or folders (default: exercises/)."""
    root = root or course.repo_root()
    known = course.assignments(root)
    chosen: dict[str, list[Path]] = {}

    def add(assignment: str, path: Path) -> None:
        paths = chosen.setdefault(assignment, [])
        if path.resolve() not in [p.resolve() for p in paths]:
            paths.append(path)

    def add_folder(folder: Path, assignment_hint: str | None) -> int:
        count = 0
        for path in sorted(folder.glob("*.ipynb")):
            add(_owner_of(path.name, root, assignment_hint or folder.name), path)
            count += 1
        return count

    for target in targets or [None]:
        if target is None:
            for name in course.resolve_assignments(None, root):
                if (root / course.RELEASE_DIRECTORY / name).is_dir():
                    add_folder(root / course.RELEASE_DIRECTORY / name, name)
            continue
        path = Path(target).expanduser()
        if path.is_file():
            if path.suffix != ".ipynb":
                raise UserError(f"{target} is not a notebook (.ipynb)")
            add(_owner_of(path.name, root, path.parent.name), path)
        elif path.is_dir():
            if not add_folder(path, path.name if path.name in known else None):
                raise UserError(f"{target} holds no notebooks (.ipynb)")
        else:
            try:
                names = progress.resolve_level(int(target) if target.isdigit() else target, known)
            except UserError:
                raise UserError(f"{target!r} is neither a level ({', '.join(known)}) nor a notebook or folder") from None
            for name in names:
                folder = root / course.RELEASE_DIRECTORY / name
                if not folder.is_dir() or not add_folder(folder, name):
                    raise UserError(f"{course.RELEASE_DIRECTORY}/{name}/ has no exercise notebooks yet")
    if not chosen:
        raise UserError("there is nothing to grade: no exercise notebooks found")
    return chosen


# --- the prepared course (cached) -------------------------------------------------------------------

def _course_key(assignment: str, root: Path) -> str:
    import nbgrader

    digest = hashlib.sha256(nbgrader.__version__.encode())
    digest.update((root / course.CONFIG_NAME).read_bytes())
    for path in sorted((root / course.SOURCE_DIRECTORY / assignment).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prepared_course(assignment: str, limits: dict | None = None, root: Path | None = None) -> Path:
    """A course folder with ``assignment`` generated (gradebook included), built once and cached."""
    root = root or course.repo_root()
    key = _course_key(assignment, root)
    cache = progress.home() / "cache" / "courses"
    target = cache / f"{assignment}-{key}"
    if (target / "gradebook.db").is_file():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{assignment}-", dir=cache))
    try:
        course.make_course_copy(building, [assignment], root, limits=limits)
        course.nbgrader(["generate_assignment", assignment, "--force", "--log-level=WARN"], building)
        try:
            building.rename(target)  # atomic: another grade running at the same time may win
        except OSError:
            pass
    finally:
        shutil.rmtree(building, ignore_errors=True)
    for stale in cache.glob(f"{assignment}-*"):  # older versions of the same assignment
        if stale != target and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _batch(work: Path, steps: list[str]) -> dict:
    env = course.nbgrader_environment(work)
    result = subprocess.run([sys.executable, "-m", "ascend_compat.grading.nbgrader_batch", *steps],
                            cwd=work, env=env, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise UserError(f"nbgrader could not run ({' '.join(steps)}):\n{tail}")
    return json.loads(lines[-1])


# --- grading ----------------------------------------------------------------------------------------

def grade_assignment(assignment: str, notebooks: list[Path], limits: dict | None = None,
                     record: bool = True) -> list[GradedNotebook]:
    """Grade the learner's ``notebooks`` of ``assignment``; feedback and progress saved."""
    from ascend_compat.grading.autograde import _graded_cell_order, _read_scores

    root = course.repo_root()
    prepared = prepared_course(assignment, limits, root)
    with tempfile.TemporaryDirectory(prefix="ascend-lab-grade-") as tmp:
        work = Path(tmp) / "course"
        shutil.copytree(prepared, work)
        course.write_safety_config(work, limits)  # the limits asked for now, not the cached ones
        folder = work / "submitted" / STUDENT / assignment
        folder.mkdir(parents=True)
        for path in notebooks:
            shutil.copyfile(path, folder / path.name)
        results = _batch(work, [f"autograde:{assignment}:{STUDENT}", f"generate_feedback:{assignment}:{STUDENT}"])
        if not results.get(f"autograde:{assignment}:{STUDENT}", {}).get("success"):
            log = results.get(f"autograde:{assignment}:{STUDENT}", {}).get("log", "")
            tail = "\n".join(log.strip().splitlines()[-10:])
            raise UserError(f"nbgrader could not grade {', '.join(p.name for p in notebooks)}:\n{tail}")
        scores = _read_scores(work, assignment, [STUDENT], _graded_cell_order(root / course.SOURCE_DIRECTORY / assignment))
        graded = []
        for path in notebooks:
            score = scores[STUDENT].notebooks[path.name]
            feedback = _keep_feedback(work / "feedback" / STUDENT / assignment / f"{path.stem}.html", assignment)
            graded.append(GradedNotebook(assignment, path, score, feedback))
            if record:
                progress.record_grade(path.stem, assignment, score.points, score.max_points,
                                      {cell.grade_id: (cell.points, cell.max_points) for cell in score.cells},
                                      feedback=str(feedback) if feedback else None, flagged=score.flagged,
                                      digest=progress.file_digest(path))
        return graded


def _keep_feedback(html: Path, assignment: str) -> Path | None:
    if not html.is_file():
        return None
    target = progress.home() / "feedback" / assignment / html.name
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(target, html.read_bytes())
    return target


def grade(targets: list[str] | None = None, limits: dict | None = None) -> list[GradedNotebook]:
    results = []
    for assignment, notebooks in resolve_targets(targets).items():
        results += grade_assignment(assignment, notebooks, limits)
    return results


def report(graded: list[GradedNotebook]) -> str:
    lines = []
    for item in graded:
        score = item.score
        lines.append(f"{item.assignment} / {item.path.name}: {score.points:g} / {score.max_points:g}")
        width = max([len(cell.grade_id) for cell in score.cells] + [4])
        for cell in score.cells:
            mark = "" if cell.points >= cell.max_points else "   <- failed: open the feedback for why"
            lines.append(f"  {cell.grade_id:<{width}}  {cell.points:g} / {cell.max_points:g}{mark}")
        if score.flagged:
            lines.append("  flagged by the integrity check:")
            lines += [f"    - {finding}" for finding in score.findings]
        lines.append(f"  feedback: {item.feedback}" if item.feedback else "  (no feedback page was generated)")
    total = sum(item.score.points for item in graded)
    possible = sum(item.score.max_points for item in graded)
    lines.append(f"total: {total:g} / {possible:g}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    graded = grade(args.targets or None)
    print(report(graded))
    print(f"graded with nbgrader in {time.perf_counter() - start:.1f} s; progress: {progress.state_path()}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade", help="grade your exercise notebooks with nbgrader (hidden tests, feedback pages)",
        description="Grade your own exercise notebooks as the instructor's autograder would: nbgrader "
                    "autograde with the hidden tests, a score per test, and nbgrader's HTML feedback "
                    "saved under $ASCEND_LAB_HOME/feedback (default ~/.ascend_lab).")
    parser.add_argument("targets", nargs="*", metavar="LEVEL|PATH",
                        help="a level (0, level0, level0_inference), a notebook or a folder "
                             "(default: every exercise in exercises/)")
    parser.set_defaults(func=run)
