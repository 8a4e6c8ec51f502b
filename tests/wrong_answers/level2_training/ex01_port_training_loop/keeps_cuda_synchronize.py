# cell: train_digits_answer
# fails: port_train_visible, port_train_hidden, port_train_device_visible, port_train_device_hidden
# Devices ported, but the epoch-end torch.cuda.synchronize() survived: it raises on any machine
# without an NVIDIA GPU, whatever device the training used.
def train_digits(epochs=6, batch_size=64, lr=0.05, device=None):
    """Train DigitCNN on ``device`` (default: npu > cuda > cpu) and return the trained model."""
    if device is None:
        if hasattr(torch, "npu") and torch.npu.is_available():
            device = "npu"
        elif torch.cuda.is_available():
            device = "cuda"
        else:
            device = "cpu"
    device = torch.device(device)
    torch.manual_seed(0)
    loader = DataLoader(TRAIN_SET, batch_size=batch_size, shuffle=True, pin_memory=True)
    model = DigitCNN().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for epoch in range(epochs):
        model.train()
        for images, labels in loader:
            images = images.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
        torch.cuda.synchronize()
        print(f"epoch {epoch}: loss {loss.item():.3f} on {device}")
    return model
