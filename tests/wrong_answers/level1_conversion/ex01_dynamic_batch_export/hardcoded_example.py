# cell: onnx_dynamic_export_answer
# fails: onnx_dynamic_export_hidden
# Works for DigitNet, but ignores `example` and traces a DigitNet-shaped zero tensor instead.
def export_dynamic_batch(model, example, path):
    """Export ``model`` to ONNX at ``path`` (input 'images', output 'logits', open batch); returns ``path``."""
    torch.onnx.export(model.eval(), (torch.zeros(1, 3, 32, 32),), path, input_names=["images"],
                      output_names=["logits"], opset_version=17,
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    return path
