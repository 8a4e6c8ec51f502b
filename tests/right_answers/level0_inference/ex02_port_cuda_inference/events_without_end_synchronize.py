# cell: port_answer
# Events, and elapsed_time() right after recording without end.synchronize(): right on torch_npu,
# whose elapsed_time() waits for both events itself (NPUEvent::elapsed_time calls
# aclrtSynchronizeEvent). On CUDA the same code raises until the end event has completed.
def load_model():
    """DigitNet with its trained weights, on the NPU, ready for inference."""
    return zoo.load_digitnet().to("npu").eval()


def predict(model, images, batch_size=64):
    """Logits (N, 10) as a float32 CPU tensor, and the NPU time of the forward passes in milliseconds."""
    x = torch.from_numpy(zoo.preprocess(images))
    outputs = []
    start, end = torch.npu.Event(enable_timing=True), torch.npu.Event(enable_timing=True)
    with torch.no_grad():
        start.record()
        for i in range(0, len(x), batch_size):
            outputs.append(model(x[i:i + batch_size].to("npu", non_blocking=True)))
        end.record()
    elapsed_ms = start.elapsed_time(end)
    return torch.cat(outputs).cpu(), elapsed_ms
