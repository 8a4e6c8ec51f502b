"""``ascend-lab exercises``: keep ``exercises/`` in step with ``solutions/``.

    ascend-lab exercises generate [ASSIGNMENT...]   regenerate the release notebooks with nbgrader
    ascend-lab exercises check [ASSIGNMENT...]      exit 1, listing the files that drift
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ascend_compat.grading import course


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(course.repo_root()))
    except ValueError:
        return str(path)


def generate(args: argparse.Namespace) -> int:
    from ascend_compat.grading.release import generate_exercises

    changed = generate_exercises(args.assignments or None, dest=args.dir)
    for path in changed:
        print(f"updated {_display(path)}")
    if not changed:
        print("exercises are up to date")
    return 0


def check(args: argparse.Namespace) -> int:
    from ascend_compat.grading.release import drifted_files

    drift = drifted_files(args.assignments or None, committed=args.dir)
    if not drift:
        print("exercises match solutions")
        return 0
    print("these release notebooks differ from what solutions/ generates; run `ascend-lab exercises generate`:")
    for path in drift:
        print(f"  {_display(path)}")
    return 1


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "exercises", help="generate or check the exercise notebooks (nbgrader release of solutions/)",
        description="Keep exercises/ (what learners get) in step with solutions/ (nbgrader source notebooks).")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, help_text in (
        ("generate", generate, "regenerate exercises/ from solutions/ with nbgrader generate_assignment"),
        ("check", check, "exit 1 and list the exercise files that differ from a fresh release"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                            help="assignment folder names (default: every assignment with source notebooks)")
        action.add_argument("--dir", type=Path, default=None,
                            help="release directory to write or compare (default: exercises/ of the checkout)")
        action.set_defaults(func=handler)
