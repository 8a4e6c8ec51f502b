"""A profiler for the simulated NPU, shaped like ``torch_npu.profiler``.

Inside ``with profile(...) as prof:`` every kernel the simulated device runs is recorded with its
operator, input shapes, dtype, simulated start/duration, FLOPs, bytes moved and whether it fell
back to the CPU. ``prof.key_averages().table()`` prints the per-operator summary and
``prof.export_chrome_trace(path)`` writes a Chrome trace (open it at ui.perfetto.dev): one process
per device, one track per stream, and with ``profile_memory=True`` a counter track of allocated
memory. :func:`plot_timeline` draws the same trace as a matplotlib picture. All times are simulated
device microseconds, identical from run to run.

Each recorded event is one device *kernel*: an operator that launches several (``_foreach_*`` in
chunks, ``_fused_adamw_`` per parameter) appears once per kernel, and views (``view``, ``t``,
``detach``), which launch nothing, do not appear (see :mod:`ascend_compat.sim.costmodel`).

On real hardware use ``torch_npu.profiler.profile`` (same arguments; names from Ascend/pytorch
``torch_npu/profiler/__init__.py`` and ``experimental_config.py``). It writes its results to files
(``*_ascend_pt/ASCEND_PROFILER_OUTPUT``: ``trace_view.json``, ``kernel_details.csv``,
``op_statistic.csv``), read with MindStudio Insight, TensorBoard or Perfetto; it has no
``key_averages()``. That method and ``kernel_count()`` are the simulator's conveniences.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

import torch

from ascend_compat.atomic import write_text
from ascend_compat.sim import timeline


__all__ = ["profile", "ProfilerActivity", "supported_activities", "tensorboard_trace_handler", "schedule",
           "ProfilerAction", "_ExperimentalConfig", "supported_profiler_level", "supported_ai_core_metrics",
           "supported_export_type", "ProfilerLevel", "AiCMetrics", "ExportType"]


class ProfilerActivity(Enum):
    CPU = "CPU"
    NPU = "NPU"


def supported_activities() -> set:
    return {ProfilerActivity.CPU, ProfilerActivity.NPU}


schedule = torch.profiler.schedule          # the same step-based schedule torch_npu exports
ProfilerAction = torch.profiler.ProfilerAction
_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class ProfilerLevel:
    """How much the real profiler collects (Level0: operators and kernels; Level1/2: more counters)."""

    Level0 = "Level0"
    Level1 = "Level1"
    Level2 = "Level2"
    Level_none = "Level_none"


class AiCMetrics:
    """AI Core hardware counters the real profiler can sample (not simulated)."""

    PipeUtilization = "ACL_AICORE_PIPE_UTILIZATION"
    ArithmeticUtilization = "ACL_AICORE_ARITHMETIC_UTILIZATION"
    Memory = "ACL_AICORE_MEMORY_BANDWIDTH"
    MemoryL0 = "ACL_AICORE_L0B_AND_WIDTH"
    MemoryUB = "ACL_AICORE_MEMORY_UB"
    ResourceConflictRatio = "ACL_AICORE_RESOURCE_CONFLICT_RATIO"
    L2Cache = "ACL_AICORE_L2_CACHE"
    MemoryAccess = "ACL_AICORE_MEMORY_ACCESS"
    AiCoreNone = "ACL_AICORE_NONE"


class ExportType:
    Db = "db"
    Text = "text"


def supported_profiler_level() -> set:
    return {ProfilerLevel.Level0, ProfilerLevel.Level1, ProfilerLevel.Level2, ProfilerLevel.Level_none}


def supported_ai_core_metrics() -> set:
    return {v for k, v in vars(AiCMetrics).items() if not k.startswith("_")}


def supported_export_type() -> set:
    return {ExportType.Db, ExportType.Text}


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
    kind: str = "compute"   # compute | h2d | d2h | d2d | cpu_fallback | marker

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
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.experimental_config = experimental_config
        self.events: list[KernelEvent] = []
        self.memory_samples: list[tuple[float, int, int]] = []  # (host time us, device, allocated bytes)
        self.step_num = 0
        self._action = ProfilerAction.RECORD if schedule is None else schedule(0)

    def add_kernel(self, name, device, stream, start, end, detail) -> None:
        if self._action not in _RECORDING:
            return
        detail = detail or {}
        self.events.append(KernelEvent(name, device, stream, start, end, detail.get("shapes", []) if self.record_shapes else [],
                                       detail.get("dtype", ""), detail.get("flops", 0.0), detail.get("bytes", 0.0),
                                       detail.get("cpu_fallback", False), detail.get("kind", "compute")))
        if self.profile_memory:
            from ascend_compat.sim import memory

            self.memory_samples.append((timeline.HOST.now, device, memory.device(device).allocated))

    def start(self) -> None:
        timeline.PROFILERS.append(self)

    def stop(self) -> None:
        if self in timeline.PROFILERS:
            timeline.PROFILERS.remove(self)
        if self.on_trace_ready is not None and self._action in _RECORDING:
            self.on_trace_ready(self)
        self._action = ProfilerAction.NONE

    def step(self) -> None:
        """Mark the end of a training step: with a ``schedule``, move to its next phase.

        Kernels are kept only in the schedule's active steps; when an active phase ends
        (``RECORD_AND_SAVE``) ``on_trace_ready`` is called, and a new cycle starts afresh.
        """
        if self.schedule is None:
            return
        previous = self._action
        self.step_num += 1
        self._action = self.schedule(self.step_num)
        if previous == ProfilerAction.RECORD_AND_SAVE and self.on_trace_ready is not None:
            self.on_trace_ready(self)
        if self._action in _RECORDING and (previous not in _RECORDING or previous == ProfilerAction.RECORD_AND_SAVE):
            self.events, self.memory_samples = [], []  # a new active phase starts with an empty record

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def kernel_count(self, device: int | None = None) -> int:
        """Kernels launched while profiling (on ``device``, or on all devices); markers excluded."""
        return sum(1 for e in self.events if e.kind != "marker" and (device is None or e.device == device))

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
        devices = sorted({e.device for e in self.events} | {d for _, d, _ in self.memory_samples})
        events = [{"name": "process_name", "ph": "M", "pid": d, "args": {"name": f"NPU {d} (simulated)"}} for d in devices]
        for device, stream in sorted({(e.device, e.stream) for e in self.events}):
            label = "host markers (mstx)" if stream < 0 else "stream 0 (default)" if stream == 0 else f"stream {stream}"
            events.append({"name": "thread_name", "ph": "M", "pid": device, "tid": stream, "args": {"name": label}})
        for e in self.events:
            events.append({"name": e.name, "ph": "X", "cat": e.kind, "pid": e.device, "tid": e.stream,
                           "ts": round(e.start_us, 3), "dur": round(e.duration_us, 3),
                           "args": {"shapes": e.shapes, "dtype": e.dtype, "flops": e.flops, "bytes": e.bytes}})
        for time_us, device, allocated in self.memory_samples:
            events.append({"name": "allocated memory (MiB)", "ph": "C", "pid": device, "ts": round(time_us, 3),
                           "args": {"allocated": round(allocated / 2**20, 3)}})
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
    """torch_npu's extra profiler settings (signature of ``experimental_config.py``); recorded, and
    apart from checking the values, not simulated: the simulator has no hardware counters."""

    def __init__(self, profiler_level: str = ProfilerLevel.Level0, aic_metrics: str = AiCMetrics.PipeUtilization,
                 l2_cache: bool = False, msprof_tx: bool = False, mstx: bool = False, data_simplification: bool = True,
                 record_op_args: bool = False, op_attr: bool = False, gc_detect_threshold=None,
                 export_type=ExportType.Text, host_sys=None, mstx_domain_include=None, mstx_domain_exclude=None,
                 sys_io: bool = False, sys_interconnection: bool = False):
        if profiler_level not in supported_profiler_level():
            raise ValueError(f"profiler_level={profiler_level!r} is not one of {sorted(supported_profiler_level())}")
        if aic_metrics not in supported_ai_core_metrics():
            raise ValueError(f"aic_metrics={aic_metrics!r} is not one of {sorted(supported_ai_core_metrics())}")
        self.options = {k: v for k, v in locals().items() if k not in ("self",)}


# -- a picture of the timeline ------------------------------------------------------------------
KIND_COLOURS = {"compute": "tab:blue", "h2d": "tab:green", "d2h": "tab:purple", "d2d": "tab:orange",
                "cpu_fallback": "tab:red", "marker": "tab:gray"}


def plot_timeline(trace, ax=None, title: str | None = None, start_us: float | None = None, end_us: float | None = None):
    """Draw a Chrome trace as a Gantt chart: one row per (device, stream), time in milliseconds.

    ``trace`` is a :class:`profile` or a Chrome-trace dict (``{"traceEvents": [...]}`` — the format
    ``export_chrome_trace`` writes, and the one torch_npu's ``trace_view.json`` uses), so the same
    call works on a trace from real hardware. Colours: compute (blue), host-to-device copies
    (green), device-to-host copies (purple), copies between NPUs (orange), CPU fallbacks (red).
    Returns the axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    data = trace.chrome_trace() if isinstance(trace, profile) else trace
    names = {}
    for e in data["traceEvents"]:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"]
    spans = [e for e in data["traceEvents"] if e.get("ph") == "X"
             and (start_us is None or e["ts"] + e["dur"] >= start_us) and (end_us is None or e["ts"] <= end_us)]
    rows = sorted({(e["pid"], e["tid"]) for e in spans}, key=lambda r: (r[0], r[1] < 0, r[1]))
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 0.6 + 0.45 * max(1, len(rows))))
    origin = start_us if start_us is not None else min((e["ts"] for e in spans), default=0.0)
    for y, row in enumerate(rows):
        for e in (e for e in spans if (e["pid"], e["tid"]) == row):
            colour = KIND_COLOURS.get(e.get("cat"), "tab:blue")
            ax.barh(y, max(e["dur"], 0.5) / 1000, left=(e["ts"] - origin) / 1000, height=0.6, color=colour,
                    edgecolor="white", linewidth=0.3)
    if end_us is not None:
        ax.set_xlim(0, (end_us - origin) / 1000)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"npu:{pid} · {names.get((pid, tid), f'stream {tid}')}" for pid, tid in rows])
    ax.invert_yaxis()
    ax.set_xlabel("simulated time (ms)" if isinstance(trace, profile) else "time (ms)")
    kinds = sorted({e.get("cat", "compute") for e in spans}, key=list(KIND_COLOURS).index if all(
        e.get("cat", "compute") in KIND_COLOURS for e in spans) else str)
    ax.legend(handles=[Patch(color=KIND_COLOURS.get(k, "tab:blue"), label=k) for k in kinds],
              loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return ax
