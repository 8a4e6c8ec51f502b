# cell: pick_device_answer
# fails: pick_device_override_visible, pick_device_override_hidden
# Lets torch.device() validate: "tpu" then raises torch's RuntimeError, not a ValueError, and an
# unavailable device is returned instead of refused.
def pick_device(override=None) -> torch.device:
    """The device to run on: ``override`` when given (validated), else npu > cuda > cpu."""
    if override is not None:
        return torch.device(override)
    if hasattr(torch, "npu") and torch.npu.is_available():
        return torch.device("npu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
