"""AIPP: config parsing with line-numbered errors, and equivalence with numpy preprocessing on real photos."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from skimage import data as photos

import ascend_compat.acl as acl
from ascend_compat.atc import aipp, convert
from ascend_compat.atc.aipp import AippError

MEAN = np.array([123.675, 116.28, 103.53])
STD = np.array([58.395, 57.12, 57.375])
IMAGENET_CFG = """
# ImageNet normalisation, centre crop 224 from 256x256 (a real deployment's settings)
aipp_op {
    aipp_mode : static
    input_format : RGB888_U8
    src_image_size_w : 256
    src_image_size_h : 256
    crop : true
    load_start_pos_w : 16
    load_start_pos_h : 16
    crop_size_w : 224
    crop_size_h : 224
    min_chn_0 : 123.675
    min_chn_1 : 116.28
    min_chn_2 : 103.53
    var_reci_chn_0 : %r
    var_reci_chn_1 : %r
    var_reci_chn_2 : %r
}
""" % tuple(float(v) for v in 1 / STD)


def _identity_model(tmp_path, shape=(1, 3, 224, 224)) -> str:
    """A model that returns its (preprocessed) input, so the AIPP output can be read back."""
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, list(shape))
    graph = helper.make_graph([helper.make_node("Identity", ["image"], ["out"], name="id")], "g", [x], [y])
    path = str(tmp_path / "identity.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def _resized(photo: np.ndarray, size=256) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(photo).convert("RGB").resize((size, size), Image.BILINEAR))


def _execute(om_path: str, image: np.ndarray) -> np.ndarray:
    """Run the .om through the simulated pyACL like a sample would; returns output 0."""
    acl.reset()
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    model_id, ret = acl.mdl.load_from_file(om_path)
    assert ret == 0
    desc = acl.mdl.create_desc()
    acl.mdl.get_desc(desc, model_id)
    in_size, out_size = acl.mdl.get_input_size_by_index(desc, 0), acl.mdl.get_output_size_by_index(desc, 0)
    assert in_size == image.nbytes  # the AIPP input is the raw uint8 image
    dev_in, _ = acl.rt.malloc(in_size, 0)
    dev_out, _ = acl.rt.malloc(out_size, 0)
    data = np.ascontiguousarray(image)
    assert acl.rt.memcpy(dev_in, in_size, acl.util.numpy_to_ptr(data), in_size, 1) == 0
    ins, outs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(ins, acl.create_data_buffer(dev_in, in_size))
    acl.mdl.add_dataset_buffer(outs, acl.create_data_buffer(dev_out, out_size))
    assert acl.mdl.execute(model_id, ins, outs) == 0
    host = np.zeros(out_size // 4, dtype=np.float32)
    assert acl.rt.memcpy(acl.util.numpy_to_ptr(host), out_size, dev_out, out_size, 2) == 0
    dims, _ = acl.mdl.get_output_dims(desc, 0)
    acl.reset()
    return host.reshape(dims["dims"])


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_aipp_matches_numpy_preprocessing_on_real_photos(tmp_path, name):
    cfg_path = tmp_path / "aipp.cfg"
    cfg_path.write_text(IMAGENET_CFG)
    om_path = convert(model=_identity_model(tmp_path), output=str(tmp_path / "m"), soc_version=acl.get_soc_name(),
                      insert_op_conf=str(cfg_path), precision_mode="must_keep_origin_dtype")
    image = _resized(getattr(photos, name)())[None]
    got = _execute(om_path, image)

    # The preprocessing a user writes in numpy: centre crop, then (x - mean) / std, NCHW.
    crop = image[:, 16:240, 16:240, :].astype(np.float64)
    expected = ((crop - MEAN) / STD).transpose(0, 3, 1, 2)
    assert got.shape == expected.shape == (1, 3, 224, 224)
    # Back to pixels: AIPP's float16 output must land within 1 LSB of the original uint8 values.
    got_pixels = np.rint(got * STD[None, :, None, None] + MEAN[None, :, None, None])
    want_pixels = np.rint(expected * STD[None, :, None, None] + MEAN[None, :, None, None])
    assert np.abs(got_pixels - want_pixels).max() <= 1
    assert np.abs(got - expected).max() < 0.01  # float16-level agreement in normalised units


def test_csc_and_channel_swap_match_the_reference(tmp_path):
    """RGB -> YUV (BT.601 matrix in 1/256 units) with R/B swap, checked against aipp.reference."""
    cfg_text = """aipp_op {
        aipp_mode: static
        input_format: RGB888_U8
        src_image_size_w: 224
        src_image_size_h: 224
        rbuv_swap_switch: true
        csc_switch: true
        matrix_r0c0: 77
        matrix_r0c1: 150
        matrix_r0c2: 29
        matrix_r1c0: -43
        matrix_r1c1: -85
        matrix_r1c2: 128
        matrix_r2c0: 128
        matrix_r2c1: -107
        matrix_r2c2: -21
        output_bias_0: 0
        output_bias_1: 128
        output_bias_2: 128
        var_reci_chn_0: 0.00390625
        var_reci_chn_1: 0.00390625
        var_reci_chn_2: 0.00390625
    }"""
    cfg_path = tmp_path / "csc.cfg"
    cfg_path.write_text(cfg_text)
    om_path = convert(model=_identity_model(tmp_path), output=str(tmp_path / "csc"), soc_version=acl.get_soc_name(),
                      insert_op_conf=str(cfg_path))
    image = _resized(photos.coffee(), 224)[None]
    got = _execute(om_path, image)
    cfg = aipp.parse(cfg_text)[0]
    expected = aipp.reference(cfg, image, (224, 224))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # Independent check of Y for one pixel: swapped input means channel 0 is B.
    b, g, r = image[0, 10, 10, 2], image[0, 10, 10, 1], image[0, 10, 10, 0]
    y = np.clip(np.floor((77.0 * b + 150.0 * g + 29.0 * r) / 256.0), 0, 255)
    assert abs(got[0, 0, 10, 10] * 256 - y) <= 0.5


@pytest.mark.parametrize("text, line, needle", [
    ("aipp_op {\n  aipp_mode : static\n  input_format : RGB888\n}", 3, "RGB888_U8"),
    ("aipp_op {\n  crop : maybe\n}", 2, "true or false"),
    ("aipp_op {\n  src_image_size_w : 22.5\n}", 2, "whole number"),
    ("aipp_op {\n  mean_chn_O : 3\n}", 2, "unknown AIPP parameter"),
    ("aipp_op {\n  crop : true\n  crop : false\n}", 3, "set twice"),
    ("aipp_op {\n  input_format : RGB888_U8\n", 1, "not closed"),
    ("aipp_op\n{\n}", 1, "same line"),
    ("aipp_op {\n  var_reci_chn_0 : 0\n}", 2, "reciprocal"),
    ("aipp_op {\n  input_format : YUV420SP_U8\n  src_image_size_w : 225\n}", 3, "even"),
    ("aipp_op {\n  min_chn_0 123\n}", 2, "key : value"),
])
def test_invalid_configs_get_line_numbered_errors(text, line, needle):
    with pytest.raises(AippError) as info:
        aipp.parse(text, source="aipp.cfg")
    assert str(info.value).startswith(f"aipp.cfg:{line}:")
    assert needle in str(info.value)


def test_samples_syntax_parses():
    # The layout of Ascend/samples' vpc_resnet50 aipp.cfg (tabs, spaces around ':', trailing blanks).
    text = "aipp_op {\n\taipp_mode : static\n\trelated_input_rank : 0\n\tinput_format : YUV420SP_U8\n" \
           "\tcsc_switch : true\n\trbuv_swap_switch : false \n\tmin_chn_0 : 123\n\tsrc_image_size_w : 224\n}\n"
    (cfg,) = aipp.parse(text)
    assert cfg.input_format == "YUV420SP_U8" and cfg.csc_switch and cfg.min_chn_0 == 123.0
    assert cfg.given == {"aipp_mode", "related_input_rank", "input_format", "csc_switch", "rbuv_swap_switch",
                         "min_chn_0", "src_image_size_w"}


def test_aipp_that_does_not_fit_the_model_is_refused(tmp_path):
    cfg_path = tmp_path / "small.cfg"
    cfg_path.write_text("aipp_op {\n aipp_mode: static\n input_format: RGB888_U8\n src_image_size_w: 200\n"
                        " src_image_size_h: 200\n}\n")
    with pytest.raises(AippError, match="200x200.*224x224"):
        convert(model=_identity_model(tmp_path), output=str(tmp_path / "x"), soc_version=acl.get_soc_name(),
                insert_op_conf=str(cfg_path))
