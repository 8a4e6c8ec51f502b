# cell: list_unsupported_ops_answer
# fails: list_unsupported_ops_visible, list_unsupported_ops_hidden
# Always checks against Ascend310's list, whatever soc_version asks for.
def unsupported_ops(onnx_path, soc_version):
    """The sorted op types in the ONNX file that ``soc_version``'s operator list lacks."""
    used = {node.op_type for node in onnx.load(onnx_path).graph.node}
    return sorted(used - supported_ops("Ascend310"))
