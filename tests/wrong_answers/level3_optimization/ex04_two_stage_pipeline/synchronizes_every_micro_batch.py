# cell: pipelined_forward_answer
# fails: pipeline_overlap_visible, pipeline_overlap_hidden
# "Make sure the piece has arrived": synchronizing the second device after each piece keeps the host
# from queueing the next piece on npu:0 while npu:1 works - the devices take turns again, plus the waiting.
def pipelined_forward(stage0, stage1, batch, micro_batches=4):
    """stage1(stage0(batch)) in `micro_batches` pieces, so that both devices work at once."""
    second = next(stage1.parameters()).device
    outputs = []
    for part in batch.chunk(micro_batches):
        outputs.append(stage1(stage0(part).to(second)))
        torch.npu.synchronize(second)
    return torch.cat(outputs)
