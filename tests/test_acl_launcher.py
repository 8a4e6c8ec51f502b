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


@pytest.fixture
def acllite_resource():
    """acllite's resource, released the acllite way (AclLiteResource.__del__), then the leak list checked."""
    from ascend_compat import acllite

    acl.reset()
    holder = {"resource": acllite.AclLiteResource(0)}
    holder["resource"].init()
    yield holder
    holder.clear()  # the last reference: __del__ destroys models, stream, context, resets, finalizes
    leaks = acl.leaks()
    acl.reset()
    assert leaks == []


def test_acllite_has_the_real_librarys_names():
    from ascend_compat import acllite

    # Ascend/samples python/common/acllite: no public release(); releasing is AclLiteResource.__del__.
    assert not hasattr(acllite.AclLiteResource, "release")
    for name in ("init", "__del__"):
        assert callable(getattr(acllite.AclLiteResource, name))
    for name in ("execute", "_execute_with_dynamic_batch_size", "destroy"):
        assert callable(getattr(acllite.AclLiteModel, name))
    for name in ("is_loaded", "data", "byte_data_to_np_array", "copy_to_host", "is_local", "save", "destroy"):
        assert callable(getattr(acllite.AclLiteImage, name))
    with pytest.raises(Exception, match=r"^acl.rt.malloc failed ret_int=100000$"):
        acllite.check_ret("acl.rt.malloc", 100000)
    assert acllite.yuv420sp_size(6, 4) == 36 and acllite.align_up16(17) == 32 and acllite.align_up128(128) == 128


def test_acllite_model_runs_and_releases(workspace, acllite_resource):
    from ascend_compat import acllite

    root, _, plain, with_aipp = workspace
    images, labels = zoo.digit_images("test")
    model = acllite.AclLiteModel(plain)
    (out,) = model.execute([zoo.preprocess(images[:1])])
    assert out.shape == (1, 10) and out.dtype == np.float32 and out.argmax() == labels[0]
    (again,) = model.execute([zoo.preprocess(images[1:2])])   # the same input buffer, reused
    assert again.argmax() == labels[1]

    # An AclLiteImage goes to the model as it is: in host run mode it must hold device memory.
    aipp_model = acllite.AclLiteModel(with_aipp, load_type=1)
    frame = np.ascontiguousarray(images[:1])
    host = frame.tobytes()
    device = acllite.copy_data_host_to_device(acl.util.bytes_to_ptr(host), len(host))
    image = acllite.AclLiteImage(device, 32, 32, 0, 0, len(host), acllite.MEMORY_DEVICE)
    (out2,) = aipp_model.execute([image])
    assert out2.argmax() == labels[0]
    np.testing.assert_allclose(out, out2, atol=0.05)
    np.testing.assert_array_equal(image.byte_data_to_np_array().view(np.uint8), frame.reshape(-1))
    image.destroy()                                             # the image owns its device memory
    assert aipp_model.execute([acllite.AclLiteImage(frame)]) is None   # a host pointer: refused, not raised
    model.destroy()                                             # aipp_model is left to AclLiteResource.__del__


def test_acllite_execute_refuses_what_the_real_one_refuses(workspace, acllite_resource, capsys):
    from ascend_compat import acllite

    _, _, plain, _ = workspace
    images, _ = zoo.digit_images("test")
    model = acllite.AclLiteModel(plain)
    assert model.execute([zoo.preprocess(images[:1])]) is not None
    assert model.execute([zoo.preprocess(images[:2])]) is None        # the input size changed
    assert "input size" in capsys.readouterr().out
    assert model.execute([]) is None                                  # wrong number of inputs
    assert "unequal to model input num" in capsys.readouterr().out
    with pytest.raises(acllite.AclLiteError, match="model_path"):
        acllite.AclLiteModel(os.path.join(os.path.dirname(plain), "missing.om"))
    model.destroy()
    model.destroy()                                                   # idempotent


def test_acllite_dynamic_batch(workspace, acllite_resource, capsys):
    from ascend_compat import acllite

    root, _, _, _ = workspace
    images, labels = zoo.digit_images("test")
    dynamic = convert(model=str(root / "digitnet.onnx"), output=str(root / "digitnet_gears"),
                      soc_version=acl.get_soc_name(), input_shape="input:-1,3,32,32", dynamic_batch_size="1,4,8")
    model = acllite.AclLiteModel(dynamic)
    x = zoo.preprocess(images[:4])
    assert model.execute([x]) is None                    # execute() does not set the batch: the model refuses
    assert "Execute model failed" in capsys.readouterr().out
    inputs = [x]
    (out,) = model._execute_with_dynamic_batch_size(inputs, 4)
    assert len(inputs) == 2                              # acllite appends the ascend_mbatch_shape_data buffer
    assert out.shape == (8, 10)                          # shaped by get_output_dims: the largest gear
    np.testing.assert_array_equal(out[:4].argmax(1), labels[:4])
    assert model._execute_with_dynamic_batch_size([x], 3) is None     # not a gear
    assert "set_dynamic_batch_size failed" in capsys.readouterr().out
    model.destroy()
