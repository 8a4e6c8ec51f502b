# cell: atc_args_dynamic_answer
# fails: atc_args_dynamic_visible, atc_args_dynamic_hidden
# --input_shape gives only the dimensions: atc needs name:dims, with the input's name from the ONNX file.
def atc_args_dynamic(onnx_path, output, batch_sizes=(1, 4, 8)):
    """The atc arguments for the spec, compiled for every batch size in ``batch_sizes``."""
    gears = ",".join(str(n) for n in batch_sizes)
    return [f"--model={onnx_path}", "--framework=5", f"--output={output}", "--soc_version=Ascend310P3",
            "--input_shape=-1,3,32,32", f"--dynamic_batch_size={gears}", "--input_format=NCHW",
            "--precision_mode=force_fp16", "--log=error"]
