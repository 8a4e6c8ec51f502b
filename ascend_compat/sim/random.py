"""Random numbers on the simulated NPU: one generator per device, as on real hardware.

``torch.npu.manual_seed(s)`` seeds the current NPU's generator without touching the CPU's, and
``torch.manual_seed(s)`` seeds them all (PyTorch calls ``torch.npu.manual_seed_all`` for a
registered device). Random operators on ``npu`` tensors draw from these generators.

A learner's own ``torch.Generator(device="npu")`` works too (as with torch_npu, and as CUDA code's
``torch.Generator(device="cuda")`` does after migration): PyTorch's Python device hooks cannot
create a generator for a Python backend, so :func:`install` puts a subclass in ``torch.Generator``
that keeps its numbers in a CPU generator and reports the NPU as its device. As on real devices, a
random operator on an NPU refuses a CPU generator (:func:`operator_generator`).

What an NPU generator's state *is* follows torch_npu, not the CPU: a Philox counter-based
generator's seed and offset, 16 bytes (``NPUGeneratorImpl::get_state`` in Ascend/pytorch
``torch_npu/csrc/aten/NPUGeneratorImpl.cpp``; CUDA's has the same layout). Every random kernel takes
the current (seed, offset) and moves the offset on (op-plugin's kernels ask
``philox_engine_inputs(10)``, which rounds up to a multiple of 4: 12). The simulator draws each
kernel's numbers from a CPU generator seeded from that pair, so the numbers differ from hardware's
but everything a program can observe about the state behaves as it does there: ``get_rng_state()``
is a 16-byte ``uint8`` tensor, a saved state replays the same numbers, a CPU generator's 5056-byte
state is refused as "wrong size".
"""

from __future__ import annotations

import struct
import weakref

import torch

from ascend_compat.sim import dispatch
from ascend_compat.sim.config import CONFIG

DEFAULT_SEED = 67280421310721  # the same default torch uses for its generators
_CGenerator = torch._C.Generator
# op-plugin's random kernels call philox_engine_inputs(10); NPUGeneratorState::increase rounds the
# increment up to a multiple of 4 (op_plugin/ops/opapi/*KernelNpuOpApi.cpp, NPUGeneratorImpl.cpp).
PHILOX_INCREMENT = 12
_STATE = struct.Struct("<Qq")  # uint64 seed, int64 offset: NPUGeneratorImpl::get_state's layout
_MASK64 = (1 << 64) - 1


class Philox:
    """An NPU generator's state: its seed and the offset into the Philox stream."""

    __slots__ = ("seed", "offset")

    def __init__(self, seed: int = DEFAULT_SEED):
        self.seed, self.offset = seed, 0

    def draw(self, engine) -> None:
        """Seed the CPU generator ``engine`` for one random kernel, and move the offset on."""
        # splitmix64's finaliser: nearby (seed, offset) pairs give unrelated CPU streams
        z = (self.seed * 0x9E3779B97F4A7C15 + self.offset + 1) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        _CGenerator.manual_seed(engine, z ^ (z >> 31))
        self.offset += PHILOX_INCREMENT

    def state(self) -> torch.Tensor:
        return torch.frombuffer(bytearray(_STATE.pack(self.seed, self.offset)), dtype=torch.uint8)

    def set_state(self, new_state) -> None:
        """torch_npu's checks, in its order: a CPU ByteTensor (TypeError), of 16 bytes or 8 (seed only)."""
        if not (isinstance(new_state, torch.Tensor) and new_state.dtype == torch.uint8
                and new_state.device.type == "cpu" and new_state.layout == torch.strided):
            raise TypeError("RNG state must be a torch.ByteTensor (a uint8 CPU tensor, as "
                            "torch.npu.get_rng_state() returns)")
        data = bytes(new_state.contiguous().numpy())
        if len(data) == _STATE.size // 2:
            data += bytes(_STATE.size // 2)  # no offset: the stream starts again from its seed
        elif len(data) != _STATE.size:
            raise RuntimeError(f"RNG state is wrong size: an NPU generator's state is {_STATE.size} bytes "
                               f"(Philox seed and offset), got {len(data)}; pass a state saved from "
                               "torch.npu.get_rng_state(), not the CPU's torch.get_rng_state()")
        self.seed, self.offset = _STATE.unpack(data)


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
            generator = _CGenerator.__new__(cls, "cpu")  # the CPU engine behind the Philox state
            generator._npu_index = index = dispatch.resolve_index(device)
            generator._philox = philox = Philox()
            # operators receive PyTorch's own Python object for this generator, not this one
            generator._as_operators_see_it = seen = _as_operators_see_it(generator)
            _NPU_GENERATORS[seen] = (index, philox)
            return generator
        return _CGenerator.__new__(cls, device)

    # An NPU generator's state is its Philox seed and offset (see the module docstring); a CPU
    # generator made through this class keeps PyTorch's own methods.
    def manual_seed(self, seed) -> "Generator":
        _CGenerator.manual_seed(self, seed)  # PyTorch's range check and mapping of negative seeds
        philox = getattr(self, "_philox", None)
        if philox is not None:
            philox.seed, philox.offset = _CGenerator.initial_seed(self), 0
        return self

    def seed(self) -> int:
        value = _CGenerator.seed(self)
        philox = getattr(self, "_philox", None)
        if philox is not None:
            philox.seed, philox.offset = value, 0
        return value

    def initial_seed(self) -> int:
        philox = getattr(self, "_philox", None)
        return _CGenerator.initial_seed(self) if philox is None else philox.seed

    def get_state(self) -> torch.Tensor:
        philox = getattr(self, "_philox", None)
        return _CGenerator.get_state(self) if philox is None else philox.state()

    def set_state(self, new_state) -> "Generator":
        philox = getattr(self, "_philox", None)
        if philox is None:
            return _CGenerator.set_state(self, new_state)
        philox.set_state(new_state)
        return self

    def get_offset(self) -> int:
        philox = getattr(self, "_philox", None)
        return _CGenerator.get_offset(self) if philox is None else philox.offset

    def set_offset(self, offset: int) -> "Generator":
        philox = getattr(self, "_philox", None)
        if philox is None:
            return _CGenerator.set_offset(self, offset)
        philox.offset = int(offset)
        return self

    @property
    def device(self) -> torch.device:
        index = getattr(self, "_npu_index", None)
        return _CGenerator.device.__get__(self) if index is None else torch.device(dispatch.BACKEND, index)

    def __reduce__(self):
        """Pickling and deepcopy rebuild an NPU generator on its NPU, with its state (PyTorch's own
        would make a CPU one)."""
        philox = getattr(self, "_philox", None)
        if philox is None:
            return super().__reduce__()
        return (_rebuild_npu_generator, (self.device, philox.seed, philox.offset))


def _rebuild_npu_generator(device, seed: int, offset: int) -> "Generator":
    generator = Generator(device)
    generator._philox.seed, generator._philox.offset = seed, offset
    return generator


Generator.__module__, Generator.__qualname__ = "torch", "Generator"


# The generator objects operators receive (see Generator.__new__) -> (the NPU they belong to, their
# Philox state); an entry lives as long as the learner's generator, which holds its object.
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
    """The generator a random operator on ``npu:index`` draws from, seeded for this one kernel:
    the device's own when none was given; a given one must be an NPU generator when the result
    stays on the NPU."""
    if given is None:
        chosen = generator(index)
        chosen._philox.draw(chosen)
        return chosen
    philox = _philox_of(given)
    if philox is not None:
        philox.draw(given)
    elif on_npu:
        _refuse(given)
    return given


def _philox_of(generator):
    """The Philox state of an NPU generator (the object operators receive, or the learner's own);
    ``None`` for any other generator."""
    try:
        entry = _NPU_GENERATORS.get(generator)
    except TypeError:  # not weak-referenceable: not a generator at all
        return None
    return entry[1] if entry is not None else getattr(generator, "_philox", None)


def _refuse(generator):
    """A random operator on the NPU was given a generator that is not an NPU generator."""
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
    host_generator = torch.default_generator
    host_state = host_generator.get_state()
    generator(index)._philox.draw(host_generator)  # this kernel's numbers, from the NPU's state
    try:
        return func(*args, **kwargs)
    finally:
        host_generator.set_state(host_state)  # the CPU's own stream is left untouched


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


class GeneratorIndexError(RuntimeError, IndexError):
    """A device id past the last NPU: torch_npu indexes its tuple of default generators with it.
    (A RuntimeError too, as dispatch.NPUDeviceError is; that class cannot be named here: dispatch imports
    this module before defining it.)"""


def _state_index(device) -> int:
    # torch_npu/npu/random.py get_rng_state/set_rng_state: an int or str becomes a torch.device (its
    # type is not checked), an index-less one means the current NPU, and the index picks
    # ``default_generators[idx]``, so an id out of range is an IndexError
    if isinstance(device, str):
        device = torch.device(device)
    elif isinstance(device, int):
        device = torch.device("npu", device)
    index = dispatch.DEVICE_STATE.current if device.index is None else device.index
    try:
        return dispatch.check_index(index)
    except RuntimeError as exc:
        raise GeneratorIndexError(str(exc)) from None


def get_rng_state(device="npu") -> torch.Tensor:
    return generator(_state_index(device)).get_state()


def set_rng_state(new_state: torch.Tensor, device="npu") -> None:
    generator(_state_index(device)).set_state(new_state.clone(memory_format=torch.contiguous_format))


def get_rng_state_all() -> list[torch.Tensor]:
    _ensure()
    return [g.get_state() for g in GENERATORS]


def set_rng_state_all(new_states) -> None:
    for index, state in enumerate(new_states):
        set_rng_state(state, index)
