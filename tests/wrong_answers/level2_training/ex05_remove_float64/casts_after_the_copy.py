# cell: prepare_batch_answer
# fails: f64_data_hidden
# Ends in float32, but copies float64 to the NPU first and casts there: twice the bytes over the
# bus, and a float64 tensor on the device.
def prepare_batch(images, device):
    """(N, 8, 8) pixel values 0..16 -> float32 (N, 64) in 0..1 on ``device``."""
    return torch.from_numpy(images.reshape(len(images), -1) / 16.0).to(device).float()
