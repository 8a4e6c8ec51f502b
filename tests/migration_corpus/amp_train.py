"""Mixed-precision training with torch.cuda.amp (the pre-2.0 spelling many repos still use)."""
import torch

model = torch.nn.Linear(16, 1).cuda()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
scaler = torch.cuda.amp.GradScaler()
x, y = torch.randn(32, 16).cuda(), torch.randn(32, 1).cuda()
for _ in range(5):
    opt.zero_grad()
    with torch.cuda.amp.autocast():
        loss = torch.nn.functional.mse_loss(model(x).float(), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
print("loss", round(loss.item(), 4), "scale", scaler.get_scale())
