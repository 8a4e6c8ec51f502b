# cell: make_scaler_answer
# fails: amp_scaler_hidden
# "A smaller scale overflows less": a scaler for the NPU that works, but starts at 2**10 and grows
# every 100 steps instead of the defaults the task asks for. Small float16 gradients flush to zero.
def make_scaler():
    """A loss scaler for mixed-precision training on the NPU."""
    return torch.amp.GradScaler("npu", init_scale=2.0 ** 10, growth_interval=100)
