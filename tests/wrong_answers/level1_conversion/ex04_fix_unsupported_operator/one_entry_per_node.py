# cell: list_unsupported_ops_answer
# fails: list_unsupported_ops_hidden
# One entry per node instead of per operator type: a model with two Einsum nodes lists Einsum twice.
def unsupported_ops(onnx_path, soc_version):
    """The sorted op types in the ONNX file that ``soc_version``'s operator list lacks."""
    supported = supported_ops(soc_version)
    return sorted(node.op_type for node in onnx.load(onnx_path).graph.node if node.op_type not in supported)
