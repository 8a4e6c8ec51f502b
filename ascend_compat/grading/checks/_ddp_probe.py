"""Run a learner's DDP training script under ``torchrun`` and record what every rank really did.

``torchrun ... -m ascend_compat.grading.checks._ddp_probe SCRIPT OUT`` starts this module in each
process; it installs a few observers and then runs ``SCRIPT`` as ``__main__``, unchanged. The
observers only watch (public PyTorch classes, wrapped):

* ``DistributedDataParallel.__init__`` - the backend of the process group, the process's current
  device and where the wrapped model's parameters are, when DDP is built;
* its forward pre-hook - how many samples went through the model while it was training;
* ``DistributedSampler.__iter__`` - the dataset indices this rank drew, epoch by epoch;
* ``DataLoader.__iter__`` - which sampler fed each loader.

At exit each rank writes ``OUT/rank<N>.json`` (the record) and ``OUT/rank<N>.pt`` (the final
weights of its DDP model, on the CPU). :func:`ascend_compat.grading.checks.ex03_ddp_port.run_ddp`
reads them. Nothing here is simulator-specific, so the same probe grades a run on real NPUs.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import traceback


def _current_device():
    import torch

    if hasattr(torch, "npu"):
        try:
            return f"npu:{torch.npu.current_device()}"
        except Exception:  # noqa: BLE001 - a broken device is the learner's error, reported elsewhere
            return None
    return None


def _backend() -> str | None:
    import torch.distributed as dist

    if not dist.is_initialized():
        return None
    try:
        # "hccl" when named; per device ("npu:hccl") for init_process_group() without a backend
        return str(dist.get_backend_config())
    except Exception:  # noqa: BLE001
        return None


def _install(record: dict, models: list) -> None:
    import torch
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    ddp_init = DistributedDataParallel.__init__

    def observed_init(self, module, *args, **kwargs):
        ddp_init(self, module, *args, **kwargs)
        record["ddp"].append({
            "backend": _backend(),
            "current_device": _current_device(),
            "parameter_devices": sorted({str(p.device) for p in module.parameters()}),
        })
        models.append((self, {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}))
        self.register_forward_pre_hook(count_samples)

    def count_samples(module, inputs):
        if module.training and inputs and isinstance(inputs[0], torch.Tensor):
            record["samples_trained"] += int(inputs[0].shape[0])

    sampler_iter = DistributedSampler.__iter__

    def observed_sampler_iter(self):
        indices = [int(i) for i in sampler_iter(self)]
        record["sampler_epochs"].append({"dataset_size": len(self.dataset), "indices": indices})
        return iter(indices)

    loader_iter = DataLoader.__iter__

    def observed_loader_iter(self):
        try:
            size = len(self.dataset)
        except TypeError:  # an IterableDataset has no length
            size = None
        record["loaders"].append({"sampler": type(self.sampler).__name__, "dataset_size": size})
        return loader_iter(self)

    DistributedDataParallel.__init__ = observed_init
    DistributedSampler.__iter__ = observed_sampler_iter
    DataLoader.__iter__ = observed_loader_iter


def _write(out: str, rank: int, record: dict, models: list) -> None:
    import torch

    if models:
        ddp, initial = models[-1]
        final = {k: v.detach().cpu().clone() for k, v in ddp.module.state_dict().items()}
        record["weights_changed"] = any(not torch.equal(final[k], initial[k]) for k in final if k in initial)
        torch.save(final, os.path.join(out, f"rank{rank}.pt"))
    with open(os.path.join(out, f"rank{rank}.json"), "w", encoding="utf-8") as handle:
        json.dump(record, handle)


def main(argv: list[str]) -> int:
    script, out = argv
    rank = int(os.environ.get("RANK", "0"))
    record = {"rank": rank, "local_rank": int(os.environ.get("LOCAL_RANK", "0")), "ddp": [],
              "sampler_epochs": [], "loaders": [], "samples_trained": 0, "weights_changed": None, "error": None}
    models: list = []
    import ascend_compat  # noqa: F401  (the npu device, as the learner's script will import it too)

    _install(record, models)
    sys.argv = [script]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            record["error"] = f"the script called sys.exit({exc.code!r})"
            raise
    except BaseException as exc:
        lines = traceback.format_exception_only(type(exc), exc)
        record["error"] = lines[-1].strip()[:2000]
        raise
    finally:
        _write(out, rank, record, models)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
