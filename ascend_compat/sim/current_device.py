"""``device="npu"`` (no index) means the *current* NPU — as torch_npu's C++ device guard makes it.

PyTorch's C++ core asks the device guard for the current device when a device has no index. The
Python device-guard hook always answers device 0, so without help ``torch.npu.set_device(1)``
followed by ``x.to("npu")`` or ``torch.tensor(data, device="npu")`` would land on npu:0. These
wrappers fill in the current index before PyTorch sees the device.
"""

from __future__ import annotations

import functools

import torch

from ascend_compat.sim import dispatch

_BACKEND = "npu"


def _with_index(device):
    if isinstance(device, str) and device == _BACKEND:
        return torch.device(_BACKEND, dispatch.DEVICE_STATE.current)
    if isinstance(device, torch.device) and device.type == _BACKEND and device.index is None:
        return torch.device(_BACKEND, dispatch.DEVICE_STATE.current)
    return device


def _fill_device_index(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "device" in kwargs:
            kwargs["device"] = _with_index(kwargs["device"])
        args = tuple(_with_index(a) if isinstance(a, (str, torch.device)) else a for a in args)
        return fn(*args, **kwargs)

    wrapper.__ascend_sim__ = True
    return wrapper


def install() -> None:
    for owner, name in ((torch.Tensor, "to"), (torch, "tensor"), (torch, "as_tensor")):
        fn = getattr(owner, name)
        if not getattr(fn, "__ascend_sim__", False):
            setattr(owner, name, _fill_device_index(fn))
