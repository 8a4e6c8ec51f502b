# cell: gram_pooling_rewrite_answer
# fails: gram_pooling_rewrite_visible, gram_pooling_rewrite_hidden
# Converts for Ascend310, but keeps the lower triangle: "the matrix is symmetric, either half will do" -
# the values are the same, their positions are not, and the classifier was trained on the upper half.
class GramPoolingAscend310(nn.Module):
    """GramPooling written with MatMul/Transpose/Div/Mul: no Einsum, no Trilu."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("mask", torch.ones(channels, channels).tril())

    def forward(self, x):
        n, c, h, w = x.shape
        f = x.flatten(2)
        gram = torch.matmul(f, f.transpose(1, 2)) / (h * w)
        return (gram * self.mask).flatten(1)
