"""Device memory of the simulated NPU, accounted like torch_npu's caching allocator.

The data really lives in host RAM; what is simulated is the *bookkeeping* a real device
imposes: a fixed capacity (the SoC's HBM), requests rounded up into blocks carved out of larger
cached segments (so "reserved" >= "allocated"), freed blocks kept in the cache until
``torch.npu.empty_cache()``, peak statistics, and ``torch.OutOfMemoryError`` when a request does
not fit. The rules are torch_npu's (Ascend/pytorch, torch_npu/csrc/core/npu/NPUCachingAllocator.cpp:
``round_size``, ``AddPadSize``, ``get_pool``, ``get_allocation_size``, ``should_split``; the sizes
in torch_npu/csrc/core/npu/NPUAllocatorConfig.h; read at commit 9e73e708 of Ascend/pytorch):

* every request is padded by 32 bytes, then rounded up to a multiple of 512 bytes (the block);
* blocks of at most 1 MiB come from the *small pool*, which reserves 2 MiB segments;
* larger blocks come from the *large pool*: a block under 10 MiB gets a 20 MiB segment that later
  large blocks share, a block of 10 MiB or more a segment of its own size rounded up to 2 MiB;
* a large-pool block takes the whole free space it is cut from when no more than 1 MiB would be
  left over (so ``memory_allocated`` can exceed the bytes asked for by up to 1 MiB);
* each pool's cached space serves only its own requests.

Simplified: free space inside a segment counts as one piece (no fragmentation), and the small
pool's segments are not told apart (``empty_cache`` gives back as many whole 2 MiB segments as its
free space adds up to). Large-pool segments are tracked one by one: ``empty_cache`` returns those
with no live block, like the real one. The statistics use the allocator's own counters
(``torch.npu.memory_stats()``); the hot path (:func:`track`, every tensor of every operator) only
adds and compares integers, and the derived keys are computed when the statistics are asked for.
"""

from __future__ import annotations

import math

import torch

from ascend_compat.sim.config import CONFIG

BLOCK = 512                 # kMinBlockSize: all sizes are rounded to at least 512 bytes
PAD = 32                    # AddPadSize(): added to every request (not on Ascend950 with CANN >= 9.1)
SMALL_REQUEST = 1 << 20     # kSmallSize: the largest block the small pool serves
SMALL_SEGMENT = 2 << 20     # kSmallBuffer: the small pool's segment
LARGE_SEGMENT = 20 << 20    # kLargeBuffer: shared segment for blocks between 1 and 10 MiB
LARGE_ALLOC = 10 << 20      # kMinLargeAlloc: from here a block gets a segment of its own
ROUND_LARGE = 2 << 20       # kRoundLarge: those segments are rounded up to 2 MiB
GiB = 1 << 30
# NPUAllocatorConfig::max_split_size() is SIZE_MAX unless PYTORCH_NPU_ALLOC_CONF sets
# max_split_size_mb; memory_stats() reports it cast to int64, which is -1
MAX_SPLIT_SIZE = -1


class Pool:
    """One pool's counters (or the sum of both, ``DeviceMemory`` itself for ``all``): current
    values, their peaks, and running totals (``*_total``: everything ever added; what was taken
    away follows from total and current). Its cached space is ``reserved - allocated``."""

    __slots__ = ("allocated", "peak_allocated", "allocated_total",     # bytes of live blocks
                 "blocks", "peak_blocks", "blocks_total",              # live blocks
                 "requested", "peak_requested", "requested_total",     # bytes asked for (unpadded)
                 "reserved", "peak_reserved", "reserved_total",        # bytes of segments
                 "segments", "peak_segments", "segments_total")        # segments

    def __init__(self):
        for name in Pool.__slots__:
            setattr(self, name, 0)


class Segment:
    """A large-pool segment: its size and the bytes of live blocks in it."""

    __slots__ = ("size", "used")

    def __init__(self, size: int):
        self.size, self.used = size, 0


class DeviceMemory(Pool):
    """One device's allocator: the ``all`` counters, the two pools, the event counters."""

    __slots__ = ("small", "large", "large_segments", "num_alloc_retries", "num_ooms",
                 "num_device_alloc", "num_device_free", "marks")

    def __init__(self):
        super().__init__()
        self.small, self.large = Pool(), Pool()
        self.large_segments: list[Segment] = []
        self.num_alloc_retries = self.num_ooms = self.num_device_alloc = self.num_device_free = 0
        self.marks: dict = {}  # counter -> (total, current) at reset_accumulated_memory_stats()

    @property
    def cached_free(self) -> int:
        """Reserved but unused (both pools)."""
        return self.reserved - self.allocated


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


def block_size(nbytes: int) -> int:
    """The block a request of ``nbytes`` takes before any leftover is added: torch_npu's
    ``round_size`` (32 bytes of padding, then a multiple of 512)."""
    size = nbytes + PAD
    return BLOCK if size <= BLOCK else -(-size // BLOCK) * BLOCK


def segment_size(block: int) -> int:
    """The segment reserved for ``block`` when its pool has no room: ``get_allocation_size``."""
    if block <= SMALL_REQUEST:
        return SMALL_SEGMENT
    if block < LARGE_ALLOC:
        return LARGE_SEGMENT
    return -(-block // ROUND_LARGE) * ROUND_LARGE


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
        f"{allowed}{_fmt(mem.allocated)} already allocated; {_fmt(max(0, limit - mem.reserved))} free; "
        f"{_fmt(mem.reserved)} reserved in total by PyTorch). Free tensors you no longer need (del, "
        "optimizer.zero_grad(set_to_none=True)), use a smaller batch, mixed precision or activation "
        "checkpointing. If reserved memory is >> allocated memory try setting max_split_size_mb in "
        "PYTORCH_NPU_ALLOC_CONF to avoid fragmentation."
    )


# -- segments (rare: only when a pool has no room) ---------------------------------------------------
def _drop_segments(mem: DeviceMemory, pool: Pool, count: int, nbytes: int) -> None:
    pool.segments -= count
    pool.reserved -= nbytes
    mem.segments -= count
    mem.reserved -= nbytes


def release_cached(mem: DeviceMemory) -> None:
    """Give every wholly free segment back to the device (``empty_cache()``, and the allocator's
    retry before it reports out of memory: ``release_cached_blocks``)."""
    small = mem.small
    count = (small.reserved - small.allocated) // SMALL_SEGMENT
    if count:
        _drop_segments(mem, small, count, count * SMALL_SEGMENT)
    idle = [s for s in mem.large_segments if not s.used]
    if idle:
        _drop_segments(mem, mem.large, len(idle), sum(s.size for s in idle))
        mem.large_segments = [s for s in mem.large_segments if s.used]


def _reserve(mem: DeviceMemory, index: int, pool: Pool, seg: int, block: int) -> None:
    """Reserve a new segment of ``seg`` bytes in ``pool`` for a block of ``block`` bytes."""
    if CONFIG.memory_limit and mem.reserved + seg > (limit := limit_bytes(index)):
        if mem.reserved > mem.allocated:  # like the real allocator: give cached segments back, retry once
            mem.num_alloc_retries += 1
            release_cached(mem)
        if mem.reserved + seg > limit:
            raise _out_of_memory(index, block)
    pool.reserved += seg
    pool.reserved_total += seg
    pool.segments += 1
    pool.segments_total += 1
    pool.peak_reserved = max(pool.peak_reserved, pool.reserved)
    pool.peak_segments = max(pool.peak_segments, pool.segments)
    mem.reserved += seg
    mem.segments += 1
    mem.peak_reserved = max(mem.peak_reserved, mem.reserved)
    mem.peak_segments = max(mem.peak_segments, mem.segments)


def _large_block(mem: DeviceMemory, index: int, size: int) -> tuple[int, Segment]:
    """Place a large-pool block: the segment with the least free space that fits (best fit), or a
    new one. Returns the block's size (all the free space when <= 1 MiB would be left) and segment."""
    best, room = None, 0
    for seg in mem.large_segments:
        free = seg.size - seg.used
        if free >= size and (best is None or free < room):
            best, room = seg, free
    if best is None:
        room = segment_size(size)
        _reserve(mem, index, mem.large, room, size)
        best = Segment(room)
        mem.large_segments.append(best)
    if room - size <= SMALL_REQUEST:  # should_split(): a large block is split only if > 1 MiB is left
        size = room
    best.used += size
    return size, best


# -- blocks (every tensor: plain integer arithmetic) -------------------------------------------------
class _Block:
    """One device allocation: the memory of one storage, shared by every NPU tensor on it.

    The block hangs on the host storage that holds the data (:func:`track`), and every NPU tensor on
    that storage (a tensor and its views) holds the storage. Python frees an object the moment the
    last reference to it goes, so the block is given back exactly when the last tensor on its
    storage dies. A view costs nothing here: it shares its base's storage. :func:`allocate` makes
    one (or raises the out-of-memory error)."""

    __slots__ = ("index", "pool", "mem", "size", "requested", "segment")

    def __del__(self):
        try:
            pool, mem, size, requested = self.pool, self.mem, self.size, self.requested
        except AttributeError:  # never allocated
            return
        if self.segment is not None:
            self.segment.used -= size
        pool.allocated -= size
        pool.blocks -= 1
        pool.requested -= requested
        mem.allocated -= size
        mem.blocks -= 1
        mem.requested -= requested


_new_block = object.__new__


def allocate(index: int, nbytes: int) -> _Block:
    """Account one allocation of ``nbytes`` on ``npu:index``; it is freed when the block is dropped.
    ``.size`` is what it takes from the device. Runs for every new tensor: plain integer arithmetic."""
    mem = _DEVICES.get(index) or device(index)
    size = nbytes + PAD
    size = BLOCK if size <= BLOCK else -(-size // BLOCK) * BLOCK  # block_size(), inlined
    if size <= SMALL_REQUEST:
        pool = mem.small
        if pool.reserved - pool.allocated < size:
            _reserve(mem, index, pool, SMALL_SEGMENT, size)
        segment = None
    else:
        pool = mem.large
        size, segment = _large_block(mem, index, size)
    block = _new_block(_Block)  # no __init__ call: this is the hot path
    block.index, block.pool, block.mem, block.size, block.requested, block.segment = (
        index, pool, mem, size, nbytes, segment)
    # locals spare an attribute load per peak check
    pool.allocated = value = pool.allocated + size
    if value > pool.peak_allocated:
        pool.peak_allocated = value
    pool.blocks = value = pool.blocks + 1
    if value > pool.peak_blocks:
        pool.peak_blocks = value
    pool.requested = value = pool.requested + nbytes
    if value > pool.peak_requested:
        pool.peak_requested = value
    pool.allocated_total += size
    pool.blocks_total += 1
    pool.requested_total += nbytes
    mem.allocated = value = mem.allocated + size
    if value > mem.peak_allocated:
        mem.peak_allocated = value
    mem.blocks = value = mem.blocks + 1
    if value > mem.peak_blocks:
        mem.peak_blocks = value
    mem.requested = value = mem.requested + nbytes
    if value > mem.peak_requested:
        mem.peak_requested = value
    return block


def track(wrapper, cpu: torch.Tensor, index: int) -> None:
    """Count the storage behind a new NPU tensor, once per storage, until it is freed.

    PyTorch keeps one Python object per storage for as long as the storage lives, so the block is
    an attribute of that object: it goes when the storage goes, which is when the last tensor on
    it (the new one, its views, any later tensor on the same memory) has died."""
    storage = cpu.untyped_storage()
    block = getattr(storage, "_npu_block", None)
    if block is None:
        nbytes = storage.nbytes()
        if nbytes:
            storage._npu_block = allocate(index, nbytes)
    elif block.index != index:
        # The same host memory on a second simulated device (it never is, on hardware): the tensor
        # holds a block of its own on that device.
        wrapper._npu_block = allocate(index, storage.nbytes())


def check_fits(index: int, nbytes: int) -> None:
    """Raise the OOM error *before* a large factory call allocates host memory for nothing."""
    if not CONFIG.memory_limit:
        return
    mem = device(index)
    block = block_size(nbytes)
    if mem.allocated + block > limit_bytes(index):
        raise _out_of_memory(index, block)


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
        release_cached(mem)


# -- statistics (computed only when asked for) -------------------------------------------------------
_COUNTERS = ("allocated", "blocks", "requested", "reserved", "segments")


def reset_peak(index: int) -> None:
    mem = device(index)
    for pool in (mem, mem.small, mem.large):
        for name in _COUNTERS:
            setattr(pool, "peak_" + name, getattr(pool, name))


def reset_accumulated(index: int) -> None:
    """``reset_accumulated_memory_stats()``: the running totals and event counters restart at 0."""
    mem = device(index)
    mem.marks = {(which, name): (getattr(pool, name + "_total"), getattr(pool, name))
                 for which, pool in (("small_pool", mem.small), ("large_pool", mem.large)) for name in _COUNTERS}
    mem.num_alloc_retries = mem.num_ooms = 0


def _stat(mem: DeviceMemory, which: str, name: str) -> dict:
    """One pool's stat as torch_npu reports it: current, peak, allocated (added since the last
    reset) and freed (taken away since then)."""
    pool = getattr(mem, which[:-5])
    total, current = getattr(pool, name + "_total"), getattr(pool, name)
    total0, current0 = mem.marks.get((which, name), (0, 0))
    added = total - total0
    return {"current": current, "peak": getattr(pool, "peak_" + name), "allocated": added,
            "freed": added - (current - current0)}


def _inactive_split(mem: DeviceMemory) -> dict:
    """Free space in segments that still hold a live block ("non-releasable": empty_cache() cannot
    return it), current values only: (blocks, bytes) per pool."""
    small = mem.small
    free = small.reserved - small.allocated
    small_bytes = free % SMALL_SEGMENT if small.blocks else 0  # the rest is whole free segments
    partly = [s.size - s.used for s in mem.large_segments if s.used and s.used < s.size]
    return {"small_pool": (1 if small_bytes else 0, small_bytes), "large_pool": (len(partly), sum(partly))}


_ZERO = {"current": 0, "peak": 0, "allocated": 0, "freed": 0}


def nested_stats(index: int) -> dict:
    """``torch.npu.memory_stats_as_nested_dict()``: torch_npu's key set (Ascend/pytorch,
    torch_npu/csrc/npu/Module.cpp, THNPModule_memoryStats), each stat per pool ("all",
    "small_pool", "large_pool") with current/peak/allocated/freed.

    Modelled exactly (for this allocator model): allocation, allocated_bytes, active (= allocation:
    no block waits for another stream), active_bytes, requested_bytes (the unpadded sizes asked
    for), segment, reserved_bytes, num_device_alloc/free (segments reserved/returned), num_ooms,
    num_alloc_retries. inactive_split(_bytes): its current value (peak = current, totals 0: no history).
    Never happens here (always 0): oversize_* (max_split_size is unset), num_sync_all_streams,
    num_oom_rejections."""
    mem = device(index)
    result: dict = {}
    for key, name in (("allocation", "blocks"), ("segment", "segments"), ("active", "blocks"),
                      ("allocated_bytes", "allocated"), ("reserved_bytes", "reserved"),
                      ("active_bytes", "allocated"), ("requested_bytes", "requested")):
        small, large = _stat(mem, "small_pool", name), _stat(mem, "large_pool", name)
        everything = {metric: small[metric] + large[metric] for metric in ("current", "allocated", "freed")}
        everything["peak"] = getattr(mem, "peak_" + name)
        result[key] = {"all": everything, "small_pool": small, "large_pool": large}
    inactive = _inactive_split(mem)
    for key, part in (("inactive_split", 0), ("inactive_split_bytes", 1)):
        # no history is kept: the peak reported is the current value (a lower bound), totals are 0
        pools = {which: dict(_ZERO, current=inactive[which][part], peak=inactive[which][part])
                 for which in ("small_pool", "large_pool")}
        both = pools["small_pool"]["current"] + pools["large_pool"]["current"]
        result[key] = {"all": dict(_ZERO, current=both, peak=both), **pools}
    segments = result["segment"]["all"]
    result.update(num_alloc_retries=mem.num_alloc_retries, num_ooms=mem.num_ooms, max_split_size=MAX_SPLIT_SIZE,
                  num_sync_all_streams=0, num_device_alloc=segments["allocated"],
                  num_device_free=segments["freed"], num_oom_rejections=0,
                  oversize_allocations=dict(_ZERO), oversize_segments=dict(_ZERO))
    return result


def stats(index: int) -> dict:
    """``torch.npu.memory_stats()``: the nested statistics flattened to dotted keys, sorted (as
    torch_npu/npu/memory.py does)."""
    flat: list = []

    def walk(prefix: str, node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else key, value)
        else:
            flat.append((prefix, node))

    walk("", nested_stats(index))
    return dict(sorted(flat))


def _size(nbytes: int, scale: int) -> str:
    """A summary cell: bytes in the unit the row's first value picks (torch_npu's _format_size)."""
    units = ("B ", "KB", "MB", "GB", "TB")
    unit = 0
    while unit < len(units) - 1 and scale >= 768 * 1024:
        nbytes //= 1024
        scale /= 1024
        unit += 1
    return f"{nbytes:7d} {units[unit]}"


def _count(n: int, scale: int) -> str:
    units = (" ", "K", "M")
    unit = 0
    while unit < len(units) - 1 and scale >= 750 * 1000:
        n //= 1000
        scale /= 1000
        unit += 1
    return f"{n:7d} {units[unit]} "


# the rows of torch_npu's memory_summary (torch_npu/npu/memory.py, _create_metrics_to_display)
_SUMMARY_ROWS = (
    ("allocated_bytes", "Allocated memory", _size), ("active_bytes", "Active memory", _size),
    ("reserved_bytes", "NPU reserved memory", _size), ("inactive_split_bytes", "Non-releasable memory", _size),
    ("allocation", "Allocations", _count), ("active", "Active allocs", _count),
    ("segment", "NPU reserved segments", _count), ("inactive_split", "Non-releasable allocs", _count),
)


def summary(index: int, abbreviated: bool = False) -> str:
    """``torch.npu.memory_summary()``: torch_npu's table of the statistics, plus the simulated
    device's capacity (and memory fraction, if set)."""
    nested = nested_stats(index)
    rule, thin = "=" * 75, "-" * 75
    lines = [rule, f"{'PyTorch NPU memory summary (simulated), device ID ' + str(index):^75}", thin,
             f"  Capacity: {_fmt(capacity_bytes()):<20} SoC: {CONFIG.soc}",
             *([f"  Allowed (memory fraction {fraction(index):g}): {_fmt(limit_bytes(index))}"]
               if index in _FRACTIONS else []),
             f"  NPU OOMs: {nested['num_ooms']:<13d} | npuMalloc retries: {nested['num_alloc_retries']:<9d}",
             rule, "        Metric         | Cur Usage  | Peak Usage | Tot Alloc  | Tot Freed  "]
    pools = (("all", None),) if abbreviated else (("all", None), ("large_pool", "      from large pool"),
                                                  ("small_pool", "      from small pool"))
    for key, label, cell in _SUMMARY_ROWS:
        lines.append(thin)
        first = nested[key]["all"]
        for which, sublabel in pools:
            stat = nested[key][which]
            lines.append(f" {sublabel or label:<21} | " + " | ".join(
                cell(stat[metric], first[metric]) for metric in ("current", "peak", "allocated", "freed")) + " ")
    for key, label in (("oversize_allocations", "Oversize allocations"), ("oversize_segments", "Oversize NPU segments")):
        stat = nested[key]
        lines += [thin, f" {label:<21} | " + " | ".join(_count(stat[m], stat[m]) for m in
                                                       ("current", "peak", "allocated", "freed")) + " "]
    lines.append(rule)
    return "|" + "|\n|".join(f"{line:<75}" for line in lines) + "|\n"


def reset() -> None:
    """Forget all statistics (tests and lessons that want a clean slate). Live tensors stay counted."""
    for index in list(_DEVICES):
        reset_accumulated(index)
        reset_peak(index)
