"""Findings as a readable table, JSON, CSV or Markdown, with a summary."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

from ascend_compat.migrate.rules import RULES

FIELDS = ("location", "rule", "severity", "message", "suggestion", "automatic")


def summary(findings, files: int, skipped) -> dict:
    per_rule = Counter(f.rule for f in findings)
    automatic = sum(f.automatic for f in findings)
    return {
        "files": files,
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        "findings": len(findings),
        "by_severity": dict(Counter(f.severity for f in findings)),
        "by_rule": {rule: {"count": n, "title": RULES[rule].title} for rule, n in sorted(per_rule.items())},
        "automatic": automatic,
        "automatic_share": round(automatic / len(findings), 3) if findings else 1.0,
    }


def _row(f) -> dict:
    return {"location": f.location(), "rule": f.rule, "severity": f.severity, "message": f.message,
            "suggestion": f.suggestion, "automatic": "yes" if f.automatic else "no"}


def render(findings, summary_: dict, fmt: str = "table") -> str:
    if fmt == "json":
        return json.dumps({"summary": summary_, "findings": [f.as_dict() for f in findings]}, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(_row(f) for f in findings)
        return out.getvalue()
    if fmt == "markdown":
        lines = ["| " + " | ".join(FIELDS) + " |", "|" + "---|" * len(FIELDS)]
        lines += ["| " + " | ".join(str(_row(f)[k]).replace("|", "\\|") for k in FIELDS) + " |" for f in findings]
        lines += ["", _summary_text(summary_)]
        return "\n".join(lines)
    lines = [f"{f.location()}  {f.rule} {f.severity:<7}  {f.message}\n    -> {f.suggestion}"
             + ("  [automatic]" if f.automatic else "") for f in findings]
    lines.append(_summary_text(summary_))
    return "\n".join(lines)


def _summary_text(s: dict) -> str:
    lines = [f"{s['findings']} finding(s) in {s['files']} file(s); {s['automatic']} can be rewritten automatically "
             f"({s['automatic_share']:.0%})."]
    for rule, info in s["by_rule"].items():
        lines.append(f"  {rule} {info['title']}: {info['count']}")
    for skipped in s["skipped"]:
        lines.append(f"  skipped {skipped['path']}: {skipped['reason']}")
    return "\n".join(lines)
