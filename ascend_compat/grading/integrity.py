"""Integrity of a submission: what nbgrader repairs silently, recorded, and code that tampers, flagged.

nbgrader already restores the source of every locked and test cell from the gradebook before it
runs a submission, so editing a test cannot change a grade. It does so quietly, though, and a
deleted test cell simply scores nothing. This module adds, as nbgrader preprocessors
(:mod:`.safety` puts them in the pipeline):

* :class:`TolerantNotebookExporter` - a file that is not a valid notebook (broken JSON, not
  nbformat 4, larger than ``MAX_NOTEBOOK_BYTES``) is graded as an empty notebook, so every test
  fails and the batch goes on;
* :class:`RecordSubmission` (sanitize step, before ``OverwriteCells``) - compares the submission
  with the gradebook's source cells: edited locked/test cells, changed points, deleted cells
  (put back, in order, from the gradebook - a deleted test is run, not skipped), cells that
  claim a grade id the assignment does not have, duplicated ids; and scans the learner's own
  cells (:func:`scan_code`) for code that tampers with the grader;
* :class:`SaveIntegrity` (last autograde step) - every finding, from here and from
  :class:`~.safe_execute.SafeExecute` at run time, marks the submitted notebook *flagged* in
  nbgrader's gradebook (the formgrader shows and filters by it) and becomes a notice at the top
  of the graded notebook, which the feedback shows.

Findings live in ``nb.metadata["ascend_lab"]["integrity"]`` as ``{"cell": grade_id, "finding": text}``.
A flag asks a person to look; it does not change a score by itself.
"""

from __future__ import annotations

import ast
import os

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from ascend_compat.grading.safe_execute import add_finding, integrity_record

MAX_NOTEBOOK_BYTES = 64 << 20

# --- static scan of the learner's cells ----------------------------------------------------------

# Names whose use lets code reach into the interpreter the tests run in.
_NAMES = {
    "get_ipython": "calls get_ipython() (it can change how the test cells run)",
    "exec": "runs code from a string with exec()", "eval": "evaluates a string with eval()",
    "compile": "compiles code at run time", "__import__": "imports through __import__()",
    "globals": "reads or changes globals() directly", "vars": "reads or changes an object's vars()",
    "__builtins__": "touches __builtins__", "breakpoint": "calls breakpoint()",
}
_MODULES = {
    "builtins": "imports builtins (it can replace what the tests use)",
    "gc": "imports gc (it can find and change the grader's objects)",
    "ctypes": "imports ctypes (raw memory access)", "importlib": "imports importlib (it can swap modules)",
    "inspect": "imports inspect (frames of the grader)", "IPython": "imports IPython (the kernel's internals)",
    "ipykernel": "imports ipykernel (the kernel's internals)", "unittest": "imports unittest.mock (patching)",
    "mock": "imports mock (patching)", "signal": "imports signal (it can ignore the grader's interrupts)",
}
# Attributes of frames, code objects and the import system (names too specific to be an answer).
_ATTRIBUTES = {
    "settrace", "setprofile", "_getframe", "f_back", "f_globals", "f_locals", "f_builtins", "f_code",
    "tb_frame", "gi_frame", "cr_frame", "meta_path", "path_hooks", "excepthook", "displayhook",
    "__code__", "__globals__", "__builtins__", "__dict__", "__subclasses__", "__bases__", "__base__", "__mro__",
    "__closure__", "__defaults__", "__kwdefaults__", "set_custom_exc", "input_transformers_cleanup",
    "input_transformers_post", "ast_transformers", "showtraceback", "run_cell", "user_ns",
}
# Assigning to these (through any import alias) changes what the tests see. torch.backends.* flags,
# os.environ[...] and the like are ordinary answers and are not listed.
_PROTECTED = ("ascend_compat", "sys", "builtins", "unittest", "IPython", "ipykernel", "nbgrader",
              "torch.npu", "torch.cuda.is_available", "torch.cuda.device_count", "torch.accelerator",
              "torch.device", "torch.Tensor", "torch.testing")
_SAFE_MAGICS = {"time", "timeit", "matplotlib", "autoreload", "load_ext", "config", "capture", "writefile"}


def _python_source(source: str) -> str:
    """IPython syntax (``%magic``, ``!shell``) as the Python it runs, so the scan sees it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - unparsable input is just not scanned further
        return source


def _dotted(node, aliases: dict) -> str | None:
    """``g.check`` with ``import ascend_compat.grading as g`` -> ``ascend_compat.grading.check``."""
    parts = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _protected(dotted: str | None) -> bool:
    return dotted is not None and any(dotted == p or dotted.startswith(p + ".") for p in _PROTECTED)


def _safe_magic_calls(tree) -> set[int]:
    """ids of ``get_ipython`` names inside ``get_ipython().run_line_magic('timeit', ...)`` and kin."""
    safe = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("run_line_magic", "run_cell_magic")
                and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
                and node.func.value.func.id == "get_ipython" and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in _SAFE_MAGICS):
            safe.add(id(node.func.value.func))
    return safe


def scan_code(source: str) -> list[str]:
    """What in this code could tamper with the grader; ``[]`` for ordinary answers.

    Flags the means, not intent: reaching into the interpreter (``get_ipython``, ``sys.modules``,
    ``builtins``, ``gc``, ``ctypes``, frames, code objects), running strings as code, and changing
    what the tests rely on (``ascend_compat.grading.check = ...``, ``torch.npu.is_available = ...``).
    ``%timeit``/``%matplotlib`` magics, ``torch.backends.cudnn.benchmark = False`` and
    ``os.environ[...] = ...`` are ordinary answers.
    """
    text = _python_source(source)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    found: list[str] = []
    aliases: dict[str, str] = {}

    def note(message: str) -> None:
        if message not in found:
            found.append(message)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in _MODULES:
                    note(_MODULES[alias.name.split(".")[0]])
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in _MODULES:
                note(_MODULES[node.module.split(".")[0]])
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    safe = _safe_magic_calls(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in _NAMES and id(node) not in safe:
            note(_NAMES[node.id])
        elif isinstance(node, ast.Attribute) and (node.attr in _ATTRIBUTES or (
                node.attr == "modules" and isinstance(node.value, ast.Name) and aliases.get(node.value.id) == "sys")):
            note(f"uses .{node.attr} (interpreter internals the grader relies on)")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, (ast.Attribute, ast.Subscript)) and _protected(_dotted(target, aliases)):
                    note(f"changes {ast.unparse(target)}, which the tests rely on")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            if node.args and _protected(_dotted(node.args[0], aliases) if not isinstance(node.args[0], ast.Name)
                                        else aliases.get(node.args[0].id)):
                note(f"calls {node.func.id}() on {ast.unparse(node.args[0])}, which the tests rely on")
    return found


# --- reading the submitted file ------------------------------------------------------------------

class TolerantNotebookExporter(NotebookExporter):
    """nbconvert's notebook exporter; a file that is not a valid notebook becomes an empty one."""

    def from_filename(self, filename, resources=None, **kw):
        size = os.path.getsize(filename)
        if size > MAX_NOTEBOOK_BYTES:
            return self._broken(filename, f"it is {size} bytes, more than {MAX_NOTEBOOK_BYTES}", resources, **kw)
        return super().from_filename(filename, resources, **kw)

    def from_file(self, file_stream, resources=None, **kw):
        try:
            nb = nbformat.read(file_stream, as_version=4)
            nbformat.validate(nb)
            if not isinstance(nb.cells, list):
                raise ValueError("'cells' is not a list")
        except Exception as exc:  # noqa: BLE001 - any unreadable file is graded as empty
            return self._broken(getattr(file_stream, "name", "?"), f"{type(exc).__name__}: {str(exc)[:200]}",
                                resources, **kw)
        return self.from_notebook_node(nb, resources=resources, **kw)

    def _broken(self, filename, why: str, resources, **kw):
        if resources is not None and "metadata" not in resources:
            resources["metadata"] = {}
        nb = nbformat.v4.new_notebook()
        add_finding(nb, None, f"the submitted file is not a valid notebook ({why}); graded as an empty notebook")
        if resources is not None and filename != "?":
            resources["metadata"].setdefault("name", os.path.splitext(os.path.basename(filename))[0])
            resources["metadata"].setdefault("path", os.path.dirname(filename))
        return self.from_notebook_node(nb, resources=resources, **kw)


# --- the sanitize step ---------------------------------------------------------------------------

def _cell_from_source(source_cell, grade_cells: dict, solution_ids: set, task_ids: set):
    name = source_cell.name
    nbgrader = {"grade": name in grade_cells, "grade_id": name, "locked": bool(source_cell.locked),
                "schema_version": 3, "solution": name in solution_ids, "task": name in task_ids,
                "checksum": source_cell.checksum}
    if name in grade_cells:
        nbgrader["points"] = grade_cells[name]
    metadata = {"nbgrader": nbgrader}
    if source_cell.locked:
        metadata.update(deletable=False, editable=False)
    if source_cell.cell_type == "code":
        cell = nbformat.v4.new_code_cell(source_cell.source, metadata=metadata)
    else:
        cell = nbformat.v4.new_markdown_cell(source_cell.source, metadata=metadata)
    cell.pop("id", None)  # set by the caller: only notebooks of nbformat 4.5+ have cell ids
    return cell


def _released_checksum(source_cell, grade_cells: dict) -> str:
    """The checksum of the cell as released: the gradebook keeps the source *with* hidden tests."""
    from nbgrader.preprocessors import ClearHiddenTests

    cell = _cell_from_source(source_cell, grade_cells, set(), set())
    ClearHiddenTests()._remove_hidden_test_region(cell)
    return utils.compute_checksum(cell)


class RecordSubmission(NbGraderPreprocessor):
    """Before nbgrader restores the cells: record what the learner changed, put deleted cells back."""

    def preprocess(self, nb, resources):
        notebook, assignment = resources["nbgrader"]["notebook"], resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            try:
                source_nb = gradebook.find_notebook(notebook, assignment)
            except MissingEntry:
                return nb, resources
            source_cells = list(source_nb.source_cells)
            grade_cells = {cell.name: float(cell.max_score) for cell in source_nb.grade_cells}
            solution_ids = {cell.name for cell in source_nb.solution_cells}
            task_ids = {cell.name for cell in source_nb.task_cells}
            self._compare(nb, source_cells, grade_cells)
            self._restore_missing(nb, source_cells, grade_cells, solution_ids, task_ids)
        locked = {cell.name for cell in source_cells if cell.locked}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.cell_type == "code" and grade_id not in locked:
                for finding in scan_code(cell.source):
                    add_finding(nb, grade_id, f"{_where(grade_id)} {finding}")
        return nb, resources

    def _compare(self, nb, source_cells, grade_cells) -> None:
        by_name = {cell.name: cell for cell in source_cells}
        seen = set()
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id")
            if not grade_id:
                continue
            if grade_id in seen:
                add_finding(nb, grade_id, f"the cell {grade_id} appears more than once")
                continue
            seen.add(grade_id)
            source = by_name.get(grade_id)
            if source is None:
                add_finding(nb, grade_id, f"a cell claims the grade id {grade_id!r}, which this assignment does not have")
                del cell.metadata["nbgrader"]  # an ordinary cell now: it runs, it scores nothing
                continue
            if grade_id in grade_cells and meta.get("points") is not None and float(meta["points"]) != grade_cells[grade_id]:
                add_finding(nb, grade_id, f"the points of {grade_id} were changed (restored)")
            if source.locked:
                try:
                    changed = utils.compute_checksum(cell) != _released_checksum(source, grade_cells)
                except Exception:  # noqa: BLE001 - damaged metadata counts as a change
                    changed = True
                if changed:
                    add_finding(nb, grade_id, f"the locked cell {grade_id} was edited (nbgrader restored the original)")

    def _restore_missing(self, nb, source_cells, grade_cells, solution_ids, task_ids) -> None:
        """Put every nbgrader cell the submission lacks back where it was, from the gradebook."""
        def positions():
            return {cell.metadata.get("nbgrader", {}).get("grade_id"): index for index, cell in enumerate(nb.cells)}

        present = positions()
        last = -1
        for source in source_cells:
            if source.name in present:
                last = present[source.name]
                continue
            cell = _cell_from_source(source, grade_cells, solution_ids, task_ids)
            if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):  # cell ids exist from 4.5 on
                cell["id"] = f"restored-{source.name}"[:64]
            nb.cells.insert(last + 1, cell)
            last += 1
            present = positions()
            what = "test cell" if source.name in grade_cells and source.name not in solution_ids else "cell"
            add_finding(nb, source.name, f"the {what} {source.name} was missing (put back from the source and run)")


def _where(grade_id: str | None) -> str:
    return f"cell {grade_id}:" if grade_id else "a cell the learner added:"


# --- the end of the autograde step ---------------------------------------------------------------

NOTICE_ID = "ascend-lab-integrity"


class SaveIntegrity(NbGraderPreprocessor):
    """Findings -> nbgrader's *flagged* mark on the submitted notebook, and a notice cell on top."""

    def preprocess(self, nb, resources):
        findings = integrity_record(nb) if "ascend_lab" in nb.metadata else []
        if not findings:
            return nb, resources
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            try:
                submitted = gradebook.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            except MissingEntry:
                submitted = None
            if submitted is not None:
                submitted.flagged = True
                gradebook.db.commit()
        add_notice(nb, [entry["finding"] for entry in findings])
        return nb, resources


def add_notice(nb, findings: list[str]) -> None:
    """The findings as a markdown cell on top of the graded notebook (formgrader and feedback show it)."""
    lines = ["**Flagged by the integrity check** - a person should review this submission:", ""]
    lines += [f"* {finding}" for finding in findings]
    nb.cells = [cell for cell in nb.cells if cell.get("metadata", {}).get("ascend_lab") != NOTICE_ID]
    notice = nbformat.v4.new_markdown_cell("\n".join(lines), metadata={"ascend_lab": NOTICE_ID})
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) >= (4, 5):
        notice["id"] = NOTICE_ID
    else:  # cell ids exist from nbformat 4.5 on
        notice.pop("id", None)
    nb.cells.insert(0, notice)
