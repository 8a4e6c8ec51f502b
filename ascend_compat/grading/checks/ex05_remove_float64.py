"""Visible tests and hints of ``exercises/level2_training/ex05_remove_float64.ipynb``.

Questions: ``f64_data`` (``prepare_batch`` brings the digits to the device in float32) and
``f64_model`` (``port_model`` turns the float64 reference into a float32 model that computes the
same function on the NPU). Every tensor is watched, not only the results:
:class:`DeviceDtypeWatch` (a :class:`torch.overrides.TorchFunctionMode`) sees each tensor a torch
function returns while a call runs and records the device tensors that are not float32, and
:func:`module_io_dtypes` puts forward hooks on every submodule. Hidden tests are in the source
notebook only.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex05_remove_float64")

# float32 keeps about 7 significant digits: its log-probabilities agree with float64 to ~1e-6.
# float16 keeps about 3 (errors ~1e-3), bfloat16 about 2: both fail this tolerance.
TOLERANCE = 1e-4


@functools.lru_cache(maxsize=None)
def _images() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().images  # (1797, 8, 8) float64, pixel values 0..16


def images(count: int = 256, start: int = 0) -> np.ndarray:
    return _images()[start:start + count].copy()


def reference_inputs(batch: np.ndarray) -> torch.Tensor:
    """The reference pipeline's float64 CPU inputs: flattened pixels scaled to 0..1."""
    return torch.from_numpy(batch.reshape(len(batch), -1) / 16.0)


def npu() -> torch.device:
    return torch.device("npu")


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


class DeviceDtypeWatch(TorchFunctionMode):
    """Records every floating-point tensor a torch function returns on a device (not the host)
    whose dtype is not float32: ``[(function name, dtype, device), ...]`` in ``found``."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, torch.dtype, str]] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for tensor in _tensors(result):
            if tensor.is_floating_point() and tensor.device.type != "cpu" and tensor.dtype != torch.float32:
                self.found.append((getattr(func, "__name__", str(func)), tensor.dtype, str(tensor.device)))
        return result

    def report(self) -> str:
        seen = list(dict.fromkeys(f"{name} -> {str(dtype).replace('torch.', '')} on {device}"
                                  for name, dtype, device in self.found))
        return "; ".join(seen[:5]) + (" ..." if len(seen) > 5 else "")


# -- prepare_batch ---------------------------------------------------------------------------------
def prepared(prepare_batch, batch: np.ndarray, device) -> torch.Tensor:
    x = prepare_batch(batch, device)
    assert isinstance(x, torch.Tensor), f"prepare_batch returned {type(x).__name__}, not a tensor"
    assert x.dtype == torch.float32, f"prepare_batch returned {x.dtype}; the NPU wants float32"
    target = torch.device(device)
    assert x.device.type == target.type and (target.index is None or x.device.index == target.index), (
        f"prepare_batch(..., {device!r}) returned a tensor on {x.device}")
    assert tuple(x.shape) == (len(batch), 64), f"prepare_batch returned shape {tuple(x.shape)}, expected ({len(batch)}, 64)"
    expected = reference_inputs(batch).float()
    worst = (x.detach().cpu() - expected).abs().max().item()
    assert worst <= 1e-6, f"prepare_batch's values differ from pixels / 16 by up to {worst:.3g}"
    return x


@EXERCISE.test("f64_data")
def prepares_float32_on_the_npu(prepare_batch):
    """prepare_batch(images, "npu") returns the pixels / 16 as a float32 (N, 64) tensor on the NPU"""
    prepared(prepare_batch, images(64), "npu")


def no_float64_reaches_the_device(prepare_batch) -> None:
    """Hidden: not even for a moment does a float64 tensor land on the NPU."""
    for count, device in ((64, "npu"), (1, torch.device("npu")), (5, "cpu")):
        with DeviceDtypeWatch() as watch:
            prepared(prepare_batch, images(count, start=100), device)
        assert not watch.found, (
            f"prepare_batch put tensors that are not float32 on the device on the way: {watch.report()}. "
            "Convert on the host, before the copy: half the bytes to move, and no float64 on the NPU")


# -- port_model ------------------------------------------------------------------------------------
def checked_reference(reference) -> nn.Module:
    """A private copy of the notebook's float64 reference (which must still be float64)."""
    params = list(reference.parameters())
    assert params and all(p.dtype == torch.float64 and p.device.type == "cpu" for p in params), (
        "the notebook's `reference` is no longer the float64 CPU model: port_model must not change the model it "
        "is given in place. Re-run the set-up cells, and work on a copy")
    return copy.deepcopy(reference)


def compare_outputs(port_model, reference, count: int = 256, start: int = 0):
    """Port a copy of ``reference`` to the NPU and compare its outputs with float64 on the CPU."""
    golden_model = checked_reference(reference)
    batch = images(count, start)
    with torch.no_grad():
        golden = golden_model(reference_inputs(batch))
    ported = port_model(checked_reference(reference), "npu")
    assert isinstance(ported, nn.Module), f"port_model returned {type(ported).__name__}, not an nn.Module"
    x = reference_inputs(batch).float().to(npu())
    with torch.no_grad():
        out = ported(x)
    assert out.device.type == "npu", f"the ported model returned its output on {out.device}"
    assert out.dtype == torch.float32, f"the ported model returns {out.dtype}"
    worst = (out.cpu().double() - golden).abs().max().item()
    assert worst <= TOLERANCE, (
        f"on the NPU the ported model's log-probabilities differ from the float64 reference by up to {worst:.2g} "
        f"(allowed: {TOLERANCE:g}); float32 keeps them within about 1e-6")
    return ported, x


@EXERCISE.test("f64_model")
def matches_the_float64_reference_on_the_npu(port_model, reference):
    """port_model(reference, "npu") runs on the NPU and matches the float64 reference"""
    compare_outputs(port_model, reference)


def module_io_dtypes(model: nn.Module, x: torch.Tensor) -> list[str]:
    """Run ``model(x)`` with forward hooks on every submodule; describe inputs/outputs not float32."""
    problems = []

    def hook(module, args, output, name):
        for kind, value in (("input", args), ("output", output)):
            for tensor in _tensors(value):
                if tensor.is_floating_point() and tensor.dtype != torch.float32:
                    problems.append(f"{name or 'the model'} {kind} is {str(tensor.dtype).replace('torch.', '')}")

    handles = [module.register_forward_hook(functools.partial(hook, name=name)) for name, module in model.named_modules()]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return list(dict.fromkeys(problems))


def nothing_but_float32(port_model, reference) -> None:
    """Hidden: every parameter, buffer, module input/output and device intermediate is float32."""
    ported, x = compare_outputs(port_model, reference, count=64, start=300)
    for kind, named in (("parameter", ported.named_parameters()), ("buffer", ported.named_buffers())):
        for name, tensor in named:
            if tensor.is_floating_point():
                assert tensor.dtype == torch.float32, f"{kind} {name!r} of the ported model is {tensor.dtype}"
                assert tensor.device.type == "npu", f"{kind} {name!r} of the ported model is on {tensor.device}"
    problems = module_io_dtypes(ported, x)
    assert not problems, "inside the ported model: " + "; ".join(problems[:5])
    with DeviceDtypeWatch() as watch, torch.no_grad():
        ported(x)
    assert not watch.found, f"the forward pass makes device tensors that are not float32: {watch.report()}"
    compare_outputs(port_model, reference, count=1, start=1000)  # one image at a time too


EXERCISE.hint(
    "f64_data",
    "NumPy computes in float64 unless told otherwise, and torch.from_numpy keeps NumPy's dtype.",
    "Make the array float32 while it is still on the host (np.asarray(images, dtype=np.float32), or "
    "torch.from_numpy(...).float()), then move it to the device.",
)
EXERCISE.hint(
    "f64_model",
    "Three things in DigitScorer are float64: its parameters (.double()), its mean/std buffers "
    "(torch.from_numpy of float64 arrays), and something it builds in every forward pass.",
    "model.float() converts parameters and registered buffers - but not a NumPy array kept as a plain "
    "attribute and turned into a tensor inside forward().",
    "Write a float32 version of the class: register the class prior as a float32 buffer, use it in forward, "
    "load the reference's state_dict, then .float().to(device).",
)
