"""Visible tests and hints of ``exercises/level2_training/ex04_checkpoint_portability.ipynb``.

Questions: ``ckpt_save`` (``save_checkpoint`` writes a portable checkpoint) and ``ckpt_resume``
(``resume`` continues training from a checkpoint saved on any device, on any device). The test
for resuming is behavioural: train a model a few steps, checkpoint it, then take one more step
twice - once on the original, once after the learner's ``resume`` on another device. The two
must agree, which only happens when the weights *and* the optimizer's state (Adam's moments and
step counts) arrived, on the right device, inside an optimizer that holds the resumed model's
parameters. Checkpoints "from a GPU" are made with :func:`save_as_if_on` (the storages labelled
``cuda:0``, as ``torch.save`` labels them on an NVIDIA machine). Hidden tests are in the source
notebook only.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F
from torch import nn

from ascend_compat.grading.checks._training import digits
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex04_checkpoint_portability")

TRAINED_STEPS = 3
EPOCH = 7  # what the checkpoint says training reached


def build_model() -> nn.Module:
    """The notebook's model (on the CPU, seeded): the same architecture every test rebuilds."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 10))


def build_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.Adam(model.parameters(), lr=1e-2)


def batch(number: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = digits("train")
    start = 32 * number
    return images[start:start + 32].to(device), labels[start:start + 32].to(device)


def train_step(model, optimizer, number: int) -> None:
    device = next(model.parameters()).device
    optimizer.zero_grad(set_to_none=True)
    F.cross_entropy(model(batch(number, device)[0]), batch(number, device)[1]).backward()
    optimizer.step()


def trained(device) -> tuple[nn.Module, torch.optim.Optimizer]:
    """A model and its Adam optimizer on ``device`` after a few steps (so Adam has state)."""
    model = build_model().to(device)
    optimizer = build_optimizer(model)
    for number in range(TRAINED_STEPS):
        train_step(model, optimizer, number)
    return model, optimizer


def weights(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().cpu().clone() for p in model.parameters()]


def reference_checkpoint(model, optimizer, epoch: int = EPOCH) -> dict:
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch}


def save_as_if_on(checkpoint: dict, path, location: str) -> None:
    """``torch.save`` of CPU tensors with every storage labelled ``location`` (e.g. ``"cuda:0"``).

    That is byte for byte what a GPU machine writes: the data, and the device it came from.
    """
    with mock.patch("torch.serialization.location_tag", lambda storage: location):
        torch.save(checkpoint, path)


@contextlib.contextmanager
def scratch():
    with tempfile.TemporaryDirectory(prefix="ckpt-check-") as folder:
        yield Path(folder)


def load_on_cpu(path) -> dict:
    """What a careful reader does with a checkpoint: tensors only, mapped to the CPU."""
    return torch.load(path, map_location="cpu", weights_only=True)


# -- save_checkpoint -------------------------------------------------------------------------------
@EXERCISE.test("ckpt_save")
def saves_weights_optimizer_and_epoch(save_checkpoint):
    """save_checkpoint writes the model's weights, the optimizer's state and the epoch"""
    model, optimizer = trained("npu")
    with scratch() as folder:
        path = folder / "checkpoint.pt"
        save_checkpoint(path, model, optimizer, EPOCH)
        assert path.is_file(), "save_checkpoint(path, ...) wrote nothing at path"
        try:
            saved = load_on_cpu(path)
        except Exception as exc:  # noqa: BLE001 - the reason is the message
            raise AssertionError(
                "the checkpoint does not load with torch.load(path, map_location='cpu', weights_only=True): "
                f"it holds more than tensors and plain values ({type(exc).__name__}). Save state dicts, not objects"
            ) from None
    check_contents(saved, model, optimizer)


def check_contents(saved, model, optimizer) -> None:
    assert isinstance(saved, dict) and {"model", "optimizer", "epoch"} <= set(saved), (
        f"the checkpoint should be a dict with 'model', 'optimizer' and 'epoch'; it is "
        f"{type(saved).__name__}{' with ' + repr(sorted(saved)) if isinstance(saved, dict) else ''}")
    assert saved["epoch"] == EPOCH, f"the checkpoint says epoch {saved['epoch']!r}, it was saved at {EPOCH}"
    expected = model.state_dict()
    assert isinstance(saved["model"], dict) and set(saved["model"]) == set(expected), (
        "checkpoint['model'] should be the model's state_dict (parameter name -> tensor)")
    for name, tensor in expected.items():
        assert torch.equal(saved["model"][name].cpu(), tensor.detach().cpu()), f"checkpoint['model'][{name!r}] differs"
    state = saved["optimizer"]
    assert isinstance(state, dict) and {"state", "param_groups"} <= set(state) and state["state"], (
        "checkpoint['optimizer'] should be the optimizer's state_dict, with Adam's state in it")


# -- resume ---------------------------------------------------------------------------------------
def continues_like_the_original(resume, saved_on: str, resume_on: str, folder: Path) -> None:
    """Checkpoint a model trained on ``saved_on`` (CPU data labelled with that device), resume it
    with the learner's ``resume`` on ``resume_on``, and compare one more step with the original's."""
    original, optimizer = trained("cpu")
    path = folder / f"saved-on-{saved_on.replace(':', '')}.pt"
    save_as_if_on(reference_checkpoint(original, optimizer), path, saved_on)
    train_step(original, optimizer, TRAINED_STEPS)  # the step the resumed model must repeat

    where = f"a checkpoint saved on {saved_on}, resumed on {resume_on!r}"
    result = resume(path, resume_on)
    assert isinstance(result, tuple) and len(result) == 3, (
        f"resume(path, {resume_on!r}) returned {type(result).__name__}; return (model, optimizer, epoch)")
    model, resumed_optimizer, epoch = result
    assert epoch == EPOCH, f"{where}: resume returned epoch {epoch!r}, the checkpoint says {EPOCH}"
    target = torch.device(resume_on)
    devices = {p.device for p in model.parameters()}
    assert devices == {target} or (target.index is None and {d.type for d in devices} == {target.type}), (
        f"{where}: the model's parameters are on {', '.join(sorted(map(str, devices)))}")
    held = {id(p) for group in resumed_optimizer.param_groups for p in group["params"]}
    assert held == {id(p) for p in model.parameters()}, (
        f"{where}: the optimizer returned does not hold the returned model's parameters, so its steps change "
        "nothing the model uses. When was the optimizer built, and where were the parameters then?")
    for value in resumed_optimizer.state.values():
        for key, tensor in value.items():
            if isinstance(tensor, torch.Tensor) and key != "step" and tensor.device.type != target.type:
                raise AssertionError(f"{where}: the optimizer's {key!r} is on {tensor.device}, its parameters on {target}")
    train_step(model, resumed_optimizer, TRAINED_STEPS)
    difference = max((a - b).abs().max().item() for a, b in zip(weights(model), weights(original)))
    assert difference < 1e-5, (
        f"{where}: one more training step after resume() lands {difference:.3g} away from where the original "
        "training goes; everything the next step depends on must come back")


@EXERCISE.test("ckpt_resume")
def resumes_a_cpu_checkpoint_on_the_npu(resume):
    """resume continues, on the NPU, training saved on the CPU - weights and optimizer state"""
    with scratch() as folder:
        continues_like_the_original(resume, "cpu", "npu", folder)


EXERCISE.hint(
    "ckpt_save",
    "Save what you need to rebuild, not the objects themselves: model.state_dict() and optimizer.state_dict() "
    "(plus the epoch), in one dict.",
    "torch.save of a whole nn.Module pickles its class by name: loading it needs the same code, and "
    "torch.load(..., weights_only=True) - the default since PyTorch 2.6 - refuses it.",
)
EXERCISE.hint(
    "ckpt_resume",
    "A checkpoint remembers the device each tensor was saved from. torch.load(path, map_location=device) "
    "puts every tensor where you want it instead.",
    "Build the model, move it to the device, and only then build the optimizer: it must hold the parameters "
    "that will train. Then load both state dicts.",
    "optimizer.load_state_dict moves the optimizer's state to where the optimizer's parameters are - one more "
    "reason to build the optimizer after the move.",
)


def loads_without_the_lab(path) -> None:
    """Hidden: the checkpoint loads in a fresh Python with plain PyTorch - no torch_npu, no NPU."""
    code = ("import sys, torch\n"
            "state = torch.load(sys.argv[1], map_location='cpu', weights_only=True)\n"
            "assert isinstance(state, dict), type(state)\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines() or ["(no output)"]
    error = next((line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)), lines[-1])
    assert done.returncode == 0, f"on a machine without an NPU the checkpoint does not load: {error[:300]}"


def saved_checkpoint_resumes(save_checkpoint) -> None:
    """Hidden: a checkpoint saved on the NPU loads anywhere and continues training exactly."""
    model, optimizer = trained("npu")
    with scratch() as folder:
        path = folder / "saved-on-npu.pt"
        save_checkpoint(path, model, optimizer, EPOCH)
        loads_without_the_lab(path)
        saved = load_on_cpu(path)
    check_contents(saved, model, optimizer)
    restored = build_model()
    restored.load_state_dict(saved["model"])
    restored_optimizer = build_optimizer(restored)
    restored_optimizer.load_state_dict(saved["optimizer"])
    train_step(model, optimizer, TRAINED_STEPS)
    train_step(restored, restored_optimizer, TRAINED_STEPS)
    difference = max((a - b).abs().max().item() for a, b in zip(weights(model), weights(restored)))
    assert difference < 1e-5, (
        f"training resumed from your checkpoint drifts {difference:.3g} from the original after one step: "
        "something the next step needs is not in the checkpoint")


def resumes_everywhere(resume) -> None:
    """Hidden: checkpoints from a GPU, an NPU and another NPU resume on the NPU and on the CPU."""
    cases = [("cuda:0", "npu"), ("npu:0", "cpu"), ("cpu", torch.device("cpu")), ("cuda:0", torch.device("npu", 0))]
    if torch.npu.device_count() > 1:
        cases += [("npu:1", "npu:0"), ("cpu", "npu:1")]
    with scratch() as folder:
        for saved_on, resume_on in cases:
            continues_like_the_original(resume, saved_on, resume_on, folder)
