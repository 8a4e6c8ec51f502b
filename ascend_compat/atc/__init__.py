"""The simulated ``atc`` model converter (ONNX -> simulated ``.om``), its AIPP support and the .om format.

Python API::

    from ascend_compat.atc import convert
    convert(model="digitnet.onnx", framework=5, output="digitnet", soc_version="Ascend310P3",
            input_shape="input:1,3,32,32")

Command line (same options as Huawei's ``atc``)::

    ascend-lab atc --model=digitnet.onnx --framework=5 --output=digitnet --soc_version=Ascend310P3

When a real ``atc`` is on ``PATH`` the command line runs it instead.
"""

from ascend_compat.atc.convert import AtcError, convert
from ascend_compat.atc.om import OmError, OmModel
from ascend_compat.atc.om import load as load_om

__all__ = ["convert", "AtcError", "OmError", "OmModel", "load_om"]
