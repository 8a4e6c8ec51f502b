"""The mock exam's question bank: multiple-choice and short code questions, each tagged with an
exam objective (:mod:`.objectives`) and a course level.

Multiple-choice questions have exactly one correct option (``answer`` is its index in ``options``).
Code questions give a function to write; ``check`` runs the learner's function and raises
``AssertionError`` with a message when it is wrong; every code question carries a reference answer
and two plausible wrong answers, and a test proves the reference passes and the wrong ones fail.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Choice:
    id: str
    objective: str
    level: int
    prompt: str
    options: tuple[str, ...]
    answer: int
    explanation: str
    kind: str = "choice"


@dataclass(frozen=True)
class Code:
    id: str
    objective: str
    level: int
    prompt: str
    function: str          # the name the learner defines
    signature: str         # e.g. "def to_npu_device(device: str) -> str:"
    check: Callable
    reference: str
    wrong: tuple[str, ...] = field(default=())
    kind: str = "code"


def _c(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


# --- checks for code questions (each receives the learner's function) ---------------------------------
def _check_to_npu_device(fn):
    cases = {"cuda": "npu", "cuda:0": "npu:0", "cuda:3": "npu:3", "cpu": "cpu", "npu:1": "npu:1"}
    for given, expected in cases.items():
        got = fn(given)
        assert got == expected, f"to_npu_device({given!r}) returned {got!r}"


def _check_visible_env(fn):
    assert fn([0, 1]) == {"ASCEND_RT_VISIBLE_DEVICES": "0,1"}, "wrong variable name or value format for [0, 1]"
    assert fn([3]) == {"ASCEND_RT_VISIBLE_DEVICES": "3"}, "wrong value for a single device"


def _check_npu_summary(fn):
    import torch

    got = fn()
    assert isinstance(got, dict), "return a dict"
    assert got.get("count") == torch.npu.device_count(), "count must be the number of NPUs"
    assert got.get("name") == torch.npu.get_device_name(0), "name must be the name of NPU 0"


def _check_is_on_npu(fn):
    import torch

    assert fn(torch.ones(1, device="npu")) is True, "a tensor on npu:0 is on the NPU"
    assert fn(torch.ones(1, device="npu:1")) is True, "a tensor on npu:1 is on the NPU"
    assert fn(torch.ones(1)) is False, "a CPU tensor is not on the NPU"


def _check_atc_command(fn):
    args = fn("net.onnx", "net", "Ascend310P3", "input:1,3,224,224")
    assert isinstance(args, list), "return the command as a list of strings"
    assert args[0] == "atc", "the command is atc"
    for needed in ("--model=net.onnx", "--framework=5", "--output=net", "--soc_version=Ascend310P3",
                   "--input_shape=input:1,3,224,224"):
        assert needed in args, f"missing or wrong option: {needed.split('=')[0]}"


def _check_decode_output(fn):
    import numpy as np

    data = np.arange(6, dtype=np.float16).reshape(2, 3)
    out = fn(data.tobytes(), 1, [2, 3])
    assert out.dtype == np.float32 and out.shape == (2, 3), "return float32 with the given dims"
    assert np.array_equal(out, data.astype(np.float32)), "values decoded wrongly"
    ints = np.array([7, -1], dtype=np.int32)
    assert np.array_equal(fn(ints.tobytes(), 3, [2]), ints), "ACL_INT32 (3) decoded wrongly"
    f32 = np.array([1.5], dtype=np.float32)
    assert np.array_equal(fn(f32.tobytes(), 0, [1]), f32), "ACL_FLOAT (0) decoded wrongly"


def _check_amp_step(fn):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1).to("npu")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("npu", init_scale=4.0)
    x = torch.tensor([[float("inf"), 1.0]], device="npu")
    before = model.weight.detach().cpu().clone()
    fn(model, x, torch.zeros(1, 1, device="npu"), opt, scaler)
    assert torch.equal(before, model.weight.detach().cpu()), "a step with inf gradients must be skipped (scaler.step)"
    assert scaler.get_scale() == 2.0, "the scale must be updated after the step (scaler.update)"
    x = torch.tensor([[1.0, 2.0]], device="npu")
    fn(model, x, torch.zeros(1, 1, device="npu"), opt, scaler)
    assert not torch.equal(before, model.weight.detach().cpu()), "a finite step must change the weights"


def _check_to_float32(fn):
    import torch

    batch = {"x": torch.ones(2, dtype=torch.float64), "y": torch.tensor([1, 2]), "h": torch.ones(1, dtype=torch.float16)}
    out = fn(batch)
    assert out["x"].dtype == torch.float32, "float64 tensors become float32"
    assert out["y"].dtype == torch.int64, "integer tensors stay integers"
    assert out["h"].dtype == torch.float16, "float16 tensors stay float16"


def _check_backend_for(fn):
    for device, expected in (("npu", "hccl"), ("cuda", "nccl"), ("cpu", "gloo")):
        assert fn(device) == expected, f"backend_for({device!r}) returned {fn(device)!r}"


def _check_shard(fn):
    from torch.utils.data import DistributedSampler

    for n, world in ((10, 2), (10, 3), (7, 4)):
        for rank in range(world):
            expected = list(DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=False))
            assert list(fn(n, rank, world)) == expected, f"shard({n}, {rank}, {world}) differs from DistributedSampler"


def _check_device_time_ms(fn):
    import torch

    x = torch.ones(4096, 4096, device="npu")
    start, end = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
    torch.npu.synchronize()
    start.record()
    for _ in range(3):
        x * 2
    end.record()
    end.synchronize()
    expected = start.elapsed_time(end)
    got = fn(lambda: [x * 2 for _ in range(3)])
    assert isinstance(got, float), "return milliseconds as a float"
    assert abs(got - expected) <= 0.05 * expected, f"measured {got:.3f} ms, the device took {expected:.3f} ms"


def _check_peak_mib(fn):
    import torch

    keep = torch.empty(256, 1024, device="npu")  # 1 MiB that stays allocated
    got = fn(lambda: torch.empty(1024, 1024, device="npu").sum())
    assert isinstance(got, float), "return MiB as a float"
    assert 3.9 <= got - keep.nbytes / 2**20 <= 4.2, f"peak {got:.2f} MiB: reset the peak statistics before running"


CHOICES = [
    # -- stack ----------------------------------------------------------------------------------------
    Choice("stack-01", "stack", 0, "Which package makes `torch.device('npu')` available to PyTorch on an Ascend machine?",
           ("torch_npu", "mindspore", "cann-torch", "torch.ascend"), 0,
           "torch_npu registers the npu device and the torch.npu module (it needs CANN installed)."),
    Choice("stack-02", "stack", 0, "What is CANN?",
           ("Ascend's heterogeneous compute architecture: drivers, runtime (AscendCL), operator libraries and tools such as atc",
            "A neural network architecture for Ascend", "Huawei's fork of CUDA", "A Python package manager for NPUs"), 0,
           "CANN (Compute Architecture for Neural Networks) is the software stack below torch_npu."),
    Choice("stack-03", "stack", 0, "Which command lists Ascend NPUs with their health and memory, like nvidia-smi does for GPUs?",
           ("npu-smi info", "ascend-smi", "nvidia-smi --npu", "acl-info"), 0, "npu-smi ships with the Ascend driver."),
    Choice("stack-04", "stack", 0, "Which of these SoCs supports bfloat16?",
           ("Ascend910B2", "Ascend310", "Ascend910A", "Ascend310P3"), 0,
           "bfloat16 arrived with the Atlas A2 generation (Ascend910B); older SoCs use float16."),
    Choice("stack-05", "stack", 0, "After `import torch`, what must an Ascend training script import to use the NPU?",
           ("import torch_npu", "import acl", "import cann", "nothing: torch finds NPUs by itself"), 0,
           "torch_npu registers the device; without it `torch.device('npu')` is unknown."),
    Choice("stack-06", "stack", 0, "What does `torch.npu.is_available()` return on a machine without NPUs where torch_npu imports?",
           ("False", "True", "it raises ImportError", "None"), 0, "Like torch.cuda.is_available()."),
    Choice("stack-07", "stack", 1, "What is AscendCL (pyACL in Python) used for?",
           ("Running offline .om models and managing devices, memory and streams directly",
            "Training models with autograd", "Converting ONNX to .om", "Monitoring NPU temperature"), 0,
           "AscendCL is the C API (pyACL in Python) for inference on .om models."),
    Choice("stack-08", "stack", 0, "An operator that torch_npu does not implement is called on an NPU tensor. What typically happens?",
           ("It may fall back to the CPU (slow) or fail, depending on the operator", "It runs on the NPU anyway",
            "PyTorch silently returns zeros", "The tensor is moved to CUDA"), 0,
           "Missing operators are the reason to check a model against the NPU operator list."),
    # -- device-api -----------------------------------------------------------------------------------
    Choice("device-01", "device-api", 2, "What is the Ascend equivalent of `torch.cuda.synchronize()`?",
           ("torch.npu.synchronize()", "torch.synchronize('npu')", "acl.rt.synchronize()", "torch.npu.wait()"), 0,
           "torch.npu mirrors torch.cuda."),
    Choice("device-02", "device-api", 2, "Which environment variable selects the visible NPUs?",
           ("ASCEND_RT_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES", "NPU_VISIBLE", "ASCEND_DEVICE_ID_LIST"), 0,
           "CUDA_VISIBLE_DEVICES has no effect on Ascend."),
    Choice("device-03", "device-api", 2, "Which line moves a model to the second NPU?",
           ("model.to('npu:1')", "model.cuda(1)", "model.npu('1')", "model.to(npu=1)"), 0,
           "Device strings use the npu type; indices start at 0."),
    Choice("device-04", "device-api", 2, "`torch.backends.cudnn.benchmark = True` in a ported script on an NPU:",
           ("has no effect on the NPU", "enables NPU autotuning", "raises an error", "makes the NPU deterministic"), 0,
           "cuDNN flags only affect CUDA; for determinism use torch.use_deterministic_algorithms."),
    Choice("device-05", "device-api", 2, "A checkpoint saved on a GPU must be loaded on an NPU machine. Which call is right?",
           ("torch.load(path, map_location='npu:0')", "torch.load(path)", "torch.load(path, device='npu')",
            "torch.npu.load(path)"), 0, "map_location remaps the saved cuda storages."),
    Choice("device-06", "device-api", 2, "What does `import torch_npu.contrib.transfer_to_npu` do?",
           ("Patches PyTorch at run time so that cuda device arguments and torch.cuda calls go to the NPU",
            "Rewrites the source files on disk", "Converts a model to .om", "Installs CANN"), 0,
           "It is a run-time patch; it does not catch every CUDA idiom."),
    Choice("device-07", "device-api", 2, "Which CUDA idiom does `transfer_to_npu` NOT handle?",
           ("A custom CUDA C++ extension", "x.cuda()", "torch.device('cuda:0') passed to .to()", "init_process_group('nccl')"), 0,
           "CUDA kernels need an Ascend rewrite (e.g. a CANN custom operator)."),
    Choice("device-08", "device-api", 0, "What does `x.numpy()` do for a tensor on the NPU?",
           ("Raises an error: copy to the host with x.cpu() first", "Returns a NumPy view of device memory",
            "Copies to the host silently", "Returns None"), 0, "Device memory is not host memory (as with CUDA)."),
    # -- deployment ------------------------------------------------------------------------------------
    Choice("deploy-01", "deployment", 1, "In `atc --framework=5`, what does 5 mean?",
           ("ONNX", "Caffe", "TensorFlow", "MindSpore"), 0, "0 Caffe, 1 MindSpore, 3 TensorFlow, 5 ONNX."),
    Choice("deploy-02", "deployment", 1, "What file does atc produce?",
           ("An offline model (.om) for one SoC", "A TorchScript file", "An ONNX file with NPU ops", "A shared library"), 0,
           "The .om is compiled for the --soc_version given."),
    Choice("deploy-03", "deployment", 1, "Why must `--soc_version` match the deployment device?",
           ("The .om is compiled for one SoC's cores and operator implementations", "It only sets metadata",
            "It chooses the Python version", "It selects the driver version"), 0, "A model built for another SoC fails to load."),
    Choice("deploy-04", "deployment", 1, "What is AIPP?",
           ("Preprocessing (crop, colour conversion, normalisation) compiled into the model and run on the NPU",
            "A profiling tool", "An image dataset format", "A mixed-precision mode"), 0,
           "AI Pre-Processing is configured with --insert_op_conf."),
    Choice("deploy-05", "deployment", 1, "In an AIPP config, how is a normalised channel value computed?",
           ("(pixel - mean_chn - min_chn) * var_reci_chn", "(pixel - mean_chn) / var_reci_chn",
            "pixel * mean_chn + min_chn", "(pixel / 255 - mean_chn) * var_reci_chn"), 0,
           "var_reci_chn is the reciprocal of the standard deviation."),
    Choice("deploy-06", "deployment", 0, "pyACL functions that create something, such as `acl.rt.malloc`, return:",
           ("a (value, ret) pair; ret == 0 means success", "the value, raising an exception on failure",
            "only a return code", "a future"), 0, "Check ret after every call."),
    Choice("deploy-07", "deployment", 0, "In which order are pyACL resources released?",
           ("datasets and buffers, device memory, model description, unload model, stream, context, reset device, finalize",
            "finalize first, then everything else", "any order", "reset device, then free memory"), 0,
           "Release in reverse order of creation."),
    Choice("deploy-08", "deployment", 1, "`--input_shape='input:-1,3,224,224' --dynamic_batch_size='1,4,8'` means:",
           ("the model accepts batch 1, 4 or 8 chosen at run time", "the batch is always 8",
            "any batch size up to 8", "three separate .om files"), 0, "Dynamic batch uses a fixed set of sizes."),
    # -- precision ---------------------------------------------------------------------------------
    Choice("prec-01", "precision", 2, "Why does `layer(torch.from_numpy(np.random.rand(4, 8)).npu())` fail with an NPU error?",
           ("NumPy creates float64 data, which NPU matrix kernels do not support", "NumPy arrays cannot go to the NPU",
            "The batch size is too small", "from_numpy needs pinned memory"), 0, "Cast to float32."),
    Choice("prec-02", "precision", 2, "What is the device-agnostic way to enable mixed precision on the NPU?",
           ("torch.amp.autocast(device_type='npu', dtype=torch.float16)", "torch.cuda.amp.autocast()",
            "model.half() always", "torch.npu.set_precision('mixed')"), 0, "torch.amp takes a device_type."),
    Choice("prec-03", "precision", 2, "What does a GradScaler do when scaled gradients contain inf?",
           ("Skips the optimizer step and lowers the scale", "Clips the gradients", "Raises an error",
            "Switches to float32"), 0, "scaler.step() skips; scaler.update() backs off the scale."),
    Choice("prec-04", "precision", 2, "Which mixed-precision dtype usually needs no loss scaling?",
           ("bfloat16", "float16", "float8", "int8"), 0, "bfloat16 has float32's exponent range."),
    Choice("prec-05", "precision", 2, "Under autocast on the NPU, which operator runs in float32?",
           ("softmax", "matmul", "conv2d", "linear"), 0, "Precision-sensitive operators stay in float32."),
    Choice("prec-06", "precision", 2, "Comparing loss curves of a CPU run and an NPU run ('precision alignment'), you expect:",
           ("small differences within a tolerance, growing slowly", "bit-identical losses",
            "NPU losses always lower", "differences only in the first step"), 0, "Different kernels round differently."),
    Choice("prec-07", "precision", 2, "How do you make an NPU run reproducible?",
           ("Seed (torch.manual_seed) and torch.use_deterministic_algorithms(True)", "torch.backends.cudnn.deterministic = True",
            "Use float64", "Set CUDA_LAUNCH_BLOCKING=1"), 0, "cuDNN flags do nothing on the NPU."),
    Choice("prec-08", "precision", 2, "`model.half()` versus autocast: what is true?",
           ("half() converts every parameter to float16; autocast chooses per operator", "they are identical",
            "autocast converts parameters permanently", "half() keeps softmax in float32"), 0,
           "Autocast keeps float32 master weights."),
    # -- distributed -----------------------------------------------------------------------------------
    Choice("dist-01", "distributed", 2, "Which backend do you pass to init_process_group on Ascend?",
           ("hccl", "nccl", "gloo", "mpi"), 0, "HCCL is Huawei's collective communication library."),
    Choice("dist-02", "distributed", 2, "With torchrun, how does each process pick its NPU?",
           ("torch.npu.set_device(int(os.environ['LOCAL_RANK']))", "torch.npu.set_device(RANK)",
            "it happens automatically", "through CUDA_VISIBLE_DEVICES"), 0, "LOCAL_RANK is the index on this machine."),
    Choice("dist-03", "distributed", 2, "What does DistributedSampler do?",
           ("Gives each process a different shard of the dataset", "Copies the dataset to every NPU",
            "Shuffles across machines only", "Balances GPU memory"), 0, "Call sampler.set_epoch(e) each epoch."),
    Choice("dist-04", "distributed", 2, "In DDP, when are gradients averaged across processes?",
           ("During backward(), by all-reduce", "In optimizer.step()", "Only at the end of training",
            "When the model is saved"), 0, "The reducer all-reduces gradient buckets as they are ready."),
    Choice("dist-05", "distributed", 2, "Which argument of DistributedDataParallel names the process's device on Ascend?",
           ("device_ids=[local_rank]", "npu_ids=[local_rank]", "device='hccl'", "rank=local_rank"), 0,
           "The same argument as on CUDA."),
    Choice("dist-06", "distributed", 2, "After DDP training, the weights on every rank are:",
           ("identical", "different; average them yourself", "only valid on rank 0", "sharded"), 0,
           "Averaged gradients keep replicas in sync."),
    Choice("dist-07", "distributed", 2, "What describes the devices of a multi-machine HCCL job on Ascend clusters?",
           ("A rank table (or HCCL's environment-based setup) listing devices and their addresses",
            "CUDA_VISIBLE_DEVICES", "nvidia-smi topology", "nothing: HCCL discovers everything"), 0,
           "Multi-node HCCL jobs are configured with a rank table file or its environment variables."),
    Choice("dist-08", "distributed", 2, "A ported script still calls `init_process_group('nccl')` on an NPU machine. Result?",
           ("It fails: NCCL is not available there", "It silently uses HCCL", "It falls back to gloo on the NPU",
            "It works but slowly"), 0, "Unless transfer_to_npu rewrote the backend."),
    # -- performance -------------------------------------------------------------------------------------
    Choice("perf-01", "performance", 3, "Why is `t0 = time.time(); y = model(x); print(time.time() - t0)` wrong on an NPU?",
           ("Work is asynchronous: without synchronize it measures only the launches", "time.time is too coarse",
            "The NPU has its own clock", "model(x) blocks until the GPU finishes"), 0,
           "Synchronize before reading host timers, or use events."),
    Choice("perf-02", "performance", 3, "What does `torch.npu.max_memory_allocated()` report?",
           ("The peak memory occupied by tensors since the last reset", "The device capacity",
            "Memory reserved by the caching allocator", "Free memory"), 0, "Reset with reset_peak_memory_stats()."),
    Choice("perf-03", "performance", 3, "memory_reserved() is much larger than memory_allocated(). Why?",
           ("The caching allocator keeps freed blocks for reuse", "A memory leak in the NPU driver",
            "Gradients are counted twice", "Pinned memory"), 0, "empty_cache() returns cached blocks."),
    Choice("perf-04", "performance", 3, "How does a fused or foreach optimizer speed up training?",
           ("Fewer kernel launches per step", "Smaller gradients", "Less accurate arithmetic", "It skips steps"), 0,
           "One launch for many parameters instead of one each."),
    Choice("perf-05", "performance", 3, "What does activation checkpointing trade?",
           ("Recomputation in backward for lower peak memory", "Accuracy for speed", "Disk space for memory",
            "Precision for memory"), 0, "torch.utils.checkpoint."),
    Choice("perf-06", "performance", 3, "Why use pin_memory=True with non_blocking=True copies?",
           ("Host-to-device copies from pinned memory can overlap with compute", "It compresses data",
            "It avoids float64", "It is required for DDP"), 0, "Pageable copies block the host."),
    Choice("perf-07", "performance", 3, "Which tool records an NPU timeline in PyTorch code on Ascend?",
           ("torch_npu.profiler.profile", "nvprof", "torch.cuda.profiler", "npu-smi top"), 0,
           "Traces open in MindStudio Insight or TensorBoard."),
    Choice("perf-08", "performance", 3, "`optimizer.zero_grad(set_to_none=True)` helps because:",
           ("gradients are freed instead of filled with zeros, saving memory and a kernel", "it resets the optimizer state",
            "it makes training deterministic", "it moves gradients to the CPU"), 0, "The default since PyTorch 2.0."),
]

CODES = [
    Code("stack-c1", "stack", 0, "Return a dict with the number of NPUs (`count`) and the name of NPU 0 (`name`).",
         "npu_summary", "def npu_summary() -> dict:", _check_npu_summary,
         _c("""
            import torch
            def npu_summary():
                return {"count": torch.npu.device_count(), "name": torch.npu.get_device_name(0)}
         """),
         (_c("""
            import torch
            def npu_summary():
                return {"count": 1, "name": torch.npu.get_device_name(0)}
         """), _c("""
            import torch
            def npu_summary():
                return {"count": torch.npu.device_count(), "name": "Ascend"}
         """))),
    Code("stack-c2", "stack", 0, "Return True when tensor `t` lives on an NPU (any index).",
         "is_on_npu", "def is_on_npu(t) -> bool:", _check_is_on_npu,
         _c("""
            def is_on_npu(t):
                return t.device.type == "npu"
         """),
         (_c("""
            def is_on_npu(t):
                return str(t.device) == "npu:0"
         """), _c("""
            def is_on_npu(t):
                return t.is_cuda
         """))),
    Code("device-c1", "device-api", 2, "Translate a CUDA device string to the NPU one: 'cuda' -> 'npu', 'cuda:2' -> 'npu:2'; "
         "leave other devices unchanged.", "to_npu_device", "def to_npu_device(device: str) -> str:", _check_to_npu_device,
         _c("""
            def to_npu_device(device):
                return "npu" + device[4:] if device.startswith("cuda") else device
         """),
         (_c("""
            def to_npu_device(device):
                return "npu"
         """), _c("""
            def to_npu_device(device):
                return device.replace("cuda", "npu:0")
         """))),
    Code("device-c2", "device-api", 2, "Return the environment a launcher must set to make only the NPUs in `ids` visible.",
         "visible_devices_env", "def visible_devices_env(ids: list[int]) -> dict:", _check_visible_env,
         _c("""
            def visible_devices_env(ids):
                return {"ASCEND_RT_VISIBLE_DEVICES": ",".join(str(i) for i in ids)}
         """),
         (_c("""
            def visible_devices_env(ids):
                return {"CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in ids)}
         """), _c("""
            def visible_devices_env(ids):
                return {"ASCEND_RT_VISIBLE_DEVICES": str(ids)}
         """))),
    Code("deploy-c1", "deployment", 1, "Return the atc command (a list of strings) converting ONNX model `onnx` to `output`.om "
         "for SoC `soc` with input shape `shape` (e.g. 'input:1,3,224,224').",
         "atc_command", "def atc_command(onnx: str, output: str, soc: str, shape: str) -> list[str]:", _check_atc_command,
         _c("""
            def atc_command(onnx, output, soc, shape):
                return ["atc", f"--model={onnx}", "--framework=5", f"--output={output}",
                        f"--soc_version={soc}", f"--input_shape={shape}"]
         """),
         (_c("""
            def atc_command(onnx, output, soc, shape):
                return ["atc", f"--model={onnx}", "--framework=3", f"--output={output}",
                        f"--soc_version={soc}", f"--input_shape={shape}"]
         """), _c("""
            def atc_command(onnx, output, soc, shape):
                return ["atc", f"--model={onnx}", "--framework=5", f"--output={output}.om",
                        f"--soc_version={soc}", f"--input_shape={shape}"]
         """))),
    Code("deploy-c2", "deployment", 0, "Decode an output buffer: `data` bytes, ACL dtype code (0 float32, 1 float16, 3 int32), "
         "`dims`. Return a NumPy array of that shape; float16 results as float32.",
         "decode_output", "def decode_output(data: bytes, dtype: int, dims: list[int]):", _check_decode_output,
         _c("""
            import numpy as np
            def decode_output(data, dtype, dims):
                kinds = {0: np.float32, 1: np.float16, 3: np.int32}
                out = np.frombuffer(data, dtype=kinds[dtype]).reshape(dims)
                return out.astype(np.float32) if dtype == 1 else out
         """),
         (_c("""
            import numpy as np
            def decode_output(data, dtype, dims):
                return np.frombuffer(data, dtype=np.float32).reshape(dims)
         """), _c("""
            import numpy as np
            def decode_output(data, dtype, dims):
                kinds = {0: np.float32, 1: np.float16, 3: np.int32}
                return np.frombuffer(data, dtype=kinds[dtype]).reshape(dims)
         """))),
    Code("prec-c1", "precision", 2, "One AMP training step with GradScaler `scaler`: forward `model(x)` under autocast on the "
         "NPU, MSE loss against `y`, backward, optimizer step and scaler update.",
         "amp_step", "def amp_step(model, x, y, optimizer, scaler):", _check_amp_step,
         _c("""
            import torch
            def amp_step(model, x, y, optimizer, scaler):
                optimizer.zero_grad()
                with torch.amp.autocast("npu", dtype=torch.float16):
                    loss = torch.nn.functional.mse_loss(model(x).float(), y)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
         """),
         (_c("""
            import torch
            def amp_step(model, x, y, optimizer, scaler):
                optimizer.zero_grad()
                with torch.amp.autocast("npu", dtype=torch.float16):
                    loss = torch.nn.functional.mse_loss(model(x).float(), y)
                scaler.scale(loss).backward()
                optimizer.step()
                scaler.update()
         """), _c("""
            import torch
            def amp_step(model, x, y, optimizer, scaler):
                optimizer.zero_grad()
                with torch.amp.autocast("npu", dtype=torch.float16):
                    loss = torch.nn.functional.mse_loss(model(x).float(), y)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
         """))),
    Code("prec-c2", "precision", 2, "Return a copy of the dict `batch` in which every float64 tensor is float32; other tensors "
         "keep their dtype.", "to_float32", "def to_float32(batch: dict) -> dict:", _check_to_float32,
         _c("""
            import torch
            def to_float32(batch):
                return {k: v.float() if v.dtype == torch.float64 else v for k, v in batch.items()}
         """),
         (_c("""
            def to_float32(batch):
                return {k: v.float() for k, v in batch.items()}
         """), _c("""
            import torch
            def to_float32(batch):
                return {k: v.float() if v.is_floating_point() else v for k, v in batch.items()}
         """))),
    Code("dist-c1", "distributed", 2, "Return the torch.distributed backend for a device type: npu, cuda or cpu.",
         "backend_for", "def backend_for(device_type: str) -> str:", _check_backend_for,
         _c("""
            def backend_for(device_type):
                return {"npu": "hccl", "cuda": "nccl"}.get(device_type, "gloo")
         """),
         (_c("""
            def backend_for(device_type):
                return {"npu": "nccl", "cuda": "nccl"}.get(device_type, "gloo")
         """), _c("""
            def backend_for(device_type):
                return "hccl"
         """))),
    Code("dist-c2", "distributed", 2, "Return the indices process `rank` of `world` reads from a dataset of length `n`, "
         "exactly as DistributedSampler(shuffle=False) does (it pads by repeating the first indices).",
         "shard", "def shard(n: int, rank: int, world: int) -> list[int]:", _check_shard,
         _c("""
            import math
            def shard(n, rank, world):
                total = math.ceil(n / world) * world
                indices = list(range(n))
                indices += indices[: total - n]
                return indices[rank:total:world]
         """),
         (_c("""
            def shard(n, rank, world):
                return list(range(n))[rank::world]
         """), _c("""
            import math
            def shard(n, rank, world):
                size = math.ceil(n / world)
                return list(range(n))[rank * size:(rank + 1) * size]
         """))),
    Code("perf-c1", "performance", 3, "Return the device time in milliseconds that `fn()` takes on the NPU.",
         "device_time_ms", "def device_time_ms(fn) -> float:", _check_device_time_ms,
         _c("""
            import torch
            def device_time_ms(fn):
                start, end = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
                torch.npu.synchronize()
                start.record()
                fn()
                end.record()
                end.synchronize()
                return float(start.elapsed_time(end))
         """),
         (_c("""
            import time
            def device_time_ms(fn):
                t0 = time.perf_counter()
                fn()
                return (time.perf_counter() - t0) * 1000.0
         """), _c("""
            import torch
            def device_time_ms(fn):
                start, end = torch.npu.Event(), torch.npu.Event()
                torch.npu.synchronize()
                start.record()
                fn()
                end.record()
                end.synchronize()
                return float(start.elapsed_time(end))
         """))),
    Code("perf-c2", "performance", 3, "Return the peak NPU memory in MiB while `fn()` runs (peak statistics reset first).",
         "peak_mib", "def peak_mib(fn) -> float:", _check_peak_mib,
         _c("""
            import torch
            def peak_mib(fn):
                torch.npu.synchronize()
                torch.npu.reset_peak_memory_stats()
                fn()
                torch.npu.synchronize()
                return torch.npu.max_memory_allocated() / 2**20
         """),
         (_c("""
            import torch
            def peak_mib(fn):
                fn()
                return torch.npu.memory_allocated() / 2**20
         """), _c("""
            import torch
            def peak_mib(fn):
                torch.npu.reset_peak_memory_stats()
                fn()
                return torch.npu.memory_reserved() / 2**20
         """))),
]

QUESTIONS = {q.id: q for q in (*CHOICES, *CODES)}
