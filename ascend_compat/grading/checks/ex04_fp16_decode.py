"""Visible tests and hints of ``exercises/level0_inference/ex04_fp16_decode.ipynb``.

Questions: ``fp16_decode`` (``decode_output(raw, model_desc, index)`` turns an output buffer's bytes
into a numpy array of the model's dtype and current dims), ``fp16_read_output``
(``read_output(output_dataset, model_desc, index)`` copies one output from the device and decodes
it, leaving no host memory behind) and ``fp16_tolerance`` (``agrees_with_fp32(output, reference)``
compares a float16 output with the float32 reference as tightly as float16 allows).

The tests convert their own models (:func:`models`) and run them with their own buffers
(:class:`OmRun`) in the AscendCL context the notebook's set-up cell created. What an output must
decode to is known independently of the model description: the tests converted the model, so they
know its output dtype and the batch they ran.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np

from ascend_compat.grading.checks.ex03_pyacl_classify import quiet_acl_log
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex04_fp16_decode")

ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST = 1, 2
DYNAMIC_BATCHES = "1,2,4,8"
# What float16 arithmetic inside the .om may change in DigitNet's logits (measured max: 0.015 on
# logits up to 29), and what a tolerance must still catch.
REAL_ERROR_ABS, REAL_ERROR_SCALE = 0.5, 0.05


def acl_module():
    from ascend_compat.launcher import install_acl

    return install_acl()


def _ok(ret, what: str) -> None:
    if ret != 0:
        raise AssertionError(f"the test's own {what} failed with ret={ret} ({acl_module().get_recent_err_msg()}); "
                             "run the notebook's set-up cells first")


# ---------------------------------------------------------------------------- models
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


def _export_two_outputs(path: str) -> str:
    """DigitNet with a second output, the predicted class (int64): two outputs of different dtypes."""
    import torch

    from ascend_compat import zoo

    class WithLabel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = zoo.load_digitnet()

        def forward(self, x):
            logits = self.net(x)
            return logits, logits.argmax(dim=1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(WithLabel().eval(), torch.zeros(1, 3, 32, 32), path, input_names=["input"],
                          output_names=["logits", "label"], opset_version=17, dynamo=False)
    return path


def models() -> dict[str, str]:
    """The models the tests run, converted once per process for this device's SoC.

    ``onnx``: DigitNet's float32 ONNX (the reference); ``fp16``: batch 1, ``--output_type=FP16``;
    ``fp32``: batch 1, float32 output; ``dynamic16``: ``--dynamic_batch_size=1,2,4,8`` with FP16
    output; ``two_outputs``: logits (float32) and the predicted class (int64).
    """
    if "fp16" not in _CACHE:
        from ascend_compat import zoo

        soc = acl_module().get_soc_name()
        workdir = tempfile.mkdtemp(prefix="ex04_fp16_")
        zoo.export_onnx(os.path.join(workdir, "digitnet.onnx"))
        zoo.export_onnx(os.path.join(workdir, "digitnet_dynamic.onnx"), batch=None)
        _export_two_outputs(os.path.join(workdir, "digitnet_two.onnx"))
        static = dict(framework=5, soc_version=soc, input_shape="input:1,3,32,32")
        _CACHE.update(
            onnx=os.path.join(workdir, "digitnet.onnx"),
            fp16=_atc(workdir, model="digitnet.onnx", output="fp16", output_type="FP16", **static),
            fp32=_atc(workdir, model="digitnet.onnx", output="fp32", **static),
            dynamic16=_atc(workdir, model="digitnet_dynamic.onnx", output="dynamic16", framework=5, soc_version=soc,
                           input_shape="input:-1,3,32,32", dynamic_batch_size=DYNAMIC_BATCHES, output_type="FP16"),
            two_outputs=_atc(workdir, model="digitnet_two.onnx", output="two", **static),
        )
    return _CACHE


def test_images() -> np.ndarray:
    if "images" not in _CACHE:
        from ascend_compat import zoo

        _CACHE["images"] = zoo.digit_images("test")[0]
    return _CACHE["images"]


def reference_logits(images: np.ndarray) -> np.ndarray:
    """DigitNet's float32 logits from onnxruntime on the float32 ONNX model, one image at a time."""
    import onnxruntime as ort

    from ascend_compat import zoo

    if "session" not in _CACHE:
        _CACHE["session"] = ort.InferenceSession(models()["onnx"], providers=["CPUExecutionProvider"])
    x = zoo.preprocess(images)
    return np.concatenate([_CACHE["session"].run(None, {"input": x[i:i + 1]})[0] for i in range(len(x))])


# ---------------------------------------------------------------------------- running a model
class OmRun:
    """One ``.om`` loaded in the notebook's AscendCL context, with input and output datasets.

    ``with OmRun(path) as run: run.execute(images)`` leaves the outputs in device memory, in the
    output dataset (``run.output_dataset``), described by ``run.desc``. Leaving the block releases
    everything and checks each return code, so an answer that released the test's buffers shows.
    """

    def __init__(self, path: str):
        self.path = path
        self._undo: list = []

    def __enter__(self) -> "OmRun":
        acl = self.acl = acl_module()
        _, ret = acl.rt.get_context()
        _ok(ret, "acl.rt.get_context (is AscendCL initialised, with a device set?)")
        try:
            self.model_id, ret = acl.mdl.load_from_file(self.path)
            _ok(ret, "acl.mdl.load_from_file")
            self._undo.append(("acl.mdl.unload", acl.mdl.unload, self.model_id))
            self.desc = acl.mdl.create_desc()
            self._undo.append(("acl.mdl.destroy_desc", acl.mdl.destroy_desc, self.desc))
            _ok(acl.mdl.get_desc(self.desc, self.model_id), "acl.mdl.get_desc")
            self.input_dataset = self._dataset(acl.mdl.get_num_inputs(self.desc), acl.mdl.get_input_size_by_index)
            self.output_dataset = self._dataset(acl.mdl.get_num_outputs(self.desc), acl.mdl.get_output_size_by_index)
        except BaseException:
            self.close()
            raise
        return self

    def _dataset(self, count: int, size_of):
        acl = self.acl
        dataset = acl.mdl.create_dataset()
        self._undo.append(("acl.mdl.destroy_dataset", acl.mdl.destroy_dataset, dataset))
        for i in range(count):
            size = size_of(self.desc, i)
            pointer, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
            _ok(ret, "acl.rt.malloc")
            self._undo.append(("acl.rt.free", acl.rt.free, pointer))
            buffer = acl.create_data_buffer(pointer, size)
            self._undo.append(("acl.destroy_data_buffer", acl.destroy_data_buffer, buffer))
            _ok(acl.mdl.add_dataset_buffer(dataset, buffer)[1], "acl.mdl.add_dataset_buffer")
        return dataset

    def execute(self, images: np.ndarray) -> None:
        """Run the model on ``images`` (a batch the model takes: 1, or one of its dynamic batch sizes)."""
        from ascend_compat import zoo

        acl = self.acl
        x = zoo.preprocess(images)
        data = x.tobytes()
        buffer = acl.mdl.get_dataset_buffer(self.input_dataset, 0)
        pointer, size = acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)
        _ok(acl.rt.memcpy(pointer, size, acl.util.bytes_to_ptr(data), len(data), ACL_MEMCPY_HOST_TO_DEVICE),
            "acl.rt.memcpy")
        index, ret = acl.mdl.get_input_index_by_name(self.desc, "ascend_mbatch_shape_data")
        if ret == 0:  # a dynamic-batch model: say which batch size this run uses
            _ok(acl.mdl.set_dynamic_batch_size(self.model_id, self.input_dataset, index, len(x)),
                "acl.mdl.set_dynamic_batch_size")
        _ok(acl.mdl.execute(self.model_id, self.input_dataset, self.output_dataset), "acl.mdl.execute")

    def raw(self, index: int) -> bytes:
        """All the bytes of output ``index``'s device buffer (may be more than this run's output)."""
        acl = self.acl
        buffer = acl.mdl.get_dataset_buffer(self.output_dataset, index)
        pointer, size = acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)
        host = bytes(size)
        _ok(acl.rt.memcpy(acl.util.bytes_to_ptr(host), size, pointer, size, ACL_MEMCPY_DEVICE_TO_HOST),
            "acl.rt.memcpy")
        return host

    def close(self) -> list[str]:
        failed = []
        while self._undo:
            what, release, handle = self._undo.pop()
            if release(handle) != 0:
                failed.append(what)
        return failed

    def __exit__(self, *exc) -> None:
        failed = self.close()
        if failed and exc[0] is None:
            raise AssertionError(f"releasing the test's own model and buffers failed ({', '.join(failed)}): your "
                                 "code released them already; they belong to the caller")


def expected(raw: bytes, dtype, shape) -> np.ndarray:
    """What ``raw`` holds when the test knows the dtype it converted and the shape it ran."""
    count = int(np.prod(shape))
    return np.frombuffer(raw, dtype=dtype, count=count).reshape(shape)


def check_decoded(got, want: np.ndarray, what: str) -> None:
    assert isinstance(got, np.ndarray), f"{what}: returned {type(got).__name__}, not a numpy array"
    assert got.dtype == want.dtype, (
        f"{what}: decoded as {got.dtype}, but this output is {want.dtype}; take the dtype from "
        "acl.mdl.get_output_data_type")
    assert got.shape == want.shape, (
        f"{what}: decoded to shape {got.shape}, but this run's output has shape {want.shape}; take the dims "
        "from acl.mdl.get_cur_output_dims")
    assert np.array_equal(got, want), f"{what}: the values are not the ones in the buffer"


def decode_cases():
    """(model, images, output index, dtype, shape, description) of the decode tests; visible first."""
    images = test_images()
    return [
        ("fp16", images[292:293], 0, np.float16, (1, 10), "the FP16-output model"),
        ("fp32", images[292:293], 0, np.float32, (1, 10), "the same model converted without --output_type"),
        ("dynamic16", images[10:14], 0, np.float16, (4, 10),
         f"a dynamic-batch model (batch sizes {DYNAMIC_BATCHES}, buffers for 8) run on 4 images"),
        ("two_outputs", images[40:41], 1, np.int64, (1,), "output 1 (the predicted class) of a two-output model"),
        ("two_outputs", images[40:41], 0, np.float32, (1, 10), "output 0 (the logits) of a two-output model"),
    ]


def check_decode(decode_output, case) -> None:
    name, images, index, dtype, shape, what = case
    with quiet_acl_log(), OmRun(models()[name]) as run:
        run.execute(images)
        raw = run.raw(index)
        got = decode_output(raw, run.desc, index)
    check_decoded(got, expected(raw, dtype, shape), f"decode_output on {what}")


@contextlib.contextmanager
def no_new_host_memory(what: str):
    """The block leaves no ``acl.rt.malloc_host`` memory behind (simulator's tracker; skipped on hardware)."""
    acl = acl_module()
    tracked = getattr(acl, "SIMULATED", False)
    before = set(acl.leaks()) if tracked else set()
    yield
    if tracked:
        new = [line for line in acl.leaks() if line not in before]
        assert not new, f"{what} left {len(new)} resource(s) behind: " + "; ".join(new[:3])


def check_read(read_output, case) -> None:
    name, images, index, dtype, shape, what = case
    with quiet_acl_log(), OmRun(models()[name]) as run:
        run.execute(images)
        want = expected(run.raw(index), dtype, shape)
        with no_new_host_memory(f"read_output on {what}"):
            got = read_output(run.output_dataset, run.desc, index)
        check_decoded(got, want, f"read_output on {what}")


def fp16_outputs(images: np.ndarray) -> np.ndarray:
    """The FP16-output model's logits for ``images``, run one at a time: (N, 10) float16."""
    with quiet_acl_log(), OmRun(models()["fp16"]) as run:
        rows = []
        for i in range(len(images)):
            run.execute(images[i:i + 1])
            rows.append(expected(run.raw(0), np.float16, (1, 10)))
    return np.concatenate(rows)


def check_verdict(agrees_with_fp32, output, reference, want: bool, what: str) -> None:
    verdict = agrees_with_fp32(output, reference)
    assert isinstance(verdict, (bool, np.bool_)), f"agrees_with_fp32 should return True or False, not {verdict!r}"
    if want:
        worst = float(np.abs(output.astype(np.float32) - reference).max())
        assert verdict, (f"{what}: agrees_with_fp32 said False, but the difference (up to {worst:.3g}) is what "
                         "float16 arithmetic gives; the tolerance is too tight for float16")
    else:
        assert not verdict, f"{what}: agrees_with_fp32 said True; the tolerance is too loose to catch it"


def check_tolerance_band(agrees_with_fp32, outputs: np.ndarray, reference: np.ndarray) -> None:
    """Accepts every genuine FP16 output; rejects a real error hidden in one: a logit off by
    REAL_ERROR_ABS, all logits REAL_ERROR_SCALE too large, and the bytes misread as float32."""
    check_verdict(agrees_with_fp32, outputs, reference, True, f"the FP16 model's outputs for {len(outputs)} images")
    for i in (0, 57, len(outputs) - 1):
        check_verdict(agrees_with_fp32, outputs[i:i + 1], reference[i:i + 1], True,
                      f"the FP16 model's output for images[{i}]")
    i = 57
    one, ref = outputs[i:i + 1].astype(np.float32), reference[i:i + 1]
    small = int(np.argmin(np.abs(ref[0])))  # a logit near 0: only the absolute tolerance covers it
    off = one.copy()
    off[0, small] += REAL_ERROR_ABS
    check_verdict(agrees_with_fp32, off.astype(np.float16), ref, False,
                  f"images[{i}] with logit {small} ({ref[0, small]:.3f}) off by {REAL_ERROR_ABS}")
    check_verdict(agrees_with_fp32, (one * (1 + REAL_ERROR_SCALE)).astype(np.float16), ref, False,
                  f"images[{i}] with every logit {REAL_ERROR_SCALE:.0%} too large")
    misread = np.frombuffer(outputs[i:i + 1].tobytes(), dtype=np.float32).reshape(1, -1)
    check_verdict(agrees_with_fp32, misread, ref, False, f"images[{i}]'s float16 bytes read as float32 (shape (1, 5))")


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("fp16_decode")
def decodes_float16_and_float32_outputs(decode_output):
    """decode_output gives the dtype and dims the model reports, for an FP16 and an FP32 output"""
    for case in decode_cases()[:2]:
        check_decode(decode_output, case)


@EXERCISE.test("fp16_read_output")
def reads_an_output_from_the_device(read_output):
    """read_output copies output 0 from the device and decodes it, leaving no host memory behind"""
    check_read(read_output, decode_cases()[0])


@EXERCISE.test("fp16_tolerance")
def accepts_float16_rounding_rejects_another_image(agrees_with_fp32):
    """agrees_with_fp32 accepts float16 rounding and rejects the logits of another image"""
    images = test_images()[[292, 0]]
    output, reference = fp16_outputs(images), reference_logits(images)
    check_verdict(agrees_with_fp32, output[:1], reference[:1], True, "the FP16 model's output for images[292]")
    check_verdict(agrees_with_fp32, output[1:], reference[:1], False,
                  "the FP16 output for images[0] against the reference for images[292]")


EXERCISE.hint(
    "fp16_decode",
    "The bytes say nothing about themselves: ask the model description. acl.mdl.get_output_data_type(desc, i) "
    "gives an aclDataType code (0 = float32, 1 = float16, ...); acl.mdl.get_cur_output_dims(desc, i) gives "
    "(dims, ret) with dims = {'name': ..., 'dimCount': ..., 'dims': [...]}.",
    "An output buffer can be larger than this run's output (a dynamic-batch model's buffers are sized for the "
    "largest batch). Decode only prod(dims) values.",
    "np.frombuffer(raw, dtype=..., count=...) counts *elements*, not bytes; then .reshape(dims['dims']).",
)
EXERCISE.hint(
    "fp16_read_output",
    "acl.mdl.get_dataset_buffer(dataset, i) gives the data buffer; acl.get_data_buffer_addr and "
    "acl.get_data_buffer_size_v2 give its device pointer and size in bytes.",
    "Copy device -> host with acl.rt.memcpy(host_ptr, size, device_ptr, size, ACL_MEMCPY_DEVICE_TO_HOST) into "
    "memory from acl.rt.malloc_host (then read it with acl.util.ptr_to_bytes), and free that host memory with "
    "acl.rt.free_host - the device buffer belongs to the caller, leave it alone.",
)
EXERCISE.hint(
    "fp16_tolerance",
    "float16 keeps about 3 significant digits (np.finfo(np.float16).eps is about 0.001), and atc's "
    "force_fp16 rounds at every layer, so errors add up: equality or np.allclose's defaults are far too tight.",
    "Combine a relative and an absolute tolerance (np.allclose(a, b, rtol=..., atol=...)): a relative one of "
    "about ten float16 eps for the large logits, an absolute one of a few hundredths for logits near zero.",
    "Compare shapes first (a misread buffer has the wrong shape), and compare in float32: "
    "output.astype(np.float32).",
)
