# cell: tolerance_answer
# fails: fp16_tolerance_hidden
# "float16 is imprecise anyway": a 10 % tolerance lets real errors through.
def agrees_with_fp32(output, reference):
    """True when a float16 `output` matches the float32 `reference` as closely as float16 allows."""
    output, reference = np.asarray(output), np.asarray(reference)
    if output.shape != reference.shape:
        return False
    return bool(np.allclose(output.astype(np.float32), reference, rtol=0.1, atol=0.5))
