"""Visible tests and hints of ``exercises/level0_inference/ex01_pick_device.ipynb``.

Questions: ``pick_device`` (the automatic choice) and ``pick_device_override`` (the override).
Hidden tests, which try every kind of machine with
:func:`ascend_compat.grading.machines.pretend_machine`, are in the source notebook only.
"""

from __future__ import annotations

import torch

from ascend_compat.grading.instant import Exercise
from ascend_compat.grading.testing import expect_raises

EXERCISE = Exercise("ex01_pick_device")


def _best_here() -> str:
    """The device type a correct pick_device() chooses on the machine running the check."""
    if hasattr(torch, "npu") and torch.npu.is_available():
        return "npu"
    return "cuda" if torch.cuda.is_available() else "cpu"


@EXERCISE.test("pick_device")
def returns_a_torch_device(pick_device):
    """pick_device() returns a torch.device"""
    chosen = pick_device()
    assert isinstance(chosen, torch.device), (
        f"pick_device() returned {chosen!r} ({type(chosen).__name__}); return a torch.device object, "
        "so callers can pass it to .to(), torch.zeros(device=...) and compare it with other devices")


@EXERCISE.test("pick_device")
def chooses_the_best_device_on_this_machine(pick_device):
    """pick_device() chooses the best device this machine has"""
    chosen = pick_device()
    best = _best_here()
    assert isinstance(chosen, torch.device) and chosen.type == best, (
        f"on this machine the best device is {best!r} "
        f"(torch.npu available: {hasattr(torch, 'npu') and torch.npu.is_available()}, "
        f"torch.cuda available: {torch.cuda.is_available()}), but pick_device() returned {chosen!r}")


@EXERCISE.test("pick_device")
def a_tensor_can_live_on_the_chosen_device(pick_device):
    """a tensor can be created on the chosen device"""
    chosen = pick_device()
    x = torch.ones(3, device=chosen)
    assert x.device.type == torch.device(chosen).type, f"torch.ones(3, device={chosen!r}) landed on {x.device}"


@EXERCISE.test("pick_device_override")
def override_as_a_string(pick_device):
    """pick_device("cpu") returns torch.device("cpu")"""
    chosen = pick_device("cpu")
    assert chosen == torch.device("cpu") and isinstance(chosen, torch.device), (
        f"pick_device('cpu') returned {chosen!r}; an override names the device to use, "
        "even when a better one is available")


@EXERCISE.test("pick_device_override")
def override_as_a_torch_device(pick_device):
    """pick_device(torch.device("cpu")) returns torch.device("cpu")"""
    chosen = pick_device(torch.device("cpu"))
    assert chosen == torch.device("cpu") and isinstance(chosen, torch.device), (
        f"pick_device(torch.device('cpu')) returned {chosen!r}; accept a torch.device as well as a string")


@EXERCISE.test("pick_device_override")
def unknown_device_type_is_a_value_error(pick_device):
    """pick_device("tpu") raises ValueError"""
    expect_raises(ValueError, lambda: pick_device("tpu"), "pick_device('tpu')")


EXERCISE.hint(
    "pick_device",
    "Ask the devices in order of preference and return the first one that is available.",
    "hasattr(torch, 'npu') tells you whether torch_npu (or the simulator) is loaded; only then is "
    "torch.npu.is_available() safe to call. torch.cuda.is_available() always exists.",
    "Return torch.device('npu'), torch.device('cuda') or torch.device('cpu') - objects, not strings.",
)
EXERCISE.hint(
    "pick_device_override",
    "Handle the override first: torch.device(override) accepts both 'npu:0' strings and torch.device "
    "objects, and gives you .type and .index.",
    "torch.device('tpu') raises RuntimeError by itself; catch it and raise ValueError instead, naming "
    "the value you got and the types you accept (npu, cuda, cpu).",
    "A valid type is not enough: pick_device('cuda') on a machine without CUDA must raise RuntimeError. "
    "Reuse the availability checks of the automatic choice.",
)
