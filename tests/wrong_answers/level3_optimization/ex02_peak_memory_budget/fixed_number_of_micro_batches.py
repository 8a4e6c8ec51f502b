# cell: train_step_answer
# fails: memory_under_budget_visible, memory_under_budget_hidden
# Correct accumulation over two halves of the batch: the same update, and it fits a batch of 2048 -
# but each half of a 4096 batch is as large as a whole 2048 batch was.
def train_step(model, optimizer, images, labels):
    """One SGD step on the whole batch within the memory budget; returns the batch's mean loss."""
    optimizer.zero_grad()
    total = 0.0
    for x, y in zip(images.chunk(2), labels.chunk(2)):
        loss = F.cross_entropy(model(x), y) * (len(x) / len(images))
        loss.backward()
        total += loss.detach()
    optimizer.step()
    return total
