"""``torch.npu`` for the simulated NPU: torch_npu's public API, backed by the simulator.

On a real Ascend machine ``import torch_npu`` installs its own ``torch.npu``; here
:mod:`ascend_compat.sim.registration` installs this module under the same name, so code written
against it runs unchanged on hardware. Names, signatures and return types follow torch_npu
(``Ascend/pytorch``, ``torch_npu/npu/__init__.py`` and friends; the full list with its source commit
is ``ascend_compat/data/torch_npu_api.json``).
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import types
import uuid
from dataclasses import dataclass

import torch

from ascend_compat.sim import dispatch, memory as _memory, random as _random, timeline
from ascend_compat.sim.config import CONFIG
from ascend_compat.sim.streams import Event, Stream, current_stream, default_stream, set_stream, stream

__all__ = []  # filled at the bottom from the names defined here


def _soc():
    from ascend_compat import soc

    return soc.get(CONFIG.soc)


# -- availability and initialisation ----------------------------------------------------------
def is_available() -> bool:
    return True


# torch_npu sets this flag in _lazy_init(); PyTorch reads it (torch.utils.checkpoint only saves and
# restores a device's RNG state when its module says it is initialised). The simulator is ready at import.
_initialized = True


def is_initialized() -> bool:
    return _initialized


def init() -> None:
    """Initialise the NPU runtime (nothing to do on the simulator)."""


def _lazy_init() -> None:
    pass


def _is_in_bad_fork() -> bool:
    return False


def device_count() -> int:
    return CONFIG.device_count


# -- device ids ---------------------------------------------------------------------------------
# A bad device id fails where torch_npu fails, with its exception type (and the lab's one-line fix):
# * torch_npu/npu/utils.py ``_get_device_index``: ValueError for a device that is not an npu (or
#   not a device at all); it passes any int through, and a negative id means "no device" to
#   set_device and the device context;
# * get_device_name/get_device_properties/mem_get_info/utilization/can_device_access_peer
#   (torch_npu/npu/__init__.py) check the id in Python: AssertionError("Invalid device id");
# * everything else hands the id to the C++ runtime (set_device -> aclrtSetDevice, memory stats
#   -> NPUCachingAllocator, tensors on "npu:7"): RuntimeError (dispatch.NPUDeviceError).
class NotAnNPUDeviceError(dispatch.NPUDeviceError, ValueError):
    """A device argument that is not an npu device (torch_npu raises ValueError)."""


class InvalidDeviceIdError(dispatch.NPUDeviceError, AssertionError):
    """An id out of range where torch_npu's Python API checks it (it raises AssertionError)."""


def _device_id(requested) -> int:
    """torch_npu's ``_get_device_index(device, optional=True)``: the id asked for, not yet checked."""
    if isinstance(requested, str):
        requested = torch.device(requested)
    if isinstance(requested, torch.device):
        if requested.type != "npu":
            raise NotAnNPUDeviceError(f"Expected a npu device, but got: {requested}; use 'npu', 'npu:N', "
                                      "torch.device('npu', N) or an int")
        return current_device() if requested.index is None else requested.index
    if requested is None:
        return current_device()
    if isinstance(requested, device):  # a torch.npu.device context
        return requested.idx
    if isinstance(requested, int) and not isinstance(requested, bool):
        return requested
    raise NotAnNPUDeviceError(f"Expected a torch.device with a specified index or an integer, but got: {requested!r}")


def _runtime_index(device) -> int:
    """The id of ``device`` as the C++ runtime checks it (RuntimeError when out of range)."""
    return dispatch.check_index(_device_id(device))


def _queried_index(device) -> int:
    """The id of ``device`` as torch_npu's device queries check it (AssertionError when out of range)."""
    index = _device_id(device)
    try:
        return dispatch.check_index(index)
    except dispatch.NPUDeviceError as exc:
        raise InvalidDeviceIdError(str(exc)) from None


# -- device selection --------------------------------------------------------------------------
def current_device() -> int:
    return dispatch.DEVICE_STATE.current


def set_device(device) -> None:
    """Select the default NPU for this thread: ``torch.npu.set_device(0)`` or ``("npu:1")``."""
    index = _device_id(device)
    if index >= 0:  # torch_npu: a negative id selects nothing
        dispatch.DEVICE_STATE.current = dispatch.check_index(index)


class device:
    """Context manager that changes the current NPU: ``with torch.npu.device(1): ...``."""

    def __init__(self, device):
        self.idx = -1 if device is None else _device_id(device)
        self.prev_idx = -1

    def __enter__(self):
        self.prev_idx = current_device()
        if self.idx >= 0:
            set_device(self.idx)
        return self

    def __exit__(self, *exc):
        set_device(self.prev_idx)
        return False


class device_of(device):
    """Context manager: make the device of ``obj`` (a tensor) current."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if getattr(obj, "is_npu", False) else None)


# -- synchronisation -----------------------------------------------------------------------------
def synchronize(device=None) -> None:
    """Wait until every stream of one NPU (default: the current device) has finished (simulated time).

    As in torch_npu, one device only: after work on ``npu:0`` and ``npu:1``, synchronise each.
    torch_npu synchronises inside ``with torch.npu.device(device)``, which does nothing for a
    negative id, so ``synchronize(-1)`` waits for the current device.
    """
    timeline.synchronize(dispatch.selected_index(_device_id(device)))


# -- device information --------------------------------------------------------------------------
class _UUID:
    """``props.uuid``: 16 bytes (``.bytes``) shown as 8-4-4-4-12 hex digits, like torch_npu's ``_CUuuid``."""

    def __init__(self, raw: bytes):
        self.bytes = list(raw)

    def __str__(self) -> str:
        return str(uuid.UUID(bytes=bytes(self.bytes)))

    __repr__ = __str__


@dataclass(frozen=True)
class _NPUDeviceProperties:
    """``torch.npu.get_device_properties()``: torch_npu's fields (csrc/npu/Module.cpp). The CUDA-style
    fields torch_npu declares but never fills (``major``, ``minor``, ``warp_size``...) are None
    there too; ``multi_processor_count`` is the vector core count, as torch_npu sets it."""

    name: str
    total_memory: int
    cube_core_num: int
    vector_core_num: int
    L2_cache_size: int
    uuid: _UUID
    multi_processor_count: int | None = None
    major: int | None = None
    minor: int | None = None
    is_multi_gpu_board: int | None = None
    is_integrated: int | None = None
    max_threads_per_multi_processor: int | None = None
    warp_size: int | None = None
    regs_per_multiprocessor: int | None = None
    gcnArchName: str | None = None

    def __repr__(self) -> str:
        return (f"_NPUDeviceProperties(name='{self.name}', total_memory={self.total_memory // (1 << 20)}MB, "
                f"cube_core_num={self.cube_core_num}, vector_core_num={self.vector_core_num}, "
                f"uuid={self.uuid}, L2_cache_size={self.L2_cache_size // (1 << 20)}MB)")


def get_device_name(device=None) -> str:
    _queried_index(device)
    return _soc().name


def get_device_properties(device=None) -> _NPUDeviceProperties:
    index = _queried_index(device)
    spec = _soc()
    vector_cores = spec.ai_cores * 2
    return _NPUDeviceProperties(
        name=spec.name,
        total_memory=_memory.capacity_bytes(),
        cube_core_num=spec.ai_cores,
        vector_core_num=vector_cores,
        L2_cache_size=192 << 20,
        uuid=_UUID(uuid.uuid5(uuid.NAMESPACE_OID, f"ascend-migration-lab/simulated-npu/{index}").bytes),
        multi_processor_count=vector_cores,
    )


def get_device_capability(device=None):
    # torch_npu ignores the argument entirely (the id is not even checked)
    return None  # torch_npu returns None: CUDA compute capabilities have no NPU meaning


def is_bf16_supported() -> bool:
    return bool(_soc().bf16)


def get_amp_supported_dtype():
    """Used by ``torch.amp.autocast("npu")`` to validate the requested dtype (torch_npu/npu/autocast_utils.py)."""
    return [torch.float16, torch.bfloat16, torch.float32] if is_bf16_supported() else [torch.float16, torch.float32]


def is_autocast_enabled() -> bool:  # noqa: D401 - torch.amp calls this for custom devices
    return torch.is_autocast_enabled("npu")


def get_autocast_dtype() -> torch.dtype:
    return torch.get_autocast_dtype("npu")


# -- memory ----------------------------------------------------------------------------------------
_index = _runtime_index  # torch_npu/npu/memory.py: _get_device_index, then the allocator's own check


def memory_allocated(device=None) -> int:
    return _memory.device(_index(device)).allocated


def max_memory_allocated(device=None) -> int:
    return _memory.device(_index(device)).peak_allocated


def memory_reserved(device=None) -> int:
    return _memory.device(_index(device)).reserved


def max_memory_reserved(device=None) -> int:
    return _memory.device(_index(device)).peak_reserved


def memory_cached(device=None) -> int:
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    return max_memory_reserved(device)


def memory_stats(device=None) -> dict:
    return _memory.stats(_index(device))


def memory_stats_as_nested_dict(device=None) -> dict:
    return _memory.nested_stats(_index(device))


def memory_summary(device=None, abbreviated: bool = False) -> str:
    return _memory.summary(_index(device), abbreviated)


def memory_snapshot():
    return [{"device": i, "allocated": m.allocated, "reserved": m.reserved} for i, m in _memory._DEVICES.items()]


def reset_peak_memory_stats(device=None) -> None:
    _memory.reset_peak(_index(device))


def reset_max_memory_allocated(device=None) -> None:
    _memory.reset_peak(_index(device))


def reset_max_memory_cached(device=None) -> None:
    _memory.reset_peak(_index(device))


def reset_accumulated_memory_stats(device=None) -> None:
    _memory.reset_accumulated(_index(device))


def empty_cache() -> None:
    """Give cached segments with no live block back (reserved drops; allocated does not change)."""
    _memory.empty_cache()


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) bytes of device memory, like ``aclrtGetMemInfo``."""
    index = _queried_index(device)
    total = _memory.capacity_bytes()
    return total - _memory.device(index).reserved, total


def set_per_process_memory_fraction(fraction: float, device=None) -> None:
    """Cap this process at ``fraction`` of one device's memory (the current device by default).

    Allocations beyond the cap raise the out-of-memory error; ``total_memory`` and ``mem_get_info``
    still describe the whole device, as on real hardware. ``fraction=1.0`` lifts the cap."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    _memory.set_fraction(_index(device), float(fraction))


# -- random numbers --------------------------------------------------------------------------------
manual_seed = _random.manual_seed
manual_seed_all = _random.manual_seed_all
seed = _random.seed
seed_all = _random.seed_all
initial_seed = _random.initial_seed
get_rng_state = _random.get_rng_state
set_rng_state = _random.set_rng_state
get_rng_state_all = _random.get_rng_state_all
set_rng_state_all = _random.set_rng_state_all
default_generators = _random.GENERATORS


# -- compilation mode ------------------------------------------------------------------------------
# None until set_compile_mode() is called: then the SoC's default applies. Atlas training (910A) and
# inference (310P) products default to jit_compile=True (online compilation), Atlas A2/A3 (910B,
# 910_93) to binary kernels (Ascend/op-plugin docs/context/（beta）torch_npu-npu-set_compile_mode.md).
_COMPILE_MODE: dict[str, bool | None] = {"jit_compile": None}
_BINARY_BY_DEFAULT = ("Ascend910B", "Ascend910_93")


def set_compile_mode(jit_compile: bool = False) -> None:
    """torch_npu: choose between online compilation of operators and pre-built binary kernels."""
    _COMPILE_MODE["jit_compile"] = bool(jit_compile)


def is_jit_compile_false() -> bool:
    """True when operators run as pre-built binary kernels (``jit_compile=False``)."""
    chosen = _COMPILE_MODE["jit_compile"]
    if chosen is None:
        return _soc().name.startswith(_BINARY_BY_DEFAULT)
    return not chosen


# -- more of torch_npu's public API -----------------------------------------------------------------
# Names and signatures from Ascend/pytorch torch_npu/npu/__init__.py (and utils.py, npu_config.py,
# memory.py, graphs.py). Functions that tune or debug real hardware have no simulated effect: they
# accept the real arguments, validate what can be validated, and say so in their docstring.
class StreamContext:  # (torch_npu's name for the context manager behind torch.npu.stream)
    """``with torch.npu.StreamContext(s):`` — same as ``torch.npu.stream(s)``."""

    def __init__(self, stream_):
        self.stream = stream_
        self._ctx = None

    def __enter__(self):
        self._ctx = stream(self.stream)
        self._ctx.__enter__()
        return self.stream

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


class SyncLaunchStream(Stream):
    """A stream whose kernels launch synchronously (torch_npu); simulated as an ordinary stream."""


class ExternalEvent(Event):
    """An event shared with other runtimes (torch_npu); simulated as an ordinary event."""


def can_device_access_peer(device_id, peer_device_id) -> bool:
    _queried_index(device_id)
    _queried_index(peer_device_id)
    return True  # NPUs in one server reach each other over HCCS


_SYNC_DEBUG_MODE = {"mode": 0}


def set_sync_debug_mode(debug_mode) -> None:
    """0/"default": silent, 1/"warn", 2/"error" on synchronising operations (recorded, not enforced)."""
    levels = {"default": 0, "warn": 1, "error": 2}
    value = levels.get(debug_mode, debug_mode) if isinstance(debug_mode, str) else debug_mode
    if value not in (0, 1, 2):
        raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, `error`")
    _SYNC_DEBUG_MODE["mode"] = value


def get_sync_debug_mode() -> int:
    return _SYNC_DEBUG_MODE["mode"]


def utilization(device=None) -> int:
    """Percent of time the device was busy; the simulator reports 0 (no background load)."""
    _queried_index(device)
    return 0


def current_blas_handle():
    return 0


_DUMP = {"on": False}


def set_dump(cfg_file: str) -> None:
    """Operator data dump (precision debugging on hardware); accepted, nothing is dumped here."""
    _DUMP["on"] = True


def init_dump() -> None:
    _DUMP["on"] = True


def finalize_dump() -> None:
    _DUMP["on"] = False


_OVERFLOW = {"flag": False}


def get_npu_overflow_flag() -> bool:
    """Whether a float16 overflow happened since the last clear (torch_npu's saturation mode check)."""
    return _OVERFLOW["flag"]


def clear_npu_overflow_flag() -> None:
    _OVERFLOW["flag"] = False


def stress_detect(mode: int = 0) -> int:
    """Hardware self-test; a simulated device always passes (0)."""
    return 0


def check_uce_in_memory(device_id) -> int:
    """Uncorrectable-memory-error check; 0 means none."""
    dispatch.resolve_index(device_id)
    return 0


def stop_device(device) -> int:
    dispatch.resolve_index(device)
    return 0


def restart_device(device, rebuild_all_resources: bool = False) -> None:
    dispatch.resolve_index(device)


def ipc_collect() -> None:
    """Free memory held for other processes (IPC); nothing is shared in the simulator."""


def set_op_timeout_ms(timeout: int) -> None:
    if int(timeout) < 0:
        raise ValueError("timeout must be >= 0")


# memory management extras
def caching_allocator_alloc(size: int, device=None, stream=None):
    """Allocate ``size`` bytes from the caching allocator; returns an opaque handle (an int)."""
    index = dispatch.resolve_index(device)
    block = _memory.allocate(index, int(size))
    handle = next(_HANDLES)
    _RAW_BLOCKS[handle] = block
    return handle


_RAW_BLOCKS: dict = {}
_HANDLES = itertools.count(1)  # never reused, even after a delete


def caching_allocator_delete(mem_ptr) -> None:
    del _RAW_BLOCKS[mem_ptr]  # the last reference to the block: it is given back


def get_per_process_memory_fraction(device=None) -> float:
    return _memory.fraction(_index(device))


def empty_virt_addr_cache() -> None:
    _memory.empty_cache()


def get_allocator_backend() -> str:
    return "native"


def host_memory_stats() -> dict:
    return {}


def host_memory_stats_as_nested_dict() -> dict:
    return {}


def host_empty_cache() -> None:
    pass


def reset_accumulated_host_memory_stats() -> None:
    pass


def reset_peak_host_memory_stats() -> None:
    pass


class MemPool:
    """A private memory pool (torch_npu); the simulator keeps one pool per device, so this is a label."""

    def __init__(self, allocator=None):
        self.allocator = allocator


@contextlib.contextmanager
def use_mem_pool(pool: MemPool, device=None):
    dispatch.resolve_index(device)
    yield


class NPUPluggableAllocator:
    """A custom allocator loaded from a shared library (torch_npu); cannot be loaded in the simulator."""

    def __init__(self, path_to_so_file: str, alloc_fn_name: str, free_fn_name: str):
        raise RuntimeError("NPUPluggableAllocator loads a native allocator library; the simulated NPU has none")


def change_current_allocator(allocator) -> None:
    raise RuntimeError("change_current_allocator needs a native allocator; the simulated NPU has none")


# configuration of kernels: accepted and remembered
_OPTIONS: dict = {}


def set_option(option: dict) -> None:
    """Set NPU runtime options (e.g. {"ACL_OP_COMPILER_CACHE_MODE": "enable"}); remembered, no effect."""
    if not isinstance(option, dict):
        raise TypeError("npu option must be a dict.")
    _OPTIONS.update({str(k): str(v) for k, v in option.items()})


def set_aoe(dump_path: str) -> None:
    """Ascend Optimization Engine tuning dump; accepted, not simulated."""
    _OPTIONS["aoe_dump_path"] = dump_path


_MM_BMM_ND = {"value": True}


def set_mm_bmm_format_nd(is_nd: bool = True) -> None:
    _MM_BMM_ND["value"] = bool(is_nd)


def get_mm_bmm_format_nd() -> bool:
    return _MM_BMM_ND["value"]


class CubeMathType:
    """How the matrix unit (cube) may round float32: torch_npu's enum values."""

    KEEP_DTYPE = 0
    ALLOW_FP32_DOWN_PRECISION = 1
    USE_FP16 = 2
    USE_HF32 = 3


class _AllowHF32:
    """``torch.npu.matmul.allow_hf32`` / ``torch.npu.conv.allow_hf32``: let float32 use HF32 on the cube."""

    def __init__(self, default: bool):
        self.allow_hf32 = default


matmul = _AllowHF32(False)
conv = _AllowHF32(True)


class _Config:
    """``torch.npu.config``: torch_npu's runtime switches, write-only as in torch_npu.

    ``torch.npu.config.allow_internal_format = False`` passes ``ALLOW_INTERNAL_FORMAT`` to the
    runtime (see :func:`set_option`); torch_npu stores nothing, so *reading* the attribute raises
    AttributeError on real hardware, and here too."""

    def __setattr__(self, name: str, value) -> None:
        if name == "allow_internal_format":
            set_option({"ALLOW_INTERNAL_FORMAT": "enable" if value else "disable"})


config = _Config()


def set_autocast_enabled(enabled: bool) -> None:
    torch.set_autocast_enabled("npu", enabled)


def set_autocast_dtype(dtype: torch.dtype) -> None:
    torch.set_autocast_dtype("npu", dtype)


_DETERMINISTIC = {"level": 0, "backward": False}


def enable_deterministic_with_backward(tensor: torch.Tensor) -> torch.Tensor:
    _DETERMINISTIC["backward"] = True
    return tensor


def disable_deterministic_with_backward(tensor: torch.Tensor) -> torch.Tensor:
    _DETERMINISTIC["backward"] = False
    return tensor


def set_deterministic_level(level: int) -> None:
    if level not in (0, 1, 2):
        raise ValueError("deterministic level must be 0, 1 or 2")
    _DETERMINISTIC["level"] = level


_COMPATIBLE = {"on": False}


def use_compatible_impl(enable: bool) -> None:
    _COMPATIBLE["on"] = bool(enable)


def are_compatible_impl_enabled() -> bool:
    return _COMPATIBLE["on"]


# device limits (cube/vector core counts per device and per stream)
_LIMITS: dict = {}


def set_device_limit(device, cube_num: int = -1, vector_num: int = -1) -> None:
    _LIMITS[("device", dispatch.resolve_index(device))] = {"cube_core_num": cube_num, "vector_core_num": vector_num}


def get_device_limit(device) -> dict:
    spec = _soc()
    return _LIMITS.get(("device", dispatch.resolve_index(device)),
                       {"cube_core_num": spec.ai_cores, "vector_core_num": spec.ai_cores * 2})


def set_stream_limit(stream_, cube_num: int = -1, vector_num: int = -1) -> None:
    _LIMITS[("stream", stream_.device_index, stream_.stream_id)] = {"cube_core_num": cube_num, "vector_core_num": vector_num}


def reset_stream_limit(stream_) -> None:
    _LIMITS.pop(("stream", stream_.device_index, stream_.stream_id), None)


def get_stream_limit(stream_) -> dict:
    return _LIMITS.get(("stream", stream_.device_index, stream_.stream_id), get_device_limit(stream_.device_index))


def is_current_stream_capturing() -> bool:
    """Graph capture (NPUGraph) is not simulated, so no stream is ever capturing."""
    return False


class _Mstx:
    """``torch.npu.mstx``: markers and ranges that show up in the profiler's timeline."""

    def __init__(self):
        self._ranges: dict[int, tuple[str, float]] = {}

    def mark(self, message: str = "", stream=None, domain: str = "default") -> None:
        timeline.mark(message, dispatch.resolve_index(None), timeline.HOST.now, timeline.HOST.now)

    def range_start(self, message: str = "", stream=None, domain: str = "default") -> int:
        range_id = len(self._ranges) + 1
        self._ranges[range_id] = (message, timeline.HOST.now)
        return range_id

    def range_end(self, range_id: int, domain: str = "default") -> None:
        message, start = self._ranges.pop(range_id)
        timeline.mark(message, dispatch.resolve_index(None), start, timeline.HOST.now)


mstx = _Mstx()


# legacy typed constructors: torch.npu.FloatTensor(2, 3) -> an uninitialised float32 npu tensor
def _legacy_tensor_type(dtype: torch.dtype, name: str):
    def constructor(*args):
        if len(args) == 1 and not isinstance(args[0], int):
            return torch.tensor(args[0], dtype=dtype, device="npu")
        return torch.empty(*args, dtype=dtype, device="npu")

    constructor.__name__ = name
    constructor.__doc__ = f"torch.npu.{name}(*sizes) or ({name}(data)): a {dtype} tensor on the current NPU (legacy API)."
    return constructor


for _name, _dtype in (("BoolTensor", torch.bool), ("ByteTensor", torch.uint8), ("CharTensor", torch.int8),
                      ("DoubleTensor", torch.float64), ("FloatTensor", torch.float32), ("HalfTensor", torch.float16),
                      ("IntTensor", torch.int32), ("LongTensor", torch.int64), ("ShortTensor", torch.int16),
                      ("BFloat16Tensor", torch.bfloat16)):
    globals()[_name] = _legacy_tensor_type(_dtype, _name)


# -- streams and events are in streams.py; amp in amp.py --------------------------------------------
from ascend_compat.sim import amp  # noqa: E402  (torch.npu.amp)

_NOT_EXPORTED = {"annotations", "contextlib", "dataclass", "torch", "dispatch", "timeline", "CONFIG", "sys", "types", "uuid",
                 "NotAnNPUDeviceError", "InvalidDeviceIdError"}  # the lab's error types, not torch_npu names
__all__ = sorted(
    name for name, value in list(globals().items())
    if not name.startswith("_") and name not in _NOT_EXPORTED and not isinstance(value, type(contextlib))
) + ["amp"]


class NotSimulatedError(NotImplementedError, AttributeError):
    """A real torch_npu API the simulator does not provide (an AttributeError too, so hasattr() is False)."""


# torch_npu defines its functions in submodules and re-exports them from torch.npu; code that says
# torch.npu.memory.memory_stats(...) or `from torch_npu.npu.utils import get_cann_version` must work
# too. Each submodule holds the same functions under its real __all__ (Ascend/pytorch
# torch_npu/npu/{memory,utils,random,streams}.py); the names not simulated raise as torch.npu's do.
_SUBMODULES = {
    "memory": ("caching_allocator_alloc", "caching_allocator_delete", "get_per_process_memory_fraction",
               "set_per_process_memory_fraction", "empty_cache", "empty_virt_addr_cache", "memory_stats",
               "memory_stats_as_nested_dict", "reset_accumulated_memory_stats", "reset_peak_memory_stats",
               "reset_max_memory_allocated", "reset_max_memory_cached", "memory_allocated", "max_memory_allocated",
               "memory_reserved", "max_memory_reserved", "memory_cached", "max_memory_cached", "memory_snapshot",
               "memory_summary", "get_allocator_backend", "NPUPluggableAllocator", "change_current_allocator",
               "MemPool", "use_mem_pool", "host_empty_cache", "host_memory_stats", "host_memory_stats_as_nested_dict",
               "reset_accumulated_host_memory_stats", "reset_peak_host_memory_stats"),
    "utils": ("obfuscation_initialize", "obfuscation_finalize", "obfuscation_calculate", "synchronize", "set_device",
              "current_device", "device", "device_of", "StreamContext", "stream", "set_stream", "current_stream",
              "default_stream", "set_sync_debug_mode", "get_sync_debug_mode", "init_dump", "set_dump", "finalize_dump",
              "is_support_inf_nan", "is_bf16_supported", "get_npu_overflow_flag", "npu_check_overflow",
              "clear_npu_overflow_flag", "current_blas_handle", "check_uce_in_memory", "stress_detect",
              "get_cann_version", "ipc_collect", "set_op_timeout_ms"),
    "random": ("get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all", "manual_seed",
               "manual_seed_all", "seed", "seed_all", "initial_seed"),
    "streams": ("Stream", "Event", "SyncLaunchStream", "ExternalStream", "ExternalEvent"),
}


def _submodule(name: str, names: tuple[str, ...]) -> types.ModuleType:
    module = types.ModuleType(f"torch.npu.{name}", f"torch_npu.npu.{name} on the simulated NPU.")
    module.__all__ = [n for n in names if n in globals()]
    for n in module.__all__:
        setattr(module, n, globals()[n])

    def missing(attr: str):
        if attr in names:
            raise NotSimulatedError(f"torch.npu.{name}.{attr} is part of torch_npu but not simulated by the lab; it "
                                    "works on a real Ascend machine. Lessons and exercises do not need it.")
        raise AttributeError(f"module 'torch.npu.{name}' has no attribute '{attr}'")

    module.__getattr__ = missing
    return module


for _name, _names in _SUBMODULES.items():
    globals()[_name] = _submodule(_name, _names)
    for _prefix in ("torch.npu.", "torch_npu.npu."):
        sys.modules[_prefix + _name] = globals()[_name]


def __getattr__(name: str):
    from ascend_compat import api_reference

    if name in api_reference.torch_npu_names():
        raise NotSimulatedError(
            f"torch.npu.{name} is part of torch_npu but not simulated by the lab; it works on a real Ascend "
            "machine. Lessons and exercises do not need it."
        )
    raise AttributeError(f"module 'torch.npu' has no attribute '{name}'")
