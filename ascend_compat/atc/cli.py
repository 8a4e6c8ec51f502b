"""``ascend-lab atc``: the atc command line, real when installed, simulated otherwise.

Same options, same spelling (``--model=... --framework=5``) as Huawei's ``atc``. If a real ``atc``
binary is on ``PATH`` (CANN installed and ``set_env.sh`` sourced) the arguments are handed to it
unchanged and its exit code returned; ``--simulate`` forces the simulator.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from ascend_compat.atc.convert import DEFAULT_PRECISION_MODE, PRECISION_MODES, PRECISION_MODES_V2
from ascend_compat.atc.convert import convert as run_conversion
from ascend_compat.errors import UserError


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "atc", help="convert an ONNX model to an offline .om model (real atc if installed, else simulated)",
        description="Ascend Tensor Compiler. Runs the real `atc` when it is on PATH; otherwise the simulator "
                    "converts ONNX (--framework=5) models to simulated .om files.")
    parser.add_argument("--model", required=True, help="path of the source model (.onnx)")
    parser.add_argument("--framework", required=True, help="0 Caffe, 1 MindSpore, 3 TensorFlow, 5 ONNX")
    parser.add_argument("--output", required=True, help="output path without .om (atc appends it)")
    parser.add_argument("--soc_version", required=True, help="target SoC, e.g. Ascend310P3 (see `npu-smi info`)")
    parser.add_argument("--input_shape", help='e.g. "input:1,3,224,224" (several separated by ";")')
    parser.add_argument("--input_format", default="NCHW", help="NCHW (default), NHWC or ND")
    parser.add_argument("--insert_op_conf", help="AIPP config file")
    parser.add_argument("--precision_mode", help=f"default {DEFAULT_PRECISION_MODE}; one of "
                        f"{', '.join(PRECISION_MODES)}")
    parser.add_argument("--precision_mode_v2", help="the same modes under new names (not with --precision_mode): "
                        f"{', '.join(PRECISION_MODES_V2)}")
    parser.add_argument("--input_fp16_nodes", help='inputs that take float16 data, e.g. "input1;input2"')
    parser.add_argument("--output_type", help="FP32 or FP16 for all outputs")
    parser.add_argument("--dynamic_batch_size", help='batch sizes for an input shape with -1, e.g. "1,2,4,8"')
    parser.add_argument("--log", default="null", help="debug, info, warning, error or null (default)")
    parser.add_argument("--simulate", action="store_true", help="use the simulator even if a real atc is installed")
    parser.set_defaults(func=handle)
    return parser


_OPTIONS = ("model", "framework", "output", "soc_version", "input_shape", "input_format", "insert_op_conf",
            "precision_mode", "precision_mode_v2", "input_fp16_nodes", "output_type", "dynamic_batch_size", "log")


def handle(args) -> int:
    real = shutil.which("atc")
    if real and not args.simulate and not os.environ.get("ASCEND_COMPAT_SIMULATE_ATC"):
        print(f"ascend-lab atc: running the real atc at {real}", file=sys.stderr)
        command = [real] + [f"--{k}={getattr(args, k)}" for k in _OPTIONS if getattr(args, k) is not None]
        return subprocess.call(command)
    print("ATC start working now, please wait for a moment. (simulated atc: no CANN toolkit found)")
    try:
        path = run_conversion(**{k: getattr(args, k) for k in _OPTIONS})
    except UserError:
        # atc's banner on failure; the error line itself (E10001: ..., E19010: ...) goes to stderr
        print("ATC run failed, Please check the detail log, Try 'atc --help' for more information", flush=True)
        raise
    if args.log in ("debug", "info"):
        from ascend_compat.atc import om

        print(om.describe(om.load(path)))
    print(f"ATC run success, welcome to the next use. Wrote {path}")
    return 0
