# cell: port_answer
# fails: port_no_cuda_visible, port_no_cuda_hidden
# "Works on both": prefers CUDA when a GPU is there, so on a server with an NPU and a GPU the
# port runs on the GPU.
def load_model():
    """DigitNet with its trained weights, on the NPU, ready for inference."""
    device = torch.device("cuda" if torch.cuda.is_available() else "npu")
    return zoo.load_digitnet().to(device).eval()


def predict(model, images, batch_size=64):
    """Logits (N, 10) as a float32 CPU tensor, and the NPU time of the forward passes in milliseconds."""
    device = next(model.parameters()).device
    x = torch.from_numpy(zoo.preprocess(images))
    outputs = []
    torch.accelerator.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            outputs.append(model(x[i:i + batch_size].to(device)))
    torch.accelerator.synchronize()
    return torch.cat(outputs).cpu(), (time.perf_counter() - start) * 1000
