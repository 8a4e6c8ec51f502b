"""A profiler for the simulated NPU, shaped like ``torch_npu.profiler``.

Inside ``with profile(...) as prof:`` every kernel the simulated device runs is recorded with its
operator, input shapes, dtype, simulated start/duration, FLOPs, bytes moved and whether it fell
back to the CPU. ``prof.key_averages().table()`` prints the per-operator summary and
``prof.export_chrome_trace(path)`` writes a Chrome trace (open it at ui.perfetto.dev).
All times are simulated device microseconds, identical from run to run.

On real hardware use ``torch_npu.profiler.profile`` (same arguments) — its traces are read with
MindStudio Insight or TensorBoard.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

from ascend_compat.atomic import write_text
from ascend_compat.sim import timeline


class ProfilerActivity(Enum):
    CPU = "CPU"
    NPU = "NPU"


@dataclass
class KernelEvent:
    name: str
    device: int
    stream: int
    start_us: float
    end_us: float
    shapes: list = field(default_factory=list)
    dtype: str = ""
    flops: float = 0.0
    bytes: float = 0.0
    cpu_fallback: bool = False

    @property
    def duration_us(self) -> float:
        return self.end_us - self.start_us


@dataclass
class OpSummary:
    name: str
    calls: int = 0
    device_time_us: float = 0.0
    flops: float = 0.0
    bytes: float = 0.0
    cpu_fallback: bool = False


class OpTable(list):
    """Per-operator totals, most expensive first; ``.table()`` renders them."""

    def table(self, sort_by: str = "device_time_total", row_limit: int = 20) -> str:
        header = f"{'Operator':<42}{'Calls':>7}{'Device time (us)':>18}{'%':>7}{'GFLOP':>9}{'MB moved':>10}  CPU fallback"
        total = sum(op.device_time_us for op in self) or 1.0
        lines = [header, "-" * len(header)]
        for op in self[:row_limit]:
            lines.append(f"{op.name:<42}{op.calls:>7}{op.device_time_us:>18.1f}{100 * op.device_time_us / total:>6.1f}%"
                         f"{op.flops / 1e9:>9.3f}{op.bytes / 1e6:>10.2f}  {'yes' if op.cpu_fallback else ''}")
        lines.append("-" * len(header))
        lines.append(f"{'Total':<42}{sum(op.calls for op in self):>7}{total:>18.1f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


class profile:
    """Record what the simulated NPU runs. Arguments follow ``torch_npu.profiler.profile``."""

    def __init__(self, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None):
        self.activities = activities
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.events: list[KernelEvent] = []

    def add_kernel(self, name, device, stream, start, end, detail) -> None:
        detail = detail or {}
        self.events.append(KernelEvent(name, device, stream, start, end, detail.get("shapes", []) if self.record_shapes else [],
                                       detail.get("dtype", ""), detail.get("flops", 0.0), detail.get("bytes", 0.0),
                                       detail.get("cpu_fallback", False)))

    def start(self) -> None:
        timeline._PROFILERS.append(self)

    def stop(self) -> None:
        if self in timeline._PROFILERS:
            timeline._PROFILERS.remove(self)
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def step(self) -> None:
        """Schedules are not simulated: every step is recorded."""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def key_averages(self) -> OpTable:
        totals: dict[str, OpSummary] = defaultdict(lambda: OpSummary(""))
        for ev in self.events:
            op = totals[ev.name]
            op.name = ev.name
            op.calls += 1
            op.device_time_us += ev.duration_us
            op.flops += ev.flops
            op.bytes += ev.bytes
            op.cpu_fallback = op.cpu_fallback or ev.cpu_fallback
        return OpTable(sorted(totals.values(), key=lambda o: o.device_time_us, reverse=True))

    def total_device_time_us(self) -> float:
        if not self.events:
            return 0.0
        return max(e.end_us for e in self.events) - min(e.start_us for e in self.events)

    def chrome_trace(self) -> dict:
        events = [{"name": "process_name", "ph": "M", "pid": d, "args": {"name": f"NPU {d} (simulated)"}}
                  for d in sorted({e.device for e in self.events})]
        for e in self.events:
            events.append({"name": e.name, "ph": "X", "cat": "cpu_fallback" if e.cpu_fallback else "kernel",
                           "pid": e.device, "tid": e.stream, "ts": round(e.start_us, 3), "dur": round(e.duration_us, 3),
                           "args": {"shapes": e.shapes, "dtype": e.dtype, "flops": e.flops, "bytes": e.bytes}})
        return {"traceEvents": events, "displayTimeUnit": "ms"}

    def export_chrome_trace(self, path: str) -> None:
        write_text(path, json.dumps(self.chrome_trace()))


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, **kwargs):
    """Like torch_npu's handler: write a trace file into ``dir_name`` when profiling stops."""

    def handler(prof: profile) -> None:
        os.makedirs(dir_name, exist_ok=True)
        prof.export_chrome_trace(os.path.join(dir_name, f"{worker_name or 'worker0'}.pt.trace.json"))

    return handler


class _ExperimentalConfig:
    """Accepted for compatibility with torch_npu (profiler_level, aic_metrics, ...); not simulated."""

    def __init__(self, **kwargs):
        self.options = kwargs
