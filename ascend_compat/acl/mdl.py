"""``acl.mdl``: load offline models, describe them, build datasets and execute (simulated pyACL).

A model is a simulated ``.om`` written by :mod:`ascend_compat.atc`; executing it runs the stored
ONNX graph with onnxruntime (one cached session per loaded model). Inputs are read from, and
outputs written to, *device* buffers, exactly as on the hardware, so the learner's code does the
same host<->device copies it needs on a real NPU.

Names and return conventions: pyACL reference ("aclpythondevg": ``model_id, ret =
acl.mdl.load_from_file(path)``, ``dims, ret = acl.mdl.get_input_dims(desc, i)`` with ``dims =
{"name", "dimCount", "dims"}``, ``name = acl.mdl.get_input_name_by_index(desc, i)``, ...) and
Ascend/samples ``python/common/acllite/acllite_model.py``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from ascend_compat.acl import constants as C
from ascend_compat.acl import rt
from ascend_compat.acl._state import STATE

_SESSIONS: OrderedDict[str, object] = OrderedDict()  # graph sha256 -> onnxruntime session (shared by loads)
_SESSION_CACHE = 8
_OM_ERRORS = {"missing": C.ACL_ERROR_READ_MODEL_FAILURE, "truncated": C.ACL_ERROR_DESERIALIZE_MODEL,
              "corrupted": C.ACL_ERROR_DESERIALIZE_MODEL, "version": C.ACL_ERROR_DESERIALIZE_MODEL,
              "foreign": C.ACL_ERROR_PARSE_MODEL, "real_om": C.ACL_ERROR_PARSE_MODEL}


def _session(graph: bytes):
    import onnxruntime as ort

    key = hashlib.sha256(graph).hexdigest()
    if key in _SESSIONS:
        _SESSIONS.move_to_end(key)
        return _SESSIONS[key]
    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    _SESSIONS[key] = session
    while len(_SESSIONS) > _SESSION_CACHE:
        _SESSIONS.popitem(last=False)
    return session


# ---------------------------------------------------------------------------- load / unload
def _load(data: bytes, source: str):
    from ascend_compat.atc import om

    ret = rt._need_context()
    if ret:
        return 0, ret
    try:
        model = om.loads(data, source=source)
    except om.OmError as exc:
        return 0, STATE.fail(_OM_ERRORS[exc.kind], str(exc))
    soc_name = STATE.settings()[0]
    if model.manifest["soc_version"] != soc_name:
        return 0, STATE.fail(C.ACL_ERROR_RT_SOC_VERSION,
                             f"{source} was converted for {model.manifest['soc_version']} but this device is "
                             f"{soc_name}; convert it again with --soc_version={soc_name} (acl.get_soc_name())")
    inputs = [dict(io) for io in model.inputs]
    batch_input = model.manifest.get("dynamic_batch_input")
    if batch_input:
        inputs.append({"name": batch_input, "dtype": "int64", "shape": [1], "format": "ND", "aipp": False,
                       "dynamic_batch": True})
    res = STATE.add("model", source=source, manifest=model.manifest, inputs=inputs,
                    outputs=[dict(io) for io in model.outputs], session=_session(model.graph), cur_output_dims=None)
    return res.handle, C.ACL_SUCCESS


def load_from_file(model_path):
    """``(model_id, ret)``."""
    if not isinstance(model_path, str):
        return 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"model_path must be a str, not {type(model_path).__name__}")
    try:
        with open(model_path, "rb") as handle:
            data = handle.read()
    except OSError:
        return 0, STATE.fail(C.ACL_ERROR_READ_MODEL_FAILURE, f"cannot read model file {model_path!r}; check the path")
    return _load(data, model_path)


def load_from_mem(model, model_size):
    """``(model_id, ret)`` from ``model_size`` bytes of host memory at pointer ``model``."""
    region, offset, ret = rt.resolve(model, model_size, "model pointer")
    if ret:
        return 0, ret
    if region.kind == "device":
        return 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, "load_from_mem needs host memory (acl.util.bytes_to_ptr)")
    return _load(bytes(rt.read_bytes(region, offset, model_size)), "<model in memory>")


def unload(model_id) -> int:
    if STATE.get(model_id, "model") is None:
        return STATE.fail(C.ACL_ERROR_INVALID_MODEL_ID, f"{model_id!r} is not a loaded model (unloaded twice?)")
    del STATE.resources[model_id]
    return C.ACL_SUCCESS


# ---------------------------------------------------------------------------- model description
def create_desc() -> int:
    return STATE.add("model desc", model=None).handle


def destroy_desc(model_desc) -> int:
    if STATE.get(model_desc, "model desc") is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{model_desc!r} is not a live model description")
    del STATE.resources[model_desc]
    return C.ACL_SUCCESS


def get_desc(model_desc, model_id) -> int:
    desc = STATE.get(model_desc, "model desc")
    if desc is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{model_desc!r} is not a model description from create_desc()")
    model = STATE.get(model_id, "model")
    if model is None:
        return STATE.fail(C.ACL_ERROR_INVALID_MODEL_ID, f"{model_id!r} is not a loaded model")
    desc.info.update(model=model_id, inputs=model.info["inputs"], outputs=model.info["outputs"],
                     batches=model.info["manifest"].get("dynamic_batch_size") or [])
    return C.ACL_SUCCESS


def _io(model_desc, kind: str, index):
    desc = STATE.get(model_desc, "model desc")
    if desc is None or desc.info.get("model") is None:
        STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{model_desc!r} is not a model description filled by get_desc()")
        return None
    items = desc.info[kind]
    if not isinstance(index, int) or not 0 <= index < len(items):
        STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{kind[:-1]} index {index!r} is out of range (the model has "
                                              f"{len(items)} {kind})")
        return None
    return items[index], desc


def _nbytes(io: dict, batch: int | None) -> int:
    dims = [(batch or 1) if d == -1 else d for d in io["shape"]]
    return int(np.prod(dims, dtype=np.int64)) * np.dtype(io["dtype"]).itemsize


def _max_batch(desc) -> int | None:
    return max(desc.info["batches"]) if desc.info.get("batches") else None


def get_num_inputs(model_desc) -> int:
    desc = STATE.get(model_desc, "model desc")
    return len(desc.info["inputs"]) if desc and desc.info.get("model") else 0


def get_num_outputs(model_desc) -> int:
    desc = STATE.get(model_desc, "model desc")
    return len(desc.info["outputs"]) if desc and desc.info.get("model") else 0


def get_input_size_by_index(model_desc, index) -> int:
    """Bytes of input ``index`` (for a dynamic batch: at the largest batch size)."""
    found = _io(model_desc, "inputs", index)
    return _nbytes(found[0], _max_batch(found[1])) if found else 0


def get_output_size_by_index(model_desc, index) -> int:
    found = _io(model_desc, "outputs", index)
    return _nbytes(found[0], _max_batch(found[1])) if found else 0


def _dims(io: dict) -> dict:
    return {"name": io["name"], "dimCount": len(io["shape"]), "dims": list(io["shape"])}


def get_input_dims(model_desc, index):
    """``({"name", "dimCount", "dims"}, ret)``; a dynamic batch shows as -1."""
    found = _io(model_desc, "inputs", index)
    return (_dims(found[0]), C.ACL_SUCCESS) if found else ({}, C.ACL_ERROR_INVALID_PARAM)


def get_output_dims(model_desc, index):
    found = _io(model_desc, "outputs", index)
    return (_dims(found[0]), C.ACL_SUCCESS) if found else ({}, C.ACL_ERROR_INVALID_PARAM)


def get_cur_output_dims(model_desc, index):
    """Output dims of the last execution (the real batch for dynamic-batch models)."""
    found = _io(model_desc, "outputs", index)
    if not found:
        return {}, C.ACL_ERROR_INVALID_PARAM
    io, desc = found
    model = STATE.get(desc.info["model"], "model")
    current = model.info["cur_output_dims"] if model else None
    if current is None:
        return _dims(io), C.ACL_SUCCESS
    shape = list(current[index])
    return {"name": io["name"], "dimCount": len(shape), "dims": shape}, C.ACL_SUCCESS


def get_input_name_by_index(model_desc, index) -> str:
    found = _io(model_desc, "inputs", index)
    return found[0]["name"] if found else ""


def get_output_name_by_index(model_desc, index) -> str:
    found = _io(model_desc, "outputs", index)
    return found[0]["name"] if found else ""


def get_input_data_type(model_desc, index) -> int:
    found = _io(model_desc, "inputs", index)
    return C.ACL_DTYPE_BY_NAME.get(found[0]["dtype"], C.ACL_DT_UNDEFINED) if found else C.ACL_DT_UNDEFINED


def get_output_data_type(model_desc, index) -> int:
    found = _io(model_desc, "outputs", index)
    return C.ACL_DTYPE_BY_NAME.get(found[0]["dtype"], C.ACL_DT_UNDEFINED) if found else C.ACL_DT_UNDEFINED


def get_input_format(model_desc, index) -> int:
    found = _io(model_desc, "inputs", index)
    return C.ACL_FORMAT_BY_NAME.get(found[0]["format"], C.ACL_FORMAT_UNDEFINED) if found else C.ACL_FORMAT_UNDEFINED


def get_output_format(model_desc, index) -> int:
    found = _io(model_desc, "outputs", index)
    return C.ACL_FORMAT_BY_NAME.get(found[0]["format"], C.ACL_FORMAT_UNDEFINED) if found else C.ACL_FORMAT_UNDEFINED


def _index_by_name(model_desc, kind: str, name):
    desc = STATE.get(model_desc, "model desc")
    if desc is None or desc.info.get("model") is None:
        return 0, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{model_desc!r} is not a filled model description")
    for i, io in enumerate(desc.info[kind]):
        if io["name"] == name:
            return i, C.ACL_SUCCESS
    # Not an error worth logging: AclLiteModel probes "ascend_mbatch_shape_data" on every model.
    return 0, C.ACL_ERROR_INVALID_PARAM


def get_input_index_by_name(model_desc, name):
    return _index_by_name(model_desc, "inputs", name)


def get_output_index_by_name(model_desc, name):
    return _index_by_name(model_desc, "outputs", name)


def get_dynamic_batch(model_desc):
    """``({"batchCount": n, "batch": [...]}, ret)``; empty for a static model."""
    desc = STATE.get(model_desc, "model desc")
    if desc is None or desc.info.get("model") is None:
        return {}, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{model_desc!r} is not a filled model description")
    batches = list(desc.info["batches"])
    return {"batchCount": len(batches), "batch": batches}, C.ACL_SUCCESS


def set_dynamic_batch_size(model_id, dataset, index, batch_size) -> int:
    model = STATE.get(model_id, "model")
    if model is None:
        return STATE.fail(C.ACL_ERROR_INVALID_MODEL_ID, f"{model_id!r} is not a loaded model")
    ds = STATE.get(dataset, "dataset")
    if ds is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{dataset!r} is not a live dataset")
    batches = model.info["manifest"].get("dynamic_batch_size") or []
    if not batches:
        return STATE.fail(C.ACL_ERROR_MODEL_NOT_DYNAMIC, "the model was converted without --dynamic_batch_size")
    inputs = model.info["inputs"]
    if not isinstance(index, int) or not 0 <= index < len(inputs) or not inputs[index].get("dynamic_batch"):
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"index {index!r} is not the ascend_mbatch_shape_data input; "
                                                     "get it with acl.mdl.get_input_index_by_name")
    if batch_size not in batches:
        return STATE.fail(C.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID,
                          f"batch size {batch_size!r} is not one of the converted sizes {batches}")
    ds.info["batch"] = batch_size
    STATE.version += 1
    return C.ACL_SUCCESS


# ---------------------------------------------------------------------------- datasets
def create_dataset() -> int:
    return STATE.add("dataset", buffers=[], batch=None).handle


def destroy_dataset(dataset) -> int:
    """Destroys the dataset only: its data buffers and their memory stay yours to release."""
    if STATE.get(dataset, "dataset") is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{dataset!r} is not a live dataset (destroyed twice?)")
    del STATE.resources[dataset]
    return C.ACL_SUCCESS


def add_dataset_buffer(dataset, data_buffer):
    """``(dataset, ret)``."""
    ds = STATE.get(dataset, "dataset")
    if ds is None:
        return dataset, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{dataset!r} is not a live dataset")
    if STATE.get(data_buffer, "data buffer") is None:
        return dataset, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{data_buffer!r} is not a live data buffer")
    ds.info["buffers"].append(data_buffer)
    STATE.version += 1
    return dataset, C.ACL_SUCCESS


def get_dataset_num_buffers(dataset) -> int:
    ds = STATE.get(dataset, "dataset")
    return len(ds.info["buffers"]) if ds else 0


def get_dataset_buffer(dataset, index) -> int:
    ds = STATE.get(dataset, "dataset")
    if ds is None or not isinstance(index, int) or not 0 <= index < len(ds.info["buffers"]):
        return 0
    return ds.info["buffers"][index]


# ---------------------------------------------------------------------------- execution
def execute(model_id, input, output) -> int:  # noqa: A002  (pyACL's parameter names)
    """Run the model synchronously: read inputs from device buffers, write outputs to device buffers."""
    ret = rt._need_context()
    return ret or _run(model_id, input, output)


def execute_async(model_id, input, output, stream) -> int:  # noqa: A002
    """Queue the execution on ``stream``; results are there only after ``acl.rt.synchronize_stream``."""
    ret = rt._need_context()
    if ret:
        return ret
    if STATE.get(model_id, "model") is None:
        return STATE.fail(C.ACL_ERROR_INVALID_MODEL_ID, f"{model_id!r} is not a loaded model")
    if STATE.get(stream, "stream") is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{stream!r} is not a live stream")
    return rt.enqueue(stream, lambda: _run(model_id, input, output))


def _run(model_id, input_ds, output_ds) -> int:
    """Execute; the checked feeds and output views are cached until any acl resource changes."""
    key = (model_id, input_ds, output_ds)
    plan = STATE.plans.get(key)
    if plan is not None and plan[0] == STATE.version:
        _, session, feeds, views, model = plan
        results = session.run(None, feeds)
        for result, view in zip(results, views):
            if result.nbytes != view.size:
                break  # shape changed (cannot happen for static models); take the checked path
            view[:] = np.ascontiguousarray(result).view(np.uint8).reshape(-1)
        else:
            model.info["cur_output_dims"] = [list(r.shape) for r in results]
            return C.ACL_SUCCESS
    return _run_checked(model_id, input_ds, output_ds)


def _run_checked(model_id, input_ds, output_ds) -> int:
    model = STATE.get(model_id, "model")
    if model is None:
        return STATE.fail(C.ACL_ERROR_INVALID_MODEL_ID, f"{model_id!r} is not a loaded model")
    ins, outs = STATE.get(input_ds, "dataset"), STATE.get(output_ds, "dataset")
    if ins is None or outs is None:
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, "input and output must be live datasets from create_dataset()")
    specs = model.info["inputs"]
    if len(ins.info["buffers"]) != len(specs):
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"the model has {len(specs)} input(s) but the input dataset has "
                                                     f"{len(ins.info['buffers'])} buffer(s)")
    batch = None
    if model.info["manifest"].get("dynamic_batch_size"):
        batch = ins.info.get("batch")
        if batch is None:
            return STATE.fail(C.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID, "dynamic-batch model: call "
                              "acl.mdl.set_dynamic_batch_size before execute")
    feeds = {}
    for i, (spec, handle) in enumerate(zip(specs, ins.info["buffers"])):
        if spec.get("dynamic_batch"):
            continue
        array, ret = _device_array(handle, spec, batch, f"input {i} ({spec['name']})")
        if ret:
            return ret
        feeds[spec["name"]] = array
    try:
        results = model.info["session"].run(None, feeds)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return STATE.fail(C.ACL_ERROR_RT_MODEL_EXECUTE, f"model execution failed: {first}")
    buffers = outs.info["buffers"]
    if len(buffers) != len(results):
        return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"the model has {len(results)} output(s) but the output dataset "
                                                     f"has {len(buffers)} buffer(s)")
    views = []
    for j, (result, handle) in enumerate(zip(results, buffers)):
        buf = STATE.get(handle, "data buffer")
        if buf is None:
            return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"output {j}: {handle!r} is not a live data buffer")
        raw = np.ascontiguousarray(result).view(np.uint8).reshape(-1)
        if buf.info["size"] < raw.size:
            return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"output {j}: the data buffer has {buf.info['size']} bytes, the "
                                                         f"output needs {raw.size}")
        region, offset, ret = rt.resolve(buf.info["addr"], raw.size, f"output {j} buffer")
        if ret:
            return ret
        if region.kind != "device":
            return STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"output {j} buffer is host memory; the model writes to "
                                                         "device memory from acl.rt.malloc")
        region.data[offset:offset + raw.size] = raw
        views.append(region.data[offset:offset + raw.size])
    model.info["cur_output_dims"] = [list(r.shape) for r in results]
    if len(STATE.plans) > 64:
        STATE.plans.clear()
    STATE.plans[(model_id, input_ds, output_ds)] = (STATE.version, model.info["session"], feeds, views, model)
    return C.ACL_SUCCESS


def _device_array(handle, spec: dict, batch, what: str):
    buf = STATE.get(handle, "data buffer")
    if buf is None:
        return None, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{what}: {handle!r} is not a live data buffer")
    need = _nbytes(spec, batch)
    if buf.info["size"] < need:
        return None, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{what}: the data buffer has {buf.info['size']} bytes, the "
                                                           f"model needs {need}")
    region, offset, ret = rt.resolve(buf.info["addr"], need, what)
    if ret:
        return None, ret
    if region.kind != "device":
        return None, STATE.fail(C.ACL_ERROR_INVALID_PARAM, f"{what} points to host memory; copy it to device memory "
                                                           "(acl.rt.malloc + ACL_MEMCPY_HOST_TO_DEVICE) first")
    shape = [batch if d == -1 else d for d in spec["shape"]]
    dtype = np.dtype(spec["dtype"])
    return np.frombuffer(region.data, dtype=dtype, count=need // dtype.itemsize, offset=offset).reshape(shape), 0
