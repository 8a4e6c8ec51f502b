"""``torch.npu.Stream`` and ``torch.npu.Event`` on the simulated timeline.

The names and signatures are torch_npu's (``Stream(device=None, priority=0)``,
``Event(enable_timing=False, blocking=False, interprocess=False)``). Times are simulated device
time (see :mod:`ascend_compat.sim.timeline`), so they are identical from run to run.
"""

from __future__ import annotations

import contextlib

import torch

from ascend_compat.sim import dispatch, timeline


class Stream:
    """An NPU stream: a queue of kernels the device runs in order."""

    def __init__(self, device=None, priority: int = 0, **kwargs):
        # torch_npu makes the stream inside ``with torch.npu.device(device)``: Stream(device=-1)
        # is a stream on the current device
        self.device_index = dispatch.selected_index(device)
        self.priority = priority
        self.stream_id = kwargs.get("stream_id", timeline.new_stream_id())
        timeline.device(self.device_index).stream(self.stream_id, self.device_index)

    @property
    def device(self) -> torch.device:
        return torch.device("npu", self.device_index)

    @property
    def _state(self):
        return timeline.device(self.device_index).stream(self.stream_id, self.device_index)

    def query(self) -> bool:
        """True when all work queued on this stream has finished."""
        return timeline.HOST.now >= self._state.ready

    def synchronize(self) -> None:
        timeline.HOST.now = max(timeline.HOST.now, self._state.ready)

    def wait_event(self, event: "Event") -> None:
        if event._time is not None:
            self._state.ready = max(self._state.ready, event._time)

    def wait_stream(self, stream: "Stream") -> None:
        self._state.ready = max(self._state.ready, stream._state.ready)

    def record_event(self, event: "Event | None" = None) -> "Event":
        event = event or Event()
        event.record(self)
        return event

    def __eq__(self, other) -> bool:
        return isinstance(other, Stream) and (other.device_index, other.stream_id) == (self.device_index, self.stream_id)

    def __hash__(self) -> int:
        return hash((self.device_index, self.stream_id))

    def __repr__(self) -> str:
        return f"<torch.npu.Stream device=npu:{self.device_index} npu_stream={self.stream_id}>"


def current_stream(device=None) -> Stream:
    index = dispatch.resolve_index(device)
    return Stream(index, stream_id=timeline.device(index).current)


def default_stream(device=None) -> Stream:
    return Stream(dispatch.resolve_index(device), stream_id=0)


def set_stream(stream: Stream) -> None:
    timeline.device(stream.device_index).current = stream.stream_id


@contextlib.contextmanager
def stream(stream: Stream | None):
    """``with torch.npu.stream(s):`` — kernels launched inside go to ``s``."""
    if stream is None:
        yield
        return
    tl = timeline.device(stream.device_index)
    previous = tl.current
    tl.current = stream.stream_id
    try:
        yield
    finally:
        tl.current = previous


class Event:
    """A marker in a stream; with ``enable_timing=True`` two events measure device time."""

    def __init__(self, enable_timing: bool = False, blocking: bool = False, interprocess: bool = False):
        self.enable_timing = enable_timing
        self.blocking = blocking
        self.interprocess = interprocess
        self._time: float | None = None
        self._device: int | None = None

    def record(self, stream: Stream | None = None) -> None:
        stream = stream or current_stream()
        self._device = stream.device_index
        # The event is queued like a kernel: an idle stream reaches it when the host records it.
        self._time = max(stream._state.ready, timeline.HOST.now)

    def query(self) -> bool:
        return self._time is None or timeline.HOST.now >= self._time

    def synchronize(self) -> None:
        if self._time is not None:
            timeline.HOST.now = max(timeline.HOST.now, self._time)

    def wait(self, stream: Stream | None = None) -> None:
        (stream or current_stream()).wait_event(self)

    def elapsed_time(self, end_event: "Event") -> float:
        """Milliseconds of device time between this event and ``end_event``.

        As in torch_npu (``NPUEvent::elapsed_time``), the call first waits for both events
        (``aclrtSynchronizeEvent``): the host blocks until the device has reached ``end_event``, so
        the figure is right even without a ``synchronize()``, and the wait is a hidden
        synchronisation. CUDA differs: its ``elapsed_time`` raises until the end event has completed.
        """
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with enable_timing=True to measure elapsed time")
        if self._time is None or end_event._time is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        self.synchronize()
        end_event.synchronize()
        return (end_event._time - self._time) / 1000.0

    def __repr__(self) -> str:
        return f"<torch.npu.Event recorded={self._time is not None}>"
