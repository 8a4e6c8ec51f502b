# cell: atc_args_dynamic_answer
# fails: atc_args_dynamic_hidden
# Right for the spec's 1, 4 and 8, but batch_sizes is never used.
def atc_args_dynamic(onnx_path, output, batch_sizes=(1, 4, 8)):
    """The atc arguments for the spec, compiled for every batch size in ``batch_sizes``."""
    return [f"--model={onnx_path}", "--framework=5", f"--output={output}", "--soc_version=Ascend310P3",
            "--input_shape=images:-1,3,32,32", "--dynamic_batch_size=1,4,8", "--input_format=NCHW",
            "--precision_mode=force_fp16", "--log=error"]
