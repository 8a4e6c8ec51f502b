"""``import ascend_compat.transfer_to_npu``: run unmodified CUDA code on the NPU.

torch_npu ships ``torch_npu.contrib.transfer_to_npu``, which patches PyTorch at import time so that a
script written for CUDA runs on the NPU. This module does the same on the lab's backends:

* on a real NPU it simply imports torch_npu's own module;
* on the simulated NPU it applies the same patches itself (the lists below are torch_npu's, from
  ``Ascend/pytorch`` ``torch_npu/contrib/transfer_to_npu.py``).

What it patches — and therefore what it cannot catch — is the lesson: device *arguments* of a
white-list of functions, classes and methods (``"cuda"``/``"cuda:0"``/``torch.device("cuda")``, ints for
``.to``), ``torch.cuda.*`` (incl. amp) → ``torch.npu.*``, ``Tensor.cuda``/``Module.cuda``/
``is_cuda``, ``nccl`` → ``hccl`` in ``init_process_group``, the profiler, and ``torch.jit.script``
(made a no-op). A ``"cuda"`` string built at run time and passed anywhere else, CUDA-only libraries,
custom CUDA kernels or ``CUDA_VISIBLE_DEVICES`` are not touched. ``report()`` lists what was patched.
"""

from __future__ import annotations

import functools
import types
import warnings

import torch
import torch.utils._device

import ascend_compat
from ascend_compat.errors import UserError

# torch_npu's white-lists (names only), Ascend/pytorch torch_npu/contrib/transfer_to_npu.py (master,
# 9e73e708). torch_npu patches torch.Generator, torch.Event and torch.autocast through classes of
# their own rather than these lists; here "Generator" and "Event" are in the list and _apply wraps
# autocast's constructor.
TORCH_FUNCTIONS = (
    "logspace", "randint", "hann_window", "rand", "full_like", "ones_like", "rand_like", "randperm", "arange",
    "frombuffer", "normal", "_empty_per_channel_affine_quantized", "empty_strided", "empty_like", "scalar_tensor",
    "tril_indices", "bartlett_window", "ones", "sparse_coo_tensor", "randn", "kaiser_window", "tensor",
    "triu_indices", "as_tensor", "zeros", "randint_like", "full", "eye", "_sparse_csr_tensor_unsafe", "empty",
    "_sparse_coo_tensor_unsafe", "blackman_window", "zeros_like", "range", "sparse_csr_tensor", "randn_like",
    "from_file", "_cudnn_init_dropout_state", "_empty_affine_quantized", "linspace", "hamming_window",
    "empty_quantized", "_pin_memory", "load", "set_default_device", "get_device_module", "sparse_compressed_tensor",
    "Generator", "Event",
)
TENSOR_METHODS = ("new_empty", "new_empty_strided", "new_full", "new_ones", "new_tensor", "new_zeros", "to", "pin_memory")
MODULE_METHODS = ("to", "to_empty")
CUDA_FUNCTIONS = (
    "get_device_properties", "get_device_name", "get_device_capability", "list_gpu_processes", "set_device",
    "synchronize", "mem_get_info", "memory_stats", "memory_summary", "memory_allocated", "max_memory_allocated",
    "reset_max_memory_allocated", "memory_reserved", "max_memory_reserved", "reset_max_memory_cached",
    "reset_peak_memory_stats", "default_stream", "can_device_access_peer", "current_stream", "utilization",
    "set_per_process_memory_fraction", "caching_allocator_alloc",
)
FFT_FUNCTIONS = ("fftfreq", "rfftfreq")
DEVICE_KEYWORDS = ("device", "device_type", "map_location", "device_id")

_PATCHED: list[str] = []


def report() -> list[str]:
    """What this import patched, one line per patch (empty before the import has run)."""
    return list(_PATCHED)


# -- rewriting device arguments -----------------------------------------------------------------
def _to_npu(value, ints: bool = False):
    if isinstance(value, str) and "cuda" in value:
        return value.replace("cuda", "npu")
    if isinstance(value, torch.device) and value.type == "cuda":
        return torch.device("npu", value.index) if value.index is not None else torch.device("npu")
    if ints and isinstance(value, int) and not isinstance(value, bool):
        return f"npu:{value}"
    if isinstance(value, dict):  # map_location={"cuda:0": "cuda:1"}
        return {_to_npu(k): _to_npu(v) for k, v in value.items()}
    return value


def _device_args_to_npu(fn, ints: bool = False):
    @functools.wraps(fn)
    def patched(*args, **kwargs):
        args = tuple(_to_npu(a, ints) for a in args)
        for key in DEVICE_KEYWORDS:
            if kwargs.get(key) is not None:
                kwargs[key] = _to_npu(kwargs[key], ints=isinstance(kwargs[key], int))
        if isinstance(kwargs.get("device_ids"), list):
            kwargs["device_ids"] = [_to_npu(d, ints) for d in kwargs["device_ids"]]
        return fn(*args, **kwargs)

    patched.__transfer_to_npu__ = True
    return patched


def _wrap_all(owner, names, label: str, ints_for=("to", "to_empty")) -> None:
    for name in names:
        fn = getattr(owner, name, None)
        if fn is None or getattr(fn, "__transfer_to_npu__", False):
            continue
        if isinstance(fn, type):
            # torch_npu swaps a class (torch.autocast) for a function; a subclass does the same
            # rewriting and keeps `isinstance` and `torch.Generator | None` annotations working.
            setattr(owner, name, _subclass_with_npu_devices(fn))
        else:
            setattr(owner, name, _device_args_to_npu(fn, ints=name in ints_for))
        _PATCHED.append(f"{label}.{name}: device arguments cuda -> npu")


def _subclass_with_npu_devices(cls: type) -> type:
    """``cls`` whose constructor arguments are rewritten like a white-listed function's."""
    if cls.__init__ is object.__init__:  # a C type (torch.Generator) takes its arguments in __new__
        new = cls.__new__

        def __new__(subclass, *args, **kwargs):
            return new(subclass, *args, **kwargs)

        body = {"__new__": _device_args_to_npu(__new__)}
    else:
        body = {"__init__": _device_args_to_npu(cls.__init__)}
    body.update(__module__=cls.__module__, __doc__=cls.__doc__, __qualname__=cls.__qualname__,
                __transfer_to_npu__=True)
    return type(cls.__name__, (cls,), body)


def _wrap_init(cls: type, label: str) -> None:
    """Rewrite the device arguments of ``cls``'s constructor in place (the class itself stays, so
    ``isinstance`` and every alias of it keep working)."""
    cls.__init__ = _device_args_to_npu(cls.__init__)
    _PATCHED.append(label)


def _nccl_to_hccl(fn):
    @functools.wraps(fn)
    def patched(*args, **kwargs):
        args = tuple(a.replace("nccl", "hccl") if isinstance(a, str) else a for a in args)
        if isinstance(kwargs.get("backend"), str):
            kwargs["backend"] = kwargs["backend"].replace("nccl", "hccl")
        return fn(*args, **kwargs)

    return patched


def _jit_script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def _apply() -> None:
    # `with torch.device(...)` and set_default_device recognise factory functions by identity, from
    # a list they build once: build it from the originals before wrapping them (as torch_npu does).
    torch.utils._device._device_constructors()
    npu = torch.npu
    # torch.cuda.* -> torch.npu.*, in place, so aliases such as `from torch import cuda` see it too
    for name in npu.__all__:
        value = getattr(npu, name)
        if not isinstance(value, types.ModuleType):  # keep torch.cuda's submodules: torch imports them later
            setattr(torch.cuda, name, value)
    for name in ("autocast", "GradScaler", "custom_fwd", "custom_bwd"):
        setattr(torch.cuda.amp, name, getattr(npu.amp, name))
    _PATCHED.append("torch.cuda.*: replaced by torch.npu.* (" + ", ".join(sorted(npu.__all__)[:6]) + ", ...)")
    _PATCHED.append("torch.cuda.amp.autocast / GradScaler: replaced by torch.npu.amp's")
    _wrap_all(torch.cuda, CUDA_FUNCTIONS, "torch.cuda", ints_for=())
    _wrap_init(torch.cuda.device, "torch.cuda.device: device arguments cuda -> npu")

    _wrap_all(torch, TORCH_FUNCTIONS, "torch", ints_for=())
    _wrap_all(torch.fft, FFT_FUNCTIONS, "torch.fft", ints_for=())
    # torch.autocast and torch.amp.autocast are one class
    _wrap_init(torch.amp.autocast_mode.autocast, "torch.autocast / torch.amp.autocast: device_type cuda -> npu")
    _wrap_init(torch.utils._device.DeviceContext, "with torch.device('cuda'): the npu device")
    _wrap_all(torch.Tensor, TENSOR_METHODS, "torch.Tensor")
    _wrap_all(torch.nn.Module, MODULE_METHODS, "torch.nn.Module")
    torch.Tensor.cuda = torch.Tensor.npu
    torch.Tensor.is_cuda = torch.Tensor.is_npu
    torch.nn.Module.cuda = torch.nn.Module.npu
    _PATCHED.append("torch.Tensor.cuda / torch.nn.Module.cuda / Tensor.is_cuda: the npu ones")
    torch.cuda.DoubleTensor = torch.npu.FloatTensor  # as torch_npu does: the NPU computes no float64
    _PATCHED.append("torch.cuda.DoubleTensor: torch.npu.FloatTensor (float32)")

    import torch.distributed as dist

    if dist.is_available():
        dist.init_process_group = _nccl_to_hccl(dist.init_process_group)
        dist.is_nccl_available = getattr(dist, "is_hccl_available", dist.is_nccl_available)
        _PATCHED.append("torch.distributed.init_process_group: backend nccl -> hccl; is_nccl_available: is_hccl_available")
        _wrap_all(torch.nn.parallel.DistributedDataParallel, ("__init__",), "DistributedDataParallel", ints_for=())

    import torch_npu  # the real one, or the simulator's stand-in

    torch.profiler.profile = torch_npu.profiler.profile
    torch.profiler.tensorboard_trace_handler = torch_npu.profiler.tensorboard_trace_handler
    _PATCHED.append("torch.profiler.profile: the NPU profiler")

    warnings.warn("torch.jit.script and torch.jit.script_method are disabled by transfer_to_npu", RuntimeWarning,
                  stacklevel=3)
    torch.jit.script = _jit_script
    torch.jit.script_method = lambda fn: fn
    _PATCHED.append("torch.jit.script / script_method: no-ops")


def _install() -> None:
    info = ascend_compat.backend()
    if info.name == "npu":
        import torch_npu.contrib.transfer_to_npu  # noqa: F401  (the real patches)

        _PATCHED.append("real NPU: torch_npu.contrib.transfer_to_npu applied its own patches")
    elif info.name == "sim":
        if not _PATCHED:
            _apply()
    else:
        raise UserError(f"transfer_to_npu needs an NPU, real or simulated; the backend is {info.name!r} "
                        "(unset ASCEND_COMPAT_BACKEND to use the simulated NPU)")


_install()
