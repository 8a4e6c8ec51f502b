"""Which device backend the lab runs on, and why.

Four backends, chosen once per process:

``npu``  the real thing: ``torch_npu`` imports and reports at least one device (CANN installed).
``sim``  the simulated NPU in :mod:`ascend_compat.sim`: a real PyTorch device named ``npu``
         that computes on the CPU. The default everywhere without Ascend hardware.
``cuda`` an NVIDIA GPU; ``torch.npu`` is mapped onto ``torch.cuda`` so NPU code can be compared.
``cpu``  no accelerator at all; ``torch.npu`` does not exist (use it to see what a CPU-only
         user meets).

``ASCEND_COMPAT_BACKEND=npu|sim|cuda|cpu`` overrides the automatic choice. The detection never
imports the simulator on a machine where the real NPU is chosen.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass

from ascend_compat.errors import UserError

ENV_VAR = "ASCEND_COMPAT_BACKEND"
BACKENDS = ("npu", "sim", "cuda", "cpu")


@dataclass(frozen=True)
class BackendInfo:
    """What :func:`ascend_compat.backend` returns: the backend's name and a sentence saying why."""

    name: str
    reason: str

    @property
    def device_type(self) -> str:
        """The ``torch.device`` type a lesson should use: ``npu`` for real and simulated NPUs."""
        return {"npu": "npu", "sim": "npu", "cuda": "cuda", "cpu": "cpu"}[self.name]

    @property
    def description(self) -> str:
        return {
            "npu": "real Ascend NPU (torch_npu)",
            "sim": "simulated Ascend NPU (ascend_compat.sim)",
            "cuda": "NVIDIA CUDA GPU (torch.npu mapped onto torch.cuda)",
            "cpu": "CPU only (no torch.npu)",
        }[self.name]

    def __str__(self) -> str:
        return f"{self.description}: {self.reason}"


def requested_backend() -> str | None:
    """The backend named by ``ASCEND_COMPAT_BACKEND``, or ``None`` when unset."""
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if not value or value == "auto":
        return None
    if value not in BACKENDS:
        raise UserError(
            f"{ENV_VAR}={value!r} is not a backend; use one of {', '.join(BACKENDS)} (or unset it for automatic choice)"
        )
    return value


def torch_npu_installed() -> bool:
    loaded = sys.modules.get("torch_npu")
    if loaded is not None:  # the simulator's stand-in (ascend_compat.sim.torch_npu_shim) is not torch_npu
        return getattr(loaded, "__version__", "") != "simulated"
    return importlib.util.find_spec("torch_npu") is not None


def probe_real_npu() -> tuple[bool, str]:
    """Try the real stack: ``import torch_npu`` and count devices. Returns (usable, why)."""
    if not torch_npu_installed():
        return False, "torch_npu is not installed"
    try:
        import torch
        import torch_npu  # noqa: F401  (registers the npu device and torch.npu)
    except Exception as exc:  # torch_npu without CANN fails at import time
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return False, f"torch_npu is installed but does not import ({first_line}); is CANN installed and set_env.sh sourced?"
    try:
        count = torch.npu.device_count()
    except Exception as exc:
        return False, f"torch_npu imports but cannot count devices ({exc})"
    if count < 1:
        return False, "torch_npu imports but sees no NPU device"
    return True, f"torch_npu {getattr(torch_npu, '__version__', '?')} sees {count} NPU device(s)"


def cuda_usable() -> bool:
    import torch

    return torch.cuda.is_available()


def select_backend() -> BackendInfo:
    """Decide the backend without side effects beyond importing torch (and torch_npu if present)."""
    wanted = requested_backend()
    if wanted == "sim":
        return BackendInfo("sim", f"requested by {ENV_VAR}=sim")
    if wanted == "cpu":
        return BackendInfo("cpu", f"requested by {ENV_VAR}=cpu")
    if wanted == "cuda":
        if not cuda_usable():
            raise UserError(
                f"{ENV_VAR}=cuda but torch sees no CUDA GPU; unset {ENV_VAR} to use the simulated NPU"
            )
        return BackendInfo("cuda", f"requested by {ENV_VAR}=cuda")
    if wanted == "npu":
        ok, why = probe_real_npu()
        if not ok:
            raise UserError(f"{ENV_VAR}=npu but the real NPU is not usable: {why}; unset {ENV_VAR} to use the simulated NPU")
        return BackendInfo("npu", f"requested by {ENV_VAR}=npu; {why}")
    ok, why = probe_real_npu()
    if ok:
        return BackendInfo("npu", why)
    return BackendInfo("sim", f"no real NPU ({why}); simulating one on the CPU")
