"""Random numbers on the simulated NPU come from the NPU's own generators — dropout included."""

from __future__ import annotations

import torch
import torch.nn.functional as F

import ascend_compat  # noqa: F401  (the simulated NPU)


def _dropout_mask(device: str) -> list[int]:
    return F.dropout(torch.ones(64, device=device), 0.5).ne(0).int().tolist()


def test_npu_manual_seed_makes_dropout_reproducible_whatever_the_cpu_generator_did():
    torch.manual_seed(5)
    torch.npu.manual_seed(1)
    first = _dropout_mask("npu:0")
    torch.manual_seed(7)                 # a different CPU stream ...
    torch.rand(10)
    torch.npu.manual_seed(1)             # ... the same NPU seed
    assert _dropout_mask("npu:0") == first


def test_dropout_on_the_npu_leaves_the_cpu_stream_alone():
    torch.manual_seed(0)
    expected = torch.rand(4)
    torch.manual_seed(0)
    _dropout_mask("npu:0")
    assert torch.equal(torch.rand(4), expected)


def test_each_npu_draws_from_its_own_generator():
    torch.npu.manual_seed_all(3)
    on_0, on_1 = _dropout_mask("npu:0"), _dropout_mask("npu:1")
    assert on_0 == on_1                  # both generators were seeded alike
    torch.npu.manual_seed_all(3)
    state = torch.npu.get_rng_state(1)
    _dropout_mask("npu:0")               # advances npu:0 only
    assert torch.equal(torch.npu.get_rng_state(1), state)
    assert _dropout_mask("npu:1") == on_1


def test_rng_state_round_trip_reproduces_dropout():
    state = torch.npu.get_rng_state()
    first = _dropout_mask("npu:0")
    torch.npu.set_rng_state(state)
    assert _dropout_mask("npu:0") == first
