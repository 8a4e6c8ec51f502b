"""Ascend Migration Lab's compat layer: the same Ascend code on a real NPU or a simulated one.

``import ascend_compat`` picks a backend (see :mod:`ascend_compat._backend`) and makes it ready:

* real NPU  -> ``import torch_npu`` (nothing of the simulator is imported);
* simulated -> :func:`ascend_compat.sim.install` registers a PyTorch device named ``npu``;
* cuda      -> ``torch.npu`` is mapped onto ``torch.cuda`` (:mod:`ascend_compat.cuda_passthrough`);
* cpu       -> nothing: ``torch.npu`` does not exist.

After that, lessons use the real Ascend names (``torch.npu.*``, ``tensor.npu()``, ``device="npu"``)
and the device-agnostic PyTorch ones (``torch.accelerator``, ``torch.amp``) side by side.
Importing twice, or re-running a notebook cell, is safe.
"""

from __future__ import annotations

import sys

from ascend_compat._backend import BACKENDS, ENV_VAR, BackendInfo, select_backend
from ascend_compat.errors import UserError

__all__ = ["backend", "device", "BackendInfo", "BACKENDS", "ENV_VAR", "UserError"]
__version__ = "0.1.0"

_ACTIVE: BackendInfo | None = None


def _activate(info: BackendInfo) -> None:
    if info.name == "sim":
        from ascend_compat import sim

        sim.install()
    elif info.name == "cuda":
        from ascend_compat import cuda_passthrough

        cuda_passthrough.install()
    # "npu": probe_real_npu() already imported torch_npu; "cpu": nothing to do.


def backend() -> BackendInfo:
    """The backend in use (``.name`` is ``npu``, ``sim``, ``cuda`` or ``cpu``) and why."""
    global _ACTIVE
    if _ACTIVE is None:
        info = select_backend()
        _activate(info)
        _ACTIVE = info
    return _ACTIVE


def device(index: int | None = None):
    """The ``torch.device`` lessons should use: ``npu`` (real or simulated), else ``cuda``/``cpu``."""
    import torch

    kind = backend().device_type
    return torch.device(kind) if index is None else torch.device(kind, index)


def _show_user_errors_as_one_line() -> None:
    """In Jupyter, a :class:`UserError` prints as one line, not as a traceback into the lab's code."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def one_line(shell, etype, value, tb, tb_offset=None):
        print(f"{etype.__name__}: {value}", file=sys.stderr)

    shell.set_custom_exc((UserError,), one_line)


def _activate_on_import() -> None:
    # A broken setting must not make the package unimportable: `ascend-lab doctor` has to be able
    # to report it. Warn in one line now; backend() raises the same error when asked.
    try:
        backend()
    except UserError as exc:
        import warnings

        warnings.warn(f"ascend_compat: {exc}", stacklevel=3)


_show_user_errors_as_one_line()
_activate_on_import()
