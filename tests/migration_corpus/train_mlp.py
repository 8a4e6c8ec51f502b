"""Train a small MLP on the GPU (CUDA) — a typical research script."""
import torch
import torch.nn as nn

device = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cudnn.benchmark = True  # let cuDNN pick the fastest kernels
torch.manual_seed(0)
torch.cuda.manual_seed_all(0)

model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 2)).cuda()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(64, 8).cuda()
y = (x[:, 0] > 0).long().cuda()
for step in range(20):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
torch.cuda.synchronize()
print(f"final loss {loss.item():.3f} on {device}; cuda memory {torch.cuda.memory_allocated()} bytes")
assert x.device.type != "cpu"
