"""``init_process_group("hccl")`` on the simulated NPU: HCCL's name, gloo's transport.

Real Ascend training uses HCCL (Huawei Collective Communication Library) where CUDA uses NCCL.
The simulator registers a process-group backend named ``hccl`` for ``npu`` tensors. Each
collective unwraps the NPU tensors to the CPU tensors that hold their data and lets PyTorch's gloo
backend run it between the processes (gloo works in place, so the NPU tensors see the result).
``DistributedDataParallel``, ``torchrun`` and ``DistributedSampler`` work unchanged.
"""

from __future__ import annotations

from datetime import timedelta

import torch
import torch.distributed as dist
from torch._C._distributed_c10d import Backend as _C10dBackend


def _host(value):
    """NPU tensors (possibly in nested lists) -> the CPU tensors holding their data."""
    from ascend_compat.sim.tensor import NPUTensor

    if isinstance(value, NPUTensor):
        return value._cpu
    if isinstance(value, (list, tuple)):
        return type(value)(_host(v) for v in value)
    return value


class SimHCCLBackend(_C10dBackend):
    """A c10d backend for ``npu`` tensors that forwards every collective to gloo on host memory."""

    def __init__(self, store, rank: int, size: int, timeout: timedelta):
        super().__init__(rank, size)
        self._gloo = dist.ProcessGroupGloo(store, rank, size, timeout)

    def getBackendName(self) -> str:  # noqa: N802 (c10d's name)
        return "hccl"

    def allreduce(self, tensors, opts=None):
        return self._gloo.allreduce(_host(tensors), opts) if opts is not None else self._gloo.allreduce(_host(tensors))

    def allreduce_coalesced(self, tensors, opts):
        return self._gloo.allreduce_coalesced(_host(tensors), opts)

    def broadcast(self, tensors, opts):
        return self._gloo.broadcast(_host(tensors), opts)

    def allgather(self, output_tensors, input_tensors, opts):
        return self._gloo.allgather(_host(output_tensors), _host(input_tensors), opts)

    def _allgather_base(self, output, input, opts):
        return self._gloo._allgather_base(_host(output), _host(input), opts)

    def reduce(self, tensors, opts):
        return self._gloo.reduce(_host(tensors), opts)

    def reduce_scatter(self, output_tensors, input_tensors, opts):
        return self._gloo.reduce_scatter(_host(output_tensors), _host(input_tensors), opts)

    def _reduce_scatter_base(self, output, input, opts):
        return self._gloo._reduce_scatter_base(_host(output), _host(input), opts)

    def gather(self, output_tensors, input_tensors, opts):
        return self._gloo.gather(_host(output_tensors), _host(input_tensors), opts)

    def scatter(self, output_tensors, input_tensors, opts):
        return self._gloo.scatter(_host(output_tensors), _host(input_tensors), opts)

    def alltoall_base(self, output, input, output_split_sizes, input_split_sizes, opts):
        return self._gloo.alltoall_base(_host(output), _host(input), output_split_sizes, input_split_sizes, opts)

    def barrier(self, opts):
        return self._gloo.barrier(opts)

    def send(self, tensors, dst, tag):
        return self._gloo.send(_host(tensors), dst, tag)

    def recv(self, tensors, src, tag):
        return self._gloo.recv(_host(tensors), src, tag)


def _create(store, rank, size, timeout):
    return SimHCCLBackend(store, rank, size, timeout)


def register() -> None:
    if not dist.is_available() or "hccl" in dist.Backend.backend_list:
        return
    dist.Backend.register_backend("hccl", _create, devices=["npu"])
    dist.is_hccl_available = lambda: True
