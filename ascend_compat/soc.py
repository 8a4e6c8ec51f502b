"""Ascend SoCs: names, device memory and speed, from ``data/soc_specs.json``.

The names are the real ones (``atc --soc_version=...``, ``torch.npu.get_device_name()``). The simulator
takes its memory capacity and its cost model's peak figures from here; each entry says in ``basis``
whether a figure is published by the vendor or an estimate.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from ascend_compat.errors import UserError

DATA = Path(__file__).parent / "data" / "soc_specs.json"


@dataclass(frozen=True)
class SocSpec:
    name: str
    product: str
    memory_gib: float
    fp16_tflops: float       # matrix unit, float16
    fp32_tflops: float
    bandwidth_gbps: float    # device memory bandwidth
    ai_cores: int
    bf16: bool               # bfloat16 support (Atlas A2 generation onwards)
    amp_dtype: str           # the mixed-precision dtype to prefer on this SoC
    basis: str


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, SocSpec]:
    with open(DATA, encoding="utf-8") as handle:
        data = json.load(handle)
    return {entry["name"]: SocSpec(**entry) for entry in data["socs"]}


def names() -> tuple[str, ...]:
    return tuple(_table())


def get(name: str) -> SocSpec:
    """The spec of SoC ``name``; an unknown name raises one line listing the valid ones."""
    spec = _table().get(name)
    if spec is None:
        raise UserError(f"unknown Ascend SoC {name!r}; use one of: {', '.join(names())}")
    return spec


def default_sim_soc() -> str:
    with open(DATA, encoding="utf-8") as handle:
        return json.load(handle)["default_sim_soc"]
