"""``import ascend_compat.transfer_to_npu`` makes CUDA code run on the (simulated) NPU."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CUDA_SCRIPT = textwrap.dedent('''
    import torch
    import ascend_compat.transfer_to_npu as t2n

    device = "cuda" if torch.cuda.is_available() else "cpu"
    assert device == "cuda", "torch.cuda.is_available() must be True after the patch"
    model = torch.nn.Linear(4, 2).cuda()
    x = torch.randn(8, 4, device=device)
    y = torch.zeros(8, 2).to("cuda:0")
    z = torch.ones(2).to(1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.cuda.amp.GradScaler()
    with torch.cuda.amp.autocast():
        loss = torch.nn.functional.mse_loss(model(x).float(), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    torch.cuda.synchronize()
    assert x.is_cuda and x.device.type == "npu" and z.device == torch.device("npu:1")
    torch.save(model.state_dict(), "ckpt.pt")
    state = torch.load("ckpt.pt", map_location="cuda:0")
    assert state["weight"].device.type == "npu"
    scripted = torch.jit.script(model)
    assert scripted is model
    g = torch.Generator(device="cuda").manual_seed(0)   # diffusion-style seeding on the device
    noise = torch.randn(2, 3, device="cuda", generator=g)
    assert g.device.type == "npu" and noise.device.type == "npu"
    assert torch.equal(noise.cpu(), torch.randn(2, 3, device="cuda", generator=g.manual_seed(0)).cpu())
    print("allocated", torch.cuda.memory_allocated() > 0)
    print("\\n".join(t2n.report()))
''')


def _run(script: str, tmp_path, **env):
    path = tmp_path / "train_cuda.py"
    path.write_text(script)
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, **env})


def test_cuda_script_runs_on_the_simulated_npu(tmp_path):
    result = _run(CUDA_SCRIPT, tmp_path, ASCEND_COMPAT_BACKEND="sim")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "allocated True" in out
    for patched in ("torch.cuda.*", "torch.randn: device arguments", "torch.Tensor.to:",
                    "init_process_group: backend nccl -> hccl", "torch.jit.script", "torch.profiler.profile"):
        assert patched in out


def test_what_it_cannot_catch(tmp_path):
    script = textwrap.dedent('''
        import torch
        import ascend_compat.transfer_to_npu
        try:  # legacy CUDA tensor types are outside every white-list
            torch.ones(2).npu().type("torch.cuda.FloatTensor")
        except Exception as err:
            print("uncaught:", type(err).__name__)
    ''')
    result = _run(script, tmp_path, ASCEND_COMPAT_BACKEND="sim")
    assert "uncaught:" in result.stdout, result.stderr


def test_refuses_without_an_npu(tmp_path):
    result = _run("import ascend_compat.transfer_to_npu\n", tmp_path, ASCEND_COMPAT_BACKEND="cpu")
    assert result.returncode != 0 and "transfer_to_npu needs an NPU" in result.stderr
