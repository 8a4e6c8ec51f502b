"""``torch.load(..., map_location="npu:0")`` of a checkpoint saved on the CPU (or on a real NPU).

``torch.load`` restores every storage at its location, then rebuilds each tensor as
``torch.empty(0, device=storage.device).set_(storage, offset, size, stride)``. The simulated NPU
has no device storages, so the deserializer registered here hands back a storage *labelled*
``npu`` that points at the loaded host memory, and :meth:`NPUTensor.set_` rebuilds the tensor around
the host storage it stands for.
"""

from __future__ import annotations

import weakref

import torch

from ascend_compat.sim import dispatch

_HOST_STORAGES: dict[int, torch.UntypedStorage] = {}


def _tag(obj):
    # Tensors on the simulated NPU pickle themselves (see NPUTensor.__reduce_ex__); nothing to tag.
    return None


def _deserialize(obj, location: str):
    if not location.startswith("npu"):
        return None
    index = dispatch.resolve_index(torch.device(location))
    host = obj.cpu() if obj.device.type != "cpu" else obj
    labelled = torch._C._construct_storage_from_data_pointer(host.data_ptr(), torch.device("npu", index), host.nbytes())
    ptr = host.data_ptr()
    _HOST_STORAGES[ptr] = host
    weakref.finalize(labelled, _HOST_STORAGES.pop, ptr, None)
    return labelled


def rebuild_on_npu(empty, storage, storage_offset, size, stride):
    host = _HOST_STORAGES.get(storage.data_ptr())
    if host is None:
        raise RuntimeError("cannot rebuild an npu tensor from this storage: it was not produced by torch.load")
    cpu = torch.empty(0, dtype=empty.dtype).set_(host, storage_offset, size, stride)
    return dispatch.wrap(cpu, empty.get_device())


def register() -> None:
    # priority 5: before PyTorch's own privateuse1 handler (which expects real device storages)
    torch.serialization.register_package(5, _tag, _deserialize)
