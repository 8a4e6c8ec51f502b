"""Errors inside a backward pass: raised from ``loss.backward()``, not a crashed process.

PyTorch's autograd engine runs a backward pass (for the simulated NPU on the calling thread, see
``registration._backward_on_calling_thread``; for other devices on a worker thread). When Python
code inside it raises — the simulator's realism checks (mixed devices, float64, out of
memory) or a learner's ``tensor.register_hook`` function — the exception travels through
PyTorch's C++ autograd engine with Python's error indicator still set, and the engine's stream
guard then calls back into the simulator's Python device guard: that call fails inside a
``noexcept`` C++ function and the process aborts ("terminate called without an active
exception"). A Jupyter kernel would die with it. A C++ backend such as torch_npu never calls
Python there, so on real hardware the same mistake is an ordinary exception from ``backward()``.

So, inside a backward pass only, the simulator does not let an exception escape into C++:

* an operator that fails a check is *recorded* (:func:`defer`) and computed anyway without the
  checks (:func:`ascend_compat.sim.dispatch.run_unchecked`), so the engine can finish;
* a tensor hook that raises is recorded and treated as returning ``None``;
* when the engine returns, ``backward()`` / ``torch.autograd.grad()`` raise the first recorded
  exception, with its own traceback.

Nothing changes when no error happens (the wrappers cost one list check per backward pass).
"""

from __future__ import annotations

import functools
import threading

import torch

_ERRORS: list[BaseException] = []
_LOCK = threading.Lock()
_STATE = {"installed": False}


def in_backward_pass() -> bool:
    """Is this code running inside one of PyTorch's backward passes (a graph task)?"""
    return torch._C._current_graph_task_id() != -1


def defer(exc: BaseException) -> None:
    """Remember ``exc`` to raise it from the ``backward()`` call that is running."""
    with _LOCK:
        _ERRORS.append(exc)


def guard_hook(hook):
    """A tensor hook that records its exception instead of raising it into the C++ engine."""

    @functools.wraps(hook)
    def guarded(grad):
        try:
            return hook(grad)
        except Exception as exc:
            if not in_backward_pass():
                raise
            defer(exc)
            return None

    return guarded


def _raising_recorded_errors(run_backward):
    @functools.wraps(run_backward)
    def run(*args, **kwargs):
        with _LOCK:
            _ERRORS.clear()
        result = run_backward(*args, **kwargs)
        with _LOCK:
            first = _ERRORS[0] if _ERRORS else None
            _ERRORS.clear()
        if first is not None:
            raise first
        return result

    return run


def install() -> None:
    """Make backward() and autograd.grad() raise what their worker thread recorded. Idempotent."""
    if _STATE["installed"]:
        return
    # torch.autograd.backward and torch.autograd.grad both call this module-level name.
    torch.autograd._engine_run_backward = _raising_recorded_errors(torch.autograd._engine_run_backward)
    _STATE["installed"] = True
