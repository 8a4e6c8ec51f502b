"""Device memory of the simulated NPU, accounted like torch_npu's caching allocator.

The data really lives in host RAM; what is simulated is the *bookkeeping* a real device
imposes: a fixed capacity (the SoC's HBM), allocations rounded up to 512-byte blocks and carved
out of larger cached segments (so "reserved" >= "allocated"), freed blocks kept in the cache
until ``torch.npu.empty_cache()``, peak statistics, and ``torch.OutOfMemoryError`` when a
request does not fit. The segment rules mirror the CUDA/NPU caching allocator in simplified form:
requests up to 1 MiB share 2 MiB segments, larger ones get their own segment rounded up to 2 MiB.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field

import torch

from ascend_compat.sim.config import CONFIG

BLOCK = 512
SMALL_REQUEST = 1 << 20
SEGMENT = 2 << 20
GiB = 1 << 30


@dataclass
class DeviceMemory:
    allocated: int = 0
    peak_allocated: int = 0
    reserved: int = 0
    peak_reserved: int = 0
    cached_free: int = 0           # reserved but unused: what empty_cache() can give back
    allocations: int = 0           # live blocks
    alloc_total: int = 0
    free_total: int = 0
    num_alloc_retries: int = 0
    num_ooms: int = 0
    history: list = field(default_factory=list)  # (device time us, allocated bytes) for plots


_DEVICES: dict[int, DeviceMemory] = {}


def device(index: int) -> DeviceMemory:
    mem = _DEVICES.get(index)
    if mem is None:
        mem = _DEVICES[index] = DeviceMemory()
    return mem


def capacity_bytes() -> int:
    """The simulated device's memory in bytes: the SoC's HBM, or the size set with
    ``configure(memory_gib=...)`` (a smaller device for an exercise). What
    ``get_device_properties().total_memory`` reports."""
    if CONFIG.memory_gib is not None:
        return int(CONFIG.memory_gib * GiB)
    from ascend_compat import soc

    return int(soc.get(CONFIG.soc).memory_gib * GiB)


# npu:N -> the share of its memory this process may use (torch.npu.set_per_process_memory_fraction)
_FRACTIONS: dict[int, float] = {}


def set_fraction(index: int, fraction: float) -> None:
    if fraction >= 1.0:
        _FRACTIONS.pop(index, None)
    else:
        _FRACTIONS[index] = fraction


def fraction(index: int) -> float:
    return _FRACTIONS.get(index, 1.0)


def limit_bytes(index: int) -> int:
    """What this process may allocate on ``npu:index``: the device's memory times its fraction."""
    cap = capacity_bytes()
    share = _FRACTIONS.get(index)
    return cap if share is None else int(cap * share)


def _block(nbytes: int) -> int:
    return max(BLOCK, -(-nbytes // BLOCK) * BLOCK)


def _segment(block: int) -> int:
    return SEGMENT if block <= SMALL_REQUEST else -(-block // SEGMENT) * SEGMENT


def _fmt(nbytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.2f} {unit}" if unit != "bytes" else f"{int(nbytes)} bytes"
        nbytes /= 1024
    return ""


def _out_of_memory(index: int, block: int) -> torch.OutOfMemoryError:
    mem = device(index)
    cap, limit = capacity_bytes(), limit_bytes(index)
    mem.num_ooms += 1
    allowed = f"{_fmt(limit)} allowed by set_per_process_memory_fraction; " if limit < cap else ""
    return torch.OutOfMemoryError(
        f"NPU out of memory. Tried to allocate {_fmt(block)} (NPU {index}; {_fmt(cap)} total capacity; "
        f"{allowed}{_fmt(mem.allocated)} already allocated; {_fmt(max(0, limit - mem.reserved + mem.cached_free))} free; "
        f"{_fmt(mem.reserved)} reserved in total by PyTorch). Free tensors you no longer need (del, "
        "optimizer.zero_grad(set_to_none=True)), use a smaller batch, mixed precision or activation "
        "checkpointing. If reserved memory is >> allocated memory try setting max_split_size_mb in "
        "PYTORCH_NPU_ALLOC_CONF to avoid fragmentation."
    )


def allocate(index: int, nbytes: int) -> int:
    """Account one allocation of ``nbytes`` on ``npu:index``; returns the block size used."""
    mem = _DEVICES.get(index) or device(index)
    block = BLOCK if nbytes <= BLOCK else -(-nbytes // BLOCK) * BLOCK  # _block(), inlined (every tensor)
    if mem.cached_free >= block:
        mem.cached_free -= block
    else:
        seg = _segment(block)
        if CONFIG.memory_limit and mem.reserved + seg > (limit := limit_bytes(index)):
            # like the real allocator: give cached segments back and retry once
            if mem.cached_free:
                mem.num_alloc_retries += 1
                mem.reserved -= mem.cached_free
                mem.cached_free = 0
            if mem.allocated + block > limit or mem.reserved + seg > limit:
                raise _out_of_memory(index, block)
        mem.reserved += seg
        mem.cached_free += seg - block
        mem.peak_reserved = max(mem.peak_reserved, mem.reserved)
    mem.allocated += block
    mem.allocations += 1
    mem.alloc_total += 1
    if mem.allocated > mem.peak_allocated:
        mem.peak_allocated = mem.allocated
    return block


def free(index: int, block: int) -> None:
    mem = _DEVICES.get(index) or device(index)
    mem.allocated -= block
    mem.allocations -= 1
    mem.free_total += 1
    mem.cached_free += block


def check_fits(index: int, nbytes: int) -> None:
    """Raise the OOM error *before* a large factory call allocates host memory for nothing."""
    if not CONFIG.memory_limit:
        return
    mem = device(index)
    block = _block(nbytes)
    if mem.allocated + block > limit_bytes(index):
        raise _out_of_memory(index, block)


class _Block:
    """One device allocation, shared by every NPU tensor on its storage (a tensor and its views).

    Each of those tensors holds the block in ``_memory``; Python frees an object the moment the
    last reference to it goes, so the block is given back exactly when the last tensor on its
    storage dies. A view costs one attribute: no per-tensor bookkeeping, nothing to run at its
    death."""

    __slots__ = ("index", "size", "ptr", "__weakref__")

    def __init__(self, index: int, size: int, ptr: int):
        self.index, self.size, self.ptr = index, size, ptr

    def __del__(self):
        try:
            free(self.index, self.size)
            ref = _STORAGES.get(self.ptr)
            if ref is not None and ref() in (None, self):
                del _STORAGES[self.ptr]
        except (NameError, TypeError, AttributeError):  # interpreter exit: the module is gone
            pass


# storage data_ptr -> weak reference to its _Block (weak: the tensors own the block, not this table)
_STORAGES: dict[int, weakref.ref] = {}


def track(wrapper, cpu: torch.Tensor, index: int) -> None:
    """Count the storage behind a new NPU tensor (once per storage; views share it) until the
    last tensor on it dies or is re-pointed (:func:`untrack`)."""
    storage = cpu.untyped_storage()
    nbytes = storage.nbytes()
    if nbytes == 0:
        return
    ptr = storage.data_ptr()
    ref = _STORAGES.get(ptr)
    block = ref() if ref is not None else None
    if block is None or block.index != index:
        block = _Block(index, allocate(index, nbytes), ptr)
        _STORAGES[ptr] = weakref.ref(block)
    wrapper._memory = block


def track_view(wrapper, base) -> None:
    """Count ``wrapper``, a view of NPU tensor ``base``, as one more user of ``base``'s storage
    (what :func:`track` finds out, known here without asking the storage)."""
    block = getattr(base, "_memory", None)
    if block is None:  # base is not counted (an empty storage): ask the storage
        track(wrapper, wrapper._cpu, wrapper._index)
    else:
        wrapper._memory = block


def untrack(wrapper) -> None:
    """``wrapper`` no longer uses its storage (``tensor.data = other`` re-points it)."""
    wrapper.__dict__.pop("_memory", None)


def reserve_for(func, args, kwargs, index: int) -> None:
    """Factory calls (``torch.empty(size, device="npu")``): refuse oversize requests up front."""
    if not args or not isinstance(args[0], (list, tuple, torch.Size)):
        return
    try:
        numel = math.prod(int(s) for s in args[0])
    except (TypeError, ValueError):
        return
    if not CONFIG.memory_limit:
        return
    dtype = kwargs.get("dtype") or torch.get_default_dtype()
    check_fits(index, numel * dtype.itemsize)


def empty_cache() -> None:
    for mem in _DEVICES.values():
        mem.reserved -= mem.cached_free
        mem.cached_free = 0


def reset_peak(index: int) -> None:
    mem = device(index)
    mem.peak_allocated = mem.allocated
    mem.peak_reserved = mem.reserved


def stats(index: int) -> dict:
    """``torch.npu.memory_stats()``: the same key names as torch.cuda/torch_npu."""
    mem = device(index)
    return {
        "allocated_bytes.all.current": mem.allocated,
        "allocated_bytes.all.peak": mem.peak_allocated,
        "reserved_bytes.all.current": mem.reserved,
        "reserved_bytes.all.peak": mem.peak_reserved,
        "active_bytes.all.current": mem.allocated,
        "active_bytes.all.peak": mem.peak_allocated,
        "inactive_split_bytes.all.current": mem.cached_free,
        "allocation.all.current": mem.allocations,
        "allocation.all.allocated": mem.alloc_total,
        "allocation.all.freed": mem.free_total,
        "num_alloc_retries": mem.num_alloc_retries,
        "num_ooms": mem.num_ooms,
    }


def summary(index: int) -> str:
    """``torch.npu.memory_summary()``: a readable table of the allocator's state."""
    mem = device(index)
    rule = "|" + "=" * 75 + "|"
    lines = [
        rule,
        f"|{'PyTorch NPU memory summary (simulated), device ID ' + str(index):^75}|",
        "|" + "-" * 75 + "|",
        f"|  Capacity: {_fmt(capacity_bytes()):<20} SoC: {CONFIG.soc:<37}|",
        *([f"|  Allowed (memory fraction {fraction(index):g}): {_fmt(limit_bytes(index)):<42}|"]
          if index in _FRACTIONS else []),
        f"|  OOMs: {mem.num_ooms:<10} allocation retries: {mem.num_alloc_retries:<36}|",
        rule,
        f"|{'Metric':<25}|{'Cur Usage':>16}|{'Peak Usage':>16}|{'Tot Alloc/Freed':>15}|",
        "|" + "-" * 75 + "|",
        f"|{'Allocated memory':<25}|{_fmt(mem.allocated):>16}|{_fmt(mem.peak_allocated):>16}|{'':>15}|",
        f"|{'Reserved memory':<25}|{_fmt(mem.reserved):>16}|{_fmt(mem.peak_reserved):>16}|{'':>15}|",
        f"|{'Cached, unused':<25}|{_fmt(mem.cached_free):>16}|{'':>16}|{'':>15}|",
        f"|{'Allocations':<25}|{mem.allocations:>16}|{'':>16}|{str(mem.alloc_total) + '/' + str(mem.free_total):>15}|",
        rule,
    ]
    return "\n".join(lines)


def reset() -> None:
    """Forget all statistics (tests and lessons that want a clean slate). Live tensors stay counted."""
    for index, mem in list(_DEVICES.items()):
        live = mem.allocated
        _DEVICES[index] = DeviceMemory(allocated=live, peak_allocated=live, reserved=mem.reserved,
                                       peak_reserved=mem.reserved, cached_free=mem.cached_free,
                                       allocations=mem.allocations)
