"""An instructor's whole path, with the standard nbgrader commands, from ``course init`` to grades.csv.

``ascend-lab course init`` -> ``nbgrader generate_assignment`` -> ``release_assignment`` -> two
students ``fetch_assignment``, answer and ``submit`` through the exchange (a third submission is
placed in ``submitted/`` as ``zip_collect`` would) -> ``collect`` -> ``ascend-lab autograde
--jobs 2`` -> ``generate_feedback`` / ``release_feedback`` / ``fetch_feedback`` -> ``export``.
"""

from __future__ import annotations

import csv

import nbformat
import pytest

from ascend_compat import cli
from ascend_compat.grading import course
from test_grading_redteam import ASSIGNMENT, LIMITS, NOTEBOOK, Kit, load_case, place

COURSE_ID = "ascend-migration-lab"


@pytest.fixture(scope="module")
def taught(tmp_path_factory):
    """Run the path once; return (course dir, {student: their folder}, exported CSV rows)."""
    root = tmp_path_factory.mktemp("class")
    directory = root / "course"
    assert cli.main(["course", "init", str(directory), "--assignment", ASSIGNMENT]) == 0
    with open(directory / course.CONFIG_NAME, "a") as handle:
        handle.write("".join(f"c.SafeExecute.{key} = {value!r}\n" for key, value in LIMITS.items()))
    exchange = [f"--Exchange.root={directory / 'exchange'}", f"--course={COURSE_ID}"]
    course.nbgrader(["generate_assignment", ASSIGNMENT, "--log-level=WARN"], directory)
    course.nbgrader(["release_assignment", ASSIGNMENT, "--log-level=WARN"], directory)

    kit = Kit()
    homes = {}
    for student, answer in (("alice", kit.solution), ("bob", kit.wrong)):
        home = root / student
        home.mkdir()
        course.nbgrader(["fetch_assignment", ASSIGNMENT, *exchange, "--log-level=WARN"], home)
        fetched = home / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        nb = kit.answer(nbformat.read(fetched, as_version=4), answer)
        nbformat.write(nb, fetched)
        course.nbgrader(["submit", ASSIGNMENT, f"--student={student}", *exchange, "--log-level=WARN"], home)
        homes[student] = home
    course.nbgrader(["collect", ASSIGNMENT, "--log-level=WARN"], directory)
    place(directory, "carol", load_case("patched_checker").submission(kit))  # as zip_collect would

    assert cli.main(["autograde", ASSIGNMENT, "--jobs", "2", "--course", str(directory)]) == 0
    course.nbgrader(["generate_feedback", ASSIGNMENT, "--log-level=WARN"], directory)
    # release_feedback needs the submission secret that `collect` keeps: the exchange students only
    course.nbgrader(["release_feedback", ASSIGNMENT, "--student=alice", "--log-level=WARN"], directory)
    course.nbgrader(["fetch_feedback", ASSIGNMENT, "--student=alice", *exchange, "--log-level=WARN"], homes["alice"])
    course.nbgrader(["export", "--to=grades.csv", "--log-level=WARN"], directory)
    with open(directory / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    return directory, homes, rows


def test_course_init_makes_an_nbgrader_course(taught):
    directory, _, _ = taught
    assert sorted(p.name for p in (directory / "source" / ASSIGNMENT).glob("*.ipynb")) == \
        sorted(p.name for p in (course.repo_root() / "solutions" / ASSIGNMENT).glob("*.ipynb"))
    assert (directory / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").is_file()
    text = (directory / course.CONFIG_NAME).read_text()
    assert "safety.apply(c)" in text and "c.SafeExecute.timeout" in text


def test_the_csv_export_has_every_student_with_the_right_scores(taught):
    _, _, rows = taught
    assert {student: float(row["raw_score"]) for student, row in rows.items()} == {"alice": 8.0, "bob": 5.0, "carol": 0.0}
    assert all(row["assignment"] == ASSIGNMENT and float(row["max_score"]) >= 8 for row in rows.values())
    assert rows["alice"]["timestamp"]  # collected through the exchange: nbgrader's timestamp


def test_feedback_reaches_the_student(taught):
    directory, homes, _ = taught
    for student in ("alice", "bob", "carol"):
        page = directory / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html"
        assert page.is_file() and "pick_device_override_hidden" in page.read_text()
    assert list((homes["alice"] / ASSIGNMENT / "feedback").rglob(f"{NOTEBOOK}.html"))
    assert "Flagged by the integrity check" in (directory / "feedback" / "carol" / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


def test_course_init_refuses_a_folder_in_use(taught, capsys):
    directory, _, _ = taught
    assert cli.main(["course", "init", str(directory)]) == 2
    assert "is not empty" in capsys.readouterr().err


def test_course_init_force_adds_and_never_overwrites(tmp_path, capsys):
    directory = tmp_path / "class"
    assert cli.main(["course", "init", str(directory), "--assignment", ASSIGNMENT]) == 0
    config = directory / "nbgrader_config.py"
    notebook = directory / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    config.write_text(config.read_text() + "\n# the instructor's own line\n")
    notebook.write_text(notebook.read_text() + "\n")  # an instructor's edit
    edited = config.read_text(), notebook.read_text()
    capsys.readouterr()
    assert cli.main(["course", "init", str(directory), "--force", "--assignment", ASSIGNMENT,
                     "--assignment", "level1_conversion"]) == 0
    out = capsys.readouterr().out
    assert (config.read_text(), notebook.read_text()) == edited, "--force overwrote the instructor's files"
    assert (directory / "source" / "level1_conversion").is_dir()
    assert f"2 assignment(s): level0_inference, level1_conversion" in out
    assert f"kept as they were (yours): source/{ASSIGNMENT}" in out and "kept as it was (yours): nbgrader_config.py" in out


def test_course_init_in_a_folder_it_cannot_write_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert cli.main(["course", "init", str(blocker / "class")]) == 2
    err = capsys.readouterr().err
    assert "cannot make the course" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
