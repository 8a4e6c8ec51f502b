# cell: benchmark_answer
# fails: benchmark_skips_warmup_visible, benchmark_skips_warmup_hidden
# Synchronised correctly, but the warm-up calls are inside the timed region and in the average:
# right as long as every call costs the same, wrong as soon as the first ones are slower.
def benchmark(fn, warmup=3, iters=10):
    """Average milliseconds of NPU time per call of fn(), after `warmup` untimed calls."""
    torch.npu.synchronize()
    start = time.perf_counter()
    for _ in range(warmup + iters):
        fn()
    torch.npu.synchronize()
    return (time.perf_counter() - start) * 1000 / (warmup + iters)
