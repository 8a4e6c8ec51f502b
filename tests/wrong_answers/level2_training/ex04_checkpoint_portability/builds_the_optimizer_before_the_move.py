# cell: resume_answer
# fails: ckpt_resume_visible, ckpt_resume_hidden
# Restores everything on the CPU and moves the model last: the optimizer and its state stay
# with the parameters as they were on the CPU.
def resume(path, device):
    """Rebuild model and optimizer on ``device`` from a checkpoint saved on any device."""
    checkpoint = torch.load(path, map_location="cpu")
    model = build_model()
    optimizer = build_optimizer(model)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    model.to(device)
    return model, optimizer, checkpoint["epoch"]
