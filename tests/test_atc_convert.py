"""The simulated atc: conversion of the course model, option validation, op lists, .om integrity."""

from __future__ import annotations

import argparse
import os
import re

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from ascend_compat import zoo
from ascend_compat.atc import AtcError, convert, om
from ascend_compat.atc import cli as atc_cli
from ascend_compat.errors import UserError

SOC = "Ascend310P3"


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory):
    return zoo.export_onnx(str(tmp_path_factory.mktemp("atc") / "digitnet.onnx"), batch=None)


@pytest.fixture(scope="module")
def test_batch():
    images, labels = zoo.digit_images("test")
    return zoo.preprocess(images[:16]), labels[:16]


def _run(path, feeds):
    model = om.load(path)
    return ort.InferenceSession(model.graph).run(None, feeds)[0]


def test_course_model_converts_and_keeps_accuracy(onnx_path, tmp_path, test_batch):
    x, labels = test_batch
    out = convert(model=onnx_path, framework=5, output=str(tmp_path / "digitnet"), soc_version=SOC,
                  input_shape="input:16,3,32,32", precision_mode="must_keep_origin_dtype")
    assert out.endswith("digitnet.om") and os.path.isfile(out)
    model = om.load(out)
    assert model.manifest["soc_version"] == SOC
    assert model.inputs[0] == {"name": "input", "dtype": "float32", "shape": [16, 3, 32, 32], "format": "NCHW",
                               "aipp": False}
    assert model.outputs[0]["shape"] == [16, 10]
    reference = ort.InferenceSession(onnx_path).run(None, {"input": x})[0]
    got = _run(out, {"input": x})
    np.testing.assert_array_equal(got, reference)  # must_keep_origin_dtype changes nothing
    assert (got.argmax(1) == labels).mean() >= 0.9


def test_force_fp16_is_the_default_and_rounds_like_fp16(onnx_path, tmp_path, test_batch):
    x, _ = test_batch
    out = convert(model=onnx_path, output=str(tmp_path / "d16"), soc_version=SOC, input_shape="input:16,3,32,32")
    assert om.load(out).manifest["precision_mode"] == "force_fp16"
    reference = ort.InferenceSession(onnx_path).run(None, {"input": x})[0]
    got = _run(out, {"input": x})
    diff = np.abs(got - reference).max()
    assert 0 < diff < 0.1, diff  # fp16 rounding is visible but small
    assert (got.argmax(1) == reference.argmax(1)).all()


@pytest.mark.parametrize("v2, v1", [("fp16", "force_fp16"), ("origin", "must_keep_origin_dtype"),
                                    ("mixed_float16", "allow_mix_precision_fp16")])
def test_precision_mode_v2_names_the_same_modes(onnx_path, tmp_path, v2, v1):
    out = convert(model=onnx_path, output=str(tmp_path / v2), soc_version=SOC, input_shape="input:1,3,32,32",
                  precision_mode_v2=v2)
    assert om.load(out).manifest["precision_mode"] == v1


def test_dynamic_batch_manifest(onnx_path, tmp_path):
    out = convert(model=onnx_path, output=str(tmp_path / "dyn"), soc_version=SOC,
                  input_shape="input:-1,3,32,32", dynamic_batch_size="1,2,4,8")
    manifest = om.load(out).manifest
    assert manifest["dynamic_batch_size"] == [1, 2, 4, 8]
    assert manifest["inputs"][0]["shape"] == [-1, 3, 32, 32]
    assert manifest["dynamic_batch_input"] == "ascend_mbatch_shape_data"


@pytest.mark.parametrize("kwargs, needle", [
    (dict(framework=3), "not available in simulation"),
    (dict(framework=7), "E10001"),
    (dict(soc_version="Ascend999"), "Ascend310P3"),
    (dict(soc_version="ascend310p3"), "case-sensitive"),
    (dict(input_shape="input:1,3,32"), "dimensions"),
    (dict(input_shape="image:1,3,32,32"), "'image' is not in the model"),
    (dict(input_shape="input:1,3,x,32"), "integers"),
    (dict(input_shape=None), "--input_shape"),
    (dict(precision_mode="fp16"), "force_fp16"),
    (dict(precision_mode="allow_mix_precision_bf16"), "bfloat16"),
    (dict(input_format="NC1HWC0"), "NCHW"),
    (dict(output_type="INT4"), "FP32"),
    (dict(log="verbose"), "debug"),
    (dict(precision_mode_v2="force_fp16"), "mixed_float16"),  # v2 has its own names
    (dict(precision_mode_v2="fp16", precision_mode="force_fp16"), "cannot be used together"),
    (dict(dynamic_batch_size="1,2"), "-1"),
    (dict(input_shape="input:-1,3,32,32", dynamic_batch_size="1,0"), "positive"),
])
def test_bad_options_fail_with_one_clear_line(onnx_path, tmp_path, kwargs, needle):
    args = dict(model=onnx_path, output=str(tmp_path / "bad"), soc_version=SOC, input_shape="input:1,3,32,32")
    args.update(kwargs)
    with pytest.raises(UserError) as info:
        convert(**args)
    assert needle in str(info.value)
    assert "\n" not in str(info.value)
    # atc's own refusals carry its error code; the simulator's limits say so instead
    assert re.match(r"E1\d{4}: ", str(info.value)) or "not available in simulation" in str(info.value)
    assert not os.path.exists(tmp_path / "bad.om")


@pytest.mark.parametrize("bad, hint", [("Ascend999", ""), ("ascend310p3", "did you mean Ascend310P3?")])
def test_bad_soc_version_is_atcs_e10001_with_the_valid_socs(onnx_path, tmp_path, bad, hint):
    from ascend_compat.atc import socs

    with pytest.raises(AtcError) as info:
        convert(model=onnx_path, output=str(tmp_path / "bad"), soc_version=bad, input_shape="input:1,3,32,32")
    message = str(info.value)
    assert message.startswith(f"E10001: Value [{bad}] for parameter [--soc_version] is invalid. Reason: ")
    assert hint in message
    assert all(name in message for name in socs.names())
    assert "\n" not in message


def test_cli_failure_prints_atcs_banner_and_the_error_line(onnx_path, tmp_path, capsys, monkeypatch):
    from ascend_compat.cli import main

    monkeypatch.setenv("ASCEND_COMPAT_SIMULATE_ATC", "1")
    code = main(["atc", f"--model={onnx_path}", "--framework=5", f"--output={tmp_path / 'cli'}",
                 "--soc_version=Ascend311", "--input_shape=input:1,3,32,32"])
    captured = capsys.readouterr()
    assert code != 0 and not os.path.exists(tmp_path / "cli.om")
    assert "ATC run failed" in captured.out and "ATC run success" not in captured.out
    (line,) = captured.err.strip().splitlines()
    assert "E10001: Value [Ascend311] for parameter [--soc_version] is invalid" in line and "Ascend310P3" in line


def _model_with(op_type: str, tmp_path, **attrs) -> str:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu0"),
             helper.make_node(op_type, ["r"], ["y"], name=f"my_{op_type.lower()}", **attrs)]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=[helper.make_opsetid("", 20)])
    path = str(tmp_path / f"{op_type}.onnx")
    onnx.save(model, path)
    return path


def test_unsupported_operator_names_node_and_type(tmp_path):
    path = _model_with("Gelu", tmp_path)  # ONNX opset 20 Gelu is not in CANN's ONNX list
    with pytest.raises(AtcError) as info:
        convert(model=path, output=str(tmp_path / "g"), soc_version=SOC)
    message = str(info.value)
    assert message.startswith("E19010: No parser is registered for Op [my_gelu, optype [ai.onnx::20::Gelu]]")
    assert SOC in message


def test_operator_lists_differ_by_soc(tmp_path):
    path = _model_with("Tan", tmp_path)  # in the CANN 8.0.0 list, not in the 5.0.4 one
    assert convert(model=path, output=str(tmp_path / "ok"), soc_version="Ascend310P3")
    with pytest.raises(AtcError, match="E19010"):
        convert(model=path, output=str(tmp_path / "old"), soc_version="Ascend310")


def test_invalid_onnx_is_rejected(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"this is not protobuf at all")
    with pytest.raises(AtcError, match="E19999"):
        convert(model=str(bad), output=str(tmp_path / "b"), soc_version=SOC)


def test_cli_handler_runs_the_simulator(onnx_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASCEND_COMPAT_SIMULATE_ATC", "1")
    parser = argparse.ArgumentParser()
    atc_cli.register(parser.add_subparsers())
    args = parser.parse_args(["atc", f"--model={onnx_path}", "--framework=5", f"--output={tmp_path / 'cli'}",
                              f"--soc_version={SOC}", "--input_shape=input:1,3,32,32", "--log=info"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "ATC run success" in out and "input: float32 [1, 3, 32, 32]" in out
    assert om.load(str(tmp_path / "cli.om")).manifest["atc_options"]["input_shape"] == "input:1,3,32,32"


@pytest.mark.parametrize("damage, kind", [
    (lambda b: b[: len(b) // 2], "truncated"),
    (lambda b: b[:100] + bytes([b[100] ^ 0xFF]) + b[101:], "corrupted"),
    (lambda b: b"IMOD" + b[4:], "real_om"),
    (lambda b: b"\x08\x07" + b[2:], "foreign"),
    (lambda b: b[:10], "truncated"),
    (lambda b: b + b"extra", "corrupted"),
])
def test_damaged_om_fails_with_one_clear_error(onnx_path, tmp_path, damage, kind):
    good = convert(model=onnx_path, output=str(tmp_path / "good"), soc_version=SOC, input_shape="input:1,3,32,32")
    data = open(good, "rb").read()
    with pytest.raises(om.OmError) as info:
        om.loads(damage(data), source="m.om")
    assert info.value.kind == kind
    assert "m.om" in str(info.value) and "\n" not in str(info.value)
    assert om.loads(data).manifest["source_sha256"]  # the undamaged file still loads
