"""Visible tests and hints of ``exercises/level0_inference/ex03_pyacl_classify.ipynb``.

Questions: ``classify_top5`` (``classify(model_path, image)`` returns the right top-5),
``classify_releases`` (it leaves no AscendCL resource behind) and ``classify_errors`` (a failing
call raises an exception naming its return code, and what was acquired is still released).

The references are DigitNet's float32 ONNX model run by onnxruntime (softmax on its logits); the
``.om`` rounds to float16 inside (atc's default ``--precision_mode=force_fp16``), so probabilities
are compared within :data:`PROB_ATOL`. Resources are counted by the simulated pyACL's tracker,
:func:`ascend_compat.acl.leaks` (not part of the real pyACL): every device/host buffer, data
buffer, dataset, model description, model, stream, context, device and ``acl.init`` not undone.
The failure tests make a call fail the way it fails on hardware: a model file that is not there,
an ``.om`` converted for another SoC, a device whose memory is full.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import numpy as np

from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex03_pyacl_classify")

PROB_ATOL = 5e-3          # |probability - reference|: float16 inside the .om moves them by < 1e-3
TOP_K = 5
SAMPLES = (292, 0)        # test images for the visible tests: one the model is unsure about, one it is sure of
HIDDEN_SAMPLES = (3, 41, 118, 205, 358)


# ---------------------------------------------------------------------------- the runtime
def acl_module():
    """The ``acl`` the notebook imports: Huawei's pyACL when installed, else the simulated one."""
    from ascend_compat.launcher import install_acl

    return install_acl()


def simulated() -> bool:
    return bool(getattr(acl_module(), "SIMULATED", False))


def need_resource_tracker() -> None:
    assert simulated(), ("this check counts resources with the simulated pyACL's acl.leaks(), which the real "
                         "pyACL does not have: run it in the lab (without CANN), or watch npu-smi on hardware")


@contextlib.contextmanager
def quiet_acl_log() -> Iterator[list[str]]:
    """Collect the simulated runtime's log lines (``acl: ACL_ERROR_...``) instead of printing them.

    nbgrader gives a test cell that writes to stderr 0 points, and these lines are expected when a
    test makes a call fail (or a wrong answer calls in the wrong order): the assertions grade.
    """
    logger = logging.getLogger("ascend_compat.acl")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler, propagate = Collect(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


@contextlib.contextmanager
def fresh_runtime() -> Iterator[None]:
    """A simulated AscendCL with nothing initialised or allocated, before and after the block.

    So one test's leftovers (an ``acl.init`` never finalized) cannot make the next one fail.
    Does nothing on real pyACL, which cannot be reset. The runtime's log is collected, not printed.
    """
    acl = acl_module()
    with quiet_acl_log():
        if simulated():
            acl.reset()
        try:
            yield
        finally:
            if simulated():
                acl.reset()


def leaks() -> list[str]:
    need_resource_tracker()
    return acl_module().leaks()


def assert_nothing_left(what: str) -> None:
    left = leaks()
    if left:
        shown = "\n".join(f"  {line}" for line in left[:6]) + (f"\n  ... and {len(left) - 6} more" if len(left) > 6 else "")
        raise AssertionError(f"{what}, {len(left)} AscendCL resource(s) were never released:\n{shown}")


@contextlib.contextmanager
def executions() -> Iterator[list]:
    """Count the successful ``acl.mdl.execute``/``execute_async`` calls made within the block.

    A release test must not pass for code that never ran the model (nothing created, nothing leaked).
    """
    from unittest import mock

    acl = acl_module()
    done: list = []

    def counted(real):
        def call(*args, **kwargs):
            ret = real(*args, **kwargs)
            if ret == 0:
                done.append(real.__name__)
            return ret
        return call

    with mock.patch.object(acl.mdl, "execute", counted(acl.mdl.execute)), \
            mock.patch.object(acl.mdl, "execute_async", counted(acl.mdl.execute_async)):
        yield done


def classify_and_release(classify, image, what: str):
    """``classify(om, image)`` runs the model and leaves nothing behind; returns its result."""
    with executions() as done:
        result = classify(models()["om"], image)
    assert done, f"{what}: classify never executed the model (acl.mdl.execute)"
    assert_nothing_left(what)
    return result


@contextlib.contextmanager
def device_memory(nbytes: int) -> Iterator[None]:
    """The simulated device has only ``nbytes`` of memory within the block (acl.rt.malloc beyond fails)."""
    need_resource_tracker()
    from ascend_compat.sim import CONFIG, configure

    saved = CONFIG.memory_gib
    configure(memory_gib=nbytes / 2**30)
    try:
        yield
    finally:
        configure(memory_gib=saved)


# ---------------------------------------------------------------------------- models and data
_CACHE: dict = {}


def _atc(workdir: str, **options) -> str:
    """``atc --key=value ...`` in ``workdir``: Huawei's atc if installed, else the lab's simulator."""
    if shutil.which("atc"):
        subprocess.run(["atc", *(f"--{k}={v}" for k, v in options.items())], cwd=workdir, check=True,
                       capture_output=True)
    else:
        from ascend_compat.atc import convert

        paths = {k: os.path.join(workdir, v) for k, v in options.items() if k in ("model", "output")}
        convert(**{**options, **paths})
    return os.path.join(workdir, options["output"] + ".om")


def soc_name() -> str:
    """The SoC of this (simulated or real) device: what the ``.om`` must be converted for."""
    acl = acl_module()
    name = acl.get_soc_name()
    return name if name else "Ascend910B2"


def models() -> dict[str, str]:
    """The files the tests use, converted once per process in a scratch folder.

    ``onnx``: DigitNet's float32 ONNX model (the reference); ``om``: its ``.om`` for this SoC;
    ``other_soc``: an ``.om`` of the same model for a SoC this device is not; ``missing``: a path
    where no file is.
    """
    if "om" not in _CACHE:
        from ascend_compat import zoo

        workdir = tempfile.mkdtemp(prefix="ex03_pyacl_")
        onnx_path = zoo.export_onnx(os.path.join(workdir, "digitnet.onnx"))
        here = soc_name()
        other = "Ascend310P3" if here != "Ascend310P3" else "Ascend910B2"
        _CACHE.update(
            onnx=onnx_path,
            om=_atc(workdir, model="digitnet.onnx", framework=5, output="digitnet", soc_version=here,
                    input_shape="input:1,3,32,32"),
            other_soc=_atc(workdir, model="digitnet.onnx", framework=5, output=f"digitnet_{other}",
                           soc_version=other, input_shape="input:1,3,32,32"),
            missing=os.path.join(workdir, "no_such_model.om"),
        )
    return _CACHE


def test_images() -> np.ndarray:
    if "images" not in _CACHE:
        from ascend_compat import zoo

        _CACHE["images"] = zoo.digit_images("test")[0]
    return _CACHE["images"]


def reference_probabilities(image: np.ndarray) -> np.ndarray:
    """Softmax of DigitNet's float32 logits for one uint8 image, from onnxruntime (10 values)."""
    import onnxruntime as ort

    from ascend_compat import zoo

    if "session" not in _CACHE:
        _CACHE["session"] = ort.InferenceSession(models()["onnx"], providers=["CPUExecutionProvider"])
    logits = _CACHE["session"].run(None, {"input": zoo.preprocess(image)})[0][0].astype(np.float64)
    p = np.exp(logits - logits.max())
    return p / p.sum()


# ---------------------------------------------------------------------------- what a right answer returns
def check_top5(result, image: np.ndarray, what: str) -> None:
    """``result`` is the top-5 of ``image``: five (class, probability) pairs, best first, right values."""
    assert isinstance(result, (list, tuple)), f"{what} returned {type(result).__name__}; return a list of 5 pairs"
    assert len(result) == TOP_K, f"{what} returned {len(result)} entries; the top-5 has 5"
    for entry in result:
        assert isinstance(entry, (list, tuple)) and len(entry) == 2, (
            f"{what}: each entry should be a (class_index, probability) pair, not {entry!r}")
        index, probability = entry
        assert isinstance(index, (int, np.integer)) and not isinstance(index, bool) and 0 <= index < 10, (
            f"{what}: {index!r} is not a class index (an int from 0 to 9)")
        assert isinstance(probability, (float, np.floating)), (
            f"{what}: the probability {probability!r} should be a float")
    classes = [int(index) for index, _ in result]
    probabilities = np.array([float(p) for _, p in result])
    assert len(set(classes)) == TOP_K, f"{what}: a class appears twice in {classes}"
    assert np.all((probabilities >= 0) & (probabilities <= 1)) and probabilities.sum() <= 1 + 1e-3, (
        f"{what}: {np.round(probabilities, 4).tolist()} are not probabilities (each in 0..1, summing to at most 1): "
        "turn the logits into probabilities with a softmax")
    assert np.all(np.diff(probabilities) <= 1e-6), (
        f"{what}: the probabilities {np.round(probabilities, 4).tolist()} are not in decreasing order: best first")
    expected = reference_probabilities(image)
    worst = np.abs(probabilities - expected[classes]).max()
    assert worst <= PROB_ATOL, (
        f"{what}: probabilities differ from the model's by up to {worst:.3g} (allowed {PROB_ATOL}); "
        f"you returned {[(c, round(float(p), 4)) for c, p in result]}")
    left_out = np.delete(expected, classes)
    assert probabilities.min() >= left_out.max() - PROB_ATOL, (
        f"{what}: class {int(np.flatnonzero(expected == left_out.max())[0])} (probability {left_out.max():.4f}) "
        "is more likely than one you returned: these are not the five most likely classes")


def expect_failure(classify, model_path: str, image: np.ndarray, code: int, what: str) -> BaseException:
    """``classify`` raises (does not return) and its message carries the failed call's return code."""
    try:
        result = classify(model_path, image)
    except NotImplementedError:
        raise
    except Exception as exc:
        assert str(code) in str(exc), (
            f"{what}: classify raised {type(exc).__name__}({str(exc)[:200]!r}), but the message does not say the "
            f"return code of the call that failed ({code}); name the call and its ret")
        return exc
    raise AssertionError(f"{what}: classify returned {result!r} instead of raising; check the ret of every "
                         "pyACL call and raise when it is not 0")


def error_code(name: str) -> int:
    from ascend_compat.acl import constants

    return getattr(constants, name)


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("classify_top5")
def top5_matches_the_model(classify):
    """classify(om_path, image) returns the 5 most likely classes with their softmax probabilities, best first"""
    for sample in SAMPLES:
        image = test_images()[sample]
        with fresh_runtime():
            result = classify(models()["om"], image)
        check_top5(result, image, f"classify(om_path, images[{sample}])")


@EXERCISE.test("classify_releases")
def nothing_is_left_behind(classify):
    """after classify(...) no buffer, dataset, description, model, stream, context or device is left"""
    need_resource_tracker()
    with fresh_runtime():
        classify_and_release(classify, test_images()[SAMPLES[0]], "after one classify(...)")


@EXERCISE.test("classify_errors")
def a_missing_model_raises_with_its_code(classify):
    """classify raises, naming the return code, when the model file does not exist"""
    need_resource_tracker()
    with fresh_runtime():
        expect_failure(classify, models()["missing"], test_images()[SAMPLES[0]],
                       error_code("ACL_ERROR_READ_MODEL_FAILURE"), "with a model path where no file is")


EXERCISE.hint(
    "classify_top5",
    "The model returns 10 logits. A softmax turns them into probabilities: exp(z - max(z)) / sum(...); "
    "subtracting the maximum first keeps exp() from overflowing.",
    "The output buffer holds (1, 10) float32 values: np.frombuffer(raw, dtype=np.float32) gives them. "
    "Take the softmax over those 10 values, not over the batch axis of a (1, 10) array.",
    "np.argsort sorts in increasing order; the top-5 are the last five, reversed: np.argsort(p)[::-1][:5]. "
    "Return Python values: [(int(c), float(p[c])) for c in best].",
)
EXERCISE.hint(
    "classify_releases",
    "Every create/malloc/load has a release: destroy_data_buffer, mdl.destroy_dataset, rt.free, "
    "rt.free_host, mdl.destroy_desc, mdl.unload, rt.destroy_stream, rt.destroy_context, rt.reset_device, "
    "finalize. A data buffer does not own its memory: destroy the buffer and free the memory.",
    "Release in the reverse order of creation: AscendCL calls after acl.finalize() (or after reset_device) "
    "fail, and what they should have released stays allocated.",
    "acl.leaks() (simulator only) lists what is still allocated and the line that created it.",
)
EXERCISE.hint(
    "classify_errors",
    "pyACL does not raise: load_from_file of a missing file returns (0, ret) with ret != 0, and everything "
    "after it fails quietly. Check each ret and raise, e.g. RuntimeError(f'{what} failed, ret={ret}').",
    "Raising is not enough: what was created before the failing call must still be released. Wrap the work "
    "in try/finally, and release only what was actually created.",
    "contextlib.ExitStack does this neatly: after each successful create, register its release with "
    "stack.callback(...); on leaving the with-block (normally or by an exception) they run last-first.",
)
