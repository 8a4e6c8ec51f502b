"""Visible tests and hints of ``exercises/level1_conversion/ex01_dynamic_batch_export.ipynb``.

Questions: ``onnx_dynamic_export`` (``export_dynamic_batch(model, example, path)``) and
``onnx_parity_check`` (``check_parity(onnx_path, model, inputs, batch_sizes)``).

The export is graded by running the learner's file with onnxruntime at batch sizes the learner did
not choose; the parity check is graded by handing it files that are right and files that are wrong
in the ways real exports go wrong (a fixed batch, a batch baked into a reshape, a small numeric
bug, a bug that only shows at batch > 1). The builders of those files are here; the hidden tests
in the source notebook use them.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import torch
from torch import nn

from ascend_compat.grading.checks._conversion import digit_inputs, export_onnx, onnx_session, quiet, rejects, scratch
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex01_dynamic_batch_export")

INPUT_NAME, OUTPUT_NAME = "images", "logits"  # the deployment spec's names
RTOL = ATOL = 1e-4                             # float32 tolerances: onnxruntime vs PyTorch on the CPU


# ---------------------------------------------------------------------------- models the tests export
def trained_digitnet():
    from ascend_compat import zoo

    return zoo.load_digitnet()


def reseeded_digitnet(seed: int = 7):
    """DigitNet with other (random, fixed) weights: the file must hold *this* model, not the trained one."""
    from ascend_compat import zoo

    generator = torch.Generator().manual_seed(seed)
    model = zoo.DigitNet()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


class GreyNet(nn.Module):
    """Another shape of model (1x28x28 grey images, 5 classes): an export must not assume DigitNet."""

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(11)
        self.conv = nn.Conv2d(1, 8, 3, stride=2)
        self.head = nn.Linear(8 * 13 * 13, 5)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))

    def forward(self, x):
        return self.head(torch.relu(self.conv(x)).flatten(1))


def grey_inputs(n: int = 40) -> np.ndarray:
    """Real grey images for GreyNet: the test digits' first channel, cropped to 28x28."""
    return np.ascontiguousarray(digit_inputs(n)[:, :1, 2:30, 2:30])


# ---------------------------------------------------------------------------- reading an exported file
def input_and_output(path: str):
    """The file's graph inputs (initializers left out) and outputs, as ONNX ValueInfo."""
    import onnx

    graph = onnx.load(path).graph
    weights = {i.name for i in graph.initializer}
    return [v for v in graph.input if v.name not in weights], list(graph.output)


def shape_of(value) -> list:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value.type.tensor_type.shape.dim]


def exported_by_learner(export_dynamic_batch, model, example, name: str) -> str:
    """Call the learner's export into a fresh scratch path; the path, once the file is there."""
    path = scratch(name)
    with quiet():
        export_dynamic_batch(model, example, path)
    assert os.path.isfile(path), (
        f"export_dynamic_batch(model, example, path) returned but wrote no file at path; "
        "pass path to torch.onnx.export as the file name")
    return path


def assert_interface(path: str) -> None:
    """Valid ONNX, the spec's input and output names, and an open batch dimension."""
    import onnx

    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
    except Exception as exc:
        raise AssertionError(f"the file is not a valid ONNX model: {str(exc).strip().splitlines()[0]}") from None
    inputs, outputs = input_and_output(path)
    names = [v.name for v in inputs]
    assert names == [INPUT_NAME], (
        f"the file's inputs are named {names}; the deployment spec names the single input {INPUT_NAME!r} "
        "(atc --input_shape and AscendCL refer to inputs by these names)")
    names = [v.name for v in outputs]
    assert names == [OUTPUT_NAME], f"the file's outputs are named {names}; the deployment spec names the output {OUTPUT_NAME!r}"
    batch = inputs[0].type.tensor_type.shape.dim[0]
    assert not batch.HasField("dim_value"), (
        f"the batch dimension of {INPUT_NAME!r} is fixed to {batch.dim_value} in the file (shape "
        f"{shape_of(inputs[0])}): every other batch size will fail. Declare the batch dimension dynamic when you export")


def assert_runs_like(path: str, model, inputs: np.ndarray, batch_sizes) -> None:
    """Run the file at each batch size and compare with PyTorch (returns nothing: see assert_accepts)."""
    session = onnx_session(path)
    for n in batch_sizes:
        batch = np.ascontiguousarray(inputs[:n])
        with torch.inference_mode():
            expected = model(torch.from_numpy(batch))
        try:
            (got,) = session.run([OUTPUT_NAME], {INPUT_NAME: batch})
        except Exception as exc:  # onnxruntime's own exception types
            message = str(exc).split("Status Message:")[-1].strip().splitlines()[0][:160]
            raise AssertionError(f"onnxruntime cannot run the file at batch {n}: {message}") from None
        got = torch.from_numpy(got)
        assert got.shape == expected.shape, f"at batch {n} the file returns shape {tuple(got.shape)}, PyTorch {tuple(expected.shape)}"
        difference = float((got - expected).abs().max())
        assert torch.allclose(got, expected, rtol=RTOL, atol=ATOL), (
            f"at batch {n} the file's outputs differ from the model's by up to {difference:.2e}: "
            "is it the model you were given, exported in eval mode?")


# ---------------------------------------------------------------------------- files for the parity check
def correct_file(model, name: str = "correct.onnx") -> str:
    return export_onnx(model, torch.zeros(1, 3, 32, 32), scratch(name), INPUT_NAME, OUTPUT_NAME)


def static_batch_file(model, batch: int = 1) -> str:
    """The most common export bug: no dynamic axes, the example's batch is baked in."""
    return export_onnx(model, torch.zeros(batch, 3, 32, 32), scratch(f"static{batch}.onnx"), INPUT_NAME, OUTPUT_NAME,
                       dynamic_batch=False)


class _ViewBatchOne(nn.Module):
    """DigitNet flattened with view(1, -1): dynamic axes declared, yet only batch 1 runs (the export lesson's bug)."""

    def __init__(self, model):
        super().__init__()
        self.features, self.head = model.features, model.classifier[1:]

    def forward(self, x):
        return self.head(self.features(x).view(1, -1))


def view_batch_one_file(model) -> str:
    return export_onnx(_ViewBatchOne(model), torch.zeros(1, 3, 32, 32), scratch("view1.onnx"), INPUT_NAME, OUTPUT_NAME)


def shifted_file(model, delta: float, cls: int) -> str:
    """The model with one logit shifted by ``delta``: a bug, not rounding, at any batch size."""
    wrong = copy.deepcopy(model)
    with torch.no_grad():
        wrong.classifier[-1].bias[cls] += delta
    return export_onnx(wrong, torch.zeros(1, 3, 32, 32), scratch("shifted.onnx"), INPUT_NAME, OUTPUT_NAME)


class _MixesTheBatch(nn.Module):
    """Right at batch 1, wrong above: each sample's logits leak into the others (like batch statistics)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        logits = self.model(x)
        return logits + 0.05 * (logits - logits.mean(dim=0, keepdim=True))


def batch_mixing_file(model) -> str:
    return export_onnx(_MixesTheBatch(model), torch.zeros(1, 3, 32, 32), scratch("mixing.onnx"), INPUT_NAME, OUTPUT_NAME)


# The assert_* helpers return None: a number as the last value of an nbgrader test cell would be
# taken as that cell's score (nbgrader's partial credit).
def assert_accepts(check_parity, path: str, model, inputs, batch_sizes, what: str) -> None:
    try:
        with quiet():
            result = check_parity(path, model, inputs, batch_sizes)
    except NotImplementedError:
        raise
    except Exception as exc:
        raise AssertionError(
            f"check_parity raised {type(exc).__name__} on {what} (batch sizes {batch_sizes}): "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''} - onnxruntime and PyTorch differ by "
            "float32 rounding (about 1e-6) there, which a parity check must accept") from None
    assert isinstance(result, (float, int, np.floating)) and not isinstance(result, bool), (
        f"check_parity returned {result!r}; return the largest absolute difference it saw, as a float")
    assert 0 <= float(result) < 1e-3, (
        f"check_parity returned {float(result):.3g} for {what}; the largest |onnxruntime - PyTorch| there is "
        "about 1e-5: return the largest absolute difference over every batch size")


def assert_rejects(check_parity, path: str, model, inputs, batch_sizes, what: str) -> None:
    raised, outcome = rejects(lambda: check_parity(path, model, inputs, batch_sizes))
    assert raised, (
        f"check_parity passed {what} (batch sizes {batch_sizes}) and returned {outcome}; it must raise "
        "AssertionError when a batch size does not run or differs from PyTorch beyond float32 tolerances")


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("onnx_dynamic_export")
def writes_a_valid_file_with_the_spec_interface(export_dynamic_batch):
    """the file is valid ONNX with input 'images', output 'logits' and an open batch dimension"""
    path = exported_by_learner(export_dynamic_batch, trained_digitnet(), torch.from_numpy(digit_inputs(1)), "digitnet.onnx")
    assert_interface(path)


@EXERCISE.test("onnx_dynamic_export")
def runs_at_another_batch_size_and_matches_pytorch(export_dynamic_batch):
    """onnxruntime runs the file on 2 and 9 real digits and matches PyTorch (rtol=atol=1e-4)"""
    model = trained_digitnet()
    path = exported_by_learner(export_dynamic_batch, model, torch.from_numpy(digit_inputs(1)), "digitnet.onnx")
    assert_runs_like(path, model, digit_inputs(16), (2, 9))


@EXERCISE.test("onnx_parity_check")
def accepts_a_correct_export(check_parity):
    """check_parity accepts a correct export and returns its largest difference"""
    model = trained_digitnet()
    assert_accepts(check_parity, correct_file(model), model, digit_inputs(), (1, 4, 16), "a correct export")


@EXERCISE.test("onnx_parity_check")
def rejects_a_file_with_one_logit_off_by_a_hundredth(check_parity):
    """check_parity rejects a file whose logit for class 3 is 0.01 too high"""
    model = trained_digitnet()
    assert_rejects(check_parity, shifted_file(model, 0.01, 3), model, digit_inputs(), (1, 4, 16),
                   "a file whose logit for class 3 is 0.01 too high")


EXERCISE.hint(
    "onnx_dynamic_export",
    "Start from the export lesson's torch.onnx.export call and change what the deployment spec asks for: "
    "the input and output names.",
    "With dynamo=False, dynamic_axes maps each *name* to the dimensions that stay open: "
    "{'images': {0: 'batch'}, 'logits': {0: 'batch'}}. Without it the example's batch size is baked in.",
    "Export the example you were given (torch.onnx.export(model, (example,), path, ...)): a hard-coded "
    "torch.zeros(1, 3, 32, 32) fails for models that take other shapes.",
)
EXERCISE.hint(
    "onnx_parity_check",
    "One onnxruntime.InferenceSession, then a loop over batch_sizes: run inputs[:n] in the file and in the "
    "model (torch.inference_mode()), compare, remember the largest difference.",
    "torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4) raises AssertionError with a readable "
    "message; the NPU tolerances (1e-2 and more) would let real bugs through here.",
    "A file with a fixed batch makes session.run raise at the first other batch size: let that error "
    "propagate (or turn it into an AssertionError) - do not catch it and carry on.",
)
