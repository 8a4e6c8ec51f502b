# cell: make_fast_step_answer
# fails: faster_step_trains_visible, faster_step_trains_hidden
# float16 autocast and a fused optimizer, but no loss scaling: fastest of all, until a gradient
# overflows and the inf goes straight into the weights.
def make_fast_step(model):
    """A training step for ``model`` that trains like make_baseline_step(model), faster."""
    optimizer = torch_npu.optim.NpuFusedAdam(model.parameters(), lr=1e-3)

    def step(images, labels):
        optimizer.zero_grad()
        with torch.autocast(device_type="npu", dtype=torch.float16):
            loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        return loss.detach()

    return step
