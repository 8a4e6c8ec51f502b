"""Analyzer throughput on a generated corpus of 1,000 files, against a bare libcst parse.

Both sides use two worker processes (the machine's two cores), so the ratio is the analyzer's own
cost per file over parsing alone. Target: <= 1.5x.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import libcst as cst  # noqa: E402

from ascend_compat.migrate import analyze_paths  # noqa: E402
from benchmarks.common import print_table, write_results  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "migration_corpus"
FILES = 1000
JOBS = 2


def _parse(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        cst.parse_module(handle.read())
    return 0


def main() -> None:
    templates = [p.read_text() for p in sorted(CORPUS.glob("*.py"))]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(FILES):
            path = Path(tmp) / f"f{i:04d}.py"
            path.write_text(templates[i % len(templates)].replace("model", f"model_{i}"))
            paths.append(str(path))
        lines = sum(p.read_text().count("\n") for p in map(Path, paths))
        start = time.perf_counter()
        with ProcessPoolExecutor(JOBS) as pool:
            list(pool.map(_parse, paths, chunksize=25))
        parse_s = time.perf_counter() - start
        start = time.perf_counter()
        report = analyze_paths([tmp], jobs=JOBS)
        analyze_s = time.perf_counter() - start
    results = {"files": FILES, "lines": lines, "jobs": JOBS, "findings": len(report.findings),
               "bare_parse_s": parse_s, "analyze_s": analyze_s, "lines_per_s": lines / analyze_s,
               "ratio": analyze_s / parse_s}
    print_table([
        ("files / lines", f"{FILES} / {lines}"),
        ("analyzer", f"{results['lines_per_s']:.0f} lines/s ({analyze_s:.2f} s, {len(report.findings)} findings)"),
        ("bare libcst parse", f"{parse_s:.2f} s"),
        ("ratio", f"{results['ratio']:.2f}x (target <= 1.5x)"),
    ])
    write_results("migrate", results)


if __name__ == "__main__":
    main()
