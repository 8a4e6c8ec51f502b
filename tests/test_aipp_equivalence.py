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


# ---------------------------------------------------------------------------- YUV420SP_U8 (NV12 / NV21)
# CSC matrices of the CANN "CSC Configuration" table (atlasatc_16_0021), YUV420SP_U8 -> RGB888.
BT601_NARROW = ((298, 0, 409), (298, -100, -208), (298, 516, 0)), (16, 128, 128)
JPEG_FULL = ((256, 0, 359), (256, -88, -183), (256, 454, 0)), (0, 128, 128)


def _yuv_cfg(size: int, matrix=None, swap=False, extra="") -> str:
    lines = [f"    input_format : YUV420SP_U8", f"    src_image_size_w : {size}", f"    src_image_size_h : {size}",
             f"    rbuv_swap_switch : {'true' if swap else 'false'}"]
    if matrix is not None:
        rows, bias = matrix
        lines.append("    csc_switch : true")
        lines += [f"    matrix_r{r}c{c} : {rows[r][c]}" for r in range(3) for c in range(3)]
        lines += [f"    input_bias_{i} : {bias[i]}" for i in range(3)]
    return "aipp_op {\n    aipp_mode : static\n" + "\n".join(lines) + "\n" + extra + "}\n"


def _photo_to_yuv420sp(rgb: np.ndarray, nv21: bool = False) -> np.ndarray:
    """A camera/decoder frame: scikit-image's BT.601 YCbCr, chroma averaged over 2x2, NV12 (or NV21) bytes."""
    from skimage import color

    h, w = rgb.shape[:2]
    ycc = color.rgb2ycbcr(rgb)
    y = np.clip(np.rint(ycc[..., 0]), 0, 255).astype(np.uint8)
    chroma = ycc[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))
    chroma = np.clip(np.rint(chroma), 0, 255).astype(np.uint8)
    if nv21:
        chroma = chroma[..., ::-1]
    return np.concatenate([y, chroma.reshape(h // 2, w)], axis=0)   # (H*3/2, W)


def _numpy_yuv444(frame: np.ndarray, nv21: bool = False) -> np.ndarray:
    """Independent of aipp.py: semi-planar bytes -> (H, W, 3) Y, U, V, each chroma sample on its 2x2 block."""
    h = frame.shape[0] * 2 // 3
    y = frame[:h].astype(np.int64)
    pairs = frame[h:].reshape(h // 2, -1, 2).astype(np.int64)
    u, v = (pairs[..., 1], pairs[..., 0]) if nv21 else (pairs[..., 0], pairs[..., 1])
    up = lambda plane: np.kron(plane, np.ones((2, 2), dtype=np.int64))  # noqa: E731
    return np.stack([y, up(u), up(v)], axis=-1)


def _numpy_csc(yuv: np.ndarray, matrix) -> np.ndarray:
    rows, bias = matrix
    return np.clip((yuv - np.array(bias)) @ np.array(rows).T >> 8, 0, 255)   # integer maths, >> 8 floors


@pytest.mark.parametrize("nv21", [False, True], ids=["NV12", "NV21+rbuv_swap"])
@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
def test_yuv420sp_to_rgb_matches_numpy_and_scikit_image_on_real_photos(tmp_path, name, nv21):
    from skimage import color

    cfg_text = _yuv_cfg(224, BT601_NARROW, swap=nv21)
    (tmp_path / "yuv.cfg").write_text(cfg_text)
    om_path = convert(model=_identity_model(tmp_path), output=str(tmp_path / "yuv"), soc_version=acl.get_soc_name(),
                      insert_op_conf=str(tmp_path / "yuv.cfg"))
    rgb = _resized(getattr(photos, name)(), 224)
    frame = _photo_to_yuv420sp(rgb, nv21=nv21)
    assert frame.nbytes == 224 * 224 * 3 // 2
    got = _execute(om_path, frame[None, :, :, None])[0].transpose(1, 2, 0)     # HWC, float

    yuv = _numpy_yuv444(frame, nv21=nv21)
    np.testing.assert_array_equal(got, _numpy_csc(yuv, BT601_NARROW))          # the same integer maths: exact
    np.testing.assert_array_equal(got, aipp.reference(aipp.parse(cfg_text)[0], frame[None], (224, 224))[0]
                                  .transpose(1, 2, 0))
    # scikit-image's float YCbCr -> RGB of the same samples: within 1 LSB (the >> 8 and 1/256 coefficients)
    decoded = np.clip(color.ycbcr2rgb(yuv.astype(np.float64)) * 255, 0, 255)
    assert np.abs(got - np.rint(decoded)).max() <= 1
    # and close to the photo itself (only the 4:2:0 chroma subsampling is lost)
    assert np.abs(got - rgb).mean() < 3


def test_yuv420sp_byte_order_matters(tmp_path):
    """NV21 bytes through an NV12 config (rbuv_swap_switch false) give the wrong colours: the swap is real."""
    (tmp_path / "nv12.cfg").write_text(_yuv_cfg(224, BT601_NARROW))
    om_path = convert(model=_identity_model(tmp_path), output=str(tmp_path / "nv12"), soc_version=acl.get_soc_name(),
                      insert_op_conf=str(tmp_path / "nv12.cfg"))
    rgb = _resized(photos.coffee(), 224)
    right = _execute(om_path, _photo_to_yuv420sp(rgb)[None, :, :, None])[0].transpose(1, 2, 0)
    wrong = _execute(om_path, _photo_to_yuv420sp(rgb, nv21=True)[None, :, :, None])[0].transpose(1, 2, 0)
    assert np.abs(right - rgb).mean() < 3 < np.abs(wrong - rgb).mean()


@pytest.mark.parametrize("swap", [False, True], ids=["YUV444", "YVU444"])
def test_yuv420sp_without_csc_gives_the_planes(tmp_path, swap):
    """csc_switch off: YUV420SP_U8 -> YUV444 (swap off) or YVU444 (swap on), as the CANN CSC table lists."""
    (tmp_path / "planes.cfg").write_text(_yuv_cfg(64, swap=swap))
    om_path = convert(model=_identity_model(tmp_path, (1, 3, 64, 64)), output=str(tmp_path / "planes"),
                      soc_version=acl.get_soc_name(), insert_op_conf=str(tmp_path / "planes.cfg"))
    frame = _photo_to_yuv420sp(_resized(photos.chelsea(), 64))
    got = _execute(om_path, frame[None, :, :, None])[0]                        # CHW
    y, u, v = np.moveaxis(_numpy_yuv444(frame), -1, 0)
    np.testing.assert_array_equal(got, np.stack([y, v, u] if swap else [y, u, v]))


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_yuv420sp_crop_csc_and_normalisation_within_one_float16_lsb(tmp_path, name):
    """A DVPP-style 256x256 NV12 frame, centre crop 224 on the device, JPEG YUV -> RGB, ImageNet normalisation."""
    norm = "".join(f"    min_chn_{i} : {float(MEAN[i])!r}\n    var_reci_chn_{i} : {float(1 / STD[i])!r}\n" for i in range(3))
    crop = "    crop : true\n    load_start_pos_w : 16\n    load_start_pos_h : 16\n" \
           "    crop_size_w : 224\n    crop_size_h : 224\n"
    (tmp_path / "full.cfg").write_text(_yuv_cfg(256, JPEG_FULL, extra=crop + norm))
    om_path = convert(model=_identity_model(tmp_path), output=str(tmp_path / "full"), soc_version=acl.get_soc_name(),
                      insert_op_conf=str(tmp_path / "full.cfg"), precision_mode="must_keep_origin_dtype")
    frame = _photo_to_yuv420sp(_resized(getattr(photos, name)(), 256))
    got = _execute(om_path, frame[None, :, :, None])

    rgb = _numpy_csc(_numpy_yuv444(frame), JPEG_FULL)[16:240, 16:240]
    expected = ((rgb - MEAN) / STD).transpose(2, 0, 1)[None]
    lsb = np.spacing(np.abs(expected).astype(np.float16)).astype(np.float64)
    assert got.shape == expected.shape == (1, 3, 224, 224)
    assert (np.abs(got - expected) / lsb).max() <= 1


def test_csc_without_a_matrix_is_refused_with_the_documented_one(tmp_path):
    (tmp_path / "nomatrix.cfg").write_text("aipp_op {\n aipp_mode : static\n input_format : YUV420SP_U8\n"
                                           " src_image_size_w : 224\n src_image_size_h : 224\n csc_switch : true\n}\n")
    with pytest.raises(AippError, match=r"no matrix_r\*c\* is set.*matrix_r0c2 : 359"):
        convert(model=_identity_model(tmp_path), output=str(tmp_path / "x"), soc_version=acl.get_soc_name(),
                insert_op_conf=str(tmp_path / "nomatrix.cfg"))


@pytest.mark.parametrize("padding_value", [None, 0.5])
def test_padding_comes_after_normalisation(tmp_path, padding_value):
    """The documented order ends normalisation -> padding: border pixels are padding_value (default 0)
    itself, not (padding_value - mean) * var_reci; the inside is the normalised crop."""
    value_line = "" if padding_value is None else f"    padding_value : {padding_value}\n"
    cfg = ("aipp_op {\n    aipp_mode : static\n    input_format : RGB888_U8\n"
           "    src_image_size_w : 256\n    src_image_size_h : 256\n"
           "    crop : true\n    load_start_pos_w : 20\n    load_start_pos_h : 10\n"
           "    crop_size_w : 216\n    crop_size_h : 220\n"
           "    padding : true\n    left_padding_size : 4\n    right_padding_size : 4\n"
           "    top_padding_size : 2\n    bottom_padding_size : 2\n"
           + value_line +
           "    mean_chn_0 : 124\n    mean_chn_1 : 116\n    mean_chn_2 : 104\n"
           "    var_reci_chn_0 : 0.0171\n    var_reci_chn_1 : 0.0175\n    var_reci_chn_2 : 0.0174\n}\n")
    cfg_path = tmp_path / "aipp.cfg"
    cfg_path.write_text(cfg)
    om_path = convert(model=_identity_model(tmp_path), output=str(tmp_path / "m"), soc_version=acl.get_soc_name(),
                      insert_op_conf=str(cfg_path), precision_mode="must_keep_origin_dtype")
    image = _resized(photos.coffee())[None]
    got = _execute(om_path, image)
    mean, var = np.array([124, 116, 104]), np.array([0.0171, 0.0175, 0.0174])
    inside = ((image[:, 10:230, 20:236, :] - mean) * var).transpose(0, 3, 1, 2)
    assert np.abs(got[:, :, 2:-2, 4:-4] - inside).max() < 0.01
    border = np.concatenate([got[:, :, :2, :].ravel(), got[:, :, -2:, :].ravel(),
                             got[:, :, :, :4].ravel(), got[:, :, :, -4:].ravel()])
    assert np.all(border == np.float32(np.float16(padding_value or 0.0)))
    parsed = aipp.parse(cfg)[0]
    assert np.array_equal(aipp.reference(parsed, image, (224, 224)), got), "numpy reference == the converted .om"
