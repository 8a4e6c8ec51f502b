# cell: benchmark_answer
# fails: benchmark_waits_for_the_device_visible, benchmark_waits_for_the_device_hidden, benchmark_skips_warmup_visible, benchmark_skips_warmup_hidden
# Synchronised on both sides, but timed with the CPU-time clock: time.process_time() counts only the
# host's own work (queuing the kernels), not the time the NPU computes while the host waits.
def benchmark(fn, warmup=3, iters=10):
    """Average milliseconds of NPU time per call of fn(), after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    torch.npu.synchronize()
    start = time.process_time()
    for _ in range(iters):
        fn()
    torch.npu.synchronize()
    return (time.process_time() - start) * 1000 / iters
