# cell: save_checkpoint_answer
# fails: ckpt_save_visible, ckpt_save_hidden
# Pickles the model object itself: loading it needs this notebook's code and the NPU it lives on,
# and torch.load(..., weights_only=True) refuses it.
def save_checkpoint(path, model, optimizer, epoch):
    """Write model weights, optimizer state and epoch to ``path``, loadable on any device."""
    torch.save({"model": model, "optimizer": optimizer.state_dict(), "epoch": epoch}, path)
