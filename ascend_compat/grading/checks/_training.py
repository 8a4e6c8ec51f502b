"""What the Level 2 (training) checks share: the digits data, and probes that watch training.

* :func:`digits` - scikit-learn's handwritten digits as the course ships them
  (:func:`ascend_compat.zoo.digit_images`, 8x8 pixels, the fixed train/test split), as float32
  tensors on the CPU, the same in every test and every notebook;
* :class:`OptimizerSteps` - records, for every ``optimizer.step()`` in a block, which devices the
  parameters and gradients were on. A model trains on the NPU only if its optimizer updates
  parameters that live there; asking the optimizer (not the learner's variables) cannot be fooled;
* :func:`accuracy` - top-1 accuracy of a classifier, computed on the device it lives on.

Everything uses public PyTorch APIs only (global optimizer hooks, ``torch.no_grad``), so the same
tests are valid on a real Ascend machine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch

IMAGE_SIZE = 8  # the digits' own resolution: small enough to train in seconds on a simulated NPU


@functools.lru_cache(maxsize=None)
def _digits_cpu(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    from ascend_compat import zoo

    images, labels = zoo.digit_images(split, size=IMAGE_SIZE)
    return torch.from_numpy(zoo.preprocess(images)), torch.from_numpy(labels)


def digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)``: float32 ``(N, 3, 8, 8)`` normalised to -1..1 and int64 ``(N,)``, on the CPU.

    Fresh copies each call, so a caller that changes them in place changes nothing for the next.
    """
    images, labels = _digits_cpu(split)
    return images.clone(), labels.clone()


@dataclass
class OptimizerSteps:
    """``with OptimizerSteps() as steps: train()`` - what every optimizer step updated, and where.

    ``steps.count`` is the number of ``optimizer.step()`` calls; ``steps.parameter_devices`` and
    ``steps.gradient_devices`` are the devices (``"npu:0"``, ``"cpu"``) seen over all of them.
    """

    count: int = 0
    parameter_devices: set = field(default_factory=set)
    gradient_devices: set = field(default_factory=set)
    _handle: object = None

    def _before_step(self, optimizer, args, kwargs) -> None:
        self.count += 1
        for group in optimizer.param_groups:
            for param in group["params"]:
                self.parameter_devices.add(str(param.device))
                if param.grad is not None:
                    self.gradient_devices.add(str(param.grad.device))

    @property
    def device_types(self) -> set:
        return {device.split(":")[0] for device in self.parameter_devices}

    def __enter__(self) -> "OptimizerSteps":
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        self._handle = register_optimizer_step_pre_hook(self._before_step)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()


def first_parameter_device(model: torch.nn.Module) -> torch.device:
    for param in model.parameters():
        return param.device
    return torch.device("cpu")


def accuracy(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 256) -> float:
    """Top-1 accuracy of ``model`` on ``images``, computed where the model lives, in eval mode."""
    device = first_parameter_device(model)
    was_training = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            logits = model(images[start:start + batch_size].to(device))
            correct += (logits.argmax(dim=1).cpu() == labels[start:start + batch_size]).sum().item()
    model.train(was_training)
    return correct / len(images)
