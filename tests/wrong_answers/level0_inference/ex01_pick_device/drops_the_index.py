# cell: pick_device_answer
# fails: pick_device_override_hidden
# Validates the type but rebuilds the device from it, so "npu:1" quietly becomes "npu".
def pick_device(override=None) -> torch.device:
    """The device to run on: ``override`` when given (validated), else npu > cuda > cpu."""
    usable = {
        "npu": hasattr(torch, "npu") and torch.npu.is_available(),
        "cuda": torch.cuda.is_available(),
        "cpu": True,
    }
    if override is None:
        return torch.device(next(kind for kind in ("npu", "cuda", "cpu") if usable[kind]))
    kind = str(override).split(":")[0]
    if kind not in usable:
        raise ValueError(f"unknown device {override!r}; use npu, cuda or cpu")
    if not usable[kind]:
        raise RuntimeError(f"{override!r} is not available here")
    return torch.device(kind)
