"""Visible tests and hints of ``exercises/level3_optimization/ex01_faster_step.ipynb``.

Questions: ``faster_step_trains`` (``make_fast_step(model)`` returns a training step that trains the
model as the float32 baseline does, and skips a step whose float16 gradients overflow) and
``faster_step_speed`` (that step is at least :data:`TARGET_SPEEDUP` times faster than the baseline in
simulated time, and still trains).

The exercise plays an **Ascend 910A** (Atlas 800 training server, model 9000): float16 is its only
half-precision type (no bfloat16), its cube unit does 16 times more float16 than float32 FLOPs
(``ascend_compat/data/soc_specs.json``), op-plugin has no foreach kernels for it, so torch_npu keeps
the optimizers' per-parameter loop as the default (``torch_npu/utils/_optim.py`` in Ascend/pytorch).
On that SoC the baseline step of the wide MLP below is limited twice: by the float32 matrix
multiplications on the device and by the host launching the optimizer's many small kernels.
Mixed precision alone leaves the host-bound optimizer (the measured ratio is about 1.2), a
fused optimizer alone leaves the float32 compute (about 1.05); both together reach about 1.5-1.6.
Every figure comes from :func:`ascend_compat.sim.measure`: identical on every run.

Training is compared with the baseline from the same initial weights on the same batches: the
losses step by step, and how far the weights ended from the baseline's relative to how far the
baseline moved them. Mixed precision changes both a little (about 1e-4 in the loss, 5 % of the
weight change here); a step that skips work changes them a lot.
"""

from __future__ import annotations

import contextlib
import math

import torch
import torch.nn.functional as F
from torch import nn

from ascend_compat.grading.checks._optimization import digits, on_soc, parameters_of, warnings_on_stdout
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex01_faster_step")

SOC = "Ascend910A"
TARGET_SPEEDUP = 1.4
LEARNING_RATE = 1e-3
SPEED_BATCH = 1024          # the batch of the speed test: large enough that the matmuls take time
TRAIN_BATCH = 256           # the correctness tests train on smaller batches (cheaper to simulate)
WIDTHS = (1024, 1024)       # hidden layers of the exercise's MLP
LOSS_TOLERANCE = 0.01       # per step, absolute: float16 mixed precision moves the loss by ~1e-4
WEIGHT_TOLERANCE = 0.15     # distance from the baseline's weights / distance the baseline moved them


# ---------------------------------------------------------------------------- the exercise's model
def make_model(widths=WIDTHS, seed: int = 0) -> nn.Module:
    """The exercise's MLP on 3x8x8 digits, freshly initialised from ``seed``, on the NPU."""
    torch.manual_seed(seed)
    layers, width = [nn.Flatten()], 3 * 8 * 8
    for hidden in widths:
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers).to("npu")


def make_baseline_step(model: nn.Module):
    """The step to speed up: float32, Adam's per-parameter loop (torch_npu's default on the 910A)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, foreach=False)

    def step(images, labels):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step


# ---------------------------------------------------------------------------- running a step
def _loss_value(loss, what: str) -> float:
    if isinstance(loss, torch.Tensor):
        assert loss.numel() == 1, f"{what} returned a tensor of shape {tuple(loss.shape)}; return the batch's loss (one number)"
        value = loss.detach().float().cpu().item()
    elif isinstance(loss, (int, float)) and not isinstance(loss, bool):
        value = float(loss)
    else:
        raise AssertionError(f"{what} returned {type(loss).__name__}; return the batch's loss (a tensor or a float)")
    assert math.isfinite(value), f"{what} returned the loss {value}: training diverged"
    return value


def _build(make_step, model, who: str):
    step = make_step(model)
    assert callable(step), (f"{who}(model) returned {type(step).__name__}; return the training step, "
                            "a function step(images, labels)")
    return step


@warnings_on_stdout
def train(make_step, steps: int, widths=WIDTHS, seed: int = 0, batch: int = TRAIN_BATCH, who: str = "make_fast_step"):
    """``steps`` steps of ``make_step(model)`` on consecutive digit batches: (losses, weights, model)."""
    with on_soc(SOC):
        model = make_model(widths, seed)
        step = _build(make_step, model, who)
        losses = [_loss_value(step(*digits(batch, batch * i)), f"step {i + 1}") for i in range(steps)]
    return losses, parameters_of(model), model


def relative_distance(mine, reference, start) -> float:
    """|mine - reference| / |reference - start| over all weights (L2): 0 = the baseline's weights."""
    moved = math.sqrt(sum(((r - s) ** 2).sum().item() for r, s in zip(reference, start)))
    apart = math.sqrt(sum(((m - r) ** 2).sum().item() for m, r in zip(mine, reference)))
    return apart / moved if moved else float("inf")


@warnings_on_stdout
def assert_trains_like_the_baseline(make_fast_step, steps=3, widths=WIDTHS, seed=0, batch=TRAIN_BATCH) -> None:
    """The fast step's losses and final weights match the baseline's, trained from the same start."""
    losses, weights, _ = train(make_fast_step, steps, widths, seed, batch)
    expected, reference, _ = train(make_baseline_step, steps, widths, seed, batch, who="make_baseline_step")
    start = parameters_of(make_model(widths, seed))
    shape = "x".join(str(w) for w in widths)
    where = f"{steps} steps of {batch} digits on an MLP with hidden layers {shape}"
    assert [tuple(w.shape) for w in weights] == [tuple(r.shape) for r in reference], (
        f"{where}: the model's parameters changed shape or number; speed up the step, not the model")
    assert all(torch.isfinite(w).all() for w in weights), f"{where}: the weights became inf or NaN"
    for i, (mine, theirs) in enumerate(zip(losses, expected)):
        assert abs(mine - theirs) <= LOSS_TOLERANCE, (
            f"{where}: the loss of step {i + 1} is {mine:.4f}, the baseline's {theirs:.4f} "
            f"(tolerance {LOSS_TOLERANCE}). The step must train the same model with the same "
            "optimizer settings on the whole batch - only faster.")
    distance = relative_distance(weights, reference, start)
    unmoved = all(torch.equal(w, s) for w, s in zip(weights, start))
    assert distance <= WEIGHT_TOLERANCE, (
        f"{where}: the weights ended {distance:.0%} of the baseline's weight change away from the "
        f"baseline's weights (at most {WEIGHT_TOLERANCE:.0%} is rounding). "
        + ("They did not move at all: the step does not update the model." if unmoved else
           "The update differs: same loss, same optimizer and learning rate, every sample of the batch."))


# ---------------------------------------------------------------------------- forced overflow
def first_linear(model: nn.Module) -> nn.Linear:
    return next(m for m in model.modules() if isinstance(m, nn.Linear))


@contextlib.contextmanager
def overflowing_gradients(model: nn.Module):
    """Within the block, backward passes give the first layer's weight an ``inf`` gradient (a float16 overflow)."""
    handle = first_linear(model).weight.register_hook(lambda grad: torch.full_like(grad, float("inf")))
    try:
        yield
    finally:
        handle.remove()


@warnings_on_stdout
def assert_skips_overflowing_steps(make_fast_step, schedule, seed=0, batch=TRAIN_BATCH) -> None:
    """Run one step per entry of ``schedule`` (True = its gradients overflow).

    An overflowing step must leave every weight exactly as it was; every other step must change them,
    and the weights must stay finite throughout.
    """
    with on_soc(SOC):
        model = make_model(seed=seed)
        step = _build(make_fast_step, model, "make_fast_step")
        for i, overflow in enumerate(schedule):
            before = parameters_of(model)
            what = f"step {i + 1}" + (" (its gradients overflow)" if overflow else "")
            with overflowing_gradients(model) if overflow else contextlib.nullcontext():
                loss = step(*digits(batch, batch * i))
            after = parameters_of(model)
            assert all(torch.isfinite(w).all() for w in after), (
                f"{what}: the weights became inf or NaN. In float16 a gradient can overflow; such a "
                "step must be skipped, not applied, and the scale of the loss lowered.")
            if overflow:
                changed = sum(not torch.equal(a, b) for a, b in zip(before, after))
                assert changed == 0, (
                    f"{what}: {changed} weight tensors changed. A step whose gradients contain inf/NaN "
                    "must leave the weights untouched.")
            else:
                _loss_value(loss, what)
                assert any(not torch.equal(a, b) for a, b in zip(before, after)), (
                    f"{what}: no weight changed - " + ("after an overflow the next good step must train again"
                                                       if any(schedule[:i]) else "the step does not update the model"))


# ---------------------------------------------------------------------------- speed
@warnings_on_stdout
def measured(make_step, steps: int = 1, start: int = 1, who: str = "make_fast_step"):
    """Simulated figures of ``steps`` steps of batch :data:`SPEED_BATCH` after one warm-up step."""
    from ascend_compat.sim import measure

    with on_soc(SOC):
        model = make_model()
        step = _build(make_step, model, who)
        batches = [digits(SPEED_BATCH, SPEED_BATCH * (start + i)) for i in range(steps)]  # on the NPU already
        step(*digits(SPEED_BATCH, 0))                       # warm-up: optimizer state, fused buffers
        with measure() as figures:
            for images, labels in batches:
                step(images, labels)
    return figures, parameters_of(model)


@warnings_on_stdout
def speedup(make_fast_step, steps: int = 1, start: int = 1):
    """(baseline figures, your figures, ratio); also checks your measured steps trained like the baseline's."""
    base, reference = measured(make_baseline_step, steps, start, who="make_baseline_step")
    mine, weights = measured(make_fast_step, steps, start)
    with on_soc(SOC):
        initial = parameters_of(make_model())
    distance = relative_distance(weights, reference, initial)
    assert distance <= WEIGHT_TOLERANCE, (
        f"the timed steps did not train the model as the baseline does (weights {distance:.0%} of the "
        f"baseline's change away, at most {WEIGHT_TOLERANCE:.0%}): a faster step that skips work "
        "does not count")
    return base, mine, base.elapsed_ms / mine.elapsed_ms


@warnings_on_stdout
def assert_fast_enough(make_fast_step, steps: int = 1, start: int = 1) -> None:
    base, mine, ratio = speedup(make_fast_step, steps, start)
    per_step = f"{steps} step{'s' if steps > 1 else ''}"
    assert ratio >= TARGET_SPEEDUP, (
        f"over {per_step} of {SPEED_BATCH} digits your step took {mine.elapsed_ms:.3f} ms "
        f"({mine.kernels} kernels), the baseline {base.elapsed_ms:.3f} ms ({base.kernels} kernels): "
        f"{ratio:.2f}x faster, the target is {TARGET_SPEEDUP}x. "
        + ("It is slower than the baseline. " if ratio < 1 else "")
        + "Which of the two limits did you remove - the device's float32 compute, the host's launches, or both?")


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("faster_step_trains")
def returns_a_step_that_returns_the_loss(make_fast_step):
    """make_fast_step(model) returns step(images, labels), which returns the batch's loss"""
    losses, _, _ = train(make_fast_step, steps=1)
    expected, _, _ = train(make_baseline_step, steps=1, who="make_baseline_step")
    assert abs(losses[0] - expected[0]) <= LOSS_TOLERANCE, (
        f"the first step returned the loss {losses[0]:.4f}; the baseline's first loss on the same batch "
        f"and weights is {expected[0]:.4f}. Return the loss of the batch, computed before the update.")


@EXERCISE.test("faster_step_trains")
def trains_like_the_baseline(make_fast_step):
    """three steps train the model as the float32 baseline does (losses and weights)"""
    assert_trains_like_the_baseline(make_fast_step, steps=3)


@EXERCISE.test("faster_step_trains")
def skips_a_step_whose_gradients_overflow(make_fast_step):
    """a step whose float16 gradients overflow leaves the weights untouched, and training goes on"""
    assert_skips_overflowing_steps(make_fast_step, [False, True, False])


@EXERCISE.test("faster_step_speed")
def at_least_the_target_speedup(make_fast_step):
    """one step of 1024 digits is at least 1.4x faster than the baseline in simulated time, and trains"""
    assert_fast_enough(make_fast_step)


EXERCISE.hint(
    "faster_step_trains",
    "Keep the model, the loss, Adam and its learning rate; change how the step computes, not what it computes.",
    "In float16, small gradients underflow and large ones overflow. Level 2 · Mixed precision shows the object "
    "that scales the loss, checks the gradients and skips a bad step - made for the npu device.",
    "Create the optimizer and the scaler once, in make_fast_step, not in every call of step: they keep state "
    "between steps.",
)
EXERCISE.hint(
    "faster_step_speed",
    "Profile or measure() the baseline: how many kernels does one step launch, and which ones take device time?",
    "The optimizer's loop launches several small kernels per parameter, and on this SoC foreach has no fast "
    "path. torch_npu has optimizers that update all parameters in a handful of kernels (Level 3 · Fusion).",
    "The matrix multiplications run in float32 at 16 TFLOPS on a 910A; its cube unit does 256 TFLOPS in float16. "
    "The 910A has no bfloat16: an autocast dtype it does not support is switched off with a warning.",
)
