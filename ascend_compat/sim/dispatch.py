"""The simulator's kernel launcher: every operator that touches the simulated NPU runs here.

For each call :func:`torch_dispatch` does what a real device runtime does, in order:

1. find the device: all NPU tensors of one call must be on the same ``npu:N`` (as on hardware);
2. check the operator against the NPU (:mod:`ascend_compat.sim.op_policy`): float64 support,
   and whether the operator exists in the NPU operator list (missing ones fall back to the CPU);
3. compute — on the CPU, with the CPU tensors held inside the NPU tensors;
4. wrap the results as NPU tensors, count new device memory (:mod:`.memory`) and advance the
   device clock with the operator's modelled cost (:mod:`.timeline`).

Every operator pays for this path, so it is kept lean (see ``benchmarks/bench_sim.py`` and, counted
in instructions, ``benchmarks/bench_instructions.py``): the facts about an operator are worked out
once (:func:`op_policy.info`), and the common calls take a fast path that does only what they need:
:func:`_run_plain` (one-kernel operators on NPU tensors and numbers), :func:`_run_view` (views:
metadata only) and :func:`_run_foreach` (the optimizers' tensor lists). :func:`_run_general` does
everything, for every other call.

Factory functions (``torch.randn(..., device="npu")``) have no NPU tensor to dispatch on, so
PyTorch sends them to the PrivateUse1 fallback registered in :mod:`.registration`, which calls
:func:`run_factory`.
"""

from __future__ import annotations

import os
import sys
import threading

import torch

from ascend_compat.sim import backward_errors, costmodel, memory, op_policy, pinned, random, timeline
from ascend_compat.sim.config import CONFIG
from ascend_compat.sim.op_policy import _INFO  # operator -> OpInfo, filled by op_policy.info
from ascend_compat.sim.op_policy import PLAIN as _PLAIN

BACKEND = "npu"
_CPU = torch.device("cpu")

# Set by tensor.py at import time (the two modules refer to each other).
NPUTensor: type = None  # type: ignore[assignment]


class _DeviceState:
    current: int = 0  # process-wide: PyTorch's backward threads must see the device the user chose


class _ThreadState(threading.local):
    # A thread other than the one that imported the lab (a user's thread, or PyTorch's autograd
    # worker if a thread re-enables multithreaded backward) starts with one intra-op thread, which
    # would make its operators slower than the CPU's. Each thread adopts the process-wide setting
    # the first time it runs an operator.
    threads_set: bool = False


DEVICE_STATE = _DeviceState()
THREAD_STATE = _ThreadState()
# The thread that imported the lab keeps its settings: it need not read THREAD_STATE (a
# thread-local costs about five times as much to read as this check) for every operator.
_IMPORTING_THREAD = threading.get_ident()
_thread_id = threading.get_ident


class NPUDeviceError(RuntimeError):
    """Wrong device use: bad index, tensors on different devices. A RuntimeError, as in PyTorch."""


# ---------------------------------------------------------------------------------------------
# device indices
# ---------------------------------------------------------------------------------------------
def check_index(index: int) -> int:
    count = CONFIG.device_count
    if not 0 <= index < count:
        raise NPUDeviceError(
            f"Invalid device npu:{index}: this machine has {count} simulated NPU(s) (npu:0 to npu:{count - 1}); "
            "pick one of those or change the count with ascend_compat.sim.configure(device_count=...)"
        )
    return index


def resolve_index(device=None) -> int:
    """``None``/``"npu"``/``"npu:1"``/``1``/``torch.device`` -> a checked device index."""
    if device is None:
        return DEVICE_STATE.current
    if isinstance(device, int):
        return check_index(device)
    if isinstance(device, str):
        device = torch.device(device)
    if isinstance(device, torch.device):
        if device.type != BACKEND:
            raise NPUDeviceError(f"Expected an npu device, got {device}")
        return DEVICE_STATE.current if device.index is None else check_index(device.index)
    raise NPUDeviceError(f"Invalid device {device!r}; use an int, 'npu', 'npu:N' or torch.device('npu', N)")


def selected_index(device=None) -> int:
    """The device current inside torch_npu's ``with torch.npu.device(device)``, where streams are
    made and synchronisation happens: a negative id selects nothing, so the current device stays."""
    if isinstance(device, int) and device < 0:
        return DEVICE_STATE.current
    return resolve_index(device)


# ---------------------------------------------------------------------------------------------
# wrapping
# ---------------------------------------------------------------------------------------------
def wrap(cpu: torch.Tensor, index: int, fresh: bool = True):
    """Make an NPU tensor around ``cpu``; ``fresh`` means its storage may be new device memory."""
    out = NPUTensor._make(cpu, index)
    if fresh:
        memory.track(out, cpu, index)
    return out


def _mixed_device_error(a: str, b: str):
    return NPUDeviceError(
        f"Expected all tensors to be on the same device, but found at least two devices, {a} and {b}! "
        "Move them with .to(device) first."
    )


_INTRA_OP_THREADS = torch.get_num_threads()
_PYTHON_KEYS = torch._C.DispatchKeySet(torch._C.DispatchKey.Python) | torch._C.DispatchKeySet(
    torch._C.DispatchKey.PythonTLSSnapshot)


def _adopt_thread_settings() -> None:
    THREAD_STATE.threads_set = True
    if threading.current_thread() is not threading.main_thread():
        torch.set_num_threads(_INTRA_OP_THREADS)


def torch_dispatch(cls, func, types, args=(), kwargs=None):
    """Run one operator that has at least one NPU tensor among its arguments: this function *is*
    ``NPUTensor.__torch_dispatch__`` (tensor.py), not a helper it calls — one Python frame less
    for every operator.

    This runs for every operator, so it is written for speed: the per-operator facts
    (:class:`~ascend_compat.sim.op_policy.OpInfo`) are looked up once and cached, and most calls
    take a fast path (:func:`_run_plain`, :func:`_run_foreach`) before the general one."""
    try:
        if _thread_id() != _IMPORTING_THREAD and not THREAD_STATE.threads_set:
            _adopt_thread_settings()
        info = _INFO.get(id(func))
        if info is None:
            info = op_policy.info(func)
        if info.plain and not kwargs:
            out = _run_plain(info, args)
            if out is not _NOT_PLAIN:
                return out
        elif info.single_view and isinstance(args[0], NPUTensor):
            return _run_view(info, args, kwargs or {})
        elif info.foreach and (not kwargs or tuple(kwargs) == ("alpha",)):
            out = _run_foreach(info, args, kwargs or {})
            if out is not _NOT_PLAIN:
                return out
        elif info.special:
            return _run_special(info, func, args, kwargs or {})
        return _run_general(info, func, args, kwargs or {})
    except Exception as exc:
        # On PyTorch's backward thread an exception must not reach the C++ engine (it would
        # abort the process): raise it from backward() instead (see backward_errors).
        if not backward_errors.in_backward_pass():
            raise
        backward_errors.defer(exc)
        return run_unchecked(func, args, kwargs or {})


_NOT_PLAIN = object()
# Arguments the fast path passes on as they are (a device= or generator= goes the general way).
_PLAIN_ARGS = _PLAIN | {str, torch.dtype, torch.memory_format, torch.layout}
_TENSOR = torch.Tensor
_FLOAT32 = torch.float32


def _run_plain(info, args):
    """The fast path (about half the operators of a training step): a one-kernel operator whose
    arguments are NPU tensors and numbers only, all float32 if dtypes matter to it. The device is
    the only thing to decide. Any other call returns ``_NOT_PLAIN`` before doing anything, and
    :func:`_run_general` takes it."""
    index = -1
    cpu_args = []
    moved = 0  # bytes the kernel reads: the cost model's memory traffic
    for a in args:
        if type(a) is NPUTensor:
            if a._index != index:
                if index != -1:
                    raise _mixed_device_error(f"npu:{index}", f"npu:{a._index}")
                index = a._index
            cpu = a._cpu
            moved += cpu.nbytes
            cpu_args.append(cpu)
        elif a is None or type(a) in _PLAIN_ARGS:
            cpu_args.append(a)
        elif (type(a) is list or type(a) is tuple) and (not a or type(a[0]) in _PLAIN):
            cpu_args.append(a)  # sizes, dims, padding
        else:
            return _NOT_PLAIN  # tensor lists, host tensors, subclasses: the general path decides
    if info.dtype_rules:
        for a in cpu_args:
            if type(a) is _TENSOR and a.dtype is not _FLOAT32:
                return _NOT_PLAIN
    out = info.call(*cpu_args)
    if type(out) is not _TENSOR or timeline.PROFILERS:  # several results, or a profiler to tell
        timeline.record(info, index, cpu_args, out)
        return _wrap_outputs(out, index, _aliases(args, {}) if info.returns_alias else ())
    # costmodel.estimate(), for one result: one operation per output element unless a formula counts
    rate = timeline.rates()
    if info.heavy:
        if info.dtype_rules:  # float32 inputs (checked above): the cube unit at its float32 rate
            duration = costmodel.device_us(costmodel.flops(info.name, cpu_args, out), moved + out.nbytes,
                                           rate.cube_fp32_flops, rate)
        else:
            duration = costmodel.estimate(info.name, cpu_args, out, rate)[2]
    else:
        duration = costmodel.device_us(out.numel(), moved + out.nbytes, rate.vector_flops, rate)
    timeline.kernel(index, duration)
    if info.returns_alias:  # an in-place operator gives back the caller's own tensor
        for inner, outer in _aliases(args, {}):
            if inner is out:
                return outer
    wrapper = NPUTensor._make(out, index)
    memory.track(wrapper, out, index)
    return wrapper


def _run_foreach(info, args, kwargs):
    """``_foreach_*`` (the optimizers' default): lists of NPU tensors and numbers, float32 — or
    ``_NOT_PLAIN`` before anything is done, for :func:`_run_general` (also when a profiler wants
    every kernel's details)."""
    if timeline.PROFILERS:
        return _NOT_PLAIN
    index = -1
    cpu_args = []
    moved = 0
    lists = 0
    count = 1
    for a in args:
        if type(a) is list or type(a) is tuple:
            if a and type(a[0]) is NPUTensor:
                items = []
                for x in a:
                    if type(x) is not NPUTensor:
                        return _NOT_PLAIN
                    if x._index != index:
                        if index != -1:
                            raise _mixed_device_error(f"npu:{index}", f"npu:{x._index}")
                        index = x._index
                    cpu = x._cpu
                    if cpu.dtype is not _FLOAT32:
                        return _NOT_PLAIN
                    moved += cpu.nbytes
                    items.append(cpu)
                cpu_args.append(items)
                lists += 1
                count = len(items)
            elif a and type(a[0]) not in _PLAIN:
                return _NOT_PLAIN  # scalar tensors, host tensors
            else:
                cpu_args.append(a)
        elif a is None or type(a) in _PLAIN:
            cpu_args.append(a)
        else:
            return _NOT_PLAIN
    if index == -1:
        return _NOT_PLAIN
    out = info.call(*cpu_args, **kwargs)
    # costmodel.estimate(): one operation per element of the first result (none when in place)
    flops = 0
    if out:
        for piece in out:
            moved += piece.nbytes
        flops = out[0].numel()
    rate = timeline.rates()
    timeline.kernels(index, info.overload, costmodel.device_us(flops, moved, rate.vector_flops, rate),
                     costmodel.foreach_kernels(info.name, count, lists, CONFIG.soc))
    if out is None:
        return None
    return type(out)([wrap(piece, index) for piece in out])


def _run_general(info, func, args, kwargs):
    """Every other call: lists of tensors, keyword arguments, host tensors, random operators,
    16-bit or float64 inputs to operators with dtype rules, CPU fallbacks, copies."""
    # 1. the device, and the CPU tensors inside the NPU ones
    index = -1
    mixed_cpu = None
    cpu_args = []
    for a in args:
        if a is None or type(a) in _PLAIN:  # most arguments that are not tensors: passed as they are
            cpu_args.append(a)
        elif isinstance(a, NPUTensor):
            if index == -1:
                index = a._index
            elif a._index != index and not info.cross_device:
                raise _mixed_device_error(f"npu:{index}", f"npu:{a._index}")
            cpu_args.append(a._cpu)
        elif isinstance(a, torch.Tensor):
            if mixed_cpu is None and a.dim() > 0:
                mixed_cpu = a
            cpu_args.append(a)
        elif type(a) is list or type(a) is tuple:
            if not a or type(a[0]) in _PLAIN:  # sizes, strides, padding: nothing to unwrap
                cpu_args.append(a)
                continue
            items = []
            for x in a:
                if isinstance(x, NPUTensor):
                    if index == -1:
                        index = x._index
                    elif x._index != index and not info.cross_device:
                        raise _mixed_device_error(f"npu:{index}", f"npu:{x._index}")
                    items.append(x._cpu)
                else:
                    if isinstance(x, torch.Tensor) and mixed_cpu is None and x.dim() > 0:
                        mixed_cpu = x
                    items.append(x)
            cpu_args.append(type(a)(items))
        else:
            cpu_args.append(a)
    if kwargs:
        cpu_kwargs = {}
        for key, value in kwargs.items():
            if isinstance(value, NPUTensor):
                if index == -1:
                    index = value._index
                elif value._index != index and not info.cross_device:
                    raise _mixed_device_error(f"npu:{index}", f"npu:{value._index}")
                value = value._cpu
            elif isinstance(value, torch.Tensor) and mixed_cpu is None and value.dim() > 0:
                mixed_cpu = value
            cpu_kwargs[key] = value
    else:
        cpu_kwargs = {}

    if mixed_cpu is not None and not info.cross_device:
        raise _mixed_device_error(f"npu:{index}", "cpu")

    # 2. where the result goes (an explicit device= may send it elsewhere or to the host)
    target = index
    device = cpu_kwargs.get("device")
    if device is not None:
        device = torch.device(device)
        if device.type == BACKEND:
            # C++ fills in its own view of the device (always npu:0, see tensor.py): an index of
            # 0 or none means "where the inputs are"; moves between NPUs go through NPUTensor.to.
            target = index if device.index in (None, 0) else resolve_index(device)
            cpu_kwargs["device"] = _CPU
        else:
            target = None  # result goes to the host
    if cpu_kwargs.get("pin_memory"):
        cpu_kwargs["pin_memory"] = False
    if info.takes_generator:
        cpu_kwargs["generator"] = random.operator_generator(index, cpu_kwargs.get("generator"), on_npu=target is not None)

    # 3. what the NPU allows, the computation, its cost; 4. the results as NPU tensors
    if info.checked:
        op_policy.check(info, cpu_args, cpu_kwargs, index)
    if info.name in random.DRAWS_FROM_DEFAULT_GENERATOR:
        out = random.call_with_device_generator(index, func, cpu_args, cpu_kwargs)
    elif info.half_via_float32 and (half := _half_dtype(cpu_args, cpu_kwargs)) is not None:
        out = _via_float32(func, cpu_args, cpu_kwargs, half)
    else:
        out = info.call(*cpu_args, **cpu_kwargs)
    timeline.record(info, index, cpu_args, out, to_host=target is None)
    if target is None:
        return out
    if type(out) is torch.Tensor:  # the common case: one fresh (or in-place) tensor
        if info.returns_alias:  # in-place and out= operators give back the caller's own tensor
            for inner, outer in _aliases(args, kwargs):
                if inner is out:
                    return outer
        wrapper = NPUTensor._make(out, target)
        memory.track(wrapper, out, target)
        return wrapper
    return _wrap_outputs(out, target, _aliases(args, kwargs) if info.returns_alias else ())


def _aliases(args, kwargs) -> list:
    """``(CPU tensor, the argument it stands for)`` for every tensor argument: what an operator
    that returns one of its arguments (in-place, ``out=``) must give back. Only those operators
    (their schemas say so, ``OpInfo.returns_alias``) pay for this second look at the arguments."""
    pairs = []
    for a in (*args, *kwargs.values()):
        for x in (a if type(a) is list or type(a) is tuple else (a,)):
            if isinstance(x, NPUTensor):
                pairs.append((x._cpu, x))
            elif isinstance(x, torch.Tensor):
                pairs.append((x, x))
    return pairs


def _run_view(info, args, kwargs):
    """A view (``t``, ``view``, ``detach``, ``split``...) of one NPU tensor: new metadata on the
    host over the same device memory; no kernel, no device check, nothing new to count. About
    half of the operators of a training step are views, so they skip the general path."""
    base = args[0]
    out = info.call(base._cpu, *args[1:], **kwargs)
    timeline.record_metadata()
    if torch.is_inference_mode_enabled() and not base.is_inference():
        # A view of a normal tensor is a normal tensor, inside inference_mode too: PyTorch gives
        # it its base's version counter, which a wrapper made in inference mode could not hold.
        with torch.inference_mode(False):
            return _view_wrappers(out, base)
    return _view_wrappers(out, base)


def _view_wrappers(out, base):
    # nothing to count: a view shares its base's storage, which carries the device memory (memory.track)
    index = base._index
    if type(out) is torch.Tensor:
        return NPUTensor._make_exact(out, index)
    return type(out)([NPUTensor._make_exact(piece, index) for piece in out])  # split, unbind, chunk


def run_unchecked(func, args, kwargs):
    """Compute an operator with none of the NPU's rules: no device, dtype, operator or memory
    checks, no cost, no memory accounting.

    Only for finishing a backward pass whose error was recorded to be raised from ``backward()``
    (:mod:`.backward_errors`): the results must exist, they need not be right.
    """
    indices = []
    aliases = []

    def unwrap(value):
        if isinstance(value, NPUTensor):
            indices.append(value._index)
            aliases.append((value._cpu, value))
            return value._cpu
        return value

    cpu_args = torch.utils._pytree.tree_map(unwrap, args)
    cpu_kwargs = torch.utils._pytree.tree_map(unwrap, dict(kwargs))
    index = indices[0] if indices else DEVICE_STATE.current
    device = cpu_kwargs.get("device")
    on_host = device is not None and torch.device(device).type != BACKEND
    if device is not None and not on_host:
        cpu_kwargs["device"] = _CPU
    cpu_kwargs.pop("pin_memory", None)
    out = func(*cpu_args, **cpu_kwargs)
    if on_host:
        return out

    def rewrap(value):
        if isinstance(value, torch.Tensor) and not isinstance(value, NPUTensor):
            for inner, outer in aliases:
                if inner is value:
                    return outer
            return NPUTensor._make(value, index)
        return value

    return torch.utils._pytree.tree_map(rewrap, out)


def _run_special(info, func, args, kwargs):
    """Operators that are not computed like the others."""
    if info.no_op:
        return None
    if info.name == "_has_compatible_shallow_copy_type":
        # Module.to() asks this to decide between `param.data = new` and a new Parameter: an
        # NPU tensor and a CPU tensor are different TensorImpls on a real backend too.
        return isinstance(args[0], NPUTensor) == isinstance(args[1], NPUTensor)
    # c10d collectives pick the process-group backend by device type: let them reach the
    # simulated HCCL backend (sim/hccl.py) with the NPU tensors themselves.
    with torch._C._ExcludeDispatchKeyGuard(_PYTHON_KEYS):
        return func(*args, **kwargs)


_HALF = (torch.float16, torch.bfloat16)


def _half_dtype(args, kwargs):
    """float16 or bfloat16 when every floating-point tensor argument has that one dtype (mixed
    dtypes keep PyTorch's own error; ``out=`` keeps PyTorch's own kernel), else None."""
    if "out" in kwargs:
        return None
    found = None
    for a in args:
        if isinstance(a, torch.Tensor) and a.is_floating_point():
            if a.dtype not in _HALF or (found is not None and a.dtype != found):
                return None
            found = a.dtype
    return found


def _via_float32(func, args, kwargs, dtype):
    wide = [a.float() if isinstance(a, torch.Tensor) and a.dtype == dtype else a for a in args]
    out = func(*wide, **kwargs)
    if isinstance(out, torch.Tensor):
        return out.to(dtype)
    return type(out)(o.to(dtype) if isinstance(o, torch.Tensor) else o for o in out)


def _wrap_outputs(out, index, aliases):
    if isinstance(out, torch.Tensor):
        for inner, outer in aliases:
            if inner is out:
                return outer
        return wrap(out, index)
    if isinstance(out, (tuple, list)):
        return type(out)([_wrap_outputs(o, index, aliases) for o in out])
    return out


_TORCH_INTERNALS = tuple(os.path.join(os.path.dirname(torch.__file__), sub) + os.sep
                        for sub in ("nn" + os.sep + "parallel", "distributed"))


def _created_by_pytorch_internals() -> bool:
    """Is this factory call PyTorch's own bookkeeping (autograd thread, DDP/c10d), not user code?"""
    if torch._C._current_graph_task_id() != -1 or threading.current_thread() is not threading.main_thread():
        return True  # the autograd engine (a backward pass, on this thread or a worker of its own)
    frame = sys._getframe(1)
    here = os.path.dirname(__file__)
    while frame is not None and frame.f_code.co_filename.startswith(here):
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(_TORCH_INTERNALS)


def _factory_index(device) -> int:
    """The device a factory call means.

    PyTorch's C++ core sees every simulated tensor as npu:0 (see tensor.py), so the tensors it
    creates for itself — gradients in the backward thread, DDP's buckets — ask for npu:0 whatever
    device their owner is on. Those requests go to the current device; a learner's own explicit
    ``device="npu:0"`` is respected.
    """
    index = resolve_index(device)
    if index == 0 and DEVICE_STATE.current != 0 and _created_by_pytorch_internals():
        return DEVICE_STATE.current
    return index


def run_factory(func, args, kwargs):
    """Run a factory function (no NPU tensor inputs) that asked for an ``npu`` device."""
    info = _INFO.get(id(func))
    if info is None:
        info = op_policy.info(func)
    kwargs = dict(kwargs)
    device = kwargs.get("device")
    if type(device) is torch.device and device.type == BACKEND and not device.index and DEVICE_STATE.current == 0:
        index = 0  # the common case, decided without _factory_index's checks
    else:
        index = _factory_index(device)
    kwargs["device"] = _CPU
    if kwargs.get("pin_memory"):
        kwargs["pin_memory"] = False
    if info.takes_generator:
        kwargs["generator"] = random.operator_generator(index, kwargs.get("generator"))
    if info.checked:
        op_policy.check(info, args, kwargs, index)
    memory.reserve_for(func, args, kwargs, index)
    out = func(*args, **kwargs)
    # pageable host memory blocks the host during the copy; pinned + non_blocking does not
    blocking = not (kwargs.get("non_blocking") and args and isinstance(args[0], torch.Tensor) and pinned.is_pinned(args[0]))
    timeline.record(info, index, args, out, from_host=info.host_to_device, blocking=blocking)
    return _wrap_outputs(out, index, [])


def copy_between_npus(src, target: int):
    """``x.to("npu:1")`` for ``x`` on ``npu:0``: a device-to-device copy, differentiable."""
    check_index(target)
    if src.requires_grad and torch.is_grad_enabled():
        return _NPUToNPU.apply(src, target)
    return _copy_data(src, target)


def _copy_data(src, target: int):
    with torch.no_grad():
        data = src._cpu.clone()
    timeline.record_copy(src._index, target, data.nbytes)
    return wrap(data, target)


class _NPUToNPU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, src, target):
        ctx.source = src._index
        return _copy_data(src, target)

    @staticmethod
    def backward(ctx, grad):
        return copy_between_npus(grad, ctx.source), None
