"""Everything the simulated AscendCL runtime remembers: devices, contexts, streams, memory, models.

Handles are plain integers, as in pyACL (where they are C pointers). Memory works like this:

* device memory (``acl.rt.malloc``) lives in a *simulated* address space: each allocation is a
  numpy byte array placed at a made-up address (``0x12c0_0000_0000`` upwards, never reused), so
  every access is bounds-checked and a pointer used after ``free`` is recognised;
* host memory is real: ``acl.rt.malloc_host`` allocates a ctypes buffer and returns its real
  address, and ``acl.util.numpy_to_ptr``/``bytes_to_ptr`` return the real address of the numpy
  array or bytes object (so ``memcpy`` into ``bytes_to_ptr(b)`` changes ``b``, like the real
  pyACL the samples rely on). Only host addresses the runtime handed out are accepted, so a wrong
  pointer gives an error code instead of a crash.

Every resource records where (file:line of your code) it was created; :func:`leaks` lists those
not released.
"""

from __future__ import annotations

import bisect
import ctypes
import itertools
import logging
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ascend_compat.acl import constants as C

log = logging.getLogger("ascend_compat.acl")

DEVICE_BASE = 0x12C0_0000_0000
DEVICE_ALIGN = 512  # aclrtMalloc aligns to 32 bytes and rounds sizes up; 512 keeps addresses readable
HANDLE_BASE = 0x5600_0000_0000
UTIL_REGION_LIMIT = 4096  # numpy_to_ptr/bytes_to_ptr regions remembered (oldest forgotten first)
_DEFAULT_SOC = "Ascend310P3"
_CAPACITY_GIB = {"Ascend310": 8, "Ascend310P3": 24, "Ascend310P1": 24, "Ascend310B1": 8, "Ascend910A": 32,
                 "Ascend910B": 32, "Ascend910B1": 64, "Ascend910B2": 64, "Ascend910B3": 64, "Ascend910B4": 32}


@dataclass
class Region:
    """A block of memory the runtime knows: device (simulated) or host (real address)."""

    addr: int
    size: int
    kind: str  # "device" | "host" (malloc_host) | "util" (numpy_to_ptr / bytes_to_ptr)
    data: np.ndarray | None = None  # device bytes
    keep: object = None  # host: the object that owns the memory (kept alive while registered)
    freed: bool = False
    device: int = 0
    origin: str = ""


@dataclass
class Resource:
    kind: str
    handle: int
    origin: str
    info: dict = field(default_factory=dict)


class _VersionedDict(dict):
    """A dict that counts changes, so execute() can reuse its checks while nothing changed."""

    def __init__(self, owner: "State"):
        super().__init__()
        self._owner = owner

    def __setitem__(self, key, value):
        self._owner.version += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self._owner.version += 1
        super().__delitem__(key)

    def pop(self, *args):
        self._owner.version += 1
        return super().pop(*args)


class State:
    def __init__(self) -> None:
        self.version = 0  # bumped on every change that could invalidate a cached execution plan
        self.plans: dict = {}
        self.initialized = False
        self.ever_initialized = False
        self.devices: dict[int, str] = {}  # device id -> origin of its first set_device
        self.device_refs: dict[int, int] = {}  # device id -> set_device calls not yet matched by reset_device
        self.default_contexts: dict[int, int] = {}
        self.current_context: int | None = None
        self.resources: dict[int, Resource] = _VersionedDict(self)  # contexts, streams, data buffers, datasets, descs, models
        self.regions: dict[int, Region] = {}  # start address -> region (device + host + util)
        self._starts: list[int] = []
        self.util_regions: OrderedDict[int, None] = OrderedDict()
        self.next_device_addr = DEVICE_BASE
        self.handles = itertools.count(1)
        self.device_bytes: dict[int, int] = {}
        self.last_error = ""

    # ------------------------------------------------------------------ settings
    @staticmethod
    def settings() -> tuple[str, int, int]:
        """(SoC name, device memory in bytes, device count) of the simulated machine."""
        soc_name, count, gib = _DEFAULT_SOC, 1, None
        try:
            from ascend_compat.sim.config import CONFIG

            soc_name, count, gib = CONFIG.soc, CONFIG.device_count, CONFIG.memory_gib
        except Exception:  # the torch simulator is optional for acl; its defaults apply otherwise
            soc_name = os.environ.get("ASCEND_SIM_SOC", _DEFAULT_SOC)
        if gib is None:
            try:
                from ascend_compat import soc

                info = soc.get(soc_name)
                gib = getattr(info, "memory_gib", None)
            except Exception:
                gib = None
        gib = gib or _CAPACITY_GIB.get(soc_name, 16)
        return soc_name, int(gib * (1 << 30)), count

    # ------------------------------------------------------------------ handles and errors
    def new_handle(self) -> int:
        return HANDLE_BASE + 0x40 * next(self.handles)

    def fail(self, code: int, message: str) -> int:
        """Record a failure the way the real runtime logs it, and return its code."""
        self.last_error = f"{C.error_name(code)} ({code}): {message}"
        log.warning("acl: %s", self.last_error)
        return code

    def add(self, kind: str, **info) -> Resource:
        res = Resource(kind, self.new_handle(), caller(), info)
        self.resources[res.handle] = res
        return res

    def get(self, handle, kind: str) -> Resource | None:
        res = self.resources.get(handle) if isinstance(handle, int) else None
        return res if res is not None and res.kind == kind else None

    # ------------------------------------------------------------------ memory
    def add_region(self, region: Region) -> None:
        self.version += 1
        self.regions[region.addr] = region
        bisect.insort(self._starts, region.addr)

    def drop_region(self, addr: int) -> None:
        self.version += 1
        self.regions.pop(addr, None)
        i = bisect.bisect_left(self._starts, addr)
        if i < len(self._starts) and self._starts[i] == addr:
            self._starts.pop(i)

    def find(self, addr: int) -> tuple[Region | None, int]:
        """The region containing ``addr`` and the offset in it (``None`` if unknown)."""
        if not isinstance(addr, int):
            return None, 0
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0:
            return None, 0
        region = self.regions[self._starts[i]]
        offset = addr - region.addr
        if offset < region.size or (offset == 0 and region.size == 0):
            return region, offset
        return None, 0

    def register_util(self, addr: int, size: int, owner: object) -> None:
        old = self.regions.get(addr)
        if old is not None and old.kind != "util":
            return  # already known (e.g. malloc_host memory viewed as numpy)
        if old is not None:
            self.util_regions.pop(addr, None)
            self.drop_region(addr)
        self.add_region(Region(addr, size, "util", keep=owner))
        self.util_regions[addr] = None
        while len(self.util_regions) > UTIL_REGION_LIMIT:
            oldest, _ = self.util_regions.popitem(last=False)
            self.drop_region(oldest)

    def alloc_device(self, size: int, device: int) -> Region:
        addr = self.next_device_addr
        self.next_device_addr += -(-max(size, 1) // DEVICE_ALIGN) * DEVICE_ALIGN + DEVICE_ALIGN  # guard gap
        region = Region(addr, size, "device", data=np.zeros(size, dtype=np.uint8), device=device, origin=caller())
        self.add_region(region)
        self.device_bytes[device] = self.device_bytes.get(device, 0) + size
        return region

    def alloc_host(self, size: int) -> Region:
        buffer = (ctypes.c_uint8 * max(size, 1))()
        region = Region(ctypes.addressof(buffer), size, "host", keep=buffer, origin=caller())
        self.add_region(region)
        return region


def host_view(addr: int, size: int) -> np.ndarray:
    """A writable uint8 numpy view of ``size`` bytes of real host memory at ``addr``."""
    if size == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.ctypeslib.as_array((ctypes.c_uint8 * size).from_address(addr))


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_ACLLITE = os.path.join(os.path.dirname(_PACKAGE_DIR), "acllite.py")


def caller() -> str:
    """``file:line`` of the first frame outside the simulator (where the learner called acl)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_PACKAGE_DIR) and path != _ACLLITE:
            return f"{os.path.basename(path)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


STATE = State()


def reset() -> None:
    """Forget everything (tests and notebooks call this between examples)."""
    global STATE
    STATE.__init__()
