"""Hostile and broken submissions (tests/redteam/) graded in one batch with honest ones.

One instructor batch, as a class would run it: ``ascend-lab course init``, ``nbgrader
generate_assignment``, every submission in ``submitted/``, then ``ascend-lab autograde --jobs 2``
(sandboxed kernels, integrity checks). Each red-team case must get exactly the score and flag in
its ``EXPECT``; the honest submissions of the same batch keep their scores; the course's source
notebooks and the lab's ``solutions/`` are untouched. The limits are small (a 20 s cell, a 2 GB
memory limit) so the batch stays cheap; the defaults are in ascend_compat/grading/safety.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import nbformat
import pytest

from ascend_compat.grading import course
from ascend_compat.grading.instructor import init_course
from ascend_compat.grading.parallel import autograde_course
from grading_helpers import EXERCISES, SOLUTIONS, WRONG_ANSWERS, solution_answer

ASSIGNMENT, NOTEBOOK = "level0_inference", "ex01_pick_device"
CORPUS = Path(__file__).resolve().parent / "redteam"
CASES = sorted(path.stem for path in CORPUS.glob("*.py"))
LIMITS = {"timeout": 20, "notebook_timeout": 90, "memory_limit": "2G", "max_processes": 128}
HONEST = {"honest_solution": 8.0, "honest_blank": 0.0, "honest_wrong": 5.0}


class Kit:
    """What a red-team case builds its submission from."""

    solution = solution_answer(ASSIGNMENT, NOTEBOOK, "pick_device_answer")
    # A plausible wrong answer (tests/wrong_answers): it loses the 3 hidden override points.
    wrong = (WRONG_ANSWERS / ASSIGNMENT / NOTEBOOK / "drops_the_index.py").read_text()

    @staticmethod
    def release():
        return nbformat.read(EXERCISES / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)

    @staticmethod
    def other_notebook():
        """(file name, release) of another notebook of the same assignment."""
        path = sorted(p for p in (EXERCISES / ASSIGNMENT).glob("*.ipynb") if p.stem != NOTEBOOK)[0]
        return path.name, nbformat.read(path, as_version=4)

    @staticmethod
    def answer(nb, source: str):
        (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "pick_device_answer"]
        cell.source = source
        return nb


def load_case(name: str):
    spec = importlib.util.spec_from_file_location(f"redteam_{name}", CORPUS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()


def place(course_dir: Path, student: str, content) -> None:
    folder = course_dir / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-01-15 10:00:00.000000 UTC")
    is_files = isinstance(content, dict) and not isinstance(content, nbformat.NotebookNode)
    files = content if is_files else {f"{NOTEBOOK}.ipynb": content}
    for name, notebook in files.items():
        if isinstance(notebook, bytes):
            (folder / name).write_bytes(notebook)
        elif notebook is not None:
            nbformat.write(notebook, folder / name)


def graded_batch(course_dir: Path, cases: list[str], jobs: int = 2) -> dict:
    """{student: (ex01 points, flagged, findings)} after one autograde of every case + honest ones."""
    from nbgrader.api import Gradebook, MissingEntry

    init_course(course_dir, [ASSIGNMENT])
    with open(course_dir / course.CONFIG_NAME, "a") as handle:
        handle.write("".join(f"c.SafeExecute.{key} = {value!r}\n" for key, value in LIMITS.items()))
    course.nbgrader(["generate_assignment", ASSIGNMENT, "--force", "--log-level=WARN"], course_dir)
    kit = Kit()
    for name in cases:
        place(course_dir, name, load_case(name).submission(kit))
    place(course_dir, "honest_solution", kit.answer(kit.release(), kit.solution))
    place(course_dir, "honest_blank", kit.release())
    place(course_dir, "honest_wrong", kit.answer(kit.release(), kit.wrong))
    autograde_course(course_dir, ASSIGNMENT, jobs=jobs, isolated_config=True)
    results = {}
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        for student in [*cases, *HONEST]:
            try:
                graded = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student)
            except MissingEntry:
                results[student] = (None, None, [])
                continue
            path = course_dir / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
            findings = []
            if path.is_file():
                findings = [f["finding"] for f in nbformat.read(path, as_version=4).metadata
                            .get("ascend_lab", {}).get("integrity", [])]
            results[student] = (float(graded.score), bool(graded.flagged), findings)
    return results


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    course_dir = tmp_path_factory.mktemp("redteam") / "course"
    solutions_before = _tree_digest(SOLUTIONS / ASSIGNMENT)
    results = graded_batch(course_dir, CASES)
    assert _tree_digest(SOLUTIONS / ASSIGNMENT) == solutions_before, "grading changed solutions/"
    assert _tree_digest(course_dir / "source" / ASSIGNMENT) == _tree_digest(SOLUTIONS / ASSIGNMENT), \
        "a submission changed the course's source notebooks"
    return results


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 12


@pytest.mark.parametrize("student,points", sorted(HONEST.items()))
def test_honest_submissions_in_the_same_batch_keep_their_scores(batch, student, points):
    score, flagged, findings = batch[student]
    assert (score, flagged, findings) == (points, False, [])


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_submission_is_graded_as_expected(batch, case):
    expect = load_case(case).EXPECT
    score, flagged, findings = batch[case]
    assert score == expect["points"], f"{case}: {score} points, expected {expect['points']} (findings: {findings})"
    assert flagged == expect["flagged"], f"{case}: flagged={flagged}, expected {expect['flagged']} (findings: {findings})"
    if "finding" in expect:
        assert any(expect["finding"] in finding for finding in findings), f"{case}: findings {findings}"
