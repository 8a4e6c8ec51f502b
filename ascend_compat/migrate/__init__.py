"""CUDA -> Ascend migration assistant: a static analyzer and a safe rewriter, built on libcst.

* :func:`analyze_source` / :func:`analyze_paths`: findings (file:line:column, rule id, severity,
  message, suggested replacement) for ``.py`` files and notebooks;
* :func:`rewrite_source`: the automatic rewrites only, formatting and comments kept;
* ``ascend-lab migrate analyze|rewrite`` on the command line (:mod:`.cli`).

The run-time counterpart is ``import ascend_compat.transfer_to_npu``.
"""

from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from ascend_compat.migrate.analyzer import Finding, analyze, analyze_source, prepare
from ascend_compat.migrate.rewriter import RewriteResult, rewrite_source
from ascend_compat.migrate.rules import RULES
from ascend_compat.migrate.sources import Skipped, discover, read_sources

__all__ = ["Finding", "RULES", "RewriteResult", "analyze", "analyze_source", "analyze_paths", "rewrite_source", "Report"]


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def _shell_line_findings(source) -> list[Finding]:
    """Notebook ``!``/``%`` lines are not Python, but ``!nvidia-smi`` is still a finding."""
    found = []
    for number, line in source.magic_lines.items():
        for needle, rule_id in (("nvidia-smi", "MIG009"), ("CUDA_VISIBLE_DEVICES", "MIG008")):
            if needle in line:
                rule = RULES[rule_id]
                found.append(Finding(source.path, number, line.index(needle) + 1, rule_id, rule.severity,
                                     f"IPython line uses {needle}", rule.advice, False, source.cell))
    return found


def analyze_file(path) -> tuple[list[Finding], Skipped | None]:
    try:
        sources = read_sources(path)
    except (ValueError, OSError) as exc:
        return [], Skipped(str(path), str(exc))
    findings = []
    for source in sources:
        for finding in analyze_source(source.code, source.path):
            finding.cell = source.cell
            findings.append(finding)
        findings += _shell_line_findings(source)
    return findings, None


def analyze_paths(paths, jobs: int = 1) -> Report:
    """Analyse files and folders; ``jobs`` > 1 uses that many processes."""
    files, skipped = discover(paths)
    report = Report(files=len(files), skipped=list(skipped))
    if jobs > 1 and len(files) > 1:
        prepare()  # build the tables once, before the workers fork
        # The forked workers inherit this process's objects (torch among them): frozen, their
        # garbage collector leaves them alone instead of scanning them (and copying their pages).
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                results = list(pool.map(analyze_file, files, chunksize=max(1, len(files) // (jobs * 8))))
        finally:
            gc.unfreeze()
    else:
        results = [analyze_file(f) for f in files]
    for findings, skip in results:
        report.findings += findings
        if skip is not None:
            report.skipped.append(skip)
    report.files -= sum(1 for _, skip in results if skip is not None)
    return report
