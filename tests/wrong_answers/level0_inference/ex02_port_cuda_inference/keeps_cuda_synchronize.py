# cell: port_answer
# fails: port_predict_visible, port_predict_hidden, port_timing_visible, port_timing_hidden, port_no_cuda_visible, port_no_cuda_hidden
# Renames .cuda() but keeps torch.cuda.synchronize(): on a machine without a GPU it raises.
def load_model():
    """DigitNet with its trained weights, on the NPU, ready for inference."""
    return zoo.load_digitnet().npu().eval()


def predict(model, images, batch_size=64):
    """Logits (N, 10) as a float32 CPU tensor, and the NPU time of the forward passes in milliseconds."""
    x = torch.from_numpy(zoo.preprocess(images))
    outputs = []
    torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            batch = x[i:i + batch_size].npu(non_blocking=True)
            outputs.append(model(batch))
    torch.cuda.synchronize()
    elapsed_ms = (time.perf_counter() - start) * 1000
    return torch.cat(outputs).cpu(), elapsed_ms
