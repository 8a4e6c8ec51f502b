"""float16 and bfloat16 matrix and convolution operators on the simulated NPU compute like the cube
unit: float32 arithmetic on the 16-bit inputs, one rounding to 16 bits at the end. (So they are as
fast as float32 on hosts without 16-bit matrix instructions, and give the same numbers on every host.)"""

from __future__ import annotations

import pytest
import torch

import ascend_compat  # noqa: F401  (the simulated NPU)


def _half(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape))).half()


def test_float16_matmul_is_float32_arithmetic_rounded_once():
    a, b, bias = _half(64, 96), _half(96, 32), _half(32)
    on_npu = (a.to("npu") @ b.to("npu")).cpu()
    assert on_npu.dtype == torch.float16
    assert torch.equal(on_npu, (a.float() @ b.float()).half())
    fused = torch.addmm(bias.to("npu"), a.to("npu"), b.to("npu")).cpu()
    assert torch.equal(fused, torch.addmm(bias.float(), a.float(), b.float()).half())
    batched = torch.bmm(a.view(2, 32, 96).to("npu"), b.repeat(2, 1, 1).to("npu")).cpu()
    assert torch.equal(batched, torch.bmm(a.view(2, 32, 96).float(), b.repeat(2, 1, 1).float()).half())


def test_bfloat16_matmul_is_float32_arithmetic_rounded_once(monkeypatch):
    from ascend_compat.sim import dispatch

    # PyTorch's own bfloat16 GEMM can give the same bits (it accumulates in float32 too), but on a
    # host without bf16 instructions it is ~85x slower: check the float32 path is the one taken
    widened, real = [], dispatch._via_float32
    monkeypatch.setattr(dispatch, "_via_float32", lambda func, *rest: widened.append(func) or real(func, *rest))
    a, b = _half(64, 96).bfloat16(), _half(96, 32).bfloat16()
    on_npu = (a.to("npu") @ b.to("npu")).cpu()
    assert on_npu.dtype == torch.bfloat16
    assert torch.equal(on_npu, (a.float() @ b.float()).bfloat16())
    assert [str(func) for func in widened] == ["aten.mm.default"]


def test_out_argument_and_mixed_half_dtypes_keep_pytorchs_kernels():
    a, b = _half(8, 8), _half(8, 8)
    out = torch.empty(8, 8, dtype=torch.float16).to("npu")
    torch.mm(a.to("npu"), b.to("npu"), out=out)
    assert torch.allclose(out.cpu().float(), a.float() @ b.float(), atol=0.05)
    with pytest.raises(RuntimeError):
        a.to("npu") @ b.bfloat16().to("npu")


def test_float16_results_overflow_to_inf_as_on_the_device():
    big = torch.full((4, 4), 200.0, dtype=torch.float16)
    out = (big.to("npu") @ big.to("npu")).cpu()           # 4 * 200 * 200 = 160000 > 65504
    assert out.dtype == torch.float16 and torch.isinf(out).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_convolution_and_its_backward(dtype):
    x = _half(2, 3, 8, 8).to(dtype).to("npu").requires_grad_()
    conv = torch.nn.Conv2d(3, 4, 3, padding=1).to(dtype).to("npu")
    out = conv(x)
    out.float().sum().backward()
    assert out.dtype == x.grad.dtype == conv.weight.grad.dtype == dtype
    reference = torch.nn.functional.conv2d(x.detach().cpu().float(), conv.weight.detach().cpu().float(),
                                           conv.bias.detach().cpu().float(), padding=1).to(dtype)
    assert torch.equal(out.detach().cpu(), reference)


def test_mixed_dtypes_are_still_refused():
    with pytest.raises(RuntimeError):
        _half(4, 4).to("npu") @ torch.randn(4, 4).to("npu")


def test_float16_autocast_training_step_stays_in_float16():
    model = torch.nn.Linear(16, 4).to("npu")
    with torch.autocast("npu", dtype=torch.float16):
        out = model(torch.randn(8, 16).to("npu"))
    assert out.dtype == torch.float16
    out.float().sum().backward()
    assert model.weight.grad.dtype == torch.float32
