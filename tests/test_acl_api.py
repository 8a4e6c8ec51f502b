"""The simulated pyACL: every call the samples use, its return convention and its error codes."""

from __future__ import annotations

import numpy as np
import pytest

import ascend_compat.acl as acl
from ascend_compat import zoo
from ascend_compat.acl import constants as C
from ascend_compat.atc import convert


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("acl")
    onnx_path = zoo.export_onnx(str(folder / "digitnet.onnx"), batch=None)
    soc = acl.get_soc_name()
    return {
        "static": convert(model=onnx_path, output=str(folder / "static"), soc_version=soc,
                          input_shape="input:1,3,32,32", precision_mode="must_keep_origin_dtype"),
        "dynamic": convert(model=onnx_path, output=str(folder / "dynamic"), soc_version=soc,
                           input_shape="input:-1,3,32,32", dynamic_batch_size="1,2,4",
                           precision_mode="must_keep_origin_dtype"),
        "other_soc": convert(model=onnx_path, output=str(folder / "other"), input_shape="input:1,3,32,32",
                             soc_version="Ascend310" if soc != "Ascend310" else "Ascend310P3"),
        "onnx": onnx_path,
    }


@pytest.fixture
def device():
    acl.reset()
    assert acl.init() == C.ACL_SUCCESS
    assert acl.rt.set_device(0) == C.ACL_SUCCESS
    yield
    acl.reset()


def test_init_finalize_codes():
    acl.reset()
    assert acl.finalize() == C.ACL_ERROR_UNINITIALIZE
    assert acl.init() == 0
    assert acl.init() == C.ACL_ERROR_REPEAT_INITIALIZE == 100002
    assert "acl.init() was already called" in acl.get_recent_err_msg()
    assert acl.get_recent_err_msg() == ""  # read once
    assert acl.finalize() == 0
    assert acl.finalize() == C.ACL_ERROR_REPEAT_FINALIZE
    acl.reset()


def test_calls_before_init_return_uninitialize():
    acl.reset()
    assert acl.rt.set_device(0) == C.ACL_ERROR_UNINITIALIZE
    assert acl.rt.malloc(16, 0) == (0, C.ACL_ERROR_UNINITIALIZE)
    assert acl.rt.get_run_mode()[1] == C.ACL_ERROR_UNINITIALIZE


def test_devices_contexts_streams(device):
    _, _, count = acl._state.STATE.settings()
    assert acl.rt.set_device(count) == C.ACL_ERROR_RT_INVALID_DEVICEID
    assert acl.rt.get_device_count() == (count, 0)
    assert acl.rt.get_run_mode() == (C.ACL_HOST, 0)
    ctx, ret = acl.rt.create_context(0)
    assert ret == 0 and isinstance(ctx, int) and ctx
    assert acl.rt.get_context() == (ctx, 0)
    assert acl.rt.create_context(5)[1] == C.ACL_ERROR_RT_INVALID_DEVICEID
    stream, ret = acl.rt.create_stream()
    assert ret == 0
    assert acl.rt.synchronize_stream(stream) == 0
    assert acl.rt.destroy_stream(stream) == 0
    assert acl.rt.destroy_stream(stream) == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.synchronize_stream(stream) == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.set_context(ctx) == 0
    assert acl.rt.destroy_context(ctx) == 0
    assert acl.rt.destroy_context(ctx) == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.malloc(16, 0)[1] == C.ACL_ERROR_RT_CONTEXT_NULL  # destroyed the current context
    assert acl.rt.set_device(0) == 0  # back to the default context (the device's second set_device)
    assert acl.rt.reset_device(0) == 0
    assert any("device 0 set at" in line for line in acl.leaks()), "one set_device is still unmatched"
    assert acl.rt.reset_device(0) == 0
    assert acl.rt.reset_device(0) == C.ACL_ERROR_RT_INVALID_DEVICEID
    assert acl.finalize() == 0
    assert acl.leaks() == []


def test_set_device_is_reference_counted_and_reset_force_releases_at_once(device):
    """AscendCL counts set_device calls: the device's default context lives until as many
    reset_device calls; reset_device_force releases it whatever the count."""
    assert acl.rt.set_device(0) == 0
    assert acl.rt.set_device(0) == 0  # three in all (one from the fixture)
    assert "3 acl.rt.set_device calls not matched" in "\n".join(acl.leaks())
    assert acl.rt.reset_device(0) == 0
    assert acl.rt.reset_device(0) == 0
    assert acl.rt.malloc(16, 0)[1] == 0, "one set_device left: the default context still works"
    assert acl.rt.reset_device_force(0) == 0
    assert acl.rt.malloc(16, 0)[1] == C.ACL_ERROR_RT_CONTEXT_NULL
    assert acl.rt.reset_device_force(0) == C.ACL_ERROR_RT_INVALID_DEVICEID
    assert not any(line.startswith("device 0") for line in acl.leaks())


def test_memory_copies_all_kinds(device):
    host_src = np.arange(64, dtype=np.uint8)
    dev_a, ret = acl.rt.malloc(64, C.ACL_MEM_MALLOC_HUGE_FIRST)
    assert ret == 0 and dev_a
    dev_b, _ = acl.rt.malloc(64, C.ACL_MEM_MALLOC_NORMAL_ONLY)
    host_ptr, ret = acl.rt.malloc_host(64)
    assert ret == 0
    src_ptr = acl.util.numpy_to_ptr(host_src)
    assert acl.rt.memcpy(dev_a, 64, src_ptr, 64, C.ACL_MEMCPY_HOST_TO_DEVICE) == 0
    assert acl.rt.memcpy(dev_b, 64, dev_a, 64, C.ACL_MEMCPY_DEVICE_TO_DEVICE) == 0
    assert acl.rt.memcpy(host_ptr, 64, dev_b, 64, C.ACL_MEMCPY_DEVICE_TO_HOST) == 0
    np.testing.assert_array_equal(acl.util.ptr_to_numpy(host_ptr, (64,), C.NPY_UBYTE), host_src)
    out = bytes(64)
    assert acl.rt.memcpy(acl.util.bytes_to_ptr(out), 64, host_ptr, 64, C.ACL_MEMCPY_HOST_TO_HOST) == 0
    assert out == host_src.tobytes()  # like real pyACL: the bytes object now holds the data
    assert acl.util.ptr_to_bytes(host_ptr, 8) == bytes(range(8))
    assert acl.rt.memset(dev_a, 64, 7, 32) == 0
    assert acl.rt.memcpy(host_ptr, 64, dev_a, 64, C.ACL_MEMCPY_DEFAULT) == 0
    assert acl.util.ptr_to_bytes(host_ptr, 64) == bytes([7] * 32) + bytes(range(32, 64))
    assert acl.rt.memset(dev_a, 64, 0, 65) == C.ACL_ERROR_INVALID_PARAM
    floats = acl.util.ptr_to_numpy(host_ptr, (16,), C.NPY_FLOAT32)
    assert floats.dtype == np.float32 and floats.shape == (16,)
    free, total, ret = acl.rt.get_mem_info(0)
    assert ret == 0 and total - free == 128
    for ptr in (dev_a, dev_b):
        assert acl.rt.free(ptr) == 0
    assert acl.rt.free_host(host_ptr) == 0


def test_memory_error_codes(device):
    dev, _ = acl.rt.malloc(16, 0)
    small = np.zeros(32, dtype=np.uint8)
    ptr = acl.util.numpy_to_ptr(small)
    assert acl.rt.malloc(0, 0)[1] == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.malloc(16, 9)[1] == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.malloc(1 << 50, 0)[1] == C.ACL_ERROR_RT_MEMORY_ALLOCATION
    assert acl.rt.memcpy(dev, 16, ptr, 32, 1) == C.ACL_ERROR_INVALID_PARAM  # count > dest_max
    assert "larger than dest_max" in acl.get_recent_err_msg()
    assert acl.rt.memcpy(dev, 32, ptr, 32, 1) == C.ACL_ERROR_INVALID_PARAM  # larger than the buffer
    assert acl.rt.memcpy(dev, 16, ptr, 16, C.ACL_MEMCPY_DEVICE_TO_HOST) == C.ACL_ERROR_INVALID_PARAM  # wrong kind
    assert "host -> device" in acl.get_recent_err_msg()
    assert acl.rt.memcpy(dev, 16, ptr, 16, 9) == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.memcpy(dev, 16, 0xDEAD, 16, 1) == C.ACL_ERROR_INVALID_PARAM  # unknown pointer
    assert acl.rt.memcpy(dev + 8, 8, ptr, 8, 1) == 0  # pointer arithmetic inside a buffer is fine
    assert acl.rt.free(dev + 8) == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.free(ptr) == C.ACL_ERROR_INVALID_PARAM  # host memory
    assert acl.rt.free(dev) == 0
    assert acl.rt.free(dev) == C.ACL_ERROR_INVALID_PARAM  # double free
    assert "double free" in acl.get_recent_err_msg()
    assert acl.rt.memcpy(dev, 16, ptr, 16, 1) == C.ACL_ERROR_INVALID_PARAM  # use after free
    assert "use after free" in acl.get_recent_err_msg()
    assert acl.rt.free_host(ptr) == C.ACL_ERROR_INVALID_PARAM  # numpy memory is not malloc_host memory
    with pytest.raises(ValueError, match="device memory"):
        acl.util.ptr_to_bytes(acl.rt.malloc(8, 0)[0], 8)
    with pytest.raises(ValueError, match="C-contiguous"):
        acl.util.numpy_to_ptr(np.zeros((4, 4))[:, 1])
    with pytest.raises(TypeError):
        acl.util.bytes_to_ptr("text")


def _prepare(model_path, batch=1):
    model_id, ret = acl.mdl.load_from_file(model_path)
    assert ret == 0
    desc = acl.mdl.create_desc()
    assert acl.mdl.get_desc(desc, model_id) == 0
    return model_id, desc


def test_model_description(device, models):
    model_id, desc = _prepare(models["static"])
    assert acl.mdl.get_num_inputs(desc) == 1 and acl.mdl.get_num_outputs(desc) == 1
    assert acl.mdl.get_input_size_by_index(desc, 0) == 3 * 32 * 32 * 4
    assert acl.mdl.get_output_size_by_index(desc, 0) == 10 * 4
    assert acl.mdl.get_input_dims(desc, 0) == ({"name": "input", "dimCount": 4, "dims": [1, 3, 32, 32]}, 0)
    assert acl.mdl.get_output_dims(desc, 0) == ({"name": "output", "dimCount": 2, "dims": [1, 10]}, 0)
    assert acl.mdl.get_input_data_type(desc, 0) == C.ACL_FLOAT
    assert acl.mdl.get_output_data_type(desc, 0) == C.ACL_FLOAT
    assert acl.mdl.get_input_format(desc, 0) == C.ACL_FORMAT_NCHW
    assert acl.mdl.get_input_name_by_index(desc, 0) == "input"
    assert acl.mdl.get_output_name_by_index(desc, 0) == "output"
    assert acl.mdl.get_input_index_by_name(desc, "input") == (0, 0)
    assert acl.mdl.get_input_index_by_name(desc, "ascend_mbatch_shape_data")[1] != 0
    assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 0, "batch": []}, 0)
    # bad indexes and handles
    assert acl.mdl.get_input_size_by_index(desc, 3) == 0
    assert acl.mdl.get_input_dims(desc, 3)[1] == C.ACL_ERROR_INVALID_PARAM
    assert acl.mdl.get_desc(desc, 12345) == C.ACL_ERROR_INVALID_MODEL_ID
    assert acl.mdl.get_desc(999, model_id) == C.ACL_ERROR_INVALID_PARAM
    assert acl.mdl.destroy_desc(desc) == 0
    assert acl.mdl.destroy_desc(desc) == C.ACL_ERROR_INVALID_PARAM
    assert acl.mdl.unload(model_id) == 0
    assert acl.mdl.unload(model_id) == C.ACL_ERROR_INVALID_MODEL_ID


def test_load_errors(device, models, tmp_path):
    assert acl.mdl.load_from_file(str(tmp_path / "missing.om"))[1] == C.ACL_ERROR_READ_MODEL_FAILURE
    assert acl.mdl.load_from_file(models["onnx"])[1] == C.ACL_ERROR_PARSE_MODEL  # an ONNX file, not an .om
    data = open(models["static"], "rb").read()
    (tmp_path / "cut.om").write_bytes(data[:-10])
    assert acl.mdl.load_from_file(str(tmp_path / "cut.om"))[1] == C.ACL_ERROR_DESERIALIZE_MODEL
    assert "truncated" in acl.get_recent_err_msg()
    assert acl.mdl.load_from_file(models["other_soc"])[1] == C.ACL_ERROR_RT_SOC_VERSION
    assert f"--soc_version={acl.get_soc_name()}" in acl.get_recent_err_msg()
    ptr = acl.util.bytes_to_ptr(data)
    model_id, ret = acl.mdl.load_from_mem(ptr, len(data))
    assert ret == 0 and acl.mdl.unload(model_id) == 0


def _run_once(model_id, desc, images, stream=None):
    in_size, out_size = acl.mdl.get_input_size_by_index(desc, 0), acl.mdl.get_output_size_by_index(desc, 0)
    dev_in, _ = acl.rt.malloc(in_size, 0)
    dev_out, _ = acl.rt.malloc(out_size, 0)
    assert acl.rt.memcpy(dev_in, in_size, acl.util.numpy_to_ptr(images), images.nbytes, 1) == 0
    ins, outs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    in_buf, out_buf = acl.create_data_buffer(dev_in, in_size), acl.create_data_buffer(dev_out, out_size)
    assert acl.mdl.add_dataset_buffer(ins, in_buf) == (ins, 0)
    assert acl.mdl.add_dataset_buffer(outs, out_buf) == (outs, 0)
    assert acl.mdl.get_dataset_num_buffers(ins) == 1 and acl.mdl.get_dataset_buffer(ins, 0) == in_buf
    assert acl.get_data_buffer_addr(in_buf) == dev_in
    assert acl.get_data_buffer_size(in_buf) == acl.get_data_buffer_size_v2(in_buf) == in_size
    host = np.zeros(out_size // 4, dtype=np.float32)
    if stream is None:
        assert acl.mdl.execute(model_id, ins, outs) == 0
    else:
        assert acl.mdl.execute_async(model_id, ins, outs, stream) == 0
        acl.rt.memcpy(acl.util.numpy_to_ptr(host), out_size, dev_out, out_size, 2)
        assert not host.any()  # not synchronised yet: the output is not there
        assert acl.rt.synchronize_stream(stream) == 0
    acl.rt.memcpy(acl.util.numpy_to_ptr(host), out_size, dev_out, out_size, 2)
    for ds, buf in ((ins, in_buf), (outs, out_buf)):
        assert acl.destroy_data_buffer(buf) == 0
        assert acl.destroy_data_buffer(buf) == C.ACL_ERROR_INVALID_PARAM
        assert acl.mdl.destroy_dataset(ds) == 0
        assert acl.mdl.destroy_dataset(ds) == C.ACL_ERROR_INVALID_PARAM
    assert acl.rt.free(dev_in) == 0 and acl.rt.free(dev_out) == 0
    return host


def test_execute_and_execute_async_match_the_onnx_model(device, models):
    import onnxruntime as ort

    images, _ = zoo.digit_images("test")
    x = zoo.preprocess(images[:1])
    reference = ort.InferenceSession(models["onnx"]).run(None, {"input": x})[0].ravel()
    model_id, desc = _prepare(models["static"])
    np.testing.assert_array_equal(_run_once(model_id, desc, x), reference)
    stream, _ = acl.rt.create_stream()
    np.testing.assert_array_equal(_run_once(model_id, desc, x, stream), reference)
    assert acl.mdl.get_cur_output_dims(desc, 0) == ({"name": "output", "dimCount": 2, "dims": [1, 10]}, 0)
    assert acl.rt.destroy_stream(stream) == 0
    assert acl.mdl.destroy_desc(desc) == 0 and acl.mdl.unload(model_id) == 0


def test_execute_error_codes(device, models):
    model_id, desc = _prepare(models["static"])
    empty_in, empty_out = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    assert acl.mdl.execute(model_id, empty_in, empty_out) == C.ACL_ERROR_INVALID_PARAM
    assert acl.mdl.execute(424242, empty_in, empty_out) == C.ACL_ERROR_INVALID_MODEL_ID
    small, _ = acl.rt.malloc(16, 0)
    buf = acl.create_data_buffer(small, 16)
    acl.mdl.add_dataset_buffer(empty_in, buf)
    assert acl.mdl.execute(model_id, empty_in, empty_out) == C.ACL_ERROR_INVALID_PARAM
    assert "the model needs 12288" in acl.get_recent_err_msg()
    host = np.zeros(3 * 32 * 32, dtype=np.float32)
    host_in = acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(host_in, acl.create_data_buffer(acl.util.numpy_to_ptr(host), host.nbytes))
    assert acl.mdl.execute(model_id, host_in, empty_out) == C.ACL_ERROR_INVALID_PARAM
    assert "host memory" in acl.get_recent_err_msg()
    assert acl.mdl.add_dataset_buffer(empty_in, 77)[1] == C.ACL_ERROR_INVALID_PARAM
    assert acl.mdl.get_dataset_buffer(empty_in, 5) == 0


def test_dynamic_batch(device, models):
    model_id, desc = _prepare(models["dynamic"])
    assert acl.mdl.get_num_inputs(desc) == 2
    index, ret = acl.mdl.get_input_index_by_name(desc, "ascend_mbatch_shape_data")
    assert ret == 0 and index == 1
    assert acl.mdl.get_dynamic_batch(desc) == ({"batchCount": 3, "batch": [1, 2, 4]}, 0)
    assert acl.mdl.get_input_dims(desc, 0)[0]["dims"] == [-1, 3, 32, 32]
    assert acl.mdl.get_input_size_by_index(desc, 0) == 4 * 3 * 32 * 32 * 4  # largest batch
    images, _ = zoo.digit_images("test")
    x = zoo.preprocess(images[:2])
    in_size = acl.mdl.get_input_size_by_index(desc, 0)
    out_size = acl.mdl.get_output_size_by_index(desc, 0)
    dev_in, _ = acl.rt.malloc(in_size, 0)
    dev_out, _ = acl.rt.malloc(out_size, 0)
    dev_batch, _ = acl.rt.malloc(acl.mdl.get_input_size_by_index(desc, 1), 0)
    acl.rt.memcpy(dev_in, in_size, acl.util.numpy_to_ptr(x), x.nbytes, 1)
    ins, outs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(ins, acl.create_data_buffer(dev_in, in_size))
    acl.mdl.add_dataset_buffer(ins, acl.create_data_buffer(dev_batch, 8))
    acl.mdl.add_dataset_buffer(outs, acl.create_data_buffer(dev_out, out_size))
    assert acl.mdl.execute(model_id, ins, outs) == C.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert acl.mdl.set_dynamic_batch_size(model_id, ins, index, 3) == C.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID
    assert acl.mdl.set_dynamic_batch_size(model_id, ins, 0, 2) == C.ACL_ERROR_INVALID_PARAM
    assert acl.mdl.set_dynamic_batch_size(model_id, ins, index, 2) == 0
    assert acl.mdl.execute(model_id, ins, outs) == 0
    assert acl.mdl.get_cur_output_dims(desc, 0)[0]["dims"] == [2, 10]


def test_leak_tracker_lists_everything_not_released(device, models):
    model_id, desc = _prepare(models["static"])
    stream, _ = acl.rt.create_stream()
    ctx, _ = acl.rt.create_context(0)
    dev, _ = acl.rt.malloc(100, 0)
    host, _ = acl.rt.malloc_host(10)
    ds = acl.mdl.create_dataset()
    buf = acl.create_data_buffer(dev, 100)
    found = "\n".join(acl.leaks())
    for needle in ("device memory", "(100 bytes)", "host memory", "data buffer", "dataset", "model description",
                   "model ", "stream", "context", "device 0 set", "acl.init() without acl.finalize()"):
        assert needle in found, needle
    assert "test_acl_api.py:" in found  # where the learner created it
    # release in the right order: nothing left
    acl.destroy_data_buffer(buf)
    acl.mdl.destroy_dataset(ds)
    acl.rt.free(dev)
    acl.rt.free_host(host)
    acl.mdl.destroy_desc(desc)
    acl.mdl.unload(model_id)
    acl.rt.destroy_stream(stream)
    acl.rt.destroy_context(ctx)
    acl.rt.reset_device(0)
    acl.finalize()
    assert acl.leaks() == []
