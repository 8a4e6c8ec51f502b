# cell: tolerance_answer
# fails: fp16_tolerance_hidden
# Compares only the predicted class: a logit off by 0.5, or every logit 5 % too large, passes as
# long as the winner stays the same.
def agrees_with_fp32(output, reference):
    """True when a float16 `output` matches the float32 `reference` as closely as float16 allows."""
    output, reference = np.asarray(output), np.asarray(reference)
    if output.shape != reference.shape:
        return False
    return bool(np.array_equal(output.argmax(axis=-1), reference.argmax(axis=-1)))
