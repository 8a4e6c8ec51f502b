"""The capstone's grading, proved with real nbgrader: blank, solution, and two partial ports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.grading_helpers import EXERCISES, fill_release, solution_answer

STAGES = ("stage1_answer", "stage2_answer", "stage3_answer")


def _without_cleanup(source: str) -> str:
    """A plausible partial port: classify() works but releases nothing (no finally block)."""
    before, _, rest = source.partition("    try:\n")
    loop, _, _ = rest.partition("    finally:")
    loop = "\n".join(line[4:] for line in loop.splitlines())
    return before + loop + "\n    return np.stack(results)\n"


# A plausible shortcut: train on the CPU (the project as it is, minus CUDA), move the result at the end.
TRAINED_ON_THE_CPU = """
import torch.nn.functional as F


def train_on_npu(epochs=4):
    torch.manual_seed(0)
    images, labels = load("train")
    x, y = torch.from_numpy(preprocess(images)).float(), torch.from_numpy(labels)
    model = DigitCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.to("npu:0")


def evaluate_on_npu(model):
    images, labels = load("test")
    x = torch.from_numpy(preprocess(images)).float().to("npu:0")
    with torch.no_grad():
        pred = model.eval()(x).argmax(dim=1).cpu()
    return (pred == torch.from_numpy(labels)).float().mean().item()
"""


@pytest.mark.slow
def test_capstone_grading(tmp_path):
    from ascend_compat.grading.autograde import autograde_notebooks

    solved = {cell: solution_answer("capstone", "capstone", cell) for cell in STAGES}
    leaky = dict(solved, stage3_answer=_without_cleanup(solved["stage3_answer"]))
    train_only = {"stage1_answer": solved["stage1_answer"]}

    def submit(name, answers):
        return {"capstone.ipynb": fill_release("capstone", "capstone", answers, tmp_path / name / "capstone.ipynb")}

    scores = autograde_notebooks("capstone", {
        "blank": {"capstone.ipynb": EXERCISES / "capstone" / "capstone.ipynb"},
        "solution": submit("solution", solved),
        "train_only": submit("train_only", train_only),
        "leaky": submit("leaky", leaky),
        "cpu_trained": submit("cpu_trained", dict(train_only, stage1_answer=TRAINED_ON_THE_CPU)),
    })
    per_cell = {student: {c.grade_id: c.points for c in score.notebooks["capstone.ipynb"].cells} for student, score in scores.items()}
    assert scores["blank"].points == 0
    assert scores["solution"].points == scores["solution"].max_points == 10
    assert per_cell["train_only"] == {"stage1_tests": 3, "stage2_tests": 0, "stage3_tests": 0, "stage4_tests": 0}
    assert per_cell["leaky"]["stage3_tests"] == 0 and scores["leaky"].points == 7
    assert per_cell["cpu_trained"]["stage1_tests"] == 0, "a model trained on the CPU and moved must not pass stage 1"


def test_the_project_really_needs_porting():
    from ascend_compat.migrate import analyze_paths
    from ascend_compat.zoo import DATASETS

    report = analyze_paths([Path(DATASETS) / "capstone_cuda_project"])
    assert {"MIG001", "MIG002", "MIG003", "MIG005"} <= {f.rule for f in report.findings}
