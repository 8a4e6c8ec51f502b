"""Mixed precision on the simulated NPU: ``torch.amp.autocast("npu")`` and ``torch.npu.amp``.

PyTorch routes every operator through the ``AutocastPrivateUse1`` dispatch key while
``autocast("npu")`` is active. A real backend registers its cast policy there; this module does the
same from Python for the operators that matter: matrix and convolution operators run in the
autocast dtype (float16 by default, bfloat16 on SoCs that support it), numerically sensitive ones
(softmax, norms, losses, exp/log, ...) in float32, and operators that combine several tensors in
the widest input type. This mirrors torch_npu's policy (itself the CUDA one) closely enough for the
lessons; see ``torch_npu/csrc/aten/autocast_mode.cpp`` in Ascend/pytorch for the real lists.
"""

from __future__ import annotations

import collections
import functools

import torch
from torch.amp import grad_scaler as _grad_scaler

# Run in the lower-precision autocast dtype (the matrix unit's fast path).
LOWER_PRECISION = (
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution", "_convolution", "conv_tbc", "prelu", "addmm", "addmv", "addr", "matmul", "einsum",
    "mm", "mv", "linear", "addbmm", "baddbmm", "bmm", "chain_matmul", "linalg_multi_dot",
    "_thnn_fused_lstm_cell", "_thnn_fused_gru_cell", "lstm_cell", "gru_cell", "rnn_tanh_cell",
    "rnn_relu_cell", "scaled_dot_product_attention",
)
# Run in float32: precision-sensitive.
FLOAT32 = (
    "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p", "reciprocal",
    "rsqrt", "sinh", "tan", "pow", "softplus", "layer_norm", "native_layer_norm", "group_norm",
    "frobenius_norm", "nuclear_norm", "cosine_similarity", "poisson_nll_loss", "cosine_embedding_loss",
    "nll_loss", "nll_loss2d", "hinge_embedding_loss", "kl_div", "l1_loss", "smooth_l1_loss", "huber_loss",
    "mse_loss", "margin_ranking_loss", "multilabel_margin_loss", "soft_margin_loss",
    "triplet_margin_loss", "multi_margin_loss", "binary_cross_entropy_with_logits", "dist", "pdist",
    "cdist", "renorm", "logsumexp", "softmax", "log_softmax", "cross_entropy_loss", "cumsum", "cumprod",
    "prod", "sum", "norm",
)
# Run in the widest floating type among the inputs.
PROMOTE = ("addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "grid_sampler", "index_put",
           "scatter_add", "tensordot", "cat", "stack")

_AUTOCAST_KEYS = torch._C.DispatchKeySet(torch._C.DispatchKey.AutocastPrivateUse1)
_LIBRARY = None


def _is_npu_float(t) -> bool:
    return isinstance(t, torch.Tensor) and t.is_floating_point() and t.device.type == "npu" and t.dtype != torch.float64


def _cast(value, dtype):
    if _is_npu_float(value):
        return value.to(dtype) if value.dtype != dtype else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, dtype) for v in value)
    return value


def _widest(args):
    order = {torch.float16: 0, torch.bfloat16: 0, torch.float32: 1}
    widest = None
    for a in args:
        items = a if isinstance(a, (list, tuple)) else (a,)
        for t in items:
            if _is_npu_float(t) and (widest is None or order.get(t.dtype, 1) > order.get(widest, 1)):
                widest = t.dtype
    return widest


def _kernel(op, policy):
    @functools.wraps(op)
    def autocast_kernel(*args, **kwargs):
        with torch._C._ExcludeDispatchKeyGuard(_AUTOCAST_KEYS):
            if policy == "lower":
                dtype = torch.get_autocast_dtype("npu")
            elif policy == "fp32":
                dtype = torch.float32
            else:
                dtype = _widest(args)
            if dtype is not None:
                args = tuple(_cast(a, dtype) for a in args)
                kwargs = {k: _cast(v, dtype) for k, v in kwargs.items()}
            return op(*args, **kwargs)

    return autocast_kernel


def register_autocast_policy() -> None:
    """Register the cast policy for ``AutocastPrivateUse1`` (once per process)."""
    global _LIBRARY
    if _LIBRARY is not None:
        return
    # Operators without a policy pass straight through (a C++ backend registers the same).
    everything = torch.library.Library("_", "IMPL")
    everything.fallback(torch.library.fallthrough_kernel, "AutocastPrivateUse1")
    lib = torch.library.Library("aten", "IMPL")
    for names, policy in ((LOWER_PRECISION, "lower"), (FLOAT32, "fp32"), (PROMOTE, "promote")):
        for name in names:
            packet = getattr(torch.ops.aten, name, None)
            if packet is None:
                continue
            for overload in packet.overloads():
                op = getattr(packet, overload)
                if any(a.alias_info is not None and a.alias_info.is_write for a in op._schema.arguments):
                    continue  # out= and in-place variants keep their dtype
                qualified = name if overload == "default" else f"{name}.{overload}"
                try:
                    lib.impl(qualified, _kernel(op, policy), "AutocastPrivateUse1")
                except RuntimeError:
                    pass  # already has a kernel there (e.g. registered by PyTorch itself)
    _LIBRARY = (everything, lib)


# -- torch.npu.amp ------------------------------------------------------------------------------
class autocast(torch.amp.autocast):
    """``torch.npu.amp.autocast(...)`` = ``torch.amp.autocast("npu", ...)``."""

    def __init__(self, enabled: bool = True, dtype: torch.dtype = torch.float16, cache_enabled: bool = True):
        super().__init__("npu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(torch.amp.GradScaler):
    """``torch.npu.amp.GradScaler(...)``: ``torch.amp.GradScaler("npu", ...)`` with torch_npu's signature.

    torch_npu adds ``dynamic`` (5th argument): ``dynamic=False`` keeps a *static* loss scale, so
    ``update()`` leaves the scale alone and ``step()`` steps even when a gradient overflowed. Its
    ``state_dict()`` carries ``"dynamic"`` and its ``load_state_dict`` requires it, so a state saved
    here loads on hardware (Ascend/pytorch torch_npu/npu/amp/grad_scaler.py).
    """

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, dynamic: bool = True, enabled: bool = True):
        super().__init__("npu", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)
        self._dynamic = dynamic

    def _static(self) -> bool:
        return self._enabled and not self._dynamic

    def step(self, optimizer, *args, **kwargs):
        if not self._static():
            return super().step(optimizer, *args, **kwargs)
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is _grad_scaler.OptState.READY:
            self.unscale_(optimizer)
        result = optimizer.step(*args, **kwargs)  # static scale: no overflow check, no skipped step
        state["stage"] = _grad_scaler.OptState.STEPPED
        return result

    def update(self, new_scale=None) -> None:
        if self._static() and new_scale is None:
            self._check_scale_growth_tracker("update")
            self._per_optimizer_states = collections.defaultdict(_grad_scaler._refresh_per_optimizer_state)
            return
        super().update(new_scale)

    def state_dict(self):
        state = super().state_dict()
        if self._enabled:
            state["dynamic"] = self._dynamic
        return state

    def load_state_dict(self, state_dict) -> None:
        if not self._enabled:
            return
        super().load_state_dict(state_dict)
        self._dynamic = state_dict["dynamic"]


def custom_fwd(fwd=None, *, cast_inputs=None):
    return torch.amp.custom_fwd(fwd, device_type="npu", cast_inputs=cast_inputs) if fwd else \
        functools.partial(custom_fwd, cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    return torch.amp.custom_bwd(bwd, device_type="npu") if bwd else functools.partial(custom_bwd)
