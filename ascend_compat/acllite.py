"""acllite-style helpers: ``AclLiteResource``, ``AclLiteModel``, ``AclLiteImage``.

The newer Ascend samples wrap pyACL in a small library (Ascend/samples ``python/common/acllite``:
``acllite_resource.py``, ``acllite_model.py``, ``acllite_image.py``). These classes have the same
names, constructor arguments, methods and behaviour, written for this course on top of whichever
``acl`` is live (real pyACL if installed, else :mod:`ascend_compat.acl`)::

    resource = AclLiteResource(device_id=0); resource.init()
    model = AclLiteModel("digitnet.om")
    outputs = model.execute([image_array])     # list of numpy arrays, one per model output
    model.destroy(); resource.release()         # (the samples rely on __del__; explicit is better)

Behaviour kept from the samples: ``execute`` takes numpy arrays, ``AclLiteImage`` objects or
``{"data": dev_ptr, "size": n}`` dicts; input device buffers are allocated on first use and reused
while the size stays the same; outputs are copied to numpy; ``AclLiteResource`` destroys every
registered model before resetting the device; a dynamic-batch model takes
``execute(inputs)`` with the batch inferred from the input size.
"""

from __future__ import annotations

import os

import numpy as np

from ascend_compat.launcher import install_acl

acl = install_acl()

SUCCESS, FAILED = 0, 1
ACL_HOST = 1
ACL_MEM_MALLOC_NORMAL_ONLY = 2
ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST, ACL_MEMCPY_DEVICE_TO_DEVICE = 1, 2, 3
_NP_BY_ACL = {0: np.float32, 1: np.float16, 2: np.int8, 3: np.int32, 4: np.uint8, 6: np.int16, 7: np.uint16,
              8: np.uint32, 9: np.int64, 10: np.uint64, 11: np.float64, 12: np.bool_}
DYNAMIC_BATCH_INPUT = "ascend_mbatch_shape_data"


class AclLiteError(RuntimeError):
    """An acl call failed; the message names the call and its ret code (like acllite's check_ret)."""


def check_ret(message: str, ret: int) -> None:
    if ret != 0:
        raise AclLiteError(f"{message} failed ret={ret}")


class _ResourceList:
    """Objects holding acl resources, destroyed before the device is reset."""

    def __init__(self) -> None:
        self.resources: list = []

    def register(self, resource) -> None:
        self.resources.append(resource)

    def unregister(self, resource) -> None:
        self.resources = [r for r in self.resources if r is not resource]

    def destroy(self) -> None:
        while self.resources:
            self.resources.pop().destroy()


resource_list = _ResourceList()


class AclLiteResource:
    """Initialise AscendCL, a device, a context and a stream (``init()``), release them all (``release()``)."""

    def __init__(self, device_id: int = 0):
        self.device_id = device_id
        self.context = None
        self.stream = None
        self.run_mode = None
        self._initialised = False

    def init(self) -> None:
        check_ret("acl.init", acl.init())
        self._initialised = True
        check_ret("acl.rt.set_device", acl.rt.set_device(self.device_id))
        self.context, ret = acl.rt.create_context(self.device_id)
        check_ret("acl.rt.create_context", ret)
        self.stream, ret = acl.rt.create_stream()
        check_ret("acl.rt.create_stream", ret)
        self.run_mode, ret = acl.rt.get_run_mode()
        check_ret("acl.rt.get_run_mode", ret)

    def release(self) -> None:
        """Destroy registered models/images, then the stream, the context, the device and AscendCL."""
        if not self._initialised:
            return
        resource_list.destroy()
        if self.stream:
            acl.rt.destroy_stream(self.stream)
            self.stream = None
        if self.context:
            acl.rt.destroy_context(self.context)
            self.context = None
        acl.rt.reset_device(self.device_id)
        acl.finalize()
        self._initialised = False

    def __del__(self):
        try:
            self.release()
        except Exception:  # never raise from a destructor at interpreter exit
            pass


class AclLiteImage:
    """Image bytes for a model input: a file path (.jpg/.png read as encoded bytes), a numpy array,
    or a device pointer with ``size``. ``data()`` gives a pointer, ``size`` the bytes."""

    def __init__(self, image, width: int = 0, height: int = 0, align_width: int = 0, align_height: int = 0,
                 size: int = 0, memory_type: int = 0):
        self.width, self.height = width, height
        self.align_width, self.align_height = align_width, align_height
        self._memory_type = memory_type
        self._bytes = None
        self._load_ok = True
        if isinstance(image, str):
            from PIL import Image

            self._data = np.fromfile(image, dtype=np.byte)
            with Image.open(image) as img:
                self.width, self.height = img.size
            self.size = self._data.nbytes
        elif isinstance(image, np.ndarray):
            self._data = np.ascontiguousarray(image)
            self.size = self._data.nbytes
            if not width and image.ndim >= 2:
                self.height, self.width = image.shape[-3:-1] if image.ndim >= 3 else image.shape
        elif isinstance(image, int):
            self._data, self.size = image, size
        else:
            self._load_ok = False
            raise TypeError(f"AclLiteImage takes a path, a numpy array or a device pointer, not {type(image).__name__}")

    def is_loaded(self) -> bool:
        return self._load_ok

    def data(self) -> int:
        if isinstance(self._data, np.ndarray):
            self._bytes = self._data.tobytes()
            return acl.util.bytes_to_ptr(self._bytes)
        return self._data

    def byte_data_to_np_array(self) -> np.ndarray:
        if isinstance(self._data, np.ndarray):
            return self._data.copy()
        out = bytes(self.size)
        check_ret("acl.rt.memcpy", acl.rt.memcpy(acl.util.bytes_to_ptr(out), self.size, self._data, self.size,
                                                 ACL_MEMCPY_DEVICE_TO_HOST))
        return np.frombuffer(out, dtype=np.uint8).copy()

    def destroy(self) -> None:
        self._data, self.size, self._bytes = None, 0, None


class AclLiteModel:
    """Load an .om, keep its output buffers, and turn ``execute([inputs])`` into numpy outputs."""

    def __init__(self, model_path: str, load_type: int = 0):
        self._run_mode, ret = acl.rt.get_run_mode()
        check_ret("acl.rt.get_run_mode", ret)
        self._copy_policy = ACL_MEMCPY_DEVICE_TO_HOST if self._run_mode == ACL_HOST else ACL_MEMCPY_DEVICE_TO_DEVICE
        self._model_path = model_path
        self._model_id = None
        self._model_desc = None
        self._input_buffers: list[dict] = []
        self._output_dataset = None
        self._output_buffers: list[tuple[int, int]] = []
        self._is_destroyed = False
        if not os.path.isfile(model_path):
            raise AclLiteError(f"model_path {model_path!r} does not exist")
        if load_type == 0:
            self._model_id, ret = acl.mdl.load_from_file(model_path)
            check_ret("acl.mdl.load_from_file", ret)
        elif load_type == 1:
            with open(model_path, "rb") as handle:
                self._om_bytes = handle.read()
            self._model_id, ret = acl.mdl.load_from_mem(acl.util.bytes_to_ptr(self._om_bytes), len(self._om_bytes))
            check_ret("acl.mdl.load_from_mem", ret)
        else:
            raise AclLiteError(f"load_type must be 0 (file) or 1 (memory), not {load_type!r}")
        self._model_desc = acl.mdl.create_desc()
        check_ret("acl.mdl.get_desc", acl.mdl.get_desc(self._model_desc, self._model_id))
        self._gen_output_dataset()
        self._input_num = acl.mdl.get_num_inputs(self._model_desc)
        self._dynamic_index, ret = acl.mdl.get_input_index_by_name(self._model_desc, DYNAMIC_BATCH_INPUT)
        if ret != 0:
            self._dynamic_index = None
        self._input_buffers = [{"addr": None, "size": 0} for _ in range(self._input_num)]
        resource_list.register(self)

    def _gen_output_dataset(self) -> None:
        self._output_dataset = acl.mdl.create_dataset()
        for i in range(acl.mdl.get_num_outputs(self._model_desc)):
            size = acl.mdl.get_output_size_by_index(self._model_desc, i)
            buf, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_NORMAL_ONLY)
            check_ret("acl.rt.malloc", ret)
            self._output_buffers.append((buf, size))
            _, ret = acl.mdl.add_dataset_buffer(self._output_dataset, acl.create_data_buffer(buf, size))
            check_ret("acl.mdl.add_dataset_buffer", ret)

    def _to_device(self, index: int, ptr: int, size: int) -> int:
        item = self._input_buffers[index]
        if item["addr"] is None or item["size"] != size:
            if item["addr"] is not None:
                acl.rt.free(item["addr"])
            item["addr"], ret = acl.rt.malloc(size, ACL_MEM_MALLOC_NORMAL_ONLY)
            check_ret("acl.rt.malloc", ret)
            item["size"] = size
        kind = ACL_MEMCPY_HOST_TO_DEVICE if self._run_mode == ACL_HOST else ACL_MEMCPY_DEVICE_TO_DEVICE
        check_ret("acl.rt.memcpy", acl.rt.memcpy(item["addr"], size, ptr, size, kind))
        return item["addr"]

    def execute(self, input_list: list) -> list[np.ndarray]:
        """Run the model; ``input_list`` holds numpy arrays, AclLiteImage or {"data", "size"} dicts."""
        inputs = list(input_list)
        batch = None
        if self._dynamic_index is not None:
            per_sample = acl.mdl.get_input_size_by_index(self._model_desc, 0) // max(
                acl.mdl.get_dynamic_batch(self._model_desc)[0]["batch"])
            first = inputs[0]
            first_size = first.nbytes if isinstance(first, np.ndarray) else getattr(first, "size", 0) or first["size"]
            batch = first_size // per_sample
            size = acl.mdl.get_input_size_by_index(self._model_desc, self._dynamic_index)
            inputs.insert(self._dynamic_index, {"data": self._dynamic_buffer(size), "size": size})
        if len(inputs) != self._input_num:
            raise AclLiteError(f"the model has {self._input_num} input(s), got {len(inputs)}")
        dataset = acl.mdl.create_dataset()
        try:
            for i, item in enumerate(inputs):
                if isinstance(item, np.ndarray):
                    data = np.ascontiguousarray(item).tobytes()
                    ptr, size = self._to_device(i, acl.util.bytes_to_ptr(data), len(data)), len(data)
                elif isinstance(item, AclLiteImage):
                    ptr, size = self._to_device(i, item.data(), item.size), item.size
                elif isinstance(item, dict) and {"data", "size"} <= set(item):
                    ptr, size = item["data"], item["size"]
                else:
                    raise AclLiteError(f"input {i}: unsupported type {type(item).__name__}")
                _, ret = acl.mdl.add_dataset_buffer(dataset, acl.create_data_buffer(ptr, size))
                check_ret("acl.mdl.add_dataset_buffer", ret)
            if batch is not None:
                check_ret("acl.mdl.set_dynamic_batch_size",
                          acl.mdl.set_dynamic_batch_size(self._model_id, dataset, self._dynamic_index, batch))
            check_ret("acl.mdl.execute", acl.mdl.execute(self._model_id, dataset, self._output_dataset))
        finally:
            _release_dataset(dataset)
        return self._outputs_to_numpy()

    def _dynamic_buffer(self, size: int) -> int:
        if getattr(self, "_batch_buf", None) is None:
            self._batch_buf, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_NORMAL_ONLY)
            check_ret("acl.rt.malloc", ret)
        return self._batch_buf

    def _outputs_to_numpy(self) -> list[np.ndarray]:
        results = []
        for i, (buf, size) in enumerate(self._output_buffers):
            dims, ret = acl.mdl.get_cur_output_dims(self._model_desc, i)
            check_ret("acl.mdl.get_cur_output_dims", ret)
            dtype = np.dtype(_NP_BY_ACL[acl.mdl.get_output_data_type(self._model_desc, i)])
            host = bytes(size)
            check_ret("acl.rt.memcpy", acl.rt.memcpy(acl.util.bytes_to_ptr(host), size, buf, size, self._copy_policy))
            count = int(np.prod(dims["dims"], dtype=np.int64))
            results.append(np.frombuffer(host, dtype=dtype, count=count).reshape(dims["dims"]).copy())
        return results

    def destroy(self) -> None:
        """Free output buffers, input buffers, the description and the model (idempotent)."""
        if self._is_destroyed:
            return
        if self._output_dataset:
            _release_dataset(self._output_dataset)
            self._output_dataset = None
        for buf, _ in self._output_buffers:
            acl.rt.free(buf)
        self._output_buffers = []
        for item in self._input_buffers:
            if item["addr"] is not None:
                acl.rt.free(item["addr"])
        if getattr(self, "_batch_buf", None) is not None:
            acl.rt.free(self._batch_buf)
            self._batch_buf = None
        if self._model_id:
            acl.mdl.unload(self._model_id)
        if self._model_desc:
            acl.mdl.destroy_desc(self._model_desc)
        self._is_destroyed = True
        resource_list.unregister(self)

    def __del__(self):
        try:
            self.destroy()
        except Exception:
            pass


def _release_dataset(dataset) -> None:
    for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
        buf = acl.mdl.get_dataset_buffer(dataset, i)
        if buf:
            acl.destroy_data_buffer(buf)
    acl.mdl.destroy_dataset(dataset)
