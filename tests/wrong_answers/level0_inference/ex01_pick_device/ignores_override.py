# cell: pick_device_answer
# fails: pick_device_override_visible, pick_device_override_hidden
# Part 1 done, part 2 forgotten: the override is accepted and silently ignored.
def pick_device(override=None) -> torch.device:
    """The device to run on: ``override`` when given (validated), else npu > cuda > cpu."""
    if hasattr(torch, "npu") and torch.npu.is_available():
        return torch.device("npu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")
