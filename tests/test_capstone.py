"""The capstone's grading, proved with real nbgrader (blank, solution, partial ports), and its instant checks."""

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
    full = {cell: points for cell, points in per_cell["solution"].items()}
    assert scores["blank"].points == 0
    assert scores["solution"].points == scores["solution"].max_points == 11
    assert list(full) == [f"stage{n}_{kind}" for n in range(1, 5) for kind in ("visible", "tests")]
    assert per_cell["train_only"] == dict({cell: 0 for cell in full}, stage1_visible=1, stage1_tests=2)
    assert per_cell["leaky"] == dict(full, stage3_visible=0, stage3_tests=0)
    assert per_cell["cpu_trained"] == dict(per_cell["train_only"], stage1_visible=0, stage1_tests=0), (
        "a model trained on the CPU and moved must not pass stage 1")


def _namespace(answers: dict[str, str]) -> dict:
    """The capstone's set-up cell and ``answers`` run in one namespace, as in the notebook."""
    import linecache

    from tests.grading_helpers import SOLUTIONS, cell_source

    namespace = {"__name__": "__main__"}
    for cell, source in [("capstone_setup", cell_source(SOLUTIONS / "capstone" / "capstone.ipynb", "capstone_setup")),
                         *answers.items()]:
        filename = f"<capstone {cell}>"  # registered like a Jupyter cell, so the analyzer can read it
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return namespace


QUESTIONS = ("capstone_train", "capstone_convert", "capstone_serve", "capstone_no_cuda")


@pytest.mark.slow
def test_the_checks_of_each_stage_agree_with_the_grading():
    """check() fails the blank stages, passes the solution, and fails exactly the stage a partial port breaks."""
    from ascend_compat.grading import instant

    solved = {cell: solution_answer("capstone", "capstone", cell) for cell in STAGES}
    blank = _namespace({})
    for question in QUESTIONS:
        report = instant.run_visible_tests(question, blank)
        assert report.outcomes and not any(o.passed for o in report.outcomes), question
        assert instant.find_question(question).hints[question], f"{question} has no hints"
    passing = {question: instant.run_visible_tests(question, _namespace(solved)) for question in QUESTIONS}
    assert all(report.passed for report in passing.values()), {q: r.text() for q, r in passing.items() if not r.passed}
    for answers, failing in [(dict(solved, stage3_answer=_without_cleanup(solved["stage3_answer"])), {"capstone_serve"}),
                             (dict(solved, stage1_answer=TRAINED_ON_THE_CPU), {"capstone_train"})]:
        namespace = _namespace(answers)
        failed = {question for question in QUESTIONS if not instant.run_visible_tests(question, namespace).passed}
        assert failed == failing


def test_the_project_really_needs_porting():
    from ascend_compat.migrate import analyze_paths
    from ascend_compat.zoo import DATASETS

    report = analyze_paths([Path(DATASETS) / "capstone_cuda_project"])
    assert {"MIG001", "MIG002", "MIG003", "MIG005"} <= {f.rule for f in report.findings}
