# cell: train_digits_answer
# fails: port_train_device_visible, port_train_device_hidden
# Every .cuda() became .npu(): trains on the NPU by default, but ignores the device it is given.
def train_digits(epochs=6, batch_size=64, lr=0.05, device=None):
    """Train DigitCNN on ``device`` (default: npu > cuda > cpu) and return the trained model."""
    torch.manual_seed(0)
    loader = DataLoader(TRAIN_SET, batch_size=batch_size, shuffle=True, pin_memory=True)
    model = DigitCNN().npu()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            images = images.npu(non_blocking=True)
            labels = labels.npu(non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
        torch.npu.synchronize()
        print(f"epoch {epoch}: loss {loss.item():.3f}, peak memory {torch.npu.max_memory_allocated() / 2**20:.1f} MiB")
    return model
