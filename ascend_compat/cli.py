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

# (module, what it does) — imported lazily so `ascend-lab --help` stays fast and a
# broken optional area cannot take the whole command down.
SUBCOMMAND_MODULES = (
    "ascend_compat.doctor",
    "ascend_compat.atc.cli",
    "ascend_compat.launcher",
    "ascend_compat.grading.cli",
    "ascend_compat.migrate.cli",
    "ascend_compat.exam.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ascend-lab",
        description="Ascend Migration Lab: tools for moving PyTorch work from CUDA to Ascend NPUs.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
