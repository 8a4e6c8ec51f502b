"""Which aten operators the NPU implements: the list torch_npu's op-plugin ships.

``data/npu_ops.json`` is produced by ``scripts/extract_npu_ops.py`` from Ascend/op-plugin's
``op_plugin/config/op_plugin_functions.yaml`` (commit and torch version in its ``source`` field).
How to read it: PyTorch decomposes *composite* operators (``linear``, ``cross_entropy``, ``conv2d``
...) into primitive ones before a backend sees them, so only operators that reach the device are
looked up here. An operator that reaches the NPU and is not listed runs on the CPU instead (the
"fallback" the simulator warns about). Memory and view operators (``empty``, ``copy_``, ``view``,
``as_strided``...) live in torch_npu's runtime rather than in op-plugin; the simulator treats them
as always present (:data:`FRAMEWORK_OPS`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

DATA = Path(__file__).parent / "data" / "npu_ops.json"

# Operators every backend provides in its runtime rather than in op-plugin's kernel list:
# memory, views and metadata. They never "fall back".
FRAMEWORK_OPS = frozenset({
    "empty", "empty_strided", "empty_like", "_to_copy", "copy_", "_copy_from", "_copy_from_and_resize",
    "set_", "resize_", "resize_as_", "_local_scalar_dense", "detach", "detach_", "alias", "lift_fresh",
    "clone", "_unsafe_view", "view", "as_strided", "as_strided_", "_reshape_alias", "t", "transpose",
    "permute", "expand", "squeeze", "unsqueeze", "select", "slice", "split", "split_with_sizes",
    "unbind", "chunk", "narrow", "narrow_copy", "diagonal", "unfold", "view_as_real", "view_as_complex",
    "_pin_memory", "is_pinned", "record_stream", "_has_compatible_shallow_copy_type", "is_same_size",
    "equal", "_conj", "_neg_view", "conj", "resolve_conj", "resolve_neg", "zero_", "fill_", "new_empty",
    "new_empty_strided", "new_zeros", "new_ones", "new_full", "_nested_tensor_from_mask",
    "_foreach_copy_", "lift", "item", "contiguous", "_reshape_copy", "_unsafe_index",
})


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
