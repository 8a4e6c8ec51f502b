"""Helpers for the test cells of exercise notebooks.

:func:`pretend_machine` - pretend to be another machine, so tests reach every branch of
device-choosing code; :func:`expect_raises` - call, and demand a given exception type.

A grader runs on one machine, but ``pick_device()`` must be right on an Ascend server, a CUDA
workstation and a laptop. :func:`pretend_machine` patches the availability functions the course
tells learners to use (``torch.npu.is_available``/``device_count`` and their ``torch.cuda``
twins) with :mod:`unittest.mock`, and can hide ``torch.npu`` entirely, as on a machine without
torch_npu. Everything is restored on exit, even when the code under test raises.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterator
from unittest import mock

import torch


@contextlib.contextmanager
def pretend_machine(npu: bool | None, cuda: bool) -> Iterator[None]:
    """Within the block, torch reports the given devices.

    ``npu=True``/``False``: ``torch.npu.is_available()`` returns it (``torch.npu`` exists);
    ``npu=None``: ``torch.npu`` does not exist at all (``hasattr(torch, "npu")`` is False),
    as on a machine where torch_npu is not installed.
    ``cuda``: what ``torch.cuda.is_available()`` returns.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(torch.cuda, "is_available", return_value=cuda))
        stack.enter_context(mock.patch.object(torch.cuda, "device_count", return_value=1 if cuda else 0))
        if npu is None:
            stack.enter_context(_without_torch_npu())
        else:
            if not hasattr(torch, "npu"):  # a CPU-only process: give it a stand-in torch.npu
                stand_in = types.ModuleType("torch.npu", "stand-in created by pretend_machine")
                stand_in.is_available = lambda: False
                stand_in.device_count = lambda: 0
                stack.enter_context(mock.patch.object(torch, "npu", stand_in, create=True))
            stack.enter_context(mock.patch.object(torch.npu, "is_available", return_value=npu))
            stack.enter_context(mock.patch.object(torch.npu, "device_count", return_value=1 if npu else 0))
        yield


@contextlib.contextmanager
def _without_torch_npu() -> Iterator[None]:
    missing = object()
    saved = torch.__dict__.get("npu", missing)
    if saved is not missing:
        delattr(torch, "npu")
    try:
        yield
    finally:
        if saved is not missing:
            torch.npu = saved


def expect_raises(exception: type[BaseException], call: Callable[[], object], what: str) -> BaseException:
    """Call ``call()`` and return the ``exception`` it raises; AssertionError saying what happened otherwise.

    ``what`` names the call for the message, e.g. ``"pick_device('tpu')"``.
    """
    try:
        result = call()
    except exception as exc:
        return exc
    except NotImplementedError:  # the blank answer: let check() say "not implemented yet"
        raise
    except Exception as exc:
        raise AssertionError(f"{what} raised {type(exc).__name__} ({exc}); expected {exception.__name__}") from None
    raise AssertionError(f"{what} returned {result!r}; expected it to raise {exception.__name__}")
