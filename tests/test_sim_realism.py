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
    x = torch.empty(1024, 1024, device="npu")  # 4 MiB
    assert torch.npu.memory_allocated() - before == 4 << 20
    view = x[:10]
    assert torch.npu.memory_allocated() - before == 4 << 20, "views share memory"
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


def test_out_of_memory_is_torch_style(sim):
    sim.configure(memory_gib=0.01)  # ~10 MiB device
    keep = torch.empty(2 << 20, device="npu")  # 8 MiB
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
