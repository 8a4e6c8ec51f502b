# cell: onnx_parity_check_answer
# fails: onnx_parity_check_visible, onnx_parity_check_hidden
# Demands bit-identical outputs: onnxruntime's kernels round differently, so correct files fail too.
def check_parity(onnx_path, model, inputs, batch_sizes=(1, 4, 16)):
    """onnxruntime vs PyTorch at each batch size; the largest |difference|, or AssertionError."""
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    for n in batch_sizes:
        with torch.inference_mode():
            expected = model.eval()(torch.from_numpy(inputs[:n])).numpy()
        got = session.run(None, {"images": inputs[:n]})[0]
        np.testing.assert_array_equal(got, expected)
    return 0.0
