"""Visible tests and hints of ``exercises/level3_optimization/ex02_peak_memory_budget.ipynb``.

Questions: ``memory_same_update`` (``train_step(model, optimizer, images, labels)`` makes the same
SGD update as the baseline's one full-batch step, and returns the batch's mean loss) and
``memory_under_budget`` (its peak device memory stays under :data:`BUDGET_MIB`, for every batch size up
to :data:`LARGEST_BATCH`, while making that same update).

Peak memory is what ``torch.npu.max_memory_allocated()`` reports - on the simulated NPU the caching
allocator's exact bookkeeping (:mod:`ascend_compat.sim.memory`), identical on every run. The tests
count it from *before* the model is built: the model, its gradients and optimizer state, the batch
and the step's activations are the job's memory; whatever else the notebook holds on the device is
not. So the figure is the same in any notebook state, and the same call measures a real NPU.

The baseline needs about 25 MiB for a batch of 2048 and 45 MiB for 4096: its activations grow with
the batch. Gradient accumulation over micro-batches of at most ~700 samples fits every batch in the
budget; a fixed *number* of micro-batches does not fit the largest batch; activation checkpointing
alone saves too little here; ``empty_cache()`` and ``set_to_none`` change the peak little or not at all.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ascend_compat.grading.checks._optimization import digits, parameters_of, warnings_on_stdout
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex02_peak_memory_budget")

MiB = 2**20
BUDGET_MIB = 18
BATCH = 2048
LARGEST_BATCH = 4096
WIDTH, DEPTH = 256, 6
LEARNING_RATE, MOMENTUM = 0.05, 0.9
LOSS_TOLERANCE = 1e-5       # absolute: a sum of micro-batch losses differs from the mean by float rounding (~1e-7)
WEIGHT_TOLERANCE = 1e-3     # distance from the baseline's weights / distance the baseline moved them


# ---------------------------------------------------------------------------- the exercise's job
def make_model(width: int = WIDTH, depth: int = DEPTH, seed: int = 0) -> nn.Module:
    """A deep, narrow MLP on 3x8x8 digits (``depth`` hidden layers of ``width``), on the NPU."""
    torch.manual_seed(seed)
    layers = [nn.Flatten(), nn.Linear(3 * 8 * 8, width), nn.ReLU()]
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers).to("npu")


def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)


def baseline_step(model, optimizer, images, labels):
    """The step as written: the whole batch in one forward and backward pass."""
    optimizer.zero_grad(set_to_none=False)
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.detach()


# ---------------------------------------------------------------------------- running a step
def _loss_value(loss, what: str) -> float:
    if isinstance(loss, torch.Tensor):
        assert loss.numel() == 1, f"{what} returned a tensor of shape {tuple(loss.shape)}; return the batch's mean loss (one number)"
        value = loss.detach().float().cpu().item()
    elif isinstance(loss, (int, float)) and not isinstance(loss, bool):
        value = float(loss)
    else:
        raise AssertionError(f"{what} returned {type(loss).__name__}; return the batch's mean loss (a tensor or a float)")
    assert math.isfinite(value), f"{what} returned the loss {value}"
    return value


class _InputDevices:
    """Which devices the model's forward passes got their input on."""

    def __init__(self, model):
        self.devices: set = set()
        self._handle = model.register_forward_pre_hook(self._record)

    def _record(self, module, args):
        for a in args:
            if isinstance(a, torch.Tensor):
                self.devices.add(a.device.type)

    def remove(self):
        self._handle.remove()


@warnings_on_stdout
def run_job(step, batches, width=WIDTH, depth=DEPTH, seed=0, who="train_step"):
    """Train a fresh model with ``step`` on batches of the given sizes (one step each, the last one measured).

    Returns (losses, weights, peak bytes of the last step counted from before the model was built).
    """
    from ascend_compat.sim import measure

    torch.npu.synchronize()
    start = torch.npu.memory_allocated(0)
    model = make_model(width, depth, seed)
    optimizer = make_optimizer(model)
    watch = _InputDevices(model)
    losses = []
    try:
        for i, size in enumerate(batches):
            images, labels = digits(size, 97 * i)
            if i == len(batches) - 1:
                with measure(devices=[0]) as figures:
                    loss = step(model, optimizer, images, labels)
            else:
                loss = step(model, optimizer, images, labels)
            losses.append(_loss_value(loss, f"{who} on a batch of {size}"))
            del images, labels
    finally:
        watch.remove()
    assert watch.devices <= {"npu"}, (
        f"the model ran on {sorted(watch.devices)}: the step must train on the NPU (moving work to the host "
        "does not fit a device, it leaves it)")
    assert all(p.device.type == "npu" for p in model.parameters()), "the model's parameters left the NPU"
    peak = figures.peak_memory_per_device[0] - start
    weights = parameters_of(model)
    del model, optimizer
    return losses, weights, peak


def relative_distance(mine, reference, start) -> float:
    moved = math.sqrt(sum(((r - s) ** 2).sum().item() for r, s in zip(reference, start)))
    apart = math.sqrt(sum(((m - r) ** 2).sum().item() for m, r in zip(mine, reference)))
    return apart / moved if moved else float("inf")


@warnings_on_stdout
def assert_same_update(train_step, batches=(BATCH, BATCH), width=WIDTH, depth=DEPTH, seed=0) -> None:
    """``train_step`` and the baseline, from the same weights on the same batches, end in the same place."""
    _same_update(train_step, batches, width, depth, seed)


def _same_update(train_step, batches, width, depth, seed) -> int:
    """:func:`assert_same_update`; returns the peak (bytes) of ``train_step``'s last step."""
    losses, weights, peak = run_job(train_step, batches, width, depth, seed)
    expected, reference, _ = run_job(baseline_step, batches, width, depth, seed, who="baseline_step")
    start = parameters_of(make_model(width, depth, seed))
    sizes = " and ".join(str(b) for b in batches)
    where = f"steps on batches of {sizes} (model {depth} x {width})"
    assert [tuple(w.shape) for w in weights] == [tuple(r.shape) for r in reference], (
        f"{where}: the model's parameters changed shape or number; fit the step, not a different model")
    for i, (mine, theirs) in enumerate(zip(losses, expected)):
        if abs(mine - theirs) <= LOSS_TOLERANCE:
            continue
        # a later step's loss can only differ if the weights it started from differ: blame the update
        assert i == 0, (
            f"{where}: step 1 returned the right loss, but step {i + 1} returned {mine:.6f} where the baseline "
            f"has {theirs:.6f}: the weights after step {i} already differed. The update is wrong, not the "
            "returned loss: one optimizer step per batch, with the gradient of the mean loss over every sample "
            "of it - check how the parts are weighted and whether gradients survive from part to part.")
        raise AssertionError(
            f"{where}: step 1 returned the loss {mine:.6f}, but the mean cross-entropy of its batch "
            f"is {theirs:.6f}. Return the loss of the whole batch, averaged over all its samples.")
    distance = relative_distance(weights, reference, start)
    unmoved = all(torch.equal(w, s) for w, s in zip(weights, start))
    assert distance <= WEIGHT_TOLERANCE, (
        f"{where}: the weights ended {distance:.2%} of the baseline's change away from the baseline's "
        f"(at most {WEIGHT_TOLERANCE:.1%}: float rounding). "
        + ("They did not move at all." if unmoved else
           "One optimizer step per batch, with the gradient of the mean loss over every sample of it: "
           "check how the parts of the batch are weighted, and how many times the optimizer steps."))
    return peak


@warnings_on_stdout
def assert_under_budget(train_step, batch=BATCH, width=WIDTH, depth=DEPTH, seed=0) -> None:
    """The step makes the baseline's update and its peak stays within the budget."""
    peak = _same_update(train_step, (batch, batch), width, depth, seed)
    assert peak <= BUDGET_MIB * MiB, (
        f"on a batch of {batch} the step's peak device memory is {peak / MiB:.2f} MiB; the budget is "
        f"{BUDGET_MIB} MiB (model, gradients, optimizer state, batch and activations together). "
        + ("That is no less than the baseline: what takes the memory at the peak, and which of it "
           "grows with the batch?" if peak >= run_job(baseline_step, (batch, batch), who="baseline_step")[2]
           else "Lower, but not enough - and the batch may be as large as "
                f"{LARGEST_BATCH}: what decides the peak must not grow with it."))


def peak_mib(step, batch: int) -> float:
    """The peak device memory (MiB) of ``step`` on a batch of ``batch`` digits, after one warm-up step."""
    return run_job(step, (batch, batch))[2] / MiB


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("memory_same_update")
def makes_the_baselines_update(train_step):
    """two steps on batches of 2048 end with the baseline's weights, returning its losses"""
    assert_same_update(train_step)


@EXERCISE.test("memory_under_budget")
def fits_a_batch_of_2048(train_step):
    """a batch of 2048: the baseline's update within 18 MiB of peak device memory"""
    assert_under_budget(train_step, BATCH)


@EXERCISE.test("memory_under_budget")
def fits_the_largest_batch(train_step):
    """the largest batch, 4096: the baseline's update within 18 MiB"""
    assert_under_budget(train_step, LARGEST_BATCH)


EXERCISE.hint(
    "memory_same_update",
    "Run check('memory_under_budget') first if you have not: it says how far from the budget you are. "
    "Whatever you change, one call must still be one optimizer step on the gradient of the whole batch's mean loss.",
    "Gradients add up: backward() on two losses accumulates into .grad. The mean over the batch is the sum "
    "over its samples divided by the batch size - also when its parts are not of equal size.",
    "Step the optimizer once, after all parts of the batch went through backward; return the batch's mean loss.",
)
EXERCISE.hint(
    "memory_under_budget",
    "measure() (or torch.npu.max_memory_allocated()) tells you the peak; Level 3 · Memory shows where it sits "
    "in a training step and what it is made of.",
    "The activations saved for backward grow with the number of samples in one forward pass. The batch size is "
    "the user's choice; the number of samples per forward pass can be yours.",
    "empty_cache() only returns cached, unused memory: it never lowers the peak of live tensors.",
)
