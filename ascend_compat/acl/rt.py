"""``acl.rt``: devices, contexts, streams and memory (simulated AscendCL runtime).

Same names, arguments and return conventions as pyACL: functions return ``ret`` (0 = success) or a
``(value, ret)`` pair. Signatures from the pyACL reference ("aclpythondevg", e.g. ``ret =
acl.rt.memset(dev_ptr, max_count, value, count)``) and the calls in Ascend/samples
``python/level2_simple_inference``.

The simulated machine runs in ``ACL_HOST`` mode (an accelerator card in a server, like Atlas 300I):
host and device memory are separate, so data must be copied with ``memcpy``.
"""

from __future__ import annotations

from ascend_compat.acl import constants as C
from ascend_compat.acl._state import STATE, host_view

_COPY_NAMES = {0: "ACL_MEMCPY_HOST_TO_HOST", 1: "ACL_MEMCPY_HOST_TO_DEVICE", 2: "ACL_MEMCPY_DEVICE_TO_HOST",
               3: "ACL_MEMCPY_DEVICE_TO_DEVICE", 4: "ACL_MEMCPY_DEFAULT"}


def _need_init() -> int:
    if not STATE.initialized:
        return STATE.fail(C.ACL_ERROR_UNINITIALIZE, "acl.init() has not been called (or acl.finalize() already was)")
    return 0


def _need_context() -> int:
    ret = _need_init()
    if ret:
        return ret
    if STATE.current_context is None or STATE.current_context not in STATE.resources:
        return STATE.fail(C.ACL_ERROR_RT_CONTEXT_NULL, "no current context: call acl.rt.set_device(device_id) "
                                                       "(or create/set a context) first")
    return 0


def _current_device() -> int:
    return STATE.resources[STATE.current_context].info["device"]


# ---------------------------------------------------------------------------- devices
def set_device(device_id) -> int:
    """``ret``: use ``device_id`` in this thread. Reference-counted, as in AscendCL: every call
    must be matched by one :func:`reset_device` before the device's resources are released."""
    ret = _need_init()
    if ret:
        return ret
    _, _, count = STATE.settings()
    if not isinstance(device_id, int) or not 0 <= device_id < count:
        return STATE.fail(C.ACL_ERROR_RT_INVALID_DEVICEID, f"device {device_id!r} does not exist; this machine has "
                                                           f"{count} device(s): 0..{count - 1}")
    if device_id not in STATE.devices:
        STATE.devices[device_id] = _caller()
        ctx = STATE.add("default context", device=device_id)
        STATE.default_contexts[device_id] = ctx.handle
    STATE.device_refs[device_id] = STATE.device_refs.get(device_id, 0) + 1
    STATE.current_context = STATE.default_contexts[device_id]
    return C.ACL_SUCCESS


def reset_device(device_id) -> int:
    """``ret``: undo one :func:`set_device`; the last one releases the device's default context."""
    ret = _need_set_device(device_id)
    if ret:
        return ret
    STATE.device_refs[device_id] -= 1
    if STATE.device_refs[device_id] == 0:
        _release_device(device_id)
    return C.ACL_SUCCESS


def reset_device_force(device_id) -> int:
    """``ret``: release the device however many times :func:`set_device` was called."""
    ret = _need_set_device(device_id)
    if ret:
        return ret
    _release_device(device_id)
    return C.ACL_SUCCESS


def _need_set_device(device_id) -> int:
    """0 if ``device_id`` is in use (acl.init and acl.rt.set_device done), else the error code."""
    ret = _need_init()
    if ret:
        return ret
    if device_id not in STATE.devices:
        return STATE.fail(C.ACL_ERROR_RT_INVALID_DEVICEID, f"device {device_id!r} was not set with acl.rt.set_device")
    return C.ACL_SUCCESS


def _release_device(device_id: int) -> None:
    del STATE.devices[device_id]
    STATE.device_refs.pop(device_id, None)
    ctx = STATE.default_contexts.pop(device_id)
    STATE.resources.pop(ctx, None)
    if STATE.current_context == ctx or (STATE.current_context in STATE.resources and
                                        STATE.resources[STATE.current_context].info.get("device") == device_id):
        STATE.current_context = None


def get_device_count():
    ret = _need_init()
    if ret:
        return 0, ret
    return STATE.settings()[2], C.ACL_SUCCESS


def get_run_mode():
    """``(run_mode, ret)``: ``ACL_HOST`` (1) -- the simulated NPU is a card in a host server."""
    ret = _need_init()
    if ret:
        return C.ACL_HOST, ret
    return C.ACL_HOST, C.ACL_SUCCESS


def get_mem_info(attr=0):
    """``(free, total, ret)`` of the current device's memory."""
    ret = _need_context()
    if ret:
        return 0, 0, ret
    _, total, _ = STATE.settings()
    used = STATE.device_bytes.get(_current_device(), 0)
    return total - used, total, C.ACL_SUCCESS


# ---------------------------------------------------------------------------- contexts
def create_context(device_id):
    ret = _need_init()
    if ret:
        return 0, ret
    if device_id not in STATE.devices:
        return 0, STATE.fail(C.ACL_ERROR_RT_INVALID_DEVICEID, f"call acl.rt.set_device({device_id}) before "
                                                              "acl.rt.create_context")
    ctx = STATE.add("context", device=device_id)
    STATE.current_context = ctx.handle
    return ctx.handle, C.ACL_SUCCESS


def destroy_context(context) -> int:
    ret = _need_init()
    if ret:
        return ret
    if STATE.get(context, "context") is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{context!r} is not a live context (destroyed twice?)")
    del STATE.resources[context]
    if STATE.current_context == context:
        STATE.current_context = None
    return C.ACL_SUCCESS


def set_context(context) -> int:
    ret = _need_init()
    if ret:
        return ret
    if STATE.get(context, "context") is None and STATE.get(context, "default context") is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{context!r} is not a live context")
    STATE.current_context = context
    return C.ACL_SUCCESS


def get_context():
    ret = _need_context()
    if ret:
        return 0, ret
    return STATE.current_context, C.ACL_SUCCESS


# ---------------------------------------------------------------------------- streams
def create_stream():
    ret = _need_context()
    if ret:
        return 0, ret
    stream = STATE.add("stream", context=STATE.current_context, pending=[])
    return stream.handle, C.ACL_SUCCESS


def destroy_stream(stream) -> int:
    ret = _need_init()
    if ret:
        return ret
    res = STATE.get(stream, "stream")
    if res is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{stream!r} is not a live stream (destroyed twice?)")
    _run_pending(res)
    del STATE.resources[stream]
    return C.ACL_SUCCESS


def synchronize_stream(stream) -> int:
    """Run everything queued on ``stream`` (``execute_async``, ``memcpy_async``); returns the first error."""
    ret = _need_init()
    if ret:
        return ret
    res = STATE.get(stream, "stream")
    if res is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{stream!r} is not a live stream")
    return _run_pending(res)


def synchronize_device() -> int:
    ret = _need_context()
    if ret:
        return ret
    first = 0
    for res in list(STATE.resources.values()):
        if res.kind == "stream":
            first = first or _run_pending(res)
    return first


def _run_pending(stream_res) -> int:
    first = 0
    pending = stream_res.info["pending"]
    while pending:
        ret = pending.pop(0)()
        first = first or ret
    return first


def enqueue(stream, work) -> int:
    """Queue ``work() -> ret`` on ``stream`` (used by the async APIs); stream 0 is the default stream."""
    if stream in (0, None):
        return work()
    res = STATE.get(stream, "stream")
    if res is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{stream!r} is not a live stream")
    res.info["pending"].append(work)
    return C.ACL_SUCCESS


# ---------------------------------------------------------------------------- memory
def malloc(size, policy):
    """``(dev_ptr, ret)``: ``size`` bytes of device memory."""
    ret = _need_context()
    if ret:
        return 0, ret
    if not isinstance(size, int) or size <= 0:
        return 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"size must be a positive number of bytes, not {size!r}")
    if policy not in C.MALLOC_POLICIES:
        return 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"policy {policy!r} is not an aclrtMemMallocPolicy; use "
                                                        "ACL_MEM_MALLOC_HUGE_FIRST (0), _HUGE_ONLY (1) or _NORMAL_ONLY (2)")
    device = _current_device()
    soc_name, total, _ = STATE.settings()
    used = STATE.device_bytes.get(device, 0)
    if used + size > total:
        return 0, STATE.fail(C.ACL_ERROR_RT_MEMORY_ALLOCATION,
                             f"out of device memory: asked {size} bytes, {total - used} of {total} free on "
                             f"device {device} ({soc_name})")
    return STATE.alloc_device(size, device).addr, C.ACL_SUCCESS


def free(dev_ptr) -> int:
    ret = _need_init()
    if ret:
        return ret
    region = STATE.regions.get(dev_ptr) if isinstance(dev_ptr, int) else None
    if region is None or region.kind != "device":
        inside, _ = STATE.find(dev_ptr) if isinstance(dev_ptr, int) else (None, 0)
        why = "points inside an allocation, not at its start" if inside is not None and inside.kind == "device" else \
              "was not returned by acl.rt.malloc (host memory is freed with acl.rt.free_host)"
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"acl.rt.free({_hex(dev_ptr)}): the pointer {why}")
    if region.freed:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"acl.rt.free({_hex(dev_ptr)}): double free, the memory was "
                                                     "already freed")
    region.freed = True
    region.data = None
    STATE.version += 1
    STATE.device_bytes[region.device] -= region.size
    return C.ACL_SUCCESS


def malloc_host(size):
    ret = _need_init()
    if ret:
        return 0, ret
    if not isinstance(size, int) or size <= 0:
        return 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"size must be a positive number of bytes, not {size!r}")
    return STATE.alloc_host(size).addr, C.ACL_SUCCESS


def free_host(host_ptr) -> int:
    ret = _need_init()
    if ret:
        return ret
    region = STATE.regions.get(host_ptr) if isinstance(host_ptr, int) else None
    if region is None or region.kind != "host":
        if region is not None and region.kind == "device":
            why = "is device memory; free it with acl.rt.free"
        else:
            why = "was not returned by acl.rt.malloc_host (double free, or numpy/bytes memory)"
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"acl.rt.free_host({_hex(host_ptr)}): the pointer {why}")
    STATE.drop_region(host_ptr)
    region.freed = True
    region.keep = None
    return C.ACL_SUCCESS


def resolve(ptr, count: int, what: str):
    """``(region, offset, 0)`` for ``count`` bytes at ``ptr``, or ``(None, 0, ret)`` with the error logged."""
    region, offset = STATE.find(ptr)
    if region is None:
        return None, 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{what} {_hex(ptr)} is not memory from acl.rt.malloc, "
                                   "acl.rt.malloc_host or acl.util.numpy_to_ptr/bytes_to_ptr")
    if region.freed:
        return None, 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{what} {_hex(ptr)} was freed (use after free; "
                                   f"allocated at {region.origin})")
    if offset + count > region.size:
        return None, 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{what} {_hex(ptr)}: {count} bytes do not fit, only "
                                   f"{region.size - offset} bytes from there to the end of the buffer")
    return region, offset, 0


def read_bytes(region, offset: int, count: int):
    if region.kind == "device":
        return region.data[offset:offset + count]
    return host_view(region.addr + offset, count)


def memcpy(dst, dest_max, src, count, kind) -> int:
    """``ret``: copy ``count`` bytes from ``src`` to ``dst`` (which has room for ``dest_max``)."""
    ret = _need_init()
    if ret:
        return ret
    if kind not in _COPY_NAMES:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"kind {kind!r} is not an aclrtMemcpyKind (0..4)")
    if not isinstance(count, int) or not isinstance(dest_max, int) or count < 0:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, "dest_max and count must be numbers of bytes")
    if count > dest_max:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"count {count} is larger than dest_max {dest_max}")
    if count == 0:
        return C.ACL_SUCCESS
    dst_region, dst_off, ret = resolve(dst, count, "destination")
    if ret:
        return ret
    if dst_region.size - dst_off < dest_max:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"dest_max {dest_max} is larger than the destination buffer "
                                                     f"({dst_region.size - dst_off} bytes)")
    src_region, src_off, ret = resolve(src, count, "source")
    if ret:
        return ret
    if kind != C.ACL_MEMCPY_DEFAULT:
        want_src, want_dst = {0: ("host", "host"), 1: ("host", "device"), 2: ("device", "host"),
                              3: ("device", "device")}[kind]
        got_src = "device" if src_region.kind == "device" else "host"
        got_dst = "device" if dst_region.kind == "device" else "host"
        if (got_src, got_dst) != (want_src, want_dst):
            return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{_COPY_NAMES[kind]} copies {want_src} -> {want_dst}, but "
                                                         f"this copy is {got_src} -> {got_dst}")
    read_bytes(dst_region, dst_off, count)[:] = read_bytes(src_region, src_off, count)
    return C.ACL_SUCCESS


def memcpy_async(dst, dest_max, src, count, kind, stream) -> int:
    ret = _need_init()
    if ret:
        return ret
    return enqueue(stream, lambda: memcpy(dst, dest_max, src, count, kind))


def memset(dev_ptr, max_count, value, count) -> int:
    ret = _need_init()
    if ret:
        return ret
    if not isinstance(count, int) or not isinstance(max_count, int) or count < 0 or count > max_count:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"count {count!r} must be between 0 and max_count {max_count!r}")
    region, offset, ret = resolve(dev_ptr, max_count, "memset address")
    if ret:
        return ret
    read_bytes(region, offset, count)[:] = value & 0xFF
    return C.ACL_SUCCESS


def _hex(value) -> str:
    return hex(value) if isinstance(value, int) else repr(value)


def _caller() -> str:
    from ascend_compat.acl._state import caller

    return caller()
