"""Train DigitNet (ascend_compat.zoo) on scikit-learn's digits and write its weights to datasets/.

Reproducible: fixed seeds, CPU only, deterministic algorithms, one thread; runs in well under a
minute on 2 CPU cores. Usage: ``python scripts/train_classifier.py [--epochs 12]``.
Writes ``datasets/digitnet.pt`` (state_dict) and ``datasets/digitnet_classes.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time

import numpy as np
import torch

from ascend_compat import zoo


def _atomic_save(obj, path: str, as_json: bool = False) -> None:
    handle, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".part")
    os.close(handle)
    try:
        if as_json:
            with open(tmp, "w", encoding="utf-8") as out:
                json.dump(obj, out, indent=2)
                out.write("\n")
        else:
            # torch.save names the archive after the file, so save to memory first: the
            # bytes then do not depend on the temporary name and runs are byte-identical.
            buffer = io.BytesIO()
            torch.save(obj, buffer)
            with open(tmp, "wb") as out:
                out.write(buffer.getvalue())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=zoo.WEIGHTS)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    started = time.perf_counter()

    train_x, train_y = zoo.digit_images("train")
    test_x, test_y = zoo.digit_images("test")
    xt, yt = torch.from_numpy(zoo.preprocess(train_x)), torch.from_numpy(train_y)
    xv, yv = torch.from_numpy(zoo.preprocess(test_x)), torch.from_numpy(test_y)

    model = zoo.DigitNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=generator)
        total = 0.0
        for start in range(0, len(xt), 64):
            idx = order[start:start + 64]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            accuracy = float((model(xv).argmax(1) == yv).float().mean())
        print(f"epoch {epoch + 1:2d}  loss {total / len(xt):.4f}  test accuracy {accuracy:.4f}")

    _atomic_save(model.state_dict(), args.out)
    _atomic_save({"classes": zoo.CLASS_NAMES, "mean": zoo.MEAN, "std": zoo.STD, "image_size": zoo.IMAGE_SIZE,
                  "test_accuracy": round(accuracy, 4), "epochs": args.epochs, "seed": args.seed},
                 os.path.join(os.path.dirname(args.out), "digitnet_classes.json"), as_json=True)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
