# cell: onnx_dynamic_export_answer
# fails: onnx_dynamic_export_visible, onnx_dynamic_export_hidden
# The names are right but dynamic_axes is forgotten: the example's batch of 1 is baked into the file.
def export_dynamic_batch(model, example, path):
    """Export ``model`` to ONNX at ``path`` (input 'images', output 'logits', open batch); returns ``path``."""
    torch.onnx.export(model.eval(), (example,), path, input_names=["images"], output_names=["logits"],
                      opset_version=17, dynamo=False)
    return path
