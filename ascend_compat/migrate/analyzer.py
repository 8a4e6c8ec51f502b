"""Find CUDA-isms in Python source with libcst, and say how each becomes Ascend code.

``analyze_source(code)`` returns :class:`Finding` objects. The same pass records, for the findings
that have a safe automatic rewrite, a function that produces the rewritten node — the rewriter
(:mod:`.rewriter`) applies exactly those, so what is reported as automatic is what gets fixed.

Names are resolved through the file's imports: ``import torch.cuda as tc; tc.synchronize()`` is
``torch.cuda.synchronize``, ``from torch import cuda`` makes ``cuda.X`` ``torch.cuda.X``. (A light
resolver of our own rather than libcst's scope analysis, which costs ten times the parse: a name
re-bound inside a function is still taken for the import.) Comments, docstrings and prose strings
that mention CUDA are not findings.

Why it is fast (about the cost of the parse itself, see ``benchmarks/bench_migrate.py``):

* a regular expression over the text skips files that cannot contain a finding;
* the tree is walked by :func:`_walk`, which reads the nodes' fields directly and skips
  whitespace and punctuation, instead of libcst's visitor (which rebuilds every node it visits);
* line:column positions are computed only for the nodes with a finding, exactly as libcst's
  ``PositionProvider`` would give them but without its whole-file metadata pass (the slowest part
  before): a node whose code occurs once in the file, or once on its one-line statement, is where
  that occurrence is; otherwise the statement holding it is regenerated alone (only its header,
  for a compound statement, when that suffices) noting where each node starts. Python's own
  ``ast`` parser (ten times faster than libcst) says where each statement starts. Whole-file
  ``PositionProvider`` metadata is only the fallback, for code ``ast`` cannot pair up.
"""

from __future__ import annotations

import ast
import bisect
import dataclasses
import functools
import itertools
import re
import typing
from dataclasses import asdict, dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import MetadataWrapper, PositionProvider

from ascend_compat.migrate.rules import CUDA_ONLY_LIBRARIES, RULES

CUDA_DEVICE = re.compile(r"^cuda(:\d+)?$")
FLOAT64_NAMES = {"torch.float64", "torch.double", "torch.DoubleTensor", "numpy.float64"}
TENSOR_FROM_NUMPY = {"torch.from_numpy", "torch.tensor", "torch.as_tensor", "torch.Tensor"}
# torch.cuda names that exist, under the same meaning, in torch.npu but are not in its __all__
NPU_EXTRA = {"amp", "Stream", "Event", "device", "stream"}


@dataclass
class Finding:
    path: str
    line: int
    column: int
    rule: str
    severity: str
    message: str
    suggestion: str
    automatic: bool
    cell: int | None = None

    def location(self) -> str:
        where = f"{self.path}"
        if self.cell is not None:
            where += f"[cell {self.cell}]"
        return f"{where}:{self.line}:{self.column}"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Analysis:
    findings: list[Finding] = field(default_factory=list)
    # original node -> function(updated node) -> replacement node, for the automatic fixes
    fixes: dict = field(default_factory=dict)
    module: cst.Module | None = None
    fixed_by: dict = field(default_factory=dict)       # original node -> its Finding
    pending_amp: set = field(default_factory=set)      # torch.cuda.amp.X references awaiting their call


@functools.lru_cache(maxsize=1)
def _npu_api() -> frozenset[str]:
    from ascend_compat import api_reference

    return api_reference.torch_npu_names() | NPU_EXTRA


@functools.lru_cache(maxsize=2048)
def _missing_on_npu(aten_name: str) -> bool:
    """True when ``aten_name`` is a real aten operator that reaches the device and op-plugin lacks it."""
    import torch

    from ascend_compat import op_support

    if aten_name in op_support.FRAMEWORK_OPS or aten_name.startswith(("cudnn_", "miopen_", "mkldnn_", "q_", "quantized_")):
        return False  # runtime operators, or another backend's private ones
    packet = getattr(torch.ops.aten, aten_name, None)
    if packet is None or op_support.is_supported(aten_name):
        return False
    try:
        for overload in packet.overloads():
            name = f"aten::{aten_name}" + ("" if overload == "default" else f".{overload}")
            for key in ("CompositeImplicitAutograd", "CompositeExplicitAutograd"):
                if torch._C._dispatch_has_kernel_for_dispatch_key(name, key):
                    return False  # decomposed by PyTorch before it reaches the device
    except RuntimeError:  # a name in torch.ops.aten that is not a dispatcher operator (e.g. "device")
        return False
    return True


@functools.lru_cache(maxsize=1)
def _missing_op_names() -> frozenset[str]:
    """Public torch functions that run an operator missing on the NPU (computed once)."""
    import torch

    found = set()
    for module, prefix in ((torch, "torch."), (torch.linalg, "torch.linalg."), (torch.fft, "torch.fft."),
                           (torch.special, "torch.special."), (torch.nn.functional, "torch.nn.functional.")):
        for name in dir(module):
            aten = _aten_name(prefix + name) if not name.startswith("_") else None
            if aten and _missing_on_npu(aten):
                found.add(name)
    return frozenset(found)


def _trigger_pattern() -> re.Pattern:
    words = ["cuda", "CUDA", "nccl", "nvidia", "double", "float64", "jit", "numpy", *CUDA_ONLY_LIBRARIES]
    return re.compile("|".join(re.escape(w.split(".")[0]) for w in words))


def _aten_name(qualified: str) -> str | None:
    for prefix, aten_prefix in (("torch.linalg.", "linalg_"), ("torch.fft.", "fft_"), ("torch.special.", "special_"),
                                ("torch.nn.functional.", ""), ("torch.", "")):
        if qualified.startswith(prefix):
            rest = qualified[len(prefix):]
            return aten_prefix + rest if "." not in rest else None
    return None


def _string_value(node: cst.SimpleString) -> str | None:
    """The str a literal stands for (None for bytes). Without escapes the text between the quotes
    is the value; only the rest pays for libcst's ``evaluated_value`` (a compile per call)."""
    prefix = node.prefix.lower()
    if "b" in prefix:
        return None
    body = node.raw_value
    if "\\" not in body and "\r" not in body:
        return body
    try:
        value = node.evaluated_value
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _with_string(node: cst.SimpleString, old: str, new: str) -> cst.SimpleString:
    prefix_len = len(node.prefix) + len(node.quote)
    body = node.value[prefix_len:-len(node.quote)]
    return node.with_changes(value=node.value[:prefix_len] + body.replace(old, new) + node.quote)


class _Imports(cst.CSTVisitor):
    """Local name -> the dotted module path it stands for, from every import in the file."""

    def __init__(self):
        super().__init__()
        self.aliases: dict[str, str] = {}

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            full = cst.helpers.get_full_name_for_node(alias.name) or ""
            if alias.asname is not None:
                self.aliases[cst.helpers.get_full_name_for_node(alias.asname.name)] = full
            else:
                top = full.split(".")[0]
                self.aliases[top] = top
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return False
        module = cst.helpers.get_full_name_for_node(node.module)
        for alias in node.names:
            name = cst.helpers.get_full_name_for_node(alias.name)
            local = cst.helpers.get_full_name_for_node(alias.asname.name) if alias.asname else name
            self.aliases[local] = f"{module}.{name}"
        return False


def _dotted(node) -> str | None:
    """``a.b.c`` for a pure chain of names; None when a call or subscript is in the way."""
    kind = type(node)  # (not isinstance: slow against libcst's ABCs; neither class has subclasses)
    if kind is cst.Name:
        return node.value
    if kind is cst.Attribute:
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


class _Visitor:
    """The rules, as ``visit_<NodeType>`` methods called by :func:`_walk` (returning False skips
    the node's children). Imports are collected as they are met (code imports before it uses);
    positions are looked up afterwards, only for the nodes with findings."""

    def __init__(self, path: str, analysis: Analysis):
        self.path = path
        self.analysis = analysis
        self.imports = _Imports()
        self.aliases = self.imports.aliases
        self.located: list[tuple[object, Finding, object]] = []  # (node, finding, its statement)
        self.calls: dict = {}  # id(func node) -> its Call (to put torch.cuda.amp fixes on the call)
        self.statement = None  # the innermost statement being walked (set by _walk)

    # -- helpers ---------------------------------------------------------------------------------
    def report(self, node, rule_id: str, message: str, suggestion: str = "", fix=None) -> None:
        rule = RULES[rule_id]
        automatic = fix is not None
        finding = Finding(self.path, 0, 0, rule_id, rule.severity, message, suggestion or rule.advice, automatic)
        self.analysis.findings.append(finding)
        self.located.append((node, finding, self.statement))
        if fix is not None:
            self.analysis.fixes[node] = fix
            self.analysis.fixed_by[node] = finding

    def qualified(self, node) -> set[str]:
        dotted = _dotted(node)
        if dotted is None:
            return set()
        head, _, rest = dotted.partition(".")
        module = self.aliases.get(head)
        if module is None:
            return set()
        return {f"{module}.{rest}" if rest else module}

    # -- docstrings are prose ----------------------------------------------------------------------
    def visit_Expr(self, node: cst.Expr) -> bool:
        return not isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString))

    # -- imports -----------------------------------------------------------------------------------
    def _check_library(self, node, module: str) -> None:
        for library, what in CUDA_ONLY_LIBRARIES.items():
            if module == library or module.startswith(library + "."):
                self.report(node, "MIG010", f"imports {module}: {what}")
                return

    def visit_Import(self, node: cst.Import) -> bool:
        self.imports.visit_Import(node)
        for alias in node.names:
            self._check_library(node, cst.helpers.get_full_name_for_node(alias.name) or "")
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.imports.visit_ImportFrom(node)
        module = cst.helpers.get_full_name_for_node(node.module) if node.module else ""
        self._check_library(node, module or "")
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                self._check_library(node, f"{module}.{cst.helpers.get_full_name_for_node(alias.name)}")
        return False

    # -- names and attributes: torch.cuda.*, backends flags, float64, jit -----------------------------
    def _check_reference(self, node) -> bool:
        """Report a reference to a known CUDA API; returns False to stop visiting inside it."""
        for name in self.qualified(node):
            if name.startswith("torch.cuda.amp.") or name == "torch.cuda.amp":
                self.report(node, "MIG005", f"{name} is the CUDA-only mixed-precision namespace", fix=self._amp_fix(node, name))
                return False
            if name.startswith("torch.cuda."):
                api = name.split(".")[2]
                if api in _npu_api():
                    self.report(node, "MIG003", f"{name} -> torch.npu.{api}", f"torch.npu.{name[len('torch.cuda.'):]}",
                                fix=self._torch_cuda_fix(node))
                else:
                    self.report(node, "MIG004", f"{name} has no torch.npu counterpart")
                return False
            if name.startswith(("torch.backends.cudnn.", "torch.backends.cuda.")):
                self.report(node, "MIG006", f"{name} is a CUDA backend setting")
                return False
            if name in FLOAT64_NAMES:
                self.report(node, "MIG011", f"{name}: float64 data")
                return False
            if name in ("torch.jit.script", "torch.jit.script_method"):
                self.report(node, "MIG013", f"{name} on the NPU")
                return False
            if name == "torch.utils.cpp_extension.CUDAExtension":
                self.report(node, "MIG010", "a custom CUDA extension (CUDAExtension)")
                return False
        return True

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._check_reference(node)

    def visit_Name(self, node: cst.Name) -> bool:
        return self._check_reference(node)

    # -- calls: .cuda(), .double(), numpy data, missing operators -----------------------------------
    def visit_Call(self, node: cst.Call) -> bool:
        func = node.func
        self.calls[id(func)] = node  # (by id: a libcst node hashes in Python)
        names = self.qualified(func)
        if isinstance(func, cst.Attribute) and "torch.cuda" not in names:  # a method, not the torch.cuda module
            if func.attr.value == "cuda":
                self.report(func.attr, "MIG002", ".cuda() moves to a CUDA device", ".npu()  (or .to(device))",
                            fix=lambda updated: updated.with_changes(value="npu"))
            elif func.attr.value == "double":
                self.report(func.attr, "MIG011", ".double() converts to float64", ".float()")
        for name in names:
            if name in TENSOR_FROM_NUMPY and node.args:
                self._check_numpy_data(node, node.args[0].value)
            aten = _aten_name(name)
            if aten and _missing_on_npu(aten):
                self.report(node, "MIG012", f"{name} runs aten::{aten}, which is not in the NPU operator list")
        return True

    def _check_numpy_data(self, call: cst.Call, data) -> None:
        if not isinstance(data, cst.Call):
            return
        names = self.qualified(data.func)
        if not any(n.startswith("numpy.") for n in names):
            return
        dtype = next((a for a in data.args if a.keyword and a.keyword.value == "dtype"), None)
        if dtype is None or {"numpy.float64", "float"} & self.qualified(dtype.value):
            self.report(call, "MIG011", "a NumPy array (float64 by default) becomes a tensor",
                        "create it with dtype=np.float32, or call .float() on the tensor")

    # -- strings: device names, nccl, CUDA_VISIBLE_DEVICES, nvidia-smi ----------------------------------
    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = _string_value(node)
        if value is None:
            return
        if CUDA_DEVICE.match(value):
            self.report(node, "MIG001", f'device string "{value}"', f'"{value.replace("cuda", "npu")}"',
                        fix=lambda updated: _with_string(updated, "cuda", "npu"))
        elif value == "nccl":
            self.report(node, "MIG007", 'backend "nccl"', '"hccl"', fix=lambda updated: _with_string(updated, "nccl", "hccl"))
        elif value == "CUDA_VISIBLE_DEVICES":
            self.report(node, "MIG008", "CUDA_VISIBLE_DEVICES", '"ASCEND_RT_VISIBLE_DEVICES"',
                        fix=lambda updated: _with_string(updated, "CUDA_VISIBLE_DEVICES", "ASCEND_RT_VISIBLE_DEVICES"))
        elif "nvidia-smi" in value:
            self.report(node, "MIG009", "runs nvidia-smi")

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        parts = node.parts
        for i, part in enumerate(parts):
            if not isinstance(part, cst.FormattedStringText):
                continue
            text = part.value
            followed_by_expression = i + 1 < len(parts) and isinstance(parts[i + 1], cst.FormattedStringExpression)
            if (text == "cuda" and len(parts) == 1) or (text in ("cuda:", "cuda") and followed_by_expression and i == 0):
                self.report(part, "MIG001", f'device string f"{text}..."', f'f"{text.replace("cuda", "npu")}..."',
                            fix=lambda updated: updated.with_changes(value=updated.value.replace("cuda", "npu", 1)))

    # -- fixes needing context -----------------------------------------------------------------------
    def _torch_cuda_fix(self, node):
        """Rewrite ``torch.cuda.X`` spelled out (not through an alias) as ``torch.npu.X``."""
        inner = node
        while isinstance(inner, cst.Attribute) and not (isinstance(inner.value, cst.Name) and inner.attr.value == "cuda"):
            inner = inner.value
        if not (isinstance(inner, cst.Attribute) and isinstance(inner.value, cst.Name)
                and inner.value.value == "torch" and self.aliases.get("torch") == "torch"):
            return None

        def fix(updated):
            def swap(n):
                if isinstance(n, cst.Attribute) and isinstance(n.value, cst.Name) and n.attr.value == "cuda":
                    return n.with_changes(attr=cst.Name("npu"))
                return n.with_changes(value=swap(n.value))
            return swap(updated)

        return fix

    def _amp_fix(self, node, name):
        """``torch.cuda.amp.autocast``/``GradScaler`` spelled out -> ``torch.amp.X`` with "npu" (at the call)."""
        if name not in ("torch.cuda.amp.autocast", "torch.cuda.amp.GradScaler"):
            return None
        if cst.helpers.get_full_name_for_node(node) != name:
            return None  # reached through an alias: leave it to a person
        self.analysis.pending_amp.add(node)
        return lambda updated: cst.parse_expression(name.replace("torch.cuda.amp.", "torch.amp."))


# ---------------------------------------------------------------------------- the walk
# Node types that never hold a finding (whitespace, comments, brackets, punctuation, operators).
_INERT = (cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline, cst.Comment,
          cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
          cst.RightCurlyBrace, cst.Comma, cst.Dot, cst.AssignEqual, cst.Colon, cst.Semicolon, cst.Asynchronous,
          cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseUnaryOp, cst.BaseAugOp, cst.BaseCompOp, cst.ImportStar)
_FIELDS: dict[type, tuple[str, ...]] = {}
_PLANS: dict[type, tuple] = {}        # node type -> (visit method or None, fields to walk)
_NODE_KINDS: dict[type, bool] = {}


def _may_hold_nodes(annotation) -> bool:
    """Can a field of this type hold a node worth walking into?"""
    if isinstance(annotation, type):
        return issubclass(annotation, cst.CSTNode) and not issubclass(annotation, _INERT)
    return any(_may_hold_nodes(arg) for arg in typing.get_args(annotation))


def _fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type worth walking, in source order (decorators before the def)."""
    names = _FIELDS.get(kind)
    if names is None:
        hints = typing.get_type_hints(kind)
        names = [f.name for f in dataclasses.fields(kind) if _may_hold_nodes(hints.get(f.name, f.type))]
        if "decorators" in names:
            names.remove("decorators")
            names.insert(0, "decorators")
        names = _FIELDS[kind] = tuple(names)
    return names


def _walk(node, visitor: _Visitor) -> None:
    """Call ``visitor.visit_<Type>(node)`` for ``node`` and, unless that returns False, its children
    (the original nodes, as libcst's visitor would pass them). Keeps ``visitor.statement`` on the
    innermost statement of a module or indented block (not an ``elif``: that is part of its ``if``)."""
    kind = type(node)
    plan = _PLANS.get(kind)
    if plan is None:
        plan = _PLANS[kind] = (getattr(_Visitor, f"visit_{kind.__name__}", None), _fields(kind))
    method, names = plan
    if method is not None and method(visitor, node) is False:
        return
    if kind is cst.Module or kind is cst.IndentedBlock:
        outer = visitor.statement
        for statement in node.body:
            visitor.statement = statement
            _walk(statement, visitor)
        visitor.statement = outer
        return
    for name in names:
        value = getattr(node, name)
        value_kind = type(value)
        if value_kind is list or value_kind is tuple:
            for item in value:
                is_node = _NODE_KINDS.get(type(item))
                if is_node or (is_node is None and _is_node(type(item))):
                    _walk(item, visitor)
        else:
            is_node = _NODE_KINDS.get(value_kind)
            if is_node or (is_node is None and _is_node(value_kind)):
                _walk(value, visitor)


def _is_node(kind: type) -> bool:
    # isinstance() against libcst's abstract base classes is slow; ask once per type
    found = _NODE_KINDS.get(kind)
    if found is None:
        found = _NODE_KINDS[kind] = issubclass(kind, cst.CSTNode)
    return found


# ---------------------------------------------------------------------------- positions
class _Unpaired(Exception):
    """The ast and libcst statement lists do not line up (fall back to whole-file positions)."""


class _Statements:
    """Where libcst's statements are, from Python's ``ast``: ``line[s]`` where statement ``s``
    starts, ``indent[s]`` the indentation tokens around it, and the simple lines on one physical line."""

    def __init__(self, module: cst.Module, code: str):
        self.line: dict = {}
        self.indent: dict = {}
        self.one_line: set = set()
        self.default_indent = module.default_indent
        self._pair(module.body, ast.parse(code).body, ())

    def _pair(self, statements, nodes, indent: tuple) -> None:
        i = 0
        for statement in statements:
            if i >= len(nodes):
                raise _Unpaired
            self.line[statement], self.indent[statement] = nodes[i].lineno, indent
            if isinstance(statement, cst.SimpleStatementLine):
                i += len(statement.body)  # `a; b` is one libcst line, two ast statements
                if i > len(nodes):
                    raise _Unpaired
                if nodes[i - 1].end_lineno == nodes[i - 1 - len(statement.body) + 1].lineno:
                    self.one_line.add(statement)
                continue
            self._compound(statement, nodes[i], indent)
            i += 1
        if i != len(nodes):
            raise _Unpaired

    def _block(self, suite, nodes, indent: tuple) -> None:
        if isinstance(suite, cst.IndentedBlock):
            inner = suite.indent if suite.indent is not None else self.default_indent
            self._pair(suite.body, nodes, indent + (inner,))

    def _orelse(self, part, nodes, indent: tuple) -> None:
        if isinstance(part, cst.If):  # elif: an If inside the orelse of the ast If
            if len(nodes) != 1 or not isinstance(nodes[0], ast.If):
                raise _Unpaired
            self._compound(part, nodes[0], indent)
        elif part is not None:
            self._block(part.body, nodes, indent)

    def _compound(self, statement, node, indent: tuple) -> None:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.With)):
            self._block(statement.body, node.body, indent)
        elif isinstance(statement, (cst.If, cst.For, cst.While)):
            self._block(statement.body, node.body, indent)
            self._orelse(statement.orelse, node.orelse, indent)
        elif isinstance(statement, (cst.Try, cst.TryStar)):
            self._block(statement.body, node.body, indent)
            if len(statement.handlers) != len(node.handlers):
                raise _Unpaired
            for handler, ast_handler in zip(statement.handlers, node.handlers):
                self._block(handler.body, ast_handler.body, indent)
            self._orelse(statement.orelse, node.orelse, indent)
            if statement.finalbody is not None:
                self._block(statement.finalbody.body, node.finalbody, indent)
        elif isinstance(statement, cst.Match):
            for case, ast_case in zip(statement.cases, node.cases):
                self._block(case.body, ast_case.body, indent)
        else:
            raise _Unpaired


@dataclasses.dataclass
class _StartsState(CodegenState):
    """libcst's code generator, noting the token index where each node starts: its syntactic start
    (``record_syntactic_position``) when it has one, else where its code begins -- the rules of
    libcst's ``PositionProvider``, without its per-token bookkeeping."""

    begins: dict = dataclasses.field(default_factory=dict)
    syntactic: dict = dataclasses.field(default_factory=dict)

    # keyed by id(): a libcst node's __hash__ is a Python call, and this runs for every node
    def before_codegen(self, node) -> None:
        self.begins[id(node)] = len(self.tokens)

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        return _SyntacticStart(self, node, start_node)

    def start(self, node) -> int:
        found = self.syntactic.get(id(node))
        return self.begins[id(node)] if found is None else found


class _SyntacticStart:
    __slots__ = ("state", "node", "start_node")

    def __init__(self, state: _StartsState, node, start_node):
        self.state, self.node, self.start_node = state, node, start_node

    def __enter__(self) -> None:
        if self.start_node is None:
            self.state.syntactic[id(self.node)] = len(self.state.tokens)

    def __exit__(self, *exc) -> None:
        if self.start_node is not None:  # hoisted from a child, e.g. an indented block's first statement
            self.state.syntactic[id(self.node)] = self.state.start(self.start_node)


def _line_columns(state: _StartsState, nodes) -> dict:
    """Token indices -> (line, column), lines counted from 1 at the start of the generated code."""
    offsets = list(itertools.accumulate(map(len, state.tokens), initial=0))
    text = "".join(state.tokens)
    line_starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]
    found = {}
    for node in nodes:
        offset = offsets[state.start(node)]
        line = bisect.bisect_right(line_starts, offset)
        found[node] = (line, offset - line_starts[line - 1])
    return found


_NEWLINE = re.compile(r"\r\n?|\n")  # what libcst counts as a line break

# Nodes whose code starts exactly where their position does (no parentheses of their own).
_SEARCHABLE = (cst.Name, cst.SimpleString, cst.Attribute, cst.Call, cst.FormattedStringText)


def _text_of(module: cst.Module, node) -> str | None:
    """The node's source text, or None for a node whose text does not start at its position."""
    kind = type(node)
    if kind not in _SEARCHABLE or getattr(node, "lpar", None):
        return None
    if kind is cst.Name or kind is cst.SimpleString or kind is cst.FormattedStringText:
        return node.value or None  # the token itself: no code generation needed
    return module.code_for_node(node) or None


def _locate_by_text(module: cst.Module, code: str, located) -> list:
    """A node whose code occurs exactly once in the file is where that occurrence is. Returns the
    findings left to locate."""
    left, counts, line_starts = [], {}, None
    for item in located:
        node, finding, _ = item
        needle = _text_of(module, node)
        if needle is None:
            left.append(item)
            continue
        count = counts.get(needle)
        if count is None:
            count = counts[needle] = code.count(needle) if needle else 0
        if count != 1:
            left.append(item)
            continue
        if line_starts is None:
            line_starts = [0] + [m.end() for m in _NEWLINE.finditer(code)]
        offset = code.index(needle)
        line = bisect.bisect_right(line_starts, offset)
        finding.line, finding.column = line, offset - line_starts[line - 1] + 1
    return left


def _locate(module: cst.Module, code: str, located) -> None:
    """Fill in line and column of each finding: by a unique text match in the file or on its
    one-line statement, else by regenerating only the statement that holds it."""
    located = _locate_by_text(module, code, located)
    if not located:
        return
    try:
        where = _Statements(module, code)
        if any(statement not in where.line for _, _, statement in located):
            raise _Unpaired
    except (SyntaxError, ValueError, RecursionError, _Unpaired):
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for node, finding, _ in located:
            start = positions[node].start
            finding.line, finding.column = start.line, start.column + 1
        return
    by_statement: dict = {}
    lines = None
    for node, finding, statement in located:
        if statement in where.one_line:
            if lines is None:
                lines = _NEWLINE.split(code)
            line, needle = lines[where.line[statement] - 1], _text_of(module, node)
            if needle is not None and line.count(needle) == 1:
                finding.line, finding.column = where.line[statement], line.index(needle) + 1
                continue
        by_statement.setdefault(statement, []).append((node, finding))
    for statement, items in by_statement.items():
        nodes = [node for node, _ in items]
        places = None
        if not isinstance(statement, cst.SimpleStatementLine):
            places = _generate(module, _header_only(statement), where.indent[statement], nodes)
        if places is None:  # a simple line, or a finding beyond the header
            places = _generate(module, statement, where.indent[statement], nodes)
        shift = where.line[statement] - places[None][0]
        for node, finding in items:
            line, column = places[node]
            finding.line, finding.column = line + shift, column + 1


def _header_only(statement):
    """A compound statement's findings outside its inner statements are mostly in its header
    (``if torch.cuda.is_available():``): generating the header alone spares generating the body."""
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.With, cst.If, cst.For, cst.While)) and \
            isinstance(statement.body, cst.IndentedBlock):
        changes = {"body": statement.body.with_changes(body=())}
        if getattr(statement, "orelse", None) is not None:
            changes["orelse"] = None
        return statement.with_changes(**changes)
    return statement


def _generate(module: cst.Module, statement, indent: tuple, nodes) -> dict | None:
    """Generate ``statement`` alone, with the indentation around it; (line, column) of each of
    ``nodes`` and, under None, of the statement itself. None when a node is not in that code."""
    state = _StartsState(default_indent=module.default_indent, default_newline=module.default_newline,
                         indent_tokens=list(indent))
    statement._codegen(state)
    if any(id(node) not in state.begins for node in nodes):
        return None
    places = _line_columns(state, [statement, *nodes])
    places[None] = places[statement]
    return places


_BASE_TRIGGERS = _trigger_pattern()


class _Triggers:
    """Cheap text test: the regex above plus the names of operators missing on the NPU."""

    operators: re.Pattern | None = None

    def search(self, code: str):
        if self.operators is None:
            names = sorted(_missing_op_names())
            self.operators = re.compile("|".join(r"\b%s\(" % re.escape(n) for n in names) if names else r"(?!)")
        # the short pattern first: it finds most CUDA code at once, the long alternation is slow
        return _BASE_TRIGGERS.search(code) or self.operators.search(code)


TRIGGERS = _Triggers()


def prepare() -> None:
    """Build the lookup tables (operator names, the torch.npu API) now: worker processes forked
    afterwards share them instead of each building its own."""
    TRIGGERS.search("")
    _npu_api()


def analyze_source(code: str, path: str = "<string>") -> list[Finding]:
    """The findings in one Python source, in file order."""
    return analyze(code, path).findings


def analyze(code: str, path: str = "<string>") -> Analysis:
    """Analyse one Python source (findings and fixes). A syntax error becomes a single MIG000 finding."""
    analysis = Analysis()
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        rule = RULES["MIG000"]
        analysis.findings.append(Finding(path, exc.raw_line, exc.raw_column + 1, "MIG000", rule.severity,
                                         f"syntax error: {exc.message}", rule.advice, False))
        return analysis
    analysis.module = module
    if not TRIGGERS.search(code):
        return analysis  # nothing CUDA-, float64- or operator-related can be in here
    visitor = _Visitor(path, analysis)
    _walk(module, visitor)
    if visitor.located:
        _locate(module, code, visitor.located)
    _attach_amp_device_argument(analysis, visitor.calls)
    analysis.findings.sort(key=lambda f: (f.line, f.column, f.rule))
    return analysis


def _attach_amp_device_argument(analysis: Analysis, calls: dict) -> None:
    """``torch.cuda.amp.autocast(x)`` -> ``torch.amp.autocast("npu", x)``: the fix sits on the call.
    ``calls`` maps the id of each walked call's ``func`` node to the call."""
    for func in analysis.pending_amp:
        call = calls.get(id(func))
        if call is None:  # referenced but not called: the device argument cannot be added
            analysis.fixes.pop(func, None)
            analysis.fixed_by[func].automatic = False
            continue
        func_fix = analysis.fixes.pop(func)

        def fix(updated, func_fix=func_fix):
            device = cst.Arg(cst.SimpleString('"npu"'))
            return updated.with_changes(func=func_fix(updated.func), args=[device, *updated.args])

        analysis.fixes[call] = fix
