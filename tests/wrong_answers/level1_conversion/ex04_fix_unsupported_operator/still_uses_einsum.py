# cell: gram_pooling_rewrite_answer
# fails: gram_pooling_rewrite_visible, gram_pooling_rewrite_hidden
# Trilu is gone, but the einsum is only written with other letters: it still exports as Einsum.
class GramPoolingAscend310(nn.Module):
    """GramPooling written with MatMul/Transpose/Div/Mul: no Einsum, no Trilu."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("upper", torch.ones(channels, channels).triu())

    def forward(self, x):
        n, c, h, w = x.shape
        f = x.flatten(2)
        gram = torch.einsum("bik,bjk->bij", f, f) / (h * w)
        return (gram * self.upper).flatten(1)
