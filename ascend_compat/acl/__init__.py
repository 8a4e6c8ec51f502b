"""A simulated pyACL (``import acl``): AscendCL's Python API, running on the CPU.

Scripts written for Huawei's pyACL run unchanged: ``ascend-lab run script.py`` makes ``import acl``
resolve to this package when the real pyACL is absent. Every function has the real name,
arguments and return convention (``ret`` codes, ``(value, ret)`` pairs, 0 = success); failures
return the real ACL error codes and log one line saying what is wrong
(``acl.get_recent_err_msg()`` returns it too).

Simulator extras (not in pyACL): :func:`leaks` lists every resource not released yet (device
buffers, host buffers, data buffers, datasets, model descriptions, models, streams, contexts,
devices) with the file:line that created it; :func:`reset` forgets everything (for tests).

The typical sequence, as in Ascend/samples ``python/level2_simple_inference``::

    acl.init(); acl.rt.set_device(0); ctx, ret = acl.rt.create_context(0)
    model_id, ret = acl.mdl.load_from_file("model.om")
    desc = acl.mdl.create_desc(); acl.mdl.get_desc(desc, model_id)
    ... acl.rt.malloc / acl.rt.memcpy / acl.create_data_buffer / acl.mdl.add_dataset_buffer ...
    acl.mdl.execute(model_id, input_dataset, output_dataset)
    ... release in reverse order ..., acl.rt.reset_device(0); acl.finalize()
"""

from __future__ import annotations

from ascend_compat.acl import constants, mdl, rt, util
from ascend_compat.acl import _state
from ascend_compat.acl._state import STATE
from ascend_compat.acl.constants import ACL_SUCCESS, error_name

SIMULATED = True  # real pyACL has no such attribute: `getattr(acl, "SIMULATED", False)` tells them apart

__all__ = ["init", "finalize", "rt", "mdl", "util", "create_data_buffer", "destroy_data_buffer",
           "get_data_buffer_addr", "get_data_buffer_size", "get_data_buffer_size_v2", "update_data_buffer",
           "get_soc_name", "get_recent_err_msg", "leaks", "reset", "constants", "error_name"]


def init(config_path: str | None = None) -> int:
    """``ret``: initialise AscendCL once per process (a second call returns ACL_ERROR_REPEAT_INITIALIZE)."""
    if STATE.initialized:
        return STATE.fail(constants.ACL_ERROR_REPEAT_INITIALIZE, "acl.init() was already called; call it once per "
                                                                 "process")
    if config_path is not None and not isinstance(config_path, str):
        return STATE.fail(constants.ACL_ERROR_INVALID_PARAM, "config_path must be a path string")
    STATE.initialized = True
    STATE.ever_initialized = True
    return ACL_SUCCESS


def finalize() -> int:
    """``ret``: end AscendCL. Unreleased resources stay listed by :func:`leaks` (release them first)."""
    if not STATE.initialized:
        code = constants.ACL_ERROR_REPEAT_FINALIZE if STATE.ever_initialized else constants.ACL_ERROR_UNINITIALIZE
        return STATE.fail(code, "acl.finalize() without a matching acl.init()")
    STATE.initialized = False
    return ACL_SUCCESS


def get_soc_name() -> str:
    """The SoC of the (simulated) device, e.g. ``Ascend310P3``: use it as atc's ``--soc_version``."""
    return STATE.settings()[0]


def get_recent_err_msg() -> str:
    """The last error message (pyACL's ``acl.get_recent_err_msg``), "" when there was none."""
    message, STATE.last_error = STATE.last_error, ""
    return message


# ---------------------------------------------------------------------------- data buffers
def create_data_buffer(data, size) -> int:
    """A data buffer describing ``size`` bytes at ``data`` (it does not own or copy the memory)."""
    if not isinstance(data, int) or not isinstance(size, int) or size < 0:
        STATE.fail(constants.ACL_ERROR_INVALID_PARAM, "create_data_buffer(data, size) takes a pointer and a size")
        return 0
    return STATE.add("data buffer", addr=data, size=size).handle


def destroy_data_buffer(data_buffer) -> int:
    """``ret``: destroys the descriptor only; free the memory with acl.rt.free yourself."""
    if STATE.get(data_buffer, "data buffer") is None:
        return STATE.fail(constants.ACL_ERROR_INVALID_PARAM, f"{data_buffer!r} is not a live data buffer "
                                                             "(destroyed twice?)")
    del STATE.resources[data_buffer]
    return ACL_SUCCESS


def update_data_buffer(data_buffer, data, size) -> int:
    res = STATE.get(data_buffer, "data buffer")
    if res is None:
        return STATE.fail(constants.ACL_ERROR_INVALID_PARAM, f"{data_buffer!r} is not a live data buffer")
    res.info.update(addr=data, size=size)
    STATE.version += 1
    return ACL_SUCCESS


def get_data_buffer_addr(data_buffer) -> int:
    res = STATE.get(data_buffer, "data buffer")
    return res.info["addr"] if res else 0


def get_data_buffer_size(data_buffer) -> int:
    """Deprecated in pyACL in favour of ``get_data_buffer_size_v2``; same result."""
    res = STATE.get(data_buffer, "data buffer")
    return res.info["size"] if res else 0


def get_data_buffer_size_v2(data_buffer) -> int:
    res = STATE.get(data_buffer, "data buffer")
    return res.info["size"] if res else 0


# ---------------------------------------------------------------------------- simulator extras
_LEAK_KINDS = {"model": "model", "model desc": "model description", "dataset": "dataset",
               "data buffer": "data buffer", "stream": "stream", "context": "context"}


def leaks() -> list[str]:
    """What has not been released, one line each (empty list = clean). Not part of pyACL."""
    found = []
    for region in STATE.regions.values():
        if region.kind == "device" and not region.freed:
            found.append(f"device memory {hex(region.addr)} ({region.size} bytes) from acl.rt.malloc at {region.origin}")
        elif region.kind == "host":
            found.append(f"host memory {hex(region.addr)} ({region.size} bytes) from acl.rt.malloc_host at "
                         f"{region.origin}")
    for res in STATE.resources.values():
        if res.kind in _LEAK_KINDS:
            found.append(f"{_LEAK_KINDS[res.kind]} {hex(res.handle)} created at {res.origin}")
    for device, origin in STATE.devices.items():
        refs = STATE.device_refs.get(device, 1)
        times = "" if refs == 1 else f" ({refs} acl.rt.set_device calls not matched by a reset)"
        found.append(f"device {device} set at {origin} and never reset (acl.rt.reset_device){times}")
    if STATE.initialized:
        found.append("acl.init() without acl.finalize()")
    return found


def reset() -> None:
    """Forget every resource and error (tests, notebook cells). Not part of pyACL."""
    _state.reset()
