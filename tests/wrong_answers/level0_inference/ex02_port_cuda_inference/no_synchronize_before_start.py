# cell: port_answer
# fails: port_timing_hidden
# Waits for the NPU before stopping the clock, but not before starting it: work queued before the
# call is counted as if predict() had done it.
def load_model():
    """DigitNet with its trained weights, on the NPU, ready for inference."""
    return zoo.load_digitnet().npu().eval()


def predict(model, images, batch_size=64):
    """Logits (N, 10) as a float32 CPU tensor, and the NPU time of the forward passes in milliseconds."""
    x = torch.from_numpy(zoo.preprocess(images))
    outputs = []
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            batch = x[i:i + batch_size].npu(non_blocking=True)
            outputs.append(model(batch))
    torch.npu.synchronize()
    elapsed_ms = (time.perf_counter() - start) * 1000
    return torch.cat(outputs).cpu(), elapsed_ms
