"""Pinned (page-locked) host memory, as ``DataLoader(pin_memory=True)`` and ``tensor.pin_memory()`` use.

A real accelerator backend supplies a page-locked host allocator; a Python backend cannot, so the
simulator gives ``is_pinned``/``_pin_memory`` CPU kernels of its own: pinning makes a copy and
remembers it. What it buys is modelled in the timeline: a host-to-device copy from pinned memory
with ``non_blocking=True`` is asynchronous, one from ordinary (pageable) memory blocks the host.
That follows torch_npu (Ascend/pytorch ``torch_npu/csrc/aten/common/CopyKernel.cpp`` and
``core/npu/CachingHostAllocator.cpp``): a blocking copy synchronises the stream and then copies; a
``non_blocking`` copy from memory the runtime did not pin is followed by a stream synchronisation.
"""

from __future__ import annotations

import weakref

import torch

_PINNED: dict[int, int] = {}  # storage data_ptr -> live tensors using it
_LIBRARY = None


def is_pinned(tensor: torch.Tensor) -> bool:
    return tensor.device.type == "cpu" and tensor.untyped_storage().data_ptr() in _PINNED


def _unpin(ptr: int) -> None:
    if _PINNED.get(ptr, 0) <= 1:
        _PINNED.pop(ptr, None)
    else:
        _PINNED[ptr] -= 1


def _is_pinned_kernel(self, device=None):
    return is_pinned(self)


def _pin_memory_kernel(self, device=None):
    out = torch.empty_strided(self.size(), self.stride(), dtype=self.dtype)
    out.copy_(self)
    ptr = out.untyped_storage().data_ptr()
    _PINNED[ptr] = _PINNED.get(ptr, 0) + 1
    weakref.finalize(out, _unpin, ptr)
    return out


def register() -> None:
    global _LIBRARY
    if _LIBRARY is None:
        lib = torch.library.Library("aten", "IMPL")
        lib.impl("is_pinned", _is_pinned_kernel, "CPU")
        lib.impl("_pin_memory", _pin_memory_kernel, "CPU")
        _LIBRARY = lib
