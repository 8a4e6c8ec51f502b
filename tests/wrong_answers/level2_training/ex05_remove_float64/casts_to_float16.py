# cell: port_model_answer
# fails: f64_model_visible, f64_model_hidden
# "The NPU is fastest in float16": no float64 left, but three significant digits cannot match
# the float64 reference.
class DigitScorer16(DigitScorer):
    def __init__(self):
        super().__init__()
        self.register_buffer("log_prior_t", torch.from_numpy(self.log_prior), persistent=False)

    def forward(self, x):
        x = (x.half() - self.mean) / self.std
        h = torch.tanh(self.hidden(x))
        return torch.log_softmax(self.out(h) + self.log_prior_t, dim=1)


def port_model(reference, device):
    """A float32 model on ``device`` computing what the float64 ``reference`` computes."""
    model = DigitScorer16()
    model.load_state_dict(reference.state_dict())
    return model.half().to(device).eval()
