"""`ascend-lab run` runs an unmodified samples-style pyACL script; acllite helpers work on top of acl."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import ascend_compat.acl as acl
from ascend_compat import zoo
from ascend_compat.atc import convert

SAMPLE = os.path.join(os.path.dirname(__file__), "samples", "classify_digits.py")
AIPP_CFG = """aipp_op {
    aipp_mode : static
    input_format : RGB888_U8
    src_image_size_w : 32
    src_image_size_h : 32
    min_chn_0 : 127.5
    min_chn_1 : 127.5
    min_chn_2 : 127.5
    var_reci_chn_0 : 0.00784313725
    var_reci_chn_1 : 0.00784313725
    var_reci_chn_2 : 0.00784313725
}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    (root / "data").mkdir()
    images, labels = zoo.digit_images("test")
    picked = {}
    for i, label in enumerate(labels):  # one image of each of five different digits
        if label not in picked and len(picked) < 5:
            picked[int(label)] = i
            Image.fromarray(images[i]).save(root / "data" / f"digit_{label}.png")
    onnx_path = zoo.export_onnx(str(root / "digitnet.onnx"), batch=None)
    (root / "aipp.cfg").write_text(AIPP_CFG)
    soc = acl.get_soc_name()
    plain = convert(model=onnx_path, output=str(root / "digitnet"), soc_version=soc, input_shape="input:1,3,32,32")
    with_aipp = convert(model=onnx_path, output=str(root / "digitnet_aipp"), soc_version=soc,
                        input_shape="input:1,3,32,32", insert_op_conf=str(root / "aipp.cfg"))
    return root, sorted(picked), plain, with_aipp


def _ascend_lab_run(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ascend_compat.cli", "run", *args]  # `ascend-lab run`
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ))


def _top1(stdout: str) -> dict[str, int]:
    result, current = {}, None
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("image: "):
            current = line.split("image: ")[1]
            result[current] = int(lines[i + 2].split("]")[0].strip("["))
    return result


@pytest.mark.parametrize("which", ["plain", "aipp"])
def test_samples_script_runs_unmodified_and_classifies(workspace, which):
    root, digits, plain, with_aipp = workspace
    model = plain if which == "plain" else with_aipp
    done = _ascend_lab_run("--leaks", SAMPLE, "--model_path", model, "--images_path", str(root / "data"))
    assert done.returncode == 0, done.stderr
    assert "top5 inference results" in done.stdout and "*****run finish******" in done.stdout
    top1 = _top1(done.stdout)
    assert sorted(top1) == [f"digit_{d}.png" for d in digits]
    correct = sum(top1[f"digit_{d}.png"] == d for d in digits)
    assert correct >= 4, done.stdout
    assert "every AscendCL resource was released" in done.stderr


def test_launcher_reports_leaks_and_passes_argv(tmp_path):
    script = tmp_path / "leaky.py"
    script.write_text("import sys, acl\nprint('argv', sys.argv[1:], __name__)\nacl.init()\nacl.rt.set_device(0)\n"
                      "ptr, ret = acl.rt.malloc(64, 0)\nsys.exit(0)\n")
    done = _ascend_lab_run("--leaks", str(script), "--flag", "x y")
    assert "argv ['--flag', 'x y'] __main__" in done.stdout
    assert done.returncode == 3
    assert "device memory" in done.stderr and "leaky.py:5" in done.stderr


def test_launcher_keeps_the_scripts_exit_code(tmp_path):
    script = tmp_path / "fails.py"
    script.write_text("import acl, sys\nsys.exit(acl.rt.set_device(0) and 7)\n")
    assert _ascend_lab_run(str(script)).returncode == 7  # set_device before init fails, script exits 7
    missing = _ascend_lab_run(str(tmp_path / "nope.py"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_acllite_model_runs_and_releases(workspace):
    from ascend_compat import acllite

    root, _, plain, with_aipp = workspace
    acl.reset()
    resource = acllite.AclLiteResource(0)
    resource.init()
    images, labels = zoo.digit_images("test")
    model = acllite.AclLiteModel(plain)
    (out,) = model.execute([zoo.preprocess(images[:1])])
    assert out.shape == (1, 10) and out.argmax() == labels[0]
    aipp_model = acllite.AclLiteModel(with_aipp, load_type=1)
    (out2,) = aipp_model.execute([acllite.AclLiteImage(images[:1])])
    assert out2.argmax() == labels[0]
    np.testing.assert_allclose(out, out2, atol=0.05)
    resource.release()
    assert acl.leaks() == []
    acl.reset()
