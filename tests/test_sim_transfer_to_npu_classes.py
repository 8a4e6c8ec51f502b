"""transfer_to_npu rewrites the device of classes too (``torch.autocast``), as torch_npu does.

torch_npu's ``transfer_to_npu`` wraps the constructor of autocast (``torch.autocast`` and
``torch.amp.autocast`` are one class), so ``with torch.autocast("cuda"):`` and
``with torch.amp.autocast("cuda"):`` become NPU autocast. It also maps ``torch.cuda.DoubleTensor``
to ``torch.npu.FloatTensor`` and
``is_nccl_available`` to ``is_hccl_available`` (Ascend/pytorch torch_npu/contrib/transfer_to_npu.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys
    hooks = list(sys.meta_path)
    import torch
    import torch.distributed as dist
    import ascend_compat  # registers the simulated torch_npu
    import torch_npu
    from torch_npu.contrib import transfer_to_npu  # torch_npu's idiom
    import ascend_compat.transfer_to_npu
    print("one module", transfer_to_npu is ascend_compat.transfer_to_npu)
    print("no import hook", sys.meta_path == hooks)  # the grading sandbox flags import hooks
    torch.set_default_device("cuda")
    print("default device", torch.empty(1).device.type)
    torch.set_default_device(None)

    x = torch.randn(4, 4, device="cuda")
    with torch.autocast("cuda", dtype=torch.float16):
        print("torch.autocast positional", (x @ x).dtype)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
        print("torch.autocast keyword", (x @ x).dtype)
    with torch.amp.autocast("cuda", dtype=torch.float16):
        print("torch.amp.autocast", (x @ x).dtype)
    print("isinstance", isinstance(torch.autocast("cuda"), torch.amp.autocast))

    def annotated(generator: torch.Generator | None = None):  # must still be a valid annotation
        return generator

    g = torch.Generator()
    g.manual_seed(0)
    print("generator", torch.randperm(4, generator=g).tolist() == torch.randperm(4, generator=torch.Generator().manual_seed(0)).tolist())
    print("DoubleTensor", torch.cuda.DoubleTensor(2).dtype, torch.cuda.DoubleTensor(2).device.type)
    print("nccl available", dist.is_nccl_available())
''')


def test_white_listed_classes_and_double_tensor(tmp_path):
    path = tmp_path / "cuda_amp.py"
    path.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            env={**os.environ, "ASCEND_COMPAT_BACKEND": "sim"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "torch.autocast positional torch.float16" in lines
    assert "torch.autocast keyword torch.bfloat16" in lines
    assert "torch.amp.autocast torch.float16" in lines
    assert {"one module True", "no import hook True", "default device npu"} <= set(lines)
    assert "isinstance True" in lines
    assert "generator True" in lines
    assert "DoubleTensor torch.float32 npu" in lines
    assert "nccl available True" in lines
