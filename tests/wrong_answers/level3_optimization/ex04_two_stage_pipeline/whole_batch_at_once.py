# cell: pipelined_forward_answer
# fails: pipeline_overlap_visible, pipeline_overlap_hidden
# Right output, no micro-batches: one piece, so npu:1 can only start when npu:0 has finished.
def pipelined_forward(stage0, stage1, batch, micro_batches=4):
    """stage1(stage0(batch)) in `micro_batches` pieces, so that both devices work at once."""
    second = next(stage1.parameters()).device
    return stage1(stage0(batch).to(second))
