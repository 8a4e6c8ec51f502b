# cell: train_digits_answer
# fails: port_train_visible, port_train_hidden
# Keeps the original's device line and swaps .cuda() for .to(device): no error anywhere, and on an
# Ascend machine (no CUDA) the default run quietly trains on the CPU.
def train_digits(epochs=6, batch_size=64, lr=0.05, device=None):
    """Train DigitCNN on ``device`` (default: npu > cuda > cpu) and return the trained model."""
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
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
        print(f"epoch {epoch}: loss {loss.item():.3f} on {device}")
    return model
