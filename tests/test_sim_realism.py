"""The Ascend realism features: float64, operator fallback, memory, time, mixed precision."""

from __future__ import annotations

import warnings

import pytest
import torch

from ascend_compat.errors import UserError


def test_float64_compute_fails_with_a_fix(sim):
    a = torch.randn(3, 3, dtype=torch.float64, device="npu")  # creating float64 data works
    assert (a + 1).dtype == torch.float64                      # so does simple arithmetic
    with pytest.raises(RuntimeError, match=r"does not support float64.*model\.float\(\)"):
        a @ a
    with pytest.raises(RuntimeError, match="float64"):
        torch.nn.Linear(3, 2).double().to("npu")(a)
    # which kernels lack float64 is per operator: aclnnSoftmax/aclnnLogSoftmax take DOUBLE, their
    # backward kernels do not
    assert torch.softmax(a, dim=-1).dtype == torch.log_softmax(a, dim=-1).dtype == torch.float64
    with pytest.raises(RuntimeError, match="_softmax_backward_data does not support float64"):
        torch.ops.aten._softmax_backward_data(a, torch.softmax(a, dim=-1), -1, torch.float64)
    sim.configure(float64="allow")
    assert (a @ a).dtype == torch.float64


def test_float64_is_refused_only_by_kernels_without_it(sim):
    # checked against the kernels' dtype tables (hicann/ops-nn, ops-math, ops-cv aclnn*.md) and
    # op-plugin's sources: these take DOUBLE on the NPU ...
    f64 = {"dtype": torch.float64, "device": "npu"}
    vector, matrix = torch.ones(3, **f64), torch.ones(3, 3, **f64)
    assert torch.addmv(vector, matrix, vector).dtype == torch.float64            # aclnnAddmv
    assert torch.addr(matrix, vector, vector).dtype == torch.float64             # aclnnAddr
    image = torch.rand(1, 1, 4, 4, **f64)
    assert torch.nn.functional.interpolate(image, scale_factor=2).dtype == torch.float64  # aclnnUpsampleNearest2dV2
    grid = torch.zeros(1, 2, 2, 2, **f64)
    assert torch.nn.functional.grid_sample(image, grid, align_corners=False).dtype == torch.float64  # aclnnGridSampler2D
    # ... these do not (op-plugin refuses float64 bilinear upsampling itself) ...
    with pytest.raises(RuntimeError, match="upsample_bilinear2d does not support float64"):
        torch.nn.functional.interpolate(image, scale_factor=2, mode="bilinear")
    with pytest.raises(RuntimeError, match="bmm does not support float64"):  # attention's math path
        torch.nn.functional.scaled_dot_product_attention(*[torch.rand(1, 2, 4, 8, **f64)] * 3)
    # ... and an operator missing on the NPU falls back to the CPU, float64 or not
    weight = torch.nn.Parameter(torch.ones(3, **f64))
    weight.grad = torch.ones(3, **f64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sim.NPUFallbackWarning)
        torch.optim.Adam([weight], fused=True).step()
    assert "aten::_fused_adam_" in sim.fallback_report()


def test_integer_matmul_is_refused(sim):
    a = torch.ones(2, 2, dtype=torch.int64, device="npu")
    with pytest.raises(RuntimeError, match="int64"):
        a @ a
    with pytest.raises(RuntimeError, match="int64"):
        torch.dot(a[0], a[0])
    # aclnnDot (hicann/ops-math math/dot/docs/aclnnDot.md) lists INT8, INT32 and UINT8
    small = torch.ones(3, dtype=torch.int32, device="npu")
    assert torch.dot(small, small).item() == 3


def test_missing_operator_falls_back_with_one_warning_and_a_count(sim, monkeypatch):
    from ascend_compat import op_support
    from ascend_compat.sim import op_policy

    op = torch.ops.aten.histc.default
    monkeypatch.setattr(op_policy, "_INFO", {})
    monkeypatch.setattr(op_support, "is_supported", lambda name: "histc" not in name)
    x = torch.rand(100, device="npu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = torch.histc(x, bins=5)
        torch.histc(x, bins=5)
    fallbacks = [w for w in caught if issubclass(w.category, sim.NPUFallbackWarning)]
    assert len(fallbacks) == 1 and "aten::histc" in str(fallbacks[0].message)
    assert sim.fallback_report() == {"aten::histc": 2}
    torch.testing.assert_close(first.cpu(), torch.histc(x.cpu(), bins=5))
    sim.configure(fallback="error")
    with pytest.raises(RuntimeError, match="not in the NPU operator list"):
        torch.histc(x, bins=5)
    assert op.name() == "aten::histc"


def test_memory_statistics_follow_allocations(sim):
    before = torch.npu.memory_allocated()
    x = torch.empty(1024, 1024, device="npu")  # 4 MiB, padded by 32 bytes, rounded to 512
    assert torch.npu.memory_allocated() - before == (4 << 20) + 512
    view = x[:10]
    assert torch.npu.memory_allocated() - before == (4 << 20) + 512, "views share memory"
    assert torch.npu.memory_reserved() >= torch.npu.memory_allocated()
    peak = torch.npu.max_memory_allocated()
    del x, view
    assert torch.npu.memory_allocated() == before
    assert torch.npu.max_memory_allocated() == peak
    torch.npu.reset_peak_memory_stats()
    assert torch.npu.max_memory_allocated() == before
    reserved = torch.npu.memory_reserved()
    torch.npu.empty_cache()
    assert torch.npu.memory_reserved() <= reserved
    assert "Allocated memory" in torch.npu.memory_summary()
    assert torch.npu.memory_stats()["allocated_bytes.all.current"] == before
    free, total = torch.npu.mem_get_info()
    assert 0 < free <= total == torch.npu.get_device_properties(0).total_memory


MiB = 1 << 20


def test_caching_allocator_follows_torch_npu_rules(sim):
    """The figures torch_npu's NPUCachingAllocator gives (round_size, get_allocation_size, should_split)."""
    import gc

    gc.collect()
    torch.npu.empty_cache()
    allocated, reserved = torch.npu.memory_allocated, torch.npu.memory_reserved
    a0, r0 = allocated(), reserved()
    small = torch.empty(10, device="npu")                     # 40 bytes + 32 -> one 512-byte block
    assert (allocated() - a0, reserved() - r0) == (512, 2 * MiB), "small pool: a 2 MiB segment"
    exact = torch.empty(MiB // 4, device="npu")               # 1 MiB + 32 no longer fits the small pool
    assert allocated() - a0 == 512 + MiB + 512 and reserved() - r0 == 22 * MiB, "large pool: a 20 MiB segment"
    four = torch.empty(MiB, device="npu")                     # 4 MiB: shares the 20 MiB segment
    assert reserved() - r0 == 22 * MiB
    whole = torch.empty(31 * MiB // 8, device="npu")          # 15.5 MiB: its own 16 MiB segment, taken whole
    assert reserved() - r0 == 38 * MiB and allocated() - a0 == 512 + MiB + 512 + 4 * MiB + 512 + 16 * MiB
    stats = torch.npu.memory_stats()
    assert stats["requested_bytes.all.current"] - stats["requested_bytes.small_pool.current"] == 4 * MiB + MiB + 31 * MiB // 2
    assert stats["segment.large_pool.current"] >= 2 and stats["segment.small_pool.current"] >= 1
    del four
    torch.npu.empty_cache()
    assert reserved() - r0 == 38 * MiB, "a segment with a live block is not given back"
    del exact, whole
    torch.npu.empty_cache()
    assert reserved() - r0 == 2 * MiB, "wholly free large segments are given back"
    del small
    gc.collect()
    torch.npu.empty_cache()
    assert reserved() <= r0
    # each pool's cache serves only its own requests: freed small blocks do not hold a large one
    crumbs = [torch.empty(MiB // 8, device="npu") for _ in range(8)]  # 8 x 0.5 MiB: small pool
    del crumbs
    before = torch.npu.memory_stats()
    assert before["reserved_bytes.small_pool.current"] - before["allocated_bytes.small_pool.current"] >= 4 * MiB
    large = torch.empty(MiB // 2, device="npu")                        # 2 MiB: the large pool, a new segment
    after = torch.npu.memory_stats()
    assert after["reserved_bytes.small_pool.current"] == before["reserved_bytes.small_pool.current"]
    assert after["reserved_bytes.large_pool.current"] - before["reserved_bytes.large_pool.current"] == 20 * MiB
    del large


def test_memory_stats_has_torch_npus_key_set(sim):
    """torch_npu's THNPModule_memoryStats (Ascend/pytorch, torch_npu/csrc/npu/Module.cpp): nine pooled
    stats, two oversize stats and seven counters, flattened, sorted."""
    torch.npu.reset_accumulated_memory_stats()
    start = torch.npu.memory_stats()
    keep, gone = torch.ones(300, device="npu"), torch.ones(3 << 20, device="npu")
    del gone
    pooled = ("allocation", "segment", "active", "inactive_split", "allocated_bytes", "reserved_bytes",
              "active_bytes", "inactive_split_bytes", "requested_bytes")
    metrics = ("current", "peak", "allocated", "freed")
    expected = {f"{s}.{p}.{m}" for s in pooled for p in ("all", "small_pool", "large_pool") for m in metrics}
    expected |= {f"{s}.{m}" for s in ("oversize_allocations", "oversize_segments") for m in metrics}
    expected |= {"num_alloc_retries", "num_ooms", "max_split_size", "num_sync_all_streams", "num_device_alloc",
                 "num_device_free", "num_oom_rejections"}
    stats = torch.npu.memory_stats()
    assert set(stats) == expected and list(stats) == sorted(stats)
    assert stats["allocation.large_pool.allocated"] == stats["allocation.large_pool.freed"] == 1
    assert stats["requested_bytes.small_pool.current"] >= 1200 and stats["allocated_bytes.small_pool.current"] >= 1536
    assert stats["max_split_size"] == -1
    for s in pooled:
        for p in ("all", "small_pool", "large_pool"):
            current, peak, added, freed = (stats[f"{s}.{p}.{m}"] for m in metrics)
            assert 0 <= current <= peak, (s, p)
            if not s.startswith("inactive_split"):
                assert added - freed == current - start[f"{s}.{p}.current"], (s, p)
            if p == "all":
                assert current == stats[f"{s}.small_pool.current"] + stats[f"{s}.large_pool.current"]
    nested = torch.npu.memory_stats_as_nested_dict()
    assert nested["allocated_bytes"]["all"]["current"] == stats["allocated_bytes.all.current"]
    assert nested["num_ooms"] == stats["num_ooms"]
    summary = torch.npu.memory_summary()
    assert "from small pool" in summary and "NPU reserved segments" in summary
    assert "from small pool" not in torch.npu.memory_summary(abbreviated=True)
    torch.npu.reset_accumulated_memory_stats()
    again = torch.npu.memory_stats()
    assert again["allocation.all.allocated"] == again["allocation.all.freed"] == 0
    assert again["allocation.all.current"] == stats["allocation.all.current"]
    del keep


def test_out_of_memory_is_torch_style(sim):
    sim.configure(memory_gib=0.02)  # ~20 MiB device
    keep = torch.empty(3 << 20, device="npu")  # 12 MiB: a 14 MiB segment (a 4 MiB tensor would need 20 MiB)
    with pytest.raises(torch.OutOfMemoryError, match="NPU out of memory. Tried to allocate"):
        torch.empty(4 << 20, device="npu")
    with pytest.raises(torch.OutOfMemoryError):
        keep * 2
    assert torch.npu.memory_stats()["num_ooms"] >= 2


def test_timing_without_synchronize_is_wrong(sim):
    from ascend_compat.sim import timeline

    a = torch.ones(16 << 20, device="npu")  # 64 MiB: each pass is memory-bound on the device
    start, end = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
    host_before = timeline.host_time_us()
    start.record()
    for _ in range(5):
        a = a * 1.0001
    end.record()
    host_launch_only = timeline.host_time_us() - host_before
    assert not end.query(), "the device is still busy after the host has launched everything"
    # torch_npu's elapsed_time waits for both events (aclrtSynchronizeEvent): a right figure, and
    # a hidden synchronisation - the host clock jumps to the end event
    device_ms = start.elapsed_time(end)
    assert end.query()
    assert device_ms * 1000 > host_launch_only
    assert timeline.host_time_us() - host_before >= device_ms * 1000
    torch.npu.synchronize()
    assert start.elapsed_time(end) == device_ms


def test_elapsed_time_needs_recorded_timing_events(sim):
    start, end = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
    start.record()
    with pytest.raises(RuntimeError, match="Both events must be recorded"):
        start.elapsed_time(end)
    untimed = torch.npu.Event()
    untimed.record()
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        start.elapsed_time(untimed)


def test_simulated_time_is_deterministic(sim):
    from ascend_compat.sim import timeline

    def run():
        sim.reset()
        x = torch.ones(256, 256, device="npu")
        e0, e1 = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
        e0.record()
        for _ in range(5):
            x = torch.relu(x @ x) / 256
        e1.record()
        torch.npu.synchronize()
        return e0.elapsed_time(e1), timeline.host_time_us()

    assert run() == run()


def test_fp16_matmul_is_faster_than_fp32_in_the_model(sim):
    def device_ms(dtype):
        x = torch.ones(1024, 1024, device="npu", dtype=dtype)
        e0, e1 = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
        e0.record()
        x @ x
        e1.record()
        e1.synchronize()
        return e0.elapsed_time(e1)

    assert device_ms(torch.float16) < device_ms(torch.float32)


def test_autocast_policy(sim):
    model = torch.nn.Linear(4, 4).to("npu")
    x = torch.randn(2, 4, device="npu")
    with torch.amp.autocast("npu", dtype=torch.float16):
        y = model(x)
        s = torch.softmax(y, dim=-1)
        z = y + x
    assert y.dtype == torch.float16 and s.dtype == torch.float32 and z.dtype == torch.float32
    with torch.autocast("npu", dtype=torch.bfloat16):
        assert model(x).dtype == torch.bfloat16
    assert model(x).dtype == torch.float32


def test_grad_scaler_skips_steps_with_inf(sim):
    model = torch.nn.Linear(2, 1).to("npu")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("npu", init_scale=4.0)
    before = model.weight.detach().cpu().clone()
    loss = model(torch.tensor([[float("inf"), 1.0]], device="npu")).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert torch.equal(before, model.weight.detach().cpu()), "a step with inf gradients must be skipped"
    assert scaler.get_scale() == 2.0


def test_configure_rejects_bad_values(sim):
    with pytest.raises(UserError, match="device_count"):
        sim.configure(device_count=0)
    with pytest.raises(UserError, match="memory_gib"):
        sim.configure(memory_gib=-1)
    with pytest.raises(UserError, match="unknown setting"):
        sim.configure(colour="red")
    with pytest.raises(UserError, match="Ascend"):
        sim.configure(soc="Ascend9000")


def test_compile_mode_default_follows_the_soc_until_set(sim, monkeypatch):
    from ascend_compat.sim import npu_module

    monkeypatch.setitem(npu_module._COMPILE_MODE, "jit_compile", None)
    assert torch.npu.is_jit_compile_false(), "Atlas A2 (Ascend910B2) runs binary kernels by default"
    sim.configure(soc="Ascend910A")
    assert not torch.npu.is_jit_compile_false(), "Atlas training products (910A) compile online by default"
    torch.npu.set_compile_mode(jit_compile=False)
    assert torch.npu.is_jit_compile_false()
    torch.npu.set_compile_mode(jit_compile=True)
    assert not torch.npu.is_jit_compile_false()
