# cell: make_fast_step_answer
# fails: faster_step_trains_visible, faster_step_trains_hidden, faster_step_speed_visible, faster_step_speed_hidden
# "Optimized" by computing the loss without autograd: very fast, returns a plausible loss,
# and never trains the model.
def make_fast_step(model):
    """A training step for ``model`` that trains like make_baseline_step(model), faster."""
    optimizer = torch_npu.optim.NpuFusedAdam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("npu")

    def step(images, labels):
        optimizer.zero_grad()
        with torch.no_grad(), torch.autocast(device_type="npu", dtype=torch.float16):
            loss = F.cross_entropy(model(images), labels)
        return loss
    return step
