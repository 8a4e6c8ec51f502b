"""Calls sys.exit() before defining the answer: IPython turns it into an error in that cell."""

EXPECT = {"points": 0, "flagged": False}


def submission(kit):
    return kit.answer(kit.release(), "import sys\nsys.exit(0)\n" + kit.solution)
