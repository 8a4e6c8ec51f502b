# cell: make_fast_step_answer
# fails: faster_step_speed_visible, faster_step_speed_hidden
# Mixed precision done right, and foreach=True for the optimizer - the fast path on CUDA and on
# Atlas A2, but on a 910A op-plugin runs foreach one tensor at a time: the host still launches
# kernel after kernel, so mixed precision alone is all that is gained.
def make_fast_step(model):
    """A training step for ``model`` that trains like make_baseline_step(model), faster."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    scaler = torch.amp.GradScaler("npu")

    def step(images, labels):
        optimizer.zero_grad()
        with torch.autocast(device_type="npu", dtype=torch.float16):
            loss = F.cross_entropy(model(images), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss.detach()

    return step
