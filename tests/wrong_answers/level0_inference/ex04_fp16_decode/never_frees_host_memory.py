# cell: read_output_answer
# fails: fp16_read_output_visible, fp16_read_output_hidden
# Copies and decodes correctly, but the host memory from acl.rt.malloc_host is never freed: one
# small leak per request.
def read_output(output_dataset, model_desc, index):
    """Output `index` of the last execution, copied from the device and decoded."""
    buffer = acl.mdl.get_dataset_buffer(output_dataset, index)
    device_ptr, size = acl.get_data_buffer_addr(buffer), acl.get_data_buffer_size_v2(buffer)
    host_ptr, ret = acl.rt.malloc_host(size)
    if ret != 0:
        raise RuntimeError(f"acl.rt.malloc_host failed, ret={ret}")
    ret = acl.rt.memcpy(host_ptr, size, device_ptr, size, ACL_MEMCPY_DEVICE_TO_HOST)
    if ret != 0:
        raise RuntimeError(f"acl.rt.memcpy failed, ret={ret}")
    return decode_output(acl.util.ptr_to_bytes(host_ptr, size), model_desc, index)
