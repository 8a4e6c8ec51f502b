"""Aliased imports of torch.cuda. This docstring says cuda and must stay as it is."""
import torch
import torch.cuda as tc
from torch import cuda

# NOTE: this comment mentions cuda and .cuda() and must stay.
message = "Runs best on cuda GPUs"
if tc.is_available():
    n = cuda.device_count()
    tc.synchronize()
    print(message, "- devices:", n)
x = torch.ones(3).cuda()
print(x.is_cuda or x.device)
