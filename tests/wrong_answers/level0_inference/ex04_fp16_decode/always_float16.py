# cell: decode_answer
# fails: fp16_decode_visible, fp16_decode_hidden, fp16_read_output_hidden
# "This model outputs float16": hard-codes the dtype instead of asking the model description.
def decode_output(raw, model_desc, index):
    """Output `index` of the last execution, decoded from its buffer's bytes: dtype and dims from the model."""
    dims, ret = acl.mdl.get_cur_output_dims(model_desc, index)
    if ret != 0:
        raise RuntimeError(f"acl.mdl.get_cur_output_dims failed, ret={ret}")
    shape = dims["dims"]
    return np.frombuffer(raw, dtype=np.float16, count=int(np.prod(shape))).reshape(shape)
