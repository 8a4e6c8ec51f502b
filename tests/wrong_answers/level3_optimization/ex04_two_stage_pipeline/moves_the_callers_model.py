# cell: split_model_answer
# fails: pipeline_split_visible, pipeline_split_hidden
# Slices of the Sequential moved to the devices: the stages work, but they are the caller's own
# layers - its model is now half on npu:0 and half on npu:1.
def split_model(model):
    """Copies of the first and the second half of ``model``'s blocks, on npu:0 and npu:1."""
    half = len(model) // 2
    return model[:half].to("npu:0"), model[half:].to("npu:1")
