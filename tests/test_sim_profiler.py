"""The simulated profiler: per-op table, Chrome trace, deterministic figures; ``import torch_npu``."""

from __future__ import annotations

import json

import torch


def _workload():
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8)).to("npu")
    x = torch.randn(32, 64, device="npu")
    model(x).sum().backward()


def test_profile_table_and_trace(sim, tmp_path):
    import torch_npu

    with torch_npu.profiler.profile(activities=[torch_npu.profiler.ProfilerActivity.NPU], record_shapes=True) as prof:
        _workload()
    table = prof.key_averages()
    names = [op.name for op in table]
    assert "aten::addmm" in names and "aten::mm" in names
    assert table[0].device_time_us >= table[-1].device_time_us
    rendered = table.table(row_limit=5)
    assert "Device time" in rendered and "aten::" in rendered
    addmm = next(op for op in table if op.name == "aten::addmm")
    assert addmm.flops >= 2 * 32 * 64 * 64
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    kernels = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert kernels and all(e["dur"] > 0 and e["pid"] == 0 for e in kernels)
    assert any(e["args"]["shapes"] for e in kernels)


def test_profiles_are_identical_run_to_run(sim):
    import torch_npu

    def figures():
        sim.reset()
        torch.manual_seed(0)
        with torch_npu.profiler.profile() as prof:
            _workload()
        return [(op.name, op.calls, op.device_time_us) for op in prof.key_averages()]

    assert figures() == figures()


def test_profiling_does_not_change_simulated_time(sim):
    """With no profiler listening, most kernels take a shorter path through the timeline; the
    device and host clocks must come out the same either way."""
    import torch_npu

    from ascend_compat.sim import timeline

    def clocks(profiled: bool):
        sim.reset()
        torch.manual_seed(0)
        if profiled:
            with torch_npu.profiler.profile():
                _workload()
        else:
            _workload()
        device = timeline.device(0)
        return timeline.HOST.now, timeline.current_stream(0).ready, device.kernels, device.busy_us

    assert clocks(profiled=False) == clocks(profiled=True)
    assert clocks(profiled=False)[2] > 5


def test_trace_handler_writes_a_file(sim, tmp_path):
    import torch_npu

    with torch_npu.profiler.profile(on_trace_ready=torch_npu.profiler.tensorboard_trace_handler(str(tmp_path / "tb"))):
        _workload()
    assert list((tmp_path / "tb").glob("*.pt.trace.json"))


def test_torch_npu_stand_in(sim):
    import torch_npu

    assert torch_npu.npu is torch.npu and torch_npu.__version__ == "simulated"
    model = torch.nn.Linear(4, 2).to("npu")
    opt = torch_npu.optim.NpuFusedAdam(model.parameters(), lr=0.1)
    before = model.weight.detach().cpu().clone()
    model(torch.randn(3, 4, device="npu")).sum().backward()
    opt.step()
    assert not torch.equal(before, model.weight.detach().cpu())
    try:
        torch_npu.npu_format_cast
    except AttributeError as err:
        assert "npu_format_cast" in str(err)
    else:
        raise AssertionError("unknown torch_npu attributes must raise")
