"""Visible tests and hints of ``exercises/level2_training/ex03_ddp_port.ipynb``.

Question ``ddp_port``: the learner's ``train_ddp.py``, launched exactly as on an Ascend server -
``torchrun --standalone --nproc_per_node 2`` - must train a ``DistributedDataParallel`` model over
HCCL, one NPU per process. :func:`run_ddp` launches it under the observers of
:mod:`._ddp_probe` and returns what each rank did; the tests judge that record (process group
backend, current device, parameter devices, the indices each rank's sampler drew, the final
weights), never the script's text. Hidden tests (shards, agreement of the ranks) are in the source
notebook only.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex03_ddp_port")

WORLD_SIZE = 2
# Two fresh Python processes on a 2-core machine need well under a minute; stay below nbgrader's
# 120 s per cell (nbgrader_config.py), so a hang gets this module's message, not a cell timeout.
TIMEOUT_S = 110


@dataclass
class DDPRun:
    """The outcome of one ``torchrun`` of a script: exit code, output, and each rank's record."""

    returncode: int
    stdout: str
    stderr: str
    records: dict = field(default_factory=dict)   # rank -> the probe's record
    weights: dict = field(default_factory=dict)   # rank -> final state_dict (CPU)

    def failure(self) -> str | None:
        """One line per failing rank saying what went wrong, or None when the run succeeded."""
        if self.returncode == 0 and len(self.records) == WORLD_SIZE:
            return None
        errors = [f"rank {rank}: {record['error']}" for rank, record in sorted(self.records.items()) if record.get("error")]
        # A rank that sees its peer die reports a lost connection: the cause is elsewhere.
        causes = [line for line in errors if "by peer" not in line]
        for rank in range(WORLD_SIZE):
            if rank not in self.records:
                causes.append(f"rank {rank} crashed without a Python error{self._last_words()}")
        if not causes and not errors:
            causes = [f"torchrun exited with code {self.returncode}"]
        return "\n".join(causes or errors)

    def _last_words(self) -> str:
        lines = [line for line in self.stderr.splitlines()
                 if line.strip() and not line.startswith((" ", "[rank", "Traceback")) and "torch/distributed" not in line]
        return f" (it said: {lines[0].strip()[:200]})" if lines else ""

    def summary(self) -> str:
        lines = [self.stdout.strip()] if self.stdout.strip() else []
        problem = self.failure()
        lines.append("the run failed:\n" + problem if problem else f"the run finished on {WORLD_SIZE} processes")
        return "\n".join(lines)


_RUNS: dict[str, DDPRun] = {}


def run_ddp(script) -> DDPRun:
    """Launch ``script`` with ``torchrun --standalone --nproc_per_node 2`` under the probe.

    Runs are cached by the script's content: the visible and the hidden tests share one run,
    and editing the script (re-running the ``%%writefile`` cell) launches a new one.
    """
    script = Path(script)
    if not script.is_file():
        raise AssertionError(f"{script} does not exist: run the cell with your answer (it writes the file) first")
    text = script.read_text(encoding="utf-8")
    key = hashlib.sha256(text.encode()).hexdigest()
    if key not in _RUNS:
        _RUNS[key] = _launch(script)
    return _RUNS[key]


def _launch(script: Path) -> DDPRun:
    with tempfile.TemporaryDirectory(prefix="ddp-probe-") as out:
        # --local-addr: rendezvous on the loopback address, which works without a resolvable host
        # name (the grading sandbox has none); one node, so it changes nothing else.
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--local-addr=127.0.0.1",
                   f"--nproc_per_node={WORLD_SIZE}", "-m", "ascend_compat.grading.checks._ddp_probe", str(script), out]
        # One intra-op thread per process: two processes share the machine's cores.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        # A session of its own, so a timeout or an interrupt stops torchrun *and* its workers.
        launcher = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    cwd=script.parent, env=env, start_new_session=True)
        try:
            stdout, stderr = launcher.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop(launcher)
            return DDPRun(-1, "", f"the run did not finish within {TIMEOUT_S} s (do the processes wait for each other?)")
        except BaseException:
            _stop(launcher)
            raise
        run = DDPRun(launcher.returncode, stdout, stderr)
        for rank in range(WORLD_SIZE):
            record_file, weights_file = Path(out, f"rank{rank}.json"), Path(out, f"rank{rank}.pt")
            if record_file.is_file():
                run.records[rank] = json.loads(record_file.read_text(encoding="utf-8"))
            if weights_file.is_file():
                run.weights[rank] = torch.load(weights_file, map_location="cpu", weights_only=True)
    return run


def _stop(launcher: subprocess.Popen) -> None:
    try:
        os.killpg(launcher.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    launcher.communicate()


def finished(DDP_SCRIPT) -> DDPRun:
    run = run_ddp(DDP_SCRIPT)
    problem = run.failure()
    assert problem is None, f"torchrun --nproc_per_node {WORLD_SIZE} {Path(DDP_SCRIPT).name} failed:\n{problem}"
    return run


def ddp_records(run: DDPRun) -> dict:
    """rank -> the record of its (last) DistributedDataParallel model; fails when a rank built none."""
    built = {}
    for rank, record in sorted(run.records.items()):
        assert record["ddp"], f"rank {rank} never built a DistributedDataParallel model: the ranks train alone"
        built[rank] = record["ddp"][-1]
    return built


def npu_backend(config: str | None) -> str | None:
    """The backend that carries NPU tensors, from a backend config: "hccl" or "cpu:gloo,npu:hccl"."""
    if not config:
        return None
    if ":" not in config:
        return config
    per_device = dict(part.split(":", 1) for part in config.split(","))
    return per_device.get("npu")


@EXERCISE.test("ddp_port")
def runs_under_torchrun(DDP_SCRIPT):
    """the script runs to the end on 2 processes under torchrun"""
    finished(DDP_SCRIPT)


@EXERCISE.test("ddp_port")
def trains_ddp_over_hccl(DDP_SCRIPT):
    """each process trains a DistributedDataParallel model over HCCL"""
    for rank, ddp in ddp_records(finished(DDP_SCRIPT)).items():
        backend = npu_backend(ddp["backend"])
        assert backend == "hccl", (
            f"rank {rank}'s process group carries NPU tensors with {backend!r}; Ascend's collective library "
            "is another one")


@EXERCISE.test("ddp_port")
def one_npu_per_process(DDP_SCRIPT):
    """process N works on npu:N, and that is its current device"""
    run = finished(DDP_SCRIPT)
    for rank, ddp in ddp_records(run).items():
        local = run.records[rank]["local_rank"]
        expected = f"npu:{local}"
        assert ddp["parameter_devices"] == [expected], (
            f"the process with LOCAL_RANK={local} trains parameters on {', '.join(ddp['parameter_devices'])}, "
            f"expected {expected}: every process needs its own NPU")
        assert ddp["current_device"] == expected, (
            f"in the process with LOCAL_RANK={local} the current NPU is {ddp['current_device']} while it trains on "
            f"{expected}: HCCL and every index-less 'npu' use the current device, so make it this process's NPU "
            "before the process group starts")


def check_shards(DDP_SCRIPT) -> None:
    """Hidden: each rank drew its own share of the dataset, every epoch, and trained on it."""
    run = finished(DDP_SCRIPT)
    epochs = {rank: record["sampler_epochs"] for rank, record in run.records.items()}
    for rank, record in sorted(run.records.items()):
        samplers = sorted({loader["sampler"] for loader in record["loaders"]})
        assert epochs[rank], (
            f"rank {rank} trained from a DataLoader with {', '.join(samplers) or 'no'} sampler: every rank then "
            f"sees the whole dataset ({record['samples_trained']} samples trained), and the ranks do the same work twice")
    counts = {len(e) for e in epochs.values()}
    assert len(counts) == 1, f"the ranks ran different numbers of epochs: {sorted(counts)}"
    for epoch in range(counts.pop()):
        draws = [epochs[rank][epoch] for rank in sorted(epochs)]
        size = draws[0]["dataset_size"]
        together = set().union(*(set(d["indices"]) for d in draws))
        drawn = sum(len(d["indices"]) for d in draws)
        # disjoint shards covering the dataset, up to the few samples a sampler pads or drops to split evenly
        assert together <= set(range(size)) and len(together) >= size - (WORLD_SIZE - 1) \
            and drawn - len(together) <= WORLD_SIZE - 1, (
            f"in epoch {epoch} the ranks drew {drawn} samples covering {len(together)} of {size}: the shards of a "
            "DistributedSampler are disjoint and together cover the dataset once")
    for rank, record in sorted(run.records.items()):
        shard = sum(len(e["indices"]) for e in epochs[rank])
        assert 0 < record["samples_trained"] <= shard, (
            f"rank {rank} trained on {record['samples_trained']} samples, but its sampler drew {shard}: the "
            "DistributedSampler must feed the loader that feeds the model")


def check_agreement(DDP_SCRIPT) -> None:
    """Hidden: the ranks end with identical weights, which training changed."""
    run = finished(DDP_SCRIPT)
    assert set(run.weights) == set(range(WORLD_SIZE)), f"only ranks {sorted(run.weights)} reported weights"
    for rank, record in sorted(run.records.items()):
        assert record["weights_changed"], f"rank {rank}'s DDP model ended with the weights it started with"
    first, second = run.weights[0], run.weights[1]
    assert first.keys() == second.keys(), "the two ranks trained different models"
    worst = max((first[k].float() - second[k].float()).abs().max().item() for k in first)
    assert worst == 0, (
        f"the ranks ended with different weights (largest difference {worst:.3g}); DDP averages the gradients, so "
        "every rank takes the same step")


EXERCISE.hint(
    "ddp_port",
    "torchrun starts one process per NPU and tells each its place in the environment: RANK, WORLD_SIZE and "
    "LOCAL_RANK (the process's index on this machine). Read them with os.environ.",
    "First torch.npu.set_device(local_rank), then dist.init_process_group(backend=...) with Ascend's collective "
    "library - NCCL needs NVIDIA GPUs.",
    "Wrap the model (already on npu:local_rank) in DistributedDataParallel(model, device_ids=[local_rank]); give "
    "the DataLoader sampler=DistributedSampler(dataset) (and no shuffle=True), and call sampler.set_epoch(epoch) "
    "at the start of each epoch.",
)
