"""Exam objectives: what an Ascend migration engineer is tested on, and where the course teaches it.

Each objective lists lessons to revise, most specific first; the report names the first that exists
in this checkout (lessons land level by level).
"""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]

_OBJECTIVES = {
    "stack": ("The Ascend software stack and devices",
              ["notebooks/level0_inference/01_hello_npu.ipynb"]),
    "device-api": ("Porting device code: torch.npu, device strings, environment",
                   ["notebooks/level2_training/01_manual_port.ipynb", "notebooks/level0_inference/01_hello_npu.ipynb"]),
    "deployment": ("Deployment: ONNX, atc, .om models, AIPP, pyACL",
                   ["notebooks/level1_conversion/02_atc.ipynb", "notebooks/level0_inference/03_pyacl_inference.ipynb"]),
    "precision": ("Mixed precision and numerics",
                  ["notebooks/level2_training/03_mixed_precision.ipynb", "notebooks/level0_inference/02_eager_inference.ipynb"]),
    "distributed": ("Distributed training with HCCL",
                    ["notebooks/level2_training/04_distributed.ipynb", "notebooks/level0_inference/01_hello_npu.ipynb"]),
    "performance": ("Profiling, memory and performance",
                    ["notebooks/level3_optimization/01_profiling.ipynb", "notebooks/level0_inference/01_hello_npu.ipynb"]),
}


def _first_existing(paths: list[str]) -> str:
    for path in paths:
        if (_ROOT / path).is_file():
            return path
    return paths[-1]


# objective id -> (title, lesson to revise)
OBJECTIVES = {key: (title, _first_existing(paths)) for key, (title, paths) in _OBJECTIVES.items()}
