"""Exam objectives: what an Ascend migration engineer is tested on, and where the course teaches it."""

from __future__ import annotations

OBJECTIVES = {
    "stack": ("The Ascend software stack and devices", "notebooks/level0_inference/01_hello_npu.ipynb"),
    "device-api": ("Porting device code: torch.npu, device strings, environment",
                   "notebooks/level2_training/01_manual_port.ipynb"),
    "deployment": ("Deployment: ONNX, atc, .om models, AIPP, pyACL", "notebooks/level1_conversion/02_atc.ipynb"),
    "precision": ("Mixed precision and numerics", "notebooks/level2_training/03_mixed_precision.ipynb"),
    "distributed": ("Distributed training with HCCL", "notebooks/level2_training/04_distributed.ipynb"),
    "performance": ("Profiling, memory and performance", "notebooks/level3_optimization/01_profiling.ipynb"),
}
