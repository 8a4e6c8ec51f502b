# cell: decode_answer
# fails: fp16_decode_visible, fp16_decode_hidden, fp16_read_output_visible, fp16_read_output_hidden
# Passes the number of *bytes* as np.frombuffer's count, which counts elements: it asks for twice
# (float16) or four times (float32) more values than the buffer holds.
def decode_output(raw, model_desc, index):
    """Output `index` of the last execution, decoded from its buffer's bytes: dtype and dims from the model."""
    numpy_types = {0: np.float32, 1: np.float16, 2: np.int8, 3: np.int32, 4: np.uint8, 9: np.int64}
    dtype = np.dtype(numpy_types[acl.mdl.get_output_data_type(model_desc, index)])
    dims, ret = acl.mdl.get_cur_output_dims(model_desc, index)
    if ret != 0:
        raise RuntimeError(f"acl.mdl.get_cur_output_dims failed, ret={ret}")
    nbytes = int(np.prod(dims["dims"])) * dtype.itemsize
    return np.frombuffer(raw, dtype=dtype, count=nbytes).reshape(dims["dims"])
