"""``ASCEND_COMPAT_BACKEND=cuda``: run NPU lessons on an NVIDIA GPU, to compare the two.

PyTorch cannot give one device two names, so ``device="npu"`` strings stay CUDA-only code's
business; what this maps is the *API*: ``torch.npu`` becomes a view of ``torch.cuda`` (every
``torch.npu.X`` is ``torch.cuda.X``), and ``Tensor.npu()``/``Module.npu()``/``Tensor.is_npu``
behave like their CUDA twins. Lessons written with ``ascend_compat.device()`` run unchanged.
"""

from __future__ import annotations

import sys
import types

import torch


class _NPUOnCUDA(types.ModuleType):
    """``torch.npu`` whose every attribute is the ``torch.cuda`` one of the same name."""

    def __getattr__(self, name: str):
        try:
            return getattr(torch.cuda, name)
        except AttributeError:
            raise AttributeError(f"torch.npu.{name} has no torch.cuda counterpart (CUDA passthrough)") from None


def install() -> None:
    if isinstance(getattr(torch, "npu", None), _NPUOnCUDA):
        return
    module = _NPUOnCUDA("torch.npu", __doc__)
    torch.npu = module
    sys.modules["torch.npu"] = module
    sys.modules["torch.npu.amp"] = torch.cuda.amp
    torch.Tensor.npu = lambda self, device=None, non_blocking=False, **kw: self.cuda(device, non_blocking, **kw)
    torch.Tensor.is_npu = property(lambda self: self.is_cuda)
    torch.nn.Module.npu = lambda self, device=None: self.cuda(device)
