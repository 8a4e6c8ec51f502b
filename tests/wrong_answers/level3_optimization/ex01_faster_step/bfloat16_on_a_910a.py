# cell: make_fast_step_answer
# fails: faster_step_speed_visible, faster_step_speed_hidden
# The Atlas A2 recipe (bfloat16) on a 910A, which has no bfloat16: autocast switches itself off with
# a warning, the step stays in float32, and only the fused optimizer is left to gain anything.
def make_fast_step(model):
    """A training step for ``model`` that trains like make_baseline_step(model), faster."""
    optimizer = torch_npu.optim.NpuFusedAdam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("npu")

    def step(images, labels):
        optimizer.zero_grad()
        with torch.autocast(device_type="npu", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(images), labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return loss.detach()

    return step
