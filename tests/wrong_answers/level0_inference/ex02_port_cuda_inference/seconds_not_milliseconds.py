# cell: port_answer
# fails: port_timing_visible, port_timing_hidden
# Synchronises correctly, but returns perf_counter()'s seconds where milliseconds were promised.
def load_model():
    """DigitNet with its trained weights, on the NPU, ready for inference."""
    return zoo.load_digitnet().to("npu").eval()


def predict(model, images, batch_size=64):
    """Logits (N, 10) as a float32 CPU tensor, and the NPU time of the forward passes in milliseconds."""
    x = torch.from_numpy(zoo.preprocess(images))
    outputs = []
    torch.npu.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            outputs.append(model(x[i:i + batch_size].to("npu")))
    torch.npu.synchronize()
    return torch.cat(outputs).cpu(), time.perf_counter() - start
