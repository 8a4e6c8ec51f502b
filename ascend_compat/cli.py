"""The ``ascend-lab`` command: one entry point, one module per sub-command.

Each sub-command lives in its own module and exposes ``register(subparsers)``,
which adds an ``argparse`` parser whose ``func(args) -> int`` does the work.
User mistakes are reported as one line on stderr with a non-zero exit code:
raise :class:`ascend_compat.errors.UserError` for them and ``main`` prints it.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ascend_compat.errors import UserError

# command -> the module that implements it. Only the module of the command being run is imported
# (building every parser would import torch, libcst and nbgrader just to start); `--help` imports all.
SUBCOMMANDS = {
    "doctor": "ascend_compat.doctor",
    "atc": "ascend_compat.atc.cli",
    "run": "ascend_compat.launcher",
    "exercises": "ascend_compat.grading.cli",
    "grade": "ascend_compat.grading.learner",
    "course": "ascend_compat.grading.instructor",
    "autograde": "ascend_compat.grading.parallel",
    "migrate": "ascend_compat.migrate.cli",
    "exam": "ascend_compat.exam.cli",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ascend-lab",
        description="Ascend Migration Lab: tools for moving PyTorch work from CUDA to Ascend NPUs.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [SUBCOMMANDS[only]] if only in SUBCOMMANDS else dict.fromkeys(SUBCOMMANDS.values())
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"ascend-lab {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"ascend-lab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
