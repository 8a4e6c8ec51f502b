"""The course's small image classifier, ``DigitNet``, and the data it was trained on.

``DigitNet`` classifies the handwritten digits of scikit-learn's bundled "digits" dataset (a copy of
the UCI ML hand-written digits test set: 1,797 images of 8x8 pixels, 16 grey levels). The images
are shown to the network as 3x32x32 RGB pictures, the shape real vision models take, so the
lessons can use the usual pipeline: uint8 HWC image -> float CHW, normalised -> model.

The trained weights ship in ``datasets/digitnet.pt`` (written by ``scripts/train_classifier.py``;
provenance in ``datasets/README.md``).
"""

from __future__ import annotations

import json
import os

import numpy as np

IMAGE_SIZE = 32
# Normalisation used in training: x = (pixel - MEAN) / STD on 0..255 pixels, every channel.
MEAN = 127.5
STD = 127.5
CLASS_NAMES = [str(i) for i in range(10)]
SPLIT_SEED = 0
TEST_FRACTION = 0.2

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(_REPO, "datasets")
WEIGHTS = os.path.join(DATASETS, "digitnet.pt")
CLASSES_FILE = os.path.join(DATASETS, "digitnet_classes.json")


def _torch_module():
    import torch
    from torch import nn

    class DigitNet(nn.Module):
        """Two conv blocks and two linear layers: about 140k parameters, trains in seconds on a CPU."""

        def __init__(self, num_classes: int = 10):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            )
            self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * 8 * 8, 64), nn.ReLU(), nn.Linear(64, num_classes))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.classifier(self.features(x))

    return DigitNet


def __getattr__(name: str):
    # ``from ascend_compat.zoo import DigitNet`` works, but torch is imported only when needed.
    if name == "DigitNet":
        return _torch_module()
    raise AttributeError(name)


def digit_images(split: str = "test", size: int = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The digits as uint8 RGB images ``(N, size, size, 3)`` and their labels ``(N,)``.

    8x8 images with values 0..16 are scaled to 0..255 and enlarged with bilinear interpolation
    (Pillow), then the grey level is copied to the three channels. ``split`` is "train", "test" or
    "all"; the split is fixed (seeded) so every run and every learner sees the same images.
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(images))
    n_test = int(round(len(images) * TEST_FRACTION))
    pick = {"test": order[:n_test], "train": order[n_test:], "all": np.arange(len(images))}
    if split not in pick:
        raise ValueError(f"split must be 'train', 'test' or 'all', not {split!r}")
    idx = pick[split]
    big = np.stack([np.asarray(Image.fromarray(images[i]).resize((size, size), Image.BILINEAR)) for i in idx])
    return np.repeat(big[..., None], 3, axis=-1), digits.target[idx].astype(np.int64)


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC (or one HWC) images -> float32 NCHW, normalised the way DigitNet was trained."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    return ((x - MEAN) / STD).transpose(0, 3, 1, 2).copy()


def load_digitnet(weights: str = WEIGHTS):
    """DigitNet with the trained weights from ``datasets/``, in eval mode, on the CPU."""
    import torch

    if not os.path.exists(weights):
        from ascend_compat.errors import UserError

        raise UserError(f"{weights} is missing; run `python scripts/train_classifier.py` to create it")
    model = _torch_module()()
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


def class_names() -> list[str]:
    if os.path.exists(CLASSES_FILE):
        with open(CLASSES_FILE, encoding="utf-8") as handle:
            return json.load(handle)["classes"]
    return list(CLASS_NAMES)


def export_onnx(path: str, batch: int | None = 1, opset: int = 17) -> str:
    """Export the trained DigitNet to ONNX (input ``input``, output ``output``).

    ``batch=None`` makes the batch dimension dynamic (named ``batch``).
    """
    import torch

    model = load_digitnet()
    example = torch.zeros(batch or 1, 3, IMAGE_SIZE, IMAGE_SIZE)
    dynamic = {"input": {0: "batch"}, "output": {0: "batch"}} if batch is None else None
    import warnings

    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but quick and deterministic for a small CNN.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(model, example, path, input_names=["input"], output_names=["output"],
                          opset_version=opset, dynamic_axes=dynamic, dynamo=False)
    return path
