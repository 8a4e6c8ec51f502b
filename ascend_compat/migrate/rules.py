"""The migration rules: what CUDA code looks like, and what the Ascend version is.

Each rule has a stable id (used in reports, CI filters and the lessons), a severity, a one-line
title and whether the rewriter fixes it automatically. Severities:

* ``error``   the code fails on an Ascend machine as it stands;
* ``warning`` it runs, but wrongly, slowly or not at all on the NPU;
* ``info``    harmless on the NPU, worth knowing (e.g. a flag that has no effect).

Facts behind the mappings: torch_npu's public API (``data/torch_npu_api.json``), the NPU operator
list (``data/npu_ops.json``), and torch_npu's ``transfer_to_npu`` (Ascend/pytorch).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    automatic: bool
    advice: str


RULES = {rule.id: rule for rule in (
    Rule("MIG000", "error", "file could not be parsed", False, "fix the syntax error; the rest of the files are still analysed"),
    Rule("MIG001", "error", "CUDA device string", True, 'use "npu" / "npu:N" (or a device chosen at run time)'),
    Rule("MIG002", "error", ".cuda() call", True, "use .npu() or, device-agnostic, .to(device)"),
    Rule("MIG003", "error", "torch.cuda API", True, "torch.npu has the same function"),
    Rule("MIG004", "error", "torch.cuda API without an NPU equivalent", False, "remove it or guard it: there is no torch.npu counterpart"),
    Rule("MIG005", "error", "torch.cuda.amp", True, 'use torch.amp.autocast("npu", ...) and torch.amp.GradScaler("npu")'),
    Rule("MIG006", "info", "cuDNN/CUDA backend flag", False, "no effect on the NPU; for reproducibility use torch.use_deterministic_algorithms(True)"),
    Rule("MIG007", "error", "NCCL backend", True, 'use backend="hccl" (Huawei Collective Communication Library)'),
    Rule("MIG008", "warning", "CUDA_VISIBLE_DEVICES", True, "Ascend selects devices with ASCEND_RT_VISIBLE_DEVICES"),
    Rule("MIG009", "warning", "nvidia-smi", False, "use npu-smi (e.g. `npu-smi info`); its options and output differ"),
    Rule("MIG010", "error", "CUDA-only library", False, "find an Ascend equivalent (torch_npu fused ops, CANN custom operators) or a pure-PyTorch path"),
    Rule("MIG011", "warning", "float64 on the NPU", False, "NPU matrix/conv kernels have no float64: keep models and data in float32"),
    Rule("MIG012", "warning", "operator missing on the NPU", False, "it falls back to the CPU (slow); rewrite with supported operators or run that step on the CPU on purpose"),
    Rule("MIG013", "warning", "torch.jit.script", False, "TorchScript is not supported by torch_npu (transfer_to_npu turns it into a no-op); use eager mode or torch.compile"),
)}

CUDA_ONLY_LIBRARIES = {
    "apex": "NVIDIA Apex (use torch.amp / torch_npu fused optimizers)",
    "cupy": "CuPy (CUDA arrays)",
    "pynvml": "NVML bindings (use npu-smi or torch.npu memory APIs)",
    "nvidia_smi": "NVML bindings",
    "pycuda": "PyCUDA",
    "triton": "Triton GPU kernels (Ascend has triton-ascend, a separate port)",
    "numba.cuda": "Numba CUDA kernels",
    "flash_attn": "FlashAttention CUDA kernels (torch_npu has npu_fusion_attention)",
    "xformers": "xFormers CUDA kernels",
    "bitsandbytes": "bitsandbytes CUDA kernels",
    "torch.utils.cpp_extension.CUDAExtension": "a custom CUDA extension",
}
