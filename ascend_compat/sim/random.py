"""Random numbers on the simulated NPU: one generator per device, as on real hardware.

``torch.npu.manual_seed(s)`` seeds the current NPU's generator without touching the CPU's, and
``torch.manual_seed(s)`` seeds them all (PyTorch calls ``torch.npu.manual_seed_all`` for a
registered device). Random operators on ``npu`` tensors draw from these generators.
"""

from __future__ import annotations

import torch

from ascend_compat.sim import dispatch
from ascend_compat.sim.config import CONFIG

DEFAULT_SEED = 67280421310721  # the same default torch uses for its generators
GENERATORS: list[torch.Generator] = []
# Random operators whose schema has no `generator` argument (dropout's kernel): on the CPU they draw
# from the CPU's default generator, so for the call the simulator lends it the NPU generator's state.
DRAWS_FROM_DEFAULT_GENERATOR = frozenset({"native_dropout"})


def _ensure() -> None:
    while len(GENERATORS) < CONFIG.device_count:
        GENERATORS.append(torch.Generator().manual_seed(DEFAULT_SEED))


def generator(index: int) -> torch.Generator:
    _ensure()
    return GENERATORS[index]


def call_with_device_generator(index: int, func, args, kwargs):
    """Run a CPU kernel that draws from the default CPU generator on NPU ``index``'s generator instead."""
    device_generator, host_generator = generator(index), torch.default_generator
    host_state = host_generator.get_state()
    host_generator.set_state(device_generator.get_state())
    try:
        return func(*args, **kwargs)
    finally:
        device_generator.set_state(host_generator.get_state())   # the draws advance the NPU's stream
        host_generator.set_state(host_state)                      # and leave the CPU's untouched


def manual_seed(seed: int) -> None:
    generator(dispatch.DEVICE_STATE.current).manual_seed(int(seed))


def manual_seed_all(seed: int) -> None:
    _ensure()
    for g in GENERATORS:
        g.manual_seed(int(seed))


def seed() -> None:
    generator(dispatch.DEVICE_STATE.current).seed()


def seed_all() -> None:
    _ensure()
    first = GENERATORS[0].seed()
    for g in GENERATORS[1:]:
        g.manual_seed(first)


def initial_seed() -> int:
    return generator(dispatch.DEVICE_STATE.current).initial_seed()


def get_rng_state(device="npu") -> torch.Tensor:
    return generator(dispatch.resolve_index(device)).get_state()


def set_rng_state(new_state: torch.Tensor, device="npu") -> None:
    generator(dispatch.resolve_index(device)).set_state(new_state.cpu() if new_state.device.type != "cpu" else new_state)


def get_rng_state_all() -> list[torch.Tensor]:
    _ensure()
    return [g.get_state() for g in GENERATORS]


def set_rng_state_all(new_states) -> None:
    for index, state in enumerate(new_states):
        set_rng_state(state, index)
