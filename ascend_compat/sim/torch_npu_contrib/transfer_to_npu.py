"""``torch_npu.contrib.transfer_to_npu`` on the simulated NPU: the lab's :mod:`ascend_compat.transfer_to_npu`.

The simulated ``torch_npu.contrib`` package looks for its submodules in this folder (its
``__path__``), so ``from torch_npu.contrib import transfer_to_npu`` imports this file, which hands
over the lab's module: one module under both names, its patches applied once.
"""

import sys

import ascend_compat.transfer_to_npu as _lab_module

sys.modules[__name__] = _lab_module
