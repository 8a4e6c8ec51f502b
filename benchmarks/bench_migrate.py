"""Analyzer throughput on a generated corpus of 1,000 files, against a bare libcst parse.

Both sides use two worker processes (the machine's two cores) and the same chunking, so the ratio
is the analyzer's own cost per file over parsing alone. The two are timed in alternation, ROUNDS
times, so load from other processes hits both alike; the ratio reported is the median of the
rounds' ratios, next to the ratio of the workers' CPU seconds. Target: <= 1.5x.
"""

from __future__ import annotations

import gc
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
ROUNDS = 3


def _parse(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        cst.parse_module(handle.read())
    return 0


def _worker_cpu() -> float:
    """CPU seconds used by finished child processes (the pool's workers, once it has shut down)."""
    times = os.times()
    return times.children_user + times.children_system


def main() -> None:
    templates = [p.read_text() for p in sorted(CORPUS.glob("*.py"))]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(FILES):
            path = Path(tmp) / f"f{i:04d}.py"
            path.write_text(templates[i % len(templates)].replace("model", f"model_{i}"))
            paths.append(str(path))
        lines = sum(p.read_text().count("\n") for p in map(Path, paths))
        parse_times, analyze_times, parse_cpu, analyze_cpu = [], [], [], []
        for _ in range(ROUNDS):
            start, cpu = time.perf_counter(), _worker_cpu()
            gc.freeze()  # as analyze_paths does: the workers' GC skips what they inherit
            with ProcessPoolExecutor(JOBS) as pool:  # and the chunking analyze_paths uses
                list(pool.map(_parse, paths, chunksize=max(1, FILES // (JOBS * 8))))
            gc.unfreeze()
            parse_times.append(time.perf_counter() - start)
            parse_cpu.append(_worker_cpu() - cpu)
            start, cpu = time.perf_counter(), _worker_cpu()
            report = analyze_paths([tmp], jobs=JOBS)
            analyze_times.append(time.perf_counter() - start)
            analyze_cpu.append(_worker_cpu() - cpu)
    parse_s, analyze_s = min(parse_times), min(analyze_times)
    ratios = sorted(a / p for a, p in zip(analyze_times, parse_times))  # each round's own pair
    median = ratios[len(ratios) // 2]
    cpu_ratio = min(analyze_cpu) / min(parse_cpu)
    results = {"files": FILES, "lines": lines, "jobs": JOBS, "findings": len(report.findings),
               "bare_parse_s": parse_s, "analyze_s": analyze_s, "lines_per_s": lines / analyze_s,
               "ratio": median, "ratio_per_round": ratios, "cpu_time_ratio": cpu_ratio}
    print_table([
        ("files / lines", f"{FILES} / {lines}"),
        ("analyzer", f"{results['lines_per_s']:.0f} lines/s ({analyze_s:.2f} s, {len(report.findings)} findings)"),
        ("bare libcst parse", f"{parse_s:.2f} s"),
        ("ratio", f"{median:.2f}x, the median of {ROUNDS} rounds (target <= 1.5x); rounds "
                  f"{min(ratios):.2f}-{max(ratios):.2f}x"),
        ("CPU-time ratio", f"{cpu_ratio:.2f}x (the workers' CPU seconds: less sensitive to a busy machine)"),
    ])
    write_results("migrate", results)


if __name__ == "__main__":
    main()
