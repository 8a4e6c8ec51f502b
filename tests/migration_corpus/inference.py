"""Batch inference with an argparse device option (defaults to the first CUDA GPU)."""
import argparse
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--device", default="cuda:0", help="where to run, e.g. cuda:0")
args = parser.parse_args([])

model = torch.nn.Linear(16, 4).to(args.device).eval()
batch = torch.randn(32, 16, device=args.device)
start = time.perf_counter()
with torch.no_grad():
    out = model(batch)
torch.cuda.synchronize()
print("top-1:", out.argmax(dim=1)[:5].tolist(), f"{time.perf_counter() - start:.4f}s")
assert out.device.type != "cpu"
