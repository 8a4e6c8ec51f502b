# cell: make_scaler_answer
# fails: amp_scaler_visible, amp_scaler_hidden
# The CUDA habit: a scaler for CUDA. With no GPU it warns once and disables itself, so scale()
# returns the loss unchanged and step() never checks for overflow.
def make_scaler():
    """A loss scaler for mixed-precision training on the NPU."""
    return torch.cuda.amp.GradScaler()
