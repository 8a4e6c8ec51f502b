"""``torch_npu.optim`` on the simulated NPU, and torch_npu's optimizer defaults.

What the real torch_npu does (Ascend/pytorch, ``torch_npu/optim/`` and ``torch_npu/utils/``), and so
what the simulator does:

* **Fused optimizers by tensor fusion.** ``NpuFusedAdam``, ``NpuFusedAdamW`` and ``NpuFusedSGD`` do not
  call one magic kernel. On their first ``step()`` they *combine* every parameter of one dtype
  (float32 or float16) into one contiguous device buffer, and re-point each parameter at its slice
  (``torch_npu.utils.npu_combine_tensors``); gradients and optimizer states get the same treatment.
  From then on a step is a handful of element-wise kernels over the combined buffers, however many
  parameters the model has. The price: parameters and gradients must keep living in those buffers,
  so ``zero_grad(set_to_none=True)`` is refused, and replacing a parameter or a gradient (``.cpu()``,
  ``model.zero_grad()`` which sets gradients to None) breaks the optimizer — on hardware silently,
  here with an error that says so.
* **foreach by default on Atlas A2/A3.** torch_npu patches PyTorch's list of devices with foreach
  kernels so that ``torch.optim.Adam(...)`` defaults to ``foreach=True`` on Ascend910B*/Ascend910_93*
  and to the per-parameter loop elsewhere (``torch_npu/utils/_optim.py``); op-plugin has no foreach
  fast path on older SoCs (see :mod:`.costmodel`).
* ``torch.optim.AdamW(fused=True)`` and ``SGD(fused=True)`` reach op-plugin's ``_fused_adamw_`` and
  ``_fused_sgd_`` kernels; ``Adam(fused=True)`` needs ``_fused_adam_``, which op-plugin does not
  implement, so it falls back to the CPU (that needs nothing here: :mod:`.op_policy` does it).

The update formulas are the standard ones (Kingma & Ba for Adam, Loshchilov & Hutter for AdamW,
PyTorch's SGD with momentum); results match ``torch.optim`` to float rounding.
"""

from __future__ import annotations

import math

import torch
from torch.optim.optimizer import Optimizer

_FUSED_DTYPES = (torch.float32, torch.float16)


class NpuFusedOptimizerBase(Optimizer):
    """Tensor fusion shared by the fused optimizers: combined buffers per dtype, then ``_group_step``."""

    _state_names: tuple[str, ...] = ()

    def __init__(self, params, defaults):
        super().__init__(params, defaults)
        self.is_fused_optimizer = True
        self._combined: list[dict] | None = None   # per group: {dtype: {"param", "grad", states..., "ptrs"}}

    # -- combining ----------------------------------------------------------------------------
    @staticmethod
    def _slices(buffer: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
        out, offset = [], 0
        for t in like:
            out.append(buffer[offset:offset + t.numel()].view_as(t))
            offset += t.numel()
        return out

    @classmethod
    def _combine(cls, tensors: list[torch.Tensor]) -> torch.Tensor:
        """One device buffer holding ``tensors`` end to end; each tensor now lives in its slice."""
        first = tensors[0]
        buffer = torch.empty(sum(t.numel() for t in tensors), dtype=first.dtype, device=first.device)
        for t, view in zip(tensors, cls._slices(buffer, tensors)):
            view.copy_(t.detach())
            t.data = view
        return buffer

    def _maybe_combine(self) -> None:
        if self._combined is not None:
            return
        combined = []
        for group in self.param_groups:
            by_dtype: dict = {}
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.dtype not in _FUSED_DTYPES:
                    raise TypeError(f"Fused optimizer's parameters must be either float32 or float16, but received {p.dtype}")
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                by_dtype.setdefault(p.dtype, []).append(p)
            group_buffers = {}
            for dtype, params in by_dtype.items():
                entry = {"params": params, "param": self._combine(params), "grad": self._combine([p.grad for p in params])}
                for name in self._state_names:
                    entry[name] = entry["param"].new_zeros(entry["param"].shape)
                    for p, state in zip(params, self._slices(entry[name], params)):
                        self.state[p][name] = state
                for p in params:
                    self.state[p]["step"] = 0
                entry["step"] = 0
                entry["ptrs"] = [(p._cpu.data_ptr(), p.grad._cpu.data_ptr()) for p in params]
                group_buffers[dtype] = entry
            combined.append(group_buffers)
        if any(combined):
            self._combined = combined

    def _check_still_combined(self, entry) -> None:
        for p, (param_ptr, grad_ptr) in zip(entry["params"], entry["ptrs"]):
            if p.grad is None or p._cpu.data_ptr() != param_ptr or p.grad._cpu.data_ptr() != grad_ptr:
                raise RuntimeError(
                    f"{type(self).__name__}: a parameter or its gradient no longer lives in the optimizer's combined "
                    "buffer (was it moved, replaced, or its .grad set to None — e.g. by model.zero_grad()?). Fused "
                    "optimizers need parameters and gradients to stay where they are: use optimizer.zero_grad() "
                    "(it zeroes the combined buffer), or a torch.optim optimizer. On real hardware this mistake "
                    "gives wrong updates without an error."
                )

    # -- the public interface -------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._maybe_combine()
        if self._combined is None:
            return loss
        for group, buffers in zip(self.param_groups, self._combined):
            for entry in buffers.values():
                self._check_still_combined(entry)
                entry["step"] += 1
                for p in entry["params"]:
                    self.state[p]["step"] = entry["step"]
                self._group_step(group, entry)
        return loss

    @torch.no_grad()
    def zero_grad(self, set_to_none: bool = False):
        if set_to_none:
            raise ValueError("set_to_none is not supported in fused optimizers")
        if self._combined is None:
            super().zero_grad(set_to_none=False)
            return
        for buffers in self._combined:
            for entry in buffers.values():
                entry["grad"].zero_()

    def _group_step(self, group: dict, entry: dict) -> None:
        raise NotImplementedError


def _check_adam_args(lr, betas, eps, weight_decay) -> None:
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class NpuFusedAdam(NpuFusedOptimizerBase):
    """Adam by tensor fusion: ``NpuFusedAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)``."""

    _state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        if amsgrad:
            self._state_names = self._state_names + ("max_exp_avg_sq",)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    def _decay(self, group, entry, grad):
        if group["weight_decay"]:
            grad = grad.add(entry["param"], alpha=group["weight_decay"])  # L2 penalty on the gradient
        return grad

    def _group_step(self, group, entry) -> None:
        beta1, beta2 = group["betas"]
        step = entry["step"]
        param, exp_avg, exp_avg_sq = entry["param"], entry["exp_avg"], entry["exp_avg_sq"]
        grad = self._decay(group, entry, entry["grad"])
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        second = exp_avg_sq
        if group["amsgrad"]:
            torch.maximum(entry["max_exp_avg_sq"], exp_avg_sq, out=entry["max_exp_avg_sq"])
            second = entry["max_exp_avg_sq"]
        denom = (second.sqrt() / math.sqrt(1 - beta2 ** step)).add_(group["eps"])
        param.addcdiv_(exp_avg, denom, value=-group["lr"] / (1 - beta1 ** step))


class NpuFusedAdamW(NpuFusedAdam):
    """AdamW by tensor fusion: decoupled weight decay (default 1e-2), otherwise as :class:`NpuFusedAdam`."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def _decay(self, group, entry, grad):
        if group["weight_decay"]:
            entry["param"].mul_(1 - group["lr"] * group["weight_decay"])
        return grad


class NpuFusedSGD(NpuFusedOptimizerBase):
    """SGD by tensor fusion: ``NpuFusedSGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False)``."""

    def __init__(self, params, lr=None, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        if lr is None or lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if momentum:
            self._state_names = ("momentum_buffer",)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _group_step(self, group, entry) -> None:
        grad = entry["grad"]
        if group["weight_decay"]:
            grad = grad.add(entry["param"], alpha=group["weight_decay"])
        momentum = group["momentum"]
        if momentum:
            buf = entry["momentum_buffer"]
            if entry["step"] == 1:
                buf.copy_(grad)
            else:
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
        entry["param"].add_(grad, alpha=-group["lr"])


# -- torch_npu's optimizer defaults -----------------------------------------------------------------
FOREACH_DEFAULT_SOC_PREFIXES = ("Ascend910B", "Ascend910_93")  # Atlas A2 / A3 (torch_npu/utils/_optim.py)
_PATCHED = {"done": False}


def _foreach_kernels_supported_devices() -> list[str]:
    from ascend_compat.sim.config import CONFIG

    if CONFIG.soc.startswith(FOREACH_DEFAULT_SOC_PREFIXES):
        return ["cuda", "xpu", torch._C._get_privateuse1_backend_name()]
    return ["cuda", "xpu"]


def install_foreach_default() -> None:
    """Make optimizers default to foreach on A2/A3 SoCs, as ``import torch_npu`` does."""
    if _PATCHED["done"]:
        return
    import torch.optim.optimizer as optimizer_module
    from ascend_compat.sim.tensor import NPUTensor

    optimizer_module._get_foreach_kernels_supported_devices = _foreach_kernels_supported_devices
    # Parameters on the simulated device are NPUTensor (a tensor subclass); on hardware they are
    # plain tensors, which PyTorch's foreach check accepts. PyTorch registers DTensor the same way.
    if NPUTensor not in optimizer_module._foreach_supported_types:
        optimizer_module._foreach_supported_types.append(NPUTensor)
    _PATCHED["done"] = True


__all__ = ["NpuFusedOptimizerBase", "NpuFusedAdam", "NpuFusedAdamW", "NpuFusedSGD"]
