"""Train DigitCNN on the GPU."""
import torch
import torch.nn.functional as F

from data import load, preprocess
from model import DigitCNN

device = torch.device("cuda:0")
torch.backends.cudnn.benchmark = True
torch.manual_seed(0)
torch.cuda.manual_seed(0)


def main(epochs=4):
    images, labels = load("train")
    x = torch.from_numpy(preprocess(images))
    y = torch.from_numpy(labels)
    model = DigitCNN().cuda()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    scaler = torch.cuda.amp.GradScaler()
    for epoch in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            xb, yb = x[idx].cuda(non_blocking=True), y[idx].cuda(non_blocking=True)
            opt.zero_grad()
            with torch.cuda.amp.autocast():
                loss = F.cross_entropy(model(xb), yb)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        torch.cuda.synchronize()
        print(f"epoch {epoch}: loss {loss.item():.3f}, memory {torch.cuda.max_memory_allocated() / 2**20:.1f} MiB")
    torch.save(model.state_dict(), "digitcnn.pt")
    return model


if __name__ == "__main__":
    main()
