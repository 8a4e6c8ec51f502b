# cell: tolerance_answer
# fails: fp16_tolerance_visible, fp16_tolerance_hidden
# np.allclose with its defaults (rtol=1e-5, atol=1e-8) is made for float64: it rejects every
# float16 result.
def agrees_with_fp32(output, reference):
    """True when a float16 `output` matches the float32 `reference` as closely as float16 allows."""
    output, reference = np.asarray(output), np.asarray(reference)
    return output.shape == reference.shape and bool(np.allclose(output, reference))
