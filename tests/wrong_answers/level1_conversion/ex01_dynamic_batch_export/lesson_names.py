# cell: onnx_dynamic_export_answer
# fails: onnx_dynamic_export_visible, onnx_dynamic_export_hidden
# Copied from the export lesson without reading the spec: the input and output keep the lesson's names.
def export_dynamic_batch(model, example, path):
    """Export ``model`` to ONNX at ``path`` (input 'images', output 'logits', open batch); returns ``path``."""
    torch.onnx.export(model.eval(), (example,), path, input_names=["input"], output_names=["output"],
                      opset_version=17, dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      dynamo=False)
    return path
