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


@dataclass
class DeviceTimeline:
    streams: dict = field(default_factory=dict)
    current: int = 0   # current stream id

    def stream(self, stream_id: int, device: int) -> StreamState:
        state = self.streams.get(stream_id)
        if state is None:
            state = self.streams[stream_id] = StreamState(device, stream_id)
        return state


_DEVICES: dict[int, DeviceTimeline] = {}
_stream_ids = itertools.count(1)
_PROFILERS: list = []   # active profilers receive every kernel (see profiler.py)


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


_SPEC_CACHE: list = [None, None]  # [SoC name, spec]: looked up once per SoC, not once per operator


def _spec():
    if _SPEC_CACHE[0] != CONFIG.soc:
        from ascend_compat import soc

        _SPEC_CACHE[:] = [CONFIG.soc, soc.get(CONFIG.soc)]
    return _SPEC_CACHE[1]


def _launch(index: int, name: str, cost_us: float, *, sync: bool, detail=None) -> tuple[float, float]:
    stream = current_stream(index)
    start = max(HOST.now, stream.ready)
    end = start + cost_us
    stream.ready = end
    HOST.now += costmodel.HOST_LAUNCH_US
    if sync:
        HOST.now = max(HOST.now, end)
    for profiler in _PROFILERS:
        profiler.add_kernel(name, index, stream.stream_id, start, end, detail)
    return start, end


def record(info, index: int, args, out, *, to_host: bool = False, from_host: bool = False,
           blocking: bool = True) -> None:
    """Charge one operator to ``npu:index``'s current stream."""
    if info.supported:
        cost = costmodel.estimate(info.name, args, out, _spec())
        duration, flops, moved = cost.device_us, cost.flops, cost.bytes
    else:
        # fallback: synchronous round trip through the host
        duration = costmodel.fallback_us(info.name, args, out)
        flops, moved = costmodel.flops(info.name, args, out), 0.0
    if to_host or from_host:
        moved_bytes = costmodel._nbytes(out if to_host else args)
        duration = costmodel.host_copy_us(moved_bytes)
    detail = None
    if _PROFILERS:
        detail = {"op": info.overload, "shapes": _shapes(args), "dtype": _dtype(args, out),
                  "flops": flops, "bytes": moved, "cpu_fallback": not info.supported}
    sync = to_host or not info.supported or (from_host and blocking)
    _launch(index, info.overload, duration, sync=sync, detail=detail)


def record_copy(src: int, dst: int, nbytes: int) -> None:
    """A device-to-device copy (``x.to("npu:1")``): both devices are busy for the transfer."""
    duration = costmodel.host_copy_us(nbytes)
    _launch(src, "npu_to_npu_copy", duration, sync=False, detail=None)
    current_stream(dst).ready = max(current_stream(dst).ready, current_stream(src).ready)


def mark(message: str, index: int, start: float, end: float) -> None:
    """A user marker or range (torch.npu.mstx) on the host timeline, for active profilers."""
    for profiler in _PROFILERS:
        profiler.add_kernel(f"mstx: {message}", index, -1, start, max(end, start + 0.001), None)


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
