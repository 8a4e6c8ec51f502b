# cell: prepare_batch_answer
# fails: f64_data_visible, f64_data_hidden
# The model was cast, the data was not: NumPy's float64 goes through torch.from_numpy unchanged.
def prepare_batch(images, device):
    """(N, 8, 8) pixel values 0..16 -> float32 (N, 64) in 0..1 on ``device``."""
    return torch.from_numpy(images.reshape(len(images), -1) / 16.0).to(device)
