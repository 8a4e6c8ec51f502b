# cell: make_scaler_answer
# torch_npu's own name for the NPU scaler, with the defaults spelled out.
def make_scaler():
    """A loss scaler for mixed-precision training on the NPU."""
    return torch.npu.amp.GradScaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                                    growth_interval=2000)
