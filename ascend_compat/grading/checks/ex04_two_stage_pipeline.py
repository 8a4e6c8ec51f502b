"""Visible tests and hints of ``exercises/level3_optimization/ex04_two_stage_pipeline.ipynb``.

Questions: ``pipeline_split`` (``split_model(model)`` puts copies of the first and second half of
the model's blocks on ``npu:0`` and ``npu:1`` and leaves the model alone), ``pipeline_output``
(``pipelined_forward(stage0, stage1, batch, micro_batches)`` returns exactly what one device
computes, in order, on the last stage's device) and ``pipeline_overlap`` (in simulated time it is
at least :data:`TARGET_SPEEDUP` times faster than the naive two-device run, because both devices work
at once).

The tests of the second and third question build the stages themselves (:func:`reference_stages`),
so a mistake in ``split_model`` costs only its own points.

The exercise plays an **Atlas 300I inference card (model 3000)**, which carries four Ascend 310
chips; the job uses two of them. The chips are slow enough that the stages' matrix multiplications,
not the host's launches, set the pace - the condition for overlap to show (as the pipelines lesson
explains, :mod:`ascend_compat.sim.timeline` gives every device its own engines). With 4
micro-batches the pipelined run is about 1.4 times faster than the naive one here; synchronising
inside the loop or running the whole batch at once leaves it at 1.0.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ascend_compat.grading.checks._optimization import digits, on_soc, parameters_of, warnings_on_stdout
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex04_two_stage_pipeline")

SOC = "Ascend310"
DEVICES = 2
TARGET_SPEEDUP = 1.3
WIDTH, HIDDEN = 384, 6
TIMED_BATCH = 256
RTOL, ATOL = 1e-5, 1e-6    # two NPUs of one kind compute the same; room for summation order on hardware


def devices():
    """The exercise's machine: two simulated Ascend 310 chips (on hardware: whatever NPUs exist)."""
    return on_soc(SOC, device_count=DEVICES)


# ---------------------------------------------------------------------------- the exercise's model
def make_model(width: int = WIDTH, hidden: int = HIDDEN, seed: int = 0) -> nn.Sequential:
    """An MLP on 3x8x8 digits as a sequence of blocks, on the CPU, in eval mode.

    Block 0 flattens and widens (192 -> width), ``hidden`` blocks of Linear + GELU follow, the last
    block classifies (width -> 10): ``hidden + 2`` blocks.
    """
    torch.manual_seed(seed)
    blocks = [nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, width), nn.GELU())]
    blocks += [nn.Sequential(nn.Linear(width, width), nn.GELU()) for _ in range(hidden)]
    blocks.append(nn.Linear(width, 10))
    return nn.Sequential(*blocks).eval()


def reference_stages(model: nn.Sequential, first: str = "npu:0", second: str = "npu:1"):
    """The tests' own split: copies of the first and second half of the blocks on two devices."""
    half = len(model) // 2
    return copy.deepcopy(model[:half]).to(first), copy.deepcopy(model[half:]).to(second)


def one_device_output(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """What the whole model computes on one NPU (npu:0): the output every split must reproduce."""
    with torch.no_grad():
        return copy.deepcopy(model).to("npu:0")(batch.to("npu:0")).cpu()


def naive_forward(stage0, stage1, batch):
    """The whole batch through stage 0, then through stage 1: the devices take turns."""
    return stage1(stage0(batch).to(next(stage1.parameters()).device))


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _assert_matches(output, expected, device, what: str) -> None:
    assert isinstance(output, torch.Tensor), f"{what} returned {type(output).__name__}, not a tensor"
    assert output.device == device, (
        f"{what} returned its output on {output.device}; leave it where the last stage computed it ({device})")
    assert tuple(output.shape) == tuple(expected.shape), (
        f"{what} returned shape {tuple(output.shape)}, expected {tuple(expected.shape)}: one row per sample")
    got = output.detach().cpu()
    if not torch.allclose(got, expected, rtol=RTOL, atol=ATOL):
        rows = [i for i in range(len(expected)) if not torch.allclose(got[i], expected[i], rtol=RTOL, atol=ATOL)]
        moved = sum(any(torch.allclose(got[i], expected[j], rtol=RTOL, atol=ATOL) for j in range(len(expected)))
                    for i in rows[:20])
        raise AssertionError(
            f"{what}: {len(rows)} of {len(expected)} output rows differ from the one-device output"
            + (" - but they appear elsewhere in the output: the rows are out of order" if moved else "") + ".")


# ---------------------------------------------------------------------------- part 1: the split
@warnings_on_stdout
def assert_splits(split_model, width=WIDTH, hidden=HIDDEN, seed=0, batch=64) -> None:
    with devices():
        model = make_model(width, hidden, seed)
        before = parameters_of(model)
        stages = split_model(model)
        assert isinstance(stages, tuple) and len(stages) == 2, (
            f"split_model(model) returned {type(stages).__name__}; return the two stages as a tuple (stage0, stage1)")
        stage0, stage1 = stages
        for name, stage in (("stage0", stage0), ("stage1", stage1)):
            assert isinstance(stage, nn.Module), f"{name} is {type(stage).__name__}, not an nn.Module"
        what = f"split_model of a model of {len(model)} blocks"
        assert all(p.device.type == "cpu" for p in model.parameters()) and all(
            torch.equal(a, b) for a, b in zip(before, parameters_of(model))), (
            f"{what}: the model you were given changed (its parameters moved or changed). The caller still uses it "
            "on the CPU: the stages must be copies.")
        half = len(model) // 2
        for name, stage, blocks, device in (("stage0", stage0, model[:half], "npu:0"),
                                            ("stage1", stage1, model[half:], "npu:1")):
            where = {str(p.device) for p in stage.parameters()}
            assert where == {device}, f"{what}: {name}'s parameters are on {sorted(where)}; it belongs on {device}"
            mine, theirs = parameters_of(stage), parameters_of(blocks)
            assert len(mine) == len(theirs) and all(a.shape == b.shape and torch.equal(a, b) for a, b in zip(mine, theirs)), (
                f"{what}: {name} does not hold the {'first' if name == 'stage0' else 'second'} half of the blocks "
                f"({len(theirs)} parameter tensors, {'blocks 0 to ' + str(half - 1) if name == 'stage0' else 'blocks ' + str(half) + ' to ' + str(len(model) - 1)})")
        images, _ = digits(batch, 5, device=torch.device("npu:0"))
        expected = one_device_output(model, images)
        with torch.no_grad():
            output = stage1(stage0(images).to("npu:1"))
        _assert_matches(output, expected, torch.device("npu:1"), f"{what}: stage1(stage0(x))")


# ---------------------------------------------------------------------------- part 2: the output
@warnings_on_stdout
def assert_pipelined_output(pipelined_forward, micro_batches: int, batch: int = 64, swapped: bool = False,
                            width=WIDTH, hidden=HIDDEN, seed=0) -> None:
    """``pipelined_forward`` reproduces the one-device output (``swapped``: stage0 on npu:1, stage1 on npu:0)."""
    with devices():
        model = make_model(width, hidden, seed)
        first, second = ("npu:1", "npu:0") if swapped else ("npu:0", "npu:1")
        stage0, stage1 = reference_stages(model, first, second)
        images, _ = digits(batch, 11, device=torch.device(first))
        expected = one_device_output(model, images)
        with torch.no_grad():
            output = pipelined_forward(stage0, stage1, images, micro_batches=micro_batches)
        what = (f"pipelined_forward(stage0 on {first}, stage1 on {second}, a batch of {batch}, "
                f"micro_batches={micro_batches})")
        _assert_matches(output, expected, torch.device(second), what)


# ---------------------------------------------------------------------------- part 3: the overlap
def timed(run, *args, **kwargs):
    """(output, simulated figures) of one call, both devices watched, after one untimed call."""
    from ascend_compat.sim import measure

    with torch.no_grad():
        run(*args, **kwargs)
        with measure(devices=range(DEVICES)) as figures:
            output = run(*args, **kwargs)
    return output, figures


@warnings_on_stdout
def assert_overlaps(pipelined_forward, micro_batches: int = 4, batch: int = TIMED_BATCH, swapped: bool = False) -> None:
    """Faster than the naive run by TARGET_SPEEDUP, with the one-device output."""
    with devices():
        model = make_model()
        first, second = ("npu:1", "npu:0") if swapped else ("npu:0", "npu:1")
        stage0, stage1 = reference_stages(model, first, second)
        images, _ = digits(batch, 3, device=torch.device(first))
        expected = one_device_output(model, images)
        _, naive = timed(naive_forward, stage0, stage1, images)
        output, mine = timed(pipelined_forward, stage0, stage1, images, micro_batches=micro_batches)
        what = f"pipelined_forward(..., a batch of {batch}, micro_batches={micro_batches})"
        _assert_matches(output, expected, torch.device(second), what)
    ratio = naive.elapsed_ms / mine.elapsed_ms
    busy = ", ".join(f"npu:{d} busy {ms:.3f} ms" for d, ms in sorted(mine.device_busy_ms.items()))
    assert ratio >= TARGET_SPEEDUP, (
        f"{what} took {mine.elapsed_ms:.3f} ms ({busy}); the naive run (whole batch, one stage after the other) "
        f"{naive.elapsed_ms:.3f} ms: {ratio:.2f}x faster, the target is {TARGET_SPEEDUP}x. "
        "For the devices to work at the same time, each must have work queued while the other computes - "
        "what in your loop makes one wait for the other?")


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("pipeline_split")
def splits_the_model_in_two(split_model):
    """split_model(model): copies of the two halves on npu:0 and npu:1, same output, model untouched"""
    assert_splits(split_model)


@EXERCISE.test("pipeline_output")
def four_micro_batches_match_one_device(pipelined_forward):
    """4 micro-batches: the one-device output, in order, on stage1's device"""
    assert_pipelined_output(pipelined_forward, micro_batches=4)


@EXERCISE.test("pipeline_output")
def uneven_micro_batches_match_one_device(pipelined_forward):
    """3 micro-batches of a batch of 64 (22 + 22 + 20): the one-device output"""
    assert_pipelined_output(pipelined_forward, micro_batches=3)


@EXERCISE.test("pipeline_overlap")
def faster_than_the_naive_run(pipelined_forward):
    """4 micro-batches of 64 are at least 1.3x faster than the naive two-device run (simulated time)"""
    assert_overlaps(pipelined_forward)


EXERCISE.hint(
    "pipeline_split",
    "Slicing an nn.Sequential (model[:4]) gives a new Sequential - holding the same layer objects as the model.",
    "Module.to() moves a module's parameters in place. Copy the halves (copy.deepcopy) before moving them.",
)
EXERCISE.hint(
    "pipeline_output",
    "A tensor computed on one NPU must be moved to the other before the second stage can use it.",
    "Ask the stages where they live (next(stage.parameters()).device) instead of writing device names down.",
    "Split the batch along its first dimension in order (chunk/split), and join the results back in the same "
    "order along the same dimension.",
)
EXERCISE.hint(
    "pipeline_overlap",
    "With the whole batch at once, npu:1 can only start when npu:0 has finished everything. What changes with "
    "smaller pieces?",
    "The host only queues work; the devices run it asynchronously. Anything that makes the host wait inside "
    "the loop (synchronize(), .item(), .cpu(), printing a tensor) stops it from queueing the next piece.",
)
