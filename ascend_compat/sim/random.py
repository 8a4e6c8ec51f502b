"""Random numbers on the simulated NPU: one generator per device, as on real hardware.

``torch.npu.manual_seed(s)`` seeds the current NPU's generator without touching the CPU's, and
``torch.manual_seed(s)`` seeds them all (PyTorch calls ``torch.npu.manual_seed_all`` for a
registered device). Random operators on ``npu`` tensors draw from these generators.

A learner's own ``torch.Generator(device="npu")`` works too (as with torch_npu, and as CUDA code's
``torch.Generator(device="cuda")`` does after migration): PyTorch's Python device hooks cannot
create a generator for a Python backend, so :func:`install` puts a subclass in ``torch.Generator``
that keeps its numbers in a CPU generator and reports the NPU as its device. As on real devices, a
random operator on an NPU refuses a CPU generator (:func:`check_generator`).
"""

from __future__ import annotations

import weakref

import torch

from ascend_compat.sim import dispatch
from ascend_compat.sim.config import CONFIG

DEFAULT_SEED = 67280421310721  # the same default torch uses for its generators
_CGenerator = torch._C.Generator


class _GeneratorType(type(_CGenerator)):
    """``isinstance(g, torch.Generator)`` stays true for every generator, the CPU's default included."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, _CGenerator)

    def __subclasscheck__(cls, sub) -> bool:
        return issubclass(sub, _CGenerator)


class Generator(_CGenerator, metaclass=_GeneratorType):
    """``torch.Generator(device="cpu")``, which also accepts ``"npu"``, ``"npu:N"`` and ``torch.device("npu", N)``."""

    def __new__(cls, device="cpu"):
        if isinstance(device, str) and device.startswith(dispatch.BACKEND):
            device = torch.device(device)
        if isinstance(device, torch.device) and device.type == dispatch.BACKEND:
            generator = _CGenerator.__new__(cls, "cpu")
            generator._npu_index = index = dispatch.resolve_index(device)
            # operators receive PyTorch's own Python object for this generator, not this one
            generator._as_operators_see_it = seen = _as_operators_see_it(generator)
            _NPU_GENERATORS[seen] = index
            return generator
        return _CGenerator.__new__(cls, device)

    @property
    def device(self) -> torch.device:
        index = getattr(self, "_npu_index", None)
        return _CGenerator.device.__get__(self) if index is None else torch.device(dispatch.BACKEND, index)

    def __reduce__(self):
        """Pickling and deepcopy rebuild an NPU generator on its NPU (PyTorch's own would make a CPU one)."""
        reduced = super().__reduce__()
        if getattr(self, "_npu_index", None) is None:
            return reduced
        return (Generator, (self.device,), *reduced[2:])


Generator.__module__, Generator.__qualname__ = "torch", "Generator"


# The generator objects operators receive (see Generator.__new__) -> the NPU they belong to; an
# entry lives as long as the learner's generator, which holds its object.
_NPU_GENERATORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _CatchGenerator(torch.Tensor):
    """An empty tensor whose operators only note the generator they are handed. (A tensor, not a
    TorchDispatchMode: entering a mode imports torch._dynamo, over a second of every start-up.)"""

    seen = None

    @staticmethod
    def __new__(cls):
        return torch.Tensor._make_wrapper_subclass(cls, (0,), dtype=torch.float32)

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        cls.seen = (kwargs or {}).get("generator")
        return args[0]


def _as_operators_see_it(generator):
    """The Python object PyTorch's C++ core hands to operators for ``generator`` (a different
    object from the one made in Python): caught from a random fill of an empty tensor."""
    _CatchGenerator().uniform_(generator=generator)
    seen, _CatchGenerator.seen = _CatchGenerator.seen, None
    return seen


def install() -> None:
    """``torch.Generator`` becomes :class:`Generator` (once); each device gets its default generator."""
    if torch.Generator is _CGenerator:
        torch.Generator = Generator
    _ensure()


def operator_generator(index: int, given, on_npu: bool = True):
    """The generator a random operator on ``npu:index`` draws from: the device's own when none was
    given; a given one must be an NPU generator when the result stays on the NPU."""
    if given is None:
        return generator(index)
    if on_npu:
        check_generator(given)
    return given


def is_npu_generator(generator) -> bool:
    try:  # the object operators receive, or (should PyTorch ever hand it over) the learner's own
        return generator in _NPU_GENERATORS or getattr(generator, "_npu_index", None) is not None
    except TypeError:  # not weak-referenceable: not a generator at all
        return False


def check_generator(generator) -> None:
    """A random operator on the NPU was given ``generator``: it must be an NPU generator."""
    if not is_npu_generator(generator):
        found = generator.device.type if isinstance(generator, _CGenerator) else type(generator).__name__
        raise RuntimeError(f"Expected a '{dispatch.BACKEND}' device type for generator but found '{found}'; "
                           f"create it on the NPU: torch.Generator(device=\"{dispatch.BACKEND}\")")


GENERATORS: list[torch.Generator] = []
# Random operators whose schema has no `generator` argument (dropout's kernel): on the CPU they draw
# from the CPU's default generator, so for the call the simulator lends it the NPU generator's state.
DRAWS_FROM_DEFAULT_GENERATOR = frozenset({"native_dropout"})


def _ensure() -> None:
    while len(GENERATORS) < CONFIG.device_count:
        GENERATORS.append(Generator(torch.device(dispatch.BACKEND, len(GENERATORS))).manual_seed(DEFAULT_SEED))


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
