# cell: resume_answer
# fails: ckpt_resume_hidden
# Right order, but torch.load without map_location: fine for a checkpoint from this machine,
# an error for one written on a GPU.
def resume(path, device):
    """Rebuild model and optimizer on ``device`` from a checkpoint saved on any device."""
    checkpoint = torch.load(path)
    model = build_model().to(device)
    model.load_state_dict(checkpoint["model"])
    optimizer = build_optimizer(model)
    optimizer.load_state_dict(checkpoint["optimizer"])
    return model, optimizer, checkpoint["epoch"]
