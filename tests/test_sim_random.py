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


def test_a_generator_on_the_npu_seeds_npu_random_operators():
    """torch.Generator(device="npu") as with torch_npu (and CUDA code's torch.Generator("cuda")):
    the same seed gives the same numbers, whatever the device's default generator did meanwhile."""
    g = torch.Generator(device="npu")
    assert g.device == torch.device("npu", 0) and torch.Generator(device="npu:1").device == torch.device("npu", 1)
    assert isinstance(g, torch.Generator) and isinstance(torch.default_generator, torch.Generator)
    g.manual_seed(3)
    first = [torch.randn(4, device="npu", generator=g).cpu(), torch.randperm(6, device="npu", generator=g).cpu(),
             torch.empty(3, device="npu").uniform_(generator=g).cpu(),
             torch.multinomial(torch.ones(5, device="npu"), 2, generator=g).cpu()]
    torch.npu.manual_seed(99)
    torch.randn(10, device="npu")  # the device's own generator moves on ...
    g.manual_seed(3)                # ... the learner's does not care
    again = [torch.randn(4, device="npu", generator=g).cpu(), torch.randperm(6, device="npu", generator=g).cpu(),
             torch.empty(3, device="npu").uniform_(generator=g).cpu(),
             torch.multinomial(torch.ones(5, device="npu"), 2, generator=g).cpu()]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], torch.randn(4, device="npu").cpu())
    assert [gen.device.index for gen in torch.npu.default_generators] == list(range(torch.npu.device_count()))
    assert torch.Generator().device == torch.device("cpu")  # CPU generators are as before

    import copy
    import pickle

    g1 = torch.Generator(device="npu:1").manual_seed(5)
    for twin in (copy.deepcopy(g1), pickle.loads(pickle.dumps(g1))):
        assert twin.device == torch.device("npu", 1)
        assert torch.equal(torch.randn(3, device="npu:1", generator=twin).cpu(),
                           torch.randn(3, device="npu:1", generator=copy.deepcopy(g1)).cpu())


def test_a_cpu_generator_for_an_npu_operator_is_refused_as_on_real_devices():
    import pytest

    for call in (lambda: torch.randn(3, device="npu", generator=torch.Generator()),
                 lambda: torch.empty(3, device="npu").normal_(generator=torch.Generator())):
        with pytest.raises(RuntimeError, match=r"Expected a 'npu' device type for generator but found 'cpu'.*"
                                               r"torch.Generator\(device=\"npu\"\)"):
            call()
    torch.rand(3, generator=torch.Generator())  # CPU operators keep CPU generators
