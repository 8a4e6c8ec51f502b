"""The simulator's performance model: kernels per call, engines and overlap, fused optimizers,
``measure()`` — each effect the Level 3 lessons teach, and that its figures repeat exactly."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch


def _mlp(width=64, depth=4, seed=0):
    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        layers += [torch.nn.Linear(width, width), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 4))


def _step(model, opt, x, y):
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    opt.zero_grad()


def _measured_step(make_opt, sim, width=64):
    model = _mlp(width).to("npu")
    opt = make_opt(model.parameters())
    x = torch.randn(32, width, device="npu")
    y = torch.randint(0, 4, (32,), device="npu")
    _step(model, opt, x, y)  # warm-up: optimizer state, combined buffers
    with sim.measure() as m:
        _step(model, opt, x, y)
    return m


def test_views_and_allocations_launch_no_kernel(sim):
    import torch_npu

    x = torch.randn(8, 8, device="npu")
    with torch_npu.profiler.profile() as prof:
        x.t()
        x.view(64)
        x.detach()
        torch.empty(4, device="npu")
        x + 1
    assert [e.name for e in prof.events] == ["aten::add.Tensor"]
    assert prof.kernel_count() == 1


def test_the_fast_paths_charge_what_the_general_path_charges(sim):
    """Most operators take dispatch's fast paths, which work their cost out inline; with a profiler
    listening every operator goes through timeline.record instead. Both must charge the same."""
    import torch_npu

    a, w = torch.randn(32, 64, device="npu"), torch.randn(64, 16, device="npu")
    bias = torch.randn(16, device="npu")
    params = [torch.randn(8, device="npu") for _ in range(3)]
    grads = [torch.randn(8, device="npu") for _ in range(3)]

    def work():
        torch.relu(a)
        torch.mm(a, w)
        torch.addmm(bias, a, w)
        a.sum(0)
        a.clone().add_(1.0)  # in place: gives back its own tensor
        torch.nn.functional.log_softmax(a, dim=1)
        torch._foreach_add_(params, grads, alpha=0.5)
        torch._foreach_mul(params, 2.0)

    with sim.measure() as fast:
        work()
    with torch_npu.profiler.profile() as prof, sim.measure() as general:
        work()
    assert fast.kernels == general.kernels == len(prof.events) == 9
    assert fast.device_busy_ms[0] == pytest.approx(general.device_busy_ms[0], rel=1e-12)
    assert fast.peak_increase_bytes == general.peak_increase_bytes > 0


def test_views_keep_their_strides_and_new_results_their_shape(sim):
    x = torch.randn(5, 1, device="npu")
    assert x.t().stride() == x.cpu().t().stride() == (1, 1)  # a view: exactly the CPU's strides
    y = torch.randn(4, 6, device="npu")
    assert y.t().stride() == (1, 6) and y[1:].storage_offset() == 6
    z = y.t().contiguous()
    assert z.is_contiguous() and z.stride() == (4, 1)
    torch.testing.assert_close(z.cpu(), y.cpu().t().contiguous())


def test_foreach_kernels_come_in_chunks_on_a2_and_one_per_tensor_before(sim):
    tensors = [torch.ones(4, device="npu") for _ in range(50)]
    others = [torch.ones(4, device="npu") for _ in range(50)]

    def kernels():
        with sim.measure() as m:
            torch._foreach_add_(tensors, others)
        return m.kernels

    assert kernels() == 3           # Ascend910B2: 24 pairs per aclnnForeachAddList launch
    sim.configure(soc="Ascend910A")
    assert kernels() == 50          # no foreach fast path: one add per tensor
    assert torch.equal(tensors[0].cpu(), torch.full((4,), 3.0))


def test_optimizer_launches_follow_op_plugin(sim):
    import torch_npu

    loop = _measured_step(lambda p: torch.optim.Adam(p, foreach=False), sim)
    foreach = _measured_step(lambda p: torch.optim.Adam(p, foreach=True), sim)
    default = _measured_step(lambda p: torch.optim.Adam(p), sim)
    npu_fused = _measured_step(lambda p: torch_npu.optim.NpuFusedAdam(p), sim)
    adamw_fused = _measured_step(lambda p: torch.optim.AdamW(p, fused=True), sim)
    sgd_loop = _measured_step(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, foreach=False), sim)
    sgd_fused = _measured_step(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, fused=True), sim)
    params = 10
    assert foreach.kernels < loop.kernels - 5 * params, "foreach: a few launches for all parameters"
    assert default.kernels == foreach.kernels, "torch_npu makes foreach the default on Ascend910B"
    # (fused=True keeps its step counters on the device: one _foreach_add_ for them)
    # tensor fusion: 8 update kernels + 1 zero_ on the combined buffers, but gradients that stay
    # allocated are accumulated in place in backward (one add_ per parameter)
    assert npu_fused.kernels == foreach.kernels - 7 + 8 + 1 + params
    assert adamw_fused.kernels == foreach.kernels - 7 + 1 + 2 * params, "_fused_adamw_: two kernels per parameter"
    assert sgd_fused.kernels == sgd_loop.kernels - 3 * params + 1, "_fused_sgd_: one kernel instead of three per parameter"
    assert foreach.elapsed_ms < loop.elapsed_ms

    sim.configure(soc="Ascend910A")  # no foreach kernels before Atlas A2: torch_npu keeps the loop
    old_default = _measured_step(lambda p: torch.optim.Adam(p), sim)
    old_fused = _measured_step(lambda p: torch_npu.optim.NpuFusedAdam(p), sim)
    assert old_default.kernels == loop.kernels
    assert old_fused.kernels < loop.kernels - 4 * params and old_fused.elapsed_ms < old_default.elapsed_ms


def test_adam_fused_true_falls_back_to_the_cpu(sim):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = _measured_step(lambda p: torch.optim.Adam(p, fused=True), sim)
    assert m.cpu_fallbacks == 1 and "aten::_fused_adam_" in sim.fallback_report()
    assert any(issubclass(w.category, sim.NPUFallbackWarning) for w in caught)


@pytest.mark.parametrize("name", ["NpuFusedAdam", "NpuFusedAdamW", "NpuFusedSGD"])
def test_npu_fused_optimizers_match_torch_optim(sim, name):
    import torch_npu

    reference = {"NpuFusedAdam": torch.optim.Adam, "NpuFusedAdamW": torch.optim.AdamW,
                 "NpuFusedSGD": torch.optim.SGD}[name]
    kwargs = {"lr": 0.01, "momentum": 0.9} if name == "NpuFusedSGD" else {"lr": 0.01}
    base = _mlp(16, 2)
    fused_model, cpu_model = copy.deepcopy(base).to("npu"), copy.deepcopy(base)
    fused = getattr(torch_npu.optim, name)(fused_model.parameters(), **kwargs)
    plain = reference(cpu_model.parameters(), **kwargs)
    torch.manual_seed(1)
    x, y = torch.randn(8, 16), torch.randint(0, 4, (8,))
    for _ in range(4):
        _step(fused_model, fused, x.to("npu"), y.to("npu"))
        _step(cpu_model, plain, x, y)
    for a, b in zip(fused_model.parameters(), cpu_model.parameters()):
        torch.testing.assert_close(a.detach().cpu(), b.detach(), rtol=1e-5, atol=1e-6)


def test_npu_fused_optimizer_refuses_set_to_none_and_replaced_grads(sim):
    import torch_npu

    model = _mlp(16, 1).to("npu")
    opt = torch_npu.optim.NpuFusedAdam(model.parameters())
    x, y = torch.randn(4, 16, device="npu"), torch.randint(0, 4, (4,), device="npu")
    _step(model, opt, x, y)
    with pytest.raises(ValueError, match="set_to_none is not supported"):
        opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    model.zero_grad()  # sets every .grad to None: they leave the combined buffer
    torch.nn.functional.cross_entropy(model(x), y).backward()
    with pytest.raises(RuntimeError, match="combined buffer"):
        opt.step()


def test_pinned_non_blocking_copies_overlap_compute_on_another_stream(sim):
    work = torch.ones(4 << 20, device="npu")          # 16 MiB: each pass ~30 us, memory-bound
    batches = [torch.randn(1 << 20) for _ in range(4)]  # 4 MiB each: ~170 us over PCIe
    pinned = [b.pin_memory() for b in batches]
    copy_stream = torch.npu.Stream()

    def compute():
        for _ in range(10):
            work.mul_(1.0001)

    with sim.measure() as serial:       # the usual loop: pageable .to() on the default stream
        for b in batches:
            b.to("npu")
            compute()
    with sim.measure() as prefetch:     # pinned + non_blocking on a copy stream, one batch ahead
        with torch.npu.stream(copy_stream):
            nxt = pinned[0].to("npu", non_blocking=True)
        for i in range(len(batches)):
            torch.npu.current_stream().wait_stream(copy_stream)
            current = nxt
            if i + 1 < len(batches):
                with torch.npu.stream(copy_stream):
                    nxt = pinned[i + 1].to("npu", non_blocking=True)
            compute()
            current.record_stream(torch.npu.current_stream())
    assert serial.kernels == prefetch.kernels == 44
    assert prefetch.elapsed_ms < serial.elapsed_ms - 2 * 0.15, "three of four copies hidden behind compute"
    with sim.measure() as pageable_non_blocking:  # non_blocking from pageable memory still waits
        batches[0].to("npu", non_blocking=True)
    with sim.measure() as pinned_non_blocking:
        pinned[0].to("npu", non_blocking=True)
    assert pageable_non_blocking.elapsed_ms == pytest.approx(pinned_non_blocking.elapsed_ms)


def test_two_compute_streams_share_the_ai_cores(sim):
    a = torch.ones(1024, 1024, device="npu")
    side = torch.npu.Stream()
    with sim.measure() as one_stream:
        for _ in range(20):
            a.mul_(1.0001)
    with sim.measure() as two_streams:
        for _ in range(10):
            a.mul_(1.0001)
        with torch.npu.stream(side):
            for _ in range(10):
                a.add_(0.0)
    assert two_streams.elapsed_ms == pytest.approx(one_stream.elapsed_ms, rel=0.02)


def test_host_waits_for_pageable_copies_only(sim):
    from ascend_compat.sim import timeline

    pageable = torch.randn(1 << 20)
    pinned = pageable.pin_memory()
    torch.npu.synchronize()
    start = timeline.host_time_us()
    pinned.to("npu", non_blocking=True)
    after_pinned = timeline.host_time_us() - start
    torch.npu.synchronize()
    start = timeline.host_time_us()
    pageable.to("npu", non_blocking=True)   # torch_npu synchronises the stream for pageable memory
    after_pageable = timeline.host_time_us() - start
    assert after_pinned < 20 < 150 < after_pageable


def test_two_devices_run_concurrently(sim):
    x0 = torch.ones(4 << 20, device="npu:0")
    x1 = torch.ones(4 << 20, device="npu:1")
    with sim.measure() as one:
        for _ in range(10):
            x0.mul_(1.0001)
    with sim.measure() as both:
        for _ in range(10):
            x0.mul_(1.0001)
            x1.mul_(1.0001)
    assert both.kernels_per_device == {0: 10, 1: 10}
    assert both.elapsed_ms < 1.2 * one.elapsed_ms, "npu:0 and npu:1 work at the same time"


def test_autocast_bf16_shortens_a_matmul_bound_step(sim):
    layer = torch.nn.Linear(1024, 1024).to("npu")
    x = torch.randn(4096, 1024, device="npu")
    with sim.measure() as fp32:
        layer(x)
    with sim.measure() as bf16, torch.autocast("npu", dtype=torch.bfloat16):
        layer(x)
    assert bf16.kernels > fp32.kernels, "autocast adds cast kernels"
    assert bf16.elapsed_ms < 0.7 * fp32.elapsed_ms, "the cube unit is ~4x faster in bf16"
    small = torch.nn.Linear(64, 64).to("npu")
    tiny = torch.randn(8, 64, device="npu")
    with sim.measure() as small_fp32:
        small(tiny)
    with sim.measure() as small_bf16, torch.autocast("npu", dtype=torch.bfloat16):
        small(tiny)
    assert small_bf16.elapsed_ms > small_fp32.elapsed_ms, "launch-bound: the casts cost more than they save"


def test_checkpointing_lowers_peak_memory_and_recomputes(sim):
    from torch.utils.checkpoint import checkpoint

    model = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(256, 256), torch.nn.GELU()) for _ in range(8)]).to("npu")
    x = torch.randn(512, 256, device="npu", requires_grad=True)

    def plain():
        model(x).sum().backward()

    def checkpointed():
        h = x
        for block in model:
            h = checkpoint(block, h, use_reentrant=False)
        h.sum().backward()

    plain()
    with sim.measure() as full:
        plain()
    with sim.measure() as ckpt:
        checkpointed()
    assert ckpt.peak_increase_bytes < 0.75 * full.peak_increase_bytes
    assert ckpt.kernels > full.kernels and ckpt.elapsed_ms > full.elapsed_ms


def test_set_to_none_frees_gradient_memory(sim):
    model = _mlp(512, 2).to("npu")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 512, device="npu"), torch.randint(0, 4, (8,), device="npu")
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    opt.zero_grad(set_to_none=False)
    zeroed = torch.npu.memory_allocated()
    opt.zero_grad(set_to_none=True)
    grads = sum(p.numel() * 4 for p in model.parameters())
    assert zeroed - torch.npu.memory_allocated() >= grads


def test_profile_memory_and_trace_tracks(sim):
    import torch_npu

    with torch_npu.profiler.profile(profile_memory=True) as prof:
        keep = [torch.ones(1 << 18, device="npu") for _ in range(4)]
        keep[0] + 1
    samples = [a for _, _, a in prof.memory_samples]
    assert samples == sorted(samples) and samples[-1] >= 3 << 20
    trace = prof.chrome_trace()
    assert any(e["ph"] == "C" for e in trace["traceEvents"])
    assert any(e["ph"] == "M" and e["name"] == "thread_name" for e in trace["traceEvents"])
    from ascend_compat.sim.profiler import plot_timeline
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_timeline(trace)
    assert len(ax.get_yticklabels()) == 1
    del keep


def test_measurements_are_identical_run_to_run(sim):
    def figures():
        sim.reset()
        m = _measured_step(lambda p: torch.optim.AdamW(p), sim, width=128)
        return m.elapsed_ms, m.kernels, m.peak_memory_bytes, m.device_busy_ms

    first = figures()
    assert first == figures() and first[0] > 0 and first[1] > 0 and first[2] > 0


def test_profiler_schedule_keeps_only_active_steps(sim, tmp_path):
    import torch_npu

    saved = []
    x = torch.ones(4, device="npu")
    config = torch_npu.profiler._ExperimentalConfig(profiler_level=torch_npu.profiler.ProfilerLevel.Level1,
                                                     aic_metrics=torch_npu.profiler.AiCMetrics.PipeUtilization)
    with torch_npu.profiler.profile(activities=[torch_npu.profiler.ProfilerActivity.NPU],
                                    schedule=torch_npu.profiler.schedule(wait=1, warmup=1, active=2, repeat=1),
                                    on_trace_ready=lambda p: saved.append(len(p.events)),
                                    experimental_config=config) as prof:
        for step in range(6):
            for _ in range(step + 1):   # step k launches k + 1 kernels
                x = x + 1
            prof.step()
    assert saved == [3 + 4], "steps 2 and 3 recorded, saved once"
    with pytest.raises(ValueError, match="profiler_level"):
        torch_npu.profiler._ExperimentalConfig(profiler_level="Level9")


def test_memory_fraction_caps_the_process_not_the_device(sim):
    """As on torch_npu/CUDA: the fraction limits what this process may allocate on one device;
    total_memory and mem_get_info still describe the whole device; 1.0 lifts the cap."""
    sim.configure(memory_gib=1 / 16)  # a 64 MiB device: the allocations below stay small on the host
    total = torch.npu.get_device_properties(0).total_memory
    assert total == 64 << 20
    torch.npu.set_per_process_memory_fraction(0.25)
    try:
        assert torch.npu.get_device_properties(0).total_memory == total
        assert torch.npu.mem_get_info()[1] == total
        assert torch.npu.get_per_process_memory_fraction() == 0.25
        assert torch.npu.get_per_process_memory_fraction(1) == 1.0, "other devices keep their whole memory"
        too_big = int(total * 0.3) // 4  # float32 elements: 30% of the device
        with pytest.raises(torch.OutOfMemoryError, match="allowed by set_per_process_memory_fraction"):
            torch.empty(too_big, device="npu:0")
        torch.npu.set_per_process_memory_fraction(0.5)  # of the whole device, not of the earlier cap
        x = torch.empty(too_big, device="npu:0")
        del x
        assert "memory fraction 0.5" in torch.npu.memory_summary()
    finally:
        torch.npu.set_per_process_memory_fraction(1.0)
    assert torch.npu.get_per_process_memory_fraction() == 1.0
    assert "memory fraction" not in torch.npu.memory_summary()
    with pytest.raises(ValueError, match="Allowed range"):
        torch.npu.set_per_process_memory_fraction(1.5)


def test_inference_mode_charges_convolutions_and_linears_as_under_no_grad(sim):
    """Under inference_mode conv2d/linear reach the device whole; they cost what they compute."""
    from ascend_compat.sim import measure

    sim.configure(soc="Ascend310P3")  # compute-bound for a small CNN, so a mis-charged conv shows
    model = torch.nn.Sequential(torch.nn.Conv2d(16, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(64 * 16 * 16, 256)).npu()
    x = torch.randn(64, 16, 16, 16).npu()
    figures = {}
    for name, mode in (("no_grad", torch.no_grad), ("inference_mode", torch.inference_mode)):
        with mode():
            model(x)
            with measure() as measured:
                model(x)
        figures[name] = measured.elapsed_ms
    assert figures["inference_mode"] == pytest.approx(figures["no_grad"], rel=0.05), figures


def test_synchronize_waits_for_the_current_device_only(sim):
    """torch.npu.synchronize() is one device, as in torch_npu; each device needs its own."""
    from ascend_compat.sim import timeline

    sim.configure(soc="Ascend310P3")  # a slow chip: the matmuls outlast their launches
    a = torch.randn(512, 512, device="npu:1")
    torch.npu.synchronize(1)
    a @ a @ a
    pending = timeline.device(1).streams[0].ready
    torch.npu.set_device(0)
    torch.npu.synchronize()
    assert timeline.HOST.now < pending, "synchronize() on npu:0 must not wait for npu:1"
    torch.npu.synchronize(1)
    assert timeline.HOST.now >= pending


def test_an_event_on_an_idle_stream_is_reached_when_the_host_records_it(sim):
    """Host-only work before start.record() is not device time: events time the matmul alone."""
    from ascend_compat.sim import measure

    sim.configure(soc="Ascend310P3")
    x = torch.randn(256, 256, device="npu")
    x @ x
    with measure() as alone:
        x @ x
    for _ in range(200):
        x.view(-1)  # host bookkeeping only: the stream stays idle while the host clock runs
    start, end = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
    start.record()
    x @ x
    end.record()
    end.synchronize()
    assert start.elapsed_time(end) == pytest.approx(alone.elapsed_ms, rel=0.2)
