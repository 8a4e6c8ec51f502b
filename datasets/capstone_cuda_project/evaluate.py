"""Accuracy of a trained DigitCNN on the test split."""
import torch

from data import load, preprocess
from model import DigitCNN


def accuracy(model, device="cuda"):
    images, labels = load("test")
    x = torch.from_numpy(preprocess(images)).to(device)
    with torch.no_grad():
        pred = model(x).argmax(dim=1).cpu()
    return (pred == torch.from_numpy(labels)).float().mean().item()


if __name__ == "__main__":
    model = DigitCNN().cuda()
    model.load_state_dict(torch.load("digitcnn.pt", map_location="cuda:0"))
    print(f"test accuracy {accuracy(model.eval()):.3f}")
