# cell: atc_args_static_answer
# --precision_mode_v2 (CANN 6.3+, the option Huawei's atc documentation now recommends): "fp16" is
# --precision_mode=force_fp16 under its new name; "--opt value" pairs instead of "--opt=value".
def atc_args_static(onnx_path, output):
    """The atc arguments for the spec, batch 1 (a list of strings, without 'atc')."""
    return ["--model", str(onnx_path), "--framework", "5", "--output", str(output), "--soc_version", "Ascend310P3",
            "--input_shape", "images:1,3,32,32", "--input_format", "NCHW", "--precision_mode_v2", "fp16",
            "--log", "error"]
