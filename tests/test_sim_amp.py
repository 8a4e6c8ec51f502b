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


def _overflowing_step(scaler):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2).to("npu")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    before = model.weight.detach().clone()
    hook = model.weight.register_hook(lambda grad: torch.full_like(grad, float("inf")))
    scaler.scale(model(torch.randn(3, 4, device="npu")).sum()).backward()
    scaler.step(optimizer)
    scaler.update()
    hook.remove()
    return not torch.equal(before, model.weight.detach())


def test_torch_npu_grad_scaler_signature_and_static_scale():
    # torch_npu's 5th argument is `dynamic`; False keeps a static scale and never skips a step
    dynamic = torch.npu.amp.GradScaler(16.0, 2.0, 0.5, 2000, True)
    assert not _overflowing_step(dynamic) and dynamic.get_scale() == 8.0
    static = torch.npu.amp.GradScaler(16.0, 2.0, 0.5, 2000, False)
    assert _overflowing_step(static) and static.get_scale() == 16.0
    # the state carries "dynamic" (torch_npu's load_state_dict requires it) and restores it
    state = static.state_dict()
    assert state["dynamic"] is False
    restored = torch.npu.amp.GradScaler()
    restored.load_state_dict(state)
    assert restored.get_scale() == 16.0 and _overflowing_step(restored) and restored.get_scale() == 16.0
    with pytest.raises(TypeError):
        torch.npu.amp.GradScaler(device="npu")  # no **kwargs swallowing unknown arguments
