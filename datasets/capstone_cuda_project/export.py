"""Export the trained DigitCNN to ONNX with a dynamic batch dimension."""
import torch

from model import DigitCNN

model = DigitCNN().cuda().eval()
model.load_state_dict(torch.load("digitcnn.pt"))
example = torch.randn(1, 3, 32, 32).cuda()
torch.onnx.export(model, example, "digitcnn.onnx", input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=17)
