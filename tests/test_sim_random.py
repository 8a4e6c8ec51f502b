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


def test_the_npu_rng_state_is_torch_npus_philox_seed_and_offset():
    """16 bytes, uint64 seed then int64 offset (torch_npu's NPUGeneratorImpl::get_state, CUDA's layout);
    each random kernel moves the offset on by 12 (philox_engine_inputs(10) rounded to a multiple of 4)."""
    import struct

    torch.npu.manual_seed(1234)
    state = torch.npu.get_rng_state()
    assert state.dtype == torch.uint8 and state.device.type == "cpu" and state.numel() == 16
    assert struct.unpack("<Qq", bytes(state.numpy())) == (1234, 0)
    torch.randn(5, device="npu")
    F.dropout(torch.ones(8, device="npu"), 0.5)
    assert struct.unpack("<Qq", bytes(torch.npu.get_rng_state().numpy())) == (1234, 24)
    assert torch.npu.default_generators[0].get_offset() == 24 and torch.npu.initial_seed() == 1234
    torch.npu.default_generators[0].set_offset(12)      # replay the second kernel
    again = F.dropout(torch.ones(8, device="npu"), 0.5).ne(0).tolist()
    torch.npu.default_generators[0].set_offset(12)
    assert F.dropout(torch.ones(8, device="npu"), 0.5).ne(0).tolist() == again


def test_npu_random_numbers_are_not_the_cpus_for_the_same_seed():
    """Different generators (Philox on the device, Mersenne Twister on the host), as on real hardware:
    a CPU reference run does not reproduce the NPU's dropout masks or initial values."""
    torch.manual_seed(0)
    on_cpu = torch.randn(16)
    torch.manual_seed(0)
    assert not torch.equal(torch.randn(16, device="npu").cpu(), on_cpu)


def test_a_wrong_rng_state_is_refused_with_torch_npus_errors():
    import pytest

    before = torch.npu.get_rng_state()
    with pytest.raises(RuntimeError, match="RNG state is wrong size.*torch.npu.get_rng_state"):
        torch.npu.set_rng_state(torch.get_rng_state())   # the CPU's 5056-byte state
    for not_bytes in (torch.zeros(16), torch.zeros(16, dtype=torch.uint8, device="npu")):
        with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
            torch.npu.set_rng_state(not_bytes)
    assert torch.equal(torch.npu.get_rng_state(), before)  # nothing changed
    torch.npu.set_rng_state(torch.tensor([7, 0, 0, 0, 0, 0, 0, 0], dtype=torch.uint8))  # a seed alone
    assert torch.npu.initial_seed() == 7 and torch.npu.default_generators[0].get_offset() == 0


def test_a_learners_npu_generator_saves_and_restores_its_place():
    import copy
    import pickle

    g = torch.Generator(device="npu").manual_seed(11)
    torch.randn(3, device="npu", generator=g)
    saved = g.get_state()
    assert saved.numel() == 16 and g.get_offset() == 12
    expected = torch.randn(3, device="npu", generator=g).cpu()
    for twin in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):  # carry the state mid-stream
        twin.set_state(saved)
        assert torch.equal(torch.randn(3, device="npu", generator=twin).cpu(), expected)
    mid = copy.deepcopy(g)
    assert mid.get_offset() == g.get_offset() == 24
    assert torch.equal(torch.randn(3, device="npu", generator=mid).cpu(), torch.randn(3, device="npu", generator=g).cpu())
    assert torch.Generator().get_state().numel() == 5056  # CPU generators keep PyTorch's state


def test_activation_checkpointing_replays_dropout_on_the_npu():
    """torch.utils.checkpoint saves and restores the device's RNG state through torch.npu's
    get_rng_state/set_rng_state: the recomputed forward must draw the same dropout mask."""
    from torch.utils.checkpoint import checkpoint

    layer = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Dropout(0.5)).to("npu")
    x = torch.randn(4, 16, device="npu", requires_grad=True)
    torch.npu.manual_seed(2)
    layer(x).sum().backward()
    plain = x.grad.clone()
    x.grad = None
    torch.npu.manual_seed(2)
    checkpoint(layer, x, use_reentrant=False).sum().backward()
    assert torch.equal(x.grad.cpu(), plain.cpu())
