# cell: benchmark_answer
# fails: benchmark_waits_for_the_device_visible, benchmark_waits_for_the_device_hidden, benchmark_skips_warmup_visible, benchmark_skips_warmup_hidden
# NPU events, as the CUDA documentation shows them - minus the wait for the end event. When the
# device is the bottleneck, elapsed_time() is asked before the NPU has reached the end event.
def benchmark(fn, warmup=3, iters=10):
    """Average milliseconds of NPU time per call of fn(), after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    start = torch.npu.Event(enable_timing=True)
    end = torch.npu.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    return start.elapsed_time(end) / iters
