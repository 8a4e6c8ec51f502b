# cell: pipelined_forward_answer
# fails: pipeline_output_visible, pipeline_output_hidden, pipeline_overlap_visible, pipeline_overlap_hidden
# Round-robin pieces (rows 0, 4, 8, ... then 1, 5, 9, ...) joined back one after the other: every
# row is computed right, most of them end up in the wrong place. No error anywhere.
def pipelined_forward(stage0, stage1, batch, micro_batches=4):
    """stage1(stage0(batch)) in `micro_batches` pieces, so that both devices work at once."""
    second = next(stage1.parameters()).device
    outputs = [stage1(stage0(batch[i::micro_batches]).to(second)) for i in range(micro_batches)]
    return torch.cat(outputs)
