# cell: pipelined_forward_answer
# fails: pipeline_output_visible, pipeline_output_hidden, pipeline_overlap_visible, pipeline_overlap_hidden
# Micro-batches, in order - but stage 0's output stays on its device, and stage 1 refuses it.
def pipelined_forward(stage0, stage1, batch, micro_batches=4):
    """stage1(stage0(batch)) in `micro_batches` pieces, so that both devices work at once."""
    outputs = [stage1(stage0(part)) for part in batch.chunk(micro_batches)]
    return torch.cat(outputs)
