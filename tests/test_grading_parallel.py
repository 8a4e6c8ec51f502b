"""``ascend-lab autograde --jobs 2`` leaves the gradebook exactly as one sequential ``nbgrader autograde``.

Two copies of the same course with the same submissions - honest, wrong, a kernel crash, a
tampering one (flagged) - and a student the gradebook knew before: one copy graded by plain
``nbgrader autograde`` (one submission after another), the other by the parallel runner (2 worker
courses, one writer). Every row nbgrader writes must be equal; nothing already there may be lost.
"""

from __future__ import annotations

import shutil

import pytest
from nbgrader.api import Gradebook

from ascend_compat.errors import UserError
from ascend_compat.grading import course
from ascend_compat.grading.parallel import autograde_course, gradebook_rows
from test_grading_redteam import ASSIGNMENT, LIMITS, NOTEBOOK, Kit, load_case, place


@pytest.fixture(scope="module")
def two_courses(tmp_path_factory):
    from ascend_compat.grading.instructor import init_course

    base = tmp_path_factory.mktemp("parallel") / "base"
    init_course(base, [ASSIGNMENT])
    with open(base / course.CONFIG_NAME, "a") as handle:
        handle.write("".join(f"c.SafeExecute.{key} = {value!r}\n" for key, value in LIMITS.items()))
    course.nbgrader(["generate_assignment", ASSIGNMENT, "--force", "--log-level=WARN"], base)
    kit = Kit()
    place(base, "solved", kit.answer(kit.release(), kit.solution))
    place(base, "blank", kit.release())
    place(base, "wrong", kit.answer(kit.release(), kit.wrong))
    place(base, "crashes", load_case("os_exit").submission(kit))
    place(base, "cheats", load_case("patched_checker").submission(kit))
    with Gradebook(f"sqlite:///{base / 'gradebook.db'}") as gradebook:
        gradebook.update_or_create_student("zed", first_name="Zed", last_name="Known-Before")
    sequential, parallel = base.parent / "sequential", base.parent / "parallel"
    shutil.copytree(base, sequential)
    shutil.copytree(base, parallel)
    course.nbgrader(["autograde", ASSIGNMENT, "--force", "--log-level=WARN"], sequential)
    result = autograde_course(parallel, ASSIGNMENT, jobs=2, isolated_config=True)
    assert result.jobs == 2 and result.failed == {}
    return sequential, parallel


def test_parallel_and_sequential_gradebooks_are_identical(two_courses):
    sequential, parallel = two_courses
    rows = gradebook_rows(sequential / "gradebook.db", ASSIGNMENT)
    assert rows == gradebook_rows(parallel / "gradebook.db", ASSIGNMENT)
    grades = {(r[1], r[3]): r[4] for r in rows if r[0] == "grade" and r[2] == NOTEBOOK}
    assert sum(v for (who, _), v in grades.items() if who == "solved") == 8
    assert sum(v for (who, _), v in grades.items() if who == "wrong") == 5
    assert sum(v for (who, _), v in grades.items() if who in ("blank", "crashes", "cheats")) == 0
    flagged = {r[1] for r in rows if r[0] == "notebook" and r[2] == NOTEBOOK and r[3]}
    assert flagged == {"crashes", "cheats"}
    assert ("student", "zed", "Zed", "Known-Before", None, None) in rows


def test_the_graded_notebooks_land_in_the_course(two_courses):
    sequential, parallel = two_courses
    files = lambda root: sorted(str(p.relative_to(root)) for p in (root / "autograded").rglob("*") if p.is_file())
    assert files(sequential) == files(parallel) and len(files(parallel)) >= 5


def test_bad_requests_are_one_clear_error(two_courses, tmp_path):
    _, parallel = two_courses
    with pytest.raises(UserError, match="no submission"):
        autograde_course(parallel, ASSIGNMENT, jobs=2, students=["nobody"])
    with pytest.raises(UserError, match="not an nbgrader course"):
        autograde_course(tmp_path, ASSIGNMENT)
    with pytest.raises(UserError, match="--jobs 0"):
        autograde_course(parallel, ASSIGNMENT, jobs=0)
    with pytest.raises(UserError, match="not an assignment of this course"):
        autograde_course(parallel, "level9_nothing")


def test_each_job_gets_its_share_of_the_cores(monkeypatch, tmp_path):
    """Two jobs with one OpenMP thread per core each would make their kernels take turns."""
    import subprocess

    from ascend_compat.grading import parallel

    seen = []
    monkeypatch.setattr(subprocess, "run", lambda *a, env=None, **k: seen.append(env.get("OMP_NUM_THREADS")))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 4)
    parallel._run_nbgrader(["autograde", "a"], tmp_path, isolated_config=False, jobs=2)
    parallel._run_nbgrader(["autograde", "a"], tmp_path, isolated_config=False, jobs=1)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # an instructor's own setting wins
    parallel._run_nbgrader(["autograde", "a"], tmp_path, isolated_config=False, jobs=2)
    assert seen == ["2", None, "3"]


def test_an_instructors_mistakes_get_one_line_and_change_nothing(two_courses, tmp_path):
    """A typo in the name or the config, a damaged gradebook, the lab's repository: one clear
    UserError each, before anything is graded, and the gradebook file is untouched."""
    _, parallel = two_courses
    mine = tmp_path / "mine"
    shutil.copytree(parallel, mine)
    gradebook = (mine / "gradebook.db").read_bytes()

    with pytest.raises(UserError, match=f"the course has: {ASSIGNMENT}"):
        autograde_course(mine, "level0_inferenc", students=["blank"], isolated_config=True)
    config = mine / course.CONFIG_NAME
    original = config.read_text()
    config.write_text(original + "c.Foo = (\n")
    with pytest.raises(UserError, match=r"nbgrader_config.py, line \d+ does not run: SyntaxError"):
        autograde_course(mine, ASSIGNMENT, isolated_config=True)
    config.write_text(original)
    assert (mine / "gradebook.db").read_bytes() == gradebook

    stamp = mine / "submitted" / "blank" / ASSIGNMENT / "timestamp.txt"
    stamp.write_text("yesterday")
    with pytest.raises(UserError, match="timestamp.txt says 'yesterday', which is not a date"):
        autograde_course(mine, ASSIGNMENT, students=["blank"], isolated_config=True)
    stamp.write_text("2026-12-01 09:00:00")
    assert (mine / "gradebook.db").read_bytes() == gradebook

    (mine / "gradebook.db").write_bytes(b"not a database")
    with pytest.raises(UserError, match="not a readable nbgrader gradebook"):
        autograde_course(mine, ASSIGNMENT, isolated_config=True)
    assert (mine / "gradebook.db").read_bytes() == b"not a database"
    with pytest.raises(UserError, match="the lab's own repository"):
        autograde_course(course.repo_root(), ASSIGNMENT)


def test_a_trailing_slash_names_the_same_assignment(two_courses, tmp_path):
    _, parallel = two_courses
    mine = tmp_path / "mine"
    shutil.copytree(parallel, mine)
    result = autograde_course(mine, ASSIGNMENT + "/", jobs=1000, students=["blank"], isolated_config=True)
    assert result.assignment == ASSIGNMENT and result.failed == {}
    assert result.jobs_asked == 1000 and result.jobs == 1  # never more jobs than cores or submissions


def test_nbgraders_notebook_warnings_reach_the_score_table():
    """A notebook missing from a submission, or a renamed copy nbgrader skips, changes the grade
    without failing the run: the table says so next to the student."""
    from types import SimpleNamespace

    from ascend_compat.grading.parallel import _notebook_notes

    log = ("[AutogradeApp | WARNING] No submitted file: /c/submitted/./bob/level0_inference/./ex04_fp16_decode.ipynb\n"
           "[AutogradeApp | WARNING] Skipping unknown notebook: /w/worker-0/submitted/amy/level0_inference/"
           "ex01_pick_device-Copy1.ipynb\n")
    notes = {}
    _notebook_notes(SimpleNamespace(stdout=log, stderr=""), notes)
    assert notes == {"bob": ["ex04_fp16_decode.ipynb not submitted (scored as blank)"],
                     "amy": ["ex01_pick_device-Copy1.ipynb is not a notebook of the assignment (not graded)"]}
