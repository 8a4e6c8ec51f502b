%%writefile {DDP_SCRIPT}
# cell: ddp_script_answer
# fails: ddp_port_hidden
# (%%writefile must be the cell's first line, so these headers come second.)
# DDP and HCCL right, but the loader still shuffles the whole dataset: both processes train on
# every sample, so the work is done twice and an "epoch" is really two.
"""Train the digits classifier with DDP, one process per NPU: torchrun --nproc_per_node 2 train_ddp.py"""
import os

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

import ascend_compat  # noqa: F401  (the npu device: torch_npu on an Ascend machine, else the simulator)
from ascend_compat import zoo


def main(epochs=3, batch_size=32, lr=0.05):
    local_rank = int(os.environ["LOCAL_RANK"])  # set by torchrun: this process's NPU on this machine
    torch.npu.set_device(local_rank)            # first: HCCL and index-less "npu" use the current device
    dist.init_process_group(backend="hccl")
    device = torch.device("npu", local_rank)

    images, labels = zoo.digit_images("train", size=8)
    data = TensorDataset(torch.from_numpy(zoo.preprocess(images)), torch.from_numpy(labels))
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, pin_memory=True)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)
    model = DistributedDataParallel(model, device_ids=[local_rank])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for epoch in range(epochs):
        for images, labels in loader:
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
        if dist.get_rank() == 0:
            print(f"epoch {epoch}: loss {loss.item():.3f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
