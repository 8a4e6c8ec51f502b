# cell: classify_answer
# fails: classify_errors_visible, classify_errors_hidden
# The happy path of the samples without their checks: when load_from_file fails, everything after
# it carries on with model id 0 until something unrelated breaks.
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST = 1, 2
DEVICE_ID = 0


def classify(model_path, image):
    """Top-5 of the DigitNet .om for one uint8 image (32, 32, 3): [(class_index, probability), ...], best first."""
    x = zoo.preprocess(image)
    acl.init()
    acl.rt.set_device(DEVICE_ID)
    context, _ = acl.rt.create_context(DEVICE_ID)
    stream, _ = acl.rt.create_stream()
    model_id, _ = acl.mdl.load_from_file(model_path)
    desc = acl.mdl.create_desc()
    acl.mdl.get_desc(desc, model_id)
    in_size = acl.mdl.get_input_size_by_index(desc, 0)
    out_size = acl.mdl.get_output_size_by_index(desc, 0)
    in_dev, _ = acl.rt.malloc(in_size, ACL_MEM_MALLOC_HUGE_FIRST)
    out_dev, _ = acl.rt.malloc(out_size, ACL_MEM_MALLOC_HUGE_FIRST)
    out_host, _ = acl.rt.malloc_host(out_size)
    inputs, outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    in_buffer = acl.create_data_buffer(in_dev, in_size)
    out_buffer = acl.create_data_buffer(out_dev, out_size)
    acl.mdl.add_dataset_buffer(inputs, in_buffer)
    acl.mdl.add_dataset_buffer(outputs, out_buffer)

    x_bytes = x.tobytes()
    acl.rt.memcpy(in_dev, in_size, acl.util.bytes_to_ptr(x_bytes), len(x_bytes), ACL_MEMCPY_HOST_TO_DEVICE)
    acl.mdl.execute(model_id, inputs, outputs)
    acl.rt.memcpy(out_host, out_size, out_dev, out_size, ACL_MEMCPY_DEVICE_TO_HOST)
    logits = np.frombuffer(acl.util.ptr_to_bytes(out_host, out_size), dtype=np.float32)

    acl.destroy_data_buffer(in_buffer)
    acl.destroy_data_buffer(out_buffer)
    acl.mdl.destroy_dataset(inputs)
    acl.mdl.destroy_dataset(outputs)
    acl.rt.free(in_dev)
    acl.rt.free(out_dev)
    acl.rt.free_host(out_host)
    acl.mdl.destroy_desc(desc)
    acl.mdl.unload(model_id)
    acl.rt.destroy_stream(stream)
    acl.rt.destroy_context(context)
    acl.rt.reset_device(DEVICE_ID)
    acl.finalize()
    p = np.exp(logits - logits.max())
    p /= p.sum()
    best = np.argsort(p)[::-1][:5]
    return [(int(c), float(p[c])) for c in best]
