# cell: port_answer
# fails: port_timing_visible, port_timing_hidden
# "The NPU does not need CUDA calls": every torch.cuda line deleted, so the clock stops while the
# NPU is still computing and measures only the launches.
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
    elapsed_ms = (time.perf_counter() - start) * 1000
    return torch.cat(outputs).cpu(), elapsed_ms
