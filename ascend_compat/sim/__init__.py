"""The simulated Ascend NPU: a real PyTorch device named ``npu`` that computes on the CPU.

How it is built (read in this order — it is a small device backend):

- :mod:`.registration`  makes ``npu`` a PyTorch device (PrivateUse1) and installs ``torch.npu``
- :mod:`.tensor`        ``NPUTensor``: a tensor on the device (metadata outside, CPU data inside)
- :mod:`.dispatch`      runs every operator: device checks, NPU rules, compute, wrap results
- :mod:`.backward_errors` errors on PyTorch's backward thread, raised from ``backward()``
- :mod:`.op_policy`     what the NPU supports: operator list (CPU fallback), float64
- :mod:`.memory`        device memory: capacity, caching allocator statistics, out-of-memory
- :mod:`.timeline` / :mod:`.costmodel` / :mod:`.streams`  asynchronous execution in simulated time
- :mod:`.amp`, :mod:`.random`, :mod:`.serialization`       autocast, generators, checkpoints
- :mod:`.profiler` / :mod:`.measurement`  what ran when (traces, timelines) and ``measure()``
- :mod:`.optim`         ``torch_npu.optim``'s fused optimizers (tensor fusion), foreach defaults
- :mod:`.npu_module`    ``torch.npu``: torch_npu's public API on top of all that
"""

from __future__ import annotations

from ascend_compat.sim.config import CONFIG, SimConfig, configure
from ascend_compat.sim.measurement import Measurement, measure
from ascend_compat.sim.op_policy import (
    NPUFallbackWarning,
    NPUUnsupportedError,
    fallback_report,
    reset_fallback_report,
)
from ascend_compat.sim.registration import install, installed

__all__ = [
    "CONFIG", "SimConfig", "configure", "install", "installed", "fallback_report",
    "reset_fallback_report", "NPUFallbackWarning", "NPUUnsupportedError", "reset", "measure", "Measurement",
]


def reset() -> None:
    """Forget simulated time, memory statistics and the fallback report (live tensors stay)."""
    from ascend_compat.sim import memory, timeline

    timeline.reset()
    memory.reset()
    reset_fallback_report()
