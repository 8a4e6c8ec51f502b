"""pyACL constants: error codes, memory/copy policies, data types and formats (the real values).

pyACL itself exposes no constants module; the samples define them in their own ``constant.py``
files. The values below are the C header values they copy:

* error codes: ``acl_base.h`` (1000xx, 2000xx, 5000xx), ``rt_error_codes.h`` (107xxx, 207xxx,
  507xxx) and ``ge_error_codes.h`` (145xxx) -- as listed in Ascend/samples
  ``python/common/acllite/constants.py`` and in jittor's ``acl_error_to_string`` copy of the headers;
* memory policies, copy kinds, data types, formats: Ascend/samples
  ``python/common/acllite/constants.py`` and
  ``python/level2_simple_inference/1_classification/resnet50_imagenet_classification/src/constant.py``.
"""

ACL_SUCCESS = 0

# acl_base.h
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_UNINITIALIZE = 100001
ACL_ERROR_REPEAT_INITIALIZE = 100002
ACL_ERROR_INVALID_FILE = 100003
ACL_ERROR_WRITE_FILE = 100004
ACL_ERROR_INVALID_FILE_SIZE = 100005
ACL_ERROR_PARSE_FILE = 100006
ACL_ERROR_INVALID_MODEL_ID = 100011
ACL_ERROR_DESERIALIZE_MODEL = 100012
ACL_ERROR_PARSE_MODEL = 100013
ACL_ERROR_READ_MODEL_FAILURE = 100014
ACL_ERROR_MODEL_SIZE_INVALID = 100015
ACL_ERROR_MODEL_INPUT_NOT_MATCH = 100017
ACL_ERROR_MODEL_OUTPUT_NOT_MATCH = 100018
ACL_ERROR_MODEL_NOT_DYNAMIC = 100019
ACL_ERROR_UNSUPPORTED_DATA_TYPE = 100026
ACL_ERROR_REPEAT_FINALIZE = 100037
ACL_ERROR_BAD_ALLOC = 200000
ACL_ERROR_API_NOT_SUPPORT = 200001
ACL_ERROR_INVALID_DEVICE = 200002
ACL_ERROR_RESOURCE_NOT_MATCH = 200004
ACL_ERROR_INVALID_RESOURCE_HANDLE = 200005
ACL_ERROR_INTERNAL_ERROR = 500000
ACL_ERROR_FAILURE = 500001
# rt_error_codes.h
ACL_ERROR_RT_PARAM_INVALID = 107000
ACL_ERROR_RT_INVALID_DEVICEID = 107001
ACL_ERROR_RT_CONTEXT_NULL = 107002
ACL_ERROR_RT_STREAM_CONTEXT = 107003
ACL_ERROR_RT_MEMORY_ALLOCATION = 207001
ACL_ERROR_RT_SOC_VERSION = 507008
ACL_ERROR_RT_MODEL_EXECUTE = 507011
# ge_error_codes.h
ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID = 145013

# aclrtMemMallocPolicy
ACL_MEM_MALLOC_HUGE_FIRST = 0
ACL_MEM_MALLOC_HUGE_ONLY = 1
ACL_MEM_MALLOC_NORMAL_ONLY = 2
MALLOC_POLICIES = (0, 1, 2)

# aclrtMemcpyKind (4 = ACL_MEMCPY_DEFAULT: the runtime works out the direction from the addresses)
ACL_MEMCPY_HOST_TO_HOST = 0
ACL_MEMCPY_HOST_TO_DEVICE = 1
ACL_MEMCPY_DEVICE_TO_HOST = 2
ACL_MEMCPY_DEVICE_TO_DEVICE = 3
ACL_MEMCPY_DEFAULT = 4

# aclrtRunMode
ACL_DEVICE = 0
ACL_HOST = 1

# aclDataType
ACL_DT_UNDEFINED = -1
ACL_FLOAT = 0
ACL_FLOAT16 = 1
ACL_INT8 = 2
ACL_INT32 = 3
ACL_UINT8 = 4
ACL_INT16 = 6
ACL_UINT16 = 7
ACL_UINT32 = 8
ACL_INT64 = 9
ACL_UINT64 = 10
ACL_DOUBLE = 11
ACL_BOOL = 12
ACL_BF16 = 27

# aclFormat
ACL_FORMAT_UNDEFINED = -1
ACL_FORMAT_NCHW = 0
ACL_FORMAT_NHWC = 1
ACL_FORMAT_ND = 2

# numpy type numbers (what acl.util.ptr_to_numpy takes; NPY_FLOAT32 = 11 in the samples)
NPY_BOOL = 0
NPY_BYTE = 1
NPY_UBYTE = 2
NPY_SHORT = 3
NPY_USHORT = 4
NPY_INT = 5
NPY_UINT = 6
NPY_LONG = 7
NPY_ULONG = 8
NPY_LONGLONG = 9
NPY_ULONGLONG = 10
NPY_FLOAT = 11
NPY_FLOAT32 = 11
NPY_DOUBLE = 12
NPY_HALF = 23
NPY_FLOAT16 = 23

ACL_DTYPE_BY_NAME = {"float32": ACL_FLOAT, "float16": ACL_FLOAT16, "int8": ACL_INT8, "int32": ACL_INT32,
                     "uint8": ACL_UINT8, "int16": ACL_INT16, "uint16": ACL_UINT16, "uint32": ACL_UINT32,
                     "int64": ACL_INT64, "uint64": ACL_UINT64, "float64": ACL_DOUBLE, "bool": ACL_BOOL,
                     "bfloat16": ACL_BF16}
ACL_FORMAT_BY_NAME = {"NCHW": ACL_FORMAT_NCHW, "NHWC": ACL_FORMAT_NHWC, "ND": ACL_FORMAT_ND}

ERROR_NAMES = {v: k for k, v in dict(globals()).items() if k.startswith("ACL_ERROR_")}
ERROR_NAMES[ACL_SUCCESS] = "ACL_SUCCESS"


def error_name(code: int) -> str:
    """``100000`` -> ``"ACL_ERROR_INVALID_PARAM"`` (handy when printing a failed ret)."""
    return ERROR_NAMES.get(code, f"unknown error {code}")
