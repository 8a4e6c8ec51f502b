"""Mixed precision on the simulated NPU: the dtypes autocast accepts per SoC, and loss scaling."""

from __future__ import annotations

import warnings

import pytest
import torch

import ascend_compat  # noqa: F401  (the simulated NPU)
from ascend_compat import sim


@pytest.fixture
def soc():
    before = sim.CONFIG.soc
    yield lambda name: sim.configure(soc=name)
    sim.configure(soc=before)


def _matmul_dtype(dtype):
    a = torch.ones(2, 2, device="npu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.autocast("npu", dtype=dtype):
            out = (a @ a).dtype
    return out, [str(w.message) for w in caught]


def test_autocast_dtypes_follow_the_soc(soc):
    # torch_npu/npu/autocast_utils.py: float16 and float32 everywhere, bfloat16 where the SoC has it
    soc("Ascend910B2")
    assert _matmul_dtype(torch.bfloat16) == (torch.bfloat16, [])
    assert _matmul_dtype(torch.float16) == (torch.float16, [])
    assert _matmul_dtype(torch.float32) == (torch.float32, [])
    soc("Ascend910A")
    out, messages = _matmul_dtype(torch.bfloat16)
    assert out == torch.float32 and any("not supported" in m for m in messages)   # autocast disabled, with a warning
    assert _matmul_dtype(torch.float32) == (torch.float32, [])


def test_grad_scaler_skips_overflowing_steps_and_backs_off():
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 1).npu()
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("npu", init_scale=2.0**20, growth_interval=2)
    x = torch.ones(8, 4, device="npu")
    scales, weights = [], []
    for _ in range(20):
        optimizer.zero_grad()
        with torch.autocast("npu", dtype=torch.float16):
            loss = layer(x).float().mean()
        scaler.scale(loss).backward()
        before = layer.weight.detach().clone()
        scaler.step(optimizer)
        scaler.update()
        scales.append(scaler.get_scale())
        weights.append(not torch.equal(before, layer.weight.detach()))
    assert scales[0] == 2.0**19 and not weights[0]          # 2**20 overflows float16 gradients: step skipped
    assert any(weights) and min(scales) < 2.0**16            # backs off until gradients are finite, then steps
    grown = [b > a for a, b in zip(scales, scales[1:])]
    assert any(grown)                                        # and grows again after growth_interval clean steps
