"""Backend selection: automatic choice, the override variable, bad values, re-imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ascend_compat import _backend
from ascend_compat.errors import UserError


def _run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_requested_backend_parses_and_rejects(monkeypatch):
    monkeypatch.setenv(_backend.ENV_VAR, "SIM")
    assert _backend.requested_backend() == "sim"
    monkeypatch.setenv(_backend.ENV_VAR, "auto")
    assert _backend.requested_backend() is None
    monkeypatch.setenv(_backend.ENV_VAR, "tpu")
    with pytest.raises(UserError, match="not a backend; use one of npu, sim, cuda, cpu"):
        _backend.requested_backend()


def test_automatic_choice_without_torch_npu_is_the_simulator():
    result = _run("import ascend_compat, torch; b = ascend_compat.backend(); "
                  "print(b.name, torch.npu.is_available(), 'torch_npu' in b.reason)", ASCEND_COMPAT_BACKEND="")
    assert result.stdout.split() == ["sim", "True", "True"], result.stderr


def test_cpu_backend_has_no_npu_and_never_imports_the_simulator():
    result = _run("import sys, ascend_compat, torch; print(ascend_compat.backend().name, hasattr(torch, 'npu'), "
                  "'ascend_compat.sim' in sys.modules)", ASCEND_COMPAT_BACKEND="cpu")
    assert result.stdout.split() == ["cpu", "False", "False"], result.stderr


def test_requesting_a_missing_real_npu_or_gpu_is_one_clear_line():
    for wanted, expected in (("npu", "real NPU is not usable: torch_npu is not installed"), ("cuda", "no CUDA GPU")):
        result = _run("import ascend_compat; ascend_compat.backend()", ASCEND_COMPAT_BACKEND=wanted)
        assert result.returncode != 0
        assert expected in result.stderr


def test_importing_twice_and_reloading_is_safe():
    result = _run("import importlib, torch, ascend_compat; importlib.reload(ascend_compat); "
                  "import ascend_compat.sim as s; s.install(); x = torch.ones(2, device='npu'); print(x.device)",
                  ASCEND_COMPAT_BACKEND="sim")
    assert result.stdout.strip() == "npu:0", result.stderr


def test_cuda_passthrough_maps_the_api():
    result = _run("import torch; from ascend_compat import cuda_passthrough as c; c.install(); c.install(); "
                  "print(torch.npu.synchronize is torch.cuda.synchronize, torch.npu.device_count is torch.cuda.device_count, "
                  "hasattr(torch.Tensor, 'is_npu'))", ASCEND_COMPAT_BACKEND="cpu")
    assert result.stdout.split() == ["True", "True", "True"], result.stderr
