# cell: benchmark_answer
# NPU events without end.synchronize(): right on torch_npu, whose elapsed_time() waits for both
# events itself (NPUEvent::elapsed_time calls aclrtSynchronizeEvent). On CUDA the same code raises.
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
