# cell: onnx_parity_check_answer
# fails: onnx_parity_check_hidden
# A tight tolerance, but only the first image is ever compared: batch_sizes is ignored.
def check_parity(onnx_path, model, inputs, batch_sizes=(1, 4, 16)):
    """onnxruntime vs PyTorch at each batch size; the largest |difference|, or AssertionError."""
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    batch = np.ascontiguousarray(inputs[:1])
    with torch.inference_mode():
        expected = model.eval()(torch.from_numpy(batch))
    got = torch.from_numpy(session.run(None, {"images": batch})[0])
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    return (got - expected).abs().max().item()
