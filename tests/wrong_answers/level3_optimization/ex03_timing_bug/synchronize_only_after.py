# cell: benchmark_answer
# fails: benchmark_waits_for_the_device_visible, benchmark_waits_for_the_device_hidden, benchmark_skips_warmup_visible, benchmark_skips_warmup_hidden
# The other half: the clock stops when the device is done, but it started while the warm-up calls
# (and whatever was queued before) were still running on the NPU.
def benchmark(fn, warmup=3, iters=10):
    """Average milliseconds of NPU time per call of fn(), after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    torch.npu.synchronize()
    return (time.perf_counter() - start) * 1000 / iters
