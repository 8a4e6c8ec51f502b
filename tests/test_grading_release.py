"""exercises/ is nbgrader's release of solutions/: generated, normalised, validated, never drifting."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from ascend_compat import notebook_hygiene
from ascend_compat.errors import UserError
from ascend_compat.grading import cli, course, release
from grading_helpers import EXERCISES, ROOT, SOLUTIONS, fill_release, solution_answer

ASSIGNMENT = "level0_inference"


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> Path:
    """A release generated now from solutions/, into a temporary directory."""
    dest = tmp_path_factory.mktemp("release")
    before = set(os.listdir(ROOT))
    release.generate_exercises(dest=dest)
    assert set(os.listdir(ROOT)) == before, "generating must not leave files (gradebook.db, .nbgrader.log) in the repository"
    return dest


def test_committed_exercises_equal_a_fresh_release_byte_for_byte(fresh_release):
    generated = sorted(p.relative_to(fresh_release) for p in fresh_release.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(EXERCISES) for p in EXERCISES.rglob("*") if p.is_file())
    assert generated == committed, "run `ascend-lab exercises generate` (make exercises)"
    for relative in generated:
        assert (fresh_release / relative).read_bytes() == (EXERCISES / relative).read_bytes(), (
            f"exercises/{relative} drifted from solutions/: run `ascend-lab exercises generate`")


def test_every_assignment_with_sources_is_released(fresh_release):
    for source in SOLUTIONS.glob("*/*.ipynb"):
        assert (fresh_release / source.parent.name / source.name).is_file()


def test_release_hides_solutions_and_hidden_tests_and_keeps_the_rest(fresh_release):
    source = SOLUTIONS / ASSIGNMENT / "ex01_pick_device.ipynb"
    released = fresh_release / ASSIGNMENT / "ex01_pick_device.ipynb"
    text = released.read_text()
    for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "pretend_machine", "def _usable"):
        assert secret in source.read_text() and secret not in text
    assert "raise NotImplementedError()" in text
    source_cells = nbformat.read(source, as_version=4).cells
    released_cells = nbformat.read(released, as_version=4).cells
    assert [c.id for c in released_cells] == [c.id for c in source_cells], "cell ids come from the source (stable diffs)"
    assert notebook_hygiene.problems(released) == []


def _nbgrader_validate(notebook: Path, cwd: Path) -> str:
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    result = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(notebook)],
                            cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_nbgrader_validate_accepts_the_normalised_release(fresh_release, tmp_path):
    released = fresh_release / ASSIGNMENT / "ex01_pick_device.ipynb"
    # Blank: the visible tests fail, but no checksum/locked-cell complaint.
    blank = _nbgrader_validate(released, tmp_path)
    assert "The following cell failed" in blank and "NotImplementedError" in blank
    assert "HAVE CHANGED" not in blank.upper()
    # Solved by a learner: nbgrader says it passes.
    solved = fill_release(ASSIGNMENT, "ex01_pick_device", {
        "pick_device_answer": solution_answer(ASSIGNMENT, "ex01_pick_device", "pick_device_answer")}, tmp_path / "solved.ipynb")
    assert "Success! Your notebook passes all the tests." in _nbgrader_validate(solved, tmp_path)
    # The checksums are live: editing a locked test cell is noticed.
    tampered = nbformat.read(solved, as_version=4)
    for cell in tampered.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "pick_device_visible":
            cell.source = "pass"
    nbformat.write(tampered, tmp_path / "tampered.ipynb")
    assert "HAVE CHANGED" in _nbgrader_validate(tmp_path / "tampered.ipynb", tmp_path).upper()


def test_cli_check_reports_drift_and_generate_repairs_it(tmp_path, capsys):
    copy = tmp_path / "exercises"
    shutil.copytree(EXERCISES, copy)
    notebook = copy / ASSIGNMENT / "ex01_pick_device.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0].source += "\nEdited by hand."
    nbformat.write(nb, notebook)
    (copy / ASSIGNMENT / "stale.ipynb").write_text(notebook.read_text())

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(["exercises", "check", ASSIGNMENT, "--dir", str(copy)])
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "ex01_pick_device.ipynb" in out and "stale.ipynb" in out

    args = parser.parse_args(["exercises", "generate", ASSIGNMENT, "--dir", str(copy)])
    assert args.func(args) == 0
    assert not (copy / ASSIGNMENT / "stale.ipynb").exists()
    assert notebook.read_bytes() == (EXERCISES / ASSIGNMENT / "ex01_pick_device.ipynb").read_bytes()


def test_unknown_assignment_is_one_clear_error():
    with pytest.raises(UserError, match="not an assignment of the course; use one of: level0_inference"):
        release.generate_exercises(["level9_magic"])


def test_config_is_the_one_list_of_assignments():
    assert course.assignments() == ("level0_inference", "level1_conversion", "level2_training",
                                    "level3_optimization", "capstone", "exam")
    config, _ = course.read_config()
    assert config.CourseDirectory.source_directory == "solutions"
    assert config.CourseDirectory.release_directory == "exercises"
    assert config.CourseDirectory.course_id == "ascend-migration-lab"
    assert config.CourseDirectory.db_url == f"sqlite:///{ROOT / 'gradebook.db'}"
    assert config.Execute.timeout == 120
