"""Overhead of the simulated pyACL: acl.mdl.execute vs a direct onnxruntime session on the same graph.

Both sides run the ONNX graph stored in the same .om with the same onnxruntime options; the acl side
adds what a pyACL program pays in the simulator (reading inputs from device buffers, writing outputs
back). Also times atc conversion of the course model. Prints a table, writes
benchmarks/results/bench_acl.json. Target: execute/ort ratio <= 1.10.

    python benchmarks/bench_acl.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np


def _median_time(fn, repeats: int) -> float:
    for _ in range(10):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_execute(om_path: str, batch: int, repeats: int) -> dict:
    import onnxruntime as ort

    import ascend_compat.acl as acl
    from ascend_compat import zoo
    from ascend_compat.atc import om

    images, _ = zoo.digit_images("test")
    x = zoo.preprocess(images[:batch])
    direct = ort.InferenceSession(om.load(om_path).graph, providers=["CPUExecutionProvider"])

    acl.reset()
    acl.init()
    acl.rt.set_device(0)
    model_id, ret = acl.mdl.load_from_file(om_path)
    assert ret == 0, acl.get_recent_err_msg()
    desc = acl.mdl.create_desc()
    acl.mdl.get_desc(desc, model_id)
    in_size, out_size = acl.mdl.get_input_size_by_index(desc, 0), acl.mdl.get_output_size_by_index(desc, 0)
    dev_in, _ = acl.rt.malloc(in_size, 0)
    dev_out, _ = acl.rt.malloc(out_size, 0)
    acl.rt.memcpy(dev_in, in_size, acl.util.numpy_to_ptr(x), x.nbytes, 1)
    ins, outs = acl.mdl.create_dataset(), acl.mdl.create_dataset()
    acl.mdl.add_dataset_buffer(ins, acl.create_data_buffer(dev_in, in_size))
    acl.mdl.add_dataset_buffer(outs, acl.create_data_buffer(dev_out, out_size))
    assert acl.mdl.execute(model_id, ins, outs) == 0

    host = np.zeros(out_size // 4, dtype=np.float32)
    acl.rt.memcpy(acl.util.numpy_to_ptr(host), out_size, dev_out, out_size, 2)
    np.testing.assert_array_equal(host.reshape(batch, 10), direct.run(None, {"input": x})[0])

    t_ort = _median_time(lambda: direct.run(None, {"input": x}), repeats)
    t_acl = _median_time(lambda: acl.mdl.execute(model_id, ins, outs), repeats)
    acl.reset()
    return {"batch": batch, "ort_ms": t_ort * 1e3, "acl_execute_ms": t_acl * 1e3, "ratio": t_acl / t_ort}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)

    import ascend_compat.acl as acl
    from ascend_compat import zoo
    from ascend_compat.atc import convert

    soc = acl.get_soc_name()
    rows, conversions = [], []
    with tempfile.TemporaryDirectory() as folder:
        onnx_path = zoo.export_onnx(os.path.join(folder, "digitnet.onnx"), batch=None)
        for batch in (1, 16):
            timings = []
            for _ in range(3):
                start = time.perf_counter()
                om_path = convert(model=onnx_path, output=os.path.join(folder, f"digitnet_b{batch}"), soc_version=soc,
                                  input_shape=f"input:{batch},3,32,32")
                timings.append(time.perf_counter() - start)
            conversions.append({"batch": batch, "atc_seconds": statistics.median(timings)})
            rows.append(bench_execute(om_path, batch, args.repeats))

    print(f"{'batch':>5} {'onnxruntime ms':>15} {'acl.mdl.execute ms':>19} {'ratio':>7}")
    for row in rows:
        print(f"{row['batch']:>5} {row['ort_ms']:>15.3f} {row['acl_execute_ms']:>19.3f} {row['ratio']:>7.3f}")
    for conv in conversions:
        print(f"atc conversion (DigitNet, batch {conv['batch']}, force_fp16): {conv['atc_seconds'] * 1e3:.1f} ms")
    result = {"soc": soc, "execute": rows, "atc": conversions, "target_ratio": 1.10,
              "meets_target": all(r["ratio"] <= 1.10 for r in rows)}
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "bench_acl.json")
    with open(path + ".part", "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    os.replace(path + ".part", path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
