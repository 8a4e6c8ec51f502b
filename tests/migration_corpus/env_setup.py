"""Environment set-up common in launch scripts."""
import os
import shutil
import subprocess

os.environ["CUDA_VISIBLE_DEVICES"] = "0"
if shutil.which("nvidia-smi"):
    subprocess.run(["nvidia-smi", "-L"], check=False)
import torch  # noqa: E402

print("visible:", os.environ.get("CUDA_VISIBLE_DEVICES"), torch.cuda.is_available())
