"""What the Level 1 (model conversion) checks share: scratch files, real inputs, the simulated atc and .om runs.

Not an exercise itself (no ``EXERCISE``): the modules ``ex0N_*`` of ``level1_conversion`` import it.

* Every file a check writes (ONNX models, AIPP configs, ``.om`` files) goes to one temporary folder
  per process, deleted when the process ends - never into the repository or the learner's folder.
* :func:`run_om` runs the graph stored in a simulated ``.om`` with onnxruntime: the same executor
  the simulated NPU uses behind ``acl.mdl.execute`` (:mod:`ascend_compat.acl.mdl`), without the
  pyACL bookkeeping a check does not need.
* :func:`convert_or_explain` runs the simulated atc and turns its one-line refusal into the
  ``AssertionError`` a check reports.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
import shutil
import tempfile
import warnings

import numpy as np

_counter = itertools.count()


@functools.lru_cache(maxsize=1)
def workdir() -> str:
    """The process's scratch folder (created on first use, removed at exit)."""
    path = tempfile.mkdtemp(prefix="ascend-lab-checks-")
    atexit.register(shutil.rmtree, path, True)
    return path


def scratch(name: str) -> str:
    """A fresh path in the scratch folder: repeated checks never see each other's files."""
    return os.path.join(workdir(), f"{next(_counter):04d}_{name}")


def same_path(a: str | None, b: str) -> bool:
    """Do ``a`` and ``b`` name the same file (relative or absolute, with or without ``..``)?"""
    return a is not None and os.path.normpath(os.path.abspath(a)) == os.path.normpath(os.path.abspath(b))


@functools.lru_cache(maxsize=1)
def _digit_inputs() -> np.ndarray:
    from ascend_compat import zoo

    images, _ = zoo.digit_images("test")
    inputs = zoo.preprocess(images)
    inputs.setflags(write=False)  # shared by every check: nobody may change it
    return inputs


def digit_inputs(n: int | None = None) -> np.ndarray:
    """The 359 test digits as DigitNet takes them: float32 (N, 3, 32, 32), normalised (a copy)."""
    inputs = _digit_inputs()
    return np.array(inputs if n is None else inputs[:n])


def export_onnx(model, example, path: str, input_name: str = "input", output_name: str = "output",
                dynamic_batch: bool = True, opset: int = 17) -> str:
    """The graders' own export (TorchScript exporter: quick and deterministic for small models)."""
    import torch

    dynamic = {input_name: {0: "batch"}, output_name: {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model.eval(), (example,), path, input_names=[input_name], output_names=[output_name],
                          opset_version=opset, dynamic_axes=dynamic, dynamo=False)
    return path


def onnx_session(path: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4  # the checks report errors themselves, in one sentence
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def convert_or_explain(what: str, **options) -> str:
    """Run the simulated atc (``ascend_compat.atc.convert``); its refusal becomes an AssertionError."""
    from ascend_compat.atc import convert
    from ascend_compat.errors import UserError

    try:
        return convert(**options)
    except UserError as exc:
        raise AssertionError(f"the simulated atc refused {what}: {exc}") from None


def om_manifest(path: str) -> dict:
    from ascend_compat.atc import om

    return om.load(path).manifest


def run_om(path: str, *inputs: np.ndarray) -> list[np.ndarray]:
    """Execute a simulated ``.om`` on host arrays (one per model input, in order); its outputs."""
    import onnxruntime as ort

    from ascend_compat.atc import om

    session = ort.InferenceSession(om.load(path).graph, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return session.run(None, dict(zip(names, inputs)))


@contextlib.contextmanager
def quiet():
    """Around a learner's call: no warnings, no onnxruntime error log.

    nbgrader scores a test cell 0 when anything reaches stderr, so a correct answer must not lose
    its points to a deprecation notice or to the log line onnxruntime prints before it raises.
    """
    import onnxruntime as ort

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ort.set_default_logger_severity(4)  # sessions created without their own log level
        try:
            yield
        finally:
            ort.set_default_logger_severity(2)  # onnxruntime's default (warnings)


def rejects(call) -> tuple[bool, str]:
    """Whether ``call()`` raised (any exception but NotImplementedError), and what it returned or raised."""
    try:
        with quiet():
            result = call()
    except NotImplementedError:
        raise
    except Exception as exc:  # a parity check may raise AssertionError or let onnxruntime's error through
        return True, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return False, repr(result)
