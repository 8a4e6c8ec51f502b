# cell: train_step_answer
# fails: amp_step_hidden
# Scales and unscales correctly, then calls optimizer.step() itself: fine until a gradient
# overflows, which it then applies to the weights.
def train_step(model, optimizer, scaler, images, labels, max_norm=1.0):
    """One float16 mixed-precision step with loss scaling and gradient clipping; returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    with torch.amp.autocast(device_type=images.device.type, dtype=torch.float16):
        loss = F.cross_entropy(model(images), labels)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    scaler.update()
    return loss.item()
