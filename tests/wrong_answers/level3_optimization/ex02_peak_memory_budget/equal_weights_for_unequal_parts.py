# cell: train_step_answer
# fails: memory_same_update_hidden, memory_under_budget_hidden
# Micro-batches of 512, each part's mean loss divided by the number of parts. Exact when every part
# has 512 samples (2048, 4096); a batch of 1000 splits into 512 + 488, and the smaller part then
# counts as much as the larger one.
def train_step(model, optimizer, images, labels):
    """One SGD step on the whole batch within the memory budget; returns the batch's mean loss."""
    optimizer.zero_grad()
    parts = list(zip(images.split(512), labels.split(512)))
    total = 0.0
    for x, y in parts:
        loss = F.cross_entropy(model(x), y) / len(parts)
        loss.backward()
        total += loss.detach()
    optimizer.step()
    return total
