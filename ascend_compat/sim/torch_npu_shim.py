"""``import torch_npu`` on the simulated NPU.

On hardware every script starts with ``import torch`` + ``import torch_npu``. So that the same
script runs here, the lab registers this module as ``torch_npu`` when the simulator is active
(and only then): it carries the pieces of torch_npu the course uses — ``torch_npu.npu`` (the same
module as ``torch.npu``), ``torch_npu.profiler``, ``torch_npu.optim`` — and nothing pretends to be
more than that: other attributes raise an error that names them.
"""

from __future__ import annotations

import sys
import types

import torch

from ascend_compat.sim import profiler as _profiler

__version__ = "simulated"


def _optim_module() -> types.ModuleType:
    optim = types.ModuleType("torch_npu.optim", "torch_npu.optim on the simulated NPU: fused optimizers.")

    class NpuFusedAdam(torch.optim.Adam):
        """torch_npu's fused Adam; here PyTorch's fused Adam, which the simulator runs as one kernel."""

        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
            super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, fused=True)

    class NpuFusedAdamW(torch.optim.AdamW):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
            super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, fused=True)

    class NpuFusedSGD(torch.optim.SGD):
        def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
            super().__init__(params, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                             nesterov=nesterov, fused=True)

    optim.NpuFusedAdam, optim.NpuFusedAdamW, optim.NpuFusedSGD = NpuFusedAdam, NpuFusedAdamW, NpuFusedSGD
    return optim


def _profiler_module() -> types.ModuleType:
    prof = types.ModuleType("torch_npu.profiler", _profiler.__doc__)
    for name in ("profile", "ProfilerActivity", "tensorboard_trace_handler", "_ExperimentalConfig"):
        setattr(prof, name, getattr(_profiler, name))
    prof.schedule = torch.profiler.schedule
    return prof


def install() -> None:
    if "torch_npu" in sys.modules:
        return
    module = sys.modules[__name__]
    module.npu = torch.npu
    module.profiler = _profiler_module()
    module.optim = _optim_module()
    sys.modules["torch_npu"] = module
    sys.modules["torch_npu.npu"] = torch.npu
    sys.modules["torch_npu.profiler"] = module.profiler
    sys.modules["torch_npu.optim"] = module.optim


def __getattr__(name: str):
    raise AttributeError(f"torch_npu.{name} is not part of the simulated torch_npu; the lab covers torch_npu.npu, "
                         "torch_npu.profiler and torch_npu.optim")
