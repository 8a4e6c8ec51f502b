"""The answer cell never ends: the per-cell time limit interrupts it, the tests run and fail."""

EXPECT = {"points": 0, "flagged": False}


def submission(kit):
    return kit.answer(kit.release(), "while True:\n    pass\n")
