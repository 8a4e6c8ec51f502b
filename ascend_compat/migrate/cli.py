"""``ascend-lab migrate analyze|rewrite``: the migration assistant on the command line.

Exit codes (usable in CI): 0 no findings at or above ``--fail-on`` (default: never fail);
1 there are such findings; 2 usage errors (bad arguments, nothing to analyse).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ascend_compat.errors import UserError
from ascend_compat.migrate import analyze_paths, report
from ascend_compat.migrate.rewriter import rewrite_source, unified_diff
from ascend_compat.atomic import write_text
from ascend_compat.migrate.sources import discover, read_sources, restore_magics, write_notebook_cells

LEVELS = {"info": 0, "warning": 1, "error": 2}


def _analyze(args) -> int:
    result = analyze_paths(args.paths, jobs=args.jobs)
    if result.files == 0 and not result.findings:
        raise UserError("no .py or .ipynb files found in " + ", ".join(args.paths) + " (check the paths)")
    summary = report.summary(result.findings, result.files, result.skipped)
    print(report.render(result.findings, summary, args.format))
    if args.fail_on == "never":
        return 0
    threshold = LEVELS[args.fail_on]
    return 1 if any(LEVELS[f.severity] >= threshold for f in result.findings) else 0


def _rewrite(args) -> int:
    files, skipped = discover(args.paths)
    if not files:
        raise UserError("no .py or .ipynb files found in " + ", ".join(args.paths) + " (check the paths)")
    remaining, changed = [], 0
    for path in files:
        try:
            sources = read_sources(path)
        except (ValueError, OSError) as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        new_cells, diffs = {}, []
        for source in sources:
            result = rewrite_source(source.code, source.path, add_import=args.add_import and source.cell in (None, 0))
            for finding in result.remaining:
                finding.cell = source.cell
            remaining += result.remaining
            if not result.changed and not (args.add_import and result.code != source.code):
                continue
            old, new = restore_magics(source.code, source.magic_lines), restore_magics(result.code, source.magic_lines)
            label = str(path) if source.cell is None else f"{path}[cell {source.cell}]"
            diffs.append(unified_diff(old, new, label))
            new_cells[source.cell] = new
        if not new_cells:
            continue
        changed += 1
        if args.write:
            if path.suffix == ".ipynb":
                write_notebook_cells(path, new_cells)
            else:
                write_text(path, new_cells[None])
            print(f"rewrote {path}")
        else:
            sys.stdout.write("".join(diffs))
    print(f"{changed} file(s) {'rewritten' if args.write else 'would change'}; {len(remaining)} finding(s) need a person:",
          file=sys.stderr)
    for finding in remaining:
        print(f"  {finding.location()}  {finding.rule}  {finding.message}", file=sys.stderr)
    for skip in skipped:
        print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("migrate", help="find and fix CUDA-specific code for Ascend NPUs")
    sub = parser.add_subparsers(dest="migrate_command", metavar="ACTION", required=True)
    analyze = sub.add_parser("analyze", help="report CUDA-isms with rule ids, severities and suggested fixes")
    analyze.add_argument("paths", nargs="+", help=".py / .ipynb files or folders")
    analyze.add_argument("--format", choices=("table", "json", "csv", "markdown"), default="table")
    analyze.add_argument("--fail-on", choices=("error", "warning", "info", "never"), default="never",
                         help="exit 1 when there are findings at or above this severity (for CI)")
    analyze.add_argument("--jobs", type=int, default=1, help="processes to use (e.g. 2 on a 2-core machine)")
    analyze.set_defaults(func=_analyze)
    rewrite = sub.add_parser("rewrite", help="apply the safe automatic rewrites (a unified diff by default)")
    rewrite.add_argument("paths", nargs="+")
    mode = rewrite.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", default=True, help="print a unified diff (default)")
    mode.add_argument("--write", action="store_true", help="rewrite the files in place (atomically)")
    rewrite.add_argument("--add-import", action="store_true",
                         help="add `import torch_npu` after `import torch` (needed on real hardware; "
                              "in the lab `import ascend_compat` registers the device)")
    rewrite.set_defaults(func=_rewrite)
