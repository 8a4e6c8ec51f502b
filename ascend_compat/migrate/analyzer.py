"""Find CUDA-isms in Python source with libcst, and say how each becomes Ascend code.

``analyze_source(code)`` returns :class:`Finding` objects. The same pass records, for the findings
that have a safe automatic rewrite, a function that produces the rewritten node — the rewriter
(:mod:`.rewriter`) applies exactly those, so what is reported as automatic is what gets fixed.

Names are resolved through the file's imports: ``import torch.cuda as tc; tc.synchronize()`` is
``torch.cuda.synchronize``, ``from torch import cuda`` makes ``cuda.X`` ``torch.cuda.X``. (A light
resolver of our own rather than libcst's scope analysis, which costs ten times the parse: a name
re-bound inside a function is still taken for the import.) Comments, docstrings and prose strings
that mention CUDA are not findings.
"""

from __future__ import annotations

import functools
import re
from dataclasses import asdict, dataclass, field

import libcst as cst
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
    try:
        return node.evaluated_value if isinstance(node.evaluated_value, str) else None
    except Exception:
        return None


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
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base is not None else None
    return None


class _Visitor(cst.CSTVisitor):
    """One pass over the tree. Imports are collected as they are met (code imports before it uses);
    positions are looked up afterwards, only for the nodes with findings."""

    def __init__(self, path: str, analysis: Analysis):
        super().__init__()
        self.path = path
        self.analysis = analysis
        self.imports = _Imports()
        self.aliases = self.imports.aliases
        self.located: list[tuple[object, Finding]] = []

    # -- helpers ---------------------------------------------------------------------------------
    def report(self, node, rule_id: str, message: str, suggestion: str = "", fix=None) -> None:
        rule = RULES[rule_id]
        automatic = fix is not None
        finding = Finding(self.path, 0, 0, rule_id, rule.severity, message, suggestion or rule.advice, automatic)
        self.analysis.findings.append(finding)
        self.located.append((node, finding))
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


_BASE_TRIGGERS = _trigger_pattern()


class _Triggers:
    """Cheap text test: the regex above plus the names of operators missing on the NPU."""

    pattern: re.Pattern | None = None

    def search(self, code: str):
        if self.pattern is None:
            names = sorted(_missing_op_names())
            self.pattern = re.compile(_BASE_TRIGGERS.pattern + ("|" + "|".join(r"\b%s\(" % re.escape(n) for n in names) if names else ""))
        return self.pattern.search(code)


TRIGGERS = _Triggers()


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
    module.visit(visitor)
    if visitor.located:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for node, finding in visitor.located:
            start = positions[node].start
            finding.line, finding.column = start.line, start.column + 1
    _attach_amp_device_argument(analysis)
    analysis.findings.sort(key=lambda f: (f.line, f.column, f.rule))
    return analysis


def _attach_amp_device_argument(analysis: Analysis) -> None:
    """``torch.cuda.amp.autocast(x)`` -> ``torch.amp.autocast("npu", x)``: the fix sits on the call."""
    pending = analysis.pending_amp
    if not pending:
        return

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if node.func in pending:
                func_fix = analysis.fixes.pop(node.func)

                def fix(updated, func_fix=func_fix):
                    device = cst.Arg(cst.SimpleString('"npu"'))
                    return updated.with_changes(func=func_fix(updated.func), args=[device, *updated.args])

                analysis.fixes[node] = fix
                called.add(node.func)

    called: set = set()
    analysis.module.visit(Finder())
    for func in pending - called:  # referenced but not called: the device argument cannot be added
        analysis.fixes.pop(func, None)
        analysis.fixed_by[func].automatic = False
