"""``NPUTensor``: what a tensor on the simulated NPU is.

PyTorch lets a Python class stand in for a device ("wrapper subclass"): the outer tensor carries
the metadata PyTorch's C++ core needs (shape, strides, dtype, device ``npu``) but no data; the data
lives in an ordinary CPU tensor held in ``_cpu``. Every operator call on an ``NPUTensor`` goes
through :meth:`NPUTensor.__torch_dispatch__`, which is :func:`ascend_compat.sim.dispatch.torch_dispatch`
— the simulator's "kernel launcher".

Why the device index lives in Python: PyTorch's Python device-guard hook reports exactly one device
to the C++ core (the autograd engine keeps one queue per device), so every ``NPUTensor`` is
``npu:0`` to C++ while ``.device`` — what your code sees — reports the simulated device it is on.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import torch

from ascend_compat.sim import backward_errors, dispatch, memory

BACKEND = "npu"
_CXX_DEVICE = torch.device(BACKEND, 0)
_make_wrapper_subclass = torch.Tensor._make_wrapper_subclass
_STRIDED = torch.strided


class NPUTensor(torch.Tensor):
    """A tensor that lives on a simulated Ascend NPU (device type ``npu``)."""

    _cpu: torch.Tensor
    _index: int

    @staticmethod
    def __new__(cls, cpu: torch.Tensor, index: int):
        return cls._make(cpu, index)

    def __init__(self, cpu: torch.Tensor, index: int):
        pass

    @classmethod
    def _make(cls, cpu: torch.Tensor, index: int) -> "NPUTensor":
        """The outer tensor around a new result ``cpu`` (what ``NPUTensor(cpu, index)`` does,
        without the __new__/__init__ calls: the simulator makes one per operator result)."""
        # PyTorch parses every argument, per result, and strides are a third of the wrapper's cost:
        # a contiguous result gets PyTorch's own strides for its shape (they can differ from the
        # CPU tensor's only in dimensions of size 1, where a stride addresses nothing).
        if cpu.layout is _STRIDED and not cpu.storage_offset() and cpu.is_contiguous():
            self = _make_wrapper_subclass(cls, cpu.size(), dtype=cpu.dtype, device=_CXX_DEVICE)
            self._cpu = cpu
            self._index = index
            return self
        return cls._make_exact(cpu, index)

    @classmethod
    def _make_exact(cls, cpu: torch.Tensor, index: int) -> "NPUTensor":
        """:meth:`_make` with the CPU tensor's strides exactly: for views (``x.t().stride()`` is
        what the CPU says) and whatever is not contiguous."""
        offset = cpu.storage_offset()
        # only the arguments that differ from the defaults
        if offset or cpu.layout is not _STRIDED:
            self = _make_wrapper_subclass(cls, cpu.size(), strides=cpu.stride(), storage_offset=offset,
                                          dtype=cpu.dtype, layout=cpu.layout, device=_CXX_DEVICE)
        else:
            self = _make_wrapper_subclass(cls, cpu.size(), strides=cpu.stride(), dtype=cpu.dtype, device=_CXX_DEVICE)
        self._cpu = cpu
        self._index = index
        return self

    # ``param.data`` / ``param.data = new`` (Module.half(), .to(dtype), optimizers' in-place tricks):
    # keep the Python-side data in step with the C++ metadata PyTorch swaps underneath.
    @property
    def data(self):  # type: ignore[override]
        return dispatch.wrap(self._cpu.detach(), self._index)

    @data.setter
    def data(self, value):
        if not isinstance(value, NPUTensor):
            raise RuntimeError(f"data set to a tensor on {value.device} that is not on {self.device}; "
                               "move it first with .to(device)")
        torch._C.TensorBase.data.__set__(self, value)
        # the device memory goes with the storage: the old one is freed if nothing else holds it
        self.__dict__.pop("_npu_block", None)
        self._cpu, self._index = value._cpu, value._index
        memory.track(self, value._cpu, value._index)

    # -- every operator goes through the simulator ------------------------------------------
    # dispatch.torch_dispatch is this method itself: it runs the operator the NPU way and, on
    # PyTorch's backward thread, turns an error into one raised from backward() (backward_errors).
    __torch_dispatch__ = classmethod(dispatch.torch_dispatch)

    def register_hook(self, hook):  # type: ignore[override]
        return super().register_hook(backward_errors.guard_hook(hook))

    # -- what Python code sees -----------------------------------------------------------------
    @property
    def device(self) -> torch.device:  # type: ignore[override]
        return torch.device(BACKEND, self._index)

    def get_device(self) -> int:  # type: ignore[override]
        return self._index

    def __repr__(self, *, tensor_contents=None) -> str:
        with torch._C.DisableTorchFunctionSubclass():
            body = torch._tensor_str._str(self._cpu.detach(), tensor_contents=tensor_contents)
        suffix = f"device='{self.device}'"
        if self.requires_grad:
            suffix += ", requires_grad=True"
        if self.grad_fn is not None:
            suffix += f", grad_fn=<{type(self.grad_fn).__name__}>"
        if body.endswith(")"):
            return body[:-1] + ", " + suffix + ")"
        return body

    def __format__(self, format_spec):
        if self.dim() == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

    def numpy(self, *, force: bool = False):  # type: ignore[override]
        if force:
            return self.detach().cpu().numpy()
        # The same TypeError a CUDA tensor raises: device memory is not host memory.
        raise TypeError(
            f"can't convert {self.device} device type tensor to numpy. "
            "Use Tensor.cpu() to copy the tensor to host memory first."
        )

    def tolist(self):  # type: ignore[override]
        return self.cpu().tolist()

    def record_stream(self, stream) -> None:  # type: ignore[override]
        """Keep the memory from reuse until ``stream``'s queued work is done. ``torch.npu.Stream`` is a
        Python object here, which PyTorch's C++ binding would reject; the simulated allocator never
        hands memory to another tensor early, so there is nothing to do."""
        if not hasattr(stream, "stream_id") and not isinstance(stream, torch.Stream):
            raise TypeError(f"record_stream() expects a torch.npu.Stream, got {type(stream).__name__}")

    def __array__(self, dtype=None, copy=None):
        return self.numpy()

    # -- device moves: the C++ core cannot see our device index, so decide here ----------------
    def to(self, *args, **kwargs):  # type: ignore[override]
        copy = kwargs.pop("copy", False)
        device, dtype, non_blocking, memory_format = torch._C._nn._parse_to(*args, **kwargs)
        options = {"non_blocking": non_blocking, "copy": copy}
        if dtype is not None:
            options["dtype"] = dtype
        if memory_format is not None:
            options["memory_format"] = memory_format
        if device is not None and device.type == BACKEND:
            target = dispatch.resolve_index(device)
            if target != self._index:
                options["copy"] = False  # the move already copies
                return dispatch.copy_between_npus(self, target).to(**options)
            device = None
        if device is not None:
            options["device"] = device
        return super().to(**options)

    def npu(self, device=None, non_blocking: bool = False, memory_format=torch.preserve_format):  # type: ignore[override]
        target = torch.device(BACKEND, dispatch.resolve_index(device))
        return self.to(target, non_blocking=non_blocking, memory_format=memory_format)

    # torch.load rebuilds a saved tensor as ``empty(0, device=...).set_(storage, ...)``; the
    # simulator hands it a CPU storage, so rebuild the tensor around that storage here.
    def set_(self, source=None, storage_offset=0, size=None, stride=None):  # type: ignore[override]
        if isinstance(source, torch.UntypedStorage) and source.device.type == BACKEND:
            from ascend_compat.sim import serialization

            return serialization.rebuild_on_npu(self, source, storage_offset, size, stride)
        if source is None:
            return super().set_()
        if size is None:
            return super().set_(source)
        return super().set_(source, storage_offset, size, stride)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        with torch.no_grad():
            new = self.clone()
        if getattr(self, "_is_param", False):
            new = torch.nn.Parameter(new, requires_grad=self.requires_grad)
        else:
            new.requires_grad_(self.requires_grad)
        if self.grad is not None:
            new.grad = copy.deepcopy(self.grad, memo)
        memo[id(self)] = new
        return new

    # Pickling (torch.save, multiprocessing): as PyTorch pickles any tensor with storage
    # (torch/_tensor.py ``_reduce_ex_internal``): its storage, tagged with this device (see
    # serialization), and the view on it, rebuilt by ``_rebuild_tensor_v2``. So a checkpoint is
    # what torch_npu writes: map_location works in every form and the file loads on real NPUs.
    def __reduce_ex__(self, proto):
        if getattr(self, "_is_param", False):  # keep nn.Parameter-ness through pickling
            return (torch._utils._rebuild_parameter, (self.detach(), self.requires_grad, OrderedDict()))
        from ascend_compat.sim import serialization

        cpu = self._cpu
        untyped = cpu.untyped_storage()
        serialization.tag_device_storage(untyped, self._index)
        storage = torch.storage.TypedStorage(wrap_storage=untyped, dtype=self.dtype, _internal=True)
        return (
            torch._utils._rebuild_tensor_v2,
            (storage, cpu.storage_offset(), tuple(cpu.size()), cpu.stride(), self.requires_grad, OrderedDict()),
        )
