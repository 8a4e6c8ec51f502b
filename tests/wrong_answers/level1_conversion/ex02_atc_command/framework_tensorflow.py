# cell: atc_args_static_answer
# fails: atc_args_static_visible, atc_args_static_hidden
# --framework=3 remembered from a TensorFlow sample: 3 is TensorFlow's code, ONNX is 5.
def atc_args_static(onnx_path, output):
    """The atc arguments for the spec, batch 1 (a list of strings, without 'atc')."""
    return [f"--model={onnx_path}", "--framework=3", f"--output={output}", "--soc_version=Ascend310P3",
            "--input_shape=images:1,3,32,32", "--input_format=NCHW", "--precision_mode=force_fp16",
            "--log=error"]
