"""DDP with ``hccl`` on two simulated NPUs, launched by ``torchrun`` as on hardware."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import os
    import torch
    import torch.distributed as dist
    import ascend_compat

    rank = int(os.environ["LOCAL_RANK"])
    torch.npu.set_device(rank)
    dist.init_process_group(backend="hccl")
    assert dist.get_backend() == "hccl" and dist.get_world_size() == 2
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)).to(f"npu:{rank}")
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[rank])
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    data = torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randn(64, 1))
    sampler = torch.utils.data.distributed.DistributedSampler(data, shuffle=True, seed=0)
    loader = torch.utils.data.DataLoader(data, batch_size=8, sampler=sampler)
    for x, y in loader:
        x, y = x.to("npu"), y.to("npu")
        opt.zero_grad()
        torch.nn.functional.mse_loss(ddp(x), y).backward()
        opt.step()
    w = model[0].weight.detach()
    total = w.clone()
    dist.all_reduce(total)
    spread = (total / 2 - w).abs().max().item()
    print(f"rank={rank} device={w.device} batches={len(loader)} spread={spread}")
    dist.destroy_process_group()
''')


@pytest.mark.slow
def test_ddp_two_processes_stay_in_sync(tmp_path):
    script = tmp_path / "train_ddp.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
        env={**os.environ, "ASCEND_COMPAT_BACKEND": "sim", "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # the two processes share stdout, so their lines may interleave
    lines = sorted(re.findall(r"rank=\d device=npu:\d batches=\d+ spread=[\d.e-]+", result.stdout))
    assert lines == ["rank=0 device=npu:0 batches=4 spread=0.0", "rank=1 device=npu:1 batches=4 spread=0.0"]
