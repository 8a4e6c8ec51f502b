"""What the simulated NPU allows an operator to do, decided once per operator overload.

* **Operator coverage.** The real NPU runs an aten operator only if torch_npu implements it
  (the list in Ascend/op-plugin, see :mod:`ascend_compat.op_support`). Anything else falls back
  to the CPU: slow (a host round trip) and worth knowing about. The simulator computes everything
  on the CPU anyway, so here "fallback" means: warn once, count it, and charge the round trip.
* **float64.** Ascend AI Cores compute in float16/bfloat16/float32 (and integers for some ops);
  matrix, convolution and normalisation kernels have no float64 (DT_DOUBLE) implementation.
  Creating or copying float64 tensors works; computing with them in those kernels fails — the
  first error most ports meet.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import torch

from ascend_compat.op_support import FRAMEWORK_OPS
from ascend_compat.sim.config import CONFIG

# Runtime bookkeeping with nothing to compute on a simulated device (one stream pool, no reuse).
NO_OP = frozenset({"record_stream"})

# No float64 (DT_DOUBLE) in these kernels on the NPU. Checked one by one (Ascend/op-plugin
# 517f2e7d, op_plugin/config/op_plugin_functions.yaml and op_plugin/ops/opapi/*.cpp for the aclnn
# kernel each operator runs; the kernels' dtype tables in hicann/ops-nn e5c3fa93, hicann/ops-math
# and hicann/ops-cv, <op>/docs/aclnn<Kernel>.md). Only the tensor inputs count: a DOUBLE listed for
# the alpha/beta scalars of aclnnAddmm/aclnnBaddbmm/aclnnAddbmm does not make them float64 kernels.
FLOAT64_UNSUPPORTED = frozenset({
    # aclnnMm / aclnnAddmm / aclnnBatchMatMul / aclnnBaddbmm / aclnnAddbmm / aclnnMatmul (ops-nn matmul/):
    # BFLOAT16, FLOAT16, FLOAT32; aclnnDot (ops-math math/dot, also vdot's): no DOUBLE; aclnnMv: no DOUBLE.
    # linear and _addmm_activation run aclnnAddmm/aclnnMm (LinearKernelNpuOpApi.cpp, AddmmActivationOutKernelNpuOpApi.cpp).
    "mm", "addmm", "bmm", "baddbmm", "addbmm", "dot", "vdot", "mv", "matmul", "linear", "_addmm_activation",
    # aclnnConvolution / aclnnConvolutionBackward (ops-nn conv/): FLOAT, FLOAT16, BFLOAT16, HIFLOAT8
    "convolution", "convolution_backward", "_convolution",
    # aclnnBatchNorm(Backward) / aclnnLayerNorm(Backward) / aclnnGroupNorm(Backward) (ops-nn norm/):
    # FLOAT32, FLOAT16, BFLOAT16; the _native_batch_norm_legit* variants reach aclnnBatchNorm
    # (BatchNormKernelOpApi.cpp)
    "native_batch_norm", "native_batch_norm_backward", "_native_batch_norm_legit",
    "_native_batch_norm_legit_no_training", "_native_batch_norm_legit_functional", "native_layer_norm",
    "native_layer_norm_backward", "native_group_norm", "native_group_norm_backward",
    # aclnnSoftmax/aclnnLogSoftmax take DOUBLE (forward); aclnnSoftmaxBackward/aclnnLogSoftmaxBackward do not
    "_softmax_backward_data", "_log_softmax_backward_data",
    # aclnnMaxPool2dWithIndices/WithMask(Backward), aclnnAvgPool2d(Backward), aclnnAdaptiveAvgPool2d(Backward)
    # (ops-nn pooling/): FLOAT32, FLOAT16, BFLOAT16
    "max_pool2d_with_indices", "max_pool2d_with_indices_backward", "avg_pool2d", "avg_pool2d_backward",
    "_adaptive_avg_pool2d", "_adaptive_avg_pool2d_backward",
    # aclnnUpsampleBilinear2d lists DOUBLE (NHWC only), but op-plugin refuses it before the kernel:
    # UpsampleBilinear2dKernelNpuOpApi.cpp "upsample_binlinear_2d not support torch.fp64 dtypes"
    "upsample_bilinear2d",
    # aclnnApplyAdamWV2 (ops-nn optim/apply_adam_w_v2, FusedAdamWKernelNpuOpApi.cpp): FLOAT16, BFLOAT16, FLOAT32
    "_fused_adamw_",
    # Removed after checking, as they do take float64 on the NPU: addmv (aclnnAddmv lists DOUBLE and
    # integers), addr (aclnnAddr), upsample_nearest2d (aclnnUpsampleNearest2dV2), grid_sampler_2d
    # (aclnnGridSampler2D). Not NPU kernels at all, so not listed: cudnn_convolution and the CUDA
    # attention kernels _scaled_dot_product_flash/efficient_attention (torch_npu's own
    # scaled_dot_product_attention runs npu_fusion_attention or the math path, whose bmm refuses
    # float64), and _fused_adam_, which is not in op-plugin's list and falls back to the CPU.
})
# The matrix unit refuses integer inputs too, except those a kernel lists (aclnnDot: INT8, INT32, UINT8).
MATRIX_OPS = frozenset({"mm", "addmm", "bmm", "baddbmm", "addbmm", "mv", "matmul", "dot", "vdot", "linear"})
MATRIX_INTEGERS = {"dot": frozenset({torch.int8, torch.int32, torch.uint8}),
                   "vdot": frozenset({torch.int8, torch.int32, torch.uint8})}

# Matrix and convolution operators in float16 and bfloat16: the NPU's cube unit multiplies 16-bit
# inputs and accumulates in float32, then rounds the result to 16 bits. Host CPUs without 16-bit
# matrix instructions (AVX2-only x86, for one) run PyTorch's 16-bit GEMMs 10-100x slower than
# float32, so the simulator computes what the cube computes: float32 arithmetic on the 16-bit
# values, one rounding at the end (dispatch._via_float32). The same numbers on every host.
HALF_VIA_FLOAT32 = frozenset({"mm", "addmm", "bmm", "baddbmm", "convolution", "convolution_backward"})

# What the non-tensor arguments of aten operators mostly are; aten lists are homogeneous, so an
# int[]/float[] argument is recognised by its first item and passed on without a look inside.
PLAIN = frozenset({int, float, bool})

# Operators that legitimately take tensors from two devices.
CROSS_DEVICE_OPS = frozenset({"copy_", "_to_copy", "_copy_from", "_copy_from_and_resize", "set_",
                              "index", "index_put_", "index_put", "_index_put_impl_", "_foreach_copy_"})


class NPUFallbackWarning(UserWarning):
    """An operator is missing on the NPU and ran on the CPU instead."""


class NPUUnsupportedError(RuntimeError):
    """The NPU cannot run this operator with these inputs (and the lab is set to say so)."""


@dataclass(frozen=True)
class OpInfo:
    op: object
    name: str            # "mm"  (the overload packet)
    overload: str        # "aten::mm" / "aten::add.Tensor"
    supported: bool      # on the NPU operator list (or a framework op)
    cross_device: bool
    float64_sensitive: bool
    host_to_device: bool
    takes_generator: bool  # random operators: draw from the NPU's own generator
    collective: bool       # c10d (torch.distributed) operators
    no_op: bool            # nothing to do on the simulator
    special: bool          # not computed like the others (no_op, collective, a shallow-copy query)
    checked: bool          # check() has something to look at (float64 kernels, missing operators)
    single_view: bool      # a view of its one tensor argument (t, view, detach, split): metadata only
    returns_alias: bool    # may return one of its arguments (in-place, out=, views): see dispatch.torch_dispatch
    call: object           # what computes it: the C++ entry point behind ``op`` (one Python frame less)
    launches: int          # costmodel.launch_kind(): no kernel (views, allocations), one, or some
    plain: bool            # one kernel, computed as it is: nothing to decide per call but the device
                           # and the dtypes (dispatch._run_plain)
    dtype_rules: bool      # has float64/integer/16-bit rules: plain only when its inputs are float32
    half_via_float32: bool  # in HALF_VIA_FLOAT32
    foreach: bool          # a supported _foreach_* operator on tensor lists (dispatch._run_foreach)
    heavy: bool            # costmodel.HEAVY: FLOPs counted by formula (matmul, convolution)


# id(OpOverload) -> OpInfo. Keyed by id: OpOverload's __hash__ is Python code, and operator
# overloads live as long as the process (each OpInfo also holds its operator).
_INFO: dict = {}
_FALLBACK_COUNTS: Counter = Counter()
_WARNED: set = set()


def _npu_implements(name: str, overload: str) -> bool:
    from ascend_compat import op_support

    return op_support.is_supported(overload) or op_support.is_supported(name)


def _decomposed_by_pytorch(name: str, overload: str) -> bool:
    """The simulator sees operators *before* PyTorch decomposes composite ones (``zeros_like`` ->
    ``empty_like`` + ``zero_``); on a real NPU those never reach the device as themselves."""
    qualified = f"{name}.{overload}" if overload else name
    return any(torch._C._dispatch_has_kernel_for_dispatch_key(qualified, key)
               for key in ("CompositeExplicitAutograd", "CompositeImplicitAutograd",
                           "CompositeExplicitAutogradNonFunctional"))


def info(func) -> OpInfo:
    found = _INFO.get(id(func))
    if found is None:
        from ascend_compat.sim import costmodel, random

        name = func._overloadpacket.__name__
        schema = func._schema
        overload = schema.name + (f".{schema.overload_name}" if schema.overload_name else "")
        namespace = schema.name.split("::")[0]
        supported = (
            namespace != "aten"
            or name in FRAMEWORK_OPS
            or func.is_view
            or _npu_implements(name, overload)
            or _decomposed_by_pytorch(schema.name, schema.overload_name)
        )
        special = name in NO_OP or namespace == "c10d" or name == "_has_compatible_shallow_copy_type"
        single_view = _is_true_view(func, name, namespace) and _one_tensor_first(schema)
        takes_generator = any(a.name == "generator" for a in schema.arguments)
        cross_device = name in CROSS_DEVICE_OPS
        launches = costmodel.launch_kind(func)
        found = _INFO[id(func)] = OpInfo(
            op=func,
            name=name,
            overload=overload,
            supported=supported,
            cross_device=cross_device,
            float64_sensitive=name in FLOAT64_UNSUPPORTED,
            host_to_device=name in ("_to_copy", "copy_", "_copy_from", "lift_fresh", "lift"),
            takes_generator=takes_generator,
            collective=namespace == "c10d",
            no_op=name in NO_OP,
            special=special,
            checked=name in FLOAT64_UNSUPPORTED or not supported,
            single_view=single_view,
            returns_alias=namespace != "aten" or any(r.alias_info is not None for r in schema.returns),
            # OpOverload.__call__ only adds a Python frame in front of ._op, except for operators with a
            # Python dispatcher object of their own
            call=func._op if getattr(func, "_pyobj_dispatcher", None) is None else func,
            launches=launches,
            plain=(namespace == "aten" and supported and launches == costmodel.ONE_KERNEL and not special
                   and not single_view and not takes_generator and not cross_device
                   and name not in random.DRAWS_FROM_DEFAULT_GENERATOR),
            dtype_rules=name in FLOAT64_UNSUPPORTED or name in MATRIX_OPS or name in HALF_VIA_FLOAT32,
            half_via_float32=name in HALF_VIA_FLOAT32,
            foreach=(namespace == "aten" and supported and name.startswith("_foreach_") and not cross_device
                     and name not in FLOAT64_UNSUPPORTED and not takes_generator),
            heavy=name in costmodel.HEAVY,
        )
    return found


def _is_true_view(func, name: str, namespace: str) -> bool:
    """Always a view of its input (``t``, ``view``, ``detach``, ``split``), not an operator that only
    *may* return its input (``to``, ``reshape``, ``contiguous`` copy when they must). PyTorch's
    functionalization gives every true view a ``<name>_copy`` twin; the others have none."""
    return (func.is_view and namespace == "aten" and name != "lift_fresh"
            and hasattr(torch.ops.aten, name + "_copy"))


def _one_tensor_first(schema) -> bool:
    """The schema's only tensor argument is its first (``self``), a plain ``Tensor``."""
    tensors = [a for a in schema.arguments if "Tensor" in str(a.type)]
    return len(tensors) == 1 and schema.arguments and schema.arguments[0] is tensors[0] \
        and str(tensors[0].type) == "Tensor"


_DOUBLE = frozenset({torch.float64, torch.complex128})


def _dtypes(args, kwargs) -> list:
    """The dtypes of the tensor arguments (one level into lists) and of a ``dtype=`` argument."""
    dtypes = []
    for a in args:
        if isinstance(a, torch.Tensor):
            dtypes.append(a.dtype)
        elif type(a) in (list, tuple) and a and type(a[0]) not in PLAIN:
            dtypes += [x.dtype for x in a if isinstance(x, torch.Tensor)]
    dtype = kwargs.get("dtype")
    if dtype is not None:
        dtypes.append(dtype)
    return dtypes


def check(info: OpInfo, args, kwargs, index: int) -> None:
    """Raise or warn the way the NPU would, before the operator runs."""
    if info.float64_sensitive and CONFIG.float64 == "error":
        for dtype in _dtypes(args, kwargs):
            if dtype in _DOUBLE:
                raise NPUUnsupportedError(
                    f"NPU operator {info.overload} does not support float64 (DT_DOUBLE) on npu:{index} "
                    f"({CONFIG.soc}): Ascend AI Cores compute in float16/bfloat16/float32. Fix: keep "
                    "models and data in float32 (model.float(), tensor.float(), dtype=torch.float32, "
                    "torch.from_numpy(a.astype('float32')))."
                )
            if (info.name in MATRIX_OPS and not dtype.is_floating_point and not dtype.is_complex
                    and dtype not in MATRIX_INTEGERS.get(info.name, ())):
                raise NPUUnsupportedError(
                    f"NPU operator {info.overload} does not support {str(dtype).replace('torch.', '')} inputs on "
                    f"npu:{index}: the matrix unit computes in float16/bfloat16/float32. Fix: cast to float first "
                    "(tensor.float())."
                )
    if not info.supported:
        if CONFIG.fallback == "error":
            raise NPUUnsupportedError(
                f"NPU operator {info.overload} is not in the NPU operator list (Ascend/op-plugin); "
                "rewrite it with supported operators, move this step to the CPU explicitly, or set "
                "ascend_compat.sim.configure(fallback='warn')"
            )
        _FALLBACK_COUNTS[info.overload] += 1
        if CONFIG.fallback == "warn" and info.overload not in _WARNED:
            _WARNED.add(info.overload)
            # torch_npu's own words (csrc/aten/VariableFallbackKernel.cpp), then the lab's note
            warnings.warn(
                f"CAUTION: The operator '{info.overload}' is not currently supported on the NPU backend and will "
                "fall back to run on the CPU. This may have performance implications. (Simulated NPU: it is not in "
                "op-plugin's operator list; every call is a host round trip; see ascend_compat.sim.fallback_report().)",
                NPUFallbackWarning,
                stacklevel=4,
            )


def fallback_report() -> dict[str, int]:
    """Operators that ran on the CPU because the NPU lacks them, with how often: {op: calls}."""
    return dict(_FALLBACK_COUNTS.most_common())


def reset_fallback_report() -> None:
    _FALLBACK_COUNTS.clear()
    _WARNED.clear()
