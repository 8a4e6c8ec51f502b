"""``torch.npu`` for the simulated NPU: torch_npu's public API, backed by the simulator.

On a real Ascend machine ``import torch_npu`` installs its own ``torch.npu``; here
:mod:`ascend_compat.sim.registration` installs this module under the same name, so code written
against it runs unchanged on hardware. Names, signatures and return types follow torch_npu
(``Ascend/pytorch``, ``torch_npu/npu/__init__.py`` and friends; the full list with its source commit
is ``ascend_compat/data/torch_npu_api.json``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from ascend_compat.sim import dispatch, memory, random as _random, timeline
from ascend_compat.sim.config import CONFIG
from ascend_compat.sim.streams import Event, Stream, current_stream, default_stream, set_stream, stream

__all__ = []  # filled at the bottom from the names defined here


def _soc():
    from ascend_compat import soc

    return soc.get(CONFIG.soc)


# -- availability and initialisation ----------------------------------------------------------
def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def init() -> None:
    """Initialise the NPU runtime (nothing to do on the simulator)."""


def _lazy_init() -> None:
    pass


def _is_in_bad_fork() -> bool:
    return False


def device_count() -> int:
    return CONFIG.device_count


# -- device selection --------------------------------------------------------------------------
def current_device() -> int:
    return dispatch.DEVICE_STATE.current


def set_device(device) -> None:
    """Select the default NPU for this thread: ``torch.npu.set_device(0)`` or ``("npu:1")``."""
    dispatch.DEVICE_STATE.current = dispatch.resolve_index(device)


class device:
    """Context manager that changes the current NPU: ``with torch.npu.device(1): ...``."""

    def __init__(self, device):
        self.idx = -1 if device is None else dispatch.resolve_index(device)
        self.prev_idx = -1

    def __enter__(self):
        self.prev_idx = current_device()
        if self.idx != -1:
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
    """Wait until all kernels queued on the NPU have finished (simulated time)."""
    timeline.synchronize(None if device is None else dispatch.resolve_index(device))


# -- device information --------------------------------------------------------------------------
@dataclass(frozen=True)
class _NPUDeviceProperties:
    name: str
    total_memory: int
    cube_core_num: int
    vector_core_num: int
    L2_cache_size: int

    def __repr__(self) -> str:
        return (f"_NPUDeviceProperties(name='{self.name}', total_memory={self.total_memory // (1 << 20)}MB, "
                f"cube_core_num={self.cube_core_num}, vector_core_num={self.vector_core_num}, "
                f"L2_cache_size={self.L2_cache_size // (1 << 20)}MB)")


def get_device_name(device=None) -> str:
    dispatch.resolve_index(device)
    return _soc().name


def get_device_properties(device=None) -> _NPUDeviceProperties:
    dispatch.resolve_index(device)
    spec = _soc()
    return _NPUDeviceProperties(
        name=spec.name,
        total_memory=memory.capacity_bytes(),
        cube_core_num=spec.ai_cores,
        vector_core_num=spec.ai_cores * 2,
        L2_cache_size=192 << 20,
    )


def get_device_capability(device=None):
    dispatch.resolve_index(device)
    return None  # torch_npu returns None: CUDA compute capabilities have no NPU meaning


def is_bf16_supported() -> bool:
    return bool(_soc().bf16)


def get_amp_supported_dtype():
    """Used by ``torch.amp.autocast("npu")`` to validate the requested dtype."""
    return [torch.float16, torch.bfloat16] if is_bf16_supported() else [torch.float16]


def is_autocast_enabled() -> bool:  # noqa: D401 - torch.amp calls this for custom devices
    return torch.is_autocast_enabled("npu")


def get_autocast_dtype() -> torch.dtype:
    return torch.get_autocast_dtype("npu")


# -- memory ----------------------------------------------------------------------------------------
def _index(device) -> int:
    return dispatch.resolve_index(device)


def memory_allocated(device=None) -> int:
    return memory.device(_index(device)).allocated


def max_memory_allocated(device=None) -> int:
    return memory.device(_index(device)).peak_allocated


def memory_reserved(device=None) -> int:
    return memory.device(_index(device)).reserved


def max_memory_reserved(device=None) -> int:
    return memory.device(_index(device)).peak_reserved


def memory_cached(device=None) -> int:
    return memory_reserved(device)


def max_memory_cached(device=None) -> int:
    return max_memory_reserved(device)


def memory_stats(device=None) -> dict:
    return memory.stats(_index(device))


def memory_stats_as_nested_dict(device=None) -> dict:
    nested: dict = {}
    for key, value in memory_stats(device).items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def memory_summary(device=None, abbreviated: bool = False) -> str:
    return memory.summary(_index(device))


def memory_snapshot():
    return [{"device": i, "allocated": m.allocated, "reserved": m.reserved} for i, m in memory._DEVICES.items()]


def reset_peak_memory_stats(device=None) -> None:
    memory.reset_peak(_index(device))


def reset_max_memory_allocated(device=None) -> None:
    memory.reset_peak(_index(device))


def reset_max_memory_cached(device=None) -> None:
    memory.reset_peak(_index(device))


def reset_accumulated_memory_stats(device=None) -> None:
    mem = memory.device(_index(device))
    mem.alloc_total = mem.free_total = mem.num_alloc_retries = mem.num_ooms = 0


def empty_cache() -> None:
    """Give cached, unused device memory back (reserved drops; allocated does not change)."""
    memory.empty_cache()


def mem_get_info(device=None) -> tuple[int, int]:
    """(free, total) bytes of device memory, like ``aclrtGetMemInfo``."""
    total = memory.capacity_bytes()
    return total - memory.device(_index(device)).reserved, total


def set_per_process_memory_fraction(fraction: float, device=None) -> None:
    if not 0 < fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")
    CONFIG.memory_gib = memory.capacity_bytes() * fraction / memory.GiB


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
_COMPILE_MODE = {"jit_compile": False}


def set_compile_mode(jit_compile: bool = False) -> None:
    """torch_npu: choose between online compilation of operators and pre-built binary kernels."""
    _COMPILE_MODE["jit_compile"] = bool(jit_compile)


def is_jit_compile_false() -> bool:
    return not _COMPILE_MODE["jit_compile"]


# -- streams and events are in streams.py; amp in amp.py --------------------------------------------
from ascend_compat.sim import amp  # noqa: E402  (torch.npu.amp)

__all__ = sorted(
    name for name, value in list(globals().items())
    if not name.startswith("_") and name not in {"annotations", "contextlib", "dataclass", "torch",
                                                  "dispatch", "memory", "timeline", "CONFIG"}
    and (callable(value) or name == "amp")
)
