# cell: port_model_answer
# fails: f64_model_visible, f64_model_hidden
# A clean float32 rewrite - except the class prior, registered straight from NumPy as a float64
# buffer. Adding it to the float32 logits promotes them to float64 again.
class DigitScorer32(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.from_numpy(MEAN).float())
        self.register_buffer("std", torch.from_numpy(STD).float())
        self.register_buffer("log_prior", torch.from_numpy(LOG_PRIOR), persistent=False)
        self.hidden = nn.Linear(64, 48)
        self.out = nn.Linear(48, 10)

    def forward(self, x):
        x = (x - self.mean) / self.std
        h = torch.tanh(self.hidden(x))
        return torch.log_softmax(self.out(h) + self.log_prior, dim=1)


def port_model(reference, device):
    """A float32 model on ``device`` computing what the float64 ``reference`` computes."""
    model = DigitScorer32()
    model.load_state_dict(reference.state_dict())
    return model.to(device).eval()
