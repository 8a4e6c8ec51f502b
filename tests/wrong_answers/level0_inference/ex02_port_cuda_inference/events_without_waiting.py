# cell: port_answer
# fails: port_timing_visible, port_timing_hidden
# Switches to events but asks for elapsed_time() right after recording, before the NPU has reached
# the end event (nothing has waited for the NPU yet). On a fast chip the NPU happens to be done
# before the host gets there and it works; on the Ascend310 of the timing tests elapsed_time() refuses.
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
