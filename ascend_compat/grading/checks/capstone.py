"""Visible tests and hints of ``exercises/capstone/capstone.ipynb``, one question per stage.

Questions: ``capstone_train`` (``train_on_npu()`` trains on the NPU, ``evaluate_on_npu(model)``
measures a model's test accuracy), ``capstone_convert`` (``export_onnx``, ``AIPP_CONFIG`` and
``atc_args``), ``capstone_serve`` (``classify(om_path, images)`` with pyACL) and
``capstone_no_cuda`` (the migration analyzer finds no CUDA left).

Each stage is tested on its own, with the graders' own inputs: a DigitCNN the tests train on the
CPU (the project's model and data, :func:`reference_model`), the graders' ONNX export and ``.om``
(:func:`reference_om`). So a learner stuck in one stage still gets feedback on the next, and a
test never reads a result the notebook computed (``model``, ``om_path``): it calls the learner's
functions. The hidden tests in the notebook grade the pipeline the notebook itself ran (accuracy
>= 0.90, the learner's ``.om``, nothing leaked after 32 images).
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import numbers
import os

import numpy as np
import torch

from ascend_compat.grading.checks._conversion import convert_or_explain, export_onnx as grader_export
from ascend_compat.grading.checks._conversion import om_manifest, onnx_session, quiet, run_om, same_path, scratch
from ascend_compat.grading.checks._training import OptimizerSteps
from ascend_compat.grading.checks.ex02_atc_command import parse as parse_atc_args
from ascend_compat.grading.checks.ex02_port_cuda_inference import cuda_findings
from ascend_compat.grading.checks.ex03_pyacl_classify import assert_nothing_left, executions, fresh_runtime
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("capstone")

INPUT_SHAPE = [1, 3, 32, 32]   # what atc compiles: one 32x32 RGB image, NCHW (the ONNX model's layout)
FP16_ATOL = 0.25               # |logit - float32 logit| after atc's default force_fp16 (as the hidden test)


# ---------------------------------------------------------------------------- the project, and references
@functools.lru_cache(maxsize=None)
def project(name: str):
    """A module of ``datasets/capstone_cuda_project`` (``data``, ``model``), loaded from its file."""
    from ascend_compat import zoo

    path = os.path.join(zoo.DATASETS, "capstone_cuda_project", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_capstone_project_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=None)
def _split(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = project("data").load(split)
    images.setflags(write=False)
    return images, labels


def evaluation_split() -> tuple[np.ndarray, np.ndarray]:
    """The project's test images (uint8, N x 32 x 32 x 3) and labels."""
    return _split("test")


def as_input(images: np.ndarray) -> torch.Tensor:
    """The project's preprocessing, in the float32 the model takes."""
    return torch.from_numpy(project("data").preprocess(images)).float()


@functools.lru_cache(maxsize=1)
def _trained_on_the_cpu() -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]), torch.enable_grad():  # the learner's random state stays as it was
        torch.manual_seed(1)
        images, labels = _split("train")
        x, y = as_input(images), torch.from_numpy(labels)
        model = project("model").DigitCNN()
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for start in range(0, len(x), 64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[start:start + 64]), y[start:start + 64]).backward()
            opt.step()
    return model.eval()


def reference_model(device: str = "cpu") -> torch.nn.Module:
    """A DigitCNN trained one epoch on the CPU by the tests (89 % of the test images right), a fresh copy."""
    return copy.deepcopy(_trained_on_the_cpu()).to(device)


def reference_logits(images: np.ndarray) -> np.ndarray:
    model = _trained_on_the_cpu()
    with torch.no_grad():
        return model(as_input(images)).numpy()


class _PreprocessingInside(torch.nn.Module):
    """The model with the project's normalisation as its first layer: fed raw pixel values, it
    computes what the model computes on ``data.preprocess(images)``."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        data = project("data")
        self.model, self.mean, self.std = model, float(data.MEAN), float(data.STD)

    def forward(self, pixels):
        return self.model((pixels - self.mean) / self.std)


@functools.lru_cache(maxsize=None)
def reference_om(soc: str) -> str:
    """The graders' ``.om`` of :func:`reference_model` for ``soc``: batch 1, uint8 RGB images.

    Its AIPP only turns the uint8 NHWC image into the model's NCHW input; the normalisation is a
    layer of the network instead. Stage 3 needs an ``.om`` that takes camera images, not the
    answer to stage 2 (which puts the normalisation in AIPP), and this module does not spell it out."""
    folder = scratch("capstone_om")
    os.makedirs(folder)
    onnx_path = grader_export(_PreprocessingInside(reference_model()), torch.zeros(*INPUT_SHAPE),
                              os.path.join(folder, "digitcnn.onnx"))
    config = os.path.join(folder, "aipp.cfg")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write("aipp_op {\n aipp_mode : static\n input_format : RGB888_U8\n"
                     " src_image_size_w : 32\n src_image_size_h : 32\n}\n")
    return convert_or_explain("the graders' model", model=onnx_path, output=os.path.join(folder, "digitcnn"),
                              soc_version=soc, input_shape="input:1,3,32,32", insert_op_conf=config)


# ---------------------------------------------------------------------------- stage 1: train
STEPS_WATCHED = 3  # optimizer steps the visible test lets train_on_npu take (the hidden test watches an epoch)


class _EnoughSteps(BaseException):
    """Stops the learner's training after :data:`STEPS_WATCHED` steps (a BaseException: an
    ``except Exception`` in the learner's loop does not swallow it)."""


@EXERCISE.test("capstone_train")
def trains_on_the_npu(train_on_npu):
    """train_on_npu() steps its optimizer on the model's float32 parameters, on the NPU"""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    dtypes: set = set()

    def before_step(optimizer, args, kwargs):
        dtypes.update(str(p.dtype) for group in optimizer.param_groups for p in group["params"])
        if steps.count >= STEPS_WATCHED:
            raise _EnoughSteps

    with OptimizerSteps() as steps, quiet():
        handle = register_optimizer_step_pre_hook(before_step)  # after OptimizerSteps' hook: it has counted
        try:
            train_on_npu(epochs=1)
        except _EnoughSteps:
            pass
        finally:
            handle.remove()
    assert steps.count, "train_on_npu(epochs=1) made no torch.optim step: keep the project's optimizer and loop"
    assert steps.device_types == {"npu"}, (
        f"the optimizer stepped parameters on {sorted(steps.parameter_devices)}: the model must train on the NPU "
        "(moving it there after training on the CPU does not count)")
    assert dtypes == {"torch.float32"}, f"the optimizer updates {sorted(dtypes)} weights; keep them in float32"


@EXERCISE.test("capstone_train")
def evaluates_a_model_on_the_npu(evaluate_on_npu):
    """evaluate_on_npu(model) returns the test accuracy of a model on the NPU, as a float"""
    images, labels = evaluation_split()
    expected = float((reference_logits(images).argmax(1) == labels).mean())
    with quiet():
        got = evaluate_on_npu(reference_model("npu:0"))
    assert isinstance(got, numbers.Real) and not isinstance(got, bool), (
        f"evaluate_on_npu(model) returned {type(got).__name__}; return the accuracy as a Python float")
    assert 0 <= got <= 1, f"evaluate_on_npu(model) returned {got}: an accuracy is a fraction between 0 and 1"
    assert abs(got - expected) <= 1 / len(labels), (
        f"evaluate_on_npu(model) returned {got:.4f}, but this model classifies {expected:.4f} of the "
        f"{len(labels)} test images correctly")


# ---------------------------------------------------------------------------- stage 2: export and convert
@EXERCISE.test("capstone_convert")
def exports_a_dynamic_batch_onnx_model(export_onnx):
    """export_onnx(model, path) writes (and returns) an ONNX model with input 'input', output 'output', any batch"""
    path = os.path.join(scratch("capstone_export"), "digitcnn.onnx")
    os.makedirs(os.path.dirname(path))
    model = reference_model("npu:0")
    with quiet():
        returned = export_onnx(model, path)
    assert isinstance(returned, (str, os.PathLike)) and same_path(returned, path), (
        f"export_onnx(model, path) returned {returned!r}; return path (the next cell passes it to atc_args)")
    assert os.path.isfile(path), "export_onnx(model, path) wrote no file at path"
    devices = {p.device.type for p in model.parameters()}
    assert devices == {"npu"}, (
        f"after export_onnx the model is on {sorted(devices)}: put it back on the NPU (stage 3 runs it there)")
    session = onnx_session(path)
    names = [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]
    assert names == (["input"], ["output"]), f"the ONNX model's inputs and outputs are named {names}; name them input and output"
    images = evaluation_split()[0][:3]
    for batch in (images, images[:1]):
        try:
            got = session.run(None, {"input": as_input(batch).numpy()})[0]
        except Exception as exc:  # onnxruntime refuses a batch the export fixed
            raise AssertionError(f"the ONNX model does not take a batch of {len(batch)}: {str(exc).splitlines()[0]}; "
                                 "export with a dynamic batch dimension") from None
        assert np.allclose(got, reference_logits(batch), atol=1e-4), "the ONNX model computes other logits than the model"


@EXERCISE.test("capstone_convert")
def aipp_config_reproduces_the_preprocessing(AIPP_CONFIG, SOC):  # noqa: N803  (the notebook's constants)
    """with AIPP_CONFIG the .om takes uint8 RGB images and computes what the model computes on preprocess(images)"""
    assert isinstance(AIPP_CONFIG, str), f"AIPP_CONFIG is a {type(AIPP_CONFIG).__name__}; write the configuration as a string"
    folder = scratch("capstone_aipp")
    os.makedirs(folder)
    onnx_path = grader_export(reference_model(), torch.zeros(*INPUT_SHAPE), os.path.join(folder, "digitcnn.onnx"))
    config = os.path.join(folder, "aipp.cfg")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(AIPP_CONFIG)
    om_path = convert_or_explain("AIPP_CONFIG", model=onnx_path, output=os.path.join(folder, "digitcnn"), soc_version=SOC,
                                 input_shape="input:1,3,32,32", insert_op_conf=config)
    manifest = om_manifest(om_path)
    assert manifest.get("aipp"), "the .om has no AIPP stage: AIPP_CONFIG needs an aipp_op { ... } block"
    dtype = str(manifest["inputs"][0]["dtype"]).lower()
    assert dtype == "uint8", f"with AIPP_CONFIG the .om takes {dtype} input; the camera delivers uint8 RGB images"
    images = evaluation_split()[0][:4]
    for number, image in enumerate(images):
        got = run_om(om_path, np.ascontiguousarray(image[None]))[0][0]
        assert np.all(np.isfinite(got)), (
            f"on test image {number} the .om's logits are {got[~np.isfinite(got)][0]}: the normalised pixels are far "
            "too large (float16 overflows); compare AIPP's formula with data.preprocess")
        worst = float(np.abs(got - reference_logits(image[None])[0]).max())
        assert worst < FP16_ATOL, (
            f"on test image {number} the .om's logits differ from the model's on preprocess(image) by {worst:.3g} "
            f"(float16 rounding explains up to {FP16_ATOL}): compare AIPP's formula with data.preprocess")


@EXERCISE.test("capstone_convert")
def atc_args_describe_the_conversion(atc_args, SOC, WORK):  # noqa: N803
    """atc_args(onnx_path, output): ONNX, SOC, batch 1 as NCHW, your AIPP file, written as atc reads them"""
    from ascend_compat.atc.convert import parse_input_shape, resolve_precision_mode
    from ascend_compat.errors import UserError

    onnx_path, output = os.path.join(scratch("capstone_atc"), "digitcnn.onnx"), os.path.join(scratch("capstone_atc"), "digitcnn")
    options = parse_atc_args(atc_args(onnx_path, output))
    assert str(options.framework).strip() == "5", f"--framework={options.framework} is not atc's code for ONNX"
    assert same_path(options.model, onnx_path), f"--model is {options.model!r}; convert the file onnx_path"
    assert same_path(options.output, output), (
        f"--output is {options.output!r}; write to output (without .om: atc appends it)")
    assert options.soc_version == SOC, f"--soc_version={options.soc_version}; convert for SOC ({SOC})"
    assert options.input_shape, "--input_shape is missing: the ONNX batch dimension is open, atc must be told the shape"
    try:
        shapes = parse_input_shape(options.input_shape)
    except UserError as exc:
        raise AssertionError(f"atc cannot read --input_shape={options.input_shape}: {exc}") from None
    assert shapes == {"input": INPUT_SHAPE}, (
        f"--input_shape={options.input_shape} reads as {shapes}: name the ONNX input and give one image's NCHW shape")
    assert options.dynamic_batch_size is None, "--dynamic_batch_size is not asked for: the .om serves batch 1"
    assert options.input_format == "NCHW", (
        f"--input_format={options.input_format}: it describes the ONNX model's input, which is NCHW "
        "(the NHWC images the .om takes are AIPP's business)")
    assert options.insert_op_conf is not None, "--insert_op_conf is missing: without it atc adds no AIPP"
    assert same_path(options.insert_op_conf, os.path.join(WORK, "aipp.cfg")), (
        f"--insert_op_conf={options.insert_op_conf}; the notebook writes AIPP_CONFIG to WORK / 'aipp.cfg'")
    try:
        resolve_precision_mode(options.precision_mode, options.precision_mode_v2)
    except UserError as exc:
        raise AssertionError(f"atc refuses the precision option: {exc}") from None


# ---------------------------------------------------------------------------- stage 3: serve
def _classify_images(classify, soc: str, count: int) -> None:
    images = evaluation_split()[0][:count]
    om_path = reference_om(soc)
    with fresh_runtime(), executions() as done:
        logits = classify(om_path, images)
    call = f"classify(om_path, {count} image{'s' if count > 1 else ''})"
    assert done, f"{call} never executed the model (acl.mdl.execute)"
    assert isinstance(logits, np.ndarray), f"{call} returned {type(logits).__name__}; return a NumPy array"
    assert logits.shape == (count, 10), f"{call} returned shape {logits.shape}; one row of 10 logits per image"
    assert logits.dtype == np.float32, f"{call} returned {logits.dtype} values; the model's outputs are float32"
    expected = np.concatenate([run_om(om_path, np.ascontiguousarray(image[None]))[0] for image in images])
    worst = float(np.abs(logits - expected).max())
    assert worst < 1e-4, (f"{call}: the logits differ from the .om's by up to {worst:.3g}; row i must be the "
                          "output for images[i], read as float32")


@EXERCISE.test("capstone_serve")
def serves_several_images_and_one(classify, SOC):  # noqa: N803
    """classify(om_path, images) returns the .om's float32 logits, one row per image, for 3 images and for 1"""
    _classify_images(classify, SOC, 3)
    _classify_images(classify, SOC, 1)


@EXERCISE.test("capstone_serve")
def leaves_nothing_behind(classify, SOC):  # noqa: N803
    """after classify(...) no buffer, dataset, description, model, context or device is left"""
    with fresh_runtime(), executions() as done:
        classify(reference_om(SOC), evaluation_split()[0][:2])
        assert done, "classify never executed the model (acl.mdl.execute)"
        assert_nothing_left("after classify(om_path, 2 images)")


# ---------------------------------------------------------------------------- stage 4: no CUDA left
@EXERCISE.test("capstone_no_cuda")
def no_cuda_in_your_answers(train_on_npu, evaluate_on_npu, export_onnx, atc_args, classify):
    """the migration analyzer finds no CUDA (devices, .cuda(), torch.cuda.*, NCCL, float64) in your answer cells"""
    left = cuda_findings(train_on_npu, evaluate_on_npu, export_onnx, atc_args, classify, notes=False)
    assert not left, "the migration analyzer still finds this in your answer cells:\n" + "\n".join(left)


# ---------------------------------------------------------------------------- hints
EXERCISE.hint(
    "capstone_train",
    "Port train.py line by line: what names the GPU changes (the device, .cuda(), torch.cuda.manual_seed), "
    "the training loop itself stays. Run the migration assistant on the project to see every such line.",
    "torch.cuda.amp.autocast() and torch.cuda.amp.GradScaler() are CUDA-only spellings; torch.amp.autocast and "
    "torch.amp.GradScaler take the device type as an argument.",
    "The problem the analyzer cannot see is in data.py: what dtype does NumPy give (images - MEAN) / STD, and "
    "what does torch.from_numpy keep? Compare it with the dtype of the model's weights.",
    "evaluate_on_npu: inputs go where the model is; bring the predictions back to the CPU before comparing them "
    "with the labels, and return a Python float (.item()), not a tensor.",
)
EXERCISE.hint(
    "capstone_convert",
    "export_onnx: torch.onnx.export runs the model on an example input; export on the CPU (model.cpu()), and "
    "move the model back to the NPU afterwards - stage 3 compares your .om with it there.",
    "Name the input and output (input_names, output_names) and mark dimension 0 of both as dynamic (dynamic_axes).",
    "AIPP normalises each channel as (pixel - mean_chn - min_chn) * var_reci_chn. Write data.preprocess in that "
    "form: which value is subtracted, and what is the reciprocal of the divisor?",
    "atc_args: --input_shape and --input_format describe the ONNX model's input (batch 1, NCHW); the uint8 NHWC "
    "images the .om takes are described by input_format and src_image_size_* inside the AIPP configuration.",
)
EXERCISE.hint(
    "capstone_serve",
    "Level 0's pyACL exercise has the whole pipeline: init, set_device, create_context, load_from_file, "
    "create_desc/get_desc, malloc, datasets with data buffers, memcpy in, execute, memcpy out.",
    "With AIPP the model's input is the raw uint8 image: copy its bytes as they are (one image per execute; "
    "the model was compiled for batch 1), and read each output as float32.",
    "Release in the reverse order of creation, in a finally block, so that an error halfway still frees "
    "everything: buffers and datasets, device memory, the description, the model, the context, the device, finalize.",
)
EXERCISE.hint(
    "capstone_no_cuda",
    "check('capstone_no_cuda') prints each line the analyzer still flags, with its rule id.",
    "cuDNN flags configure NVIDIA's library: a port removes them. A float64 (.double(), dtype=torch.float64) has "
    "no place on the NPU either.",
)
