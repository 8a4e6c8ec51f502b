"""Checkpoints of tensors on the simulated NPU: ``torch.save`` and ``torch.load(..., map_location=...)``.

``torch.save`` writes each tensor as a *storage* (its bytes) plus a location tag, ``"npu:0"`` for
a tensor on the NPU (torch_npu's ``location_tag``, see Ascend/pytorch ``torch_npu/utils/serialization.py``),
and ``torch.load`` restores every storage at its location - or where ``map_location`` says: a
device, a ``{"npu:1": "npu:0"}`` dict, or a callable ``(storage, location) -> storage``
(``lambda storage, loc: storage`` keeps it in host memory, ``lambda storage, loc: storage.npu()``
moves it to the current NPU). Then it rebuilds each tensor as
``torch.empty(0, device=storage.device).set_(storage, offset, size, stride)`` (PyTorch
``torch/_utils.py`` ``_rebuild_tensor_v2``).

The simulated NPU has no device storages: its data lives in host memory. So saving tags the host
storage of an NPU tensor with its device (a file the lab writes is what torch_npu writes, and loads
on a machine with torch_npu, or anywhere with ``map_location="cpu"``), and loading hands back a
storage *labelled* ``npu`` that points at the loaded host memory; :meth:`NPUTensor.set_` rebuilds
the tensor around the host storage it stands for. ``UntypedStorage.npu()`` (what torch_npu gets
from ``torch.utils.generate_methods_for_privateuse1_backend(for_storage=True)``) makes such a label too.
"""

from __future__ import annotations

import weakref

import torch

from ascend_compat.sim import dispatch

_HOST_STORAGES: dict[int, torch.UntypedStorage] = {}
_LOCATION = "_simulated_npu_location"  # set on the host storage of a tensor on the simulated NPU
_LIBRARY = None


def tag_device_storage(storage: torch.UntypedStorage, index: int) -> None:
    """Record that ``storage`` (host memory) holds the data of a tensor on ``npu:index``.
    PyTorch keeps one Python object per storage, so the tag lives exactly as long as the storage."""
    setattr(storage, _LOCATION, f"npu:{index}")


def _tag(storage):
    return getattr(storage, _LOCATION, None)


def labelled_storage(host: torch.UntypedStorage, index: int) -> torch.UntypedStorage:
    """A storage whose device is ``npu:index`` and whose memory is ``host``'s (kept alive with it)."""
    labelled = torch._C._construct_storage_from_data_pointer(host.data_ptr(), torch.device("npu", index), host.nbytes())
    ptr = host.data_ptr()
    _HOST_STORAGES[ptr] = host
    weakref.finalize(labelled, _HOST_STORAGES.pop, ptr, None)
    return labelled


def _host_of(storage: torch.UntypedStorage) -> torch.UntypedStorage:
    host = _HOST_STORAGES.get(storage.data_ptr())
    if host is None:
        raise RuntimeError("this npu storage was not made by the simulator (only torch.load and storage.npu() "
                           "make them); build NPU tensors with .to('npu') or torch.*(..., device='npu') instead")
    return host


def _deserialize(obj, location: str):
    if not location.startswith("npu"):
        return None
    index = dispatch.resolve_index(torch.device(location))
    if obj.device.type == "npu":
        return obj if obj.device.index == index else labelled_storage(_host_of(obj).clone(), index)
    return labelled_storage(obj.cpu() if obj.device.type != "cpu" else obj, index)


def _storage_npu(self, device=None, non_blocking: bool = False):
    """``storage.npu(device=None, non_blocking=False)``: a copy of this storage on the NPU (itself if
    it already is on that NPU), as the method PyTorch generates for a PrivateUse1 backend."""
    index = dispatch.resolve_index(device)
    if self.device.type == "npu":
        if self.device.index == index:
            return self
        return labelled_storage(_host_of(self).clone(), index)
    return labelled_storage(self.cpu().clone(), index)


def _typed_storage_npu(self, device=None, non_blocking: bool = False, **kwargs):
    return torch.storage.TypedStorage(wrap_storage=_storage_npu(self._untyped_storage, device, non_blocking),
                                      dtype=self.dtype, _internal=True)


def _host_view(tensor: torch.Tensor) -> torch.Tensor:
    """The host memory a plain ``npu`` tensor over a labelled storage stands for, as a CPU tensor."""
    host = _host_of(tensor.untyped_storage())
    return torch.empty(0, dtype=tensor.dtype).set_(host, tensor.storage_offset(), tensor.size(), tensor.stride())


def _copy_from_kernel(src, dst, non_blocking=False):
    """Copies into or out of a labelled storage. The legacy format (``torch.save(...,
    _use_new_zipfile_serialization=False)``, and so plain ``pickle`` of a tensor) restores a storage
    first and reads its bytes into it afterwards, through such a copy (PyTorch ``torch/csrc/serialization.cpp``).
    NPU tensors never get here: their operators go through ``NPUTensor.__torch_dispatch__``."""
    source = _host_view(src) if src.device.type == "npu" else src
    target = _host_view(dst) if dst.device.type == "npu" else dst
    target.copy_(source)
    return dst


def rebuild_on_npu(empty, storage, storage_offset, size, stride):
    cpu = torch.empty(0, dtype=empty.dtype).set_(_host_of(storage), storage_offset, size, stride)
    return dispatch.wrap(cpu, storage.device.index)


def register() -> None:
    global _LIBRARY
    # priority 5: before PyTorch's own privateuse1 handler (which expects real device storages)
    torch.serialization.register_package(5, _tag, _deserialize)
    if _LIBRARY is None:
        _LIBRARY = torch.library.Library("aten", "IMPL")
        _LIBRARY.impl("_copy_from", _copy_from_kernel, "PrivateUse1")
    if not hasattr(torch.storage._StorageBase, "npu"):
        torch.storage._StorageBase.npu = _storage_npu
        torch.storage._StorageBase.is_npu = property(lambda self: self.device.type == "npu")
        torch.storage.TypedStorage.npu = _typed_storage_npu
        torch.storage.TypedStorage.is_npu = property(lambda self: self._untyped_storage.device.type == "npu")
