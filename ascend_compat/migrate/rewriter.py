"""Apply the safe automatic rewrites found by :mod:`.analyzer`, keeping formatting and comments.

Only findings marked ``automatic`` are rewritten (device strings, ``.cuda()``, spelled-out
``torch.cuda.X`` with an NPU twin, ``torch.cuda.amp`` calls, ``nccl``, ``CUDA_VISIBLE_DEVICES``);
everything else stays a finding for a person. Rewriting is idempotent: the output has no automatic
findings left, so a second run changes nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import libcst as cst

from ascend_compat.migrate.analyzer import Finding, analyze

IMPORT_HINT = "import torch_npu  # registers the npu device on Ascend (the lab: import ascend_compat)"


@dataclass
class RewriteResult:
    code: str
    applied: list[Finding]
    remaining: list[Finding]

    @property
    def changed(self) -> bool:
        return bool(self.applied)


class _ApplyFixes(cst.CSTTransformer):
    def __init__(self, fixes: dict):
        super().__init__()
        self.fixes = fixes

    def on_leave(self, original_node, updated_node):
        fix = self.fixes.get(original_node)
        return fix(updated_node) if fix is not None else updated_node


class _AddImport(cst.CSTTransformer):
    """Put ``import torch_npu`` right after the first ``import torch``, once."""

    def __init__(self):
        super().__init__()
        self.done = False

    def leave_Module(self, original_node, updated_node):
        body = list(updated_node.body)
        source = cst.Module(body=[]).code_for_node
        if any("import torch_npu" in source(stmt) for stmt in body):
            return updated_node
        for i, stmt in enumerate(body):
            if isinstance(stmt, cst.SimpleStatementLine) and any(
                isinstance(s, cst.Import) and any(cst.helpers.get_full_name_for_node(a.name) == "torch" for a in s.names)
                for s in stmt.body
            ):
                body.insert(i + 1, cst.parse_statement(IMPORT_HINT + "\n"))
                return updated_node.with_changes(body=body)
        return updated_node


def rewrite_source(code: str, path: str = "<string>", add_import: bool = False) -> RewriteResult:
    analysis = analyze(code, path)
    if analysis.module is None:  # syntax error: nothing is rewritten
        return RewriteResult(code, [], analysis.findings)
    module = analysis.module.visit(_ApplyFixes(analysis.fixes))
    if add_import:
        module = module.visit(_AddImport())
    applied = [f for f in analysis.findings if f.automatic]
    remaining = [f for f in analysis.findings if not f.automatic]
    return RewriteResult(module.code, applied, remaining)


def unified_diff(old: str, new: str, path: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=path if path.startswith("/") else f"a/{path}",
                                        tofile=path if path.startswith("/") else f"b/{path}"))
