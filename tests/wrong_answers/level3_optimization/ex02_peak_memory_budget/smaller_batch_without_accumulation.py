# cell: train_step_answer
# fails: memory_same_update_visible, memory_same_update_hidden, memory_under_budget_visible, memory_under_budget_hidden
# Train on the first 512 samples of each batch: it fits, and it trains a different model (the other
# samples' gradients never arrive). Its peak is fine; its update is not the baseline's.
def train_step(model, optimizer, images, labels):
    """One SGD step on the whole batch within the memory budget; returns the batch's mean loss."""
    optimizer.zero_grad()
    images, labels = images[:512], labels[:512]
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.detach()
