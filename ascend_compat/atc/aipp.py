"""AIPP (AI Pre-Processing): the image preprocessing atc builds into an offline model.

On Ascend hardware AIPP runs in a dedicated hardware unit in front of the network: the model takes
raw ``uint8`` images and AIPP crops, swaps channels, converts the colour space (CSC) and normalises
them. You describe it in a config file passed to ``atc --insert_op_conf``::

    aipp_op {
        aipp_mode : static
        input_format : RGB888_U8
        src_image_size_w : 40
        src_image_size_h : 40
        crop : true
        load_start_pos_w : 4
        load_start_pos_h : 4
        crop_size_w : 32
        crop_size_h : 32
        mean_chn_0 : 0
        min_chn_0 : 123.675
        var_reci_chn_0 : 0.0171247538
    }

The order of the stages and the formulas follow the CANN AIPP documentation (sources below):

0. a ``YUV420SP_U8`` image (NV12: the full-size Y plane, then U and V interleaved at half
   resolution, 1.5 bytes per pixel) is read as Y, U, V per pixel, each U/V sample serving its
   2x2 block of pixels (the simulator's .om takes those bytes as an ``(N, H*3/2, W, 1)`` uint8
   input); ``rbuv_swap_switch`` swaps U and V, so an NV21 (V first) image with the swap on is
   read as Y, U, V too;
1. crop: ``load_start_pos_h/w`` and ``crop_size_h/w`` cut a window out of the source image;
2. ``rbuv_swap_switch`` swaps channel 0 and 2 of RGB input (R<->B), channel 1 and 2 of YUV (U<->V);
3. CSC (``csc_switch``): ``out_i = ((sum_j matrix_rIcJ * (in_j - input_bias_j)) >> 8) + output_bias_i``,
   clipped to 0..255 (the matrix is in units of 1/256). For YUV420SP_U8 -> RGB the documented
   matrices are: JPEG (full range) ``256 0 359 / 256 -88 -183 / 256 454 0`` with input bias
   0, 128, 128; BT.601 narrow ``298 0 409 / 298 -100 -208 / 298 516 0`` with 16, 128, 128;
   BT.709 narrow ``298 0 459 / 298 -55 -136 / 298 541 0`` with 16, 128, 128 (swap rows 0 and 2
   for BGR);
4. normalisation per channel: ``out = (pixel - mean_chn_i - min_chn_i) * var_reci_chn_i``;
5. padding: ``*_padding_size`` pixels of ``padding_value`` (default 0) around the image, written
   *after* normalisation (the documented order: swap -> crop -> CSC -> resize -> normalisation ->
   padding), so a padded pixel is ``padding_value`` itself, not a normalised one.

The hardware writes its result as float16 and the simulator rounds to float16 at the same place.

This module parses the config (with line-numbered errors) and :func:`build_preprocess_nodes` turns it
into ordinary ONNX nodes (Cast/Slice/Gather/Sub/MatMul/Floor/Clip/Pad/Mul/Transpose), which is how
the simulated atc runs AIPP inside the converted model.

Facts from: Ascend/samples ``python/level2_simple_inference/1_classification/vpc_resnet50_imagenet_classification/caffe_model/aipp.cfg``
(syntax ``key : value`` inside ``aipp_op { }``); CANN docs "aclAippInfo" (aclcppdevg_03_1363: the
field list) and ``aclmdlGetInputDims`` (aclcppdevg_03_1453: AIPP inputs are NHWC uint8 images);
CANN ATC "AIPP configuration" docs for the formulas and the CSC matrices (atlasatc_16_0021 "CSC
Configuration": YUV420SP_U8 to YUV444 with the swap off, to YVU444 with it on; the per-standard
matrices above), atlasatc_16_0025 "Configuration File Template" (the processing order) and
atlasatc_16_0023 "Cropping and Padding Configuration" (``padding_value``); Ascend/samples
``growthpath/junior-level/3_model_conversion/README_CN.md`` (the JPEG YUV -> RGB matrix, which
channel ``mean_chn_0`` applies to after CSC).

Known gaps: atc also fills in a CSC matrix when ``csc_switch`` is on and none is given (the
samples' vpc_resnet50 ``aipp.cfg`` relies on it); the simulator does not know that default and asks
for the matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

import numpy as np

from ascend_compat.errors import UserError

# Image formats atc accepts in ``input_format`` (aclAippInputFormat); channels of the raw image.
INPUT_FORMATS = {
    "YUV420SP_U8": 3,
    "XRGB8888_U8": 4,
    "RGB888_U8": 3,
    "YUV400_U8": 1,
    "ARGB8888_U8": 4,
    "YUYV_U8": 3,
    "YUV422SP_U8": 3,
    "AYUV444_U8": 4,
    "RAW10": 1,
    "RAW12": 1,
    "RAW16": 1,
    "RAW24": 1,
}
# What the simulator can build as ONNX nodes today; the rest parse but fail at conversion.
SIMULATED_FORMATS = ("RGB888_U8", "YUV400_U8", "XRGB8888_U8", "ARGB8888_U8", "YUV420SP_U8")
YUV420SP = "YUV420SP_U8"
# The JPEG (BT.601 full range) YUV -> RGB matrix of the CANN CSC table, offered when one is missing.
JPEG_YUV_TO_RGB = ((256, 0, 359), (256, -88, -183), (256, 454, 0))


class AippError(UserError):
    """An AIPP config that atc would reject; the message names the file and line."""


@dataclass
class AippConfig:
    """One ``aipp_op { ... }`` block. Defaults are the documented ones (switches off, identity maths)."""

    aipp_mode: str = "static"
    related_input_rank: int = 0
    input_format: str = "YUV420SP_U8"
    src_image_size_w: int = 0
    src_image_size_h: int = 0
    crop: bool = False
    load_start_pos_w: int = 0
    load_start_pos_h: int = 0
    crop_size_w: int = 0
    crop_size_h: int = 0
    resize: bool = False
    resize_output_w: int = 0
    resize_output_h: int = 0
    padding: bool = False
    left_padding_size: int = 0
    right_padding_size: int = 0
    top_padding_size: int = 0
    bottom_padding_size: int = 0
    padding_value: float = 0.0
    csc_switch: bool = False
    rbuv_swap_switch: bool = False
    ax_swap_switch: bool = False
    single_line_mode: bool = False
    matrix_r0c0: int = 0
    matrix_r0c1: int = 0
    matrix_r0c2: int = 0
    matrix_r1c0: int = 0
    matrix_r1c1: int = 0
    matrix_r1c2: int = 0
    matrix_r2c0: int = 0
    matrix_r2c1: int = 0
    matrix_r2c2: int = 0
    output_bias_0: int = 0
    output_bias_1: int = 0
    output_bias_2: int = 0
    input_bias_0: int = 0
    input_bias_1: int = 0
    input_bias_2: int = 0
    mean_chn_0: int = 0
    mean_chn_1: int = 0
    mean_chn_2: int = 0
    mean_chn_3: int = 0
    min_chn_0: float = 0.0
    min_chn_1: float = 0.0
    min_chn_2: float = 0.0
    min_chn_3: float = 0.0
    var_reci_chn_0: float = 1.0
    var_reci_chn_1: float = 1.0
    var_reci_chn_2: float = 1.0
    var_reci_chn_3: float = 1.0
    max_src_image_size: int = 0
    support_rotation: bool = False
    # keys the file set explicitly (so defaults can depend on them, e.g. the crop size)
    given: set[str] = field(default_factory=set, repr=False, compare=False)

    @property
    def channels_in(self) -> int:
        return INPUT_FORMATS[self.input_format]

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[getattr(self, f"matrix_r{r}c{c}") for c in range(3)] for r in range(3)], dtype=np.float64)

    def raw_image_dims(self, batch: int) -> list[int]:
        """Dims of the uint8 image the converted model takes: NHWC, or the NV12 bytes as (N, H*3/2, W, 1)."""
        if self.input_format == YUV420SP:
            return [batch, self.src_image_size_h * 3 // 2, self.src_image_size_w, 1]
        return [batch, self.src_image_size_h, self.src_image_size_w, self.channels_in]

    def to_dict(self) -> dict:
        """The settings as plain JSON-able values (what the .om manifest stores)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "given"}

    @classmethod
    def from_dict(cls, data: dict) -> "AippConfig":
        known = {f.name for f in fields(cls)} - {"given"}
        cfg = cls(**{k: v for k, v in data.items() if k in known})
        cfg.given = set(data) & known
        return cfg


_FIELD_TYPES = {f.name: f.type for f in fields(AippConfig) if f.name != "given"}
_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*?)\s*$")


def _convert(key: str, raw: str, where: str):
    kind = _FIELD_TYPES[key]
    value = raw.strip().strip('"')
    if kind == "bool":
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise AippError(f"{where}: {key} must be true or false, not {raw!r}")
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise AippError(f"{where}: {key} must be a whole number, not {raw!r}") from None
    if kind == "float":
        try:
            return float(value)
        except ValueError:
            raise AippError(f"{where}: {key} must be a number, not {raw!r}") from None
    return value


def parse(text: str, source: str = "<aipp config>") -> list[AippConfig]:
    """Parse an AIPP config; returns one :class:`AippConfig` per ``aipp_op`` block.

    Errors say ``<source>:<line>: what is wrong``.
    """
    configs: list[AippConfig] = []
    current: dict | None = None
    start_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{source}:{number}"
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        if current is None:
            if re.fullmatch(r"aipp_op\s*\{", stripped):
                current, start_line = {}, number
                continue
            if stripped == "aipp_op":
                raise AippError(f"{where}: put the opening brace on the same line: 'aipp_op {{'")
            raise AippError(f"{where}: expected 'aipp_op {{' but found {stripped!r}")
        if stripped == "}":
            configs.append(_finish(current, f"{source}:{start_line}"))
            current = None
            continue
        match = _LINE.match(stripped)
        if not match:
            raise AippError(f"{where}: expected 'key : value' but found {stripped!r}")
        key, raw = match.groups()
        if key not in _FIELD_TYPES:
            close = [k for k in _FIELD_TYPES if k.split("_")[0] == key.split("_")[0]][:4]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise AippError(f"{where}: unknown AIPP parameter {key!r}{hint}")
        if key in current:
            raise AippError(f"{where}: {key} is set twice in the same aipp_op block")
        if raw == "":
            raise AippError(f"{where}: {key} has no value")
        current[key] = (_convert(key, raw, where), where)
    if current is not None:
        raise AippError(f"{source}:{start_line}: aipp_op block is not closed; add '}}' at the end")
    if not configs:
        raise AippError(f"{source}: no 'aipp_op {{ ... }}' block found")
    ranks = [c.related_input_rank for c in configs]
    if len(set(ranks)) != len(ranks):
        raise AippError(f"{source}: two aipp_op blocks use the same related_input_rank {ranks}")
    return configs


def _finish(values: dict, where: str) -> AippConfig:
    cfg = AippConfig(**{k: v for k, (v, _) in values.items()})
    cfg.given = set(values)
    line = {k: w for k, (_, w) in values.items()}
    if cfg.aipp_mode not in ("static", "dynamic"):
        raise AippError(f"{line['aipp_mode']}: aipp_mode must be static or dynamic, not {cfg.aipp_mode!r}")
    if cfg.input_format not in INPUT_FORMATS:
        raise AippError(f"{line.get('input_format', where)}: input_format {cfg.input_format!r} is not an AIPP format; "
                        f"use one of {', '.join(INPUT_FORMATS)}")
    if cfg.aipp_mode == "static":
        for key in ("src_image_size_w", "src_image_size_h"):
            if getattr(cfg, key) < 0 or getattr(cfg, key) > 4096:
                raise AippError(f"{line.get(key, where)}: {key} must be in [0, 4096]")
    if cfg.input_format == "YUV420SP_U8":
        for key in ("src_image_size_w", "src_image_size_h", "load_start_pos_w", "load_start_pos_h", "crop_size_w", "crop_size_h"):
            if getattr(cfg, key) % 2:
                raise AippError(f"{line.get(key, where)}: {key} must be even for YUV420SP_U8 images")
    for key in ("var_reci_chn_0", "var_reci_chn_1", "var_reci_chn_2", "var_reci_chn_3"):
        if getattr(cfg, key) == 0:
            raise AippError(f"{line.get(key, where)}: {key} is 0, which would zero the whole channel; "
                            "it is the reciprocal of the deviation (1/std), e.g. 0.0171")
    if cfg.csc_switch and cfg.input_format == "YUV400_U8":
        raise AippError(f"{line.get('csc_switch', where)}: csc_switch needs a 3-channel input_format, not YUV400_U8")
    return cfg


def load(path: str) -> list[AippConfig]:
    """Read and parse an AIPP config file (``--insert_op_conf``)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise AippError(f"--insert_op_conf file {path!r} does not exist; check the path") from None
    except UnicodeDecodeError:
        raise AippError(f"--insert_op_conf file {path!r} is not a text file") from None
    return parse(text, source=path)


# ---------------------------------------------------------------------------- reference maths
def reference(cfg: AippConfig, images: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """AIPP in plain numpy: NHWC uint8 images -> NCHW float32 (rounded through float16).

    Used by tests and lessons to check the ONNX nodes; ``out_hw`` is the model's input H, W.
    """
    x = images.astype(np.float64)
    if cfg.input_format == YUV420SP:
        x = _yuv420sp_to_yuv444(x.reshape(len(x), -1, cfg.src_image_size_w), cfg.src_image_size_h)
    h0, w0, ch, cw = _crop_window(cfg, out_hw)
    x = x[:, h0:h0 + ch, w0:w0 + cw, :]
    x = x[..., _channel_order(cfg)]
    if cfg.csc_switch:
        bias_in = np.array([cfg.input_bias_0, cfg.input_bias_1, cfg.input_bias_2], dtype=np.float64)
        bias_out = np.array([cfg.output_bias_0, cfg.output_bias_1, cfg.output_bias_2], dtype=np.float64)
        x = np.floor((x - bias_in) @ cfg.matrix.T / 256.0) + bias_out
        x = np.clip(x, 0, 255)
    c = x.shape[-1]
    mean, minimum, var = _norm_vectors(cfg, c)
    x = (x - mean - minimum) * var
    if cfg.padding:
        x = np.pad(x, ((0, 0), (cfg.top_padding_size, cfg.bottom_padding_size),
                       (cfg.left_padding_size, cfg.right_padding_size), (0, 0)), constant_values=cfg.padding_value)
    return x.astype(np.float16).astype(np.float32).transpose(0, 3, 1, 2)


def _yuv420sp_to_yuv444(frames: np.ndarray, height: int) -> np.ndarray:
    """(N, H*3/2, W) semi-planar bytes -> (N, H, W, 3): Y, then the two chroma bytes in file order."""
    n, _, width = frames.shape
    y = frames[:, :height, :, None]
    chroma = frames[:, height:, :].reshape(n, height // 2, width // 2, 2)
    chroma = chroma.repeat(2, axis=1).repeat(2, axis=2)  # each sample covers a 2x2 block
    return np.concatenate([y, chroma], axis=3)


def _crop_window(cfg: AippConfig, out_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    pad_h = (cfg.top_padding_size + cfg.bottom_padding_size) if cfg.padding else 0
    pad_w = (cfg.left_padding_size + cfg.right_padding_size) if cfg.padding else 0
    if cfg.crop:
        ch = cfg.crop_size_h or out_hw[0] - pad_h
        cw = cfg.crop_size_w or out_hw[1] - pad_w
        return cfg.load_start_pos_h, cfg.load_start_pos_w, ch, cw
    return 0, 0, cfg.src_image_size_h, cfg.src_image_size_w


def _channel_order(cfg: AippConfig) -> list[int]:
    c = cfg.channels_in
    order = list(range(c))
    if cfg.input_format == YUV420SP:  # Y stays first; the swap exchanges U and V (NV12 <-> NV21)
        return [0, 2, 1] if cfg.rbuv_swap_switch else order
    if c == 4:  # XRGB/ARGB: the alpha/padding byte goes away (ax_swap moves it to the end first)
        order = [1, 2, 3] if not cfg.ax_swap_switch else [0, 1, 2]
    if cfg.rbuv_swap_switch and len(order) >= 3:
        order = [order[2], order[1], order[0]] + order[3:]
    return order


def _norm_vectors(cfg: AippConfig, channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = np.array([getattr(cfg, f"mean_chn_{i}") for i in range(channels)], dtype=np.float64)
    minimum = np.array([getattr(cfg, f"min_chn_{i}") for i in range(channels)], dtype=np.float64)
    var = np.array([getattr(cfg, f"var_reci_chn_{i}") for i in range(channels)], dtype=np.float64)
    return mean, minimum, var


# ---------------------------------------------------------------------------- ONNX nodes
def check_against_model(cfg: AippConfig, model_input_shape: list[int], input_format: str, where: str) -> tuple[int, int]:
    """Check the config produces exactly the model's input; returns the model's (H, W)."""
    if cfg.aipp_mode != "static":
        raise AippError(f"{where}: aipp_mode dynamic is not available in simulation; use aipp_mode : static")
    if cfg.input_format not in SIMULATED_FORMATS:
        raise AippError(f"{where}: input_format {cfg.input_format} is valid for atc but not available in simulation; "
                        f"use one of {', '.join(SIMULATED_FORMATS)}")
    if cfg.csc_switch and not any(k.startswith("matrix_r") for k in cfg.given):
        jpeg = "  ".join(f"matrix_r{r}c{c} : {JPEG_YUV_TO_RGB[r][c]}" for r in range(3) for c in range(3))
        raise AippError(f"{where}: csc_switch is true but no matrix_r*c* is set; the simulator does not know atc's "
                        f"default matrix, so write the one for your source, e.g. JPEG YUV->RGB: {jpeg}  "
                        "input_bias_0 : 0  input_bias_1 : 128  input_bias_2 : 128")
    if cfg.resize:
        raise AippError(f"{where}: AIPP resize is reserved (not supported) in CANN; resize the image before inference")
    if len(model_input_shape) != 4:
        raise AippError(f"{where}: AIPP needs a 4-D image input, but the model input has shape {model_input_shape}")
    if input_format == "NHWC":
        _, h, w, c = model_input_shape
    else:
        _, c, h, w = model_input_shape
    if cfg.src_image_size_w <= 0 or cfg.src_image_size_h <= 0:
        raise AippError(f"{where}: set src_image_size_w and src_image_size_h (the size of the images you will feed)")
    h0, w0, ch, cw = _crop_window(cfg, (h, w))
    if h0 + ch > cfg.src_image_size_h or w0 + cw > cfg.src_image_size_w:
        raise AippError(f"{where}: the crop window (start {h0},{w0} size {ch}x{cw}) goes outside the "
                        f"{cfg.src_image_size_h}x{cfg.src_image_size_w} source image")
    pad_h = (cfg.top_padding_size + cfg.bottom_padding_size) if cfg.padding else 0
    pad_w = (cfg.left_padding_size + cfg.right_padding_size) if cfg.padding else 0
    if (ch + pad_h, cw + pad_w) != (h, w):
        raise AippError(f"{where}: AIPP produces {ch + pad_h}x{cw + pad_w} images (crop {ch}x{cw} + padding) but the "
                        f"model input is {h}x{w}; set crop/crop_size_* or padding so they match")
    out_c = len(_channel_order(cfg))
    if out_c != c:
        raise AippError(f"{where}: AIPP produces {out_c} channel(s) from {cfg.input_format} but the model input has {c}")
    return h, w


def build_preprocess_nodes(cfg: AippConfig, image_name: str, output_name: str, out_hw: tuple[int, int],
                           layout: str = "NCHW"):
    """ONNX nodes and initializers that turn ``image_name`` (NHWC uint8) into ``output_name``.

    Returns ``(nodes, initializers)``. Every constant is an initializer named ``aipp_*`` so the
    converted graph is easy to read in Netron.
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    counter = iter(range(1000))

    def const(name: str, value) -> str:
        full = f"aipp_{name}"
        inits.append(numpy_helper.from_array(np.asarray(value), full))
        return full

    def node(op: str, inputs: list[str], **attrs) -> str:
        out = f"aipp_{op.lower()}_{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    x = node("Cast", [image_name], to=TensorProto.FLOAT)
    if cfg.input_format == YUV420SP:
        x = _yuv420sp_nodes(cfg, x, node, const)
    h0, w0, ch, cw = _crop_window(cfg, out_hw)
    if cfg.crop:
        x = node("Slice", [x, const("crop_starts", np.array([h0, w0], np.int64)),
                           const("crop_ends", np.array([h0 + ch, w0 + cw], np.int64)),
                           const("crop_axes", np.array([1, 2], np.int64))])
    order = _channel_order(cfg)
    if order != list(range(cfg.channels_in)):
        x = node("Gather", [x, const("channel_order", np.array(order, np.int64))], axis=3)
    if cfg.csc_switch:
        bias_in = np.array([cfg.input_bias_0, cfg.input_bias_1, cfg.input_bias_2], np.float32)
        bias_out = np.array([cfg.output_bias_0, cfg.output_bias_1, cfg.output_bias_2], np.float32)
        x = node("Sub", [x, const("csc_input_bias", bias_in)])
        x = node("MatMul", [x, const("csc_matrix_t", cfg.matrix.T.astype(np.float32))])
        x = node("Div", [x, const("csc_256", np.array(256.0, np.float32))])
        x = node("Floor", [x])  # the hardware shifts right by 8 bits
        x = node("Add", [x, const("csc_output_bias", bias_out)])
        x = node("Clip", [x, const("u8_min", np.array(0.0, np.float32)), const("u8_max", np.array(255.0, np.float32))])
    mean, minimum, var = _norm_vectors(cfg, len(order))
    if np.any(mean + minimum):
        x = node("Sub", [x, const("mean_plus_min", (mean + minimum).astype(np.float32))])
    if np.any(var != 1):
        x = node("Mul", [x, const("var_reci", var.astype(np.float32))])
    if cfg.padding:  # after normalisation, as the hardware does: padded pixels are padding_value
        pads = [0, cfg.top_padding_size, cfg.left_padding_size, 0, 0, cfg.bottom_padding_size, cfg.right_padding_size, 0]
        x = node("Pad", [x, const("pads", np.array(pads, np.int64)),
                         const("padding_value", np.array(cfg.padding_value, np.float32))])
    x = node("Cast", [x], to=TensorProto.FLOAT16)  # AIPP writes float16
    if layout == "NCHW":
        x = node("Cast", [x], to=TensorProto.FLOAT)
        nodes.append(helper.make_node("Transpose", [x], [output_name], name="aipp_to_nchw", perm=[0, 3, 1, 2]))
    else:
        nodes.append(helper.make_node("Cast", [x], [output_name], name="aipp_to_float", to=TensorProto.FLOAT))
    return nodes, inits


def _yuv420sp_nodes(cfg: AippConfig, x: str, node, const) -> str:
    """(N, H*3/2, W, 1) NV12/NV21 bytes -> (N, H, W, 3): Y, then each 2x2 block's two chroma bytes."""
    h, w = cfg.src_image_size_h, cfg.src_image_size_w
    axis1 = const("yuv_axis_h", np.array([1], np.int64))
    y = node("Slice", [x, const("yuv_y_start", np.array([0], np.int64)), const("yuv_y_end", np.array([h], np.int64)),
                       axis1])
    uv = node("Slice", [x, const("yuv_uv_start", np.array([h], np.int64)),
                        const("yuv_uv_end", np.array([h * 3 // 2], np.int64)), axis1])
    # (N, H/2, W, 1) interleaved pairs -> (N, H/2, 1, W/2, 1, 2) -> repeat 2x2 -> (N, H, W, 2)
    uv = node("Reshape", [uv, const("yuv_pairs", np.array([-1, h // 2, 1, w // 2, 1, 2], np.int64))])
    uv = node("Expand", [uv, const("yuv_upsample", np.array([1, 1, 2, 1, 2, 1], np.int64))])
    uv = node("Reshape", [uv, const("yuv_full", np.array([-1, h, w, 2], np.int64))])
    return node("Concat", [y, uv], axis=3)
