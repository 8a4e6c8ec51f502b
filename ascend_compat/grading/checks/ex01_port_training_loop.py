"""Visible tests and hints of ``exercises/level2_training/ex01_port_training_loop.ipynb``.

Questions: ``port_train`` (the port trains on the NPU and learns) and ``port_train_device``
(an explicit ``device`` is honoured). The tests watch the optimizer
(:class:`~ascend_compat.grading.checks._training.OptimizerSteps`): a model trains on the NPU only
when the parameters its optimizer updates live there. Hidden tests (full training to the target
accuracy, other devices) are in the source notebook only.
"""

from __future__ import annotations

import torch

from ascend_compat.grading.checks._training import OptimizerSteps, accuracy, digits
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex01_port_training_loop")

# One epoch of the original recipe gets DigitCNN far above chance (10%); a port that does not
# learn at all (an optimizer holding stale parameters, say) stays near it.
ONE_EPOCH_ACCURACY = 0.5
TARGET_ACCURACY = 0.95


def train_and_watch(train_digits, **kwargs):
    """Run ``train_digits(**kwargs)``; return the model it returned and what its optimizer did."""
    with OptimizerSteps() as steps:
        model = train_digits(**kwargs)
    assert isinstance(model, torch.nn.Module), (
        f"train_digits({_arguments(kwargs)}) returned {type(model).__name__}; return the trained model (an nn.Module)")
    assert steps.count > 0, f"train_digits({_arguments(kwargs)}) never called optimizer.step(): nothing was trained"
    return model, steps


def _arguments(kwargs) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in kwargs.items())


def where_it_trained(steps: OptimizerSteps) -> str:
    return ", ".join(sorted(steps.parameter_devices))


@EXERCISE.test("port_train")
def trains_on_the_npu(train_digits):
    """train_digits(epochs=1) updates parameters that live on the NPU"""
    _, steps = train_and_watch(train_digits, epochs=1)
    assert steps.device_types == {"npu"}, (
        f"the optimizer updated parameters on {where_it_trained(steps)}: this port trains on the host, "
        "not on the NPU. Look at how the training loop chooses its device, and what it moves there")
    assert {device.split(":")[0] for device in steps.gradient_devices} <= {"npu"}, (
        f"gradients were on {', '.join(sorted(steps.gradient_devices))}; the backward pass should run on the NPU")


@EXERCISE.test("port_train")
def learns_in_one_epoch(train_digits):
    """after one epoch the model classifies far better than chance"""
    model, _ = train_and_watch(train_digits, epochs=1)
    score = accuracy(model, *digits("test"))
    assert score >= ONE_EPOCH_ACCURACY, (
        f"after one epoch the model classifies {score:.0%} of the test digits correctly (chance is 10%); "
        "the original reaches far more. Does the optimizer update the parameters the model uses?")


@EXERCISE.test("port_train_device")
def honours_an_explicit_cpu(train_digits):
    """train_digits(epochs=1, device="cpu") trains on the CPU"""
    _, steps = train_and_watch(train_digits, epochs=1, device="cpu")
    assert steps.device_types == {"cpu"}, (
        f"asked for device='cpu', the optimizer updated parameters on {where_it_trained(steps)}: "
        "an explicit device must win over the automatic choice")


EXERCISE.hint(
    "port_train",
    "Decide the device once, at the top (npu, then cuda, then cpu, as in Level 0's pick_device), and "
    "use that one torch.device everywhere the original says .cuda().",
    "A line like device = 'cuda' if torch.cuda.is_available() else 'cpu' is a trap on an Ascend "
    "machine: there is no CUDA, so it quietly trains on the CPU.",
    "model.to(device) before building the optimizer; images.to(device, non_blocking=True) and "
    "labels.to(device, non_blocking=True) in the loop; torch.npu.synchronize() and "
    "torch.npu.max_memory_allocated() instead of their torch.cuda twins.",
)
EXERCISE.hint(
    "port_train_device",
    "When device is given, use torch.device(device) as it is - keep its type and index.",
    "Anything hard-wired to the NPU (.npu(), 'npu:0', torch.npu.synchronize() without a check) breaks "
    "a CPU run: guard NPU-only calls with if device.type == 'npu'.",
)
