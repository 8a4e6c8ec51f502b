"""How long an operator takes on the simulated NPU: a roofline model.

    device time = launch + max(FLOPs / (peak FLOP/s x efficiency), bytes / (bandwidth x efficiency))

FLOPs are counted for the operators that dominate real workloads (matrix multiply, convolution
and their backward passes); everything else is charged one operation per output element. Bytes are
what the operator reads and writes. Peak figures come from the SoC table (:mod:`ascend_compat.soc`).
The efficiencies and launch cost are modelling assumptions (stated below), not measurements: the
model is meant to rank alternatives the way hardware does (fewer launches, less traffic, fp16 on the
matrix unit), and to be deterministic, not to predict milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# Modelling assumptions (see module docstring).
DEVICE_LAUNCH_US = 3.0      # per kernel, on the device
HOST_LAUNCH_US = 10.0       # per operator, host-side framework + runtime overhead (eager mode)
CUBE_EFFICIENCY = 0.6       # share of peak a typical matmul/conv reaches
VECTOR_EFFICIENCY = 0.5
BANDWIDTH_EFFICIENCY = 0.8
HOST_LINK_GBPS = 25.0       # PCIe 4.0 x16, effective, host <-> device
CPU_FALLBACK_GFLOPS = 50.0  # a host core running a fallen-back operator

HALF = (torch.float16, torch.bfloat16)
MATMUL = {"mm", "addmm", "bmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot"}


@dataclass(frozen=True)
class Cost:
    flops: float
    bytes: float
    device_us: float


def _nbytes(obj) -> int:
    """Bytes of every tensor in ``obj`` (a tensor, or a list/tuple holding tensors one level down)."""
    if isinstance(obj, torch.Tensor):
        return obj.nbytes
    total = 0
    if isinstance(obj, (list, tuple)):
        for o in obj:
            if isinstance(o, torch.Tensor):
                total += o.nbytes
            elif isinstance(o, (list, tuple)):
                for t in o:
                    if isinstance(t, torch.Tensor):
                        total += t.nbytes
    return total


def _first_tensor(obj):
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (list, tuple)):
        for o in obj:
            t = _first_tensor(o)
            if t is not None:
                return t
    return None


def flops(name: str, args, out) -> float:
    """Floating-point operations of one call (multiply-add = 2)."""
    if name in MATMUL:
        a, b = (args[0], args[1]) if name in ("mm", "bmm", "mv", "dot", "vdot") else (args[1], args[2])
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            k = a.shape[-1] if a.dim() else 1
            result = _first_tensor(out)
            return 2.0 * (result.numel() if result is not None else 1) * k
    if name == "convolution" and isinstance(args[1], torch.Tensor):
        weight, result = args[1], _first_tensor(out)
        transposed = bool(args[6]) if len(args) > 6 else False
        per_output = math.prod(weight.shape[1:])
        if transposed:
            return 2.0 * args[0].numel() * math.prod(weight.shape[1:])
        return 2.0 * (result.numel() if result is not None else 0) * per_output
    if name == "convolution_backward" and isinstance(args[2], torch.Tensor):
        grad_out, weight = args[0], args[2]
        mask = args[-1] if isinstance(args[-1], (list, tuple)) else (True, True, True)
        one = 2.0 * grad_out.numel() * math.prod(weight.shape[1:])
        return one * (int(bool(mask[0])) + int(bool(mask[1])))
    result = _first_tensor(out)
    return float(result.numel()) if result is not None else 0.0


def estimate(name: str, args, out, spec) -> Cost:
    """The device time of one operator on the SoC described by ``spec``."""
    moved = _nbytes(args) + _nbytes(out)
    heavy = name in MATMUL or name.startswith("convolution")
    if not heavy:  # the common case, kept cheap: one operation per output element
        result = out if isinstance(out, torch.Tensor) else _first_tensor(out)
        f = float(result.numel()) if result is not None else 0.0
        rate = spec.fp32_tflops * 1e12 * VECTOR_EFFICIENCY / 4
        compute_us = f / rate * 1e6 if rate else 0.0
        memory_us = moved / (spec.bandwidth_gbps * 1e9 * BANDWIDTH_EFFICIENCY) * 1e6
        return Cost(f, moved, DEVICE_LAUNCH_US + max(compute_us, memory_us))
    f = flops(name, args, out)
    if heavy:
        dtype = getattr(_first_tensor(out), "dtype", None) or getattr(_first_tensor(args), "dtype", torch.float32)
        peak = spec.fp16_tflops if dtype in HALF else spec.fp32_tflops
        rate = peak * 1e12 * CUBE_EFFICIENCY
    else:
        rate = spec.fp32_tflops * 1e12 * VECTOR_EFFICIENCY / 4  # vector unit: a fraction of the cube
    compute_us = f / rate * 1e6 if rate else 0.0
    memory_us = moved / (spec.bandwidth_gbps * 1e9 * BANDWIDTH_EFFICIENCY) * 1e6
    return Cost(f, moved, DEVICE_LAUNCH_US + max(compute_us, memory_us))


def host_copy_us(nbytes: int) -> float:
    return 1.0 + nbytes / (HOST_LINK_GBPS * 1e9) * 1e6


def fallback_us(name: str, args, out) -> float:
    """An operator missing on the NPU: copy inputs to the host, compute there, copy results back."""
    return (host_copy_us(_nbytes(args)) + flops(name, args, out) / (CPU_FALLBACK_GFLOPS * 1e9) * 1e6
            + host_copy_us(_nbytes(out)))
