# cell: benchmark_answer
# fails: benchmark_waits_for_the_device_visible, benchmark_waits_for_the_device_hidden, benchmark_skips_warmup_visible, benchmark_skips_warmup_hidden
# Half of the fix: the device is idle when the clock starts, but the clock stops as soon as the last
# call has been queued - it still measures launches.
def benchmark(fn, warmup=3, iters=10):
    """Average milliseconds of NPU time per call of fn(), after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    torch.npu.synchronize()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - start) * 1000 / iters
