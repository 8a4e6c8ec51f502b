"""Visible tests and hints of ``exercises/level0_inference/ex02_port_cuda_inference.ipynb``.

Questions: ``port_predict`` (``load_model()`` and ``predict(model, images, batch_size)`` run DigitNet
on the NPU and match the CPU), ``port_timing`` (the time ``predict`` returns is NPU time, not launch
time) and ``port_no_cuda`` (nothing CUDA is left, and the port stays on the NPU even where a GPU
exists).

Timing is graded in *simulated* time only, never with the wall clock: on the simulator a host timer
measures how long the CPU takes to simulate the NPU. :func:`simulated_host_clock` makes
``time.perf_counter()`` (and ``time.time``/``time.monotonic``) read the simulator's host clock, which
advances by the launch cost of each operator and jumps to the device's finishing time on every
synchronisation - what a host timer shows on a real NPU. So a learner may time with
``torch.npu.Event`` pairs or with ``torch.npu.synchronize()`` around ``time.perf_counter()``; both are
compared with a reference measured by events on the same work. The timing tests run on an Ascend310
(:func:`on_soc`), an inference chip slow enough that DigitNet's convolutions, not the launches, take
the time, so a missing synchronize shows.
"""

from __future__ import annotations

import contextlib
import inspect
import linecache
import time
from collections.abc import Iterator

import numpy as np
import torch

from ascend_compat.grading import simulated_stage
from ascend_compat.grading.instant import Exercise
from ascend_compat.grading.simulated_stage import simulated_host_clock

EXERCISE = Exercise("ex02_port_cuda_inference")

TIMING_SOC = "Ascend310"   # Atlas 200 DK / Atlas 300I (model 3000): fp32 0.5 TFLOPS in the SoC table
RTOL = ATOL = 2e-3         # float32 on the NPU vs the CPU (room for the real NPU's HF32 convolutions)
SETUP_IMPORTS = "import time\nimport numpy as np\nimport torch\n"  # what the notebook's set-up cell imports
TIME_TOLERANCE = 0.05      # a right measurement is within 5 % of the reference (they differ by a few launches)


# ---------------------------------------------------------------------------- data and references
_IMAGES: list = []


def test_images() -> np.ndarray:
    """The digits test split as uint8 (N, 32, 32, 3) images (loaded once)."""
    if not _IMAGES:
        from ascend_compat import zoo

        _IMAGES.append(zoo.digit_images("test")[0])
    return _IMAGES[0]


def cpu_reference(images: np.ndarray) -> torch.Tensor:
    """DigitNet's logits for ``images`` computed on the CPU: what the port must reproduce."""
    from ascend_compat import zoo

    with torch.no_grad():
        return zoo.load_digitnet()(torch.from_numpy(zoo.preprocess(images)))


def reference_device_ms(model, images: np.ndarray, batch_size: int, inference_mode: bool = False) -> float:
    """NPU time of the CUDA snippet's loop, measured with events (the reference for the timing tests).

    ``inference_mode``: run it under ``torch.inference_mode()`` instead of ``torch.no_grad()``. The
    simulator charges an operator by the name it reaches the device with, and under inference mode
    ``conv2d``/``linear`` arrive undecomposed and are charged differently; so the reference runs in
    the mode the learner's code used (on hardware both modes launch the same kernels).
    """
    from ascend_compat import zoo

    device = next(model.parameters()).device
    x = torch.from_numpy(zoo.preprocess(images))
    start, end = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
    with torch.inference_mode() if inference_mode else torch.no_grad():
        start.record()
        for i in range(0, len(x), batch_size):
            model(x[i:i + batch_size].to(device))
        end.record()
    end.synchronize()
    return start.elapsed_time(end)


def queue_device_work(model, images: np.ndarray) -> None:
    """Leave work running on the NPU (no synchronize): a timer started now, without waiting, counts it."""
    from ascend_compat import zoo

    device = next(model.parameters()).device
    with torch.no_grad():
        model(torch.from_numpy(zoo.preprocess(images)).to(device))


# ---------------------------------------------------------------------------- simulated time
def on_soc(name: str = TIMING_SOC):
    """The simulated NPU plays SoC ``name`` (default: the exercise's Ascend 310) within the block."""
    return simulated_stage.on_soc(name)


def assert_measures_device_time(predict, model, images, batch_size, before=None, what="") -> None:
    """``predict`` returns the NPU time of its loop (within TIME_TOLERANCE of the event reference).

    ``before()``, if given, runs just before ``predict`` (e.g. :func:`queue_device_work`). Returns
    nothing: a number as a test cell's last value would be nbgrader's partial credit.
    """
    with on_soc():
        torch.npu.synchronize()
        if before is not None:
            before()
        with watch_forward(model) as calls, simulated_host_clock():
            result = predict(model, images, batch_size=batch_size)
        torch.npu.synchronize()
        inference = any(call[2] for call in calls)
        expected = reference_device_ms(model, images, batch_size, inference_mode=inference)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"predict should return (logits, elapsed_ms); it returned {type(result).__name__}")
    elapsed = result[1]
    assert isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool), (
        f"elapsed_ms should be a number of milliseconds (a float), not {type(elapsed).__name__}")
    where = f"{what}: " if what else ""
    ratio = elapsed / expected
    assert abs(ratio - 1) <= TIME_TOLERANCE, (
        f"{where}predict reported {elapsed:.4g} ms, but the NPU spent {expected:.3f} ms on that loop "
        f"({ratio:.3g} times the real figure). "
        + ("Far too little: the clock stopped before the NPU had finished (work is queued asynchronously), "
           "or the unit is not milliseconds." if ratio < 1 else
           "Too much: the measurement includes NPU work queued before the loop started."))


# ---------------------------------------------------------------------------- watching the port run
@contextlib.contextmanager
def watch_forward(model) -> Iterator[list]:
    """Record, for every call of ``model``: the input's device type, whether autograd was on, and
    whether inference mode was."""
    calls: list = []

    def record(module, args):
        tensor = next((a for a in args if isinstance(a, torch.Tensor)), None)
        calls.append((tensor.device.type if tensor is not None else None, torch.is_grad_enabled(),
                      torch.is_inference_mode_enabled()))

    handle = model.register_forward_pre_hook(record)
    try:
        yield calls
    finally:
        handle.remove()


def check_logits(logits, images: np.ndarray, what: str) -> None:
    """``logits`` are DigitNet's CPU logits for ``images``: a float32 CPU tensor without autograd history."""
    assert isinstance(logits, torch.Tensor), f"{what}: logits should be a torch.Tensor, not {type(logits).__name__}"
    assert logits.device.type == "cpu", (
        f"{what}: logits are on {logits.device}; return them on the CPU, as the CUDA snippet does")
    assert logits.dtype == torch.float32, f"{what}: logits are {logits.dtype}; keep float32 (DigitNet's dtype)"
    assert tuple(logits.shape) == (len(images), 10), (
        f"{what}: logits have shape {tuple(logits.shape)}, expected ({len(images)}, 10): one row per image")
    assert not logits.requires_grad, (
        f"{what}: the logits carry autograd history; inference runs without it (the snippet's torch.no_grad())")
    expected = cpu_reference(images)
    worst = (logits - expected).abs().max().item()
    assert torch.allclose(logits, expected, rtol=RTOL, atol=ATOL), (
        f"{what}: logits differ from DigitNet's on the CPU by up to {worst:.3g} (tolerance {ATOL} + {RTOL} x |value|)")


def runs_on_the_npu_beside_a_gpu(load_model, predict, images: np.ndarray) -> None:
    """On a server with an NPU *and* a CUDA GPU (pretended), the port still loads and runs on the NPU."""
    from ascend_compat.grading.testing import pretend_machine

    what = "on a server with both an NPU and a CUDA GPU"
    with pretend_machine(npu=True, cuda=True):
        try:
            model = load_model()
            with watch_forward(model) as calls:
                logits, _ = predict(model, images, batch_size=8)
        except NotImplementedError:
            raise
        except Exception as exc:  # e.g. .to("cuda") reaching for the GPU: this grader has none
            raise AssertionError(f"{what}, your port raised {type(exc).__name__} ({str(exc)[:120]}): "
                                 "it still reaches for CUDA") from None
    devices = sorted({p.device.type for p in model.parameters()})
    assert devices == ["npu"], f"{what}, load_model() put the model on {devices}"
    check_ran_on_npu(calls, what)
    check_logits(logits, images, what)


def check_ran_on_npu(calls: list, what: str) -> None:
    assert calls, f"{what}: predict never called the model"
    devices = sorted({call[0] for call in calls if call[0] != "npu"}, key=str)
    assert not devices, f"{what}: the model was called with input on {devices}, not on the NPU"
    assert not any(call[1] for call in calls), (
        f"{what}: the model ran with autograd on; run inference under torch.no_grad() or torch.inference_mode()")


# ---------------------------------------------------------------------------- reading the port's source
def source_cells(*functions) -> list[str]:
    """The full texts of the notebook cells (or files) that define ``functions``, each once.

    In Jupyter each cell is a file in ``linecache``; reading the whole cell, not only the function,
    also finds module-level lines such as ``torch.backends.cudnn.benchmark = True``.
    """
    texts = []
    for function in functions:
        try:
            filename = inspect.getsourcefile(function)
        except TypeError:
            raise AssertionError(f"{function!r} is not a Python function") from None
        lines = linecache.getlines(filename) if filename else []
        if not lines:
            try:
                lines = inspect.getsourcelines(function)[0]
            except (OSError, TypeError):
                raise AssertionError(f"the source of {function.__name__} cannot be read; define it in a notebook "
                                     "cell (or a .py file)") from None
        text = "".join(lines)
        if text not in texts:
            texts.append(text)
    return texts


def cuda_findings(*functions, notes: bool = True) -> list[str]:
    """What the course's migration analyzer still finds in the cells defining ``functions``, one line each.

    ``notes=False`` leaves out the findings of severity ``info`` (advice, not CUDA left).
    """
    from ascend_compat.migrate import RULES, analyze_source

    found = []
    for text in source_cells(*functions):
        lines = text.splitlines()
        # The analyzer resolves names through the imports; the notebook imported these in its set-up cell.
        for finding in analyze_source(SETUP_IMPORTS + text):
            if finding.severity == "info" and not notes:
                continue
            number = finding.line - SETUP_IMPORTS.count("\n")
            line = lines[number - 1].strip() if 0 < number <= len(lines) else ""
            # The rule's title says what is wrong; its suggested fix is left for the learner to find.
            found.append(f"{finding.rule} {RULES[finding.rule].title}: `{line}`")
    return found


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("port_predict")
def load_model_puts_digitnet_on_the_npu(load_model):
    """load_model() returns the trained DigitNet on the NPU, in eval mode"""
    from ascend_compat import zoo

    model = load_model()
    assert isinstance(model, torch.nn.Module), f"load_model() returned {type(model).__name__}, not a torch.nn.Module"
    devices = {p.device.type for p in model.parameters()}
    assert devices == {"npu"}, f"the model's parameters are on {sorted(devices)}; move the model to the NPU"
    assert not model.training, "the model is in training mode; inference needs model.eval()"
    trained = zoo.load_digitnet().state_dict()
    mine = model.state_dict()
    assert mine.keys() == trained.keys() and all(torch.equal(mine[k].cpu(), trained[k]) for k in trained), (
        "the model's weights are not DigitNet's trained weights (zoo.load_digitnet())")


@EXERCISE.test("port_predict")
def predict_matches_the_cpu(load_model, predict):
    """predict(model, images) returns the CPU's logits, computed on the NPU without autograd"""
    images = test_images()[:48]
    model = load_model()
    with watch_forward(model) as calls:
        result = predict(model, images)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"predict should return (logits, elapsed_ms), as the CUDA snippet does; it returned {type(result).__name__}")
    check_ran_on_npu(calls, "predict(model, 48 images)")
    check_logits(result[0], images, "predict(model, 48 images)")


@EXERCISE.test("port_timing")
def elapsed_ms_is_npu_time(load_model, predict):
    """elapsed_ms is the NPU time of the forward passes, in milliseconds"""
    model = load_model()
    assert_measures_device_time(predict, model, test_images()[:256], batch_size=256,
                                what="256 images in one batch")


@EXERCISE.test("port_no_cuda")
def no_cuda_left(load_model, predict):
    """the port works and the migration analyzer finds no CUDA left in it"""
    images = test_images()[:8]
    logits, _ = predict(load_model(), images)
    check_logits(logits, images, "predict(model, 8 images)")
    left = cuda_findings(load_model, predict)
    assert not left, ("the migration analyzer (ascend_compat.migrate) still finds CUDA in your answer cell:\n"
                      + "\n".join(left))


EXERCISE.hint(
    "port_predict",
    "Keep the structure of the snippet; change only what names the GPU. Every .cuda() becomes a move to "
    "the NPU: .npu() (torch_npu's method) or, device-agnostic, .to('npu').",
    "predict must return a pair: the logits as a float32 tensor on the CPU, and the time in milliseconds. "
    "Keep torch.no_grad() around the forward passes.",
    "Inputs go to the device the model is on: next(model.parameters()).device tells you which.",
)
EXERCISE.hint(
    "port_timing",
    "NPU work is asynchronous: when model(batch) returns, the NPU may still be computing. A timer stopped "
    "then measures only the launches.",
    "torch.npu has the synchronize() and Event(enable_timing=True) that torch.cuda has. Either wait with "
    "torch.npu.synchronize() before starting and before stopping time.perf_counter(), or record two events "
    "around the loop and wait for the end event before asking start.elapsed_time(end).",
    "On the simulator, a host timer reads simulated time only inside the tests (or inside "
    "simulated_host_clock()); events always report simulated NPU time. elapsed_time() is already in "
    "milliseconds; perf_counter() is in seconds.",
)
EXERCISE.hint(
    "port_no_cuda",
    "check('port_no_cuda') prints each line the analyzer still flags, with its rule id.",
    "torch.backends.cudnn flags configure NVIDIA's cuDNN library: on the NPU they do nothing, so a port "
    "removes them rather than renaming them.",
    "Do not choose CUDA 'if it is available': on a server with both an NPU and a GPU the port must still "
    "run on the NPU.",
)
