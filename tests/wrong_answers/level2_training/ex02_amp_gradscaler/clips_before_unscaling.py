# cell: train_step_answer
# fails: amp_step_visible, amp_step_hidden
# Clips the gradients while they are still multiplied by the loss scale: max_norm then cuts them
# down to almost nothing once the scaler divides them.
def train_step(model, optimizer, scaler, images, labels, max_norm=1.0):
    """One float16 mixed-precision step with loss scaling and gradient clipping; returns the loss."""
    optimizer.zero_grad(set_to_none=True)
    with torch.amp.autocast(device_type=images.device.type, dtype=torch.float16):
        loss = F.cross_entropy(model(images), labels)
    scaler.scale(loss).backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()
