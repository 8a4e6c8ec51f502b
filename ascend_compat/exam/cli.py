"""``ascend-lab exam start|submit|report``: the mock exam from a terminal, with the timed mode."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from ascend_compat.errors import UserError
from ascend_compat.exam import grade, session
from ascend_compat.exam.objectives import OBJECTIVES
from ascend_compat.exam.paper import check_learner_id, draw_paper

ANSWERS_TAG = "exam-answers"


def build_notebook(learner_id: str, minutes: float | None) -> nbformat.NotebookNode:
    """The learner's exam notebook: instructions, then one answer cell per question."""
    paper = draw_paper(learner_id)
    nb = nbformat.v4.new_notebook()
    timing = f"You have **{minutes:g} minutes** from `ascend-lab exam start`." if minutes else "Untimed attempt."
    nb.cells.append(nbformat.v4.new_markdown_cell(
        f"# Mock certification exam — {learner_id}\n\n{timing} Answer every question in its cell, then run\n"
        f"`ascend-lab exam submit <this notebook>` in a terminal (or run the last cell for a practice score).\n\n"
        f"Objectives: " + "; ".join(title for title, _ in OBJECTIVES.values())))
    nb.cells.append(nbformat.v4.new_code_cell(f'import ascend_compat\nLEARNER_ID = "{learner_id}"\nanswers = {{}}'))
    for item in paper.items:
        q = item.question
        body = f"### Q{item.number} · {OBJECTIVES[q.objective][0]}\n\n{q.prompt}\n"
        if q.kind == "choice":
            body += "\n" + "\n".join(f"- **{letter}.** {text}" for letter, text in zip("ABCDEFGH", item.options()))
            code = f'answers["{q.id}"] = ""  # your letter'
        else:
            code = f"{q.signature}\n    # your code here\n    raise NotImplementedError()"
        nb.cells.append(nbformat.v4.new_markdown_cell(body))
        cell = nbformat.v4.new_code_cell(code)
        cell.metadata["tags"] = [ANSWERS_TAG]
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell(
        "from ascend_compat import exam\nprint(exam.grade(LEARNER_ID, answers, globals()).report())"))
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def _answers_from(notebook_path: Path) -> tuple[str, dict, dict]:
    """Run the learner's notebook (answer cells only) and collect its answers and functions."""
    try:
        nb = nbformat.read(notebook_path, as_version=4)
    except Exception as exc:
        raise UserError(f"{notebook_path} is not a readable notebook ({exc})") from None
    namespace: dict = {"answers": {}}
    setup = nb.cells[1].source if len(nb.cells) > 1 else ""
    learner = None
    for line in setup.splitlines():
        if line.startswith("LEARNER_ID"):
            learner = line.split("=", 1)[1].strip().strip("\"'")
    if not learner:
        raise UserError(f"{notebook_path} has no LEARNER_ID in its first code cell; was it made by `ascend-lab exam start`?")
    for cell in nb.cells:
        if cell.cell_type == "code" and ANSWERS_TAG in cell.metadata.get("tags", []):
            try:
                exec(compile(cell.source, f"<{notebook_path.name}>", "exec"), namespace)
            except Exception:
                pass  # an unanswered or broken cell simply scores nothing
    return learner, namespace["answers"], namespace


def _start(args) -> int:
    learner = check_learner_id(args.learner)
    if args.new:
        session.reset(learner)
    record = session.start(learner, args.minutes)
    out = Path(args.out) / f"exam_{learner}.ipynb"
    if not out.exists() or args.new:
        nbformat.write(build_notebook(learner, args.minutes), out)
    limit = f"{record['minutes']:g} minutes" if record["minutes"] else "no time limit"
    print(f"exam started for {learner} ({limit}); answer in {out}, then run: ascend-lab exam submit {out}")
    return 0


def _submit(args) -> int:
    learner, answers, namespace = _answers_from(Path(args.notebook))
    result = grade(learner, answers, namespace)
    record = session.submit(learner, result.score, result.total)
    print(result.report())
    if record["late"]:
        print(f"\nsubmitted after the {record['minutes']:g}-minute limit: marked late")
    if args.json:
        Path(args.json).write_text(json.dumps({"learner": learner, "score": result.score, "total": result.total,
                                               "late": record["late"], "objectives": result.objective_scores()}, indent=1))
    return 0


def _report(args) -> int:
    record = session.load(check_learner_id(args.learner))
    if record is None:
        raise UserError(f"no exam record for {args.learner!r}")
    print(json.dumps(record, indent=1))
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("exam", help="the mock certification exam: start, submit, report")
    sub = parser.add_subparsers(dest="exam_command", metavar="ACTION", required=True)
    start = sub.add_parser("start", help="draw your paper and write your exam notebook")
    start.add_argument("--learner", required=True, help="your id (login or student number): it seeds your paper")
    start.add_argument("--minutes", type=float, default=None, help="timed mode: the time limit")
    start.add_argument("--out", default=".", help="folder for the exam notebook")
    start.add_argument("--new", action="store_true", help="start a new attempt (the clock restarts)")
    start.set_defaults(func=_start)
    submit = sub.add_parser("submit", help="grade your exam notebook and record the submission time")
    submit.add_argument("notebook")
    submit.add_argument("--json", help="also write the score to this JSON file")
    submit.set_defaults(func=_submit)
    report = sub.add_parser("report", help="show the recorded attempt")
    report.add_argument("--learner", required=True)
    report.set_defaults(func=_report)
