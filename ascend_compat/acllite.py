"""acllite for the lab: ``AclLiteResource``, ``AclLiteModel``, ``AclLiteImage`` and acllite's helpers.

The newer Ascend samples drive pyACL through a small wrapper library, Ascend/samples
``python/common/acllite`` (the same files are also in ``inference/acllite/acllitePY``). This module
has its classes and helpers with the same names, signatures, return values and release order,
written for this course on top of whichever ``acl`` is live (real pyACL if installed, else
:mod:`ascend_compat.acl`). On an Ascend machine, import the real files instead -- the lessons do::

    try:                                   # Ascend/samples' python/common/acllite on sys.path
        from acllite_resource import AclLiteResource
        from acllite_model import AclLiteModel
    except ImportError:                    # in the lab
        from ascend_compat.acllite import AclLiteResource, AclLiteModel

    resource = AclLiteResource(device_id=0)
    resource.init()                        # acl.init, set_device, create_context, create_stream
    model = AclLiteModel("digitnet.om")
    outputs = model.execute([image_array])           # list of numpy arrays, or None on failure
    outputs = model._execute_with_dynamic_batch_size([batch_array], 4)   # a --dynamic_batch_size model
    model.destroy()
    del resource                           # AclLiteResource.__del__ releases everything else

Where each name lives in the real library: ``acllite_resource.py`` (``AclLiteResource``,
``resource_list``), ``acllite_model.py`` (``AclLiteModel``), ``acllite_image.py``
(``AclLiteImage``), ``acllite_utils.py`` (``check_ret``, ``check_none``, ``copy_data_*``,
``align_up*``, ``yuv420sp_size``, ``rgbu8_size``), ``constants.py`` (``SUCCESS``, ``MEMORY_*``, ...).

Behaviour kept from the real library (so code that works here works there):

* ``AclLiteResource`` has ``init()`` and no ``release()``: releasing happens in ``__del__``, which
  destroys every registered model, then the stream and the context, resets the device and
  finalizes AscendCL. ``del resource`` (the last reference) is how a program releases it.
* ``AclLiteModel.execute(input_list)`` takes numpy arrays (copied to device memory allocated on
  first use and reused), ``AclLiteImage`` objects and ``{"data": ptr, "size": n}`` dicts (both
  passed to the model as they are: they must hold *device* memory, because the simulated NPU is
  a card in a host server, run mode ``ACL_HOST``). It returns a list of numpy arrays, one per
  output, shaped by ``acl.mdl.get_output_dims`` -- or ``None`` after printing why, as the real one
  does; it never raises for a failed call. An input whose size changes between calls is refused.
* Dynamic batch: ``execute`` does not set the batch, so on a ``--dynamic_batch_size`` model it
  fails (``acl.mdl.execute`` refuses it); ``_execute_with_dynamic_batch_size(input_list, batch)``
  (private in the real library, and the only way it offers) appends the
  ``ascend_mbatch_shape_data`` buffer to ``input_list`` (the caller's list grows, as in the real
  one), calls ``acl.mdl.set_dynamic_batch_size`` and executes. Outputs then have the largest
  batch's shape (``get_output_dims``): keep the first ``batch`` rows.
* ``check_ret`` raises with ``"<call> failed ret_int=<ret>"``.

Deliberate differences, each on a path where the real library misbehaves or is silent:

* ``destroy()`` also frees the input copies and the ``ascend_mbatch_shape_data`` buffer, which the
  real one leaves to the device reset; and that buffer is allocated once per model, not on every
  call. So the simulator's ``acl.leaks()`` lists only what *your* code left behind.
* A missing model file or a bad ``load_type`` raises ``AclLiteError`` (the real one prints and
  leaves a half-built object that fails later); the input dataset is released on every path.
* Progress messages (the real library prints "init resource stage:", "Init model resource
  start...", ...) go to the ``ascend_compat.acllite`` logger; errors and warnings are printed, as
  there. Double ``destroy()`` of an ``AclLiteImage`` is silent.
* ``AclLiteImage.copy_to_dvpp`` and the DVPP/video helpers (``acllite_imageproc``, ``dvpp_vdec``,
  ``videocapture``) are not here: the simulator has no DVPP (``acl.media``).
"""

from __future__ import annotations

import logging
import os
import threading

import numpy as np

from ascend_compat.launcher import install_acl

acl = install_acl()
_log = logging.getLogger("ascend_compat.acllite")

# constants.py of Ascend/samples python/common/acllite
SUCCESS, FAILED = 0, 1
ACL_SUCCESS = 0
ACL_DEVICE, ACL_HOST = 0, 1
MEMORY_NORMAL, MEMORY_HOST, MEMORY_DEVICE, MEMORY_DVPP, MEMORY_CTYPES = 0, 1, 2, 3, 4
IMAGE_DATA_NUMPY, IMAGE_DATA_BUFFER = 0, 1
ENCODE_FORMAT_UNKNOW, ENCODE_FORMAT_JPEG, ENCODE_FORMAT_PNG, ENCODE_FORMAT_YUV420_SP = 0, 1, 2, 3
ACL_MEM_MALLOC_HUGE_FIRST, ACL_MEM_MALLOC_HUGE_ONLY, ACL_MEM_MALLOC_NORMAL_ONLY = 0, 1, 2
ACL_MEMCPY_HOST_TO_HOST, ACL_MEMCPY_HOST_TO_DEVICE, ACL_MEMCPY_DEVICE_TO_HOST, ACL_MEMCPY_DEVICE_TO_DEVICE = 0, 1, 2, 3
ACL_FLOAT, ACL_FLOAT16, ACL_INT8, ACL_INT32, ACL_UINT8 = 0, 1, 2, 3, 4
ACL_INT16, ACL_UINT16, ACL_UINT32, ACL_INT64, ACL_UINT64, ACL_DOUBLE, ACL_BOOL = 6, 7, 8, 9, 10, 11, 12
# acllite_model._gen_output_tensor: the numpy dtype each output data type is decoded as (bool as uint8).
_NP_BY_ACL = {ACL_FLOAT: np.float32, ACL_DOUBLE: np.float64, ACL_INT64: np.int64, ACL_UINT64: np.uint64,
              ACL_INT32: np.int32, ACL_UINT32: np.uint32, ACL_FLOAT16: np.float16, ACL_INT16: np.int16,
              ACL_UINT16: np.uint16, ACL_INT8: np.int8, ACL_BOOL: np.uint8, ACL_UINT8: np.uint8}
DYNAMIC_BATCH_INPUT = "ascend_mbatch_shape_data"  # the input atc adds for --dynamic_batch_size


def log_error(*message) -> None:
    print("".join(str(part) for part in message))


def log_warning(*message) -> None:
    print("[WARNING]" + "".join(str(part) for part in message))


def log_info(*message) -> None:
    _log.info("".join(str(part) for part in message))


# ---- acllite_utils.py --------------------------------------------------------------------------

class AclLiteError(Exception):
    """What ``check_ret``/``check_none`` raise (plain ``Exception`` in the real library)."""


def check_ret(message: str, ret_int: int) -> None:
    """Raise unless ``ret_int`` is 0 (success)."""
    if ret_int != 0:
        raise AclLiteError(f"{message} failed ret_int={ret_int}")


def check_none(message: str, ret_none) -> None:
    """Raise if ``ret_none`` is None."""
    if ret_none is None:
        raise AclLiteError(f"{message} failed")


def _host_ptr(data: bytes) -> int:
    # Newer pyACL has bytes_to_ptr, older only numpy_to_ptr; the samples test for it the same way.
    return acl.util.bytes_to_ptr(data)


def _malloc_and_copy(data_ptr: int, data_size: int, kind: int, on_host: bool):
    if on_host:
        buffer, ret = acl.rt.malloc_host(data_size)
    else:
        buffer, ret = acl.rt.malloc(data_size, ACL_MEM_MALLOC_NORMAL_ONLY)
    if ret != ACL_SUCCESS:
        log_error("Malloc memory failed, error: ", ret)
        return None
    ret = acl.rt.memcpy(buffer, data_size, data_ptr, data_size, kind)
    if ret != ACL_SUCCESS:
        log_error("Copy data failed, error: ", ret)
        (acl.rt.free_host if on_host else acl.rt.free)(buffer)
        return None
    return buffer


def copy_data_device_to_host(device_data: int, data_size: int):
    """A new ``acl.rt.malloc_host`` buffer holding a copy of device memory, or None."""
    return _malloc_and_copy(device_data, data_size, ACL_MEMCPY_DEVICE_TO_HOST, on_host=True)


def copy_data_device_to_device(device_data: int, data_size: int):
    """A new ``acl.rt.malloc`` buffer holding a copy of device memory, or None."""
    return _malloc_and_copy(device_data, data_size, ACL_MEMCPY_DEVICE_TO_DEVICE, on_host=False)


def copy_data_host_to_device(host_data: int, data_size: int):
    """A new ``acl.rt.malloc`` buffer holding a copy of host memory, or None."""
    return _malloc_and_copy(host_data, data_size, ACL_MEMCPY_HOST_TO_DEVICE, on_host=False)


def copy_data_host_to_host(host_data: int, data_size: int):
    """A new ``acl.rt.malloc_host`` buffer holding a copy of host memory, or None."""
    return _malloc_and_copy(host_data, data_size, ACL_MEMCPY_HOST_TO_HOST, on_host=True)


def copy_data_as_numpy(data: int, size: int, data_mem_type: int, run_mode: int) -> np.ndarray:
    """``size`` bytes at ``data`` (device, DVPP or host memory) as a numpy int8 array."""
    host = bytes(size)
    policy = ACL_MEMCPY_DEVICE_TO_DEVICE
    if run_mode == ACL_HOST:
        if data_mem_type in (MEMORY_DEVICE, MEMORY_DVPP):
            policy = ACL_MEMCPY_DEVICE_TO_HOST
        elif data_mem_type == MEMORY_HOST:
            policy = ACL_MEMCPY_HOST_TO_HOST
    check_ret("acl.rt.memcpy", acl.rt.memcpy(_host_ptr(host), size, data, size, policy))
    return np.frombuffer(host, dtype=np.byte).copy()


def align_up(value: int, align: int) -> int:
    return int((value + align - 1) // align * align)


def align_up16(value: int) -> int:
    return align_up(value, 16)


def align_up128(value: int) -> int:
    return align_up(value, 128)


def align_up2(value: int) -> int:
    return align_up(value, 2)


def yuv420sp_size(width: int, height: int) -> int:
    """Bytes of a YUV420SP (NV12/NV21) image: a full-size Y plane and a half-size interleaved UV plane."""
    return int(width * height * 3 / 2)


def rgbu8_size(width: int, height: int) -> int:
    return int(width * height * 3)


# ---- acllite_resource.py -----------------------------------------------------------------------

REGISTER, UNREGISTER = 0, 1


class _ResourceList:
    """The process's objects holding acl resources, destroyed before the device is reset (a singleton)."""

    _instance_lock = threading.Lock()

    def __new__(cls, *args, **kwargs):
        if not hasattr(_ResourceList, "_instance"):
            with _ResourceList._instance_lock:
                if not hasattr(_ResourceList, "_instance"):
                    _ResourceList._instance = object.__new__(cls)
        return _ResourceList._instance

    def __init__(self) -> None:
        self.resources: list[dict] = []

    def register(self, resource) -> None:
        """Remember ``resource`` (an object with ``destroy()``)."""
        self.resources.append({"resource": resource, "status": REGISTER})

    def unregister(self, resource) -> None:
        """``resource`` released itself: do not destroy it again."""
        for item in self.resources:
            if item["resource"] is resource:
                item["status"] = UNREGISTER
        # Forget released entries (the real list keeps them for the life of the process).
        self.resources = [item for item in self.resources if item["status"] == REGISTER]

    def destroy(self) -> None:
        """Destroy every registered resource."""
        for item in list(self.resources):
            if item["status"] == REGISTER:
                item["resource"].destroy()
                item["status"] = UNREGISTER
        self.resources = []


resource_list = _ResourceList()


class AclLiteResource:
    """``init()`` initialises AscendCL, the device, a context and a stream; ``__del__`` releases them."""

    def __init__(self, device_id: int = 0):
        self.device_id = device_id
        self.context = None
        self.stream = None
        self.run_mode = None
        self._initialised = False

    def init(self) -> None:
        log_info("init resource stage:")
        check_ret("acl.init", acl.init())
        self._initialised = True
        check_ret("acl.rt.set_device", acl.rt.set_device(self.device_id))
        self.context, ret = acl.rt.create_context(self.device_id)
        check_ret("acl.rt.create_context", ret)
        self.stream, ret = acl.rt.create_stream()
        check_ret("acl.rt.create_stream", ret)
        self.run_mode, ret = acl.rt.get_run_mode()
        check_ret("acl.rt.get_run_mode", ret)
        log_info("Init resource success")

    def __del__(self):
        # The release order of acllite_resource.py: models/images, stream, context, device, AscendCL.
        if not getattr(self, "_initialised", False):
            return
        self._initialised = False
        try:
            log_info("acl resource release all resource")
            resource_list.destroy()
            if self.stream:
                acl.rt.destroy_stream(self.stream)
                self.stream = None
            if self.context:
                acl.rt.destroy_context(self.context)
                self.context = None
            acl.rt.reset_device(self.device_id)
            acl.finalize()
            log_info("Release acl resource success")
        except Exception:  # never raise from a destructor (e.g. at interpreter exit)
            pass


# ---- acllite_image.py --------------------------------------------------------------------------

class AclLiteImage:
    """Image data for a model or DVPP: a .jpg/.png/.yuv file (read as encoded bytes), a numpy
    array, or a pointer with ``size`` and the ``memory_type`` it lives in (``MEMORY_DEVICE``,
    ``MEMORY_HOST``, ...; the image owns it and ``destroy()`` frees it)."""

    def __init__(self, image, width: int = 0, height: int = 0, align_width: int = 0, align_height: int = 0,
                 size: int = 0, memory_type: int = MEMORY_NORMAL):
        self._data = None
        self._bytes_data = None
        self._memory_type = memory_type
        self._type = None
        self.width = self.height = self.align_width = self.align_height = 0
        self.size = 0
        self._encode_format = ENCODE_FORMAT_UNKNOW
        self._load_ok = True
        if isinstance(image, str):
            self._instance_by_image_file(image, width, height)
        elif isinstance(image, int):
            self._instance_by_buffer(image, width, height, align_width, align_height, size)
        elif isinstance(image, np.ndarray):
            self._instance_by_nparray(image, width, height, align_width, align_height)
        else:
            log_error("Create instance failed for unknow image data type")

    @staticmethod
    def _run_mode() -> int:
        run_mode, _ = acl.rt.get_run_mode()
        return run_mode

    def is_loaded(self) -> bool:
        """False when a file could not be loaded (unknown suffix)."""
        return self._load_ok

    def byte_data_to_np_array(self) -> np.ndarray:
        if self._type == IMAGE_DATA_NUMPY:
            return self._data.copy()
        return copy_data_as_numpy(self._data, self.size, self._memory_type, self._run_mode())

    def data(self) -> int:
        """A pointer to the bytes (a host pointer for numpy/file data)."""
        if self._type == IMAGE_DATA_NUMPY:
            self._bytes_data = self._data.tobytes()
            return _host_ptr(self._bytes_data)
        return self._data

    def copy_to_host(self) -> "AclLiteImage | None":
        if self._type == IMAGE_DATA_NUMPY:
            return AclLiteImage(self._data.copy(), self.width, self.height, 0, 0)
        mem_type = MEMORY_HOST
        if self._run_mode() == ACL_HOST:
            data = (copy_data_host_to_host if self.is_local() else copy_data_device_to_host)(self._data, self.size)
        else:
            data, mem_type = copy_data_device_to_device(self._data, self.size), MEMORY_DEVICE
        if data is None:
            log_error("Copy image to host failed")
            return None
        return AclLiteImage(data, self.width, self.height, 0, 0, self.size, mem_type)

    def is_local(self) -> bool:
        """Can the host read the data directly (host memory or numpy; anything in device run mode)?"""
        if self._run_mode() == ACL_DEVICE:
            return True
        return self._memory_type in (MEMORY_HOST, MEMORY_NORMAL)

    def save(self, filename: str) -> None:
        self.byte_data_to_np_array().tofile(filename)

    def destroy(self) -> None:
        """Free the memory by its type (numpy needs nothing)."""
        if self._data is None or self.size == 0:
            return
        if self._memory_type == MEMORY_DEVICE:
            acl.rt.free(self._data)
        elif self._memory_type == MEMORY_HOST:
            acl.rt.free_host(self._data)
        elif self._memory_type == MEMORY_DVPP:
            acl.media.dvpp_free(self._data)
        self._data = None
        self.size = 0

    def __del__(self):
        try:
            self.destroy()
        except Exception:
            pass

    def _instance_by_image_file(self, image_path: str, width: int, height: int) -> None:
        suffix = os.path.splitext(image_path)[-1].strip().lower()
        self._encode_format = {".jpg": ENCODE_FORMAT_JPEG, ".jpeg": ENCODE_FORMAT_JPEG, ".png": ENCODE_FORMAT_PNG,
                               ".yuv": ENCODE_FORMAT_YUV420_SP}.get(suffix, ENCODE_FORMAT_UNKNOW)
        if self._encode_format == ENCODE_FORMAT_UNKNOW:
            log_error("Unsupport image format: ", suffix)
            log_error("Load image %s failed" % image_path)
            self._load_ok = False
            return
        self._data = np.fromfile(image_path, dtype=np.byte)
        self._type = IMAGE_DATA_NUMPY
        self.size = self._data.itemsize * self._data.size
        self._memory_type = MEMORY_NORMAL
        if self._encode_format in (ENCODE_FORMAT_JPEG, ENCODE_FORMAT_PNG):
            from PIL import Image

            with Image.open(image_path) as opened:
                self.width, self.height = opened.size
        else:  # pillow cannot read raw YUV: the caller says how big it is
            self.width, self.height = width, height

    def _instance_by_buffer(self, image_buffer: int, width, height, align_width, align_height, size) -> None:
        self.width, self.height = width, height
        self.align_width, self.align_height = align_width, align_height
        self.size = size
        self._data = image_buffer
        self._type = IMAGE_DATA_BUFFER

    def _instance_by_nparray(self, data: np.ndarray, width, height, align_width, align_height) -> None:
        self.width, self.height = width, height  # from the arguments, not the array's shape
        self.align_width, self.align_height = align_width, align_height
        self.size = data.itemsize * data.size
        self._data = data
        self._type = IMAGE_DATA_NUMPY
        self._memory_type = MEMORY_NORMAL


# ---- acllite_model.py --------------------------------------------------------------------------

class AclLiteModel:
    """Load an .om, keep its output buffers, and turn ``execute([inputs])`` into numpy outputs."""

    def __init__(self, model_path: str, load_type: int = 0):
        self._run_mode, ret = acl.rt.get_run_mode()
        check_ret("acl.rt.get_run_mode", ret)
        self._copy_policy = ACL_MEMCPY_DEVICE_TO_HOST if self._run_mode == ACL_HOST else ACL_MEMCPY_DEVICE_TO_DEVICE
        self._model_path = model_path
        self._load_type = load_type
        self._model_id = None
        self._input_num = 0
        self._input_buffer: list[dict] = []
        self._input_dataset = None
        self._output_dataset = None
        self._model_desc = None
        self._output_size = 0
        self._batch_buffer = None
        self._is_destroyed = False
        self._init_resource()  # if it raises, __del__ -> destroy() frees what was made
        resource_list.register(self)

    def _init_resource(self) -> None:
        log_info("Init model resource start...")
        if not os.path.isfile(self._model_path):
            raise AclLiteError(f"model_path failed, please check. model_path={self._model_path}")
        if self._load_type == 0:
            self._model_id, ret = acl.mdl.load_from_file(self._model_path)
            check_ret("acl.mdl.load_from_file", ret)
        elif self._load_type == 1:
            with open(self._model_path, "rb") as handle:
                om_bytes = handle.read()
            self._model_id, ret = acl.mdl.load_from_mem(_host_ptr(om_bytes), len(om_bytes))
            check_ret("acl.mdl.load_from_mem", ret)
        else:
            raise AclLiteError(f"load_type is not in 0 or 1, please check. load_type={self._load_type!r}")
        self._model_desc = acl.mdl.create_desc()
        check_ret("acl.mdl.get_desc", acl.mdl.get_desc(self._model_desc, self._model_id))
        self._output_size = acl.mdl.get_num_outputs(self._model_desc)
        self._gen_output_dataset(self._output_size)
        self._init_input_buffer()
        log_info("Init model resource success")

    def _gen_output_dataset(self, output_num: int) -> None:
        dataset = acl.mdl.create_dataset()
        for i in range(output_num):
            size = acl.mdl.get_output_size_by_index(self._model_desc, i)
            buf, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_NORMAL_ONLY)
            check_ret("acl.rt.malloc", ret)
            dataset_buffer = acl.create_data_buffer(buf, size)
            _, ret = acl.mdl.add_dataset_buffer(dataset, dataset_buffer)
            if ret:
                acl.rt.free(buf)
                acl.destroy_data_buffer(dataset_buffer)
                check_ret("acl.mdl.add_dataset_buffer", ret)
        self._output_dataset = dataset

    def _init_input_buffer(self) -> None:
        self._input_num = acl.mdl.get_num_inputs(self._model_desc)
        self._input_buffer = [{"addr": None, "size": 0} for _ in range(self._input_num)]

    def _gen_input_dataset(self, input_list: list) -> int:
        dynamic_index, ret = acl.mdl.get_input_index_by_name(self._model_desc, DYNAMIC_BATCH_INPUT)
        if ret == ACL_SUCCESS:
            size = acl.mdl.get_input_size_by_index(self._model_desc, dynamic_index)
            if self._batch_buffer is None:
                self._batch_buffer, ret = acl.rt.malloc(size, ACL_MEM_MALLOC_NORMAL_ONLY)
                check_ret("acl.rt.malloc", ret)
            input_list.append({"data": self._batch_buffer, "size": size})
        if len(input_list) != self._input_num:
            log_error("Current input data num %d unequal to model input num %d" % (len(input_list), self._input_num))
            return FAILED
        self._input_dataset = acl.mdl.create_dataset()
        for i in range(self._input_num):
            data, size = self._parse_input_data(input_list[i], i)
            if data is None or size == 0:
                log_error("The %d input is invalid" % i)
                self._release_input_dataset()
                return FAILED
            model_size = acl.mdl.get_input_size_by_index(self._model_desc, i)
            if size != model_size:
                log_warning(" Input[%d] size: %d not equal om size: %d" % (i, size, model_size)
                            + ", may cause inference result error, please check model input")
            dataset_buffer = acl.create_data_buffer(data, size)
            _, ret = acl.mdl.add_dataset_buffer(self._input_dataset, dataset_buffer)
            if ret:
                log_error("Add input dataset buffer failed, ret = ", ret)
                acl.destroy_data_buffer(dataset_buffer)
                self._release_input_dataset()
                return FAILED
        return SUCCESS

    def _parse_input_data(self, input_data, index: int):
        data, size = None, 0
        if isinstance(input_data, AclLiteImage):
            size = input_data.size
            data = input_data.data()
        elif isinstance(input_data, np.ndarray):
            size = input_data.size * input_data.itemsize
            host = input_data.tobytes()  # C order, whatever the array's layout
            data = self._copy_input_to_device(_host_ptr(host), size, index)
            if data is None:
                size = 0
                log_error("Copy input to device failed")
        elif isinstance(input_data, dict) and "data" in input_data and "size" in input_data:
            size = input_data["size"]
            data = input_data["data"]
        else:
            log_error("Unsupport input")
        return data, size

    def _copy_input_to_device(self, input_ptr: int, size: int, index: int):
        item = self._input_buffer[index]
        kind = ACL_MEMCPY_HOST_TO_DEVICE if self._run_mode == ACL_HOST else ACL_MEMCPY_DEVICE_TO_DEVICE
        if item["addr"] is None:
            data = _malloc_and_copy(input_ptr, size, kind, on_host=False)
            if data is None:
                log_error("Malloc memory and copy model %dth input to device failed" % index)
                return None
            item["addr"], item["size"] = data, size
            return data
        if size == item["size"]:
            ret = acl.rt.memcpy(item["addr"], size, input_ptr, size, kind)
            if ret != ACL_SUCCESS:
                log_error("Copy model %dth input to device failed, ret = %d" % (index, ret))
                return None
            return item["addr"]
        log_error("The model %dth input size %d is change, before is %d" % (index, size, item["size"]))
        return None

    def _set_dynamic_batch_size(self, batch: int) -> int:
        dynamic_index, ret = acl.mdl.get_input_index_by_name(self._model_desc, DYNAMIC_BATCH_INPUT)
        if ret != ACL_SUCCESS:
            log_error("get_input_index_by_name failed, ret = ", ret)
            return FAILED
        batch_dic, ret = acl.mdl.get_dynamic_batch(self._model_desc)
        if ret != ACL_SUCCESS:
            log_error("get_dynamic_batch failed, ret = ", ret)
            return FAILED
        log_info("[INFO] get dynamic_batch = ", batch_dic)
        ret = acl.mdl.set_dynamic_batch_size(self._model_id, self._input_dataset, dynamic_index, batch)
        if ret != ACL_SUCCESS:
            log_error("set_dynamic_batch_size failed, ret = ", ret)
            return FAILED
        if batch in batch_dic["batch"]:
            return SUCCESS
        log_error("[INFO] [dynamic batch] {} is not in {}".format(batch, batch_dic["batch"]))
        return FAILED

    def _execute_with_dynamic_batch_size(self, input_list: list, batch: int):
        """``execute`` for a ``--dynamic_batch_size`` model: sets ``batch`` first."""
        return self._run(input_list, batch)

    def execute(self, input_list: list):
        """Run the model on ``input_list`` (AclLiteImage, numpy arrays, ``{'data', 'size'}`` dicts).

        Returns a list of numpy arrays, one per model output, or None (after printing why)."""
        return self._run(input_list, None)

    def _run(self, input_list: list, batch):
        if self._gen_input_dataset(input_list) == FAILED:
            log_error("Gen model input dataset failed")
            return None
        try:
            if batch is not None and self._set_dynamic_batch_size(batch) == FAILED:
                log_error("Set dynamic batch failed")
                return None
            ret = acl.mdl.execute(self._model_id, self._input_dataset, self._output_dataset)
            if ret != ACL_SUCCESS:
                log_error("Execute model failed for acl.mdl.execute error, ret = ", ret)
                return None
        finally:
            self._release_input_dataset()
        return self._output_dataset_to_numpy()

    def _release_input_dataset(self) -> None:
        self._release_dataset(self._input_dataset)
        self._input_dataset = None

    def _output_dataset_to_numpy(self):
        results = []
        output_tensor_list = self._gen_output_tensor()
        if output_tensor_list is None:
            return None
        for i in range(acl.mdl.get_dataset_num_buffers(self._output_dataset)):
            buf = acl.mdl.get_dataset_buffer(self._output_dataset, i)
            data = acl.get_data_buffer_addr(buf)
            size = int(acl.get_data_buffer_size(buf))
            tensor = output_tensor_list[i]
            ret = acl.rt.memcpy(tensor["ptr"], len(tensor["tensor"]), data, size, self._copy_policy)
            if ret != ACL_SUCCESS:
                log_error("Memcpy inference output to local failed, ret = ", ret)
                return None
            results.append(np.frombuffer(tensor["tensor"], dtype=tensor["dtype"]).reshape(tensor["shape"]).copy())
        return results

    def _gen_output_tensor(self):
        # Shapes come from the model description: for a dynamic-batch model, the largest batch.
        output_tensor_list = []
        for i in range(self._output_size):
            dims, _ = acl.mdl.get_output_dims(self._model_desc, i)
            shape = tuple(dims["dims"])
            datatype = acl.mdl.get_output_data_type(self._model_desc, i)
            size = acl.mdl.get_output_size_by_index(self._model_desc, i)
            if datatype not in _NP_BY_ACL:
                log_error("Unspport model output datatype ", datatype)
                return None
            dtype = np.dtype(_NP_BY_ACL[datatype])
            tensor = np.zeros(size // dtype.itemsize, dtype=dtype).reshape(shape)
            host = tensor.tobytes()
            output_tensor_list.append({"ptr": _host_ptr(host), "tensor": host, "shape": tensor.shape,
                                       "dtype": tensor.dtype})
        return output_tensor_list

    def _release_dataset(self, dataset, free_memory: bool = False) -> None:
        if not dataset:
            return
        for i in range(acl.mdl.get_dataset_num_buffers(dataset)):
            data_buf = acl.mdl.get_dataset_buffer(dataset, i)
            if data_buf:
                self._release_databuffer(data_buf, free_memory)
        ret = acl.mdl.destroy_dataset(dataset)
        if ret != ACL_SUCCESS:
            log_error("Destroy data buffer error, ret = ", ret)

    def _release_databuffer(self, data_buffer, free_memory: bool = False) -> None:
        if free_memory:
            data_addr = acl.get_data_buffer_addr(data_buffer)
            if data_addr:
                acl.rt.free(data_addr)
        ret = acl.destroy_data_buffer(data_buffer)
        if ret != ACL_SUCCESS:
            log_error("Destroy data buffer error, ret = ", ret)

    def destroy(self) -> None:
        """Free the output buffers, the input copies, the model and its description (idempotent)."""
        if self._is_destroyed:
            return
        self._release_dataset(self._output_dataset, free_memory=True)
        self._output_dataset = None
        for item in self._input_buffer:  # not freed by the real acllite (see the module docstring)
            if item["addr"] is not None:
                acl.rt.free(item["addr"])
                item["addr"], item["size"] = None, 0
        if self._batch_buffer is not None:
            acl.rt.free(self._batch_buffer)
            self._batch_buffer = None
        if self._model_id:
            ret = acl.mdl.unload(self._model_id)
            if ret != ACL_SUCCESS:
                log_info("acl.mdl.unload error, ret = ", ret)
        if self._model_desc:
            ret = acl.mdl.destroy_desc(self._model_desc)
            if ret != ACL_SUCCESS:
                log_info("acl.mdl.destroy_desc error, ret = ", ret)
        self._is_destroyed = True
        resource_list.unregister(self)
        log_info("AclLiteModel release source success")

    def __del__(self):
        try:
            self.destroy()
        except Exception:
            pass
