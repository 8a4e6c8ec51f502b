"""Visible tests and hints of ``exercises/level2_training/ex02_amp_gradscaler.ipynb``.

Questions: ``amp_scaler`` (``make_scaler()`` builds a working GradScaler for the NPU) and
``amp_step`` (``train_step(...)`` uses it correctly). A scaler can be created and still do
nothing useful, so the tests judge behaviour, not names: each learner step runs beside
:func:`reference_step` (the correct sequence) on a twin of the same model, and the two must
leave the same weights and the same loss scale behind - also when a gradient overflows
(:func:`overflowing_gradients` injects an ``inf``), where a correct step is skipped and the scale
halves. Hidden tests (several steps, clipping, overflow) are in the source notebook only.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ascend_compat.grading.checks._training import digits
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex02_amp_gradscaler")

BATCH = 64
INIT_SCALE = 2.0 ** 16  # GradScaler's default


def npu() -> torch.device:
    return torch.device("npu")


def make_mlp() -> nn.Module:
    """The classifier the notebook trains: 3x8x8 digits, flattened, one hidden layer."""
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 10))


def batch(number: int = 0, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Training batch ``number`` (64 digits), on the NPU unless told otherwise."""
    images, labels = digits("train")
    start = number * BATCH % (len(images) - BATCH)
    device = device or npu()
    return images[start:start + BATCH].to(device), labels[start:start + BATCH].to(device)


def reference_step(model, optimizer, scaler, images, labels, max_norm=1.0) -> float:
    """One correct mixed-precision step: what ``train_step`` is compared with."""
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=images.device.type, dtype=torch.float16):
        loss = F.cross_entropy(model(images), labels)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


@dataclass
class Trainee:
    """A model with its optimizer and loss scaler."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler

    def weights(self) -> list[torch.Tensor]:
        return [p.detach().cpu().clone() for p in self.model.parameters()]


def trainee(model: nn.Module, scaler=None) -> Trainee:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = scaler if scaler is not None else torch.amp.GradScaler(model_device_type(model), init_scale=INIT_SCALE)
    return Trainee(model, optimizer, scaler)


def model_device_type(model: nn.Module) -> str:
    return next(model.parameters()).device.type


def twins(seed: int = 0, scaler=None) -> tuple[Trainee, Trainee]:
    """Two identical trainees on the NPU: one for the learner's step, one for the reference."""
    torch.manual_seed(seed)
    model = make_mlp().to(npu())
    return trainee(model, scaler), trainee(copy.deepcopy(model))


@contextlib.contextmanager
def overflowing_gradients(model: nn.Module):
    """Within the block, the first layer's weight gradient is ``inf``: a float16 overflow, forced."""
    weight = next(p for p in model.parameters() if p.dim() > 1)
    handle = weight.register_hook(lambda grad: torch.full_like(grad, float("inf")))
    try:
        yield
    finally:
        handle.remove()


def movement(before, after) -> float:
    return sum((b - a).pow(2).sum().item() for a, b in zip(before, after)) ** 0.5


def compare_with_reference(learner: Trainee, reference: Trainee, before, what: str) -> None:
    """Same weights and same loss scale after the learner's and the reference's steps."""
    mine, theirs = learner.weights(), reference.weights()
    if not all(torch.isfinite(w).all() for w in mine):
        raise AssertionError(f"{what}: the weights became inf/NaN - an overflowing gradient was applied to them")
    moved, expected = movement(before, mine), movement(before, theirs)
    if expected == 0:
        assert moved == 0, (
            f"{what}: a correct AMP step leaves the weights alone here (the gradients overflowed, so the step is "
            f"skipped), but yours moved them by {moved:.3g}")
    else:
        error = movement(theirs, mine) / expected
        ratio = moved / expected
        if moved == 0:
            assert error < 1e-3, f"{what}: your step left the weights unchanged; a correct AMP step moves them"
        elif abs(ratio - 1) > 0.01:
            assert error < 1e-3, (
                f"{what}: your step moved the weights {ratio:.3g} times as far as a correct AMP step")
        else:
            assert error < 1e-3, (
                f"{what}: your step moved the weights as far as a correct AMP step, but elsewhere (the two "
                f"differ by {error:.1%} of a step)")
    assert learner.scaler.get_scale() == reference.scaler.get_scale(), (
        f"{what}: the loss scale is {learner.scaler.get_scale():g} after your step, {reference.scaler.get_scale():g} "
        "after a correct one")


@contextlib.contextmanager
def first_layer_dtypes(model: nn.Module):
    """Collect the output dtypes of the model's first Linear layer while the block runs."""
    seen = []
    layer = next(m for m in model.modules() if isinstance(m, nn.Linear))
    handle = layer.register_forward_hook(lambda module, args, output: seen.append(output.dtype))
    try:
        yield seen
    finally:
        handle.remove()


def run_learner_step(train_step, learner: Trainee, number: int = 0, max_norm=None):
    images, labels = batch(number)
    kwargs = {} if max_norm is None else {"max_norm": max_norm}
    return train_step(learner.model, learner.optimizer, learner.scaler, images, labels, **kwargs)


def alongside_the_reference(train_step, steps, seed: int = 0) -> None:
    """Run ``train_step`` and :func:`reference_step` on twins, step by step, comparing after each.

    ``steps`` lists ``(overflow, max_norm)`` pairs: ``overflow`` forces an ``inf`` gradient in that step.
    """
    learner, reference = twins(seed)
    for number, (overflow, max_norm) in enumerate(steps):
        before = learner.weights()
        with overflowing_gradients(learner.model) if overflow else contextlib.nullcontext():
            run_learner_step(train_step, learner, number, max_norm)
        with overflowing_gradients(reference.model) if overflow else contextlib.nullcontext():
            reference_step(reference.model, reference.optimizer, reference.scaler, *batch(number),
                           max_norm=1.0 if max_norm is None else max_norm)
        what = f"step {number + 1} of {len(steps)}" + (" (its gradients overflow)" if overflow else "")
        if max_norm is not None:
            what += f" with max_norm={max_norm}"
        compare_with_reference(learner, reference, before, what)


def survives_an_overflow(scaler) -> None:
    """With ``scaler`` in a correct AMP loop: an overflowing step is skipped and halves the scale."""
    learner = trainee(make_mlp().to(npu()), scaler)
    reference_step(learner.model, learner.optimizer, learner.scaler, *batch(0))
    scale, before = scaler.get_scale(), learner.weights()
    with overflowing_gradients(learner.model):
        reference_step(learner.model, learner.optimizer, learner.scaler, *batch(1))
    assert movement(before, learner.weights()) == 0, (
        "with your scaler, a step whose gradients overflow still changed the weights: the scaler does not "
        "check the gradients")
    assert scaler.get_scale() == scale / 2, (
        f"after an overflow the loss scale should halve ({scale:g} -> {scale / 2:g}); with your scaler it is "
        f"{scaler.get_scale():g}")
    before = learner.weights()
    reference_step(learner.model, learner.optimizer, learner.scaler, *batch(2))
    assert movement(before, learner.weights()) > 0, "after the overflow, the next good step did not train"


def has_the_default_settings(scaler) -> None:
    """The scaler starts at 2**16, halves on an overflow and doubles after 2,000 good steps."""
    settings = {"initial scale": (scaler.get_scale(), 2.0 ** 16),
                "factor after an overflow": (scaler.get_backoff_factor(), 0.5),
                "growth factor": (scaler.get_growth_factor(), 2.0),
                "good steps before it grows": (scaler.get_growth_interval(), 2000)}
    wrong = [f"{name} {got:g} (the default is {default:g})" for name, (got, default) in settings.items()
             if got != default]
    assert not wrong, ("make_scaler() should keep GradScaler's default settings; yours has " + ", ".join(wrong)
                       + ". A smaller initial scale overflows less but lets small float16 gradients flush to zero.")


# -- make_scaler ---------------------------------------------------------------------------------
@EXERCISE.test("amp_scaler")
def makes_an_enabled_grad_scaler(make_scaler):
    """make_scaler() returns a GradScaler that is enabled on this machine"""
    scaler = make_scaler()
    assert isinstance(scaler, torch.amp.GradScaler), (
        f"make_scaler() returned {type(scaler).__name__}, not a torch.amp.GradScaler")
    assert scaler.is_enabled(), (
        "the GradScaler you made is disabled: PyTorch switches a scaler off when the device it was made for is "
        "not available (it warns when you create it). Which device is it for?")


@EXERCISE.test("amp_scaler")
def scales_a_loss_on_the_npu(make_scaler):
    """make_scaler().scale(loss) multiplies an NPU loss by the loss scale"""
    scaler = make_scaler()
    loss = torch.tensor(2.0, device=npu())
    scaled = scaler.scale(loss)
    assert scaled.device.type == "npu", f"scale() returned a tensor on {scaled.device}"
    assert scaler.get_scale() > 1 and scaled.item() == 2.0 * scaler.get_scale(), (
        f"scale(2.0) returned {scaled.item():g} with a loss scale of {scaler.get_scale():g}")


# -- train_step ----------------------------------------------------------------------------------
@EXERCISE.test("amp_step")
def forward_runs_in_float16(train_step):
    """train_step runs the forward pass in float16 under autocast on the NPU"""
    learner, _ = twins()
    with first_layer_dtypes(learner.model) as seen:
        run_learner_step(train_step, learner)
    assert seen, "train_step did not call the model"
    assert set(seen) == {torch.float16}, (
        f"the first Linear layer computed in {', '.join(sorted(str(d) for d in set(seen)))}; mixed precision "
        "here means float16 matrix products on the NPU")


@EXERCISE.test("amp_step")
def one_step_matches_a_correct_amp_step(train_step):
    """one train_step leaves the same weights and loss scale as a correct AMP step"""
    alongside_the_reference(train_step, [(False, None)])


@EXERCISE.test("amp_step")
def returns_the_unscaled_loss(train_step):
    """train_step returns the loss as a number, not multiplied by the loss scale"""
    learner, reference = twins()
    returned = run_learner_step(train_step, learner)
    expected = reference_step(reference.model, reference.optimizer, reference.scaler, *batch(0))
    assert isinstance(returned, (float, torch.Tensor)), f"train_step returned {type(returned).__name__}; return the loss"
    value = float(returned)
    assert abs(value - expected) <= 1e-3 * abs(expected), (
        f"train_step returned {value:.6g}; the loss of this batch is {expected:.6g}")


EXERCISE.hint(
    "amp_scaler",
    "torch.cuda.amp.GradScaler() is a scaler for CUDA: on a machine without a GPU it warns and disables itself.",
    "torch.amp.GradScaler takes the device type as its first argument; torch_npu also offers "
    "torch.npu.amp.GradScaler().",
)
EXERCISE.hint(
    "amp_step",
    "Four scaler calls make one AMP step: scale the loss before backward, unscale before you touch the "
    "gradients, step through the scaler, update the scale.",
    "Gradients after scaler.scale(loss).backward() are multiplied by the loss scale: clipping them then "
    "clips the wrong numbers. scaler.unscale_(optimizer) first.",
    "scaler.step(optimizer) skips the step when a gradient is inf/NaN; optimizer.step() does not. "
    "scaler.update() afterwards lowers the scale after an overflow (and raises it after many good steps).",
)
