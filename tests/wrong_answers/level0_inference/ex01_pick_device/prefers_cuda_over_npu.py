# cell: pick_device_answer
# fails: pick_device_hidden
# The CUDA habit: ask for a GPU first. Right on this machine (no GPU), wrong on a server with both.
def pick_device(override=None) -> torch.device:
    """The device to run on: ``override`` when given (validated), else npu > cuda > cpu."""
    if override is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if hasattr(torch, "npu") and torch.npu.is_available():
            return torch.device("npu")
        return torch.device("cpu")
    kind = str(override).split(":")[0]
    if kind not in ("npu", "cuda", "cpu"):
        raise ValueError(f"unknown device {override!r}; use npu, cuda or cpu")
    usable = {"npu": hasattr(torch, "npu") and torch.npu.is_available(), "cuda": torch.cuda.is_available(), "cpu": True}
    if not usable[kind]:
        raise RuntimeError(f"{override!r} is not available here")
    return torch.device(override)
