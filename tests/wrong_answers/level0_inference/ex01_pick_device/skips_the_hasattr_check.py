# cell: pick_device_answer
# fails: pick_device_hidden, pick_device_override_hidden
# Works wherever torch_npu is installed; AttributeError on a machine without it.
def pick_device(override=None) -> torch.device:
    """The device to run on: ``override`` when given (validated), else npu > cuda > cpu."""
    usable = {"npu": torch.npu.is_available(), "cuda": torch.cuda.is_available(), "cpu": True}
    if override is None:
        return torch.device(next(kind for kind in ("npu", "cuda", "cpu") if usable[kind]))
    kind = str(override).split(":")[0]
    if kind not in usable:
        raise ValueError(f"unknown device {override!r}; use npu, cuda or cpu")
    if not usable[kind]:
        raise RuntimeError(f"{override!r} is not available here")
    return torch.device(override)
