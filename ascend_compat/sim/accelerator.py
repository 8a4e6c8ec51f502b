"""``torch.accelerator.*`` on the simulated NPU.

PyTorch's device-agnostic API answers most questions from C++: the device guard (current device)
and the device's caching allocator (memory statistics). A backend written in C++, like torch_npu,
registers both; a Python backend cannot register an allocator and its device guard reports a
fixed device, so the simulator routes these functions to ``torch.npu`` — the same answers a real
NPU backend gives through its C++ hooks. Availability, device count and the current accelerator
already work through the hooks registered in :mod:`.registration`.
"""

from __future__ import annotations

import contextlib

import torch

_ROUTED = {
    "current_device_index": lambda: torch.npu.current_device(),
    "current_device_idx": lambda: torch.npu.current_device(),
    "set_device_index": lambda device: torch.npu.set_device(device),
    "set_device_idx": lambda device: torch.npu.set_device(device),
    "synchronize": lambda device=None: torch.npu.synchronize(device),
    "memory_allocated": lambda device_index=None: torch.npu.memory_allocated(device_index),
    "max_memory_allocated": lambda device_index=None: torch.npu.max_memory_allocated(device_index),
    "memory_reserved": lambda device_index=None: torch.npu.memory_reserved(device_index),
    "max_memory_reserved": lambda device_index=None: torch.npu.max_memory_reserved(device_index),
    "memory_stats": lambda device_index=None: torch.npu.memory_stats(device_index),
    "reset_peak_memory_stats": lambda device_index=None: torch.npu.reset_peak_memory_stats(device_index),
    "reset_accumulated_memory_stats": lambda device_index=None: torch.npu.reset_accumulated_memory_stats(device_index),
    "empty_cache": lambda: torch.npu.empty_cache(),
    "get_memory_info": lambda device_index=None: torch.npu.mem_get_info(device_index),
}


@contextlib.contextmanager
def device_index(device):
    """``with torch.accelerator.device_index(1):`` — the current NPU inside the block."""
    if device is None:
        yield
        return
    with torch.npu.device(device):
        yield


def install() -> None:
    for name, function in _ROUTED.items():
        if hasattr(torch.accelerator, name):
            function.__name__ = name
            setattr(torch.accelerator, name, function)
    torch.accelerator.device_index = device_index
    # torch.accelerator.memory has its own references to the allocator functions
    memory_module = getattr(torch.accelerator, "memory", None)
    if memory_module is not None:
        for name in ("memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
                     "memory_stats", "reset_peak_memory_stats", "reset_accumulated_memory_stats",
                     "empty_cache", "get_memory_info"):
            if hasattr(memory_module, name):
                setattr(memory_module, name, _ROUTED[name])
