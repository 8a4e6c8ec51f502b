"""Pinned (page-locked) host memory, as ``DataLoader(pin_memory=True)`` and ``tensor.pin_memory()`` use.

A real accelerator backend supplies a page-locked host allocator; a Python backend cannot, so the
simulator gives ``is_pinned``/``_pin_memory`` CPU kernels of its own: pinning makes a copy and
remembers it. What it buys is modelled in the timeline: a host-to-device copy from pinned memory
with ``non_blocking=True`` is asynchronous, one from ordinary (pageable) memory blocks the host.
That follows torch_npu (Ascend/pytorch ``torch_npu/csrc/aten/common/CopyKernel.cpp`` and
``core/npu/CachingHostAllocator.cpp``): a blocking copy synchronises the stream and then copies; a
``non_blocking`` copy from memory the runtime did not pin is followed by a stream synchronisation.

Factories take ``pin_memory=True`` too (``torch.empty(n, pin_memory=True)``, as
``torch.utils.serialization`` and many input pipelines do). PyTorch allocates those with the
accelerator's pinned allocator, which a Python backend cannot provide (its hooks interface has no
``getPinnedMemoryAllocator`` from Python), so the public factories are wrapped: the tensor is made
in ordinary host memory and recorded as pinned. On the NPU itself they fail as torch_npu's do
(Ascend/pytorch ``torch_npu/csrc/aten/common/TensorFactories.cpp``: "Only dense CPU tensors can be pinned").
"""

from __future__ import annotations

import functools
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


def _mark_pinned(out: torch.Tensor) -> torch.Tensor:
    ptr = out.untyped_storage().data_ptr()
    if ptr:  # an empty tensor has no memory to pin
        _PINNED[ptr] = _PINNED.get(ptr, 0) + 1
        weakref.finalize(out, _unpin, ptr)
    return out


def _pin_memory_kernel(self, device=None):
    out = torch.empty_strided(self.size(), self.stride(), dtype=self.dtype)
    out.copy_(self)
    return _mark_pinned(out)


# The dense factories with a ``pin_memory`` argument (their aten schemas say so; a test keeps the
# list complete). Sparse and quantized factories are left alone: only dense tensors can be pinned.
TORCH_FACTORIES = (
    "arange", "bartlett_window", "blackman_window", "empty", "empty_like", "empty_permuted",
    "empty_strided", "eye", "from_file", "full", "full_like", "hamming_window", "hann_window",
    "kaiser_window", "linspace", "logspace", "normal", "ones", "ones_like", "rand", "rand_like",
    "randint", "randint_like", "randn", "randn_like", "randperm", "range", "scalar_tensor",
    "tensor", "tril_indices", "triu_indices", "zeros", "zeros_like",
)
FFT_FACTORIES = ("fftfreq", "rfftfreq")  # aten::fft_fftfreq, aten::fft_rfftfreq: torch.fft.*
TENSOR_FACTORIES = ("new_empty", "new_empty_strided", "new_full", "new_ones", "new_zeros", "new_tensor")


def _pinning(factory):
    """``factory(..., pin_memory=True)`` -> the same tensor, made in host memory and recorded as pinned."""

    @functools.wraps(factory)
    def make(*args, pin_memory=False, **kwargs):
        if not pin_memory:
            return factory(*args, **kwargs)
        out = factory(*args, **kwargs)
        if out.device.type == "cpu":
            return _mark_pinned(out)
        if out.device.type == "npu":
            raise RuntimeError(
                f"Only dense CPU tensors can be pinned: {factory.__name__}(..., pin_memory=True) asked for "
                f"{out.device}. Pinned memory is host memory for fast copies to the NPU: create the tensor on "
                "the CPU (device='cpu') with pin_memory=True, then move it with .to('npu', non_blocking=True)")
        return factory(*args, pin_memory=True, **kwargs)  # other devices: PyTorch decides

    make.__wrapped_for_pinning__ = factory
    return make


def _wrap_factories() -> None:
    import torch.utils._device
    from torch.jit import _builtins

    # `with torch.device(...)` and set_default_device recognise factories by identity, in a set they
    # build once (torch/utils/_device.py): build it from the originals before wrapping them.
    torch.utils._device._device_constructors()
    for owner, names in ((torch, TORCH_FACTORIES), (torch.fft, FFT_FACTORIES), (torch.Tensor, TENSOR_FACTORIES)):
        for name in names:
            factory = getattr(owner, name)
            if hasattr(factory, "__wrapped_for_pinning__"):
                continue
            wrapper = _pinning(factory)
            setattr(owner, name, wrapper)
            builtin = _builtins._find_builtin(factory)
            if builtin is not None:  # TorchScript compiles the wrapper as the operator it stands for
                _builtins._register_builtin(wrapper, builtin)


def register() -> None:
    global _LIBRARY
    if _LIBRARY is None:
        lib = torch.library.Library("aten", "IMPL")
        lib.impl("is_pinned", _is_pinned_kernel, "CPU")
        lib.impl("_pin_memory", _pin_memory_kernel, "CPU")
        _LIBRARY = lib
        _wrap_factories()
