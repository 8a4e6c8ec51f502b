"""The simulated ``atc``: ONNX model -> simulated ``.om`` for one Ascend SoC.

:func:`convert` takes the same options as the real ``atc`` command (same names, same values) and
does in software what matters to a learner:

1. validates the options the way atc does (``--framework``, ``--soc_version``, ``--input_shape``,
   ``--precision_mode``, ...), failing with one atc-style line;
2. validates the ONNX model (``onnx.checker``) and fixes static shapes from ``--input_shape``
   (or keeps the batch dimension open for ``--dynamic_batch_size``);
3. checks every node against the target SoC's ONNX operator list and fails like atc does
   (``E19010: No parser is registered for Op [name, optype [ai.onnx::<opset>::<type>]]``);
4. applies ``--precision_mode`` (``force_fp16`` is atc's default for inference: weights and
   activations are rounded to float16, which the simulator emulates with Cast pairs);
5. prepends AIPP preprocessing from ``--insert_op_conf`` as real ONNX nodes, so the model takes
   ``uint8`` images;
6. writes ``<output>.om`` (see :mod:`ascend_compat.atc.om`).

Option names and values: Huawei "ATC instructions" (atlasatcparam_16_*), e.g. ``--precision_mode``
values from atlasatcparam_16_0068 (CANN 8.x); command lines in Ascend/samples READMEs, e.g.
``atc --model=./googlenet.onnx --framework=5 --output=googlenet_yuv --soc_version=Ascend310
--insert_op_conf=insert_op.cfg --input_shape="actual_input_1:1,3,224,224" --input_format=NCHW``.
The ``E19010`` wording: atc output quoted in Ascend/ModelZoo-PyTorch issue #6 and
open-mmlab/mmagic issue #1068. ``E10001`` is atc's code for an invalid parameter value.
"""

from __future__ import annotations

import copy
import hashlib
import os
import time

import numpy as np

from ascend_compat.atc import aipp as aipp_mod
from ascend_compat.atc import om, onnx_op_support, socs
from ascend_compat.errors import UserError

FRAMEWORKS = {0: "Caffe", 1: "MindSpore", 3: "TensorFlow", 5: "ONNX"}
INPUT_FORMATS = ("NCHW", "NHWC", "ND")
PRECISION_MODES = (
    "force_fp32", "cube_fp16in_fp32out", "force_fp16", "allow_fp32_to_fp16", "must_keep_origin_dtype",
    "allow_mix_precision", "allow_mix_precision_fp16", "allow_mix_precision_bf16", "allow_fp32_to_bf16",
)
DEFAULT_PRECISION_MODE = "force_fp16"  # atc's default for inference
# --precision_mode_v2 (CANN 6.3+, the option Huawei now recommends): the same modes, new names;
# it cannot be combined with --precision_mode
PRECISION_MODES_V2 = {"fp16": "force_fp16", "origin": "must_keep_origin_dtype",
                      "cube_fp16in_fp32out": "cube_fp16in_fp32out", "mixed_float16": "allow_mix_precision_fp16",
                      "mixed_bfloat16": "allow_mix_precision_bf16"}
OUTPUT_TYPES = ("FP32", "FP16", "UINT8")
LOG_LEVELS = ("debug", "info", "warning", "error", "null")
CUBE_OPS = frozenset({"Conv", "ConvTranspose", "MatMul", "Gemm"})
DYNAMIC_BATCH_INPUT = "ascend_mbatch_shape_data"  # the extra input atc adds for --dynamic_batch_size
MAX_DYNAMIC_GEARS = 100

_NP_NAMES = {1: "float32", 10: "float16", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64",
             9: "bool", 11: "float64", 4: "uint16", 12: "uint32", 13: "uint64", 16: "bfloat16"}


class AtcError(UserError):
    """atc refused the model or an option; the message starts like atc's (``E19010: ...``)."""


def _invalid(option: str, value, reason: str) -> AtcError:
    return AtcError(f"E10001: Value [{value}] for parameter [--{option}] is invalid. Reason: {reason}")


# ---------------------------------------------------------------------------- option parsing
def parse_input_shape(text: str) -> dict[str, list[int]]:
    """``"input:1,3,224,224;mask:1,224"`` -> ``{"input": [1, 3, 224, 224], "mask": [1, 224]}``.

    Names may contain ``:`` (ONNX names like ``x:0``): the shape is what follows the last colon.
    """
    shapes: dict[str, list[int]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, dims = part.rpartition(":")
        if not sep or not name:
            raise _invalid("input_shape", text, f"'{part}' must look like name:d1,d2,... e.g. input:1,3,224,224")
        try:
            values = [int(d) for d in dims.split(",")] if dims.strip() else []
        except ValueError:
            raise _invalid("input_shape", text, f"dimensions of '{name}' must be integers (or -1 for dynamic)") from None
        if any(d < -1 or d == 0 for d in values):
            raise _invalid("input_shape", text, f"dimensions of '{name}' must be positive, or -1 for dynamic")
        if name in shapes:
            raise _invalid("input_shape", text, f"input '{name}' is given twice")
        shapes[name] = values
    if not shapes:
        raise _invalid("input_shape", text, "no shapes given; use name:d1,d2,... separated by ';'")
    return shapes


def parse_dynamic_batch_size(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise _invalid("dynamic_batch_size", text, "use comma-separated positive integers, e.g. \"1,2,4,8\"") from None
    if not values or any(v <= 0 for v in values):
        raise _invalid("dynamic_batch_size", text, "use comma-separated positive integers, e.g. \"1,2,4,8\"")
    if len(set(values)) != len(values):
        raise _invalid("dynamic_batch_size", text, "the batch sizes must be different from each other")
    if len(values) > MAX_DYNAMIC_GEARS:
        raise _invalid("dynamic_batch_size", text, f"at most {MAX_DYNAMIC_GEARS} batch sizes")
    return values


def resolve_precision_mode(precision_mode: str | None = None, precision_mode_v2: str | None = None) -> str:
    """The mode atc compiles with, in ``--precision_mode``'s names, from either option (not both).

    ``--precision_mode_v2`` names the same modes differently; with neither option, atc's default.
    Raises :class:`AtcError` for both options at once or a value atc does not know.
    """
    if precision_mode_v2 is not None:
        if precision_mode is not None:
            raise _invalid("precision_mode_v2", precision_mode_v2,
                           "it cannot be used together with --precision_mode; keep one of the two")
        if precision_mode_v2 not in PRECISION_MODES_V2:
            raise _invalid("precision_mode_v2", precision_mode_v2, f"use one of {', '.join(PRECISION_MODES_V2)}")
        return PRECISION_MODES_V2[precision_mode_v2]
    if precision_mode is None:
        return DEFAULT_PRECISION_MODE
    if precision_mode not in PRECISION_MODES:
        raise _invalid("precision_mode", precision_mode, f"use one of {', '.join(PRECISION_MODES)}")
    return precision_mode


def _framework(value) -> int:
    try:
        code = int(value)
    except (TypeError, ValueError):
        raise _invalid("framework", value, "use 0 (Caffe), 1 (MindSpore), 3 (TensorFlow) or 5 (ONNX)") from None
    if code not in FRAMEWORKS:
        raise _invalid("framework", value, "use 0 (Caffe), 1 (MindSpore), 3 (TensorFlow) or 5 (ONNX)")
    if code != 5:
        raise AtcError(f"--framework={code} ({FRAMEWORKS[code]}) is not available in simulation; export the model "
                       "to ONNX and use --framework=5")
    return code


# ---------------------------------------------------------------------------- the conversion
def convert(model: str, output: str, soc_version: str, framework=5, input_shape: str | None = None,
            input_format: str = "NCHW", insert_op_conf: str | None = None,
            precision_mode: str | None = None, input_fp16_nodes: str | None = None,
            output_type: str | None = None, dynamic_batch_size: str | None = None,
            log: str = "null", precision_mode_v2: str | None = None) -> str:
    """Convert an ONNX model like ``atc --mode=0``; returns the path of the written ``.om``.

    ``output`` is the path *without* ``.om`` (atc appends it), exactly like atc's ``--output``.
    Raises :class:`AtcError` (a :class:`~ascend_compat.errors.UserError`) with one clear line.
    """
    import onnx

    started = time.perf_counter()
    framework = _framework(framework)
    if not model:
        raise _invalid("model", model, "give the path of the ONNX model with --model")
    if not output:
        raise _invalid("output", output, "give the output path without extension, e.g. --output=./resnet50")
    soc_version = socs.check(soc_version)
    if input_format not in INPUT_FORMATS:
        raise _invalid("input_format", input_format, f"use one of {', '.join(INPUT_FORMATS)}")
    precision_mode = resolve_precision_mode(precision_mode, precision_mode_v2)
    if "bf16" in precision_mode and not socs.supports_bf16(soc_version):
        raise _invalid("precision_mode", precision_mode, f"{soc_version} has no bfloat16; use force_fp16 or allow_mix_precision_fp16")
    if output_type is not None and output_type.upper() not in OUTPUT_TYPES:
        raise _invalid("output_type", output_type, f"use one of {', '.join(OUTPUT_TYPES)}")
    if output_type and output_type.upper() == "UINT8":
        raise AtcError("--output_type=UINT8 is valid for atc but not available in simulation; use FP32 or FP16")
    if log not in LOG_LEVELS:
        raise _invalid("log", log, f"use one of {', '.join(LOG_LEVELS)}")
    if not os.path.isfile(model):
        raise _invalid("model", model, "the file does not exist; check the path")
    if output.endswith(".om"):
        output = output[:-3]  # atc would write model.om.om; be kind and accept both

    with open(model, "rb") as handle:
        source_bytes = handle.read()
    try:
        proto = onnx.load_from_string(source_bytes)
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise AtcError(f"E19999: failed to parse ONNX model {model!r} ({type(exc).__name__}); is it an .onnx file?") from None
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0]
        raise AtcError(f"E19999: the ONNX model {model!r} is invalid: {first}") from None

    graph = proto.graph
    initializer_names = {i.name for i in graph.initializer}
    real_inputs = [i for i in graph.input if i.name not in initializer_names]
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)

    _check_operators(graph, opset, soc_version)

    shapes = parse_input_shape(input_shape) if input_shape else {}
    unknown = sorted(set(shapes) - {i.name for i in real_inputs})
    if unknown:
        raise _invalid("input_shape", input_shape, f"input {unknown[0]!r} is not in the model; its inputs are "
                       f"{', '.join(i.name for i in real_inputs)}")
    batches = parse_dynamic_batch_size(dynamic_batch_size) if dynamic_batch_size else []
    fp16_inputs = [n.strip() for n in (input_fp16_nodes or "").split(";") if n.strip()]
    for name in fp16_inputs:
        if name not in {i.name for i in real_inputs}:
            raise _invalid("input_fp16_nodes", input_fp16_nodes, f"input {name!r} is not in the model")

    work = copy.deepcopy(proto)
    _fix_input_shapes(work, shapes, batches)
    work = onnx.shape_inference.infer_shapes(work)
    _apply_precision_mode(work, precision_mode)

    formats = {i.name: input_format for i in real_inputs}
    aipp_configs = aipp_mod.load(insert_op_conf) if insert_op_conf else []
    aipp_inputs = _apply_aipp(work, aipp_configs, input_format, insert_op_conf or "")
    _apply_fp16_io(work, fp16_inputs, output_type)

    del work.graph.value_info[:]
    work = onnx.shape_inference.infer_shapes(work, strict_mode=True)
    graph_bytes = work.SerializeToString()
    _check_runs(graph_bytes)

    manifest = {
        "format": "ascend_compat simulated om",
        "soc_version": soc_version,
        "framework": framework,
        "precision_mode": precision_mode,
        "opset": opset,
        "source_model": os.path.basename(model),
        "source_sha256": hashlib.sha256(source_bytes).hexdigest(),
        "input_format": input_format,
        "inputs": [_io_entry(v, aipp_inputs.get(v.name, formats.get(v.name, "ND")), v.name in aipp_inputs)
                   for v in work.graph.input if v.name not in {i.name for i in work.graph.initializer}],
        "outputs": [_io_entry(v, "ND", False) for v in work.graph.output],
        # atc adds this input for --dynamic_batch_size; acl.mdl.set_dynamic_batch_size fills it.
        # It is not part of the ONNX graph: the simulated runtime reads the batch from it.
        "aipp": [c.to_dict() for c in aipp_configs],
        "dynamic_batch_input": DYNAMIC_BATCH_INPUT if batches else None,
        "dynamic_batch_size": batches,
        "op_list": onnx_op_support.list_name_for(soc_version),
        "atc_options": {k: v for k, v in dict(input_shape=input_shape, insert_op_conf=insert_op_conf,
                                              input_fp16_nodes=input_fp16_nodes, output_type=output_type,
                                              dynamic_batch_size=dynamic_batch_size).items() if v},
        "conversion_seconds": round(time.perf_counter() - started, 4),
    }
    return om.save(output + ".om", manifest, graph_bytes)


def _check_operators(graph, opset: int, soc_version: str) -> None:
    supported = onnx_op_support.supported_ops(soc_version)
    missing = []
    for node in _all_nodes(graph):
        domain = node.domain or "ai.onnx"
        if domain != "ai.onnx" or node.op_type not in supported:
            missing.append(f"[{node.name or node.op_type}, optype [{domain}::{opset}::{node.op_type}]]")
    if missing:
        more = f" (and {len(missing) - 1} more: {'; '.join(missing[1:4])}{'...' if len(missing) > 4 else ''})" if len(missing) > 1 else ""
        raise AtcError(f"E19010: No parser is registered for Op {missing[0]}.{more} The operator is not in the ONNX "
                       f"operator list of {soc_version} ({onnx_op_support.list_name_for(soc_version)}); rewrite it "
                       "with supported operators or choose another --soc_version")


def _all_nodes(graph):
    for node in graph.node:
        yield node
        for attr in node.attribute:
            if attr.g.node:
                yield from _all_nodes(attr.g)
            for sub in attr.graphs:
                yield from _all_nodes(sub)


def _fix_input_shapes(model, shapes: dict[str, list[int]], batches: list[int]) -> None:
    initializer_names = {i.name for i in model.graph.initializer}
    dynamic_inputs = [n for n, dims in shapes.items() if -1 in dims]
    if batches and not dynamic_inputs:
        raise _invalid("dynamic_batch_size", ",".join(map(str, batches)),
                       "mark the batch dimension with -1 in --input_shape, e.g. input:-1,3,224,224")
    if not batches and dynamic_inputs:
        raise _invalid("input_shape", ";".join(f"{n}:{','.join(map(str, d))}" for n, d in shapes.items()),
                       "-1 needs --dynamic_batch_size (the only dynamic mode the simulator offers)")
    for value in model.graph.input:
        if value.name in initializer_names:
            continue
        dims = value.type.tensor_type.shape.dim
        if value.name in shapes:
            wanted = shapes[value.name]
            if len(wanted) != len(dims) and len(dims):
                raise _invalid("input_shape", f"{value.name}:{','.join(map(str, wanted))}",
                               f"the model's input {value.name} has {len(dims)} dimensions")
            for i, d in enumerate(dims):
                fixed = d.dim_value if d.HasField("dim_value") else None
                if fixed and wanted[i] != -1 and wanted[i] != fixed:
                    raise _invalid("input_shape", f"{value.name}:{','.join(map(str, wanted))}",
                                   f"dimension {i} of {value.name} is fixed to {fixed} in the model")
                if wanted[i] == -1:
                    if i != 0:
                        raise _invalid("input_shape", f"{value.name}:{','.join(map(str, wanted))}",
                                       "only the batch dimension (the first) can be -1 with --dynamic_batch_size")
                    d.Clear()
                    d.dim_param = "batch"
                else:
                    d.Clear()
                    d.dim_value = wanted[i]
        else:
            open_dims = [d.dim_param or "?" for d in dims if not d.HasField("dim_value")]
            if open_dims:
                shape = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
                raise _invalid("input_shape", "", f"input {value.name} has dynamic dimensions {shape}; give its shape, "
                               f"e.g. --input_shape=\"{value.name}:{','.join(str(s) if isinstance(s, int) else '1' for s in shape)}\"")
    del model.graph.value_info[:]
    for out in model.graph.output:  # let shape inference recompute them from the fixed inputs
        for d in out.type.tensor_type.shape.dim:
            if d.HasField("dim_param") and d.dim_param != "batch":
                d.Clear()


# ---------------------------------------------------------------------------- precision mode
def _apply_precision_mode(model, mode: str) -> None:
    """Emulate the AI Core's reduced precision by rounding tensors through float16/bfloat16.

    A *simulation*: the real NPU computes in float16 (with float32 accumulation in the Cube unit);
    here the graph stays float32 but chosen tensors are rounded with a Cast pair, which gives the
    same kind of errors learners must handle. Which tensors depends on the mode:
    ``force_fp16``: every float tensor; ``allow_fp32_to_fp16``/``allow_mix_precision(_fp16)``:
    inputs and outputs of matrix (Cube) operators; ``force_fp32``/``cube_fp16in_fp32out``: inputs
    of Cube operators only; ``*_bf16``: like the fp16 variants but bfloat16;
    ``must_keep_origin_dtype``: nothing.
    """
    from onnx import TensorProto, helper, numpy_helper

    if mode == "must_keep_origin_dtype":
        return
    low = TensorProto.BFLOAT16 if "bf16" in mode else TensorProto.FLOAT16
    graph = model.graph
    float_tensors = {v.name for v in list(graph.value_info) + list(graph.input) + list(graph.output)
                     if v.type.tensor_type.elem_type == TensorProto.FLOAT}
    inits = {i.name: i for i in graph.initializer}
    float_tensors |= {n for n, i in inits.items() if i.data_type == TensorProto.FLOAT}
    everything = mode == "force_fp16"
    round_outputs = mode not in ("force_fp32", "cube_fp16in_fp32out")

    def rounded_weights(name: str) -> None:
        init = inits[name]
        arr = numpy_helper.to_array(init)
        arr = _round_bf16(arr) if low == TensorProto.BFLOAT16 else arr.astype(np.float16).astype(np.float32)
        init.CopyFrom(numpy_helper.from_array(arr.astype(np.float32), name))

    new_nodes = []
    counter = iter(range(1 << 30))

    def round_pair(src: str, dst: str) -> list:
        mid = f"{dst}__low_{next(counter)}"
        return [helper.make_node("Cast", [src], [mid], name=f"{mid}_cast", to=low),
                helper.make_node("Cast", [mid], [dst], name=f"{dst}_cast_back", to=TensorProto.FLOAT)]

    rounded_once: dict[str, str] = {}
    if everything:
        for name in list(inits):
            if name in float_tensors:
                rounded_weights(name)
        for value in graph.input:
            if value.name in float_tensors and value.name not in inits:
                raw = value.name
                inner = f"{raw}__fp16"
                new_nodes += round_pair(raw, inner)
                rounded_once[raw] = inner
    for node in graph.node:
        is_cube = node.op_type in CUBE_OPS
        if is_cube and not everything:
            for i, name in enumerate(node.input):
                if name in inits and name in float_tensors:
                    rounded_weights(name)
                elif name in float_tensors:
                    if name not in rounded_once:
                        inner = f"{name}__low_in"
                        new_nodes += round_pair(name, inner)
                        rounded_once[name] = inner
                    node.input[i] = rounded_once[name]
        if everything:
            for i, name in enumerate(node.input):
                if name in rounded_once:
                    node.input[i] = rounded_once[name]
        new_nodes.append(node)
        if everything or (is_cube and round_outputs):
            for i, name in enumerate(node.output):
                if name in float_tensors:
                    raw = f"{name}__precise"
                    node.output[i] = raw
                    new_nodes += round_pair(raw, name)
    del graph.node[:]
    graph.node.extend(new_nodes)


def _round_bf16(arr: np.ndarray) -> np.ndarray:
    bits = arr.astype(np.float32).view(np.uint32)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32)
    return rounded.view(np.float32)


# ---------------------------------------------------------------------------- AIPP and I/O types
def _apply_aipp(model, configs, input_format: str, source: str) -> dict[str, str]:
    """Prepend AIPP nodes; returns {input name: "NHWC"} for inputs that now take uint8 images."""
    from onnx import TensorProto, helper

    if not configs:
        return {}
    inits = {i.name for i in model.graph.initializer}
    inputs = [v for v in model.graph.input if v.name not in inits]
    changed = {}
    for cfg in configs:
        where = f"{source} (aipp_op for related_input_rank {cfg.related_input_rank})"
        if not 0 <= cfg.related_input_rank < len(inputs):
            raise aipp_mod.AippError(f"{where}: the model has {len(inputs)} input(s), so related_input_rank must be "
                                     f"0..{len(inputs) - 1}")
        value = inputs[cfg.related_input_rank]
        if value.type.tensor_type.elem_type != TensorProto.FLOAT:
            raise aipp_mod.AippError(f"{where}: AIPP feeds float inputs, but {value.name} is not float32")
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim]
        h, w = aipp_mod.check_against_model(cfg, dims, input_format, where)
        name = value.name
        inner = f"{name}__aipp_out"
        for node in model.graph.node:
            for i, x in enumerate(node.input):
                if x == name:
                    node.input[i] = inner
        nodes, new_inits = aipp_mod.build_preprocess_nodes(cfg, name, inner, (h, w),
                                                           "NHWC" if input_format == "NHWC" else "NCHW")
        for node in reversed(nodes):
            model.graph.node.insert(0, node)
        model.graph.initializer.extend(new_inits)
        image = helper.make_tensor_value_info(name, TensorProto.UINT8, cfg.raw_image_dims(dims[0]))
        value.CopyFrom(image)
        changed[name] = "NHWC"
    return changed


def _apply_fp16_io(model, fp16_inputs: list[str], output_type: str | None) -> None:
    from onnx import TensorProto, helper

    for value in model.graph.input:
        if value.name in fp16_inputs:
            inner = f"{value.name}__from_fp16"
            for node in model.graph.node:
                for i, x in enumerate(node.input):
                    if x == value.name:
                        node.input[i] = inner
            model.graph.node.insert(0, helper.make_node("Cast", [value.name], [inner], name=f"{inner}_cast",
                                                        to=TensorProto.FLOAT))
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
    if output_type and output_type.upper() == "FP16":
        for value in model.graph.output:
            if value.type.tensor_type.elem_type != TensorProto.FLOAT:
                continue
            raw = f"{value.name}__fp32"
            for node in model.graph.node:
                for i, x in enumerate(node.output):
                    if x == value.name:
                        node.output[i] = raw
                for i, x in enumerate(node.input):
                    if x == value.name:
                        node.input[i] = raw
            model.graph.node.append(helper.make_node("Cast", [raw], [value.name], name=f"{value.name}_to_fp16",
                                                     to=TensorProto.FLOAT16))
            value.type.tensor_type.elem_type = TensorProto.FLOAT16


def _io_entry(value, fmt: str, is_aipp: bool) -> dict:
    tensor = value.type.tensor_type
    shape = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
    return {"name": value.name, "dtype": _NP_NAMES.get(tensor.elem_type, str(tensor.elem_type)),
            "shape": shape, "format": fmt, "aipp": is_aipp}


def _check_runs(graph_bytes: bytes) -> None:
    """Build an onnxruntime session once so a broken conversion fails here, not at execute time."""
    import onnxruntime as ort

    try:
        ort.InferenceSession(graph_bytes, providers=["CPUExecutionProvider"])
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AtcError(f"E19999: the converted graph does not build ({first}); this is a simulator limitation, "
                       "please report it with the model") from None
