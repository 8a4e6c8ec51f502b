"""An error inside a backward pass is raised from backward(); it never aborts the process.

PyTorch runs the backward pass of the simulated NPU on a worker thread; an exception escaping
there into the C++ engine would kill the process (see ascend_compat/sim/backward_errors.py).
Each case runs in a subprocess, so a regression shows as a failed test, not a crashed runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import os, torch
import ascend_compat
from torch import nn
"""


def _run(body: str, tmp_path) -> subprocess.CompletedProcess:
    script = tmp_path / "case.py"
    script.write_text(PRELUDE + textwrap.dedent(body))
    env = dict(os.environ, ASCEND_COMPAT_BACKEND="sim")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=180)


def _assert_survived(result, *expected):
    assert result.returncode == 0, f"the process died (exit {result.returncode}):\n{result.stderr[-3000:]}"
    for line in expected:
        assert line in result.stdout, result.stdout + result.stderr[-2000:]


def test_a_raising_tensor_hook_is_raised_from_backward(tmp_path):
    result = _run("""
        w = torch.randn(4, 2, device="npu", requires_grad=True)
        handle = w.register_hook(lambda grad: 1 / 0)
        try:
            (torch.randn(3, 4, device="npu") @ w).sum().backward()
        except ZeroDivisionError:
            print("raised from backward")
        handle.remove()
        (torch.randn(3, 4, device="npu") @ w).sum().backward()
        print("next backward fine:", tuple(w.grad.shape))
    """, tmp_path)
    _assert_survived(result, "raised from backward", "next backward fine: (4, 2)")


def test_out_of_memory_during_backward_is_a_torch_oom(tmp_path):
    result = _run("""
        from ascend_compat import sim
        model = nn.Sequential(nn.Linear(256, 2048), nn.ReLU(), nn.Linear(2048, 256)).npu()
        x = torch.randn(512, 256, device="npu")
        loss = model(x).square().mean()
        used = torch.npu.memory_allocated()
        sim.configure(memory_gib=(used + (1 << 20)) / 2**30)  # 1 MiB above what is live now
        try:
            loss.backward()
        except torch.OutOfMemoryError as err:
            print("OOM from backward:", str(err).splitlines()[0][:60])
        sim.configure(memory_gib=None)
    """, tmp_path)
    _assert_survived(result, "OOM from backward: NPU out of memory")


def test_ddp_on_another_npu_without_set_device_fails_cleanly(tmp_path):
    result = _run(f"""
        import torch.distributed as dist
        from torch.nn.parallel import DistributedDataParallel
        dist.init_process_group("hccl", init_method="file://{tmp_path / 'store'}", rank=0, world_size=1)
        model = DistributedDataParallel(nn.Linear(4, 2).to("npu:1"))  # torch.npu.set_device(1) forgotten
        try:
            model(torch.randn(3, 4, device="npu:1")).sum().backward()
            print("backward ran")
        except RuntimeError as err:
            print("RuntimeError from backward:", type(err).__name__)
        dist.destroy_process_group()
    """, tmp_path)
    assert result.returncode == 0, f"the process died (exit {result.returncode}):\n{result.stderr[-3000:]}"
    assert "from backward" in result.stdout or "backward ran" in result.stdout
