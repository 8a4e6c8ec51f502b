"""Device objects and factories with devices."""
import torch

gpu = torch.device("cuda", 0)
a = torch.zeros(2, device="cuda")
b = torch.arange(4).to(device=gpu)
c = a.new_tensor([1.0, 2.0])
d = torch.ones(2, device=torch.device("cuda:0")) + c
print(a.device, b.device, d.tolist())
assert d.device.type != "cpu"
