import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

MEAN, STD = 127.5, 127.5


def load(split):
    """uint8 RGB images (N, 32, 32, 3) and labels; a fixed 80/20 split."""
    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    order = np.random.default_rng(0).permutation(len(images))
    n_test = int(round(len(images) * 0.2))
    idx = order[:n_test] if split == "test" else order[n_test:]
    big = np.stack([np.asarray(Image.fromarray(images[i]).resize((32, 32), Image.BILINEAR)) for i in idx])
    return np.repeat(big[..., None], 3, axis=-1), digits.target[idx]


def preprocess(images):
    x = (images - MEAN) / STD               # NumPy: float64
    return x.transpose(0, 3, 1, 2)
