"""Simulated time: a host clock, and per-device streams that run queued work asynchronously.

On an NPU (as on a GPU) a Python call only *enqueues* a kernel: the host moves on after the launch
overhead while the device works through its stream. The simulator keeps both clocks in
microseconds of simulated time:

* ``HOST.now``: advances by the host launch overhead of every operator; waits (jumps forward)
  whenever the host must see results — ``synchronize()``, ``.item()``, ``.cpu()``, printing.
* each stream's ``ready``: when the device will have finished everything queued on it. A kernel
  starts at ``max(host time at launch, stream ready)`` and lasts its modelled cost.

So a host-side timer read without synchronising measures only launches — the classic timing bug —
while ``torch.npu.Event(enable_timing=True)`` pairs measure device time. Everything here is
deterministic: the same program gives the same figures on any machine.

Streams are queues; *engines* are the hardware that drains them. Each device has one compute
engine (the AI cores: a kernel of a real workload occupies all of them, so kernels from two
streams of one device run one after another) and one DMA engine per direction, host-to-device and
device-to-host. A kernel starts when the host has launched it, its stream has finished the work
queued before it, and its engine is free. So a copy on a side stream overlaps compute on the
default stream, two compute streams do not, and each device (``npu:0``, ``npu:1``) has its own
engines and runs concurrently with the others.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ascend_compat.sim import costmodel
from ascend_compat.sim.config import CONFIG


class HostClock:
    now: float = 0.0


HOST = HostClock()


@dataclass
class StreamState:
    device: int
    stream_id: int
    ready: float = 0.0


COMPUTE, H2D, D2H = "compute", "h2d", "d2h"   # engines; also the kinds of kernel the profiler shows
FALLBACK = "cpu_fallback"                      # runs on the host: holds its stream, no device engine


@dataclass
class DeviceTimeline:
    streams: dict = field(default_factory=dict)
    current: int = 0   # current stream id
    engines: dict = field(default_factory=lambda: {COMPUTE: 0.0, H2D: 0.0, D2H: 0.0})  # engine -> free at
    kernels: int = 0     # kernels launched on this device so far (the measurement API reads it)
    busy_us: float = 0.0  # device time those kernels took

    def stream(self, stream_id: int, device: int) -> StreamState:
        state = self.streams.get(stream_id)
        if state is None:
            state = self.streams[stream_id] = StreamState(device, stream_id)
        return state


_DEVICES: dict[int, DeviceTimeline] = {}
_stream_ids = itertools.count(1)
PROFILERS: list = []   # active profilers receive every kernel (see profiler.py)


def device(index: int) -> DeviceTimeline:
    tl = _DEVICES.get(index)
    if tl is None:
        tl = _DEVICES[index] = DeviceTimeline()
    return tl


def new_stream_id() -> int:
    return next(_stream_ids)


def current_stream(index: int) -> StreamState:
    tl = device(index)
    return tl.stream(tl.current, index)


_RATES_CACHE: list = [None, None]  # [SoC name, its costmodel.Rates]: once per SoC, not per operator


def rates() -> costmodel.Rates:
    """The current SoC's :func:`costmodel.rates`."""
    if _RATES_CACHE[0] != CONFIG.soc:
        from ascend_compat import soc

        _RATES_CACHE[:] = [CONFIG.soc, costmodel.rates(soc.get(CONFIG.soc))]
    return _RATES_CACHE[1]


def _queue(tl: DeviceTimeline, stream: StreamState, engine, each: float) -> float:
    """Place one kernel of ``each`` us on ``stream``; returns when it starts: once the host has
    launched it, the stream has finished the work queued before it and its engine is free."""
    start = HOST.now if HOST.now > stream.ready else stream.ready
    if engine is not None:
        free = tl.engines[engine]
        if free > start:
            start = free
        tl.engines[engine] = start + each
    stream.ready = start + each
    HOST.now += costmodel.HOST_LAUNCH_US
    return start


def _launch(index: int, name: str, cost_us: float, *, sync: bool, engine, detail=None, count: int = 1) -> None:
    """Queue ``count`` kernels taking ``cost_us`` in total on ``npu:index``'s current stream."""
    tl = device(index)
    stream = tl.stream(tl.current, index)
    each = cost_us / count
    for _ in range(count):
        start = _queue(tl, stream, engine, each)
        for profiler in PROFILERS:
            profiler.add_kernel(name, index, stream.stream_id, start, start + each, detail)
    tl.kernels += count
    if engine is not None:  # a CPU fallback keeps the stream waiting, but the NPU's engines idle
        tl.busy_us += cost_us
    if sync:
        HOST.now = max(HOST.now, stream.ready)


def kernel(index: int, duration: float) -> None:
    """One compute kernel of ``duration`` us on ``npu:index``'s current stream, with no profiler
    listening: what almost every operator of a training step is (:func:`record` is the general case)."""
    tl = _DEVICES.get(index) or device(index)
    _queue(tl, tl.streams.get(tl.current) or tl.stream(tl.current, index), COMPUTE, duration)
    tl.kernels += 1
    tl.busy_us += duration


def kernels(index: int, name: str, duration: float, count: int) -> None:
    """``count`` compute kernels taking ``duration`` us in all (a ``_foreach_*`` call)."""
    _launch(index, name, duration + (count - 1) * costmodel.DEVICE_LAUNCH_US, sync=False, engine=COMPUTE,
            count=count)


def record(info, index: int, args, out, *, to_host: bool = False, from_host: bool = False,
           blocking: bool = True) -> None:
    """Charge one operator to ``npu:index``'s current stream."""
    if to_host or from_host:
        duration = costmodel.host_copy_us(costmodel._nbytes(out if to_host else args))
        engine, flops, moved, count = (D2H if to_host else H2D), 0.0, duration, 1
        sync = to_host or blocking
    else:
        launches = info.launches
        if launches == costmodel.NO_KERNEL:
            record_metadata()
            return
        if info.supported:
            flops, moved, duration = costmodel.estimate(info.name, args, out, rates())
            if launches == costmodel.ONE_KERNEL and not PROFILERS:
                kernel(index, duration)
                return
            engine, sync = COMPUTE, False
            count = costmodel.kernels(info.name, args, CONFIG.soc) if launches == costmodel.SOME_KERNELS else 1
            if count > 1:
                duration += (count - 1) * costmodel.DEVICE_LAUNCH_US
        else:
            # fallback: a synchronous round trip through the host
            duration = costmodel.fallback_us(info.name, args, out)
            flops, moved, engine, sync, count = costmodel.flops(info.name, args, out), 0.0, None, True, 1
    detail = None
    if PROFILERS:
        if to_host or from_host:
            moved = costmodel._nbytes(out if to_host else args)
        kind = engine if engine is not None else FALLBACK
        detail = {"op": info.overload, "shapes": _shapes(args), "dtype": _dtype(args, out),
                  "flops": flops / count, "bytes": moved / count, "cpu_fallback": not info.supported, "kind": kind}
    _launch(index, info.overload, duration, sync=sync, engine=engine, detail=detail, count=count)


def record_metadata() -> None:
    """A view or a bare allocation: host-side bookkeeping only, no kernel."""
    HOST.now += costmodel.HOST_METADATA_US


def record_copy(src: int, dst: int, nbytes: int) -> None:
    """A device-to-device copy (``x.to("npu:1")``): the destination's stream waits for it."""
    duration = costmodel.host_copy_us(nbytes)
    detail = {"op": "npu_to_npu_copy", "bytes": nbytes, "kind": "d2d"} if PROFILERS else None
    _launch(src, f"npu_to_npu_copy (npu:{src} -> npu:{dst})", duration, sync=False, engine=D2H, detail=detail)
    current_stream(dst).ready = max(current_stream(dst).ready, current_stream(src).ready)


def mark(message: str, index: int, start: float, end: float) -> None:
    """A user marker or range (torch.npu.mstx) on the host timeline, for active profilers."""
    for profiler in PROFILERS:
        profiler.add_kernel(f"mstx: {message}", index, -1, start, max(end, start + 0.001), {"kind": "marker"})


def synchronize(index: int | None = None) -> None:
    """Block the host until the device (or all devices) have finished their queued work."""
    indices = [index] if index is not None else list(_DEVICES)
    for i in indices:
        for stream in device(i).streams.values():
            HOST.now = max(HOST.now, stream.ready)


def host_time_us() -> float:
    return HOST.now


def reset() -> None:
    HOST.now = 0.0
    _DEVICES.clear()


def _shapes(args) -> list:
    out = []
    for a in args:
        if hasattr(a, "shape"):
            out.append(list(a.shape))
        elif isinstance(a, (list, tuple)) and a and hasattr(a[0], "shape"):
            out.append([list(x.shape) for x in a if hasattr(x, "shape")])
    return out


def _dtype(args, out) -> str:
    t = costmodel._first_tensor(out) if costmodel._first_tensor(out) is not None else costmodel._first_tensor(args)
    return str(t.dtype).replace("torch.", "") if t is not None else ""
