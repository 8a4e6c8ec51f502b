"""``ascend-lab run script.py args...``: run an unmodified pyACL script on the simulator.

The script's ``import acl`` gets the real pyACL when it is installed (CANN's Python path set up),
otherwise :mod:`ascend_compat.acl`. Nothing in the script changes: ``sys.argv``, ``__name__ ==
"__main__"``, ``sys.path[0]`` (the script's folder) and the exit code are what ``python script.py``
would give. ``--leaks`` prints the simulator's list of unreleased resources at the end and exits
with status 3 if there are any (handy for grading).

Also runnable as ``python -m ascend_compat.launcher script.py args...``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import runpy
import sys

from ascend_compat.errors import UserError


def real_pyacl_available() -> bool:
    """True when ``import acl`` finds Huawei's pyACL (and not this simulator)."""
    module = sys.modules.get("acl")
    if module is not None:
        return not getattr(module, "SIMULATED", False)
    try:
        return importlib.util.find_spec("acl") is not None
    except (ImportError, ValueError):
        return False


def install_acl() -> object:
    """Make ``import acl`` work: the real pyACL if present, else the simulator. Returns the module."""
    if real_pyacl_available():
        import acl  # noqa: F401  (the real one)

        return sys.modules["acl"]
    from ascend_compat import acl as simulated

    sys.modules["acl"] = simulated
    return simulated


def run_script(script: str, args: list[str], report_leaks: bool = False) -> int:
    if not os.path.isfile(script):
        raise UserError(f"{script} does not exist; give the path of a Python script")
    module = install_acl()
    simulated = getattr(module, "SIMULATED", False)
    saved_argv, saved_path0 = sys.argv[:], sys.path[0] if sys.path else None
    sys.argv = [script] + list(args)
    folder = os.path.dirname(os.path.abspath(script))
    sys.path.insert(0, folder)
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    finally:
        sys.argv = saved_argv
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
        elif saved_path0 is not None and folder in sys.path:
            sys.path.remove(folder)
    if report_leaks and simulated:
        found = module.leaks()
        if found:
            print(f"ascend-lab run: {len(found)} AscendCL resource(s) not released:", file=sys.stderr)
            for line in found:
                print(f"  {line}", file=sys.stderr)
            return code or 3
        print("ascend-lab run: every AscendCL resource was released", file=sys.stderr)
    return code


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("run", help="run a pyACL script (import acl) on the real or simulated NPU",
                                   description=__doc__.splitlines()[0])
    parser.add_argument("--leaks", action="store_true", help="list unreleased AscendCL resources at the end")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    parser.set_defaults(func=handle)
    return parser


def handle(args) -> int:
    return run_script(args.script, args.args, report_leaks=args.leaks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ascend_compat.launcher")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(["run"] + argv)
    try:
        return handle(args)
    except UserError as exc:
        print(f"ascend-lab run: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
