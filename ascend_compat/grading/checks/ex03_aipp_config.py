"""Visible tests and hints of ``exercises/level1_conversion/ex03_aipp_config.ipynb``; the exercise's preprocessing.

Questions: ``aipp_rgb_config`` (``AIPP_RGB``: an RGB model, torchvision-style normalisation) and
``aipp_bgr_config`` (``AIPP_BGR``: a Caffe-style BGR model).

The learner writes AIPP configs that must reproduce :func:`preprocess_rgb` / :func:`preprocess_bgr`
(defined here, shown in the notebook, so the reference cannot drift from what the tests use). A
config is graded the way the AIPP lesson proves equivalence: converted with an ONNX model that
returns its input (its output *is* AIPP's output) and run on scikit-image's bundled photos, as the
camera would deliver them; every value must be within one float16 step (1 LSB) of the numpy
preprocessing, and turned back into pixels it must give the cropped uint8 pixels within one level.
The hidden tests also convert a small CNN with the config and compare it with numpy preprocessing +
the same CNN in onnxruntime.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from ascend_compat.grading.checks._conversion import convert_or_explain, om_manifest, quiet, run_om, scratch
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex03_aipp_config")

FRAME_H, FRAME_W = 256, 288          # what the camera delivers: RGB uint8, 256 rows x 288 columns
CROP_TOP, CROP_LEFT, CROP = 16, 32, 224
RGB_MEAN = np.array([0.485, 0.456, 0.406])   # torchvision's ImageNet statistics, on 0..1 pixels, R, G, B
RGB_STD = np.array([0.229, 0.224, 0.225])
BGR_MEAN = np.array([103.94, 116.78, 123.68])  # Caffe-style: on 0..255 pixels, in B, G, R order
BGR_SCALE = 0.017
SOC = "Ascend310P3"


# ---------------------------------------------------------------------------- the exercise's given code
def camera_frame(name: str) -> np.ndarray:
    """A scikit-image photo as the camera delivers it: RGB uint8, 256 rows x 288 columns."""
    from PIL import Image
    from skimage import data

    photo = getattr(data, name)()
    return np.asarray(Image.fromarray(photo).convert("RGB").resize((FRAME_W, FRAME_H), Image.BILINEAR))


def preprocess_rgb(frame: np.ndarray) -> np.ndarray:
    """The RGB model's preprocessing: centre crop 224x224, 0..1 pixels, normalised with mean/std, NCHW."""
    crop = frame[16:240, 32:256].astype(np.float32) / 255.0
    x = (crop - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def preprocess_bgr(frame: np.ndarray) -> np.ndarray:
    """The BGR model's preprocessing: the same crop, channels in B, G, R order, mean subtracted, times 0.017."""
    crop = frame[16:240, 32:256, ::-1].astype(np.float32)        # ::-1 on the channels: RGB -> BGR
    x = (crop - np.array([103.94, 116.78, 123.68])) * 0.017
    return x.transpose(2, 0, 1)[None].astype(np.float32)


# How each preprocessing turns back into 0..255 pixels (in the model's channel order) and which
# crop pixels it must give.
def _rgb_pixels(x: np.ndarray) -> np.ndarray:
    return (x * RGB_STD[None, :, None, None] + RGB_MEAN[None, :, None, None]) * 255.0


def _bgr_pixels(x: np.ndarray) -> np.ndarray:
    return x / BGR_SCALE + BGR_MEAN[None, :, None, None]


def _crop_pixels(frame: np.ndarray, bgr: bool) -> np.ndarray:
    crop = frame[CROP_TOP:CROP_TOP + CROP, CROP_LEFT:CROP_LEFT + CROP]
    crop = crop[..., ::-1] if bgr else crop
    return crop.astype(np.float64).transpose(2, 0, 1)[None]


VARIANTS = {  # question -> (the learner's name, the reference, to pixels, channel order)
    "rgb": ("AIPP_RGB", preprocess_rgb, _rgb_pixels, "R, G, B"),
    "bgr": ("AIPP_BGR", preprocess_bgr, _bgr_pixels, "B, G, R"),
}


# ---------------------------------------------------------------------------- converting a config
@functools.lru_cache(maxsize=None)
def _probe_model() -> str:
    """An ONNX model that returns its 1x3x224x224 input: converted with AIPP, it shows what AIPP produced."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, CROP, CROP])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, CROP, CROP])
    graph = helper.make_graph([helper.make_node("Identity", ["image"], ["out"], name="probe")], "probe", [x], [y])
    path = scratch("probe224.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@functools.lru_cache(maxsize=None)
def _small_cnn() -> str:
    """A small CNN on 3x224x224 images (fixed random weights): preprocessing errors show in its scores."""
    import torch
    from torch import nn

    from ascend_compat.grading.checks._conversion import export_onnx

    generator = torch.Generator().manual_seed(5)
    model = nn.Sequential(nn.Conv2d(3, 6, 5, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 4))
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return export_onnx(model, torch.zeros(1, 3, CROP, CROP), scratch("cnn224.onnx"), "image", "scores", dynamic_batch=False)


def assert_config_basics(config_text) -> None:
    """The config parses and describes static AIPP for the camera's RGB888 frames."""
    from ascend_compat.atc import aipp
    from ascend_compat.errors import UserError

    assert isinstance(config_text, str), f"the config is a {type(config_text).__name__}; write it as one string"
    try:
        configs = aipp.parse(config_text, source="your config")
    except UserError as exc:
        raise AssertionError(f"atc cannot read the config: {exc}") from None
    assert len(configs) == 1, f"the config has {len(configs)} aipp_op blocks; the model has one image input"
    (cfg,) = configs
    assert cfg.aipp_mode == "static", f"aipp_mode is {cfg.aipp_mode}; the spec's parameters are fixed at conversion time"
    assert cfg.input_format == "RGB888_U8", (
        f"input_format is {cfg.input_format}, but the camera delivers packed RGB, 8 bits per channel")
    size = (cfg.src_image_size_w, cfg.src_image_size_h)
    assert size == (FRAME_W, FRAME_H), (
        f"src_image_size_w x src_image_size_h is {size[0]} x {size[1]}, but the camera's frames are "
        f"{FRAME_W} pixels wide and {FRAME_H} high")


def converted(config_text, model: str = "probe", precision_mode: str = "must_keep_origin_dtype") -> str:
    """The model (``probe`` or ``cnn``) converted with the learner's config by the simulated atc; the .om."""
    assert_config_basics(config_text)
    config = scratch("aipp.cfg")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(config_text)
    onnx_path = _probe_model() if model == "probe" else _small_cnn()
    output = scratch(f"{model}_aipp")
    with quiet():
        path = convert_or_explain("your AIPP config", model=onnx_path, framework=5, output=output, soc_version=SOC,
                                  input_shape=f"image:1,3,{CROP},{CROP}", insert_op_conf=config,
                                  precision_mode=precision_mode)
    (image,) = om_manifest(path)["inputs"]
    assert image["dtype"] == "uint8" and image["shape"] == [1, FRAME_H, FRAME_W, 3], (
        f"the converted model takes {image['dtype']} {image['shape']}, not the camera's uint8 frames [1, {FRAME_H}, {FRAME_W}, 3]")
    return path


# ---------------------------------------------------------------------------- comparing with numpy
def assert_matches_numpy(om_path: str, variant: str, photo: str) -> None:
    """AIPP's output within 1 float16 LSB of the numpy preprocessing, and back to the crop's pixels within 1 level."""
    name, preprocess, to_pixels, order = VARIANTS[variant]
    frame = camera_frame(photo)
    (got,) = run_om(om_path, frame[None])
    expected = preprocess(frame)
    lsb = np.spacing(np.abs(expected).astype(np.float16)).astype(np.float32)   # one float16 step at each value
    steps = np.abs(got - expected) / lsb
    if steps.max() > 1.0:
        c, r, q = np.unravel_index(np.argmax(steps[0]), steps[0].shape)
        means = ", ".join(f"{g:.3f} vs {e:.3f}" for g, e in zip(got[0].mean(axis=(1, 2)), expected[0].mean(axis=(1, 2))))
        raise AssertionError(
            f"on the {photo} photo, AIPP's output differs from {preprocess.__name__}(frame) by up to "
            f"{np.abs(got - expected).max():.3g} ({steps.max():.3g} float16 steps, 1 is allowed): worst at "
            f"channel {c}, row {r}, column {q} of the "
            f"224x224 output ({got[0, c, r, q]:.4f} vs {expected[0, c, r, q]:.4f}). Channel means ({order}), AIPP vs "
            f"numpy: {means}")
    back = np.rint(to_pixels(got.astype(np.float64)))
    levels = np.abs(back - _crop_pixels(frame, variant == "bgr")).max()
    assert levels <= 1, (
        f"on the {photo} photo, AIPP's output turned back into pixels is {levels:.0f} levels away from the "
        "cropped frame (1 is allowed)")


def assert_model_matches(config_text, variant: str, photos) -> None:
    """A CNN converted with the config, fed uint8 frames, scores like numpy preprocessing + the CNN."""
    from ascend_compat.grading.checks._conversion import onnx_session

    _, preprocess, _, _ = VARIANTS[variant]
    om_path = converted(config_text, "cnn")
    session = onnx_session(_small_cnn())
    for photo in photos:
        frame = camera_frame(photo)
        (on_device,) = run_om(om_path, frame[None])
        (expected,) = session.run(None, {"image": preprocess(frame)})
        assert np.allclose(on_device, expected, rtol=1e-2, atol=1e-2), (
            f"on the {photo} photo, the CNN converted with your config scores {np.round(on_device[0], 3)}, "
            f"numpy preprocessing + the same CNN scores {np.round(expected[0], 3)}")


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("aipp_rgb_config")
def rgb_converts_for_the_camera_frames(AIPP_RGB):  # noqa: N803  (the learner's constant)
    """the config converts: static AIPP for 288x256 RGB888 frames, and the .om takes them as uint8"""
    converted(AIPP_RGB)


@EXERCISE.test("aipp_rgb_config")
def rgb_matches_numpy_on_the_astronaut_photo(AIPP_RGB):  # noqa: N803
    """on the astronaut photo, AIPP's output is within 1 float16 step of preprocess_rgb"""
    assert_matches_numpy(converted(AIPP_RGB), "rgb", "astronaut")


@EXERCISE.test("aipp_bgr_config")
def bgr_converts_for_the_camera_frames(AIPP_BGR):  # noqa: N803
    """the config converts: static AIPP for 288x256 RGB888 frames, and the .om takes them as uint8"""
    converted(AIPP_BGR)


@EXERCISE.test("aipp_bgr_config")
def bgr_matches_numpy_on_the_astronaut_photo(AIPP_BGR):  # noqa: N803
    """on the astronaut photo, AIPP's output is within 1 float16 step of preprocess_bgr"""
    assert_matches_numpy(converted(AIPP_BGR), "bgr", "astronaut")


EXERCISE.hint(
    "aipp_rgb_config",
    "Start from the AIPP lesson's ImageNet config and change what differs: the frame size, the crop "
    "window, and the normalisation values.",
    "AIPP works on 0..255 pixels: out = (pixel - mean_chn - min_chn) * var_reci_chn. Rewrite "
    "((pixel / 255) - mean) / std in that form: what is subtracted, and what is the factor?",
    "The crop window starts at load_start_pos_h (rows, from the top) and load_start_pos_w (columns, from "
    "the left): read them off frame[16:240, 32:256]. Give var_reci with at least 6 significant digits.",
)
EXERCISE.hint(
    "aipp_bgr_config",
    "AIPP can reverse the channel order for you: rbuv_swap_switch swaps channels 0 and 2 before normalising.",
    "After the swap, channel 0 is blue: mean_chn_0/min_chn_0 and var_reci_chn_0 belong to B, in the order "
    "the model uses.",
)
