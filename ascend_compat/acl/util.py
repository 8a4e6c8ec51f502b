"""``acl.util``: turn numpy arrays and bytes into pointers and back (simulated pyACL).

``numpy_to_ptr``/``bytes_to_ptr`` return the *real* address of the object's memory, as pyACL does,
and remember it so ``acl.rt.memcpy`` can check bounds. Keep the array/bytes alive while you use the
pointer (the samples keep them in a variable). ``ptr_to_numpy``/``ptr_to_bytes`` only work on host
memory: on an ``ACL_HOST`` machine device memory must first be copied with ``acl.rt.memcpy``.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ascend_compat.acl import constants as C
from ascend_compat.acl._state import STATE, host_view

_NPY_TYPES = {C.NPY_BOOL: np.bool_, C.NPY_BYTE: np.int8, C.NPY_UBYTE: np.uint8, C.NPY_SHORT: np.int16,
              C.NPY_USHORT: np.uint16, C.NPY_INT: np.int32, C.NPY_UINT: np.uint32, C.NPY_LONG: np.int64,
              C.NPY_ULONG: np.uint64, C.NPY_LONGLONG: np.int64, C.NPY_ULONGLONG: np.uint64,
              C.NPY_FLOAT: np.float32, C.NPY_DOUBLE: np.float64, C.NPY_HALF: np.float16}


def numpy_to_ptr(array) -> int:
    """The address of a C-contiguous numpy array's data (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"acl.util.numpy_to_ptr expects a numpy.ndarray, not {type(array).__name__}")
    if not array.flags["C_CONTIGUOUS"]:
        raise ValueError("acl.util.numpy_to_ptr needs a C-contiguous array; use np.ascontiguousarray(array) first")
    addr = array.ctypes.data
    STATE.register_util(addr, array.nbytes, array)
    return addr


def bytes_to_ptr(data) -> int:
    """The address of a bytes object's buffer (no copy; memcpy into it changes the bytes object)."""
    if not isinstance(data, bytes):
        raise TypeError(f"acl.util.bytes_to_ptr expects bytes, not {type(data).__name__}")
    addr = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
    STATE.register_util(addr, len(data), data)
    return addr


def _host_region(ptr, size: int, what: str):
    region, offset = STATE.find(ptr)
    if region is None or region.freed:
        raise ValueError(f"acl.util.{what}: {ptr!r} is not host memory the runtime knows (from acl.rt.malloc_host or "
                         "acl.util.numpy_to_ptr/bytes_to_ptr), or it was freed")
    if region.kind == "device":
        raise ValueError(f"acl.util.{what}: {hex(ptr)} is device memory; copy it to the host first with "
                         "acl.rt.memcpy(host_ptr, size, dev_ptr, size, ACL_MEMCPY_DEVICE_TO_HOST)")
    if offset + size > region.size:
        raise ValueError(f"acl.util.{what}: {size} bytes at {hex(ptr)} run past the end of the buffer "
                         f"({region.size - offset} bytes left)")
    return region


def ptr_to_bytes(ptr, size) -> bytes:
    """A copy of ``size`` bytes of host memory at ``ptr``."""
    _host_region(ptr, size, "ptr_to_bytes")
    return ctypes.string_at(ptr, size)


def ptr_to_numpy(ptr, shape, npy_type) -> np.ndarray:
    """A numpy array *sharing* host memory at ``ptr`` (``npy_type``: numpy type number, e.g. 11 = float32)."""
    if npy_type not in _NPY_TYPES:
        raise ValueError(f"acl.util.ptr_to_numpy: npy_type {npy_type!r} is not a numpy type number "
                         "(e.g. 11 = float32, 23 = float16, 2 = uint8)")
    dtype = np.dtype(_NPY_TYPES[npy_type])
    shape = tuple(int(s) for s in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    _host_region(ptr, size, "ptr_to_numpy")
    return host_view(ptr, size).view(dtype).reshape(shape)
