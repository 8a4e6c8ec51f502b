"""The simulator's overhead in CPU instructions: a deterministic companion to ``bench_sim``.

Wall-clock ratios on a shared VM move by 10-50% from one process to the next, so a change of a
few percent in the simulator cannot be seen in them. Instructions executed can: each contender's
training steps run under valgrind's callgrind with one intra-op thread, counting switched on
(``callgrind_control -i on``) only around the timed steps, after the warm-up. The same tree gives
the same count to within about 0.2%.

Contenders, as in ``bench_sim``: plain CPU, the pass-through wrapper on the CPU device (the cost of
a Python tensor subclass), the same pass-through on the ``npu`` device (the floor of any pure-Python
``npu``: it adds what PyTorch charges a PrivateUse1 device) and the simulated NPU, for the tiny MLP
(per-operator overhead) and the MNIST-sized MLP.
Instructions are not time (a BLAS kernel retires more work per instruction than Python does), so
these ratios rank changes; the wall-clock targets stay with ``bench_sim``.

Skipped, with a line saying so, where valgrind is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

STEPS = 10
WARMUP = 3
MODELS = {"tiny_mlp_step": ((64, 128, 128, 10), (32, 64)), "mlp_step": ((784, 256, 256, 10), (64, 784))}
if os.environ.get("BENCH_MODELS"):  # e.g. BENCH_MODELS=tiny_mlp_step: one model only
    _unknown = sorted(set(os.environ["BENCH_MODELS"].split(",")) - set(MODELS))
    if _unknown:
        sys.exit(f"BENCH_MODELS names unknown model(s) {', '.join(_unknown)}; known: {', '.join(MODELS)}")
    MODELS = {name: MODELS[name] for name in os.environ["BENCH_MODELS"].split(",")}
CONTENDERS = ("cpu", "floor", "npu_floor", "npu")
_TRIGGER = re.compile(r"^desc: Trigger: dump (\w+)$", re.M)   # the name given to --dump
_TOTALS = re.compile(r"^totals: (\d+)$", re.M)


def _child(model: str) -> None:
    """Inside valgrind: for each contender in turn, build one step, warm it up, count ``STEPS``
    steps and dump the count (``callgrind_control --dump`` writes the counters and zeroes them)."""
    os.environ["ASCEND_COMPAT_BACKEND"] = "sim"
    import torch

    from benchmarks import bench_sim

    torch.set_num_threads(1)
    sizes, shape = MODELS[model]
    build = bench_sim.mlp(sizes)
    pid = str(os.getpid())
    for contender in CONTENDERS:
        if contender == "floor":
            step = bench_sim.make_pass_through(build, shape, 10)
        elif contender == "npu_floor":
            step = bench_sim.make_pass_through(build, shape, 10, wrapper=bench_sim.NPUPassThrough)
        else:
            step = bench_sim.make(contender, build, shape, 10)
        for _ in range(WARMUP):
            step()
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
        for _ in range(STEPS):
            step()
        subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
        subprocess.run(["callgrind_control", f"--dump={contender}", pid], check=True, capture_output=True)


def count(model: str) -> dict:
    """Instructions of ``STEPS`` steps of ``model`` on each contender."""
    with tempfile.TemporaryDirectory() as out_dir:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_dir}/cg.out",
             sys.executable, os.path.abspath(__file__), "--child", model],
            capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
        counts = {}
        for dump in Path(out_dir).glob("cg.out.*"):
            text = dump.read_text()
            trigger, total = _TRIGGER.search(text), _TOTALS.search(text)
            if trigger and total:
                counts[trigger.group(1)] = int(total.group(1))
    if run.returncode != 0 or set(counts) != set(CONTENDERS):
        raise RuntimeError(f"callgrind run of {model} failed:\n{run.stderr[-2000:]}")
    return counts


def main() -> int:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("  skipped: valgrind is not installed (apt install valgrind) - bench_sim has the wall-clock figures")
        return 0
    from benchmarks.common import print_table, write_results

    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        counts = dict(zip(MODELS, pool.map(count, MODELS)))
    results, rows = {}, []
    for model in MODELS:
        cpu, floor, npu_floor, npu = (counts[model][c] / STEPS for c in CONTENDERS)
        results[model] = {"cpu_per_step": cpu, "floor_per_step": floor, "npu_floor_per_step": npu_floor,
                          "npu_per_step": npu, "ratio": npu / cpu, "floor_ratio": floor / cpu,
                          "npu_floor_ratio": npu_floor / cpu, "sim_vs_floor": npu / floor,
                          "sim_vs_npu_floor": npu / npu_floor}
        rows += [(f"{model} (instructions per step)",
                  f"npu {npu / 1e6:.2f}M = {npu / cpu:.2f}x CPU ({cpu / 1e6:.2f}M); "
                  f"floor {floor / cpu:.2f}x, on the npu device {npu_floor / cpu:.2f}x CPU; "
                  f"simulator vs that {npu / npu_floor:.3f}x"),
                 ("  PrivateUse1's own instructions per step", f"{(npu_floor - floor) / 1e6:.2f}M"),
                 ("  simulator's own instructions per step", f"{(npu - npu_floor) / 1e6:.2f}M")]
    print(f"  (callgrind, {STEPS} steps after {WARMUP} warm-up, one thread)")
    print_table(rows)
    write_results("instructions", results)
    return 0


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child(sys.argv[sys.argv.index("--child") + 1])
    else:
        sys.exit(main())
