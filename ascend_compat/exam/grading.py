"""Score a paper, objective by objective, and say what to revise."""

from __future__ import annotations

from dataclasses import dataclass, field

from ascend_compat.exam.objectives import OBJECTIVES
from ascend_compat.exam.paper import Paper, draw_paper

PASS_MARK = 0.7


@dataclass
class ItemResult:
    number: int
    question_id: str
    objective: str
    correct: bool
    feedback: str


@dataclass
class Result:
    learner_id: str
    items: list[ItemResult] = field(default_factory=list)

    def objective_scores(self) -> dict[str, tuple[int, int]]:
        scores = {}
        for objective in OBJECTIVES:
            mine = [r for r in self.items if r.objective == objective]
            scores[objective] = (sum(r.correct for r in mine), len(mine))
        return scores

    @property
    def score(self) -> int:
        return sum(r.correct for r in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    def report(self) -> str:
        """A score report per objective, with the lessons to revise."""
        lines = [f"Mock exam — {self.learner_id}: {self.score}/{self.total} ({self.score / self.total:.0%}); "
                 f"{'PASS' if self.score / self.total >= PASS_MARK else 'not yet'} (pass mark {PASS_MARK:.0%})", ""]
        revise = []
        for objective, (got, out_of) in self.objective_scores().items():
            title, lesson = OBJECTIVES[objective]
            mark = "ok " if got / out_of >= PASS_MARK else "-> "
            lines.append(f"  {mark}{title:<62} {got}/{out_of}")
            if got / out_of < PASS_MARK:
                revise.append(f"  revise: {title} — {lesson}")
        lines += ["", *(revise or ["  Nothing to revise: well done."]), ""]
        lines += [f"  Q{r.number:>2} {'correct' if r.correct else 'wrong  '} {r.question_id}: {r.feedback}"
                  for r in self.items]
        return "\n".join(lines)


def _run_code(source: str, function: str):
    namespace: dict = {}
    exec(compile(source, f"<answer {function}>", "exec"), namespace)  # the learner's own code, in their kernel
    if function not in namespace:
        raise AssertionError(f"define a function named {function}")
    return namespace[function]


def grade(learner_id: str, answers: dict, paper: Paper | None = None) -> Result:
    """``answers`` maps question ids to a letter (choices), or to source code defining the function — or
    the function itself — (code)."""
    paper = paper or draw_paper(learner_id)
    result = Result(paper.learner_id)
    for item in paper.items:
        question = item.question
        given = answers.get(question.id)
        if question.kind == "choice":
            letter = given.strip().upper() if isinstance(given, str) else None
            correct = letter == item.correct_letter()
            feedback = question.explanation if correct else ("no answer" if not letter else question.explanation)
        else:
            if not callable(given) and (not isinstance(given, str) or not given.strip()):
                correct, feedback = False, "no answer"
            else:
                try:
                    question.check(given if callable(given) else _run_code(given, question.function))
                    correct, feedback = True, "all checks pass"
                except AssertionError as exc:
                    correct, feedback = False, str(exc) or "a check failed"
                except Exception as exc:  # the learner's code raised: report it, do not crash the grading
                    correct, feedback = False, f"{type(exc).__name__}: {exc}"
        result.items.append(ItemResult(item.number, question.id, question.objective, correct, feedback))
    return result
