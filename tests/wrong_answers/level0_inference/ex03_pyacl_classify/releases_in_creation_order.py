# cell: classify_answer
# fails: classify_releases_visible, classify_releases_hidden, classify_errors_hidden
# Releases everything, but in the order of creation: acl.finalize() first, so each later release
# returns an error code that nobody reads, and all of it stays allocated.
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST = 1, 2
DEVICE_ID = 0


def check_ret(ret, what):
    if ret != 0:
        raise RuntimeError(f"{what} failed, ret={ret}")


def classify(model_path, image):
    """Top-5 of the DigitNet .om for one uint8 image (32, 32, 3): [(class_index, probability), ...], best first."""
    x = zoo.preprocess(image)
    check_ret(acl.init(), "acl.init")
    check_ret(acl.rt.set_device(DEVICE_ID), "acl.rt.set_device")
    context, ret = acl.rt.create_context(DEVICE_ID)
    check_ret(ret, "acl.rt.create_context")
    stream, ret = acl.rt.create_stream()
    check_ret(ret, "acl.rt.create_stream")
    model_id, ret = acl.mdl.load_from_file(model_path)
    check_ret(ret, "acl.mdl.load_from_file")
    desc = acl.mdl.create_desc()
    check_ret(acl.mdl.get_desc(desc, model_id), "acl.mdl.get_desc")
    in_size = acl.mdl.get_input_size_by_index(desc, 0)
    out_size = acl.mdl.get_output_size_by_index(desc, 0)
    in_dev, ret = acl.rt.malloc(in_size, ACL_MEM_MALLOC_HUGE_FIRST)
    check_ret(ret, "acl.rt.malloc")
    out_dev, ret = acl.rt.malloc(out_size, ACL_MEM_MALLOC_HUGE_FIRST)
    check_ret(ret, "acl.rt.malloc")
    out_host, ret = acl.rt.malloc_host(out_size)
    check_ret(ret, "acl.rt.malloc_host")
    inputs, outputs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    in_buffer = acl.create_data_buffer(in_dev, in_size)
    out_buffer = acl.create_data_buffer(out_dev, out_size)
    check_ret(acl.mdl.add_dataset_buffer(inputs, in_buffer)[1], "acl.mdl.add_dataset_buffer")
    check_ret(acl.mdl.add_dataset_buffer(outputs, out_buffer)[1], "acl.mdl.add_dataset_buffer")

    x_bytes = x.tobytes()
    check_ret(acl.rt.memcpy(in_dev, in_size, acl.util.bytes_to_ptr(x_bytes), len(x_bytes), ACL_MEMCPY_HOST_TO_DEVICE),
              "acl.rt.memcpy")
    check_ret(acl.mdl.execute(model_id, inputs, outputs), "acl.mdl.execute")
    check_ret(acl.rt.memcpy(out_host, out_size, out_dev, out_size, ACL_MEMCPY_DEVICE_TO_HOST), "acl.rt.memcpy")
    logits = np.frombuffer(acl.util.ptr_to_bytes(out_host, out_size), dtype=np.float32)

    # release what we created, in the order we created it
    acl.finalize()
    acl.rt.reset_device(DEVICE_ID)
    acl.rt.destroy_context(context)
    acl.rt.destroy_stream(stream)
    acl.mdl.unload(model_id)
    acl.mdl.destroy_desc(desc)
    acl.rt.free(in_dev)
    acl.rt.free(out_dev)
    acl.rt.free_host(out_host)
    acl.mdl.destroy_dataset(inputs)
    acl.mdl.destroy_dataset(outputs)
    acl.destroy_data_buffer(in_buffer)
    acl.destroy_data_buffer(out_buffer)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    best = np.argsort(p)[::-1][:5]
    return [(int(c), float(p[c])) for c in best]
