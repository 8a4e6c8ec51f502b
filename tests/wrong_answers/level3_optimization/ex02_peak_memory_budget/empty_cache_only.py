# cell: train_step_answer
# fails: memory_under_budget_visible, memory_under_budget_hidden
# The first answer a search engine gives for "NPU out of memory": empty the cache. It returns cached,
# unused blocks to the device; the live activations at the peak stay exactly where they were.
def train_step(model, optimizer, images, labels):
    """One SGD step on the whole batch within the memory budget; returns the batch's mean loss."""
    optimizer.zero_grad(set_to_none=False)
    torch.npu.empty_cache()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    torch.npu.empty_cache()
    return loss.detach()
