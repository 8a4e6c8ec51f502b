"""Visible tests and hints of ``exercises/level3_optimization/ex03_timing_bug.ipynb``.

Questions: ``benchmark_waits_for_the_device`` (``benchmark(fn, warmup, iters)`` reports the time the
NPU spends per call, not the time the host needs to queue the call) and ``benchmark_skips_warmup``
(the warm-up calls, which may be slower, are not part of the average).

What "true" means. NPU work is asynchronous: ``fn()`` returns once its kernels are queued. The
reference (:func:`true_ms`) runs the warm-up calls, waits for the device, reads the host clock, runs
the timed calls back to back, waits for the device again: the time per call of a steady stream of
calls. A benchmark written with ``torch.npu.synchronize()`` around ``time.perf_counter()``, or with
a pair of ``torch.npu.Event(enable_timing=True)``, agrees with it to a fraction of a percent.

Host timers on the simulator. ``time.perf_counter()`` in a notebook measures the CPU simulating the
NPU - meaningless as device time, and different on every run. The tests run the learner's benchmark
inside :func:`simulated_host_clock`, where ``time.perf_counter()`` (also ``time.time``,
``time.monotonic``, their ``_ns`` forms and ``timeit.default_timer``) reads the simulator's host clock:
it advances by the launch cost of every operator and jumps to the device's finishing time on every
synchronisation, which is what a host timer shows on a real NPU (:mod:`ascend_compat.sim.timeline`).
``torch.npu.Event`` pairs report simulated device time anyway (:mod:`ascend_compat.sim.streams`).
``time.process_time()`` and ``time.thread_time()`` measure CPU time, not elapsed time: inside the
tests they read the simulated host's CPU time (its launch work; waiting costs none), and a failed
test that used them says that the clock is the mistake (:func:`cpu_timers_watched`).
Everything is deterministic, so the tolerance only has to cover the few microseconds by which the
two correct methods differ.

The workloads run on an **Atlas 300I Pro** (Ascend 310P3): an inference card slow enough that a
small model keeps it busy longer than the host needs to queue the work - the situation in which the
missing synchronisation shows.
"""

from __future__ import annotations

import contextlib
import math
import timeit
from collections.abc import Iterator
from unittest import mock

import torch
from torch import nn

from ascend_compat.grading.checks._optimization import on_soc, simulated, warnings_on_stdout
from ascend_compat.grading.checks._optimization import simulated_host_clock as _time_module_clock
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex03_timing_bug")

SOC = "Ascend310P3"
TOLERANCE = 0.03    # relative; the two correct methods differ by microseconds over milliseconds


# ---------------------------------------------------------------------------- clocks
CPU_TIMERS = ("process_time", "thread_time")  # time.* functions that measure CPU time, not elapsed time


def _host_cpu_seconds() -> float:
    """The simulated host's CPU time: only the launches keep it busy; waiting for the device does not.

    Each kernel launch costs the host ``costmodel.HOST_LAUNCH_US`` of CPU work; while the host waits
    in synchronize() (or .item(), .cpu()) it computes nothing, so its CPU time stands still.
    """
    from ascend_compat.sim import costmodel, timeline

    launched = sum(timeline.device(i).kernels for i in range(torch.npu.device_count()))
    return launched * costmodel.HOST_LAUNCH_US / 1e6


@contextlib.contextmanager
def cpu_timers_watched() -> Iterator[set]:
    """Within the block, note which CPU-time functions (``time.process_time`` ...) the code calls.

    On the simulator they read :func:`_host_cpu_seconds` (the real ones would measure the CPU
    simulating the NPU, different on every run); on a real NPU they keep their real values.
    """
    import time

    used: set = set()

    def watched(name: str):
        real = getattr(time, name)

        def timer():
            used.add(f"time.{name}()")
            if not simulated():
                return real()
            seconds = _host_cpu_seconds()
            return int(seconds * 1e9) if name.endswith("_ns") else seconds
        return timer

    with contextlib.ExitStack() as stack:
        for name in CPU_TIMERS:
            for variant in (name, f"{name}_ns"):
                stack.enter_context(mock.patch.object(time, variant, watched(variant)))
        yield used


@contextlib.contextmanager
def simulated_host_clock() -> Iterator[None]:
    """Within the block, host timers read the simulator's host clock (nothing changes on a real NPU)."""
    with _time_module_clock():
        if not simulated():
            yield
            return
        import time

        with mock.patch.object(timeit, "default_timer", time.perf_counter):
            yield


def _host_ms() -> float:
    if simulated():
        from ascend_compat.sim import timeline

        return timeline.host_time_us() / 1000
    import time

    return time.perf_counter() * 1000


# ---------------------------------------------------------------------------- workloads
def make_forward(width: int = 512, batch: int = 256, layers: int = 4, seed: int = 0):
    """Inference of an MLP on a batch already on the NPU: kernels much longer than their launches."""
    torch.manual_seed(seed)
    blocks = []
    for _ in range(layers):
        blocks += [nn.Linear(width, width), nn.ReLU()]
    model = nn.Sequential(*blocks).to("npu").eval()
    x = torch.randn(batch, width).to("npu")

    def forward():
        with torch.no_grad():
            return model(x)

    return forward


def make_many_small_ops(count: int = 40, size: int = 64):
    """Many tiny element-wise operators: the device finishes each before the host has launched the next."""
    x = torch.randn(size, size).to("npu")

    def small_ops():
        y = x
        for _ in range(count):
            y = y * 0.999 + 0.001
        return y

    return small_ops


class _TableModel(nn.Module):
    """A model that builds a large table on the NPU the first time it runs, then reuses it - as models
    with rotary-embedding or attention-mask caches do (and as every model does on hardware, where
    the first call of each operator also compiles it)."""

    def __init__(self, width: int, batch: int, build_layers: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(width, width) / width)
        self.build_layers = build_layers
        self.table = None
        self.register_buffer("x", torch.randn(batch, width))

    def forward(self):
        if self.table is None:
            table = self.weight
            for _ in range(self.build_layers):
                table = torch.tanh(table @ self.weight)
            self.table = table
        return self.x @ self.table


def make_first_calls_slow(width: int = 512, batch: int = 256, build_layers: int = 4):
    """A call that is far slower the first time (it builds a cache) than afterwards."""
    torch.manual_seed(1)
    model = _TableModel(width, batch, build_layers).to("npu")

    def predict():
        with torch.no_grad():
            return model()

    return predict


def queue_device_work(width: int = 512, count: int = 6) -> None:
    """Leave about half a millisecond of work queued on the NPU (no synchronisation)."""
    a = torch.randn(width, width).to("npu")
    for _ in range(count):
        a = torch.tanh(a @ a)


# ---------------------------------------------------------------------------- reference and comparison
def true_ms(fn, warmup: int, iters: int) -> float:
    """Device time per call of ``fn()`` over ``iters`` calls after ``warmup`` calls (ms)."""
    for _ in range(warmup):
        fn()
    torch.npu.synchronize()
    start = _host_ms()
    for _ in range(iters):
        fn()
    torch.npu.synchronize()
    return (_host_ms() - start) / iters


@warnings_on_stdout
def assert_reports_device_time(benchmark, make_workload, warmup: int, iters: int, what: str,
                               before=None, **workload) -> None:
    """``benchmark(fn, warmup=..., iters=...)`` is within TOLERANCE of :func:`true_ms` on a fresh workload."""
    with on_soc(SOC):
        torch.npu.synchronize()
        expected = true_ms(make_workload(**workload), warmup, iters)
        fn = make_workload(**workload)
        torch.npu.synchronize()
        if before is not None:
            before()
        with simulated_host_clock(), cpu_timers_watched() as cpu_timers:
            reported = benchmark(fn, warmup=warmup, iters=iters)
        torch.npu.synchronize()
    call = f"benchmark({what}, warmup={warmup}, iters={iters})"
    assert isinstance(reported, (int, float)) and not isinstance(reported, bool), (
        f"{call} returned {type(reported).__name__}; return the average milliseconds per call as a float")
    reported = float(reported)
    assert math.isfinite(reported) and reported > 0, f"{call} returned {reported}: not a duration"
    ratio = reported / expected
    if abs(ratio - 1) <= TOLERANCE:
        return
    if ratio < 1 / 100:
        why = "a thousand times too little or less: is it milliseconds?"
    elif ratio < 1:
        why = ("too little: the clock stopped before the NPU had finished the work it was given - "
               "when fn() returns, its kernels may only be queued.")
    elif ratio > 50:
        why = "far too much: is it milliseconds, and the time per call (not all calls together)?"
    else:
        why = ("too much: the measurement includes work that is not one of the timed calls - "
               "work still running from before the timer started, or the warm-up calls.")
    if cpu_timers:  # the clock itself is the mistake, wherever it is read
        why = (f"you timed with {' and '.join(sorted(cpu_timers))}, which measures the CPU time of this Python "
               "process (the host's own work, such as launching kernels), not the time the NPU spends: it "
               "stands still while the host waits for the device. Device time is elapsed (wall-clock) time.")
    raise AssertionError(f"{call} reported {reported:.4g} ms per call, but the NPU spent {expected:.4f} ms per "
                         f"call ({ratio:.3g} times the true figure): {why}")


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("benchmark_waits_for_the_device")
def times_a_forward_pass(benchmark):
    """the time per forward pass of an MLP (device-bound) is the NPU's time, in ms"""
    assert_reports_device_time(benchmark, make_forward, warmup=2, iters=5, what="forward")


@EXERCISE.test("benchmark_waits_for_the_device")
def work_queued_before_is_not_counted(benchmark):
    """work the NPU was still doing when benchmark() was called is not counted"""
    assert_reports_device_time(benchmark, make_forward, warmup=1, iters=4, what="forward (with work queued before)",
                               before=queue_device_work)


@EXERCISE.test("benchmark_skips_warmup")
def warmup_calls_are_not_averaged(benchmark):
    """a call that is slow the first time: only the timed calls after the warm-up are averaged"""
    assert_reports_device_time(benchmark, make_first_calls_slow, warmup=2, iters=5, what="predict")


EXERCISE.hint(
    "benchmark_waits_for_the_device",
    "When fn() returns, the NPU may not even have started: a Python call only queues kernels. What does a "
    "host timer measure if you read it right after the loop?",
    "torch.npu.synchronize() blocks until the device has finished everything queued. Where must the host "
    "wait: before starting the clock, before stopping it, or both?",
    "Which clock? time.process_time() counts the CPU time of your Python process, which hardly moves while "
    "the host waits for the NPU. Device time is elapsed time: read a wall clock.",
    "Alternatively let the device stamp the times: torch.npu.Event(enable_timing=True) pairs, recorded around "
    "the loop, then start.elapsed_time(end) (milliseconds). torch_npu's elapsed_time waits for the end event "
    "itself; call end.synchronize() first anyway and the same code is right on CUDA.",
)
EXERCISE.hint(
    "benchmark_skips_warmup",
    "The first calls of fn() can be much slower (caches, on hardware also operator compilation): that is what "
    "the warm-up calls are for. Which calls does your clock see, and what do you divide by?",
    "Run the warm-up, make sure it has finished on the device, then start timing exactly `iters` calls.",
)
