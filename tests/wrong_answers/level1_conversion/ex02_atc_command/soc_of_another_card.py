# cell: atc_args_static_answer
# fails: atc_args_static_visible, atc_args_static_hidden
# A valid SoC, but the first-generation Ascend310 of the samples' READMEs, not the Atlas 300I Pro's chip.
def atc_args_static(onnx_path, output):
    """The atc arguments for the spec, batch 1 (a list of strings, without 'atc')."""
    return [f"--model={onnx_path}", "--framework=5", f"--output={output}", "--soc_version=Ascend310",
            "--input_shape=images:1,3,32,32", "--input_format=NCHW", "--precision_mode=force_fp16",
            "--log=error"]
