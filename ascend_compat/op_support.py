"""Which aten operators the NPU implements: the list torch_npu's op-plugin ships.

``data/npu_ops.json`` is produced by ``scripts/extract_npu_ops.py`` from Ascend/op-plugin's
``op_plugin/config/op_plugin_functions.yaml`` (commit and torch version in its ``source`` field).
How to read it: PyTorch decomposes *composite* operators (``linear``, ``cross_entropy``, ``conv2d``
...) into primitive ones before a backend sees them, so only operators that reach the device are
looked up here. An operator that reaches the NPU and is not listed runs on the CPU instead (the
"fallback" the simulator warns about). Memory and view operators (``empty``, ``copy_``, ``view``,
``as_strided``...) live in torch_npu's runtime rather than in op-plugin; the simulator treats them
as always present (see :data:`ascend_compat.sim.op_policy.FRAMEWORK_OPS`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "npu_ops.json"


@functools.lru_cache(maxsize=1)
def _data() -> dict:
    with open(DATA, encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=1)
def supported_ops() -> frozenset[str]:
    """Operator names (``add``) and overload names (``add.Tensor``) the NPU implements."""
    data = _data()
    return frozenset(data["aten"]) | frozenset(data["aten_overloads"])


def custom_ops() -> frozenset[str]:
    """torch_npu's own operators (``npu_*``), e.g. ``npu_rms_norm``."""
    return frozenset(_data()["custom"])


def source() -> dict:
    """Where the list comes from: repository, path, commit, torch version."""
    return dict(_data()["source"])


@functools.lru_cache(maxsize=4096)
def is_supported(name: str) -> bool:
    """``aten::add.Tensor``, ``add.Tensor``, ``add`` or ``aten.add.Tensor`` -> is it on the NPU list?"""
    name = name.strip()
    for prefix in ("aten::", "aten."):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name.endswith(".default"):
        name = name[: -len(".default")]
    ops = supported_ops()
    return name in ops or name.split(".")[0] in ops
