# cell: port_answer
# fails: port_no_cuda_visible
# A correct port that keeps the cuDNN flag "because it is harmless": it does nothing on the NPU and
# tells the next reader that cuDNN tunes these convolutions.
torch.backends.cudnn.benchmark = True


def load_model():
    """DigitNet with its trained weights, on the NPU, ready for inference."""
    return zoo.load_digitnet().npu().eval()


def predict(model, images, batch_size=64):
    """Logits (N, 10) as a float32 CPU tensor, and the NPU time of the forward passes in milliseconds."""
    x = torch.from_numpy(zoo.preprocess(images))
    outputs = []
    torch.npu.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            batch = x[i:i + batch_size].npu(non_blocking=True)
            outputs.append(model(batch))
    torch.npu.synchronize()
    elapsed_ms = (time.perf_counter() - start) * 1000
    return torch.cat(outputs).cpu(), elapsed_ms
