"""The integrity checks' pure parts: the tamper scan and the test-cell end marker.

The scan must flag the means of tampering and stay silent on every honest answer in the course
(all solutions and all kept wrong answers): a flag on honest work would send people chasing nothing.
"""

from __future__ import annotations

import contextlib
import io

import nbformat
import pytest

from ascend_compat.grading import kernel_guard
from ascend_compat.grading.integrity import add_notice, scan_code
from grading_helpers import RIGHT_ANSWERS, SOLUTIONS, WRONG_ANSWERS

TAMPERING = {
    "import ascend_compat.grading as g\ng.check = lambda *a, **k: None": "changes g.check",
    "from ascend_compat.grading import instant\ninstant.run_visible_tests = print": "changes instant.run_visible_tests",
    "import torch\ntorch.npu.is_available = lambda: True": "changes torch.npu.is_available",
    "import builtins\nbuiltins.isinstance = lambda *a: True": "imports builtins",
    "get_ipython().ast_transformers.append(object())": "get_ipython",
    "import sys\nsys.modules['ascend_compat.grading'] = None": "sys.modules",
    "import sys\nsys.settrace(lambda *a: None)": ".settrace",
    "import gc\n[o for o in gc.get_objects()]": "imports gc",
    "exec(open('x').read())": "exec()",
    "(lambda: 0).__code__": ".__code__",
    "from unittest import mock\nmock.patch('torch.cuda.is_available', lambda: True).start()": "mock",
    "!cat /etc/passwd": "get_ipython",
    "import torch\nsetattr(torch.npu, 'is_available', lambda: True)": "setattr()",
}


@pytest.mark.parametrize("code", sorted(TAMPERING))
def test_tampering_is_flagged(code):
    found = scan_code(code)
    assert any(TAMPERING[code] in finding for finding in found), found


def _answer_cells():
    for path in sorted(SOLUTIONS.rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                yield f"{path.parent.name}/{path.stem}/{cell.metadata['nbgrader']['grade_id']}", cell.source
    for folder in (WRONG_ANSWERS, RIGHT_ANSWERS):
        for path in sorted(folder.rglob("*.py")):
            yield f"{folder.name}/{path.relative_to(folder)}", path.read_text()


def test_no_honest_answer_of_the_course_is_flagged():
    flagged = {name: scan_code(source) for name, source in _answer_cells()}
    assert len(flagged) > 10
    assert {name: found for name, found in flagged.items() if found} == {}


@pytest.mark.parametrize("code", ["%timeit sum(range(10))", "%matplotlib inline",
                                  "import torch\ntorch.backends.cudnn.benchmark = False",
                                  "import os\nos.environ['ASCEND_RT_VISIBLE_DEVICES'] = '0'",
                                  "for module in model.modules():\n    pass"])
def test_ordinary_code_is_not_flagged(code):
    assert scan_code(code) == []


def _run(source: str):
    """Execute cell code the way IPython shows it: the last expression's value is the cell's result."""
    import ast

    tree = ast.parse(source)
    namespace, result = {}, None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
            exec(compile(ast.Module(tree.body[:-1], []), "<cell>", "exec"), namespace)
            result = eval(compile(ast.Expression(tree.body[-1].value), "<cell>", "eval"), namespace)
        else:
            exec(compile(tree, "<cell>", "exec"), namespace)
    return result, out.getvalue()


@pytest.mark.parametrize("source", ["x = 2\nx * 0.5", "assert True\n(1 +\n 2)", "print('hi')", "value = 3\nvalue;",
                                    "a = 1; a + 1  # partial credit"])
def test_the_end_marker_keeps_the_cells_value_and_line_numbers(source):
    import ast

    guarded = kernel_guard.with_end_marker(source, "feedbeef" * 4)
    assert _run(guarded)[0] == _run(source)[0]
    assert kernel_guard.marker_line("feedbeef" * 4) in _run(guarded)[1]
    last = ast.parse(source).body[-1].lineno - 1  # lines before the last statement stay as they are
    assert guarded.splitlines()[:last] == source.splitlines()[:last]


def test_the_end_marker_is_not_reached_when_the_test_fails():
    guarded = kernel_guard.with_end_marker("assert 1 == 2, 'wrong'", "0" * 32)
    with pytest.raises(AssertionError):
        _run(guarded)


def test_the_prologue_names_the_builtins_a_test_uses():
    assert kernel_guard.builtin_names_used("assert isinstance(x, int) and len(y) == 2") == ["int", "isinstance", "len"]


@pytest.mark.parametrize("minor", [4, 5])
def test_the_flag_notice_keeps_the_notebook_valid(minor):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.nbformat_minor = minor
    if minor < 5:
        for cell in nb.cells:
            cell.pop("id", None)
    add_notice(nb, ["the test cell t was missing"])
    add_notice(nb, ["the test cell t was missing"])  # graded again: still one notice
    nbformat.validate(nb)
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "code"]
    assert "t was missing" in nb.cells[0].source
