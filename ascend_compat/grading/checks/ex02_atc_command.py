"""Visible tests and hints of ``exercises/level1_conversion/ex02_atc_command.ipynb``.

Questions: ``atc_args_static`` (``atc_args_static(onnx_path, output)``, batch 1) and
``atc_args_dynamic`` (``atc_args_dynamic(onnx_path, output, batch_sizes)``, several batch sizes).

An answer is graded three ways:

1. it is parsed by the very parser of ``ascend-lab atc`` (:func:`ascend_compat.cli.build_parser`),
   after checks argparse is too kind for: options spelled in full (Huawei's atc knows no
   abbreviations), each given once, no shell quotes left inside list items;
2. the parsed options are compared with the deployment spec, one clear sentence per difference;
3. the command is run by ``ascend-lab atc``'s own handler on the simulator, and the ``.om`` is
   inspected (SoC, precision mode, inputs, batch sizes) and executed on real digits.

Accepted spellings follow the real tool: ``--option=value`` or ``--option value`` (Ascend/samples
and ModelZoo READMEs use both, e.g. ``atc --model ./model/face_resnet50_tf.pb --framework=3 ...`` in
Ascend/ModelZoo-TensorFlow ``ACL_TensorFlow/built-in/cv/Face_Resnet50_for_ACL/README.md``), any
option order, a list of arguments or one command string, with or without the leading ``atc``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import shlex

import numpy as np
import torch

from ascend_compat.grading.checks._conversion import (digit_inputs, export_onnx, om_manifest, quiet, run_om,
                                                      same_path, scratch)
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex02_atc_command")

CARD, SOC = "Atlas 300I Pro", "Ascend310P3"   # the card of the spec and its chip (npu-smi info: 310P3)
INPUT_NAME, IMAGE_SHAPE = "images", [3, 32, 32]
PRECISION_MODE, LOG_LEVEL, INPUT_FORMAT = "force_fp16", "error", "NCHW"
FRAMEWORK_NAMES = {"0": "Caffe", "1": "MindSpore", "3": "TensorFlow", "5": "ONNX"}


# ---------------------------------------------------------------------------- the files the commands convert
def onnx_model(folder_name: str | None = None) -> str:
    """DigitNet with the spec's interface (input 'images', output 'logits', open batch), in a scratch path."""
    from ascend_compat import zoo

    folder = scratch(folder_name or "model")
    os.makedirs(folder)
    return export_onnx(zoo.load_digitnet(), torch.zeros(1, 3, 32, 32), os.path.join(folder, "digitnet.onnx"),
                       "images", "logits")


def output_path(name: str = "digitnet") -> str:
    folder = scratch("om")
    os.makedirs(folder)
    return os.path.join(folder, name)


# ---------------------------------------------------------------------------- 1. parse like ascend-lab atc
def _atc_parser() -> argparse.ArgumentParser:
    from ascend_compat.cli import build_parser

    parser = build_parser("atc")
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["atc"]


def tokens_of(answer) -> list[str]:
    """The learner's answer as argv items (a list, or one command string split like a shell would)."""
    if isinstance(answer, str):
        try:
            tokens = shlex.split(answer)
        except ValueError as exc:
            raise AssertionError(f"the command string does not split like a shell command ({exc}): check its quotes") from None
    elif isinstance(answer, (list, tuple)):
        tokens = [os.fspath(t) if isinstance(t, os.PathLike) else t for t in answer]
        wrong = [t for t in tokens if not isinstance(t, str)]
        assert not wrong, (f"every argument must be a string, but {wrong[0]!r} is a {type(wrong[0]).__name__}: "
                           "subprocess and the shell only pass strings")
    else:
        raise AssertionError(f"your function returned a {type(answer).__name__}; return the atc arguments as a list "
                             "of strings such as ['--model=m.onnx', '--framework=...', ...]")
    if tokens and os.path.basename(tokens[0]) == "atc":
        tokens = tokens[1:]  # the program name is fine too
    assert tokens, "the argument list is empty"
    return tokens


def parse(answer) -> argparse.Namespace:
    """The options as ``ascend-lab atc`` reads them, or AssertionError saying what atc would refuse."""
    tokens = tokens_of(answer)
    parser = _atc_parser()
    known = {s for a in parser._actions for s in a.option_strings} - {"-h", "--help", "--simulate"}
    seen: set[str] = set()
    expect_value = False
    for token in tokens:
        if expect_value or not token.startswith("-"):
            value, expect_value = token, False
        else:
            option, equals, value = token.partition("=")
            assert option in known, (
                f"atc has no option {option!r}: write every option in full with two dashes, as in the atc lesson "
                "(Huawei's atc does not accept abbreviations)")
            assert option not in seen, f"{option} is given twice; give each option once"
            seen.add(option)
            expect_value = not equals  # --option value: the value is the next item
        assert not (len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]), (
            f"{token!r} keeps the shell's quotes: in an argument list there is no shell to remove them, so atc "
            "would see the quote characters. Quote in a command string, never inside a list item")
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        try:
            options = parser.parse_args(tokens)
        except SystemExit:
            options = None
    if options is not None:
        options.given = {option[2:] for option in seen}  # what was written out (defaults are not)
        return options
    reason = errors.getvalue().strip().splitlines()[-1].split("error:", 1)[-1].strip()
    if isinstance(answer, str) and "unrecognized arguments" in reason:
        reason += " (in a command string, a path with spaces must be quoted: shlex.quote(path))"
    raise AssertionError(f"`ascend-lab atc` cannot parse these arguments: {reason}")


# ---------------------------------------------------------------------------- 2. compare with the spec
def assert_matches_spec(options: argparse.Namespace, onnx_path: str, output: str, batch_sizes=None) -> None:
    """Every option of the deployment spec, one sentence per mistake (``batch_sizes`` None: batch 1)."""
    from ascend_compat.atc import socs
    from ascend_compat.errors import UserError

    atc = importlib.import_module("ascend_compat.atc.convert")  # the module (the package exports its function)
    framework = str(options.framework).strip()
    assert framework == "5", (
        f"--framework={framework} means {FRAMEWORK_NAMES.get(framework, 'no framework atc knows')}, but the model "
        "is an ONNX file: look up ONNX's code in the atc lesson's option table")
    assert same_path(options.model, onnx_path), f"--model is {options.model!r}; convert the file onnx_path ({onnx_path!r})"
    assert not str(options.output).endswith(".om"), (
        f"--output={options.output} ends in .om, but atc appends .om itself (you would get {options.output}.om)")
    assert same_path(options.output, output), f"--output is {options.output!r}; write the model to output ({output!r})"
    try:
        socs.check(options.soc_version)
    except UserError as exc:
        raise AssertionError(str(exc).split(";")[0] + ": the SoC name is the chip name npu-smi info prints, "
                             "with the Ascend prefix") from None
    assert options.soc_version == SOC, (
        f"--soc_version={options.soc_version} is a real chip, but not the one on the {CARD} card of the spec: "
        "an .om for another SoC does not load")
    given = set(options.given)
    if "precision_mode_v2" in given:  # the newer option (CANN 6.3+) states the precision mode too
        given.add("precision_mode")
    for option in ("input_format", "precision_mode", "log"):
        assert option in given, (
            f"--{option} is missing: even where atc's default would do, the spec asks for every option to be "
            "written out, so the deployment record says what was used")
    assert options.input_format == INPUT_FORMAT, (
        f"--input_format is {options.input_format!r}; the spec's images are laid out N, C, H, W")
    try:  # atc's own rules: known names, and --precision_mode or --precision_mode_v2, not both
        mode = atc.resolve_precision_mode(options.precision_mode, options.precision_mode_v2)
    except UserError as exc:
        raise AssertionError(f"atc refuses the precision option ({exc}); see the precision table of the atc lesson") from None
    assert mode == PRECISION_MODE, (
        f"the precision mode {mode} is a real mode, but not the one the spec describes "
        "(every operator that has a float16 kernel runs in float16)")
    assert options.log == LOG_LEVEL, f"--log is {options.log!r}; the spec asks atc to log errors only"
    assert options.insert_op_conf is None, "--insert_op_conf adds AIPP preprocessing, which this spec does not ask for"
    assert options.input_shape, (
        "--input_shape is missing: the ONNX batch dimension is open, and atc must be told what to compile")
    try:
        shapes = atc.parse_input_shape(options.input_shape)
    except UserError as exc:
        raise AssertionError(f"atc cannot read --input_shape={options.input_shape}: {exc}") from None
    assert list(shapes) == [INPUT_NAME], (
        f"--input_shape names the input(s) {list(shapes)}; it must name the model's input as the ONNX file "
        f"calls it ({INPUT_NAME!r})")
    dims = shapes[INPUT_NAME]
    if batch_sizes is None:
        assert dims == [1, *IMAGE_SHAPE], f"--input_shape gives {INPUT_NAME} the dims {dims}; the spec is one 3x32x32 image"
        assert options.dynamic_batch_size is None, "--dynamic_batch_size is for several batch sizes; this spec is batch 1 only"
    else:
        assert dims[1:] == IMAGE_SHAPE and len(dims) == 4, f"--input_shape gives {INPUT_NAME} the dims {dims}; images are 3x32x32"
        assert dims[0] == -1, (
            f"the batch dimension in --input_shape is {dims[0]}; with --dynamic_batch_size atc needs it marked as "
            "dynamic (see the atc lesson, section 4)")
        assert options.dynamic_batch_size, "--dynamic_batch_size is missing: atc compiles only the sizes you list"
        try:
            gears = atc.parse_dynamic_batch_size(options.dynamic_batch_size)
        except UserError as exc:
            raise AssertionError(f"atc cannot read --dynamic_batch_size={options.dynamic_batch_size}: {exc}") from None
        assert sorted(gears) == sorted(batch_sizes), (
            f"--dynamic_batch_size={options.dynamic_batch_size} compiles the batch sizes {sorted(gears)}, but "
            f"batch_sizes was {tuple(batch_sizes)}")


# ---------------------------------------------------------------------------- 3. convert and inspect
def convert_with_ascend_lab(options: argparse.Namespace) -> str:
    """Run ``ascend-lab atc``'s handler on the simulator (stdout captured); the path of the .om."""
    from ascend_compat.errors import UserError

    options.simulate = True  # a real atc on PATH would be used otherwise
    with contextlib.redirect_stdout(io.StringIO()), quiet():
        try:
            options.func(options)
        except UserError as exc:
            raise AssertionError(f"`ascend-lab atc` (simulated) refused the command: {exc}") from None
    path = str(options.output) + ".om"
    assert os.path.isfile(path), f"atc reported success but wrote no {path}"
    return path


def assert_om(path: str, batch_sizes=None) -> None:
    """The .om is for the spec's SoC and precision, takes the spec's input, and computes DigitNet."""
    from ascend_compat import zoo

    manifest = om_manifest(path)
    assert manifest["soc_version"] == SOC, f"the .om is compiled for {manifest['soc_version']}, not for the {CARD}'s chip"
    assert manifest["precision_mode"] == PRECISION_MODE, f"the .om was compiled with precision_mode {manifest['precision_mode']}"
    (image,) = manifest["inputs"]
    expected_shape = [1 if batch_sizes is None else -1, *IMAGE_SHAPE]
    assert image["name"] == INPUT_NAME and image["shape"] == expected_shape, (
        f"the .om's input is {image['name']} {image['shape']}, expected {INPUT_NAME} {expected_shape}")
    gears = manifest.get("dynamic_batch_size") or [1]
    assert sorted(gears) == sorted(batch_sizes or [1]), f"the .om serves the batch sizes {sorted(gears)}"
    reference = zoo.load_digitnet()
    for n in gears:
        x = digit_inputs(n)
        (got,) = run_om(path, x)
        with torch.inference_mode():
            expected = reference(torch.from_numpy(x)).numpy()
        assert got.shape == expected.shape and np.allclose(got, expected, rtol=1e-2, atol=5e-2), (
            f"at batch {n} the .om's logits differ from PyTorch's by up to {np.abs(got - expected).max():.3g}")


def answer_of(function, *args):
    with quiet():
        return function(*args)


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("atc_args_static")
def static_parses_like_ascend_lab_atc(atc_args_static):
    """the arguments parse with the parser of `ascend-lab atc`, every option spelled in full"""
    parse(answer_of(atc_args_static, onnx_model(), output_path()))


@EXERCISE.test("atc_args_static")
def static_matches_the_deployment_spec(atc_args_static):
    """every option matches the deployment spec (batch 1)"""
    onnx_path, output = onnx_model(), output_path()
    assert_matches_spec(parse(answer_of(atc_args_static, onnx_path, output)), onnx_path, output)


@EXERCISE.test("atc_args_static")
def static_converts_to_the_right_om(atc_args_static):
    """the simulated atc converts it; the .om is for Ascend310P3, force_fp16, images 1x3x32x32, and runs"""
    onnx_path, output = onnx_model(), output_path()
    assert_om(convert_with_ascend_lab(parse(answer_of(atc_args_static, onnx_path, output))))


@EXERCISE.test("atc_args_dynamic")
def dynamic_parses_like_ascend_lab_atc(atc_args_dynamic):
    """the arguments parse with the parser of `ascend-lab atc`, every option spelled in full"""
    parse(answer_of(atc_args_dynamic, onnx_model(), output_path(), (1, 4, 8)))


@EXERCISE.test("atc_args_dynamic")
def dynamic_matches_the_deployment_spec(atc_args_dynamic):
    """every option matches the deployment spec (batch sizes 1, 4 and 8)"""
    onnx_path, output = onnx_model(), output_path()
    options = parse(answer_of(atc_args_dynamic, onnx_path, output, (1, 4, 8)))
    assert_matches_spec(options, onnx_path, output, (1, 4, 8))


@EXERCISE.test("atc_args_dynamic")
def dynamic_converts_and_runs_every_batch_size(atc_args_dynamic):
    """the simulated atc converts it; the .om serves batches of 1, 4 and 8 and matches PyTorch"""
    onnx_path, output = onnx_model(), output_path()
    path = convert_with_ascend_lab(parse(answer_of(atc_args_dynamic, onnx_path, output, (1, 4, 8))))
    assert_om(path, (1, 4, 8))


EXERCISE.hint(
    "atc_args_static",
    "Start from the command line of the atc lesson (section 1) and change what the spec says: the chip, "
    "the input's name, the log level.",
    "The chip name: `npu-smi info` on an Atlas 300I Pro prints 310P3; --soc_version takes it with the "
    "Ascend prefix, spelled exactly (it is case-sensitive).",
    "--input_shape is name:dims, with the input's name as the ONNX file calls it (this one's is 'images'), "
    "e.g. name:1,3,32,32. In a Python list each item is one argument: no quotes around the value.",
)
EXERCISE.hint(
    "atc_args_dynamic",
    "A set of batch sizes needs two changes to the static command: -1 for the batch in --input_shape, and "
    "--dynamic_batch_size listing the sizes.",
    "Build the list from the batch_sizes argument: ','.join(str(n) for n in batch_sizes) gives '1,4,8'.",
)
