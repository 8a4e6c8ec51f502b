"""What the autograder runs *inside* a learner's kernel so that tests cannot be talked into passing.

nbgrader restores the original test cells, but they run in the same Python process as the
learner's code, after it. A submission can therefore try to make a failing test look like a pass:
replace ``check`` (``ascend_compat.grading.check = lambda *a, **k: None``), patch a builtin the
test uses (``builtins.isinstance = ...``), install a trace function or an IPython input/AST
transformer that skips or swallows the failing assertion, redirect ``sys.stdout``. The grader
(:class:`~ascend_compat.grading.safe_execute.SafeExecute`) answers with three things:

1. **a snapshot** (:data:`SNAPSHOT`), taken silently right after the kernel starts, before any
   cell of the notebook: builtins, ``sys.stdout``/``stderr``, the import hooks, IPython's
   transformer lists and execution methods;
2. **a prologue** (:func:`prologue`), run silently before every graded test cell: it removes
   trace/profile functions, puts back every builtin, ``sys.stdout``/``stderr`` and the import
   hooks from the snapshot, reports replaced IPython machinery, and drops
   ``ascend_compat.grading`` and its submodules from ``sys.modules``, so the test cell's own
   ``from ascend_compat.grading import check`` imports the checks fresh from disk. Whatever it had
   to repair is reported back (``user_expressions``) and flags the submission;
3. **an end marker** (:func:`with_end_marker`): the test cell is executed with one extra line that
   prints a per-run random token. A cell that raised - whatever hides the exception - never
   reaches that line, and the grader scores a test cell without its token as failed.

Limits, honestly: learner code and tests share one interpreter, so code written against this very
module (it is public) can still defeat it, e.g. a transformer that rewrites test cells but keeps
the marker line. What it needs for that - ``get_ipython``, ``sys.modules``, ``builtins``, ``gc``,
``ctypes``, frame or code objects - is what :mod:`.integrity` looks for in the submitted cells,
and such a submission is flagged for a person to review.
"""

from __future__ import annotations

import ast

# Run once, silently, before the first cell: what "untouched" looks like in this kernel.
SNAPSHOT = r'''
def _ascend_lab_take_snapshot():
    import builtins, sys, types
    snapshot = types.SimpleNamespace(
        builtins=dict(vars(builtins)), stdout=sys.stdout, stderr=sys.stderr,
        meta_path=list(sys.meta_path), path_hooks=list(sys.path_hooks), ipython={})
    shell = get_ipython()
    for name in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
        snapshot.ipython[name] = list(getattr(shell, name, []))
    for name in ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "showtraceback",
                 "_showtraceback", "transform_cell", "should_run_async"):
        snapshot.ipython["method:" + name] = (getattr(type(shell), name, None), vars(shell).get(name))
    sys.modules["_ascend_lab_snapshot"] = snapshot
_ascend_lab_take_snapshot()
del _ascend_lab_take_snapshot
'''

# Run silently before each graded test cell. {names} are the builtins the test cell uses.
_PROLOGUE = r'''
def _ascend_lab_prologue(names):
    import sys
    found = []
    if sys.gettrace() is not None or sys.getprofile() is not None:
        found.append("a trace or profile function was installed (it can skip test lines)")
    sys.settrace(None)
    sys.setprofile(None)
    snapshot = sys.modules.get("_ascend_lab_snapshot")
    if snapshot is None:
        return ["the grader's snapshot of the kernel was removed"]
    import builtins, types

    def same(now, then):  # ipykernel binds a new `input` method per request: same function, same object
        return now is then or (type(now) is types.MethodType and type(then) is types.MethodType
                               and now.__func__ is then.__func__ and now.__self__ is then.__self__)

    table = vars(builtins)
    for name, value in snapshot.builtins.items():
        if not same(table.get(name), value):
            found.append(f"builtins.{name} was replaced")
            table[name] = value
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is not getattr(snapshot, name):
            found.append(f"sys.{name} was replaced")
            setattr(sys, name, getattr(snapshot, name))
    for name in ("meta_path", "path_hooks"):
        if getattr(sys, name) != getattr(snapshot, name):
            found.append(f"sys.{name} was changed (imports could be redirected)")
            getattr(sys, name)[:] = getattr(snapshot, name)
    shell = get_ipython()
    for name, value in snapshot.ipython.items():
        if name.startswith("method:"):
            method = name[len("method:"):]
            on_class, on_instance = value
            if getattr(type(shell), method, None) is not on_class or not same(vars(shell).get(method), on_instance):
                found.append(f"IPython's {method} was replaced")
        elif list(getattr(shell, name, [])) != value:
            found.append(f"an IPython {name[:-1].replace('_', ' ')} was installed")
    namespace = shell.user_ns
    for name in names:
        if name in namespace and name in snapshot.builtins and namespace[name] is not snapshot.builtins[name]:
            found.append(f"the notebook defines {name!r}, hiding the builtin the test uses")
    for module in [m for m in sys.modules if m == "ascend_compat.grading" or m.startswith("ascend_compat.grading.")]:
        del sys.modules[module]  # the test cell imports its helpers fresh from disk
    return found
_ascend_lab_findings = _ascend_lab_prologue({names!r})
del _ascend_lab_prologue
'''

FINDINGS_EXPRESSION = "_ascend_lab_findings"


def builtin_names_used(source: str) -> list[str]:
    """The builtin names a test cell's code refers to (``isinstance``, ``len``, ...)."""
    import builtins

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return sorted(name for name in used if hasattr(builtins, name))


def prologue(test_source: str) -> str:
    return _PROLOGUE.replace("{names!r}", repr(builtin_names_used(test_source)))


def marker_line(token: str) -> str:
    return f"ascend-lab-end-of-test:{token}"


def with_end_marker(source: str, token: str) -> str:
    """``source`` plus a last line printing the end marker, keeping the cell's displayed value.

    A test cell may end in an expression - nbgrader reads a number there as partial credit - so
    that expression is computed first, the marker printed, then the value shown as before. Line
    numbers of the original code do not change (tracebacks in feedback stay right).
    """
    marker = f"print({marker_line(token)!r})"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source  # fails as written; there is nothing to mark
    if not tree.body:
        return f"{source}\n{marker}"
    last = tree.body[-1]
    if not isinstance(last, ast.Expr) or source.rstrip().endswith(";"):  # ";" suppresses the value
        return f"{source}\n{marker}"
    lines = source.splitlines()
    start, end = last.lineno - 1, last.end_lineno - 1
    head = lines[:start]
    first = lines[start][:last.col_offset]
    expression = "\n".join(lines[start:end + 1])[last.col_offset:]
    # Keep everything up to the expression; wrap the expression itself in an assignment.
    value_name = f"_ascend_lab_value_{token[:8]}"
    rebuilt = head + [f"{first}{value_name} = ({expression}\n)", marker, value_name]
    return "\n".join(rebuilt)
