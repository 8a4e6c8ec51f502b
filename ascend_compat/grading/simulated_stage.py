"""Set the simulated NPU's stage for a test: which SoC it plays, and which clock ``time`` reads.

Graded figures must be the same on every learner's laptop, so the tests that time or size things
pin the simulated SoC (:func:`on_soc`) and read the simulator's *host clock* instead of the wall
clock (:func:`simulated_host_clock`): the wall clock measures how long the CPU takes to simulate
the NPU, not the NPU. On a real NPU both do nothing — real time is the right time there.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from unittest import mock

__all__ = ["simulated", "on_soc", "simulated_host_clock"]


def simulated() -> bool:
    """Is the simulated NPU the backend in use?"""
    import ascend_compat

    return ascend_compat.backend().name == "sim"


@contextlib.contextmanager
def on_soc(name: str, device_count: int | None = None) -> Iterator[None]:
    """The simulated NPU plays SoC ``name`` (and has ``device_count`` devices) within the block."""
    if not simulated():
        yield
        return
    from ascend_compat.sim import CONFIG, configure

    saved = {"soc": CONFIG.soc, "device_count": CONFIG.device_count}
    wanted = {"soc": name} if device_count is None else {"soc": name, "device_count": device_count}
    configure(**wanted)
    try:
        yield
    finally:
        configure(**saved)


@contextlib.contextmanager
def simulated_host_clock() -> Iterator[None]:
    """Within the block, ``time.perf_counter()``, ``time.time()`` and ``time.monotonic()`` (and their
    ``_ns`` forms) read the simulator's host clock."""
    if not simulated():
        yield
        return
    from ascend_compat.sim import timeline

    def seconds() -> float:
        return timeline.host_time_us() / 1e6

    def nanoseconds() -> int:
        return int(timeline.host_time_us() * 1000)

    with contextlib.ExitStack() as stack:
        for name in ("perf_counter", "time", "monotonic"):
            stack.enter_context(mock.patch.object(time, name, seconds))
            stack.enter_context(mock.patch.object(time, f"{name}_ns", nanoseconds))
        yield
