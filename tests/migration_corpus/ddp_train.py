"""DistributedDataParallel with NCCL, one process per GPU (here: a world of one)."""
import os

import torch
import torch.distributed as dist

os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
os.environ.setdefault("MASTER_PORT", "29581")
rank = int(os.environ.get("RANK", 0))
local_rank = int(os.environ.get("LOCAL_RANK", 0))
torch.cuda.set_device(local_rank)
dist.init_process_group(backend="nccl", rank=rank, world_size=int(os.environ.get("WORLD_SIZE", 1)))
device = torch.device(f"cuda:{local_rank}")
model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1).to(device), device_ids=[local_rank])
loss = model(torch.randn(8, 4, device=device)).pow(2).mean()
loss.backward()
print("rank", rank, "backend", dist.get_backend(), "loss", round(loss.item(), 4))
dist.destroy_process_group()
