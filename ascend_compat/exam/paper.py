"""One learner's exam paper: a variant drawn from the bank, seeded by the learner's id.

Every paper has the same structure — for each objective, ``CHOICES_PER_OBJECTIVE`` multiple-choice
questions and ``CODES_PER_OBJECTIVE`` code questions, in a fixed objective order — so two learners
get different but equivalent papers, and the same learner always gets the same one. Multiple-choice
options are shuffled per learner too (answers are given as letters).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from ascend_compat.errors import UserError
from ascend_compat.exam.bank import CHOICES, CODES, QUESTIONS
from ascend_compat.exam.objectives import OBJECTIVES

EXAM_ID = "ascend-migration-mock-1"
CHOICES_PER_OBJECTIVE = 3
CODES_PER_OBJECTIVE = 1
LETTERS = "ABCDEFGH"


@dataclass(frozen=True)
class Item:
    """A question as it appears on one paper."""

    number: int
    question_id: str
    option_order: tuple[int, ...] = ()   # for choices: the bank's option indices, in display order

    @property
    def question(self):
        return QUESTIONS[self.question_id]

    def options(self) -> list[str]:
        return [self.question.options[i] for i in self.option_order]

    def correct_letter(self) -> str:
        return LETTERS[self.option_order.index(self.question.answer)]


@dataclass(frozen=True)
class Paper:
    learner_id: str
    items: tuple[Item, ...]

    def item(self, question_id: str) -> Item:
        return next(i for i in self.items if i.question_id == question_id)


def _seed(learner_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{EXAM_ID}:{learner_id}".encode()).digest()[:8], "big")


def check_learner_id(learner_id) -> str:
    if not isinstance(learner_id, str) or not learner_id.strip() or len(learner_id) > 100:
        raise UserError(f"learner id {learner_id!r} is not valid: use your login or student number, e.g. 'alice'")
    return learner_id.strip()


def draw_paper(learner_id: str) -> Paper:
    """The paper of ``learner_id`` (deterministic)."""
    learner_id = check_learner_id(learner_id)
    rng = random.Random(_seed(learner_id))
    items, number = [], 1
    for objective in OBJECTIVES:
        choices = sorted((q for q in CHOICES if q.objective == objective), key=lambda q: q.id)
        codes = sorted((q for q in CODES if q.objective == objective), key=lambda q: q.id)
        for question in rng.sample(choices, CHOICES_PER_OBJECTIVE):
            order = list(range(len(question.options)))
            rng.shuffle(order)
            items.append(Item(number, question.id, tuple(order)))
            number += 1
        for question in rng.sample(codes, CODES_PER_OBJECTIVE):
            items.append(Item(number, question.id))
            number += 1
    return Paper(learner_id, tuple(items))
