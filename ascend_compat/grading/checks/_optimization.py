"""What the Level 3 (optimization) checks share: the device they grade on, data, and parameter snapshots.

Level 3 grades *performance* - step time, peak memory, overlap - so the figures must be the same on
every run: they come from the simulated NPU (:func:`ascend_compat.sim.measure`), never from the wall
clock. Each exercise states which Ascend SoC it plays, and its checks measure inside
:func:`on_soc`, so a learner who changed the simulator's settings in the notebook is still graded
on the SoC the task describes. On a real NPU :func:`on_soc` does nothing: the checks then measure
the real device, and the correctness tests are the same.

* :func:`digits` - scikit-learn's digits as the course ships them (:mod:`._training`), as batches;
* :func:`parameters_of` - a CPU copy of a model's parameters, to compare two models or two moments;
* :func:`on_soc`, :func:`simulated_host_clock` - the SoC the simulator plays, and
  ``time.perf_counter()`` reading its host clock (from :mod:`ascend_compat.grading.simulated_stage`);
* :func:`warnings_on_stdout` - warnings raised by the learner's code are printed, not written to
  stderr: nbgrader gives a test cell that wrote to stderr 0 points, and a warning (autocast
  switched off, an operator falling back to the CPU) is a clue for the learner, not a failed test.
"""

from __future__ import annotations

import functools
import warnings

import torch

from ascend_compat.grading.checks._training import digits as _digits
from ascend_compat.grading.simulated_stage import on_soc, simulated, simulated_host_clock

__all__ = ["simulated", "on_soc", "digits", "parameters_of", "largest_difference", "simulated_host_clock",
           "warnings_on_stdout"]


def digits(count: int, start: int = 0, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` training digits from position ``start`` on (wrapping around), on ``device``.

    Images are float32 ``(count, 3, 8, 8)`` normalised to -1..1, labels int64; the same in every run.
    """
    images, labels = _digits("train")
    index = (torch.arange(count) + start) % len(images)
    device = device if device is not None else torch.device("npu")
    return images[index].to(device), labels[index].to(device)


def parameters_of(model: torch.nn.Module) -> list[torch.Tensor]:
    """A float32 CPU copy of every parameter of ``model``, in ``model.parameters()`` order."""
    return [p.detach().float().cpu().clone() for p in model.parameters()]


def largest_difference(mine: list[torch.Tensor], reference: list[torch.Tensor]) -> float:
    """The largest absolute difference between two parameter lists (inf if their shapes differ)."""
    if len(mine) != len(reference) or any(a.shape != b.shape for a, b in zip(mine, reference)):
        return float("inf")
    return max((a - b).abs().max().item() for a, b in zip(mine, reference))


_SHOWN: set = set()  # warnings already printed in this test cell (the checks are re-imported per cell)


def warnings_on_stdout(function):
    """Decorator: warnings raised while ``function`` runs are printed on stdout, each text once."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                return function(*args, **kwargs)
            finally:
                for warning in caught:
                    text = f"{warning.category.__name__}: {warning.message}"
                    if text not in _SHOWN:
                        _SHOWN.add(text)
                        print(f"(a warning while the tests ran your code) {text}")

    return wrapper
