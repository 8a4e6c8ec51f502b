"""Turning PyTorch's spare device slot (PrivateUse1) into a device named ``npu``.

This is the same plumbing a C++ backend such as torch_npu does, through PyTorch's Python hooks
(``torch.utils.backend_registration``):

1. rename ``privateuseone`` to ``npu`` and generate ``Tensor.npu()``, ``Tensor.is_npu``,
   ``Module.npu()`` ...;
2. register the device module as ``torch.npu`` (our :mod:`.npu_module`);
3. register the runtime hooks and device guard PyTorch's C++ core asks for;
4. register a *fallback kernel* for the PrivateUse1 dispatch key: every factory function that
   asks for ``device="npu"`` lands there (operators on existing NPU tensors go through
   ``NPUTensor.__torch_dispatch__`` instead);
5. register the autocast policy, the checkpoint loader, pinned host memory and the ``hccl``
   process-group backend; route ``torch.accelerator``'s allocator/guard questions to ``torch.npu``
   and make an index-less ``npu`` mean the current device (what the C++ guard of a real backend does);
6. run backward passes on the thread that calls ``backward()`` (see :func:`_backward_on_calling_thread`);
7. make ``import torch_npu`` work, so scripts written for hardware run unchanged.
"""

from __future__ import annotations

import functools
import itertools
import sys

import torch
from torch.utils.backend_registration import _setup_privateuseone_for_python_backend

BACKEND = "npu"
_STATE = {"installed": False, "library": None}


class _Hooks(torch._C._acc.PrivateUse1Hooks):
    def is_available(self) -> bool:
        return True

    def has_primary_context(self, dev_id) -> bool:
        return True

    def is_built(self) -> bool:
        return True


_PRIVATEUSE1 = torch._C._autograd.DeviceType.PrivateUse1


class _DeviceGuard(torch._C._acc.DeviceGuard):
    # ``type_()`` is all a Python device guard defines. PyTorch's C++ core asks it dozens of times
    # per training step (every device and stream query of every operator and autograd node); a
    # method written in Python would cost a Python frame each time, a built-in callable that
    # always returns the same object costs none.
    type_ = itertools.repeat(_PRIVATEUSE1).__next__


def _factory_fallback(op, *args, **kwargs):
    from ascend_compat.sim import backward_errors, dispatch

    try:
        return dispatch.run_factory(op, args, kwargs)
    except Exception as exc:  # on PyTorch's backward thread: raised from backward() (backward_errors)
        if not backward_errors.in_backward_pass():
            raise
        backward_errors.defer(exc)
        return dispatch.run_unchecked(op, args, kwargs)


def _backward_on_calling_thread() -> None:
    """Run backward passes on the thread that calls ``backward()``, as for CPU tensors.

    PyTorch gives every non-CPU device an autograd worker thread. For a simulated NPU that thread
    computes on the CPU, so it brings a second OpenMP thread team to a machine whose cores the
    first team already uses; with two teams alive the OpenMP runtime stops spinning between
    parallel regions and every multi-threaded CPU kernel pays a thread wake-up (measured: a 1 MiB
    relu 55 -> 118 us, a 64-channel 3x3 convolution +12%). Results, gradients and simulated
    times are the same either way; only a hook that asks which thread it runs on can tell (on a
    real NPU it is torch_npu's worker). The setting is per thread: the thread that imported the
    lab, which in a notebook is the kernel's.
    """
    torch.autograd.set_multithreading_enabled(False)


def install() -> None:
    """Make ``npu`` a working PyTorch device in this process. Safe to call more than once."""
    if _STATE["installed"]:
        return
    current = torch._C._get_privateuse1_backend_name()
    if current not in ("privateuseone", BACKEND):
        raise RuntimeError(f"another backend ({current!r}) already uses PyTorch's PrivateUse1 slot")

    from ascend_compat.sim import (accelerator, amp, backward_errors, current_device, dispatch, hccl, npu_module,
                                   pinned, random, serialization)

    _setup_privateuseone_for_python_backend(BACKEND, backend_module=npu_module, hook=_Hooks(), device_guard=_DeviceGuard())
    from ascend_compat.sim import tensor  # needs the device name "npu" to exist

    dispatch.NPUTensor = tensor.NPUTensor
    sys.modules["torch.npu.amp"] = amp
    library = torch.library.Library("_", "IMPL")
    library.fallback(_factory_fallback, "PrivateUse1")
    # Host-to-device copies made inside torch.tensor()/as_tensor() do not reach a Python
    # *fallback* (a PyTorch limitation), so the copy operator gets its own PrivateUse1 kernel.
    aten = torch.library.Library("aten", "IMPL")
    aten.impl("_to_copy", functools.partial(_factory_fallback, torch.ops.aten._to_copy.default), "PrivateUse1")
    amp.register_autocast_policy()
    serialization.register()
    pinned.register()
    hccl.register()
    accelerator.install()
    backward_errors.install()
    current_device.install()
    random.install()
    _backward_on_calling_thread()
    _STATE["library"] = (library, aten)
    from ascend_compat.sim import torch_npu_shim

    torch_npu_shim.install()
    _STATE["installed"] = True


def installed() -> bool:
    return _STATE["installed"]
