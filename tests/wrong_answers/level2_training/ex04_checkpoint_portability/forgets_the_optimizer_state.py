# cell: resume_answer
# fails: ckpt_resume_visible, ckpt_resume_hidden
# Restores the weights only: a fresh Adam starts with no moments and step 0, so the first
# resumed steps differ from the ones the original run would have taken.
def resume(path, device):
    """Rebuild model and optimizer on ``device`` from a checkpoint saved on any device."""
    checkpoint = torch.load(path, map_location=device)
    model = build_model().to(device)
    model.load_state_dict(checkpoint["model"])
    return model, build_optimizer(model), checkpoint["epoch"]
