"""Save a checkpoint on GPU 0 and load it back with map_location."""
import os
import tempfile

import torch

model = torch.nn.Linear(4, 2).to(0)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
model(torch.randn(3, 4).to(0)).sum().backward()
opt.step()
path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
state = torch.load(path, map_location="cuda:0")
restored = torch.nn.Linear(4, 2).cuda()
restored.load_state_dict(state["model"])
assert torch.equal(restored.weight.cpu(), model.weight.cpu())
print("checkpoint round trip ok on", state["model"]["weight"].device)
