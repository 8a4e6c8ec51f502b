# cell: pick_device_answer
# fails: pick_device_visible, pick_device_hidden, pick_device_override_visible, pick_device_override_hidden
# Device names instead of devices: "npu" works in .to("npu"), but callers were promised a torch.device.
def pick_device(override=None) -> torch.device:
    """The device to run on: ``override`` when given (validated), else npu > cuda > cpu."""
    if override is not None:
        kind = str(override).split(":")[0]
        if kind not in ("npu", "cuda", "cpu"):
            raise ValueError(f"unknown device {override!r}; use npu, cuda or cpu")
        return str(override)
    if hasattr(torch, "npu") and torch.npu.is_available():
        return "npu"
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"
