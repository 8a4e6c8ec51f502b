# cell: atc_args_static_answer
# fails: atc_args_static_hidden
# One command string, right for paths without spaces; a folder named "deploy models" splits --model in two.
def atc_args_static(onnx_path, output):
    """The atc arguments for the spec, batch 1 (a list of strings, without 'atc')."""
    return (f"atc --model={onnx_path} --framework=5 --output={output} --soc_version=Ascend310P3 "
            "--input_shape=images:1,3,32,32 --input_format=NCHW --precision_mode=force_fp16 --log=error")
