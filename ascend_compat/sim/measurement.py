"""Measure a block of NPU work: time, kernel launches, peak memory — in one ``with`` statement.

::

    from ascend_compat.sim import measure

    train_step()                      # warm up once (optimizer state, caches)
    with measure() as m:
        train_step()
    print(m)                          # elapsed 1.234 ms | 57 kernels | peak 12.5 MiB | ...
    m.elapsed_ms, m.kernels, m.peak_memory_bytes

On the simulated NPU every figure comes from the simulator's clocks and allocator, so the same code
gives the same numbers on every run and every machine — that is what lets an exercise grade "make
this step 2x faster" or "fit under 200 MiB". On a real Ascend machine the same call measures the
real device (``torch.npu.synchronize()`` around a host timer, ``torch.npu.max_memory_allocated()``);
real timings vary a little from run to run, and kernel counts need the profiler there, so
``kernels`` is ``None``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field


@dataclass
class Measurement:
    """What happened inside one ``with measure():`` block.

    * ``elapsed_ms`` — time from entering to leaving the block, both ends synchronised with the
      device(s): what a correctly used timer (``synchronize()`` + ``perf_counter``) reports.
    * ``device_busy_ms`` — per device index, how long that device's engines were busy (kernels
      and copies); less than ``elapsed_ms`` when the device waited for the host.
    * ``kernels`` — device kernels launched (all devices); ``kernels_per_device`` per index.
    * ``peak_memory_bytes`` — the highest ``torch.npu.memory_allocated()`` reached inside the block
      on any device (``peak_memory_per_device`` per index). Entering the block resets the peak
      statistics (``torch.npu.reset_peak_memory_stats``). ``peak_increase_bytes``: how far above
      what was already allocated when the block started the peak went (the block's own working set).
    * ``cpu_fallbacks`` — operator calls that fell back to the CPU.
    * ``simulated`` — True on the simulated NPU (figures identical run to run).
    """

    elapsed_ms: float = 0.0
    device_busy_ms: dict = field(default_factory=dict)
    kernels: int | None = 0
    kernels_per_device: dict = field(default_factory=dict)
    peak_memory_bytes: int = 0
    peak_memory_per_device: dict = field(default_factory=dict)
    peak_increase_bytes: int = 0
    cpu_fallbacks: int | None = 0
    simulated: bool = True

    def __str__(self) -> str:
        kernels = "? kernels" if self.kernels is None else f"{self.kernels} kernels"
        busy = ", ".join(f"npu:{d} busy {ms:.3f} ms" for d, ms in sorted(self.device_busy_ms.items())
                         if self.kernels_per_device.get(d))
        return (f"elapsed {self.elapsed_ms:.3f} ms | {kernels} | peak {self.peak_memory_bytes / 2**20:.1f} MiB"
                + (f" | {busy}" if busy else "") + ("" if self.simulated else " (real device)"))


def _simulated() -> bool:
    from ascend_compat.sim import registration

    return registration.installed()


@contextlib.contextmanager
def measure(devices=None):
    """Measure the NPU work of the ``with`` block; yields a :class:`Measurement` filled in on exit.

    ``devices``: the device indices to watch (default: every NPU). The block is synchronised at
    both ends, so work queued before it is not counted and work queued inside it is.
    """
    import torch

    result = Measurement(simulated=_simulated())
    indices = list(range(torch.npu.device_count())) if devices is None else [int(d) for d in devices]
    if not result.simulated:  # a real NPU: synchronised host timer and the allocator's peak
        for i in indices:  # torch.npu.synchronize() waits for one device only
            torch.npu.synchronize(i)
        before = {i: torch.npu.memory_allocated(i) for i in indices}
        for i in indices:
            torch.npu.reset_peak_memory_stats(i)
        start = time.perf_counter()
        yield result
        for i in indices:
            torch.npu.synchronize(i)
        result.elapsed_ms = (time.perf_counter() - start) * 1000
        result.kernels = result.cpu_fallbacks = None
        result.peak_memory_per_device = {i: torch.npu.max_memory_allocated(i) for i in indices}
        result.peak_memory_bytes = max(result.peak_memory_per_device.values(), default=0)
        result.peak_increase_bytes = max((result.peak_memory_per_device[i] - before[i] for i in indices), default=0)
        return

    from ascend_compat.sim import memory, op_policy, timeline

    timeline.synchronize()
    start = timeline.HOST.now
    kernels = {i: timeline.device(i).kernels for i in indices}
    busy = {i: timeline.device(i).busy_us for i in indices}
    fallbacks = sum(op_policy._FALLBACK_COUNTS.values())
    before = {i: memory.device(i).allocated for i in indices}
    for i in indices:
        memory.reset_peak(i)
    yield result
    timeline.synchronize()
    result.elapsed_ms = (timeline.HOST.now - start) / 1000
    result.kernels_per_device = {i: timeline.device(i).kernels - kernels[i] for i in indices}
    result.kernels = sum(result.kernels_per_device.values())
    result.device_busy_ms = {i: (timeline.device(i).busy_us - busy[i]) / 1000 for i in indices}
    result.peak_memory_per_device = {i: memory.device(i).peak_allocated for i in indices}
    result.peak_memory_bytes = max(result.peak_memory_per_device.values(), default=0)
    result.peak_increase_bytes = max((result.peak_memory_per_device[i] - before[i] for i in indices), default=0)
    result.cpu_fallbacks = sum(op_policy._FALLBACK_COUNTS.values()) - fallbacks
