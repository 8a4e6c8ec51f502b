# cell: classify_answer
# fails: classify_top5_visible, classify_top5_hidden
# np.argsort sorts in increasing order: the first five are the five *least* likely classes.
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST = 1, 2
DEVICE_ID = 0


def classify(model_path, image):
    """Top-5 of the DigitNet .om for one uint8 image (32, 32, 3): [(class_index, probability), ...], best first."""
    import contextlib

    def ok(ret, what):
        if ret != 0:
            raise RuntimeError(f"{what} failed, ret={ret}: {acl.get_recent_err_msg()}")

    def release(call, what, *args):
        ok(call(*args), what)

    x = zoo.preprocess(image)
    # After each successful create, register its release: on leaving the block, normally or by an
    # exception, ExitStack runs them last-first - the reverse order of creation.
    with contextlib.ExitStack() as undo:
        ok(acl.init(), "acl.init")
        undo.callback(release, acl.finalize, "acl.finalize")
        ok(acl.rt.set_device(DEVICE_ID), "acl.rt.set_device")
        undo.callback(release, acl.rt.reset_device, "acl.rt.reset_device", DEVICE_ID)
        context, ret = acl.rt.create_context(DEVICE_ID)
        ok(ret, "acl.rt.create_context")
        undo.callback(release, acl.rt.destroy_context, "acl.rt.destroy_context", context)
        stream, ret = acl.rt.create_stream()
        ok(ret, "acl.rt.create_stream")
        undo.callback(release, acl.rt.destroy_stream, "acl.rt.destroy_stream", stream)

        model_id, ret = acl.mdl.load_from_file(model_path)
        ok(ret, "acl.mdl.load_from_file")
        undo.callback(release, acl.mdl.unload, "acl.mdl.unload", model_id)
        desc = acl.mdl.create_desc()
        undo.callback(release, acl.mdl.destroy_desc, "acl.mdl.destroy_desc", desc)
        ok(acl.mdl.get_desc(desc, model_id), "acl.mdl.get_desc")

        buffers = []
        for kind, size in (("input", acl.mdl.get_input_size_by_index(desc, 0)),
                           ("output", acl.mdl.get_output_size_by_index(desc, 0))):
            device_ptr, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_HUGE_FIRST)
            ok(ret, f"acl.rt.malloc ({kind})")
            undo.callback(release, acl.rt.free, "acl.rt.free", device_ptr)
            dataset = acl.mdl.create_dataset()
            undo.callback(release, acl.mdl.destroy_dataset, "acl.mdl.destroy_dataset", dataset)
            data_buffer = acl.create_data_buffer(device_ptr, size)
            undo.callback(release, acl.destroy_data_buffer, "acl.destroy_data_buffer", data_buffer)
            _, ret = acl.mdl.add_dataset_buffer(dataset, data_buffer)
            ok(ret, f"acl.mdl.add_dataset_buffer ({kind})")
            buffers.append((dataset, device_ptr, size))
        (inputs, in_dev, in_size), (outputs, out_dev, out_size) = buffers
        if x.nbytes != in_size:
            raise ValueError(f"the model takes {in_size} bytes of input; this image gives {x.nbytes}")
        out_host, ret = acl.rt.malloc_host(out_size)
        ok(ret, "acl.rt.malloc_host")
        undo.callback(release, acl.rt.free_host, "acl.rt.free_host", out_host)

        x_bytes = x.tobytes()  # keep the bytes alive while their pointer is in use
        ok(acl.rt.memcpy(in_dev, in_size, acl.util.bytes_to_ptr(x_bytes), len(x_bytes), ACL_MEMCPY_HOST_TO_DEVICE),
           "acl.rt.memcpy (host to device)")
        ok(acl.mdl.execute(model_id, inputs, outputs), "acl.mdl.execute")
        ok(acl.rt.memcpy(out_host, out_size, out_dev, out_size, ACL_MEMCPY_DEVICE_TO_HOST),
           "acl.rt.memcpy (device to host)")
        logits = np.frombuffer(acl.util.ptr_to_bytes(out_host, out_size), dtype=np.float32)

    p = np.exp(logits - logits.max())
    p /= p.sum()
    best = np.argsort(p)[:5]
    return [(int(c), float(p[c])) for c in best]
