"""How long an operator takes on the simulated NPU: a roofline model.

    device time = launch + max(FLOPs / (peak FLOP/s x efficiency), bytes / (bandwidth x efficiency))

FLOPs are counted for the operators that dominate real workloads (matrix multiply, convolution
and their backward passes); everything else is charged one operation per output element. Bytes are
what the operator reads and writes. Peak figures come from the SoC table (:mod:`ascend_compat.soc`).
The efficiencies and launch cost are modelling assumptions (stated below), not measurements: the
model is meant to rank alternatives the way hardware does (fewer launches, less traffic, fp16 on the
matrix unit), and to be deterministic, not to predict milliseconds.

Kernels per call. Most operators are one device kernel. Some are not, and the lessons on fusion
count launches, so the model follows what Ascend/op-plugin really launches (commit in
``data/npu_ops.json``):

* view operators (``view``, ``t``, ``detach``, slicing) and bare allocations (``empty``) change
  metadata on the host and launch nothing;
* ``_foreach_*`` on Atlas A2/A3 SoCs (Ascend910B*, Ascend910_93*) run as ``aclnnForeach*`` kernels
  that take the tensor lists in chunks (``op_plugin/ops/opapi/Foreach*KernelNpuOpApi.cpp`` split them
  so one launch holds at most about 48 tensors: 24 pairs for an in-place ``_foreach_add_``, 16
  triples for ``_foreach_addcdiv_``); on older SoCs op-plugin takes PyTorch's slow path, one kernel
  per tensor — which is why torch_npu makes foreach the optimizer default only on A2/A3
  (``torch_npu/utils/_optim.py`` in Ascend/pytorch);
* ``_fused_adamw_`` launches two kernels per parameter (a ``sub`` for the step and
  ``aclnnApplyAdamWV2``; ``op_plugin/ops/opapi/FusedAdamWKernelNpuOpApi.cpp``), ``_fused_sgd_`` one
  ``aclnnFusedSgd`` for the whole list (``FusedSgdKernelOpApi.cpp``). ``_fused_adam_`` is not in
  op-plugin's list at all: ``torch.optim.Adam(fused=True)`` falls back to the CPU on a real NPU too.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from ascend_compat.sim.op_policy import PLAIN as _PLAIN

# Modelling assumptions (see module docstring).
DEVICE_LAUNCH_US = 3.0      # per kernel, on the device
HOST_LAUNCH_US = 10.0       # per operator, host-side framework + runtime overhead (eager mode)
CUBE_EFFICIENCY = 0.6       # share of peak a typical matmul/conv reaches
VECTOR_EFFICIENCY = 0.5
BANDWIDTH_EFFICIENCY = 0.8
HOST_LINK_GBPS = 25.0       # PCIe 4.0 x16, effective, host <-> device
CPU_FALLBACK_GFLOPS = 50.0  # a host core running a fallen-back operator

HOST_METADATA_US = 1.0     # per view/allocation operator: host bookkeeping only, no kernel
# One aclnnForeach launch holds at most this many tensors (inputs + outputs), see module docstring.
FOREACH_TENSORS_PER_KERNEL = 48
FOREACH_SOC_PREFIXES = ("Ascend910B", "Ascend910_93")

HALF = (torch.float16, torch.bfloat16)
# Bare allocations: the caching allocator hands out memory on the host, nothing runs on the device.
ALLOCATION_ONLY = frozenset({"empty", "empty_strided", "empty_like", "new_empty", "new_empty_strided"})
MATMUL = {"mm", "addmm", "bmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "vdot"}
# Composite operators PyTorch decomposes only when autograd records them: under
# ``torch.inference_mode()`` they reach the device whole, and are charged as what they compute.
COMPOSITE_MATMUL = {"linear", "matmul"}
COMPOSITE_CONVOLUTION = {"conv1d", "conv2d", "conv3d"}
COMPOSITE_TRANSPOSED = {"conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
HEAVY = frozenset(MATMUL | COMPOSITE_MATMUL | COMPOSITE_CONVOLUTION | COMPOSITE_TRANSPOSED
                  | {"convolution", "convolution_backward"})


_TENSOR = torch.Tensor
_MATRICES_FIRST = frozenset({"mm", "bmm", "mv", "dot", "vdot"})  # the others have a bias/input first


def _nbytes(obj) -> int:
    """Bytes of every tensor in ``obj`` (a tensor, or a list/tuple holding tensors one level down).

    The simulator passes the plain CPU tensors inside its NPU tensors, so an exact type test
    settles most items; ``isinstance`` (slow on what is not a tensor) is the fallback."""
    kind = type(obj)
    if kind is _TENSOR:
        return obj.nbytes
    if kind is not tuple and kind is not list:
        return obj.nbytes if isinstance(obj, torch.Tensor) else 0
    total = 0
    for o in obj:
        kind = type(o)
        if kind is _TENSOR:
            total += o.nbytes
        elif kind is tuple or kind is list:
            if o and type(o[0]) not in _PLAIN:
                for t in o:
                    if isinstance(t, torch.Tensor):
                        total += t.nbytes
        elif o is not None and kind not in _PLAIN and isinstance(o, torch.Tensor):
            total += o.nbytes
    return total


def _first_tensor(obj):
    kind = type(obj)
    if kind is _TENSOR:
        return obj
    if kind is tuple or kind is list:
        for o in obj:
            t = _first_tensor(o)
            if t is not None:
                return t
        return None
    return obj if isinstance(obj, torch.Tensor) else None


def flops(name: str, args, out) -> float:
    """Floating-point operations of one call (multiply-add = 2)."""
    if name in MATMUL:
        a, b = (args[0], args[1]) if name in _MATRICES_FIRST else (args[1], args[2])
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            shape = a.shape
            k = shape[-1] if shape else 1  # the reduced dimension
            result = out if type(out) is _TENSOR else _first_tensor(out)
            return 2.0 * (result.numel() if result is not None else 1) * k
    if name in COMPOSITE_MATMUL and isinstance(args[0], torch.Tensor):
        result = _first_tensor(out)  # linear(x, W) and matmul(a, b) both reduce over x's last dim
        k = args[0].shape[-1] if args[0].dim() else 1
        return 2.0 * (result.numel() if result is not None else 1) * k
    if name in COMPOSITE_CONVOLUTION and isinstance(args[1], torch.Tensor):
        result = _first_tensor(out)
        return 2.0 * (result.numel() if result is not None else 0) * math.prod(args[1].shape[1:])
    if name in COMPOSITE_TRANSPOSED and isinstance(args[1], torch.Tensor):
        return 2.0 * args[0].numel() * math.prod(args[1].shape[1:])
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


class Rates(NamedTuple):
    """A SoC's peak figures, derated by the efficiencies above, in the units :func:`estimate` uses
    (per second). Worked out once per SoC, not once per operator."""
    vector_flops: float     # the vector unit: a quarter of the fp32 cube
    cube_fp32_flops: float
    cube_half_flops: float  # float16/bfloat16 on the cube
    bytes: float            # device memory


def rates(spec) -> Rates:
    return Rates(spec.fp32_tflops * 1e12 * VECTOR_EFFICIENCY / 4, spec.fp32_tflops * 1e12 * CUBE_EFFICIENCY,
                 spec.fp16_tflops * 1e12 * CUBE_EFFICIENCY, spec.bandwidth_gbps * 1e9 * BANDWIDTH_EFFICIENCY)


def estimate(name: str, args, out, rate: Rates) -> tuple[float, float, float]:
    """``(flops, bytes, device_us)`` of one operator on the SoC whose :func:`rates` are ``rate``.
    A plain tuple: one is made for every operator, and a NamedTuple takes ~15 times longer to make."""
    moved = _nbytes(args) + _nbytes(out)
    if name in HEAVY:
        f = flops(name, args, out)
        result = out if type(out) is _TENSOR else _first_tensor(out)
        dtype = result.dtype if result is not None else getattr(_first_tensor(args), "dtype", torch.float32)
        per_second = rate.cube_half_flops if dtype in HALF else rate.cube_fp32_flops
    else:  # the common case, kept cheap: one operation per output element
        result = out if type(out) is _TENSOR else _first_tensor(out)
        f = float(result.numel()) if result is not None else 0.0
        per_second = rate.vector_flops
    return f, moved, device_us(f, moved, per_second, rate)


def device_us(flops: float, moved: int, per_second: float, rate: Rates) -> float:
    """The roofline: launch, then the longer of computing ``flops`` at ``per_second`` and moving
    ``moved`` bytes through device memory."""
    compute_us = flops / per_second * 1e6 if per_second else 0.0
    memory_us = moved / rate.bytes * 1e6
    return DEVICE_LAUNCH_US + (compute_us if compute_us > memory_us else memory_us)


def host_copy_us(nbytes: int) -> float:
    return 1.0 + nbytes / (HOST_LINK_GBPS * 1e9) * 1e6


def fallback_us(name: str, args, out) -> float:
    """An operator missing on the NPU: copy inputs to the host, compute there, copy results back.

    In-place operators (``add_``, ``_fused_adam_``) also copy every input back, as PyTorch's
    ``at::native::cpu_fallback`` (which torch_npu's fallback calls) writes mutated arguments back.
    """
    back = _nbytes(args) if name.endswith("_") else _nbytes(out)
    work = flops(name, args, out) or _nbytes(args) / 4  # in-place ops return nothing: ~one op per input element
    return host_copy_us(_nbytes(args)) + work / (CPU_FALLBACK_GFLOPS * 1e9) * 1e6 + host_copy_us(back)


NO_KERNEL, ONE_KERNEL, SOME_KERNELS = 0, 1, 2  # what launch_kind() says of an operator


def launch_kind(op) -> int:
    """Views and bare allocations launch nothing (host-side metadata only); ``_foreach_*`` and
    ``_fused_adamw_`` launch a number that depends on their arguments (:func:`kernels`); every
    other operator launches one kernel."""
    name = op._overloadpacket.__name__
    if op.is_view or name in ALLOCATION_ONLY:
        return NO_KERNEL
    if name.startswith("_foreach_") or name in ("_fused_adamw_", "_fused_adamw"):
        return SOME_KERNELS
    return ONE_KERNEL


def kernels(name: str, args, soc_name: str) -> int:
    """How many device kernels one call of operator ``name`` launches (see module docstring)."""
    if name.startswith("_foreach_"):
        lists = [a for a in args if isinstance(a, (list, tuple)) and a and isinstance(a[0], torch.Tensor)]
        return foreach_kernels(name, len(lists[0]) if lists else 1, len(lists), soc_name)
    if name in ("_fused_adamw_", "_fused_adamw"):
        return max(1, 2 * len(args[0]))
    return 1


def foreach_kernels(name: str, count: int, lists: int, soc_name: str) -> int:
    """Kernels of a ``_foreach_*`` call over ``lists`` tensor lists of ``count`` tensors each."""
    if not soc_name.startswith(FOREACH_SOC_PREFIXES):
        return max(1, count)  # op-plugin's slow path: one kernel per tensor
    per_kernel = FOREACH_TENSORS_PER_KERNEL // (lists + (0 if name.endswith("_") else 1))
    return max(1, -(-count // max(1, per_kernel)))
