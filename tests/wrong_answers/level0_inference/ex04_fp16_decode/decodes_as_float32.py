# cell: decode_answer
# fails: fp16_decode_visible, fp16_decode_hidden, fp16_read_output_visible, fp16_read_output_hidden
# The samples' habit: every output is float32. The dims are read, but the 20 bytes of a float16
# (1, 10) output hold only 5 float32 values.
def decode_output(raw, model_desc, index):
    """Output `index` of the last execution, decoded from its buffer's bytes: dtype and dims from the model."""
    dims, ret = acl.mdl.get_cur_output_dims(model_desc, index)
    if ret != 0:
        raise RuntimeError(f"acl.mdl.get_cur_output_dims failed, ret={ret}")
    return np.frombuffer(raw, dtype=np.float32).reshape(dims["dims"])
