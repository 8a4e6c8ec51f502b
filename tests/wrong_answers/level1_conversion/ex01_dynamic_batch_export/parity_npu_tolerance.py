# cell: onnx_parity_check_answer
# fails: onnx_parity_check_visible, onnx_parity_check_hidden
# Every batch size is run, but with the float16 (NPU) tolerances of the atc lesson: real bugs pass.
def check_parity(onnx_path, model, inputs, batch_sizes=(1, 4, 16)):
    """onnxruntime vs PyTorch at each batch size; the largest |difference|, or AssertionError."""
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    worst = 0.0
    for n in batch_sizes:
        with torch.inference_mode():
            expected = model.eval()(torch.from_numpy(inputs[:n])).numpy()
        got = session.run(None, {"images": inputs[:n]})[0]
        np.testing.assert_allclose(got, expected, rtol=1e-2, atol=5e-2)
        worst = max(worst, float(np.abs(got - expected).max()))
    return worst
